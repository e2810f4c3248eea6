"""Pieces the task files share: the gradient comparison with diagnosis, and mutated solutions.

Instructor-side only (it imports ``backprop_ref``), like every task file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.tasks import Probe, TaskSpec, Trial, Verdict
from backprop_ref.diagnose import diagnose
from coursekit.gradcheck import PASS_TOL, rel_error

Mistake = tuple[str, str, dict[str, np.ndarray]]
"""(mistake id, message, the tensors that mistake would give) for one probe."""


def gradient_compare(
    context_of: Callable[[Probe], Mapping[str, Any] | None] | None = None,
    mistakes_of: Callable[[Probe], list[Mistake]] | None = None,
) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """A comparison for gradient dicts: full points when every trial is within ``spec.tol``;
    otherwise the first failing trial is diagnosed.

    ``context_of(probe)`` gives ``backprop_ref.diagnose`` its context (``"X"``, ``"T"``,
    ``"params"``, ``"spec"``, ``"level"`` or ``"cache"``) for the mutant oracles; ``mistakes_of``
    lists task-specific mistakes (e.g. a shared weight given one branch only), which win when
    the student's tensors match one of them.
    """

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        parts: dict[str, bool] = {}
        first_error: tuple[str, str] | None = None
        for i, trial in enumerate(trials):
            label = trial.probe.label or f"case {i + 1}"
            if trial.error is not None:
                parts[label] = False
                first_error = first_error or (
                    f"{label}: {trial.probe.name} failed: {trial.error}", "error")
                continue
            if not isinstance(trial.got, Mapping):
                parts[label] = False
                first_error = first_error or (
                    f"{label}: {trial.probe.name} should return a dict, "
                    f"got {type(trial.got).__name__}", "not_numeric")
                continue
            context = context_of(trial.probe) if context_of else None
            found = diagnose(trial.got, trial.want, context=context, tol=spec.tol)
            parts[label] = found.ok
            if found.ok:
                continue
            # A case that computed (e.g. the square one) is diagnosed before any crash of
            # another case: W instead of W^T is named, not "shapes do not match".
            for mistake, text, tensors in (mistakes_of(trial.probe) if mistakes_of else []):
                if matches(trial.got, trial.want, tensors, spec.tol):
                    return Verdict(0.0, spec.points, f"{label}: {text}", mistake, parts)
            return Verdict(0.0, spec.points, f"{label}: {found.message}", found.mistake, parts)
        if first_error is not None:
            return Verdict(0.0, spec.points, first_error[0], first_error[1], parts)
        return Verdict(spec.points, spec.points, "correct on every case", "", parts)

    return compare


def matches(
    got: Mapping[str, Any],
    want: Mapping[str, np.ndarray],
    tensors: Mapping[str, np.ndarray],
    tol: float,
) -> bool:
    """The candidate equals the mistake on its tensors, which differ from the right ones."""
    if not all(k in want for k in tensors):
        return False
    if not any(rel_error(v, want[k]) > tol for k, v in tensors.items()):
        return False
    for k, v in tensors.items():
        try:
            arr = np.asarray(got.get(k), dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if arr.shape != v.shape or not rel_error(arr, v) <= PASS_TOL:
            return False
    return True


def mutate(source: str, edits: Sequence[tuple[str, str]]) -> str:
    """``source`` with each ``(old, new)`` replacement applied; a missing ``old`` is an error."""
    for old, new in edits:
        if old not in source:
            raise ValueError(f"mutant edit not found: {old!r}")
        source = source.replace(old, new)
    return source


def inject(**sources: str) -> dict[str, str]:
    """``Probe(inject=...)`` from reference sources: the probed function is judged with these
    versions of the functions it builds on, so a bug in an earlier task costs that task only."""
    return {name: textwrap.dedent(src) for name, src in sources.items()}
