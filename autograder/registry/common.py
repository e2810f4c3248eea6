"""Pieces the task files share: the gradient comparison with diagnosis, the model solutions
(read from the source notebooks on first use, never at import) and mutated solutions.

Instructor-side only (it imports ``backprop_ref``), like every task file.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from autograder.tasks import Probe, TaskSpec, Trial, Verdict, compare_outputs
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
    """The candidate equals the mistake on every tensor the task compares that the mistake
    gives (a mistake may list all its consequences; a cell compares some of them), and the
    mistake differs from the right values on at least one of them."""
    common = {k: v for k, v in tensors.items() if k in want}
    if not common:
        return False
    if not any(rel_error(v, want[k]) > tol for k, v in common.items()):
        return False
    for k, v in common.items():
        try:
            arr = np.asarray(got.get(k), dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if arr.shape != v.shape or not rel_error(arr, v) <= PASS_TOL:
            return False
    return True


def mutate(source: str, edits: Sequence[tuple[str, str]]) -> str:
    """``source`` with each ``(old, new)`` replacement applied; an ``old`` that is missing, or
    an edit that changes nothing, is an error (a mutant must differ from its base)."""
    for old, new in edits:
        if old not in source:
            raise ValueError(f"mutant edit not found: {old!r}")
        if old == new:
            raise ValueError(f"mutant edit changes nothing: {old!r}")
        source = source.replace(old, new)
    return source


def model_source(assignment: str, name: str) -> str:
    """:func:`autograder.references.model_source`: the model solution of a function or answer
    cell, read from the source notebook. Imported on first use: that module pulls in nbgrader,
    seconds that importing a task file must not cost."""
    from autograder import references

    return references.model_source(assignment, name)


def mutant_cell(assignment: str, grade_id: str, edits: Sequence[tuple[str, str]]
                ) -> dict[str, str]:
    """``{grade_id: source}``: the answer cell's model solution with ``edits`` applied
    (:func:`mutate`), an ``EXAMPLES`` entry."""
    return {grade_id: mutate(model_source(assignment, grade_id), edits)}


def inject(**sources: str) -> dict[str, str]:
    """``Probe(inject=...)`` from reference sources: the probed function is judged with these
    versions of the functions it builds on, so a bug in an earlier task costs that task only."""
    return {name: textwrap.dedent(src) for name, src in sources.items()}


def lend(assignment: str, names: Sequence[str]) -> dict[str, str]:
    """``Probe(inject=...)`` with the model solutions of ``names`` (functions, or answer cells
    by grade id) from the assignment's source notebook (:func:`model_source`)."""
    return inject(**{name: model_source(assignment, name) for name in names})


V = TypeVar("V")


class Lazy(Mapping[str, V]):
    """A mapping built by ``build()`` on first use: a task file's ``EXAMPLES`` made from the
    notebook's model solutions, which importing the task file must not read."""

    def __init__(self, build: Callable[[], Mapping[str, V]]) -> None:
        self._build = build

    @functools.cached_property
    def _items(self) -> Mapping[str, V]:
        return self._build()

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def cache_guard(backward: str, cache_arg: int = 1) -> dict[str, str]:
    """``Probe(inject=...)`` that watches the cache a backward pass is given: the student's
    ``backward`` is wrapped so that writing into its argument number ``cache_arg`` (the cache
    the forward pass made, which the probed helper builds and the runner never sees) raises
    ``CacheModified`` with ``coursekit.check.unchanged``'s message (the one the notebook's test
    gives); :func:`autograder.tasks.side_effect_verdict` turns it into ``cache_modified`` for the
    task whose function consumed the cache."""
    return inject(**{backward: f'''
    _bpc_student_{backward} = {backward}


    class CacheModified(Exception):
        pass


    def {backward}(*args, **kwargs):
        import copy as _copy

        from coursekit import check as _check
        cache = args[{cache_arg}] if len(args) > {cache_arg} else None
        before = _copy.deepcopy(cache)
        out = _bpc_student_{backward}(*args, **kwargs)
        try:
            _check.unchanged("cache", cache, before, "{backward}")
        except AssertionError as exc:
            raise CacheModified(str(exc)) from None
        return out
    '''})


# ------------------------------------------------------- scalar graphs: mutants as oracles

GraphMutant = Callable[[Probe, str, int], Mapping[str, float] | None]
"""(probe, bug, variant) -> every partial the task compares, with that bug; None: no such
variant."""

