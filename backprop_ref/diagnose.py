"""Instructor-side diagnosis: coursekit's rules plus mutant oracles and function-level checks.

``diagnose(candidate, reference, *, context=None, tol=PASS_TOL) -> Diagnosis`` runs
``coursekit.diagnose.triage_rules`` (hygiene, shapes, pass, exact ratios), then, when
``context`` describes the forward pass, compares the candidate with every applicable mutant of
``backprop_ref.mutants`` (a match within ``PASS_TOL`` names that bug: sigma'(a) for sigma'(z),
missing ReLU mask, W instead of W^T, ...), then ``coursekit.diagnose.localise``.

``context`` is a dict with either ``"cache"`` (the cache of ``mlp_loss``) or ``"X"``, ``"T"``,
``"params"``, ``"spec"``; optionally ``"level"`` ("batched", the default, or "vector").

``diagnose_backward(backward_fn, make_cache, reference_fn=None, *, level="batched")`` catches
the mistakes a single comparison cannot see: a forward that overwrote cached Z, a backward that
writes into its cache, gradients that accumulate across calls, calls that disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from backprop_ref.mutants import BUGS, applicable, level_module, mutant_backward
from backprop_ref.spec import MLPSpec
from coursekit.diagnose import (
    MISTAKES,
    Diagnosis,
    layer_sort_key,
    localise,
    mistake_text,
    triage_rules,
)
from coursekit.gradcheck import PASS_TOL, rel_error

__all__ = ["MISTAKES", "Diagnosis", "diagnose", "diagnose_backward"]

ORACLE_BUGS = ("missing_activation_derivative", "derivative_at_activation", "w_not_transposed")
"""Mutants used as oracles (the other bugs are named by coursekit's rules)."""


def _context_cache(context: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    if not context:
        return None, "batched"
    level = context.get("level", "batched")
    cache = context.get("cache")
    if cache is None and all(k in context for k in ("X", "T", "params", "spec")):
        _, cache = level_module(level).mlp_loss(
            context["X"], context["T"], context["params"], context["spec"]
        )
    return cache, level


def _matches(cand: Mapping[str, np.ndarray], mutant: Mapping[str, np.ndarray]) -> bool:
    common = [k for k in cand if k in mutant]
    return bool(common) and all(
        mutant[k].shape == cand[k].shape and rel_error(cand[k], mutant[k]) <= PASS_TOL
        for k in common
    )


def _oracle(
    cand: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], cache: dict[str, Any],
    level: str, tol: float,
) -> Diagnosis | None:
    spec: MLPSpec = cache["spec"]
    for bug in BUGS:
        if not applicable(bug, spec, level) or bug not in ORACLE_BUGS:
            continue
        variants = [False] + ([True] if bug == "derivative_at_activation"
                              and spec.output in ("sigmoid", "tanh") else [])
        if not any(_matches(cand, mutant_backward(cache, bug, level, output_too=v))
                   for v in variants):
            continue
        errors = {k: rel_error(cand[k], ref[k]) for k in ref}
        wrong = [k for k in sorted(ref, key=layer_sort_key) if not errors[k] <= tol]
        if not wrong:
            continue
        m = _hidden_layer(wrong[0], spec)
        if wrong[0] in (f"z{spec.depth}", f"W{spec.depth}", f"b{spec.depth}"):
            m = spec.depth  # output_too: the output layer's own derivative went wrong
        text = mistake_text(bug, wrong[0], m, spec.activation(m))
        return Diagnosis(False, bug, wrong[0], text, errors)
    return None


def _hidden_layer(key: str, spec: MLPSpec) -> int:
    """The hidden layer whose backward step first went wrong, from the first wrong key."""
    digits = key[len(key.rstrip("0123456789")):]
    m = int(digits) if digits else spec.depth - 1
    return min(max(m, 1), spec.depth - 1)


def diagnose(
    candidate: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    tol: float = PASS_TOL,
    loss: str | None = None,
    order: Sequence[str] | None = None,
) -> Diagnosis:
    """Name the most likely mistake in ``candidate`` (dict of gradients, shapes as in
    docs/conventions.md) against ``reference`` computed on the same inputs. See the module
    docstring for ``context``; without it this is ``coursekit.diagnose.diagnose``. ``loss`` and
    ``order`` as there (the context's spec gives the loss when it is not passed)."""
    cache, level = _context_cache(context)
    n = None
    if cache is not None:
        n = int(cache["a0"].shape[0]) if level == "batched" else 1
        loss = loss or cache["spec"].loss
    found, cand, ref = triage_rules(candidate, reference, n=n, tol=tol, loss=loss, order=order)
    if found is not None:
        return found
    if cache is not None:
        hit = _oracle(cand, ref, cache, level, tol)
        if hit is not None:
            return hit
    return localise(cand, ref, tol=tol, order=order)


def _arrays(obj: Any, path: str, out: dict[str, np.ndarray], seen: set[int]) -> None:
    """Collect every ndarray reachable from a cache, named by its first path."""
    if isinstance(obj, np.ndarray):
        if id(obj) not in seen:
            seen.add(id(obj))
            out[path] = obj
    elif isinstance(obj, Mapping):
        for key in sorted(obj, key=lambda k: (str(k) in ("layers", "loss"), str(k))):
            _arrays(obj[key], f"{path}.{key}" if path else str(key), out, seen)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _arrays(item, f"{path}[{i}]", out, seen)


def _overwritten_z(cache: Mapping[str, Any], level: str) -> str | None:
    """The first cached z{m} that differs from the affine map of the cached a{m-1}."""
    spec, params = cache.get("spec"), cache.get("params")
    if spec is None or params is None:
        return None
    mod = level_module(level)
    for m in range(1, spec.depth + 1):
        key, prev = f"z{m}", f"a{m - 1}"
        if key in cache and prev in cache:
            z, _ = mod.affine_forward(cache[prev], params[f"W{m}"], params[f"b{m}"])
            if z.shape != np.shape(cache[key]) or rel_error(z, cache[key]) > PASS_TOL:
                return key
    return None


def diagnose_backward(
    backward_fn: Callable[[dict[str, Any]], Mapping[str, Any]],
    make_cache: Callable[[], dict[str, Any]],
    reference_fn: Callable[[dict[str, Any]], Mapping[str, np.ndarray]] | None = None,
    *,
    level: str = "batched",
    tol: float = PASS_TOL,
) -> Diagnosis:
    """Call a candidate backward several times on fresh caches and diagnose it.

    ``make_cache()`` returns a fresh forward cache (e.g. from the candidate's or the reference's
    ``mlp_loss``); ``backward_fn(cache)`` returns gradients; ``reference_fn`` defaults to the
    reference ``mlp_backward`` of ``level``. Checks, in order: the cache's z{m} against the
    cached inputs (forward overwrote Z), the cache before/after a call (in-place writes), a
    second call (accumulation: exactly 2x), a call on read-only arrays, then ``diagnose``.
    """
    mod = level_module(level)
    reference_fn = mod.mlp_backward if reference_fn is None else reference_fn
    cache = make_cache()
    bad_z = _overwritten_z(cache, level)
    if bad_z is not None:
        m = bad_z[1:]
        return Diagnosis(False, "forward_overwrote_cache", bad_z,
                         f"The cached Z{m} is not the pre-activation computed from A{int(m) - 1}: "
                         f"the forward pass overwrote Z{m} when computing A{m}. Keep Z{m} and "
                         f"A{m} as separate arrays.")
    before: dict[str, np.ndarray] = {}
    _arrays(cache, "", before, set())
    snapshot = {k: v.copy() for k, v in before.items()}
    first = dict(backward_fn(cache))
    for path, arr in before.items():
        if arr.shape != snapshot[path].shape or not np.array_equal(arr, snapshot[path]):
            return Diagnosis(False, "cache_modified", path,
                             f"The backward pass changed the cached {path} in place: a backward "
                             "pass must leave the forward values it reads unchanged (work on "
                             "new arrays).")
    second = dict(backward_fn(make_cache()))
    keys = [k for k in first if k in second and np.shape(first[k]) == np.shape(second[k])]
    f64 = {k: np.asarray(first[k], dtype=np.float64) for k in keys}
    s64 = {k: np.asarray(second[k], dtype=np.float64) for k in keys}
    if keys and any(not np.array_equal(f64[k], s64[k]) for k in keys):
        if all(rel_error(s64[k], 2.0 * f64[k]) <= PASS_TOL for k in keys):
            return Diagnosis(False, "accumulates", None,
                             "A second call on the same inputs returns twice the gradients: the "
                             "gradients are added to values kept from the previous call instead "
                             "of being computed afresh.")
        key = next(k for k in keys if not np.array_equal(f64[k], s64[k]))
        return Diagnosis(False, "not_repeatable", key,
                         f"Two calls on the same inputs give different {key}: the backward pass "
                         "depends on something left over from an earlier call.")
    frozen = make_cache()
    arrays: dict[str, np.ndarray] = {}
    _arrays(frozen, "", arrays, set())
    for arr in arrays.values():
        arr.flags.writeable = False
    try:
        backward_fn(frozen)
    except ValueError as exc:
        if "read-only" in str(exc):
            return Diagnosis(False, "cache_modified", None,
                             "The backward pass tries to write into the cached forward values "
                             "(they were passed read-only): compute new arrays instead.")
        raise
    reference = reference_fn(make_cache())
    keys = [k for k in reference if k in first] or list(reference)
    return diagnose(first, {k: reference[k] for k in keys},
                    context={"cache": make_cache(), "level": level}, tol=tol)
