"""Grades for the school's LMS: Canvas gradebook CSV and Moodle grade-import CSV.

Both are written from the gradebook totals (:mod:`autograder.books`, one truth), using a
**roster** CSV that maps LMS identities to nbgrader student ids. Roster columns (header row;
only ``student_id`` is required, the others as your LMS needs):

- ``student_id``: the nbgrader student id (folder name in ``submitted/``);
- ``canvas_id``: the Canvas user id, i.e. the ``ID`` column of Canvas's gradebook export and
  the number in Canvas bulk-download names (``smithalice_12345_67890_ps1.ipynb``: 12345);
- ``sis_user_id``, ``sis_login_id``, ``section``: Canvas's columns of the same names;
- ``name``: the ``Student`` column (Canvas), informative;
- ``email``: Moodle's ``Email address``; ``moodle_idnumber``: Moodle's ``ID number``
  (default: the student id).

Canvas format (Grades > Import): columns ``Student, ID, SIS User ID, SIS Login ID, Section,
<column>``, then a ``Points Possible`` row; ``<column>`` is the Canvas assignment's name as
Canvas shows it in its own export (e.g. ``PS1 (123456)``), default the assignment name (Canvas
then creates a new assignment). Canvas matches rows on ``ID``, else ``SIS User ID``/``Login``.

Moodle format (Grades > Import > CSV file): columns ``ID number, Email address, <column>,
<column> feedback``; in Moodle map ``ID number`` to the user field ``idnumber`` (or ``Email
address`` to ``email``) and ``<column>`` to the grade item. The feedback column holds the late
note and "needs manual grade" so that nothing pending is uploaded silently.

A student of the gradebook without an LMS identity is refused (one line listing them), so an
upload never drops a student silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from autograder import atomic, books
from autograder.course import Course, CourseError
from autograder.export import num, safe

ROSTER_COLUMNS = ("student_id", "canvas_id", "sis_user_id", "sis_login_id", "section", "name",
                  "email", "moodle_idnumber")


@dataclass(frozen=True)
class Person:
    """One roster row."""

    student_id: str
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    name: str = ""
    email: str = ""
    moodle_idnumber: str = ""


def load_roster(path: Path) -> dict[str, Person]:
    """Student id -> :class:`Person`; one-line errors for a bad or ambiguous roster."""
    from autograder.submissions import valid_student_id

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CourseError(f"cannot read the roster {path} ({exc.strerror}); give an existing "
                          "CSV file with a student_id column") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if "student_id" not in fields:
        raise CourseError(f"the roster {path} has no student_id column (columns: "
                          f"{', '.join(fields) or 'none'}); see docs/instructor-guide.md")
    unknown = sorted(set(fields) - set(ROSTER_COLUMNS))
    if unknown:
        raise CourseError(f"the roster {path} has unknown columns {', '.join(unknown)}; "
                          f"allowed: {', '.join(ROSTER_COLUMNS)}")
    people: dict[str, Person] = {}
    canvas: dict[str, str] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        sid = row.get("student_id", "")
        if not valid_student_id(sid):
            raise CourseError(f"the roster {path}, line {line}: {sid!r} is not a valid "
                              "student id")
        if sid in people:
            raise CourseError(f"the roster {path}, line {line}: student {sid} appears twice")
        cid = row.get("canvas_id", "")
        if cid and cid in canvas:
            raise CourseError(f"the roster {path}, line {line}: Canvas id {cid} is given to "
                              f"both {canvas[cid]} and {sid}")
        if cid:
            canvas[cid] = sid
        people[sid] = Person(**{k: row.get(k, "") for k in ROSTER_COLUMNS})
    return people


def canvas_ids(roster: dict[str, Person]) -> dict[str, str]:
    """Canvas user id -> student id (for Canvas bulk-download names)."""
    return {p.canvas_id: sid for sid, p in roster.items() if p.canvas_id}


def _missing(course: Course, assignment: str, who: list[str], what: str) -> CourseError:
    shown = ", ".join(who[:5]) + (f" and {len(who) - 5} more" if len(who) > 5 else "")
    return CourseError(f"{len(who)} students of {assignment} have no {what} in the roster "
                       f"({shown}); add them to the roster and export again; nothing written")


def canvas_csv_text(course: Course, assignment: str, roster: dict[str, Person],
                    column: str | None = None) -> str:
    """Canvas gradebook-import CSV of the assignment's totals."""
    class_books = books.read_class(course, assignment)
    rows, missing = [], []
    for b in class_books:
        p = roster.get(b.student) or Person(b.student)
        canvas_id = p.canvas_id or (b.student if b.student.isdigit() else "")
        if not (canvas_id or p.sis_user_id or p.sis_login_id):
            missing.append(b.student)
            continue
        rows.append([safe(p.name or b.student), canvas_id, p.sis_user_id, p.sis_login_id,
                     safe(p.section), num(b.total)])
    if missing:
        raise _missing(course, assignment, missing, "Canvas id (canvas_id, sis_user_id or "
                       "sis_login_id)")
    max_score = max((b.max_score for b in class_books), default=0.0)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column or assignment])
    w.writerow(["    Points Possible", "", "", "", "", num(max_score)])
    w.writerows(rows)
    return buf.getvalue()


def moodle_csv_text(course: Course, assignment: str, roster: dict[str, Person],
                    column: str | None = None) -> str:
    """Moodle grade-import CSV of the assignment's totals (with a feedback column)."""
    column = column or assignment
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ID number", "Email address", column, f"{column} feedback"])
    for b in books.read_class(course, assignment):
        p = roster.get(b.student) or Person(b.student)
        notes = [b.late_text()] if b.late else []
        if b.needs_manual:
            notes.append("needs manual grade")
        w.writerow([p.moodle_idnumber or b.student, p.email, num(b.total),
                    safe("; ".join(notes))])
    return buf.getvalue()


def write_lms_csv(course: Course, assignment: str, fmt: str, roster_path: Path | None,
                  column: str | None = None, out: Path | None = None) -> Path:
    """Write ``exports/<assignment>_<fmt>.csv`` (``fmt`` is ``canvas`` or ``moodle``)."""
    roster = load_roster(roster_path) if roster_path else {}
    if fmt == "canvas":
        text = canvas_csv_text(course, assignment, roster, column)
    elif fmt == "moodle":
        text = moodle_csv_text(course, assignment, roster, column)
    else:
        raise CourseError(f"unknown export format {fmt!r}; use class, canvas or moodle")
    path = out or course.root / "exports" / f"{assignment}_{fmt}.csv"
    atomic.write_text(path, text)
    return path
