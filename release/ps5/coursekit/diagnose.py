"""Rule-based triage of a wrong gradient: name the most likely mistake, in words.

``diagnose(candidate, reference, *, n=None, tol=PASS_TOL) -> Diagnosis`` compares a candidate
gradient dict with a trusted one on the same inputs (the reference, or finite differences from
``coursekit.gradcheck``). Keys follow docs/conventions.md: ``"W{m}"`` (D_m, D_{m-1}), ``"b{m}"``
(D_m, 1) and, when present, the intermediates ``"z{m}"``, ``"a{m}"`` (N, D_m) or (D_m, 1).
``n`` is the batch size N (inferred from the intermediates when absent).

Triage, first match wins: hygiene (missing, non-numeric, integer, NaN/inf) -> shape rules
((N, N) broadcasting, transpose, (K,) vs (K, 1), bias not summed or summed over the wrong axis)
-> pass (every ``rel_error <= tol``) -> exact ratios (least-squares scale ``a = <s,r>/<r,r>``
with a tiny residual: N, 1/N, -1, -N, 2, 1/2) -> transposed square tensor -> localisation (which
layers are wrong) -> cosine, norm ratio and worst entry. The first four stages are
``triage_rules``; ``localise`` is the rest, so that other tools can insert checks in between.

Every message names the tensor and says what is wrong; none contains the code to write. This
module holds no analytic gradient. ``MISTAKES`` is the catalogue of mistake ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit.gradcheck import PASS_TOL, rel_error

MISTAKES: dict[str, str] = {
    "correct": "the gradient matches",
    "missing_tensor": "a gradient is missing",
    "not_numeric": "a gradient is not an array of real numbers",
    "int_dtype": "a gradient has an integer or boolean dtype",
    "non_finite": "a gradient holds NaN or inf",
    "broadcast_nn": "an (N, 1) array was combined with an (N,) array and broadcast to (N, N)",
    "transposed": "a weight gradient is transposed",
    "flat_shape": "right values, but a (K,) array where (K, 1) is expected (or the reverse)",
    "bias_not_summed": "the bias gradient keeps one entry per example instead of a batch sum",
    "bias_wrong_axis": "the bias gradient is summed over the units instead of the examples",
    "wrong_shape": "a gradient has an unexpected shape",
    "missing_1_over_n": "exactly N times too large: the 1/N of the mean loss is missing",
    "averaged_twice": "exactly 1/N of the right value: divided by N twice",
    "sign_flip": "the sign is flipped",
    "factor_2": "off by exactly a factor 2 (the derivative of the squared error)",
    "missing_activation_derivative": "the activation derivative (e.g. the ReLU mask) is missing",
    "derivative_at_activation": "sigma' was evaluated at the activation a instead of z",
    "w_not_transposed": "the gradient was passed down with W instead of its transpose",
    "activation_derivative": "dL/dA of a layer is right but dL/dZ is not",
    "propagation": "a layer is right but the gradient passed down to the layer below is not",
    "downstream": "the output layer is right but earlier layers are not",
    "output_gradient": "every layer is off, starting at the output",
    "wrong_values": "values differ for no recognised reason",
    "accumulates": "a second call returns a different (accumulated) gradient",
    "cache_modified": "the backward pass wrote into cached forward values",
    "forward_overwrote_cache": "the forward pass overwrote a cached pre-activation",
    "not_repeatable": "two calls on the same inputs give different gradients",
    # Networks beyond chains (ps4): named by the task comparisons of the twin and skip networks.
    "shared_one_branch": "a shared weight got the gradient of one branch only, not the sum",
    "shared_averaged": "a shared weight got the average of its branches instead of the sum",
    "product_rule_swapped": "each factor of an elementwise product got its own value as gradient",
    "skip_path_missing": "the gradient w.r.t. the input misses the skip connection's path",
    "main_path_missing": "the gradient w.r.t. the input misses the path through the first layer",
    "skip_through_relu": "the skip connection's gradient was passed through the ReLU mask",
    "grad_assigned": "a node used twice kept one use's gradient: assigned (=), not added (+=)",
    "visited_before_consumers": "a node was visited before all the nodes that use it",
    "grad_not_reset": "a second backward call added to the first one's gradients (no reset to 0)",
    "momentum_not_carried": "the momentum buffer (velocity) was not carried across steps",
}
"""Mistake id -> one-line description; every ``Diagnosis.mistake`` is one of these ids."""

RATIO_RTOL = 1e-5
"""Relative tolerance for recognising an exact ratio or a rearrangement of the right values."""


@dataclass(frozen=True)
class Diagnosis:
    """The verdict: ``ok``, a mistake id from ``MISTAKES``, the tensor concerned, a message.

    ``errors`` holds ``rel_error`` per tensor when shapes allowed computing it.
    """

    ok: bool
    mistake: str
    tensor: str | None
    message: str
    errors: dict[str, float] = field(default_factory=dict, compare=False)


_KEY = re.compile(r"^d?([WbZAza])(\d*)$")


def _split(name: str) -> tuple[str, int | None]:
    """("W" | "b" | "z" | "a" | name, layer or None) for "W2", "dW2", "dZ1", "db", ..."""
    match = _KEY.match(name)
    if match is None:
        return name, None
    kind = match.group(1)
    kind = kind.lower() if kind in "ZA" else kind
    return kind, int(match.group(2)) if match.group(2) else None


def layer_sort_key(name: str) -> tuple[float, int]:
    """Sort key putting the output layer first: a{m} sits between layer m+1 and layer m."""
    kind, m = _split(name)
    rank = {"a": 0, "z": 1, "W": 2, "b": 3}.get(kind, 4)
    if m is None:
        return (np.inf, rank)
    level = m + 0.5 if kind == "a" else float(m)
    return (-level, rank)


def grad_name(name: str) -> str:
    """'dW2', 'db1', 'dL/dZ2', 'dL/dA1' style names for messages (names starting with d kept)."""
    kind, m = _split(name)
    if name.startswith("d") and len(name) > 1:  # already a gradient's name: dW2, dx, dL/dz
        return name
    if kind in ("z", "a"):
        return f"dL/d{kind.upper()}{'' if m is None else m}"
    return f"d{name}"


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and rel_error(a, b) <= RATIO_RTOL


def _infer_n(ref: Mapping[str, np.ndarray]) -> int | None:
    for name, r in ref.items():
        if _split(name)[0] in ("z", "a") and r.ndim == 2:
            return int(r.shape[0])
    return None


def _hygiene(name: str, value: Any) -> Diagnosis | None:
    t = grad_name(name)
    if value is None:
        return Diagnosis(False, "not_numeric", name, f"{t} is None: nothing was returned for it.")
    arr = np.asarray(value) if not isinstance(value, str) else np.asarray(value, dtype=object)
    if arr.dtype.kind in "biu":
        return Diagnosis(False, "int_dtype", name,
                         f"{t} has dtype {arr.dtype}: gradients are real numbers, so the array "
                         "must be floating point (an integer array silently drops fractions).")
    if arr.dtype.kind != "f":
        return Diagnosis(False, "not_numeric", name,
                         f"{t} is not an array of real numbers (dtype {arr.dtype}).")
    if not np.all(np.isfinite(arr)):
        return Diagnosis(False, "non_finite", name,
                         f"{t} contains NaN or inf: gradients must be finite; look for an "
                         "overflowing exponential or a division by zero in the forward or the "
                         "loss.")
    return None


def _shape_rule(name: str, s: np.ndarray, r: np.ndarray, n: int | None) -> Diagnosis | None:
    """Shape mistakes of one tensor; None when the shapes agree."""
    if s.shape == r.shape:
        return None
    t, kind = grad_name(name), _split(name)[0]
    got, want = s.shape, r.shape
    if s.ndim == 2 and s.shape == r.shape[::-1]:
        extra = " and its values are the transpose of the right ones" if _close(s.T, r) else ""
        what = ("a row instead of a column" if kind == "b" and r.shape[1] == 1
                else "the transpose of its parameter's shape")
        return Diagnosis(False, "transposed", name,
                         f"{t} has shape {got}, {what} {want}{extra}. A gradient always has the "
                         "shape of the variable it belongs to.")
    if s.size == r.size and _close(s.reshape(want), r):
        return Diagnosis(False, "flat_shape", name,
                         f"{t} has the right values but shape {got} instead of {want}: keep it "
                         "two-dimensional, as the parameter is.")
    if kind == "b" and r.ndim == 2 and r.shape[1] == 1 and s.ndim >= 1:
        d_out = r.shape[0]
        if n is None and s.ndim == 2 and d_out in s.shape and s.size > d_out:
            n = s.size // d_out
        if n is None:
            n = s.size if s.size != d_out else None
        if s.ndim == 2 and n in s.shape and d_out in s.shape and s.size == n * d_out:
            return Diagnosis(False, "bias_not_summed", name,
                             f"{t} has shape {got}, one entry per example: the bias is shared "
                             f"by all {n} examples, so its gradient must be summed over the "
                             f"examples of the batch to give shape {want}.")
        if s.size == n and n != d_out:
            return Diagnosis(False, "bias_wrong_axis", name,
                             f"{t} has shape {got}, one number per example: it was summed over "
                             f"the units instead of over the {n} examples of the batch.")
    if n is not None and s.shape.count(n) > r.shape.count(n):
        return Diagnosis(False, "wrong_shape", name,
                         f"{t} has shape {got} instead of {want}: an axis of length N={n} "
                         "appeared where it should not (a missing sum over the examples?).")
    return Diagnosis(False, "wrong_shape", name, f"{t} has shape {got} instead of {want}.")


def _broadcast_rule(
    cand: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], n: int | None
) -> Diagnosis | None:
    if n is None or n < 2:
        return None
    for name in sorted(cand, key=layer_sort_key):
        s, r = cand[name], ref[name]
        if s.shape == r.shape or s.ndim != 2:
            continue
        nn = s.shape == (n, n) and r.shape in ((n, 1), (1, n))
        grown = (_split(name)[0] == "W" and r.shape[0] == 1 and s.shape == (n, r.shape[1]))
        if nn or grown:
            return Diagnosis(False, "broadcast_nn", name,
                             f"{grad_name(name)} has shape {s.shape} instead of {r.shape}: an "
                             f"(N, 1) array was combined with an (N,) array (N={n}), which "
                             "broadcasts to an (N, N) table. Keep outputs and targets both "
                             "(N, 1) before subtracting.")
    return None


_RATIO_TEXT = {
    "missing_1_over_n": "exactly {a:g} times too large: the loss is the mean over the N={n} "
    "examples, so the gradient carries a factor 1/N that is missing",
    "averaged_twice": "exactly 1/{n} of the right value: the 1/N of the mean was applied twice",
    "sign_flip": "the right size but the wrong sign: check the direction of the difference "
    "between output and target",
    "sign_flip_n": "exactly -{n} times the right value: the sign is flipped and the 1/N of the "
    "mean loss is missing",
    "factor_2_half": "exactly half the right value: the derivative of a square (y - t)^2 has a "
    "factor 2",
    "factor_2_double": "exactly twice the right value: the loss here is 1/2 (y - t)^2, whose "
    "derivative has no factor 2",
}


def _ratio(s: np.ndarray, r: np.ndarray, n: int | None) -> tuple[str, str, float] | None:
    """(mistake id, text key, a) when s is exactly a known multiple a of r."""
    rr = float(np.sum(r * r))
    if rr == 0.0:
        return None
    a = float(np.sum(s * r)) / rr
    if np.linalg.norm(s - a * r) > RATIO_RTOL * np.linalg.norm(s):
        return None
    options: list[tuple[float, str, str]] = [
        (-1.0, "sign_flip", "sign_flip"),
        (0.5, "factor_2", "factor_2_half"),
        (2.0, "factor_2", "factor_2_double"),
    ]
    big = n if n is not None else round(abs(a))
    if big is not None and big >= 3:
        options += [(float(big), "missing_1_over_n", "missing_1_over_n"),
                    (1.0 / big, "averaged_twice", "averaged_twice"),
                    (-float(big), "sign_flip", "sign_flip_n")]
    for value, mistake, key in options:
        if abs(a - value) <= RATIO_RTOL * abs(value):
            return mistake, key, a
    return None


def triage_rules(
    candidate: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    n: int | None = None,
    tol: float = PASS_TOL,
) -> tuple[Diagnosis | None, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Hygiene, shape, pass and exact-ratio rules.

    Returns (diagnosis or None, candidate arrays, reference arrays) as float64 dicts over the
    reference's keys; None means no rule decided and the arrays have matching shapes.
    """
    ref = {k: np.asarray(v, dtype=np.float64) for k, v in reference.items()}
    order = sorted(ref, key=layer_sort_key)
    n = _infer_n(ref) if n is None else n
    present = [k for k in order if k in candidate]
    for name in present:
        bad = _hygiene(name, candidate[name])
        if bad is not None:
            return bad, {}, ref
    cand = {k: np.asarray(candidate[k], dtype=np.float64) for k in present}
    found = _broadcast_rule(cand, ref, n)
    if found is not None:
        return found, cand, ref
    for name in order:
        if name not in candidate:
            return Diagnosis(False, "missing_tensor", name,
                             f"{grad_name(name)} is missing from the returned gradients."), {}, ref
    for name in order:
        if found is not None:
            return found, cand, ref
        found = _shape_rule(name, cand[name], ref[name], n)
    if found is not None:
        return found, cand, ref
    errors = {k: rel_error(cand[k], ref[k]) for k in order}
    wrong = [k for k in order if errors[k] > tol]
    if not wrong:
        worst = max(errors.values(), default=0.0)
        return Diagnosis(True, "correct", None,
                         f"All gradients match (largest relative error {worst:.1e}).",
                         errors), cand, ref
    ratios = {k: _ratio(cand[k], ref[k], n) for k in wrong}
    first = ratios[wrong[0]]
    if first is not None:
        mistake, key, a = first
        text = _RATIO_TEXT[key].format(a=round(a, 6), n=n if n is not None else round(abs(a)))
        same = [k for k in wrong if ratios[k] is not None and ratios[k][1] == key]
        if len(order) == 1:
            msg = f"{grad_name(wrong[0])} is {text}."
        elif len(same) == len(order):
            msg = f"Every gradient is {text}."
        elif len(same) == 1:
            msg = f"Only {grad_name(wrong[0])} is wrong: it is {text}."
        else:
            names = ", ".join(grad_name(k) for k in same)
            msg = f"{names} are {text}."
        return Diagnosis(False, mistake, wrong[0], msg, errors), cand, ref
    return None, cand, ref


