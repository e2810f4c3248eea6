"""Terminal output of the grader: progress, the class summary (80 columns) and, on request, the
wide per-task table (rich).

Every number shown comes from the gradebook (rows of :func:`autograder.pipeline.class_rows`).
On a terminal progress is a bar with ETA; in a log or a pipe it is one line per student.
The default summary is one line per student, at most 80 columns (student, total, late, status);
with more than ``ATTENTION_ABOVE`` students only those needing attention are listed. ``--wide``
shows every task and the full diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from autograder.results import ClassRow, RowCell


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A callback ``(done, total, student)`` that drives a progress bar with ETA."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   TextColumn("{task.fields[last]}"), console=console, transient=False)
    task_id = None

    def update(done: int, total: int, student: str) -> None:
        nonlocal task_id
        if task_id is None:
            task_id = bar.add_task(label, total=total, last="")
        bar.update(task_id, completed=done, total=total, last=student)

    if not console.is_terminal:  # a log or a pipe: one line per finished student
        def line(done: int, total: int, student: str) -> None:
            console.print(f"{label}: {done}/{total} done ({student})", markup=False,
                          highlight=False)

        yield line
        return
    with bar:
        yield update


def _cell(c: RowCell | None) -> str:
    if c is None:
        return "-"
    if c.score is None:
        return "[yellow]manual[/]"
    mark = "green" if c.score >= c.max_score else ("red" if c.score == 0 else "yellow")
    return f"[{mark}]{c.score:g}/{c.max_score:g}[/]"


def _mark(c: RowCell | None) -> str:
    if c is None:
        return "[dim]-[/]"
    if c.score is None:
        return "[yellow]?[/]"
    if c.score >= c.max_score:
        return "[green]✓[/]"
    return "[red]✗[/]" if c.score == 0 else "[yellow]~[/]"


COMPACT_ABOVE = 5
"""With more tasks than this, tasks are shown as one column of marks (✓ ✗ ~ ?) in order."""


def summary_table(rows: list[ClassRow], task_ids: list[str], title: str) -> Table:
    """One line per student: total, each task, the diagnosis and any flag or note."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("student", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("late", no_wrap=True)
    compact = len(task_ids) > COMPACT_ABOVE
    if compact:
        table.caption = ("tasks, in order: " + " ".join(task_ids)
                         + "  (✓ full, ~ partial, ✗ zero, ? manual)")
        table.add_column("tasks", no_wrap=True)
    else:
        for gid in task_ids:
            table.add_column(gid, justify="center")
    table.add_column("diagnosis", overflow="fold", max_width=60)
    table.add_column("flag / note", overflow="fold", max_width=50)
    for row in rows:
        flag = "; ".join(row.flags)
        if not flag and row.notes:
            flag = row.notes[0]
        tasks = ([("".join(_mark(row.cells.get(g)) for g in task_ids))] if compact
                 else [_cell(row.cells.get(g)) for g in task_ids])
        table.add_row(Text(row.student), f"{row.score:g}/{row.max_score:g}", Text(row.late),
                      *tasks, Text(row.diagnosis), Text(flag, style="magenta" if row.flags else ""))
    return table


WIDTH = 80
ATTENTION_ABOVE = 40
"""With more students than this, the summary lists only those that need attention."""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def status_text(row: ClassRow) -> str:
    """What needs the instructor's eye: review, flags, the first diagnosis."""
    parts = []
    if row.needs_manual:
        parts.append("needs manual grade")
    parts += row.flags
    if not parts and row.diagnosis:
        parts.append(row.diagnosis)
    return "; ".join(parts)


def needs_attention(row: ClassRow) -> bool:
    """Late, flagged, waiting for manual grading, or not full marks."""
    return bool(row.late or row.flags or row.needs_manual or row.score < row.max_score)


def class_stats(rows: list[ClassRow]) -> list[str]:
    """Two short lines: count, mean, median, range; late, pending, flagged."""
    if not rows:
        return ["no students in the gradebook for this assignment"]
    import statistics

    totals = [r.score for r in rows]
    mx = max(r.max_score for r in rows)
    return [f"{len(rows)} students, mean {statistics.fmean(totals):.1f}/{mx:g}, median "
            f"{statistics.median(totals):g}, range {min(totals):g}-{max(totals):g}",
            f"{sum(bool(r.late) for r in rows)} late, "
            f"{sum(r.needs_manual for r in rows)} need manual grading, "
            f"{sum(bool(r.flags) for r in rows)} flagged"]


def summary_lines(rows: list[ClassRow], all_rows: bool = False,
                  width: int = WIDTH) -> list[str]:
    """The class summary as plain lines of at most ``width`` characters."""
    shown = rows if all_rows or len(rows) <= ATTENTION_ABOVE else [
        r for r in rows if needs_attention(r)]
    sw = min(18, max([7] + [len(r.student) for r in shown]))
    lw = max([0] + [len(r.late) for r in shown])
    lines = [f"{'student':<{sw}}  {'total':>9}  " + (f"{'late':<{lw}}  " if lw else "")
             + "status"]
    for r in shown:
        total = f"{r.score:g}/{r.max_score:g}"
        head = (f"{_clip(r.student, sw):<{sw}}  {total:>9}  "
                + (f"{r.late:<{lw}}  " if lw else ""))
        lines.append(head + _clip(status_text(r), width - len(head)))
    lines = [_clip(ln.rstrip(), width) for ln in lines]
    if len(shown) < len(rows):
        lines.append(_clip(f"... and {len(rows) - len(shown)} students with full marks and no "
                           "flag (--all-rows lists them; the CSV has everyone)", width))
    return lines


def print_summary(console: Console, rows: list[ClassRow], title: str,
                  all_rows: bool = False) -> None:
    """Title, class statistics and the 80-column summary (no markup from student text)."""
    console.print(_clip(title, WIDTH), markup=False, highlight=False)
    for line in class_stats(rows):
        console.print(_clip(line, WIDTH), markup=False, highlight=False)
    for line in summary_lines(rows, all_rows):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_report(console: Console, report: Any, wide: bool = False,
                 all_rows: bool = False) -> None:
    """Summary (or the wide table), consistency verdict, refused entries, where outputs are."""
    title = f"Grades: {report.assignment} (from the gradebook)"
    if wide:
        console.print(summary_table(report.rows, report.task_ids, title))
    else:
        print_summary(console, report.rows, title, all_rows)
    if getattr(report, "logic_changed", False):
        console.print("grading logic changed since the last run (task file, stored cells or "
                      "release files): every submission was regraded")
    for rej in report.rejected:
        console.print(f"not graded {rej.path!r}: {rej.reason}", markup=False, highlight=False)
    if report.problems:
        console.print("[bold red]Gradebook consistency check FAILED:[/]")
        for p in report.problems:
            console.print(f"  {p}", markup=False)
    else:
        console.print("[green]Gradebook consistency check passed[/]: no other student's rows "
                      "and no stored test changed.")
    n = len(report.graded)
    per = report.seconds / n if n else 0.0
    console.print(f"graded {n}, unchanged and skipped {len(report.skipped)}, "
                  f"{report.seconds:.1f} s ({per:.2f} s per graded submission)")
    console.print(f"CSV export: {report.csv_path}")
    console.print(f"feedback:   {report.feedback_root}/<student>/{report.assignment}/*.html")