GRAPH_TEXT = {
    "factor_2": "exactly twice the right value from dL/dy on, in every case: the loss is "
    "1/2 (y - t)^2, whose derivative (y - t) has no factor 2",
    "derivative_at_activation": "the derivative of the activation was evaluated at its output "
    "(the node's value after the activation) instead of at its input",
    "missing_path": "{key} is the sum over only some of its paths through the graph: a node "
    "that reaches L along several paths collects the gradient of every path",
    "missing_activation_derivative": "the gradient went through the ReLUs without their "
    "derivative (the mask of units that were active)",
    "sign_flip": "every partial from dL/dy on has the right size but the wrong sign, in every "
    "case: dL/dy of 1/2 (y - t)^2 is y - t, not t - y",
    "output_gradient": "dL/dy of binary cross-entropy misses its (1 - t) / (1 - y) branch, so "
    "every case with t = 0 is wrong from the output on",
}
"""Messages of the scalar-graph mistakes a mutant reproduced (key: the first wrong partial)."""


def _same(a: Any, b: float) -> bool:
    try:
        x = float(a)
    except (TypeError, ValueError):
        return False
    return abs(x - b) <= PASS_TOL * max(1.0, abs(x), abs(b))


def _reproduces(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, float],
                                      Mapping[str, float]]], tol: float) -> bool:
    """Every (got, want, mutant) agrees between got and mutant on want's keys, and the mutant
    differs from want somewhere (the mistake changes something the task compares)."""
    differs = False
    for got, want, mutant in pairs:
        for k, w in want.items():
            if k not in got or k not in mutant or not _same(got[k], float(mutant[k])):
                return False
            differs = differs or not rel_error(np.array(float(mutant[k])), np.array(w)) <= tol
    return differs


def _graph_verdict(base: Verdict, spec: TaskSpec, bug: str, first: str, label: str) -> Verdict:
    text = GRAPH_TEXT[bug].format(key=first)
    lead = f"{label}: " if label else ""
    return Verdict(0.0, spec.points, f"{lead}{first} is wrong: {text}", bug, base.parts,
                   base.error_measure)


