"""The course's one diagnosis engine: say what is wrong with a value, and name a mistake only
when the evidence verifies it.

The notebooks' visible and hidden tests (through ``coursekit.check``), the trusted grader
(``autograder.compare`` and the task files, through ``backprop_ref.diagnose``) all call the
functions here, so a test and the feedback say the same thing for the same input.

``diagnose(candidate, reference, *, n=None, tol=PASS_TOL, loss=None, order=None)`` compares
a dict of gradients with a trusted dict on the same inputs (the reference, or finite
differences). Keys follow docs/conventions.md: ``"W{m}"`` (D_m, D_{m-1}), ``"b{m}"`` (D_m, 1)
and, when present, the intermediates ``"z{m}"``, ``"a{m}"`` (N, D_m) or (D_m, 1); other names
(``"h_a"``, ``"m_b"``, ...) are taken in the reference's order, which must run from the output
back to the inputs (or pass ``order``). ``n`` is the batch size N, ``loss`` the loss of the
network ("cross_entropy", "binary_cross_entropy", "squared_error", "half_squared_error").

Triage, first match wins: hygiene (missing, non-numeric, integer, NaN/inf) -> shape rules
((N, N) broadcasting, transpose, (K,) vs (K, 1), bias not summed or summed over the wrong axis)
-> pass (every ``rel_error <= tol``) -> exact ratio of the FIRST wrong tensor (going back from
the output) -> transposed square tensor -> localisation -> plain facts (error size, which
entries, worst entry). The first four stages are ``triage_rules``; ``localise`` is the rest,
so that ``backprop_ref.diagnose`` can insert its mutant oracles in between.

Rules that keep a message honest:

- A constant factor is claimed only when the scale is one the catalogue predicts (-1; N, 1/N
  and -N when N >= 3 is known; 2 or 1/2 only for the squared error that predicts it), the
  residual is tiny, and more than one independent entry carries it (two nonzero entries, two
  active units for a weight). A scalar or a single active unit proves nothing.
- The cause text of a factor knows the loss: "the derivative of a square has a factor 2" is
  said only for a squared error.
- Localisation names the first wrong gradient from the output end; when every gradient it is
  computed from is right, the mistake is in that tensor's own formula, and when only some of
  its entries are wrong the message says which.
- Otherwise: which tensor, which entries, how far off, and nothing more.

``number_diagnosis`` does the same for one number; ``coursekit.expressions`` holds the rules
for SymPy answers (off by a constant factor, a missing or extra term, wrong at these points).
Every message names the tensor and says what is wrong; none contains the code to write. This
module holds no analytic gradient. ``MISTAKES`` is the catalogue of mistake ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit.gradcheck import NUMBER_ATOL, NUMBER_TOL, PASS_TOL, rel_error

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
    "one_tensor_wrong": "only one tensor is wrong; the gradients it is computed from (and "
    "those computed from it) are right: the error enters in that tensor's own step",
    "one_slice_wrong": "only one row or one column of one tensor is wrong, the rest is right",
    "downstream": "the output layer is right but earlier layers are not",
    "output_gradient": "every layer is off, starting at the output",
    "wrong_values": "values differ for no recognised reason",
    "missing_path": "a partial derivative equals the sum over only some of its paths: a path "
    "through the graph is missing",
    # SymPy answers (coursekit.expressions; the trusted grader's autograder.symbolic)
    "expression_factor": "a symbolic answer is off by a constant factor (or the sign)",
    "expression_missing_term": "a symbolic answer misses one term of the right sum",
    "expression_extra_term": "a symbolic answer has one term too many",
    "expression_term_factor": "one term of a symbolic answer is off by a factor, the other "
    "terms are right",
    "expression_wrong_term": "one term of a symbolic answer has the wrong sign",
    "expression_wrong": "a symbolic answer differs from the right one at some points",
    "wrong_symbols": "a symbolic answer uses symbols other than the ones asked for",
    "not_an_expression": "a symbolic answer is not a SymPy expression",
    # The form of a function (coursekit.structure's rules, judged from the source)
    "finite_differences": "a function that must backpropagate computes its gradients by "
    "finite differences (own difference quotients or the notebook's helpers)",
    "structure": "a function breaks a rule of the task's form (e.g. loops where none are "
    "allowed)",
    # Side effects (autograder.tasks.side_effect_verdict, backprop_ref.diagnose)
    "input_modified": "a function wrote into one of its inputs (X, T, x, t, params)",
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
    # Backprop as a program (ps5)
    "grad_assigned": "a node used twice kept one use's gradient: assigned (=), not added (+=)",
    "visited_before_consumers": "a node was visited before all the nodes that use it",
    "grad_not_reset": "a second backward call added to the first one's gradients (no reset to 0)",
    "momentum_not_carried": "the momentum buffer (velocity) was not carried across steps",
    # Outcomes of the grading pipeline that are not a mistake in the values
    "error": "the function raised an exception",
    "wrong_choice": "a multiple-choice answer is not the right option",
    "notebook_test_failed": "the notebook's own test failed while the trusted check passed",
}
"""Mistake id -> one-line description; every ``Diagnosis.mistake`` is one of these ids."""

RATIO_RTOL = 1e-5
"""Relative tolerance for recognising an exact ratio or a rearrangement of the right values."""

SQUARED_LOSSES = ("squared_error", "half_squared_error", "mse")
"""Losses whose derivative carries (or, halved, cancels) a factor 2."""


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

    def named(self) -> str:
        """The message with the mistake id appended ("message: id"), the line the notebook's
        tests, the hidden tests and the feedback show; an id that claims no cause
        (``wrong_values``) is not appended."""
        if self.ok or self.mistake in ("", "wrong_values"):
            return self.message
        return f"{self.message.rstrip('.')}: {self.mistake}"


_KEY = re.compile(r"^d?([WbZAza])(\d*)$")
_PARAM = re.compile(r"^d?(W|b|w)")


_MISTAKE_TEXT = {
    "missing_activation_derivative": "{t} is wrong: the gradient went through the activation "
    "of layer {m} without its derivative{relu}.",
    "derivative_at_activation": "{t} is wrong: the derivative of {act} in layer {m} was "
    "evaluated at the activation A{m} instead of the pre-activation Z{m}.",
    "w_not_transposed": "{t} is wrong: the gradient was passed down through W{m1} the wrong way "
    "round (transposed); W{m1} maps layer {m} to layer {m1}, and going back reverses that map.",
}


def mistake_text(mistake: str, tensor: str, layer: int, activation: str = "") -> str:
    """The message of a mistake that a mutant oracle (or a test's own mistake tensor) verified:
    ``tensor`` is the first wrong gradient, ``layer`` the hidden layer concerned."""
    relu = " (for ReLU: only units that were active pass the gradient)" if activation == "relu" \
        else ""
    return _MISTAKE_TEXT[mistake].format(t=grad_name(tensor), m=layer, m1=layer + 1,
                                         act=activation, relu=relu)


def form_mistake(message: str) -> str:
    """The mistake id of a form rule's message (``coursekit.structure`` and the task files'
    ``structure=`` rules, judged from the source): ``finite_differences`` for a function that
    "uses finite differences", otherwise ``structure``."""
    return "finite_differences" if "uses finite differences" in message else "structure"


def _split(name: str) -> tuple[str, int | None]:
    """("W" | "b" | "z" | "a" | name, layer or None) for "W2", "dW2", "dZ1", "db", ..."""
    match = _KEY.match(name)
    if match is None:
        return name, None
    kind = match.group(1)
    kind = kind.lower() if kind in "ZA" else kind
    return kind, int(match.group(2)) if match.group(2) else None


def _is_param(name: str) -> bool:
    """Weights and biases (W2, b1, Ws, w, ...): gradients that hang off a node."""
    return _PARAM.match(name) is not None


def layer_sort_key(name: str) -> tuple[float, int]:
    """Sort key putting the output layer first: a{m} sits between layer m+1 and layer m."""
    kind, m = _split(name)
    rank = {"a": 0, "z": 1, "W": 2, "b": 3}.get(kind, 4)
    if m is None:
        return (np.inf, rank)
    level = m + 0.5 if kind == "a" else float(m)
    return (-level, rank)


def backward_order(names: Sequence[str], order: Sequence[str] | None = None) -> list[str]:
    """``names`` from the output end back to the inputs.

    ``order`` wins when given (names it does not list come after, in their own order); a chain
    whose every name has a layer number (W2, b2, z2, a1, ...) is sorted by layer; any other
    set of names keeps its order (the reference dict is written from the output back).
    """
    names = list(names)
    if order is not None:
        listed = [k for k in order if k in names]
        return listed + [k for k in names if k not in listed]
    if all(_split(k)[1] is not None for k in names):
        return sorted(names, key=layer_sort_key)
    return names


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
        if _split(name)[0] in ("z", "a") and _split(name)[1] is not None and r.ndim == 2:
            return int(r.shape[0])
    return None


def hygiene(label: str, name: str, value: Any) -> Diagnosis | None:
    """None, or why ``value`` is not a finite real array (None, text, integer dtype, NaN/inf)."""
    if value is None:
        return Diagnosis(False, "not_numeric", name,
                         f"{label} is None: nothing was returned for it.")
    if isinstance(value, (str, bytes, Mapping)):
        return Diagnosis(False, "not_numeric", name,
                         f"{label} is a {type(value).__name__}, not an array of real numbers.")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return Diagnosis(False, "not_numeric", name, f"{label} is not an array of real numbers.")
    if arr.dtype.kind in "biu":
        return Diagnosis(False, "int_dtype", name,
                         f"{label} has dtype {arr.dtype}: gradients are real numbers, so the "
                         "array must be floating point (an integer array silently drops "
                         "fractions).")
    if arr.dtype.kind != "f":
        return Diagnosis(False, "not_numeric", name,
                         f"{label} is not an array of real numbers (dtype {arr.dtype}).")
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        return Diagnosis(False, "non_finite", name,
                         f"{label} contains NaN or inf ({bad} of {arr.size} entries): values "
                         "must be finite; look for an overflowing exponential or a division "
                         "by zero.")
    return None


def _shape_rule(
    label: str, name: str, s: np.ndarray, r: np.ndarray, n: int | None
) -> Diagnosis | None:
    """Shape mistakes of one tensor; None when the shapes agree."""
    if s.shape == r.shape:
        return None
    kind = _split(name)[0]
    got, want = s.shape, r.shape
    if s.ndim == 2 and s.shape == r.shape[::-1]:
        extra = " and its values are the transpose of the right ones" if _close(s.T, r) else ""
        what = ("a row instead of a column" if kind == "b" and r.shape[1] == 1
                else "the transpose of the right shape")
        return Diagnosis(False, "transposed", name,
                         f"{label} has shape {got}, {what} {want}{extra}. A gradient always "
                         "has the shape of the variable it belongs to.")
    if s.size == r.size and _close(s.reshape(want), r):
        return Diagnosis(False, "flat_shape", name,
                         f"{label} has the right values but shape {got} instead of {want}: "
                         "keep the shape of the variable it belongs to.")
    if kind == "b" and r.ndim == 2 and r.shape[1] == 1 and s.ndim >= 1:
        d_out = r.shape[0]
        if n is None and s.ndim == 2 and d_out in s.shape and s.size > d_out:
            n = s.size // d_out
        if n is None:
            n = s.size if s.size != d_out else None
        if s.ndim == 2 and n in s.shape and d_out in s.shape and s.size == n * d_out:
            return Diagnosis(False, "bias_not_summed", name,
                             f"{label} has shape {got}, one entry per example: the bias is "
                             f"shared by all {n} examples, so its gradient must be summed over "
                             f"the examples of the batch to give shape {want}.")
        if s.size == n and n != d_out:
            return Diagnosis(False, "bias_wrong_axis", name,
                             f"{label} has shape {got}, one number per example: it was summed "
                             f"over the units instead of over the {n} examples of the batch.")
    if n is not None and n > 1 and s.shape.count(n) > r.shape.count(n):
        return Diagnosis(False, "wrong_shape", name,
                         f"{label} has shape {got} instead of {want}: an axis of length N={n} "
                         "appeared where it should not (a missing sum over the examples?).")
    if s.ndim == 2 and s.shape[0] == s.shape[1] > 1 and r.ndim == 2 and 1 in r.shape:
        return Diagnosis(False, "wrong_shape", name,
                         f"{label} has shape {got} instead of {want}: a square table where a "
                         "vector belongs (a (K,) array broadcast against a (K, 1) column, or an "
                         "outer product in place of a matrix-vector product).")
    return Diagnosis(False, "wrong_shape", name, f"{label} has shape {got} instead of {want}.")


def _broadcast_rule(
    cand: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], n: int | None,
    order: Sequence[str], labels: Mapping[str, str],
) -> Diagnosis | None:
    if n is None or n < 2:
        return None
    for name in order:
        if name not in cand:
            continue
        s, r = cand[name], ref[name]
        if s.shape == r.shape or s.ndim != 2:
            continue
        nn = s.shape == (n, n) and r.shape in ((n, 1), (1, n))
        grown = (_split(name)[0] == "W" and r.shape[0] == 1 and s.shape == (n, r.shape[1]))
        if nn or grown:
            return Diagnosis(False, "broadcast_nn", name,
                             f"{labels[name]} has shape {s.shape} instead of {r.shape}: an "
                             f"(N, 1) array was combined with an (N,) array (N={n}), which "
                             "broadcasts to an (N, N) table. Keep outputs and targets both "
                             "(N, 1) before subtracting.")
    return None


def _carries_factor(name: str, r: np.ndarray) -> bool:
    """Whether an exact ratio on ``r`` is evidence: at least two independent nonzero entries.

    One number, or a weight gradient with a single active unit (one nonzero row), is a
    multiple of the right value by any factor at all, so it proves nothing.
    """
    scale = float(np.max(np.abs(r), initial=0.0))
    if scale == 0.0:
        return False
    nonzero = np.abs(r) > 1e-9 * scale
    if int(nonzero.sum()) < 2:
        return False
    if _is_param(name) and r.ndim == 2 and r.shape[1] > 1:
        return int(nonzero.any(axis=1).sum()) >= 2
    return True


def _factor_text(a: float, n: int | None, loss: str | None) -> tuple[str, str] | None:
    """(mistake id, words) for a scale ``a`` that the catalogue predicts, else None."""
    close = lambda value: abs(a - value) <= RATIO_RTOL * abs(value)  # noqa: E731
    if close(-1.0):
        return "sign_flip", "the right size but the wrong sign"
    if n is not None and n >= 3:
        if close(float(n)):
            return ("missing_1_over_n", f"exactly N={n} times too large: the loss is the mean "
                    f"over the N={n} examples, so its gradient carries a factor 1/N that is "
                    "missing")
        if close(1.0 / n):
            return ("averaged_twice", f"exactly 1/{n} of the right value: the 1/N of the mean "
                    "loss was applied twice")
        if close(-float(n)):
            return ("sign_flip", f"exactly -{n} times the right value: the sign is flipped "
                    "and the 1/N of the mean loss is missing")
    if loss == "squared_error" and close(0.5):
        return ("factor_2", "exactly half the right value: the loss is the squared error "
                "(y - t)^2, whose derivative 2 (y - t) has a factor 2")
    if loss == "half_squared_error" and close(2.0):
        return ("factor_2", "exactly twice the right value: the loss is 1/2 (y - t)^2, whose "
                "derivative (y - t) has no factor 2")
    if loss == "mse" and (close(0.5) or close(2.0)):
        how = "half" if close(0.5) else "twice"
        return ("factor_2", f"exactly {how} the right value: check the factor 2 of the "
                "derivative of the square (y - t)^2 against the 1/2 or 1/N of the loss")
    return None


def _scale(s: np.ndarray, r: np.ndarray) -> float | None:
    """``a`` with ``s == a * r`` up to RATIO_RTOL, else None."""
    top = max(float(np.max(np.abs(r), initial=0.0)), float(np.max(np.abs(s), initial=0.0)))
    if top == 0.0 or not math.isfinite(top):
        return None
    s, r = s / top, r / top
    rr = float(np.sum(r * r))
    if rr == 0.0 or not np.all(np.isfinite(s)):
        return None
    a = float(np.sum(s * r)) / rr
    if not math.isfinite(a) or a == 0.0:
        return None
    if np.linalg.norm(s - a * r) > RATIO_RTOL * np.linalg.norm(s):
        return None
    return a


def _wrong_mask(s: np.ndarray, r: np.ndarray, tol: float) -> np.ndarray:
    """Entries of ``s`` that differ from ``r`` by more than ``tol`` times the tensor's scale."""
    scale = max(float(np.max(np.abs(r), initial=0.0)), float(np.max(np.abs(s), initial=0.0)))
    return np.abs(s - r) > max(tol, 1e-12) * scale