def localise(
    cand: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], *, tol: float = PASS_TOL
) -> Diagnosis:
    """Square transposes, which layers are wrong, then cosine / norm ratio / worst entry.

    Arrays are float64 with matching shapes (as returned by ``triage_rules``).
    """
    order = sorted(ref, key=layer_sort_key)
    errors = {k: rel_error(cand[k], ref[k]) for k in order}
    wrong = [k for k in order if errors[k] > tol]
    for name in wrong:
        s, r = cand[name], ref[name]
        if s.ndim == 2 and s.shape[0] == s.shape[1] and _close(s, r.T):
            return Diagnosis(False, "transposed", name,
                             f"{grad_name(name)} has the right shape but holds the transpose "
                             "of the right values: output units go along the rows, inputs along "
                             "the columns.", errors)
    ok = {k for k in order if k not in wrong}
    first = wrong[0]
    kind, m = _split(first)
    if kind == "z" and m is not None and f"a{m}" in ok:
        return Diagnosis(False, "activation_derivative", first,
                         f"dL/dA{m} is right but dL/dZ{m} is not: the step through the "
                         f"activation of layer {m} is wrong (its derivative must be evaluated "
                         f"at Z{m} and multiplied entry by entry).", errors)
    if kind == "a" and m is not None and f"z{m + 1}" in ok:
        return Diagnosis(False, "propagation", first,
                         f"Layer {m + 1} is right but dL/dA{m}, passed down to layer {m}, is "
                         f"not: check how the gradient goes back through the weights W{m + 1} "
                         "(which way round they are used).", errors)
    params = [k for k in order if _split(k)[0] in ("W", "b")]
    top = max((_split(k)[1] or 0 for k in params), default=0)
    top_ok = [k for k in params if _split(k)[1] == top and k in ok]
    if top_ok and len(top_ok) == sum(1 for k in params if _split(k)[1] == top):
        return Diagnosis(False, "downstream", first,
                         f"The output layer's gradients are right but {grad_name(first)} is not: "
                         "the error enters while passing the gradient down, through the "
                         "weights or through an activation derivative of a hidden layer.",
                         errors)
    if len(wrong) == 1:
        msg = (f"Only {grad_name(first)} is wrong (relative error {errors[first]:.2g}); every "
               "other gradient is right, so look at the formula of that one tensor.")
        return Diagnosis(False, "wrong_values", first, msg, errors)
    if len(wrong) == len(order) and len(order) > 1:
        s, r = cand[first], ref[first]
        return Diagnosis(False, "output_gradient", first,
                         f"Every gradient is off, starting at the output layer ({grad_name(first)}"
                         f"{_stats(s, r)}): check the gradient of the loss with respect to the "
                         "output layer before the rest.", errors)
    return Diagnosis(False, "wrong_values", first,
                     f"{grad_name(first)} is wrong{_stats(cand[first], ref[first])}.", errors)


