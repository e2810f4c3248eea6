"""``backprop-course``: the instructor's command line.

Subcommands::

    backprop-course release [ASSIGNMENT]            generate release/ via nbgrader, check for leaks
    backprop-course grade ASSIGNMENT SUBMISSIONS    grade a folder (nbgrader layout, zips, .ipynb,
                                                    Canvas bulk download)
    backprop-course feedback ASSIGNMENT             feedback pages from the gradebook (after
                                                    manual grading in formgrader)
    backprop-course export ASSIGNMENT               class CSV; --format canvas|moodle for the LMS
    backprop-course report ASSIGNMENT               class report (HTML page + terminal summary)
    backprop-course demo [--assignment A | --all]    release, synthetic class, grade, show table

Common options, before or after the subcommand: ``--course-root`` (default: the current folder),
``--db-url`` (any SQLAlchemy URL; default nbgrader's ``sqlite:///<root>/gradebook.db``).
``grade``/``demo``: ``--workers N`` (default: the cores), ``--scheduler tcp://host:8786`` (Dask),
``--force`` (regrade everything), ``--cell-timeout``, ``--submission-timeout``, ``--memory-mb``,
``--roster FILE`` (Canvas ids), ``--wide`` (every task), ``--all-rows``.
Exit status (autograder.course.EXIT_CODES): 0 success; 1 a release leaks or the gradebook check
failed; 2 usage or course error; 3 gradebook unavailable (down, corrupt, missing, empty); 4 an
output could not be written (disk full); 130 interrupted. Every error is one line with the fix.
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
from autograder.course import Course, CourseError, mask_text


def _common(p: argparse.ArgumentParser, top: bool) -> None:
    """``--course-root`` and ``--db-url``, accepted before and after the subcommand."""
    default = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    p.add_argument("--course-root", type=Path, default=default(Path.cwd()), help="course folder")
    p.add_argument("--db-url", default=default(None), help="gradebook SQLAlchemy URL")


def _grading(g: argparse.ArgumentParser) -> None:
    """Options of the commands that grade (grade, demo)."""
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
    g.add_argument("--roster", type=Path, default=None,
                   help="CSV mapping LMS ids to student ids (Canvas bulk-download names)")
    _table_options(g)


def _table_options(g: argparse.ArgumentParser) -> None:
    g.add_argument("--wide", action="store_true", help="every task and the full diagnosis")
    g.add_argument("--all-rows", action="store_true",
                   help="list every student (default above 40: only those needing attention)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backprop-course", description=__doc__.split("\n")[0])
    _common(p, top=True)
    sub = p.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate and check release/<assignment>")
    rel.add_argument("assignment", nargs="?", help="default: every assignment in source/")
    _common(rel, top=False)
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
        _common(g, top=False)
        _grading(g)
    fb = sub.add_parser("feedback", help="feedback pages from the gradebook")
    fb.add_argument("assignment")
    fb.add_argument("--student", action="append", default=None, help="only this student")
    _common(fb, top=False)
    ex = sub.add_parser("export", help="class CSV, or Canvas/Moodle CSV")
    ex.add_argument("assignment")
    ex.add_argument("--format", choices=("class", "canvas", "moodle"), default="class")
    ex.add_argument("--roster", type=Path, default=None, help="CSV: student_id, canvas_id, ...")
    ex.add_argument("--column", default=None, help="LMS column (e.g. 'PS1 (123456)')")
    ex.add_argument("--out", type=Path, default=None, help="default: exports/<a>_<format>.csv")
    _common(ex, top=False)
    rep = sub.add_parser("report", help="class report: HTML page and terminal summary")
    rep.add_argument("assignment")
    rep.add_argument("--out", type=Path, default=None, help="default: exports/<a>_report.html")
    _common(rep, top=False)
    _table_options(rep)
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


def cmd_release(course: Course, assignment: str | None, console: Console) -> int:
    """Release one or all assignments; 1 if anything leaked."""
    from autograder import coursekit_links
    from autograder.release import release_assignment

    names = [assignment] if assignment else course.assignments()
    if not names:
        raise CourseError(f"no assignments in {course.root / 'source'}")
    if (course.root / "coursekit").is_dir():  # this repository's layout: links to coursekit/
        for change in coursekit_links.sync(course.root, names):
            console.print(change, markup=False, highlight=False)
        for problem in coursekit_links.problems(course.root):
            console.print(f"[yellow]warning[/]: {problem}")
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
    from autograder import dbcheck, lms
    from autograder.pipeline import GradeOptions, grade_assignment
    from autograder.report import print_report, progress_bar

    dbcheck.check_gradebook(course)
    ids = lms.canvas_ids(lms.load_roster(args.roster)) if args.roster else None
    options = GradeOptions(workers=args.workers, scheduler=args.scheduler, force=args.force,
                           limits=_limits(args, course), canvas_ids=ids)
    with progress_bar(console, f"grading {assignment}") as update:
        report = grade_assignment(course, assignment, folder, options, progress=update)
    print_report(console, report, wide=args.wide, all_rows=args.all_rows)
    return 1 if report.problems else 0


def cmd_feedback(course: Course, args: argparse.Namespace, console: Console) -> int:
    """Render feedback from the gradebook; 1 if a page was refused."""
    from autograder import books, dbcheck, publish

    dbcheck.check_gradebook(course)
    books.require_assignment(course, args.assignment)
    report = publish.publish_feedback(course, args.assignment, args.student)
    console.print(f"feedback: {len(report.written)} pages in "
                  f"{course.root / 'feedback'}/<student>/{args.assignment}/", markup=False)
    for line in report.refused:
        console.print(f"refused {line}", markup=False)
    return 1 if report.refused else 0


def cmd_export(course: Course, args: argparse.Namespace, console: Console) -> int:
    """Write the class CSV or an LMS CSV from the gradebook."""
    from autograder import books, dbcheck, export, lms

    dbcheck.check_gradebook(course)
    books.require_assignment(course, args.assignment)
    books.apply_late_penalties(course, args.assignment)
    if args.format == "class":
        path = export.write_class_csv(course, args.assignment, args.out)
    else:
        path = lms.write_lms_csv(course, args.assignment, args.format, args.roster,
                                 args.column, args.out)
    console.print(f"{args.format} CSV: {path}", markup=False)
    return 0


def cmd_report(course: Course, args: argparse.Namespace, console: Console) -> int:
    """Write the HTML class report and print the terminal summary."""
    from autograder import books, classreport, dbcheck
    from autograder.report import print_summary

    dbcheck.check_gradebook(course)
    books.require_assignment(course, args.assignment)
    books.apply_late_penalties(course, args.assignment)
    path, rows, stats = classreport.write_report(course, args.assignment, args.out)
    print_summary(console, rows, f"Class report: {args.assignment} (from the gradebook)",
                  all_rows=args.all_rows)
    for line in classreport.task_lines(stats):
        console.print(line, markup=False, highlight=False)
    console.print(f"HTML report: {path}", markup=False)
    return 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    """Release, build a synthetic class, grade it, print the table."""
    from autograder import demo

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
    from sqlalchemy.exc import SQLAlchemyError

    from autograder import atomic, dbcheck

    args = _parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    console = Console(soft_wrap=True)
    if not console.is_terminal:  # a log or a pipe: no colours, room for the wide table
        console = Console(soft_wrap=True, width=200, no_color=True)
    db_url = args.db_url

    def error(text: str, code: int) -> int:
        console.print(f"error: {mask_text(text, db_url)}", markup=False, highlight=False)
        return code

    try:
        return _dispatch(args, console)
    except CourseError as exc:
        return error(str(exc), exc.exit_code)
    except FileNotFoundError as exc:
        return error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 2)
    except SQLAlchemyError as exc:
        url = db_url or _db_url_of(args)
        return error(str(dbcheck.db_error(exc, url)), 3)
    except OSError as exc:
        out = atomic.output_error(exc, Path(exc.filename or "an output file"))
        return error(str(out), out.exit_code)
    except KeyboardInterrupt:
        if getattr(args, "force", False):
            console.print("interrupted: the students regraded before the interrupt are saved; "
                          "the others keep their previous grades (run again with --force to "
                          "regrade everyone)", markup=False)
        else:
            console.print("interrupted: finished students are saved; run the same command "
                          "again to resume", markup=False)
        return 130


def _db_url_of(args: argparse.Namespace) -> str:
    try:
        return Course.load(args.course_root).db_url
    except CourseError:
        return ""


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    if args.command == "demo":
        return cmd_demo(args, console)
    course = Course.load(args.course_root, args.db_url)
    if args.command == "release":
        return cmd_release(course, args.assignment, console)
    if args.command == "feedback":
        return cmd_feedback(course, args, console)
    if args.command == "export":
        return cmd_export(course, args, console)
    if args.command == "report":
        return cmd_report(course, args, console)
    return cmd_grade(course, args.assignment, args.submissions, args, console)


if __name__ == "__main__":
    sys.exit(main())
