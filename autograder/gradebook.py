"""The coordinator's side of nbgrader's gradebook: read stored cells, write results, verify.

Only the coordinator process calls the writing functions here; workers never see the database.
:func:`snapshot` and :func:`check_consistency` prove after a batch that no other student's rows
and no stored test changed, and that the graded students' rows hold exactly what was written.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from nbgrader.api import Comment, Grade, Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import joinedload

from autograder.course import CourseError
from autograder.dbsession import open_gradebook
from autograder.results import StudentResult


def load_stored(db_url: str, course_id: str, assignment: str) -> dict[str, Any]:
    """The assignment's stored cells as plain data: ``{notebook: {kernelspec, cells, ...}}``."""
    with open_gradebook(db_url, course_id) as gb:
        try:
            assn = gb.find_assignment(assignment)
        except MissingEntry as exc:
            raise CourseError(f"assignment {assignment} is not in the gradebook {db_url}; "
                              "run the release command first") from exc
        out: dict[str, Any] = {}
        for nb in assn.notebooks:
            grade = {c.name: {"max_score": float(c.max_score), "cell_type": c.cell_type}
                     for c in nb.grade_cells}
            out[nb.name] = {
                "kernelspec": nb.kernelspec,
                "order": [c.name for c in nb.source_cells],
                "source": {c.name: {"source": c.source, "cell_type": c.cell_type,
                                    "checksum": c.checksum, "locked": bool(c.locked)}
                           for c in nb.source_cells},
                "grade": grade,
                "solution": sorted(c.name for c in nb.solution_cells),
                "task": {c.name: float(c.max_score) for c in nb.task_cells},
            }
    return out


def write_result(db_url: str, course_id: str, assignment: str, result: StudentResult,
                 timestamp: str | None = None, resubmitted: bool = True
                 ) -> tuple[dict, list[str]]:
    """Store one student's result (submitted at ``timestamp``, the text of nbgrader's
    ``timestamp.txt``); return the rows as written (for the consistency check) and the cells
    whose manual grade is stale.

    Manual scores, extra credit and manual comments are never touched (regrading keeps them).
    As in nbgrader's ``SaveAutoGrades``, a cell with a manual score is marked for review when
    the submission changed (``resubmitted``); regrading the same submission keeps the review
    state the instructor left."""
    student = result.student
    written: dict[str, Any] = {}
    stale: list[str] = []
    with warnings.catch_warnings(), open_gradebook(db_url, course_id) as gb:
        # nbgrader's add_submission triggers SQLAlchemy autoflush warnings; rows are verified
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        stamp = _timestamp(timestamp)
        if stamp is not None:
            gb.update_or_create_submission(assignment, student, timestamp=stamp)
        else:
            gb.update_or_create_submission(assignment, student)
        for nb_name, nb_res in result.notebooks.items():
            try:
                sub_nb = gb.find_submission_notebook(nb_name, assignment, student)
            except MissingEntry:
                continue
            grades = _rows_by_name(gb, Grade, sub_nb, "GradeCell")
            comments = _rows_by_name(gb, Comment, sub_nb, "SolutionCell")
            for cell_id, cell in nb_res.cells.items():
                grade = grades.get(cell_id)
                if grade is None:
                    continue
                grade.auto_score = cell.score
                if cell.flagged:
                    need = True
                elif grade.manual_score is not None:
                    need = True if resubmitted else bool(grade.needs_manual_grade)
                    if resubmitted:
                        stale.append(cell_id)
                else:
                    need = cell.score is None
                grade.needs_manual_grade = need
                written[f"{nb_name}/{cell_id}"] = grade.auto_score
                written[f"{nb_name}/{cell_id}/needs_manual"] = grade.needs_manual_grade
            for cell_id, text in nb_res.comments.items():
                comment = comments.get(cell_id)
                if comment is None:
                    continue
                comment.auto_comment = text
                written[f"{nb_name}/{cell_id}/comment"] = text
            sub_nb.flagged = nb_res.flagged
            written[f"{nb_name}/flagged"] = sub_nb.flagged
        gb.db.commit()
    return written, stale


def _rows_by_name(gb: Gradebook, table: Any, sub_nb: Any, preferred: str) -> dict[str, Any]:
    """The ``Grade`` or ``Comment`` rows of one submitted notebook by cell name, in one query:
    what nbgrader's ``find_grade`` (a grade cell's before a task cell's of the same name) and
    ``find_comment`` (a solution cell's before a task cell's) return, one query per cell."""
    out: dict[str, Any] = {}
    rows = gb.db.query(table).filter(table.notebook_id == sub_nb.id).options(
        joinedload(table.cell))
    for row in rows:
        name = row.cell.name
        if name not in out or row.cell.type == preferred:
            out[name] = row
    return out


