"""The coordinator: grade a folder of submissions end to end (Python API of ``grade``).

:func:`grade_assignment` reads the stored cells from the gradebook, builds one self-contained
job per student, runs the jobs on a local pool or Dask, and, as results arrive
(:class:`~autograder.results.StudentResult`), is the only process that writes: nbgrader's
gradebook, ``autograded/``, ``feedback/``, a resume marker per student
(:class:`~autograder.results.Marker`). Afterwards it proves the gradebook consistent, stores the
late penalties
(nbgrader's ``AssignLatePenalties``) and writes the class CSV, both from the gradebook.

Running again skips students whose submission is unchanged and were graded with the same
grading logic (task file, stored cells with their hidden tests, release files): a change of
any of them regrades everyone; ``force`` regrades too. A resubmission after manual grading keeps
the manual scores (as nbgrader does) and marks those cells for review in formgrader.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder import (
    atomic,
    books,
    dbsession,
    export,
    feedback,
    gradebook,
    publish,
    references,
    sandbox,
    stages,
    submissions,
    tasks,
)
from autograder.course import Course, CourseError, protect_db
from autograder.executors import default_workers, open_pool
from autograder.results import (
    NO_MARKER,
    ClassRow,
    Marker,
    MarkerCell,
    RowCell,
    StudentResult,
    read_marker,
)
from autograder.worker import Job


@dataclass
class GradeOptions:
    """How to grade: workers, Dask scheduler, forced regrading, limits."""

    workers: int | None = None
    scheduler: str | None = None
    force: bool = False
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    canvas_ids: dict[str, str] | None = None
    """Canvas user id -> student id (from the roster), for Canvas bulk-download names."""


@dataclass
class GradeReport:
    """What a grading run did; ``rows`` has one row per student of the gradebook (totals read
    from it after the run, see :func:`class_rows`)."""

    assignment: str
    rows: list[ClassRow]
    graded: list[str]
    skipped: list[str]
    rejected: list[submissions.Rejected]
    problems: list[str]
    csv_path: Path
    feedback_root: Path
    seconds: float
    task_ids: list[str]
    logic_changed: bool = False
    found: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per stage summed over the graded submissions (workers' and coordinator's)."""


def release_files(course: Course, assignment: str) -> dict[str, bytes]:
    """The non-notebook files of ``release/<a>/`` that every workspace gets (e.g. coursekit)."""
    rel = course.release_dir(assignment)
    if not rel.is_dir():
        raise CourseError(f"release/{assignment} is missing; run the release command first")
    out = {}
    for p in sorted(rel.rglob("*")):
        if p.is_file() and p.suffix != ".ipynb" and "__pycache__" not in p.parts \
                and p.suffix != ".pyc":
            out[p.relative_to(rel).as_posix()] = p.read_bytes()
    return out


def check_tasks(specs: list[tasks.TaskSpec], stored: dict[str, Any]) -> None:
    """Each task must name a grade cell of the assignment and carry the same points."""
    cells = {gid: g["max_score"] for nb in stored.values() for gid, g in nb["grade"].items()}
    for spec in specs:
        if spec.grade_id not in cells:
            raise CourseError(f"task {spec.grade_id}: no grade cell with that id")
        if abs(float(spec.points) - cells[spec.grade_id]) > 1e-9:
            raise CourseError(f"task {spec.grade_id}: {spec.points} points, but the grade cell "
                              f"has {cells[spec.grade_id]}")


def smoke_test_tasks(specs: list[tasks.TaskSpec], course_id: str, assignment: str) -> None:
    """Run every task's instance generator and reference once, so that a broken task file stops
    the run before any student is graded (instead of failing every student)."""
    ctx = tasks.make_context(course_id, assignment, "__task_file_check__")
    for spec in specs:
        try:
            for probe in spec.instances(ctx):
                spec.reference(probe)
        except Exception as exc:
            raise CourseError(f"task {spec.grade_id}: the task file fails on a test instance: "
                              f"{type(exc).__name__}: {exc}") from exc


def _write_private(path: Path, text: str) -> None:
    atomic.write_text(path, text, mode=0o600)


def logic_digest(tasks_source: str | None, stored: dict[str, Any], files: dict[str, bytes],
                 models: dict[str, str] | None = None) -> str:
    """A hash of everything that decides a grade besides the submission: the task file, the
    model solutions it may lend to probes (:func:`autograder.references.model_sources`), the
    stored cells (hidden tests included) and the release files."""
    h = hashlib.sha256((tasks_source or "").encode())
    if models:
        h.update(json.dumps(models, sort_keys=True).encode())
    h.update(json.dumps(stored, sort_keys=True).encode())
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def grade_assignment(course: Course, assignment: str, submissions_dir: Path,
                     options: GradeOptions | None = None,
                     progress: Callable[[int, int, str], None] | None = None) -> GradeReport:
    """Grade every submission of ``assignment`` found in ``submissions_dir`` (the run's
    gradebook opens share one database engine: :mod:`autograder.dbsession`)."""
    with dbsession.shared_engine(course.db_url):
        return _grade_assignment(course, assignment, submissions_dir, options or GradeOptions(),
                                 progress)