def partials_compare(mutant_of: GraphMutant, bugs: Sequence[str], variants: int = 2
                     ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """A comparison for functions returning a dict of partials (q1_backward, q3_backward):
    the default comparison, and when it fails, a mistake of ``bugs`` is named only when its
    mutant reproduces the student's partials in EVERY case (right cases included)."""
    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        base = compare_outputs(trials, spec)
        if base.score >= spec.points or any(t.error is not None or not isinstance(t.got, Mapping)
                                            for t in trials):
            return base
        for bug in bugs:
            for variant in range(variants):
                mutants = [mutant_of(t.probe, bug, variant) for t in trials]
                if any(m is None for m in mutants):
                    continue
                pairs = [(t.got, t.want, m) for t, m in zip(trials, mutants, strict=True)]
                if _reproduces(pairs, spec.tol):
                    trial, first = next((t, k) for t in trials for k in t.want
                                        if not rel_error(np.array(float(t.got[k])),
                                                         np.array(float(t.want[k]))) <= spec.tol)
                    return _graph_verdict(base, spec, bug, f"dL/d{first}",
                                          trial.probe.label or "")
        return base

    return compare


def variables_compare(partials_of: Callable[[str, str, int], Mapping[str, float] | None],
                      key_of: Callable[[str], str], bugs: Sequence[str], variants: int = 2
                      ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """Like :func:`partials_compare` for tasks that read one variable per probe (kwargs
    ``student``): ``partials_of(student, bug, variant)`` gives every partial at the student's
    numbers with that bug, ``key_of(variable)`` the partial a variable holds."""
    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        base = compare_outputs(trials, spec)
        if base.score >= spec.points or any(t.error is not None for t in trials):
            return base
        for bug in bugs:
            for variant in range(variants):
                pairs = []
                for t in trials:
                    m = partials_of(t.probe.kwargs["student"], bug, variant)
                    if m is None:
                        break
                    key = key_of(t.probe.name)
                    pairs.append(({key: t.got}, {key: float(t.want)}, {key: m[key]}))
                else:
                    if _reproduces(pairs, spec.tol):
                        first = next(t.probe.name for t in trials
                                     if not _same(t.got, float(t.want)))
                        return _graph_verdict(base, spec, bug, first, "")
        return base

    return compare


def paths_compare(terms_of: Callable[[str], Sequence[float]], count: str, value: str
                  ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """Task "count the paths and sum them": the default comparison, and ``missing_path`` when
    the student's count is below the number of paths, or the value equals the sum of a strict
    subset of the path terms ``terms_of(student)`` (each term the product along one path)."""
    from itertools import combinations

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        base = compare_outputs(trials, spec)
        if base.score >= spec.points or any(t.error is not None for t in trials):
            return base
        got = {t.probe.name: t.got for t in trials}
        terms = list(terms_of(trials[0].probe.kwargs["student"]))
        parts = []
        try:
            n = float(got.get(count))
        except (TypeError, ValueError):
            n = None
        if n is not None and n == int(n) and 1 <= n < len(terms):
            parts.append(f"{count} = {int(n)}, but {len(terms)} paths lead from the weight "
                         "to the cost")
        subsets = [sum(c) for r in range(1, len(terms)) for c in combinations(terms, r)]
        if value in got and any(_same(got[value], s) for s in subsets) \
                and not _same(got[value], sum(terms)):
            parts.append(f"{value} equals the sum over only some of these paths")
        if not parts:
            return base
        return Verdict(0.0, spec.points, "; ".join(parts) + ": every path from the weight to "
                       "the cost contributes a term", "missing_path", base.parts,
                       base.error_measure)

    return compare


STEP_TEXT = {
    "w_not_transposed": "the gradient was passed down through W the wrong way round (W "
    "instead of its transpose; where W is not square the product does not even fit)",
    "missing_activation_derivative": "the gradient went back through W^T without the "
    "activation derivative fprime",
}


def mutant_compare(mutant_of: Callable[[Probe, str], Any], bugs: Sequence[str],
                   texts: Mapping[str, str] = STEP_TEXT
                   ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """The default comparison; when it fails, a mistake of ``bugs`` is named for a function
    when its mutant (``mutant_of(probe, bug)``, None where the mistake would raise) reproduces
    every case of that function: equal values where the student's call returned, and a raise
    exactly where the mutant cannot be computed (a W-not-transposed step on a non-square W)."""

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        base = compare_outputs(trials, spec)
        if base.score >= spec.points:
            return base
        for name in dict.fromkeys(t.probe.name for t in trials):
            mine = [t for t in trials if t.probe.name == name]
            for bug in bugs:
                differs, ok = False, True
                for t in mine:
                    m = mutant_of(t.probe, bug)
                    if m is None or t.error is not None:
                        ok = m is None and t.error is not None
                    else:
                        try:
                            got = np.asarray(t.got, dtype=np.float64)
                        except (TypeError, ValueError):
                            got = None
                        ok = (got is not None and got.shape == np.shape(m)
                              and rel_error(got, m) <= PASS_TOL)
                        differs = differs or not rel_error(np.asarray(m), t.want) <= spec.tol
                    if not ok:
                        break
                if ok and differs:
                    label = next(t.probe.label for t in mine if t.error is None)
                    return Verdict(0.0, spec.points, f"{label}: {name} is wrong: {texts[bug]}",
                                   bug, base.parts, base.error_measure)
        return base

    return compare


ValueMutants = Callable[[Probe], Sequence[tuple[str, str, Any]]]
"""probe -> (mistake id, message, the value the student would have with it) per variant."""


def value_mutant_compare(mutants_of: ValueMutants
                         ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """The default comparison; when it fails, a mistake is named only with mutant proof: the
    reference recomputed at the student's own inputs with that mistake switched on equals the
    student's value (``rel_error <= PASS_TOL``) in EVERY case, and differs from the right value in
    some. A ratio alone names nothing (one number N times too large may have other causes;
    the mutant's value at those inputs is what proves it). Variant ``i`` of every probe is the
    same mistake."""

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        base = compare_outputs(trials, spec)
        if base.score >= spec.points or any(t.error is not None for t in trials):
            return base
        lists = [list(mutants_of(t.probe)) for t in trials]
        if not lists or any(len(ms) != len(lists[0]) for ms in lists):
            return base
        for i, (bug, text, _) in enumerate(lists[0]):
            differs = False
            for t, ms in zip(trials, lists, strict=True):
                m = ms[i][2]
                try:
                    got = np.asarray(t.got, dtype=np.float64)
                except (TypeError, ValueError):
                    break
                if got.shape != np.shape(m) or not rel_error(got, np.asarray(m)) <= PASS_TOL:
                    break
                differs = differs or not rel_error(np.asarray(m, dtype=np.float64),
                                                   np.asarray(t.want, dtype=np.float64)) <= spec.tol
            else:
                if differs:
                    label = trials[0].probe.label
                    lead = f"{label}: " if label and len(trials) > 1 else ""
                    return Verdict(0.0, spec.points, lead + text, bug, base.parts,
                                   base.error_measure)
        return base

    return compare
