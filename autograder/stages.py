"""Where a submission's grading time goes: a cheap per-stage clock carried in the results.

The worker, the kernel executor, the trusted runner and the coordinator add the wall seconds of
their stages to a plain ``{stage name: seconds}`` dict that travels with the result (nothing is
printed); ``bench/bench_grading.py`` sums them over a class into its per-stage table.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

SANDBOX = "sandbox set-up"
KERNEL_START = "kernel start + imports"
EXECUTION = "notebook execution"
KERNEL_END = "kernel end + clean-up"
PARSE = "parse + restore notebook"
TRUSTED_PREP = "trusted: probes + references"
TRUSTED_RUN = "trusted: runner start + calls"
JUDGING = "judging + scoring"
RENDERING = "feedback rendering (worker)"
FEEDBACK = "feedback pages (coordinator)"
GRADEBOOK = "gradebook write"
OUTPUTS = "autograded + markers"
ORDER = (PARSE, SANDBOX, KERNEL_START, EXECUTION, KERNEL_END, TRUSTED_PREP, TRUSTED_RUN,
         JUDGING, RENDERING, FEEDBACK, GRADEBOOK, OUTPUTS)
"""The table's row order (worker stages, then the coordinator's)."""


def add(stages: dict[str, float], name: str, seconds: float) -> None:
    """Add ``seconds`` to the stage ``name``."""
    stages[name] = stages.get(name, 0.0) + seconds


@contextmanager
def timed(stages: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to the stage ``name``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        add(stages, name, time.perf_counter() - start)


def merge(total: dict[str, float], part: dict[str, float] | None) -> None:
    """Add every stage of ``part`` to ``total``."""
    for name, seconds in (part or {}).items():
        if isinstance(seconds, (int, float)):
            add(total, str(name), float(seconds))
