"""Benchmark: 50 synthetic submissions graded by this pipeline (1 and 2 workers) and by plain
``nbgrader autograde``, in the same run on the same submissions, with a per-stage breakdown.

Usage: ``.venv/bin/python bench/bench_grading.py [--n 50] [--workers 1 2] [--skip-nbgrader]
[--assignment ps4] [--class-size 300]`` (the project is installed editable in ``.venv``,
so no path set-up is needed). Without ``--assignment`` the autograder's small fixture
course is used; with it, a copy of the real course (its committed ``source/``). Either is
copied to a temporary folder; the class mixes correct submissions, each catalogued mistake and
blank ones (no abusive ones: those measure time limits, not speed). Each pipeline configuration
is graded in a fresh interpreter, as each ``bpc grade`` is, so its worker start is counted.
Prints seconds in total and per submission for each configuration, then the pipeline's stages
(seconds per submission, summed over the workers: with 2 workers they overlap in wall time).
The pipeline's time includes the trusted re-execution and the feedback HTML, so nbgrader is also
timed with ``generate_feedback``. ``--class-size N`` also grades a class of N submissions (the
same kinds, cycled) with the largest ``--workers`` value and reports its total wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import demo, pipeline, stages
from autograder.course import Course, ensure_tools_on_path

ROOT = Path(__file__).resolve().parents[1]

ASSIGNMENT = "demo1"
"""The fixture's assignment; ``--assignment`` switches to a problem set of the real course."""


def make_class(course: Course, folder: Path, n: int) -> list[str]:
    """``n`` submissions cycling through the non-abusive kinds."""
    tmp = folder.parent / "kinds"
    kinds = demo.build_class(course, ASSIGNMENT, tmp, abusive=False)
    names = sorted(kinds)
    students = []
    for i in range(n):
        kind = names[i % len(names)]
        student = f"s{i:03d}_{kind}"
        shutil.copytree(tmp / kind, folder / student)
        students.append(student)
    shutil.rmtree(tmp)
    return students


def fresh_course(base: Path, name: str) -> Course:
    if ASSIGNMENT == "demo1":
        root = base / name
        demo.copy_fixture(root)
        course = Course.load(root)
    else:
        course = demo.prepare_course(ROOT, base / name)
    demo.build_class(course, ASSIGNMENT, base / f"{name}-scratch", abusive=False)
    shutil.rmtree(base / f"{name}-scratch")
    return course


def bench_pipeline(base: Path, folder: Path, workers: int, name: str = ""
                   ) -> tuple[float, dict[str, float], float]:
    """Wall seconds of grading ``folder`` with ``workers``, the summed stage seconds and the
    machine's CPU seconds, measured in a fresh interpreter (as each ``bpc grade`` runs): a
    configuration measured after another must not find the other's fork server warm."""
    args = [sys.executable, __file__, "--one-run", str(base), str(folder), str(workers),
            name or f"course-w{workers}", ASSIGNMENT]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"grading with {workers} worker(s) failed:\n{proc.stderr[-3000:]}")
    seconds, clock, cpu = json.loads(proc.stdout.strip().splitlines()[-1])
    return seconds, clock, cpu


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent so far (every process: user, nice, system,
    interrupts), from ``/proc/stat``; 0.0 where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def one_run(base: Path, folder: Path, workers: int, name: str
            ) -> tuple[float, dict[str, float], float]:
    """:func:`bench_pipeline`'s measurement, in this process; also the machine's CPU seconds
    meanwhile (every process of the pipeline, and anything else that ran)."""
    course = fresh_course(base, name)
    cpu = machine_cpu_seconds()
    start = time.perf_counter()
    report = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=workers, force=True))
    seconds = time.perf_counter() - start
    cpu = machine_cpu_seconds() - cpu
    if report.problems or len(report.graded) != len(list(folder.iterdir())):
        raise SystemExit(f"grading went wrong: {len(report.graded)} graded, "
                         f"problems {report.problems[:3]}")
    return seconds, report.stages, cpu