def _stats(s: np.ndarray, r: np.ndarray) -> str:
    ns, nr = np.linalg.norm(s), np.linalg.norm(r)
    cos = float(np.sum(s * r) / (ns * nr)) if ns > 0 and nr > 0 else 0.0
    k = int(np.argmax(np.abs(s - r)))
    idx = tuple(int(i) for i in np.unravel_index(k, s.shape))
    ratio = ns / nr if nr > 0 else np.inf
    return (f": cosine {cos:.3f} with the right gradient, norm ratio {ratio:.3g}, largest "
            f"difference at {idx} (got {s.flat[k]:.4g}, expected {r.flat[k]:.4g})")


def diagnose(
    candidate: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    n: int | None = None,
    tol: float = PASS_TOL,
) -> Diagnosis:
    """Name the most likely mistake in ``candidate`` given trusted ``reference`` gradients.

    Both are dicts keyed like docs/conventions.md (``"W1"`` (D_1, D), ``"b1"`` (D_1, 1), ...,
    optionally ``"z1"``/``"a1"`` (N, D_1)); only the reference's keys are examined. ``n`` is
    the batch size N. Returns ``Diagnosis(ok=True, mistake="correct", ...)`` when every tensor
    has ``rel_error <= tol``.
    """
    found, cand, ref = triage_rules(candidate, reference, n=n, tol=tol)
    return found if found is not None else localise(cand, ref, tol=tol)
