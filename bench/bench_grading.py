"""Benchmark: 50 synthetic submissions graded by this pipeline (1 and 2 workers) and by plain
``nbgrader autograde``, in the same run on the same submissions, with a per-stage breakdown.

Usage: ``.venv/bin/python bench/bench_grading.py [--n 50] [--workers 1 2] [--skip-nbgrader]
[--assignment ps4] [--class-size 300] [--repeat 3]`` (the project is installed editable in
``.venv``, so no path set-up is needed). Without ``--assignment`` the autograder's small fixture
course is used; with it, a copy of the real course (its committed ``source/``). Either is
copied to a temporary folder; the class mixes correct submissions, each catalogued mistake and
blank ones (no abusive ones: those measure time limits, not speed). Each pipeline configuration
is graded in a fresh interpreter, as each ``bpc grade`` is, so its worker start is counted.
Prints seconds in total and per submission for each configuration, then the pipeline's stages
(seconds per submission, summed over the workers: with 2 workers they overlap in wall time).
The pipeline's time includes the trusted re-execution and the feedback HTML, so nbgrader is also
timed with ``generate_feedback``. ``--class-size N`` also grades a class of N submissions (the
same kinds, cycled) with the largest ``--workers`` value and reports its total wall time.
``--repeat K`` grades with each ``--workers`` value K times, interleaved, and reports every run
and the medians: this machine is a virtual one whose host's load varies from minute to minute
(the tables show the seconds the host took from its CPUs, "stolen").
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


Run = tuple[float, dict[str, float], tuple[float, float]]
"""Wall seconds, summed stage seconds, (machine CPU seconds, seconds stolen by the host)."""


def bench_pipeline(base: Path, folder: Path, workers: int, name: str = "") -> Run:
    """Wall seconds of grading ``folder`` with ``workers``, the summed stage seconds and the
    machine's CPU and stolen seconds, measured in a fresh interpreter (as each ``bpc grade``
    runs): a configuration measured after another must not find the other's fork server warm."""
    args = [sys.executable, __file__, "--one-run", str(base), str(folder), str(workers),
            name or f"course-w{workers}", ASSIGNMENT]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"grading with {workers} worker(s) failed:\n{proc.stderr[-3000:]}")
    seconds, clock, (cpu, steal) = json.loads(proc.stdout.strip().splitlines()[-1])
    return seconds, clock, (cpu, steal)


def machine_seconds() -> tuple[float, float]:
    """CPU seconds the whole machine has spent so far (every process: user, nice, system,
    interrupts) and the seconds its virtual CPUs waited for the host (steal), from
    ``/proc/stat``; zeros where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def one_run(base: Path, folder: Path, workers: int, name: str) -> Run:
    """:func:`bench_pipeline`'s measurement, in this process; also the machine's CPU seconds
    meanwhile (every process of the pipeline, and anything else that ran) and the time the
    host did not give the machine's CPUs (steal: another tenant's load, not ours)."""
    course = fresh_course(base, name)
    cpu0, steal0 = machine_seconds()
    start = time.perf_counter()
    report = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=workers, force=True))
    seconds = time.perf_counter() - start
    cpu1, steal1 = machine_seconds()
    if report.problems or len(report.graded) != len(list(folder.iterdir())):
        raise SystemExit(f"grading went wrong: {len(report.graded)} graded, "
                         f"problems {report.problems[:3]}")
    return seconds, report.stages, (cpu1 - cpu0, steal1 - steal0)


def stage_table(columns: list[tuple[str, int, Run]]) -> list[str]:
    """Rows of seconds per submission per stage, one column per pipeline configuration
    ``(name, submissions, run)``, then the machine's CPU seconds per submission, how many
    cores were busy on average and the seconds per submission the host stole."""
    columns = [(name, run[1], n, run[0], run[2][0], run[2][1]) for name, n, run in columns]
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
    lines.append(f"{'stolen by the host s/submission':44s}" + "".join(
        f"{c[5] / c[2]:14.3f}" for c in columns))
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
    parser.add_argument("--repeat", type=int, default=1,
                        help="grade with each --workers value this many times, interleaved, "
                             "and report the medians (the host's load varies)")
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
        runs: dict[int, list[Run]] = {w: [] for w in args.workers}
        for rep in range(args.repeat):  # interleaved, so that a slow spell hits each alike
            for w in args.workers:
                runs[w].append(bench_pipeline(base, folder, w, f"course-w{w}-r{rep}"))
                print(f"run {rep + 1}, pipeline, {w} worker(s): {runs[w][-1][0]:.1f} s",
                      flush=True)
        median = {w: sorted(rs, key=lambda r: r[0])[len(rs) // 2] for w, rs in runs.items()}
        for w in args.workers:
            results.append((f"pipeline, {w} worker(s)", median[w][0]))
        columns = [(f"{w} worker(s)", args.n, median[w]) for w in args.workers]
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
        if args.workers[:2] == [1, 2]:
            pairs = [f"{a[0] / b[0]:.2f}x" for a, b in zip(runs[1], runs[2], strict=True)]
            print(f"speed-up of 2 workers over 1: {median[1][0] / median[2][0]:.2f}x (medians"
                  f"{'' if args.repeat == 1 else '; run by run ' + ', '.join(pairs)})")
        print()
        print("\n".join(stage_table(columns)))
        if args.class_size:
            big = base / "class"
            big.mkdir()
            make_class(proto, big, args.class_size)
            w = max(args.workers)
            run = bench_pipeline(base, big, w, "course-class")
            seconds = run[0]
            print(f"\nclass of {args.class_size} submissions, {w} worker(s): {seconds:.1f} s "
                  f"wall ({seconds / args.class_size:.2f} s/submission), load average "
                  f"{os.getloadavg()[0]:.2f}")
            print("\n".join(stage_table([(f"{w} worker(s)", args.class_size, run)])))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
