"""The class's books: every total we print, export or render, read from nbgrader's gradebook.

One truth: a student's total is nbgrader's own arithmetic over the gradebook rows, exactly what
``nbgrader export`` writes and formgrader shows: per cell ``manual_score`` if set, else
``auto_score``, plus ``extra_credit``; summed over the notebooks; minus the late penalty, never
below 0. The late penalty is computed by nbgrader's ``AssignLatePenalties`` preprocessor with the
course's ``LateSubmissionPlugin`` configuration (``penalty_method`` "none"/"zero" or a custom
``AssignLatePenalties.plugin_class``) and stored in the gradebook, so ``nbgrader export`` agrees.
It is recomputed by :func:`apply_late_penalties` after grading and before any output, because
nbgrader computes it only at autograde time and a later manual grade changes the score.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from nbgrader.api import (
    Assignment,
    Comment,
    Grade,
    Gradebook,
    MissingEntry,
    SubmittedAssignment,
    SubmittedNotebook,
)
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import joinedload, selectinload, undefer

from autograder.course import Course, CourseError
from autograder.dbsession import open_gradebook


@dataclass
class CellBook:
    """One graded cell of one student, as stored in the gradebook."""

    notebook: str
    name: str
    cell_type: str
    max_score: float
    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    score: float
    needs_manual: bool


@dataclass
class StudentBook:
    """One student's submission of an assignment as the gradebook holds it."""

    student: str
    raw_score: float
    late_penalty: float
    max_score: float
    seconds_late: float
    flagged: bool
    cells: dict[str, CellBook] = field(default_factory=dict)
    notebook_scores: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """notebook -> (raw score, max score, late penalty)."""
    comments: dict[str, dict[str, str]] = field(default_factory=dict)
    """notebook -> {cell: the instructor's comment, else the grader's}."""

    @property
    def total(self) -> float:
        """What the student gets: nbgrader export's ``score`` (raw − penalty, at least 0)."""
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def needs_manual(self) -> bool:
        """Some cell waits for a (re)view in formgrader."""
        return any(c.needs_manual for c in self.cells.values())

    @property
    def manual(self) -> float:
        """Points given by hand (manual scores replacing auto scores count whole)."""
        return sum(c.manual_score for c in self.cells.values() if c.manual_score is not None)

    @property
    def extra_credit(self) -> float:
        """Extra credit over all cells."""
        return sum(c.extra_credit or 0.0 for c in self.cells.values())

    @property
    def late(self) -> bool:
        """Submitted after the due date (extensions included)."""
        return self.seconds_late > 0

    def late_text(self) -> str:
        """``late (+N h, −P)`` or ``""``; shown identically in table, CSV and feedback."""
        if not self.late:
            return ""
        hours = math.ceil(self.seconds_late / 360.0) / 10.0  # tenths of an hour, rounded up
        return f"late (+{hours:g} h, −{self.late_penalty:g})"


def assignment_names(course: Course) -> list[str]:
    """The assignments the gradebook knows (the valid names for every command)."""
    with open_gradebook(course.db_url, course.course_id) as gb:
        return sorted(a.name for a in gb.assignments)


def require_assignment(course: Course, assignment: str) -> None:
    """A one-line refusal listing the valid names when ``assignment`` is unknown."""
    names = assignment_names(course)
    if assignment not in names:
        valid = ", ".join(names) if names else "none yet; run `backprop-course release` first"
        raise CourseError(f"assignment '{assignment}' is not in the gradebook; valid names: "
                          f"{valid}")