def _timestamp(text: str | None) -> Any:
    """nbgrader's parse of a ``timestamp.txt``; None when absent or unreadable."""
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None


def snapshot(db_url: str, course_id: str) -> dict[str, Any]:
    """Every stored cell and every student's grade/comment rows, keyed for comparison."""
    snap: dict[str, Any] = {"stored": {}, "students": {}}
    with open_gradebook(db_url, course_id) as gb:
        for student in gb.students:
            snap["students"].setdefault(student.id, {})["student"] = [
                student.first_name, student.last_name, student.email, student.lms_user_id]
        for assn in gb.assignments:
            snap["stored"][f"{assn.name}/assignment"] = [str(assn.duedate), assn.course_id]
            for nb in assn.notebooks:
                for c in nb.source_cells:
                    snap["stored"][f"{assn.name}/{nb.name}/{c.name}/source"] = [
                        c.source, c.checksum, c.cell_type, bool(c.locked)]
                for c in nb.grade_cells:
                    snap["stored"][f"{assn.name}/{nb.name}/{c.name}/grade"] = [
                        float(c.max_score), c.cell_type]
            for sub in assn.submissions:
                rows = snap["students"].setdefault(sub.student_id, {})
                rows[f"{assn.name}/submission"] = [str(sub.timestamp), str(sub.extension)]
                for snb in sub.notebooks:
                    key = f"{assn.name}/{snb.name}"
                    rows[f"{key}/flagged"] = bool(snb.flagged)
                    for g in snb.grades:
                        rows[f"{key}/{g.name}"] = [g.auto_score, g.manual_score, g.extra_credit,
                                                   bool(g.needs_manual_grade)]
                    for cm in snb.comments:
                        rows[f"{key}/{cm.name}/comment"] = [cm.auto_comment, cm.manual_comment]
    return json.loads(json.dumps(snap))


def check_consistency(before: dict[str, Any], after: dict[str, Any], graded: set[str],
                      assignment: str, written: dict[str, dict]) -> list[str]:
    """Problems found (empty when consistent), field by field: stored cells changed; a student
    who was not graded changed in any field; a graded student's other assignments, names,
    manual scores, extra credit or manual comments changed; or what the coordinator wrote
    (auto scores, needs-manual flags, auto comments, notebook flags) is not what is stored."""
    problems: list[str] = []
    if before["stored"] != after["stored"]:
        changed = sorted(k for k in set(before["stored"]) | set(after["stored"])
                         if before["stored"].get(k) != after["stored"].get(k))
        problems.append(f"stored cells changed: {', '.join(changed[:5])}")
    prefix = f"{assignment}/"
    for student in sorted(set(before["students"]) | set(after["students"])):
        b, a = before["students"].get(student, {}), after["students"].get(student, {})
        if student not in graded:
            if a != b:
                problems.append(f"{student}: rows changed although the student was not graded")
            continue
        for key in sorted(set(a) | set(b)):
            if key == "student" and key not in b and a[key] == [None] * 4:
                continue  # created by this grading, with no names
            if not key.startswith(prefix) and a.get(key) != b.get(key):
                problems.append(f"{student}: {key} changed (not part of this grading)")
        mine = written.get(student, {})
        for key in sorted(k for k in a if k.startswith(prefix)):
            problems += _check_row(student, key[len(prefix):], a[key], b.get(key), mine)
        for key, value in mine.items():
            if f"{prefix}{key.removesuffix('/needs_manual')}" not in a:
                problems.append(f"{student}: {key} was written ({value}) but is missing")
    return problems


def _check_row(student: str, key: str, now: Any, then: Any, mine: dict[str, Any]) -> list[str]:
    """One row of a graded student: written fields as written, manual fields as they were."""
    out = []
    if key == "submission":
        return out
    if key.endswith("/flagged"):
        if key in mine and now != mine[key]:
            out.append(f"{student}: {key} holds {now}, wrote {mine[key]}")
        return out
    if key.endswith("/comment"):
        auto, manual = now
        if key in mine and auto != mine[key]:
            out.append(f"{student}: {key} holds {auto!r}, wrote {mine[key]!r}")
        if manual != (then[1] if then else None):
            out.append(f"{student}: manual comment {key} changed")
        return out
    auto, manual, extra, needs = now
    if key in mine and auto != mine[key]:
        out.append(f"{student}: {key} holds {auto}, wrote {mine[key]}")
    if f"{key}/needs_manual" in mine and needs != mine[f"{key}/needs_manual"]:
        out.append(f"{student}: {key} needs-manual flag holds {needs}")
    if [manual, extra] != ([then[1], then[2]] if then else [None, None]):
        out.append(f"{student}: manual score or extra credit of {key} changed")
    return out