def _grade_assignment(course: Course, assignment: str, submissions_dir: Path,
                      options: GradeOptions,
                      progress: Callable[[int, int, str], None] | None) -> GradeReport:
    start = time.perf_counter()
    books.require_assignment(course, assignment)
    stored = gradebook.load_stored(course.db_url, course.course_id, assignment)
    protect_db(course)
    state = course.state_dir(assignment)
    task_file = course.task_file(assignment)
    tasks_source = task_file.read_text(encoding="utf-8") if task_file else None
    if tasks_source:
        specs = tasks.load_tasks_source(tasks_source, assignment)
        check_tasks(specs, stored)
        smoke_test_tasks(specs, course.course_id, assignment)
    files = release_files(course, assignment)
    subs, rejected = submissions.discover(Path(submissions_dir), assignment, sorted(stored),
                                          options.canvas_ids)
    if not subs:
        raise CourseError(
            f"no submission of {assignment} in {submissions_dir} ({len(rejected)} entries "
            f"refused{': ' + rejected[0].reason if rejected else ''}); expected "
            f"<student>/{assignment}/*.ipynb, <student>.zip, <student>.ipynb or Canvas "
            "downloads; nothing was changed")
    logic = logic_digest(tasks_source, stored, files, references.model_sources(assignment))
    logic_file = state / "logic.sha256"
    previous_logic = logic_file.read_text().strip() if logic_file.exists() else None
    logic_changed = previous_logic is not None and previous_logic != logic
    markers = state / "done"
    before = gradebook.snapshot(course.db_url, course.course_id)
    stored_ids = {nb: set(v["grade"]) | set(v["source"]) for nb, v in stored.items()}
    todo: list[Job] = []
    skipped: list[str] = []
    resubmitted: dict[str, bool] = {}
    extra_flags: dict[str, list[str]] = {}
    for sub in subs:
        digest = sub.digest()
        marker = read_marker(markers / f"{sub.student}.json")
        graded_before = any(k.startswith(f"{assignment}/")
                            for k in before["students"].get(sub.student, {}))
        if (not options.force and not logic_changed and graded_before and marker is not None
                and marker.digest == digest and marker.logic == logic):
            skipped.append(sub.student)
            continue
        resubmitted[sub.student] = graded_before and (marker is None or marker.digest != digest)
        extra_flags[sub.student] = sub.flags + submissions.wrong_notebook(sub, stored_ids,
                                                                           assignment)
        todo.append(Job(sub.student, assignment, course.course_id, sub.notebooks, stored, files,
                        tasks_source, options.limits, sub.notes, digest, sub.timestamp))
    written: dict[str, dict] = {}
    graded: list[str] = []
    refused: list[str] = []
    clock: dict[str, float] = {}
    done: list[str] = []

    def finished(student: str) -> None:  # graded, written and its feedback published
        done.append(student)
        if progress:
            progress(len(done), len(todo), student)

    pages = _Pages(course, assignment, stored, logic, markers, clock, finished)
    with open_pool(options.workers or default_workers(), options.scheduler, len(todo)) as pool:
        for job, result in pool.grade(todo):
            stages.merge(clock, result.stages)
            t0 = time.perf_counter()
            flags = extra_flags.get(job.student, [])
            if flags:
                result = replace(result, flags=result.flags + tuple(flags), notebooks={
                    name: replace(nb_res, flagged=True)
                    for name, nb_res in result.notebooks.items()})
            written[job.student], stale = gradebook.write_result(
                course.db_url, course.course_id, assignment, result, job.timestamp,
                resubmitted=resubmitted.get(job.student, True))
            if stale:
                result = replace(result, flags=result.flags + (
                    "resubmitted after manual grading: review " + ", ".join(stale)
                    + " in formgrader (the earlier manual scores count until then)",))
            t1 = time.perf_counter()
            _write_outputs(course, assignment, result)
            marker = Marker.of(result, job.digest, logic="")
            _write_private(markers / f"{job.student}.json", marker.to_json())
            t2 = time.perf_counter()
            books.apply_late_penalties(course, assignment, [job.student])
            t3 = time.perf_counter()
            stages.add(clock, stages.GRADEBOOK, (t1 - t0) + (t3 - t2))
            stages.add(clock, stages.OUTPUTS, t2 - t1)
            graded.append(job.student)
            pages.submit(pool, job.student, marker)
            pages.collect(wait=False)
        pages.collect(wait=True)
    refused += pages.report.refused
    after = gradebook.snapshot(course.db_url, course.course_id)
    problems = gradebook.check_consistency(before, after, set(graded), assignment, written)
    problems += refused
    if not problems:
        _write_private(logic_file, logic)
    books.apply_late_penalties(course, assignment)
    task_ids = export.task_ids_of(course, assignment)
    csv_path = export.write_class_csv(course, assignment)
    rows = class_rows(course, assignment)
    return GradeReport(assignment, rows, graded, skipped, rejected, problems, csv_path,
                       course.root / "feedback", time.perf_counter() - start, task_ids,
                       logic_changed, len(subs), clock)


