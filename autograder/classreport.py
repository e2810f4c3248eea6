"""``backprop-course report ASSIGNMENT``: the class report, an HTML page and a terminal summary.

Everything is read from the gradebook (totals, per-cell scores, late penalties) and from the
grader's per-student records (the mistake diagnosed in each task). The page holds:

- the score histogram and the per-task pass rate (matplotlib figures, embedded as PNG);
- a table per task: pass rate, and the mistakes named by the diagnosis with how many students
  made each (the misconception table);
- flagged submissions (with the reason), late ones (``late (+N h, −P)``), pending manual grades;
- every student's total.

The page is static, inert HTML (no script); every text is escaped. Written atomically to
``exports/<assignment>_report.html``.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograder import atomic, export, pipeline
from autograder.course import Course
from autograder.report import class_stats
from autograder.results import ClassRow

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page allows no script and no request: images are inline data, styles inline."""


@dataclass
class TaskStats:
    """One grade cell over the class."""

    task: str
    max_score: float
    passed: int
    graded: int
    mistakes: list[tuple[str, int]]

    @property
    def pass_rate(self) -> float:
        """Fraction of graded students with full points on this task."""
        return self.passed / self.graded if self.graded else 0.0


def task_stats(rows: list[ClassRow], task_ids: list[str]) -> list[TaskStats]:
    """Pass rate and named mistakes of every task (manual cells count once graded)."""
    out = []
    for gid in task_ids:
        cells = [r.cells[gid] for r in rows if gid in r.cells]
        graded = [(c.score, c) for c in cells if c.score is not None]
        passed = sum(score >= c.max_score - 1e-9 for score, c in graded)
        names = Counter(c.diagnosis for score, c in graded
                        if c.diagnosis and score < c.max_score - 1e-9)
        mx = cells[0].max_score if cells else 0.0
        out.append(TaskStats(gid, mx, passed, len(graded), names.most_common()))
    return out


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figures(rows: list[ClassRow], stats: list[TaskStats]) -> tuple[str, str]:
    """The histogram of totals and the pass-rate bars, as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    totals = [r.score for r in rows]
    mx = max([r.max_score for r in rows] + [1.0])
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    ax.hist(totals, bins=min(20, max(5, int(mx) + 1)), range=(0, mx), color="#4477aa",
            edgecolor="white")
    ax.set_xlabel("total score (after late penalties)")
    ax.set_ylabel("students")
    ax.set_title(f"Scores of {len(rows)} students")
    hist = _png(fig)
    fig = Figure(figsize=(6, 0.5 + 0.4 * max(1, len(stats))))
    ax = fig.add_subplot()
    ax.barh([s.task for s in stats][::-1], [100 * s.pass_rate for s in stats][::-1],
            color="#228833")
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full points (%)")
    ax.set_title("Pass rate per task")
    return hist, _png(fig)


def _table(head: list[str], body: list[list[str]], cls: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
    return f"<table class='{cls}'><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def render(course: Course, assignment: str) -> tuple[str, list[ClassRow], list[TaskStats]]:
    """The report page of ``assignment``, with the rows and task statistics it shows."""
    rows = pipeline.class_rows(course, assignment)
    task_ids = export.task_ids_of(course, assignment)
    stats = task_stats(rows, task_ids)
    hist, rates = figures(rows, stats)
    e = html.escape
    task_rows = [[f"<code>{e(s.task)}</code>", f"{s.max_score:g}",
                  f"<span class='rate' data-task='{e(s.task)}'>{100 * s.pass_rate:.0f}%</span>",
                  f"{s.passed}/{s.graded}"] for s in stats]
    mistakes = [[f"<code>{e(s.task)}</code>", e(name),
                 f"<span class='count' data-task='{e(s.task)}'>{n}</span>"]
                for s in stats for name, n in s.mistakes]
    flagged = [[e(r.student), e("; ".join(r.flags))] for r in rows if r.flags]
    late = [[e(r.student), e(r.late)] for r in rows if r.late]
    pending = [[e(r.student), e(", ".join(g for g, c in r.cells.items() if c.needs_manual))]
               for r in rows if r.needs_manual]
    students = [[e(r.student), f"<span class='total' data-student='{e(r.student)}'>"
                 f"{r.score:g}</span>", f"{r.max_score:g}", e(r.late)] for r in rows]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>Class report: {e(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.25em .6em;
text-align:left}}th{{background:#eee}}img{{max-width:100%}}</style></head><body>
<h1>Class report: {e(assignment)}</h1>
<p>Course {e(course.course_id)}, from the gradebook at {e(stamp)}.</p>
<p id="stats">{e("; ".join(class_stats(rows)))}</p>
<h2>Scores</h2>
<img id="histogram" alt="histogram of total scores" src="data:image/png;base64,{hist}">
<h2>Tasks</h2><img id="passrate" alt="pass rate per task" src="data:image/png;base64,{rates}">
{_table(["task", "points", "pass rate", "full points"], task_rows, "tasks")}
<h2>Mistakes per task</h2>
{_table(["task", "mistake", "students"], mistakes, "mistakes") if mistakes else "<p>none</p>"}
<h2>Flagged submissions</h2>
{_table(["student", "reason"], flagged, "flagged") if flagged else "<p>none</p>"}
<h2>Late submissions</h2>
{_table(["student", "late"], late, "late") if late else "<p>none</p>"}
<h2>Waiting for manual grading</h2>
{_table(["student", "cells"], pending, "pending") if pending else "<p>none</p>"}
<h2>Students</h2>
{_table(["student", "total", "max", "late"], students, "students")}
</body></html>
"""
    return page, rows, stats


def write_report(course: Course, assignment: str, path: Path | None = None
                 ) -> tuple[Path, list[ClassRow], list[TaskStats]]:
    """Write the page atomically; return its path, the rows and the task statistics."""
    page, rows, stats = render(course, assignment)
    path = path or course.root / "exports" / f"{assignment}_report.html"
    atomic.write_text(path, page)
    return path, rows, stats


def task_lines(stats: list[TaskStats], width: int = 80) -> list[str]:
    """Per-task pass rate and the most frequent mistake, one line each (``width`` columns)."""
    tw = min(24, max([4] + [len(s.task) for s in stats]))
    lines = []
    for s in stats:
        head = f"{s.task[:tw]:<{tw}}  {100 * s.pass_rate:4.0f}% pass  "
        top = f"{s.mistakes[0][1]}× {s.mistakes[0][0]}" if s.mistakes else ""
        more = f" (+{len(s.mistakes) - 1} more)" if len(s.mistakes) > 1 else ""
        text = head + top + more
        lines.append(text if len(text) <= width else text[:width - 1] + "…")
    return lines
