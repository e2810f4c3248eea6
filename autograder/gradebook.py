"""The coordinator's side of nbgrader's gradebook: read stored cells, write results, verify.

Only the coordinator process calls the writing functions here; workers never see the database.
:func:`snapshot` and :func:`check_consistency` prove after a batch that no other student's rows
and no stored test changed, and that the graded students' rows hold exactly what was written.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.course import CourseError


def load_stored(db_url: str, course_id: str, assignment: str) -> dict[str, Any]:
    """The assignment's stored cells as plain data: ``{notebook: {kernelspec, cells, ...}}``."""
    with Gradebook(db_url, course_id) as gb:
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


def write_result(db_url: str, course_id: str, assignment: str, result: dict[str, Any],
                 resubmitted: bool = True) -> tuple[dict, list[str]]:
    """Store one student's result; return the rows as written (for the consistency check)
    and the cells whose manual grade is stale.

    Manual scores, extra credit and manual comments are never touched (regrading keeps them).
    As in nbgrader's ``SaveAutoGrades``, a cell with a manual score is marked for review when
    the submission changed (``resubmitted``); regrading the same submission keeps the review
    state the instructor left."""
    student = result["student"]
    written: dict[str, Any] = {}
    stale: list[str] = []
    with warnings.catch_warnings(), Gradebook(db_url, course_id) as gb:
        # nbgrader's add_submission triggers SQLAlchemy autoflush warnings; rows are verified
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        stamp = _timestamp(result.get("timestamp"))
        if stamp is not None:
            gb.update_or_create_submission(assignment, student, timestamp=stamp)
        else:
            gb.update_or_create_submission(assignment, student)
        for nb_name, nb_res in result["notebooks"].items():
            try:
                sub_nb = gb.find_submission_notebook(nb_name, assignment, student)
            except MissingEntry:
                continue
            for cell_id, cell in nb_res["cells"].items():
                try:
                    grade = gb.find_grade(cell_id, nb_name, assignment, student)
                except MissingEntry:
                    continue
                grade.auto_score = cell["auto_score"]
                if cell.get("flagged", False):
                    need = True
                elif grade.manual_score is not None:
                    need = True if resubmitted else bool(grade.needs_manual_grade)
                    if resubmitted:
                        stale.append(cell_id)
                else:
                    need = cell["auto_score"] is None
                grade.needs_manual_grade = need
                written[f"{nb_name}/{cell_id}"] = grade.auto_score
            for cell_id, text in nb_res.get("comments", {}).items():
                try:
                    comment = gb.find_comment(cell_id, nb_name, assignment, student)
                except MissingEntry:
                    continue
                comment.auto_comment = text
            sub_nb.flagged = bool(nb_res.get("flagged"))
        gb.db.commit()
    return written, stale


def _timestamp(text: str | None) -> Any:
    """nbgrader's parse of a ``timestamp.txt``; None when absent or unreadable."""
    if not text:
        return None
    from nbgrader.utils import parse_utc  # noqa: PLC0415

    try:
        return parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None


def snapshot(db_url: str, course_id: str) -> dict[str, Any]:
    """Every stored cell and every student's grade/comment rows, keyed for comparison."""
    snap: dict[str, Any] = {"stored": {}, "students": {}}
    with Gradebook(db_url, course_id) as gb:
        for assn in gb.assignments:
            for nb in assn.notebooks:
                for c in nb.source_cells:
                    snap["stored"][f"{assn.name}/{nb.name}/{c.name}/source"] = [
                        c.source, c.checksum, c.cell_type, bool(c.locked)]
                for c in nb.grade_cells:
                    snap["stored"][f"{assn.name}/{nb.name}/{c.name}/grade"] = [
                        float(c.max_score), c.cell_type]
            for sub in assn.submissions:
                rows = snap["students"].setdefault(sub.student_id, {})
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
    """Problems found (empty when consistent): stored cells changed, another student's rows
    changed, or a graded student's auto scores differ from what the coordinator wrote."""
    problems: list[str] = []
    if before["stored"] != after["stored"]:
        changed = sorted(k for k in set(before["stored"]) | set(after["stored"])
                         if before["stored"].get(k) != after["stored"].get(k))
        problems.append(f"stored cells changed: {', '.join(changed[:5])}")
    for student in sorted(set(before["students"]) | set(after["students"])):
        b, a = before["students"].get(student, {}), after["students"].get(student, {})
        if student in graded:
            others_b = {k: v for k, v in b.items() if not k.startswith(f"{assignment}/")}
            others_a = {k: v for k, v in a.items() if not k.startswith(f"{assignment}/")}
            if others_b != others_a:
                problems.append(f"{student}: rows of other assignments changed")
            for key, score in written.get(student, {}).items():
                row = a.get(f"{assignment}/{key}")
                if row is None or row[0] != score:
                    problems.append(f"{student}: {key} holds {row and row[0]}, wrote {score}")
        elif a != b:
            problems.append(f"{student}: rows changed although the student was not graded")
    return problems