class _Pages:
    """The feedback pages of a grading run: made from the gradebook by the coordinator as each
    student is written, rendered on the run's workers, written as they come back; once all of
    a student's pages are written, the student's resume marker is completed and ``finished``
    is called with the student."""

    def __init__(self, course: Course, assignment: str, stored: dict[str, Any], logic: str,
                 markers: Path, clock: dict[str, float],
                 finished: Callable[[str], None] = lambda student: None) -> None:
        self.course, self.assignment, self.stored = course, assignment, stored
        self.logic, self.markers, self.clock = logic, markers, clock
        self.finished = finished
        self.texts = publish.instructor_text_notebooks(course, assignment, stored)
        self.report = publish.FeedbackReport()
        self.pending: dict[Any, feedback.Page] = {}
        self.left: dict[str, tuple[int, Marker]] = {}

    def submit(self, pool: Any, student: str, marker: Marker) -> None:
        """Make ``student``'s pages from the gradebook and send them to ``pool``."""
        t0 = time.perf_counter()
        todo = list(publish.pages(self.course, self.assignment, self.stored, [student],
                                  self.report, self.texts))
        for page in todo:
            self.pending[pool.submit(feedback.render_page, page,
                                     self.texts[page.notebook][1])] = page
        self.left[student] = (len(todo), marker)
        stages.add(self.clock, stages.FEEDBACK, time.perf_counter() - t0)
        if not todo:
            self._done(student)

    def collect(self, wait: bool) -> None:
        """Write the pages rendered so far (with ``wait``: every page, waiting for them)."""
        while self.pending:
            done = [f for f in self.pending if f.done()]
            if not done and not wait:
                return
            if not done:
                _settle(next(iter(self.pending)))
                continue
            t0 = time.perf_counter()
            for fut in done:
                page = self.pending.pop(fut)
                publish.finish_page(page, functools.partial(self._html, fut), self.report)
                count, marker = self.left[page.student]
                self.left[page.student] = (count - 1, marker)
                if count == 1:
                    self._done(page.student)
            stages.add(self.clock, stages.FEEDBACK, time.perf_counter() - t0)

    def _html(self, fut: Any) -> str:
        html, seconds = fut.result()
        stages.add(self.clock, stages.RENDERING, seconds)
        return html

    def _done(self, student: str) -> None:
        """Every page of ``student`` is written: its resume marker says the run's logic."""
        marker = self.left.pop(student)[1]
        _write_private(self.markers / f"{student}.json",
                       replace(marker, logic=self.logic).to_json())
        self.finished(student)


def _settle(fut: Any) -> None:
    """Wait until ``fut`` is done, whatever its outcome (read later with ``result``)."""
    try:
        fut.result()
    except Exception:
        pass


def class_rows(course: Course, assignment: str) -> list[ClassRow]:
    """One row per student of the gradebook: the totals from the gradebook (one truth) with
    the grader's diagnosis, flags and notes from the last grading (resume markers)."""
    markers = course.state_dir(assignment) / "done"
    rows = []
    for book in books.read_class(course, assignment):
        marker = (read_marker(markers / f"{book.student}.json")
                  if submissions.valid_student_id(book.student) else None) or NO_MARKER
        cells = {}
        for gid, cell in book.cells.items():
            said = marker.cells.get(gid, MarkerCell())
            cells[gid] = RowCell(
                cell.max_score, None if cell.needs_manual and cell.manual_score is None
                and cell.auto_score is None else cell.score, cell.needs_manual,
                # a hand grade supersedes the grader's diagnosis of that cell
                "" if cell.manual_score is not None else said.diagnosis, said.summary)
        flags = marker.flags
        if book.flagged and not flags:
            flags = ("flagged for review",)
        rows.append(ClassRow(
            book.student, raw_score=book.raw_score, late_penalty=book.late_penalty,
            max_score=book.max_score, manual=book.manual, extra_credit=book.extra_credit,
            late=book.late_text(), cells=cells, diagnosis=marker.diagnosis, flags=flags,
            notes=marker.notes))
    return rows


def _write_outputs(course: Course, assignment: str, result: StudentResult) -> None:
    ag = course.autograded_dir(result.student, assignment)
    for nb_name, nb in result.notebooks.items():
        path = ag / f"{nb_name}.ipynb"
        if nb.graded_nb:
            atomic.write_text(path, nb.graded_nb)
        elif path.exists():  # this submission's notebook is unreadable: drop the old one
            path.unlink()
    # the feedback pages are rendered from the gradebook after the batch (autograder.publish)
