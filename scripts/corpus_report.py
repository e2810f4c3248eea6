"""Grade the hand-written student corpus (tests/integration/corpus_students/) and print issue 8's
numbers. Run it as a module from the repository root (it imports ``tests.integration``):

    .venv/bin/python -m scripts.corpus_report [ps1 ps2 ...] [--workers 2] [--keep DIR]

Builds a temporary course, grades each set in one batch through ``backprop-course grade`` and
prints per set: false passes, false fails, collateral, cascades, spills, named rate, misnamed,
and every submission graded differently from its expectation.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path

from tests.integration import corpus_grading as cg


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sets", nargs="*", default=list(cg.SETS))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--keep", type=Path, default=None, help="course folder to keep")
    p.add_argument("--reuse", type=Path, default=None,
                   help="a course folder graded before with --keep: judge it again, no grading")
    args = p.parse_args(argv)
    if args.reuse:
        root = args.reuse / "course"
    elif args.keep and (args.keep / "course").is_dir():
        root = args.keep / "course"   # grade again: the CLI skips unchanged, finished students
    else:
        base = args.keep or Path(tempfile.mkdtemp(prefix="bpc-corpus-"))
        root = cg.prepare_course(base / "course")
    total = cg.Summary()
    for ps in args.sets:
        subs = importlib.import_module(f"tests.integration.corpus_students.{ps}").SUBMISSIONS
        outcomes = (cg.read_outcomes(root, ps, subs) if args.reuse
                    else cg.grade_set(root, ps, subs, workers=args.workers))
        verdicts = [cg.judge(n, s, outcomes[n]) for n, s in subs.items()]
        summary = cg.summarise(verdicts)
        for v in verdicts:
            total.add(v)
        print("\n".join(summary.lines(ps)), flush=True)
    if len(args.sets) > 1:
        print("\n".join(total.lines("all sets")[:1]))
    if args.keep:
        print(f"course kept in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
