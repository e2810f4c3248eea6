"""The coordinator: grade a folder of submissions end to end (Python API of ``grade``).

:func:`grade_assignment` reads the stored cells from the gradebook into a private copy, builds one
self-contained job per student, runs the jobs on a local pool or Dask, and, as results arrive,
is the only process that writes: nbgrader's gradebook, ``autograded/``, ``feedback/``, a resume
marker per student. Afterwards it proves the gradebook consistent and writes the CSV export.
Running again skips students whose submission is unchanged (``force`` regrades).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import export, gradebook, sandbox, submissions, tasks
from autograder.course import Course, CourseError, protect_db
from autograder.executors import default_workers, run_dask, run_local
from autograder.worker import Job, limits_dict


@dataclass
class GradeOptions:
    """How to grade: workers, Dask scheduler, forced regrading, limits."""

    workers: int | None = None
    scheduler: str | None = None
    force: bool = False
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)


@dataclass
class GradeReport:
    """What a grading run did; ``rows`` has one summary per student (graded or resumed)."""

    assignment: str
    rows: list[dict[str, Any]]
    graded: list[str]
    skipped: list[str]
    rejected: list[submissions.Rejected]
    problems: list[str]
    csv_path: Path
    feedback_root: Path
    seconds: float
    task_ids: list[str]


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
        except Exception as exc:  # noqa: BLE001 - reported to the instructor
            raise CourseError(f"task {spec.grade_id}: the task file fails on a test instance: "
                              f"{type(exc).__name__}: {exc}") from exc


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def summary_row(result: dict[str, Any]) -> dict[str, Any]:
    """The part of a result kept in the resume marker and shown in the table."""
    cells = {}
    diagnosis = ""
    for nb in result["notebooks"].values():
        for gid, c in nb["cells"].items():
            cells[gid] = {"score": c["score"], "max_score": c["max_score"],
                          "summary": c.get("summary", ""), "flagged": c.get("flagged", False)}
            if (not diagnosis and c.get("diagnosis") and c["score"] is not None
                    and c["score"] != c["max_score"]):
                diagnosis = f"{gid}: {c['diagnosis']}"
    notes = list(result.get("notes", []))
    for nb in result["notebooks"].values():
        notes += nb.get("notes", [])
    return {"student": result["student"], "score": result["score"],
            "max_score": result["max_score"], "needs_manual": result.get("needs_manual", False),
            "cells": cells, "diagnosis": diagnosis, "flags": result.get("flags", []),
            "notes": notes, "digest": result.get("digest", ""),
            "seconds": result.get("seconds", 0.0)}


def grade_assignment(course: Course, assignment: str, submissions_dir: Path,
                     options: GradeOptions | None = None,
                     progress: Callable[[int, int, str], None] | None = None) -> GradeReport:
    """Grade every submission of ``assignment`` found in ``submissions_dir``."""
    options = options or GradeOptions()
    start = time.perf_counter()
    stored = gradebook.load_stored(course.db_url, course.course_id, assignment)
    protect_db(course)
    state = course.state_dir(assignment)
    _write_private(state / "stored_cells.json", json.dumps(stored))
    task_file = tasks.find_task_file(course.root, assignment)
    tasks_source = task_file.read_text(encoding="utf-8") if task_file else None
    if tasks_source:
        specs = tasks.load_tasks_source(tasks_source, assignment)
        check_tasks(specs, stored)
        smoke_test_tasks(specs, course.course_id, assignment)
    files = release_files(course, assignment)
    subs, rejected = submissions.discover(Path(submissions_dir), assignment, sorted(stored))
    markers = state / "done"
    rows: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    skipped: list[str] = []
    before = gradebook.snapshot(course.db_url, course.course_id)
    limits = limits_dict(options.limits)
    for sub in subs:
        digest = sub.digest()
        marker = markers / f"{sub.student}.json"
        if not options.force and marker.exists():
            try:
                row = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                row = {}
            graded_before = f"{assignment}/" in json.dumps(
                list(before["students"].get(sub.student, {})))
            if row.get("digest") == digest and graded_before:
                rows[sub.student] = row
                skipped.append(sub.student)
                continue
        todo.append(Job(sub.student, assignment, course.course_id, sub.notebooks, stored, files,
                        tasks_source, limits, sub.notes, digest, sub.timestamp))
    written: dict[str, dict] = {}
    graded: list[str] = []
    runner = (run_dask(todo, options.scheduler) if options.scheduler
              else run_local(todo, options.workers or default_workers()))
    for n, (job, result) in enumerate(runner, start=1):
        written[job.student] = gradebook.write_result(course.db_url, course.course_id,
                                                      assignment, result)
        _write_outputs(course, assignment, result)
        row = summary_row(result)
        _write_private(markers / f"{job.student}.json", json.dumps(row))
        rows[job.student] = row
        graded.append(job.student)
        if progress:
            progress(n, len(todo), job.student)
    after = gradebook.snapshot(course.db_url, course.course_id)
    problems = gradebook.check_consistency(before, after, set(graded), assignment, written)
    task_ids = [gid for nb in stored.values() for gid in nb["grade"]]
    ordered = [rows[s] for s in sorted(rows)]
    csv_path = export.write_csv(course, assignment, ordered, task_ids)
    return GradeReport(assignment, ordered, graded, skipped, rejected, problems, csv_path,
                       course.root / "feedback", time.perf_counter() - start, task_ids)


def _write_outputs(course: Course, assignment: str, result: dict[str, Any]) -> None:
    student = result["student"]
    ag = course.autograded_dir(student, assignment)
    fb = course.feedback_dir(student, assignment)
    for nb_name, nb in result["notebooks"].items():
        if nb.get("graded_nb"):
            ag.mkdir(parents=True, exist_ok=True)
            (ag / f"{nb_name}.ipynb").write_text(nb["graded_nb"], encoding="utf-8")
        fb.mkdir(parents=True, exist_ok=True)
        html = nb.get("feedback_html") or _plain_feedback(nb_name, nb)
        (fb / f"{nb_name}.html").write_text(html, encoding="utf-8")


def _plain_feedback(nb_name: str, nb: dict[str, Any]) -> str:
    import html  # noqa: PLC0415

    items = "".join(f"<li><code>{html.escape(g)}</code>: {c['score']:g} / {c['max_score']:g} "
                    f"{html.escape(c.get('summary', ''))}</li>" for g, c in nb["cells"].items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in nb.get("notes", []))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(nb_name)}"
            f"</title></head><body><h1>{html.escape(nb_name)}</h1><ul>{items}</ul>"
            f"<h2>Notes</h2><ul>{notes}</ul></body></html>")
