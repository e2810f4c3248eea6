"""``backprop-course``: the instructor's command line.

Subcommands::

    backprop-course release [ASSIGNMENT]            generate release/ via nbgrader, check for leaks
    backprop-course grade ASSIGNMENT SUBMISSIONS    grade a folder (nbgrader layout, zips, .ipynb)
    backprop-course demo [--assignment A | --all]    release, synthetic class, grade, show table

Common options: ``--course-root`` (default: the current folder), ``--db-url`` (any SQLAlchemy
URL; default nbgrader's ``sqlite:///<root>/gradebook.db``). ``grade``/``demo``: ``--workers N``
(default: the cores), ``--scheduler tcp://host:8786`` (Dask), ``--force`` (regrade everything),
``--cell-timeout``, ``--submission-timeout``, ``--memory-mb``.
Exit status: 0 on success, 1 when a release leaks or the gradebook check fails, 2 on usage or
course errors.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from rich.console import Console

from autograder import sandbox
from autograder.course import Course, CourseError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backprop-course", description=__doc__.split("\n")[0])
    p.add_argument("--course-root", type=Path, default=Path.cwd(), help="course folder")
    p.add_argument("--db-url", default=None, help="gradebook SQLAlchemy URL")
    sub = p.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate and check release/<assignment>")
    rel.add_argument("assignment", nargs="?", help="default: every assignment in source/")
    for name in ("grade", "demo"):
        g = sub.add_parser(name, help=f"{name} submissions")
        if name == "grade":
            g.add_argument("assignment")
            g.add_argument("submissions", type=Path)
        else:
            g.add_argument("--fixture", action="store_true", help="use the fixture course")
            g.add_argument("--assignment", action="append", default=None,
                           help="assignment to grade (repeatable; default: the first one whose "
                                "task file has EXAMPLES of mistakes and styles)")
            g.add_argument("--all", action="store_true", help="grade every assignment")
            g.add_argument("--workdir", type=Path, default=None)
        g.add_argument("--workers", type=int, default=None)
        g.add_argument("--scheduler", default=None, help="Dask scheduler address")
        g.add_argument("--force", action="store_true", help="regrade finished students")
        g.add_argument("--cell-timeout", type=float, default=None,
                       help="seconds per cell (default: the course's Execute.timeout, else 30)")
        g.add_argument("--submission-timeout", type=float, default=180.0)
        g.add_argument("--memory-mb", type=int, default=3072)
        g.add_argument("--unsafe", action="store_true",
                       help="grade even where bubblewrap cannot isolate student code "
                            "(rlimits and Landlock only; see the threat model)")
    return p


def _limits(args: argparse.Namespace, course: Course) -> sandbox.Limits:
    cell = args.cell_timeout or course.cell_timeout()
    limits = sandbox.Limits(cell_timeout=cell,
                            submission_timeout=max(args.submission_timeout, 2 * cell),
                            memory_bytes=args.memory_mb * 1024**2,
                            runner_timeout=max(cell * 1.5, 10.0), unsafe=args.unsafe)
    try:
        sandbox.require_isolation(limits)
    except sandbox.SandboxUnavailableError as exc:
        raise CourseError(f"refusing to grade: {exc}") from None
    return limits


def build_sources(root: Path, console: Console) -> None:
    """Build ``source/`` from the jupytext sources in ``course/`` (one way), when there are any."""
    from autograder import build  # noqa: PLC0415

    if not ((root / "nbgrader_config.py").is_file() and (root / "course").is_dir()):
        return  # not a course kept as text sources: source/ is used as it is
    for name in build.assignments(root):
        build.build_source(root, name)
    console.print(f"built source/ from course/ ({', '.join(build.assignments(root))})")


def cmd_release(course: Course, assignment: str | None, console: Console) -> int:
    """Release one or all assignments; 1 if anything leaked."""
    from autograder.build import NOT_RELEASED  # noqa: PLC0415
    from autograder.release import release_assignment  # noqa: PLC0415

    names = [assignment] if assignment else [
        a for a in course.assignments() if a not in NOT_RELEASED
    ]
    if not names:
        raise CourseError(f"no assignments in {course.root / 'source'}")
    status = 0
    for name in names:
        report = release_assignment(course, name)
        if report.ok:
            console.print(f"[green]release/{name}[/]: {len(report.files)} files, no leaks")
        else:
            status = 1
            console.print(f"[bold red]release/{name} LEAKS[/]:")
            for leak in report.leaks:
                console.print(f"  {leak}")
    return status


def cmd_grade(course: Course, assignment: str, folder: Path, args: argparse.Namespace,
              console: Console) -> int:
    """Grade a folder and print the report; 1 if the consistency check failed."""
    from autograder.pipeline import GradeOptions, grade_assignment  # noqa: PLC0415
    from autograder.report import print_report, progress_bar  # noqa: PLC0415

    options = GradeOptions(workers=args.workers, scheduler=args.scheduler, force=args.force,
                           limits=_limits(args, course))
    with progress_bar(console, f"grading {assignment}") as update:
        report = grade_assignment(course, assignment, folder, options, progress=update)
    print_report(console, report)
    return 1 if report.problems else 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    """Release, build a synthetic class, grade it, print the table."""
    from autograder import demo  # noqa: PLC0415

    if not args.fixture:
        build_sources(args.course_root, console)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bpc-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    course = demo.prepare_course(args.course_root, workdir, fixture=args.fixture)
    if args.db_url:
        course = Course(course.root, course.course_id, args.db_url)
    console.print(f"course: {course.root}")
    status = 0
    gradable = demo.gradable_assignments(course)
    unknown = sorted(set(args.assignment or []) - set(gradable))
    if unknown:
        raise CourseError(f"cannot demo {unknown}: gradable assignments are {gradable}")
    chosen = gradable if args.all else (args.assignment or demo.default_assignments(course))
    for assignment in chosen:
        folder = workdir / "submitted"
        kinds = demo.build_class(course, assignment, folder)
        console.print(f"{assignment}: released, {len(kinds)} synthetic submissions in {folder}")
        status |= cmd_grade(course, assignment, folder, args, console)
    return status


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C: finished students stay saved, workers are stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    args = _parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    console = Console(soft_wrap=True)
    if not console.is_terminal:  # a log or a pipe: room for the whole table
        console = Console(soft_wrap=True, width=200)
    try:
        if args.command == "demo":
            return cmd_demo(args, console)
        if args.command == "release":
            build_sources(args.course_root, console)
        course = Course.load(args.course_root, args.db_url)
        if args.command == "release":
            return cmd_release(course, args.assignment, console)
        return cmd_grade(course, args.assignment, args.submissions, args, console)
    except (CourseError, FileNotFoundError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished students are saved; run the same "
                      "command again to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
