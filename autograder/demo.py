"""The demo: release, a synthetic class, grading, the table and where the feedback is.

With the real course (``source/`` holding assignments that have task files) the demo uses a copy
of it; until then, or with ``fixture=True``, a copy of the autograder's fixture course. Either
way everything (release, gradebook, submissions, feedback) is written under the work folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from autograder import release, synthetic, tasks
from autograder.course import Course, CourseError

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "autograder" / "fixtures" / "course"
COURSEKIT = Path(__file__).resolve().parents[1] / "coursekit"


def copy_fixture(target: Path) -> Path:
    """Copy the fixture course to ``target`` with the current ``coursekit`` beside each of its
    source notebooks (as the course's source/<a>/coursekit/ links give), so the fixture never
    carries a stale copy."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(FIXTURE, target, ignore=ignore)
    for folder in sorted((target / "source").iterdir()):
        if folder.is_dir():
            shutil.copytree(COURSEKIT, folder / "coursekit", ignore=ignore, dirs_exist_ok=True)
    return target


def gradable_assignments(course: Course) -> list[str]:
    """Assignments that have both a source folder and a task file."""
    return [a for a in course.assignments() if course.task_file(a)]


def prepare_course(course_root: Path | None, workdir: Path, fixture: bool = False) -> Course:
    """A copy, under ``workdir``, of the course to demo: the real one (its ``nbgrader_config.py``
    and ``source/``) if it has gradable assignments, else the fixture course. The demo never
    touches the real course's gradebook or ``release/``."""
    if course_root is not None and not fixture:
        try:
            real = Course.load(course_root)
        except CourseError:
            real = None
        if real is not None and gradable_assignments(real):
            target = workdir / "course"
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            shutil.copy2(real.root / "nbgrader_config.py", target / "nbgrader_config.py")
            shutil.copytree(real.root / "source", target / "source",
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            return Course.load(target)
    target = workdir / "fixture-course"
    if target.exists():
        shutil.rmtree(target)
    copy_fixture(target)
    return Course.load(target)


def default_assignments(course: Course) -> list[str]:
    """What the demo grades by default: the first gradable assignment whose task file has
    ``EXAMPLES`` (catalogued mistakes and correct solutions in other styles), else the first."""
    gradable = gradable_assignments(course)
    with_examples = [a for a in gradable if getattr(task_module(course, a), "EXAMPLES", None)]
    return (with_examples or gradable)[:1]


def task_module(course: Course, assignment: str) -> Any:
    """The loaded task module (for its optional ``EXAMPLES`` and ``WRONG``), or None."""
    path = course.task_file(assignment)
    return tasks.load_task_module(path) if path else None


def build_class(course: Course, assignment: str, out: Path, copies: int = 1,
                abusive: bool = True) -> dict[str, str]:
    """Release the assignment and write a synthetic class to ``out`` (nbgrader layout)."""
    report = release.release_assignment(course, assignment)
    if not report.ok:
        raise RuntimeError("release leaked: " + "; ".join(report.leaks))
    mod = task_module(course, assignment)
    return synthetic.make_class(course.source_dir(assignment), course.release_dir(assignment),
                                out, assignment, examples=getattr(mod, "EXAMPLES", None),
                                wrong=getattr(mod, "WRONG", None), copies=copies,
                                abusive=abusive)