def stage_table(columns: list[tuple[str, dict[str, float], int, float, float]]) -> list[str]:
    """Rows of seconds per submission per stage, one column per pipeline configuration
    ``(name, stage seconds, submissions, wall seconds, machine CPU seconds)``, then the
    machine's CPU seconds per submission and how many cores were busy on average."""
    names = [n for n in stages.ORDER if any(n in c[1] for c in columns)]
    names += sorted({n for c in columns for n in c[1]} - set(names))
    head = f"{'stage (s/submission, summed over workers)':44s}" + "".join(
        f"{c[0]:>14s}" for c in columns)
    lines = [head]
    for n in names:
        lines.append(f"{n:44s}" + "".join(f"{c[1].get(n, 0.0) / c[2]:14.3f}" for c in columns))
    lines.append(f"{'sum of stages':44s}" + "".join(
        f"{sum(c[1].values()) / c[2]:14.3f}" for c in columns))
    lines.append(f"{'machine CPU s/submission (every process)':44s}" + "".join(
        f"{c[4] / c[2]:14.3f}" for c in columns))
    lines.append(f"{'cores busy on average':44s}" + "".join(
        f"{c[4] / c[3]:14.2f}" for c in columns))
    return lines


def bench_nbgrader(base: Path, folder: Path) -> tuple[float, float, int]:
    """Seconds for ``nbgrader autograde`` and then ``generate_feedback``; students graded."""
    course = fresh_course(base, "course-nbgrader")
    submitted = course.root / "submitted"
    shutil.copytree(folder, submitted)
    ensure_tools_on_path()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "autograde",
                           ASSIGNMENT, "--create", "--force"], cwd=course.root, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        print(proc.stderr[-2000:])
    graded = len(list((course.root / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "generate_feedback",
                    ASSIGNMENT, "--force"], cwd=course.root, env=env, capture_output=True)
    return seconds, time.perf_counter() - start, graded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--assignment", default=None, help="a problem set of the real course")
    parser.add_argument("--class-size", type=int, default=0,
                        help="also grade a class of this many with the most workers (wall time)")
    parser.add_argument("--one-run", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        global ASSIGNMENT
        ASSIGNMENT = args.one_run[4]
        base, folder, workers, name = args.one_run[:4]
        print(json.dumps(one_run(Path(base), Path(folder), int(workers), name)))
        return
    if args.assignment:
        ASSIGNMENT = args.assignment
    base = Path(tempfile.mkdtemp(prefix="bpc-bench-"))
    try:
        proto = fresh_course(base, "proto")
        folder = base / "submitted"
        folder.mkdir()
        make_class(proto, folder, args.n)
        results = []
        columns = []
        for w in args.workers:
            seconds, clock, cpu = bench_pipeline(base, folder, w)
            results.append((f"pipeline, {w} worker(s)", seconds))
            columns.append((f"{w} worker(s)", clock, args.n, seconds, cpu))
            print(f"{results[-1][0]}: {results[-1][1]:.1f} s", flush=True)
        if not args.skip_nbgrader:
            auto, fb, graded = bench_nbgrader(base, folder)
            print(f"plain nbgrader autograde graded {graded}/{args.n} notebooks", flush=True)
            results.append(("plain nbgrader autograde", auto))
            results.append(("plain nbgrader autograde+feedback", auto + fb))
            print(f"{results[-1][0]}: {auto:.1f} + {fb:.1f} s", flush=True)
        print(f"\n{ASSIGNMENT}: {args.n} submissions, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f} at the end")
        print(f"{'configuration':32s} {'total s':>9s} {'s/submission':>13s}")
        for name, sec in results:
            print(f"{name:32s} {sec:9.1f} {sec / args.n:13.2f}")
        if len(results) >= 2 and args.workers[:2] == [1, 2]:
            print(f"speed-up of 2 workers over 1: {results[0][1] / results[1][1]:.2f}x")
        print()
        print("\n".join(stage_table(columns)))
        if args.class_size:
            big = base / "class"
            big.mkdir()
            make_class(proto, big, args.class_size)
            w = max(args.workers)
            seconds, clock, cpu = bench_pipeline(base, big, w, "course-class")
            print(f"\nclass of {args.class_size} submissions, {w} worker(s): {seconds:.1f} s "
                  f"wall ({seconds / args.class_size:.2f} s/submission), load average "
                  f"{os.getloadavg()[0]:.2f}")
            column = (f"{w} worker(s)", clock, args.class_size, seconds, cpu)
            print("\n".join(stage_table([column])))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