def apply_late_penalties(course: Course, assignment: str,
                         students: list[str] | None = None) -> None:
    """Store every submission's late penalty with nbgrader's ``AssignLatePenalties`` configured
    by the course (its plugin and its bounds check), on current scores.

    This is the body of ``AssignLatePenalties.preprocess`` run on our own gradebook session
    (with the course id, so that no stray ``default_course`` row is created)."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets import TraitError

    with warnings.catch_warnings():  # nbgrader's ORM autoflush warnings; rows are verified
        warnings.simplefilter("ignore", SAWarning)
        try:
            pp = AssignLatePenalties(config=course.nbgrader_config())
            pp.init_plugin()
        except (TraitError, ImportError) as exc:
            first = str(exc).split(" instance ")[-1].strip()
            raise CourseError(f"the late-submission plugin in {course.root}/nbgrader_config.py "
                              f"cannot be used ({first}); fix AssignLatePenalties.plugin_class "
                              "or LateSubmissionPlugin.penalty_method there") from None
        with open_gradebook(course.db_url, course.course_id) as gb:
            for sub in _submissions(gb, assignment, students):
                seconds = sub.total_seconds_late
                for nb in sub.notebooks:
                    penalty = None
                    if seconds > 0:
                        penalty = _penalty(pp, sub.student_id, nb.score, seconds)
                        if penalty is not None:
                            penalty = pp._check_late_penalty(nb, penalty)
                    nb.late_submission_penalty = penalty
            gb.db.commit()


def _penalty(pp: Any, student: str, score: float, seconds: float) -> float | None:
    try:
        value = pp.plugin_inst.late_submission_penalty(student, score, seconds)
        return None if value is None else float(value)
    except Exception as exc:
        raise CourseError(f"the late-submission plugin {type(pp.plugin_inst).__name__} failed "
                          f"for {student} ({type(exc).__name__}: {exc}); fix it in "
                          "nbgrader_config.py") from None


def _submissions(gb: Gradebook, assignment: str, students: list[str] | None,
                 rows: bool = False) -> list[Any]:
    """The submissions of ``assignment``: all of them, or those of ``students`` (without
    loading the whole class). With ``rows``, their notebooks, grades (with their cells and
    scores) and comments come in the same few queries instead of a query per row and score."""
    query = gb.db.query(SubmittedAssignment).join(
        Assignment, Assignment.id == SubmittedAssignment.assignment_id).filter(
        Assignment.name == assignment)
    if students is not None:
        query = query.filter(SubmittedAssignment.student_id.in_(list(students)))
    if rows:
        query = query.options(
            undefer(SubmittedAssignment.score), undefer(SubmittedAssignment.max_score),
            selectinload(SubmittedAssignment.notebooks).options(
                undefer(SubmittedNotebook.score), undefer(SubmittedNotebook.max_score),
                selectinload(SubmittedNotebook.comments).joinedload(Comment.cell),
                selectinload(SubmittedNotebook.grades).options(
                    undefer(Grade.max_score), joinedload(Grade.cell))))
    return query.all()


def read_class(course: Course, assignment: str,
               students: list[str] | None = None) -> list[StudentBook]:
    """Every submission of ``assignment`` in the gradebook (or those of ``students``), sorted
    by student id."""
    out: list[StudentBook] = []
    with open_gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry as exc:
            raise CourseError(f"assignment '{assignment}' is not in the gradebook") from exc
        for sub in _submissions(gb, assignment, students, rows=True):
            book = StudentBook(student=sub.student_id, raw_score=float(sub.score),
                               late_penalty=float(sub.late_submission_penalty or 0.0),
                               max_score=float(sub.max_score),
                               seconds_late=float(sub.total_seconds_late), flagged=False)
            for snb in sub.notebooks:
                book.flagged |= bool(snb.flagged)
                book.notebook_scores[snb.name] = (float(snb.score), float(snb.max_score),
                                                  float(snb.late_submission_penalty or 0.0))
                book.comments[snb.name] = {cm.name: cm.manual_comment or cm.auto_comment
                                           for cm in snb.comments
                                           if cm.manual_comment or cm.auto_comment}
                for g in snb.grades:
                    book.cells[g.name] = CellBook(
                        notebook=snb.name, name=g.name, cell_type=g.cell_type,
                        max_score=float(g.max_score), auto_score=g.auto_score,
                        manual_score=g.manual_score, extra_credit=g.extra_credit,
                        score=float(g.score), needs_manual=bool(g.needs_manual_grade))
            out.append(book)
    return sorted(out, key=lambda b: b.student)