def _index(idx: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ")" if len(idx) != 1 else f"[{idx[0]}]"


def _one_slice(s: np.ndarray, r: np.ndarray, tol: float) -> bool:
    """Exactly one row or exactly one column of a 2-D ``s`` is wrong and the rest is right."""
    bad = _wrong_mask(s, r, tol)
    if bad.ndim != 2 or bad.shape[0] < 2 or bad.shape[1] < 2 or not bad.any():
        return False
    either = bad | ((r == 0) & (s == 0))
    rows = np.flatnonzero(bad.any(axis=1))
    cols = np.flatnonzero(bad.any(axis=0))
    return bool((len(rows) == 1 and either[rows].all())
                or (len(cols) == 1 and either[:, cols].all()))


def _which_entries(s: np.ndarray, r: np.ndarray, tol: float) -> str | None:
    """'only row 1 is wrong' style words when a strict subset of the entries is wrong."""
    bad = _wrong_mask(s, r, tol)
    count, size = int(bad.sum()), bad.size
    if count == 0 or count == size or size == 1:
        return None
    if bad.ndim == 2 and bad.shape[0] > 1 and bad.shape[1] > 1:
        # entries that are 0 in both cannot tell whether a row (column) as a whole is wrong
        either = bad | ((r == 0) & (s == 0))
        rows = [int(i) for i in np.flatnonzero(bad.any(axis=1))]
        cols = [int(j) for j in np.flatnonzero(bad.any(axis=0))]
        if len(rows) < bad.shape[0] and either[rows].all():
            what = "row" if len(rows) == 1 else "rows"
            return (f"only {what} {', '.join(map(str, rows))} of {bad.shape[0]} "
                    f"{'is' if len(rows) == 1 else 'are'} wrong; the other rows are right")
        if len(cols) < bad.shape[1] and either[:, cols].all():
            what = "column" if len(cols) == 1 else "columns"
            return (f"only {what} {', '.join(map(str, cols))} of {bad.shape[1]} "
                    f"{'is' if len(cols) == 1 else 'are'} wrong; the other columns are right")
    where = [tuple(int(i) for i in ix) for ix in np.argwhere(bad)]
    if len(where) <= 4:
        listed = ", ".join(_index(ix) for ix in where)
        return f"only {count} of {size} entries {'is' if count == 1 else 'are'} wrong: {listed}"
    return f"{count} of {size} entries are wrong"


def _facts(s: np.ndarray, r: np.ndarray, err: float, tol: float) -> str:
    """Error size, which entries, worst entry: the plain account of a wrong tensor."""
    parts = [f"relative error {err:.3g}, tolerance {tol:g}"]
    entries = _which_entries(s, r, tol)
    if entries:
        parts.append(entries)
    if not np.any(s) and np.any(r):
        parts.append("every entry is 0")
    elif s.size > 1:
        k = int(np.argmax(np.abs(s - r)))
        idx = tuple(int(i) for i in np.unravel_index(k, s.shape))
        parts.append(f"largest difference at {_index(idx)}: got {s.flat[k]:.6g}, "
                     f"expected {r.flat[k]:.6g}")
    else:
        parts.append(f"got {s.flat[0]:.6g}, expected {r.flat[0]:.6g}")
    return "; ".join(parts)


def _labels(names: Sequence[str], labels: Mapping[str, str] | None) -> dict[str, str]:
    return {k: (labels or {}).get(k, grad_name(k)) for k in names}


def triage_rules(
    candidate: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    n: int | None = None,
    tol: float = PASS_TOL,
    loss: str | None = None,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[Diagnosis | None, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Hygiene, shape, pass and exact-ratio rules.

    Returns (diagnosis or None, candidate arrays, reference arrays) as float64 dicts over the
    reference's keys; None means no rule decided and the arrays have matching shapes.
    """
    ref = {k: np.asarray(v, dtype=np.float64) for k, v in reference.items()}
    seq = backward_order(list(ref), order)
    lab = _labels(seq, labels)
    n = _infer_n(ref) if n is None else n
    present = [k for k in seq if k in candidate]
    for name in present:
        bad = hygiene(lab[name], name, candidate[name])
        if bad is not None:
            return bad, {}, ref
    for name in seq:
        if not np.all(np.isfinite(ref[name])):
            return Diagnosis(False, "non_finite", name,
                             f"the expected {lab[name]} is not finite here, so it cannot be "
                             "compared (the forward pass overflows at this point)."), {}, ref
    cand = {k: np.asarray(candidate[k], dtype=np.float64) for k in present}
    found = _broadcast_rule(cand, ref, n, seq, lab)
    if found is not None:
        return found, cand, ref
    for name in seq:
        if name not in candidate:
            return Diagnosis(False, "missing_tensor", name,
                             f"{lab[name]} is missing from the returned gradients."), {}, ref
    for name in seq:
        found = _shape_rule(lab[name], name, cand[name], ref[name], n)
        if found is not None:
            return found, cand, ref
    errors = {k: rel_error(cand[k], ref[k]) for k in seq}
    wrong = [k for k in seq if not errors[k] <= tol]
    if not wrong:
        worst = max(errors.values(), default=0.0)
        return Diagnosis(True, "correct", None,
                         f"All gradients match (largest relative error {worst:.1e}).",
                         errors), cand, ref
    first = wrong[0]
    a = _scale(cand[first], ref[first])
    named = _factor_text(a, n, loss) if a is not None else None
    if named is None or a is None:
        return None, cand, ref
    same = [k for k in wrong if (b := _scale(cand[k], ref[k])) is not None
            and abs(b - a) <= RATIO_RTOL * abs(a)]
    if not any(_carries_factor(k, ref[k]) for k in same):
        return None, cand, ref
    mistake, text = named
    if mistake == "factor_2" and any(not _is_param(k) for k in seq[:seq.index(first)]):
        # the loss derivative's factor 2 would make the output node's gradient wrong too
        return None, cand, ref
    if mistake == "sign_flip" and first == seq[0] and abs(a + 1) < 1e-3:
        text += " (check the direction of the difference between output and target)"
    rest = [k for k in wrong if k not in same]
    if len(seq) == 1:
        msg = f"{lab[first]} is {text}."
    elif len(same) == len(seq):
        msg = f"Every gradient is {text}."
    elif len(wrong) == 1:
        msg = f"Only {lab[first]} is wrong: it is {text}."
    else:
        names = ", ".join(lab[k] for k in same)
        verb = "is" if len(same) == 1 else "are"
        msg = f"{names} {verb} {text}."
        if first != seq[0]:
            right = ", ".join(lab[k] for k in seq[:seq.index(first)])
            msg = f"The first wrong gradient from the output end is {lab[first]} ({right} " \
                  f"right): {msg}"
        if rest:
            msg += f" ({', '.join(lab[k] for k in rest)} also wrong, computed from it.)"
    return Diagnosis(False, mistake, first, msg, errors), cand, ref


def _source_node(name: str, seq: Sequence[str]) -> str | None:
    """The intermediate a parameter's gradient is computed from (z{m} for W{m}, b{m}; else the
    nearest node before it in the backward order)."""
    kind, m = _split(name)
    if kind in ("W", "b") and m is not None and f"z{m}" in seq:
        return f"z{m}"
    for k in reversed(seq[:seq.index(name)]):
        if not _is_param(k):
            return k
    return None


def localise(
    cand: Mapping[str, np.ndarray],
    ref: Mapping[str, np.ndarray],
    *,
    tol: float = PASS_TOL,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Square transposes, the first wrong gradient from the output end, then plain facts.

    Arrays are float64 with matching shapes (as returned by ``triage_rules``).
    """
    seq = backward_order(list(ref), order)
    lab = _labels(seq, labels)
    errors = {k: rel_error(cand[k], ref[k]) for k in seq}
    wrong = [k for k in seq if not errors[k] <= tol]
    first = wrong[0]
    s, r = cand[first], ref[first]
    if s.ndim == 2 and s.shape[0] == s.shape[1] > 1 and _close(s, r.T):
        return Diagnosis(False, "transposed", first,
                         f"{lab[first]} has the right shape but holds the transpose of the "
                         "right values: output units go along the rows, inputs along the "
                         "columns.", errors)
    facts = _facts(s, r, errors[first], tol)
    ok = [k for k in seq if k not in wrong]
    before = seq[:seq.index(first)]
    kind, m = _split(first)
    if len(wrong) == 1 and not _is_param(first) and first != seq[-1]:
        # the gradients computed from it are right, so the returned value itself is wrong
        mistake = "one_slice_wrong" if _one_slice(s, r, tol) else "one_tensor_wrong"
        return Diagnosis(False, mistake, first,
                         f"Only {lab[first]} is wrong ({facts}); every other gradient is "
                         "right, including the ones computed from it: the value returned for "
                         f"{lab[first]} is not the one the rest of the backward pass used.",
                         errors)
    if kind == "z" and m is not None and f"a{m}" in ok:
        return Diagnosis(False, "activation_derivative", first,
                         f"dL/dA{m} is right but dL/dZ{m} is not ({facts}): the step back "
                         f"through the activation of layer {m} is wrong.", errors)
    if kind == "a" and m is not None and f"z{m + 1}" in ok:
        return Diagnosis(False, "propagation", first,
                         f"Layer {m + 1} is right but dL/dA{m}, passed down to layer {m}, is "
                         f"not ({facts}): the step back through the weights W{m + 1} is "
                         "wrong.", errors)
    if _is_param(first):
        source = _source_node(first, seq)
        if source is not None and source in ok:
            others = [k for k in wrong if k != first]
            tail = "" if not others else (
                f" ({', '.join(lab[k] for k in others)} also wrong.)")
            entries = _which_entries(s, r, tol)
            lead = f"Only {lab[first]} is wrong" if not others else f"{lab[first]} is wrong"
            what = "; ".join(p for p in (entries, f"relative error {errors[first]:.3g}") if p)
            if others:
                # several tensors wrong from right sources: where, not why (a formula, or
                # values kept from an earlier call, give the same picture)
                return Diagnosis(False, "wrong_values", first,
                                 f"{lead} ({what}) although {lab[source]}, from which it is "
                                 f"computed, is right: the error enters where {lab[first]} "
                                 f"is computed from it.{tail}", errors)
            mistake = "one_slice_wrong" if _one_slice(s, r, tol) else "one_tensor_wrong"
            return Diagnosis(False, mistake, first,
                             f"{lead} ({what}) although {lab[source]}, from which it is "
                             f"computed, is right: the error enters where {lab[first]} is "
                             "computed from it.", errors)
    if len(wrong) == 1 and len(seq) > 1:
        mistake = "one_slice_wrong" if _one_slice(s, r, tol) else "one_tensor_wrong"
        return Diagnosis(False, mistake, first,
                         f"Only {lab[first]} is wrong ({facts}); every other gradient is "
                         "right.", errors)
    if before:
        right = ", ".join(lab[k] for k in before)
        mistake = "downstream" if all(_is_param(k) for k in before) else "wrong_values"
        return Diagnosis(False, mistake, first,
                         f"{right} {'is' if len(before) == 1 else 'are'} right; the first "
                         f"wrong gradient from the output end is {lab[first]} ({facts}).",
                         errors)
    if len(wrong) == len(seq) and len(seq) > 1:
        layers = [lay for k in seq if (lay := _split(k)[1]) is not None]
        if m is not None and m == max(layers) and len(layers) == len(seq):
            return Diagnosis(False, "output_gradient", first,
                             f"Every gradient is off, starting at the output: {lab[first]} is "
                             f"wrong ({facts}).", errors)
        # the compared tensors need not reach the output: claim no place, say what is wrong
        return Diagnosis(False, "wrong_values", first,
                         f"Every gradient compared is wrong; the first from the output end is "
                         f"{lab[first]} ({facts}).", errors)
    mistake = "one_slice_wrong" if len(seq) == 1 and _one_slice(s, r, tol) else "wrong_values"
    return Diagnosis(False, mistake, first, f"{lab[first]} is wrong ({facts}).", errors)


def diagnose(
    candidate: Mapping[str, Any],
    reference: Mapping[str, Any],
    *,
    n: int | None = None,
    tol: float = PASS_TOL,
    loss: str | None = None,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Diagnosis:
    """Name the most likely mistake in ``candidate`` given trusted ``reference`` gradients.

    Both are dicts keyed like docs/conventions.md (``"W1"`` (D_1, D), ``"b1"`` (D_1, 1), ...,
    optionally ``"z1"``/``"a1"`` (N, D_1)); only the reference's keys are examined. ``n`` is
    the batch size N, ``loss`` the network's loss, ``order`` the keys from the output end back
    (see ``backward_order``), ``labels`` the names used in messages (default ``grad_name``).
    Returns ``Diagnosis(ok=True, mistake="correct", ...)`` when every tensor has
    ``rel_error <= tol``.
    """
    found, cand, ref = triage_rules(candidate, reference, n=n, tol=tol, loss=loss, order=order,
                                    labels=labels)
    if found is not None:
        return found
    return localise(cand, ref, tol=tol, order=order, labels=labels)


def tensor_diagnosis(
    label: str,
    value: Any,
    expected: Any,
    *,
    tol: float = PASS_TOL,
    n: int | None = None,
    loss: str | None = None,
) -> Diagnosis:
    """``diagnose`` for one array named ``label`` in messages (verbatim)."""
    return diagnose({label: value}, {label: expected}, n=n, tol=tol, loss=loss,
                    labels={label: label})


def number_diagnosis(
    label: str, value: Any, expected: float, *, tol: float = NUMBER_TOL,
    atol: float = NUMBER_ATOL,
) -> Diagnosis:
    """Compare one number: finite real, then ``rel_error <= tol`` or ``|diff| <= atol``.

    No factor is ever claimed: the ratio of two numbers proves nothing about its cause.
    """
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return Diagnosis(False, "not_numeric", label,
                         f"{label}: expected a number (float), got {type(value).__name__}: "
                         f"{value!r}")
    v = float(value)
    if not math.isfinite(v):
        return Diagnosis(False, "non_finite", label, f"{label} is {v}, not a finite number.")
    err = rel_error(np.array(v), np.array(float(expected)))
    if err <= tol or abs(v - expected) <= atol:
        return Diagnosis(True, "correct", None, f"{label} is right (relative error {err:.1e}).",
                         {label: err})
    return Diagnosis(False, "wrong_values", label,
                     f"{label} = {v:.6g} is not the expected value (relative error {err:.3g}, "
                     f"tolerance {tol:g}).", {label: err})
