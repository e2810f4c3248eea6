"""The class CSV, written from the gradebook for the whole class (never from one run's rows).

``exports/<assignment>_grades.csv`` has one row per student of the gradebook:

- ``student``: the nbgrader student id;
- ``score``: the total, ``raw_score − late_penalty`` and at least 0 (``nbgrader export``'s
  ``score``); ``max_score``: the assignment's points;
- ``raw_score``: auto + manual + extra credit (nbgrader's per-cell rule);
- ``late_penalty``: nbgrader's late penalty (the course's ``LateSubmissionPlugin``);
- ``late``: ``late (+N h, −P)`` when submitted after the due date, else empty;
- ``manual``, ``extra_credit``: points given by hand, extra credit;
- ``needs_manual_grade``: ``yes`` while a cell waits for (re)view in formgrader;
- one column per grade cell: that cell's score (manual if given, else auto, plus extra credit);
- ``diagnosis``, ``flags``, ``notes``: the grader's first diagnosis, flags, notes.

Text from student code is neutralised against spreadsheet formulas. The file is replaced
atomically, so a run that grades nobody, or a few, never shrinks it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder import atomic
from autograder.course import Course
from autograder.results import ClassRow


def csv_header(task_ids: list[str]) -> list[str]:
    """Column names of the class CSV."""
    return (["student", "score", "max_score", "raw_score", "late_penalty", "late", "manual",
             "extra_credit", "needs_manual_grade"] + task_ids + ["diagnosis", "flags", "notes"])


def num(x: float | None) -> str:
    """A score as text: ``7``, ``6.5``; empty for None."""
    return "" if x is None else f"{round(float(x), 6):g}"


def class_csv_text(rows: list[ClassRow], task_ids: list[str]) -> str:
    """The class CSV for ``rows`` (from :func:`autograder.pipeline.class_rows`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_header(task_ids))
    for row in rows:
        scores = [num(row.cells[gid].score) if gid in row.cells else "" for gid in task_ids]
        writer.writerow([row.student, num(row.score), num(row.max_score), num(row.raw_score),
                         num(row.late_penalty), row.late, num(row.manual),
                         num(row.extra_credit), "yes" if row.needs_manual else "no", *scores,
                         safe(row.diagnosis), safe("; ".join(row.flags)),
                         safe("; ".join(row.notes))])
    return buf.getvalue()


def task_ids_of(course: Course, assignment: str) -> list[str]:
    """The grade cells of the assignment in notebook order (the per-task columns)."""
    from autograder import gradebook

    stored = gradebook.load_stored(course.db_url, course.course_id, assignment)
    out = []
    for nb in stored.values():
        out += [gid for gid in nb["order"] if gid in nb["grade"]]
        out += [gid for gid in nb["grade"] if gid not in nb["order"]]
    return out


def write_class_csv(course: Course, assignment: str, path: Path | None = None) -> Path:
    """Write the class CSV of ``assignment`` from the gradebook; return its path."""
    from autograder.pipeline import class_rows

    path = path or course.export_path(assignment)
    text = class_csv_text(class_rows(course, assignment), task_ids_of(course, assignment))
    atomic.write_text(path, text)
    return path


def safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text that may come from student code."""
    text = text.replace("\n", " ").replace("\r", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t") else text
