"""Finite-difference gradient checking in float64 (see docs/conventions.md for shapes).

This is the one checker used by the reference tests, the notebooks and the autograder. It holds
no analytic gradient: every check compares gradients you supply with central differences of a
scalar function you supply.

Public names
------------
``PASS_TOL``, ``DIRECTIONAL_TOL``, ``NUMBER_TOL``, ``NUMBER_ATOL``, ``DEFAULT_H``, ``rel_error``,
``as_float64``,
``numerical_gradient``, ``TensorCheck``, ``GradCheckReport``, ``compare_gradients``,
``check_gradients(f, params, grads, *, names=None, h=DEFAULT_H, tol=PASS_TOL, kinks=None)``,
``assert_gradients(f, params, grads, *, names=None, method="full", h=DEFAULT_H, tol=None, k=8,
seed=0)``, ``directional_check(f, params, grads, k=8, seed=0, per_tensor=True, *, names=None,
eps=DEFAULT_H, tol=DIRECTIONAL_TOL)``, ``batched_numerical_gradient(loss_diff, theta, *,
h=DEFAULT_H, batch=4096)``, ``perturbed_stack(theta, idx, values)``, ``kink_free(sample,
preactivations, margin=1e-2, max_tries=100)``.

``f`` is always a function of no arguments that reads the arrays of ``params`` (a dict of
float64 arrays, e.g. ``"W1"`` (D_1, D), ``"b1"`` (D_1, 1)); the checks perturb those arrays in
place and restore them exactly.

Pass rule (float64)
-------------------
A tensor passes the full check when ``rel_error(g, g_fd) <= PASS_TOL = 1e-6`` where ``g_fd`` is
the central difference with step ``h = 1e-5 * max(1, |theta|)`` on a kink-free instance. The
directional check compares the K directional derivatives ``g . u_k`` with
``(f(p + e u_k) - f(p - e u_k)) / 2e`` for unit directions ``u_k`` and passes when the relative
error of the two K-vectors is ``<= DIRECTIONAL_TOL = 1e-5`` (one K-vector per tensor, or one for
all tensors together with ``per_tensor=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PASS_TOL = 1e-6
"""A float64 gradient passes when ``rel_error(g, g_ref) <= PASS_TOL``."""

DIRECTIONAL_TOL = 1e-5
"""A directional check passes when the K directional derivatives agree to this relative error."""

NUMBER_TOL = 5e-5
"""A number passes when ``rel_error(value, expected) <= NUMBER_TOL`` (about 4 significant
digits) or, for an expected value near 0, when ``|value - expected| <= NUMBER_ATOL``."""

NUMBER_ATOL = 1e-8
"""Absolute slack of a number whose expected value is (close to) 0."""

DEFAULT_H = 1e-5


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` of same-shape arrays; 0.0 if both are 0.

    Returns ``inf`` when either array holds NaN or inf, so a non-finite value never passes a
    ``rel_error(...) <= tol`` test. The norms are taken after dividing by the largest entry, so
    huge values (1e200) do not overflow to inf and give NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if scale == 0.0:
        return 0.0
    a, b = a / scale, b / scale
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def as_float64(x: Any, name: str = "array") -> np.ndarray:
    """``x`` as a float64 array; TypeError for None, objects, strings and complex numbers."""
    if x is None:
        raise TypeError(f"{name} is None: the function returned nothing")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` (any shape, float64) is perturbed in place one entry at a time and restored exactly;
    the step is ``h * max(1, |x_i|)`` and the difference is divided by the realised step.
    Returns a new array with the shape of ``x``.
    """
    return _numerical_gradient(f, x, h, None)[0]


def _numerical_gradient(
    f: Callable[[], float], x: np.ndarray, h: float, kinks: Callable[[], np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences plus a boolean mask of entries whose step crossed a kink."""
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 array, got {x.dtype}")
    grad = np.zeros_like(x)
    crossed = np.zeros(x.shape, dtype=bool)
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    gflat, cflat = grad.reshape(-1), crossed.reshape(-1)
    base = None if kinks is None else np.asarray(kinks()).copy()
    for i in range(flat.size):
        old = flat[i]
        step = h * max(1.0, abs(old))
        flat[i] = old + step
        hi = flat[i]
        f_plus = float(f())
        if base is not None:
            cflat[i] |= not np.array_equal(kinks(), base)
        flat[i] = old - step
        lo = flat[i]
        f_minus = float(f())
        if base is not None:
            cflat[i] |= not np.array_equal(kinks(), base)
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (hi - lo)
    return grad, crossed


@dataclass
class TensorCheck:
    """Result for one tensor: its relative error, whether it passed and the worst entries.

    ``worst`` lists ``(index, got, expected)`` with the largest ``|got - expected|`` first;
    ``skipped`` counts entries left out because a finite-difference step crossed a kink.
    """

    name: str
    error: float
    passed: bool
    worst: list[tuple[tuple[int, ...], float, float]] = field(default_factory=list)
    problem: str = ""
    skipped: int = 0


@dataclass
class GradCheckReport:
    """Per-tensor results of a gradient check; ``ok`` is True when every tensor passed."""

    method: str
    tol: float
    tensors: dict[str, TensorCheck]

    @property
    def ok(self) -> bool:
        """True when every checked tensor passed."""
        return all(t.passed for t in self.tensors.values())

    @property
    def failed(self) -> list[str]:
        """Names of the tensors that failed, in checking order."""
        return [name for name, t in self.tensors.items() if not t.passed]

    def message(self) -> str:
        """A readable account of the failed tensors (or a one-line pass)."""
        if self.ok:
            worst = max((t.error for t in self.tensors.values()), default=0.0)
            return f"{self.method} check passed: max relative error {worst:.2e} <= {self.tol:.0e}"
        lines = [f"{self.method} gradient check failed for {', '.join(self.failed)}:"]
        for name in self.failed:
            t = self.tensors[name]
            if t.problem:
                lines.append(f"  {name}: {t.problem}")
                continue
            lines.append(f"  {name}: relative error {t.error:.3e} > tolerance {self.tol:.0e}")
            what = "direction" if self.method == "directional" else "entry"
            for index, got, expected in t.worst:
                lines.append(f"    {what} {index}: got {got:.6g}, expected {expected:.6g}")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        """Raise AssertionError with ``message()`` unless every tensor passed."""
        if not self.ok:
            raise AssertionError(self.message())


def _worst(
    got: np.ndarray, expected: np.ndarray, n: int
) -> list[tuple[tuple[int, ...], float, float]]:
    """The n entries with the largest absolute difference, as (index, got, expected)."""
    diff = np.abs(got - expected).reshape(-1)
    order = np.argsort(diff)[::-1][:n]
    return [
        (tuple(int(i) for i in np.unravel_index(k, got.shape)), float(got.flat[k]),
         float(expected.flat[k]))
        for k in order
        if diff[k] > 0
    ]


def compare_gradients(
    grads: Mapping[str, Any],
    expected: Mapping[str, np.ndarray],
    *,
    tol: float = PASS_TOL,
    method: str = "reference",
    n_worst: int = 3,
    skip: Mapping[str, np.ndarray] | None = None,
) -> GradCheckReport:
    """Compare candidate ``grads`` with trusted ``expected`` gradients, tensor by tensor.

    Each ``expected[name]`` has the shape of its parameter (e.g. (D_out, D_in) or (D_out, 1));
    ``grads[name]`` must have that shape and hold finite real numbers. ``skip[name]`` is an
    optional boolean mask of entries to leave out (kink crossings).
    """
    tensors: dict[str, TensorCheck] = {}
    for name, ref in expected.items():
        ref = np.asarray(ref, dtype=np.float64)
        if name not in grads:
            tensors[name] = TensorCheck(name, np.inf, False, problem="missing from the gradients")
            continue
        try:
            got = as_float64(grads[name], name)
        except TypeError as exc:
            tensors[name] = TensorCheck(name, np.inf, False, problem=str(exc))
            continue
        if got.shape != ref.shape:
            tensors[name] = TensorCheck(
                name, np.inf, False, problem=f"shape {got.shape}, expected {ref.shape}"
            )
            continue
        if not np.all(np.isfinite(got)):
            tensors[name] = TensorCheck(name, np.inf, False, problem="contains NaN or inf")
            continue
        mask = None if skip is None else skip.get(name)
        keep = np.ones(ref.shape, dtype=bool) if mask is None else ~np.asarray(mask, dtype=bool)
        err = rel_error(got[keep], ref[keep])
        worst = _worst(np.where(keep, got, 0.0), np.where(keep, ref, 0.0), n_worst)
        tensors[name] = TensorCheck(
            name, err, err <= tol, worst, skipped=int(ref.size - keep.sum())
        )
    return GradCheckReport(method, tol, tensors)


def check_gradients(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, Any],
    *,
    names: Iterable[str] | None = None,
    h: float = DEFAULT_H,
    tol: float = PASS_TOL,
    kinks: Callable[[], np.ndarray] | None = None,
    n_worst: int = 3,
) -> GradCheckReport:
    """Full check: central differences of ``f()`` for every entry of every tensor in ``names``.

    ``params[name]`` (any shape, float64, contiguous) is perturbed in place and restored;
    ``grads[name]`` is the candidate gradient of the same shape. ``kinks``, if given, returns an
    array (e.g. the signs of every ReLU pre-activation) that must not change when an entry is
    perturbed by +-h; entries where it changes are skipped and counted in ``skipped``.
    Costs 2 evaluations of ``f`` per entry, so use it on small instances (about P < 10^4).
    """
    names = list(params) if names is None else list(names)
    numeric: dict[str, np.ndarray] = {}
    crossed: dict[str, np.ndarray] = {}
    for name in names:
        numeric[name], crossed[name] = _numerical_gradient(f, params[name], h, kinks)
    return compare_gradients(grads, numeric, tol=tol, method="full", n_worst=n_worst, skip=crossed)


def directional_check(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, Any],
    k: int = 8,
    seed: int = 0,
    per_tensor: bool = True,
    *,
    names: Iterable[str] | None = None,
    eps: float = DEFAULT_H,
    tol: float = DIRECTIONAL_TOL,
) -> GradCheckReport:
    """Directional check with ``k`` random unit directions u (fixed ``seed``).

    Compares ``(f(p + eps u) - f(p - eps u)) / 2 eps`` with ``g . u`` (K values). With
    ``per_tensor`` each tensor gets its own K directions, so a failure names the tensor;
    otherwise one K-vector is formed over all tensors (reported under the name ``"all"``).
    Costs 2K evaluations of ``f`` per tensor (or 2K in all).
    """
    names = list(params) if names is None else list(names)
    rng = np.random.default_rng(seed)
    cand: dict[str, np.ndarray] = {}
    problems: dict[str, str] = {}
    for name in names:
        try:
            cand[name] = as_float64(grads[name], name) if name in grads else None
        except TypeError as exc:
            problems[name] = str(exc)
            continue
        if cand[name] is None:
            problems[name] = "missing from the gradients"
        elif cand[name].shape != params[name].shape:
            problems[name] = f"shape {cand[name].shape}, expected {params[name].shape}"
        elif not np.all(np.isfinite(cand[name])):
            problems[name] = "contains NaN or inf"
    if problems:
        bad = {n: TensorCheck(n, np.inf, False, problem=p) for n, p in problems.items()}
        return GradCheckReport("directional", tol, bad)
    groups = [[name] for name in names] if per_tensor else [names]
    tensors: dict[str, TensorCheck] = {}
    for group in groups:
        saved = {name: params[name].copy() for name in group}
        analytic, numeric = np.empty(k), np.empty(k)
        for j in range(k):
            u = {name: rng.standard_normal(params[name].shape) for name in group}
            norm = np.sqrt(sum(float(np.sum(v * v)) for v in u.values()))
            losses = []
            for sign in (1.0, -1.0):
                for name in group:
                    params[name][...] = saved[name] + sign * eps * u[name] / norm
                losses.append(float(f()))
            for name in group:
                params[name][...] = saved[name]
            numeric[j] = (losses[0] - losses[1]) / (2.0 * eps)
            analytic[j] = sum(float(np.sum(cand[name] * u[name])) for name in group) / norm
        label = group[0] if per_tensor else "all"
        err = rel_error(analytic, numeric)
        worst = _worst(analytic, numeric, 3)
        tensors[label] = TensorCheck(label, err, err <= tol, worst)
    return GradCheckReport("directional", tol, tensors)


def assert_gradients(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, Any],
    *,
    names: Iterable[str] | None = None,
    method: str = "full",
    h: float = DEFAULT_H,
    tol: float | None = None,
    k: int = 8,
    seed: int = 0,
) -> GradCheckReport:
    """Run ``check_gradients`` (method "full") or ``directional_check`` (method "directional")
    and raise AssertionError naming each failed tensor, its worst entries (index, got, expected)
    and its error against the tolerance. Returns the report when everything passed.
    """
    if method == "full":
        report = check_gradients(
            f, params, grads, names=names, h=h, tol=PASS_TOL if tol is None else tol
        )
    elif method == "directional":
        report = directional_check(
            f, params, grads, k, seed, True, names=names, eps=h,
            tol=DIRECTIONAL_TOL if tol is None else tol,
        )
    else:
        raise ValueError(f"method must be 'full' or 'directional', got {method!r}")
    report.raise_if_failed()
    return report


def perturbed_stack(theta: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """B copies of ``theta`` (any shape S), copy b with flat entry ``idx[b]`` set to
    ``values[b]``. Returns shape (B, *S). A building block for ``loss_diff`` functions."""
    idx = np.asarray(idx)
    stack = np.repeat(theta[None, ...], idx.size, axis=0)
    stack.reshape(idx.size, -1)[np.arange(idx.size), idx] = values
    return stack


def batched_numerical_gradient(
    loss_diff: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    theta: np.ndarray,
    *,
    h: float = DEFAULT_H,
    batch: int = 4096,
) -> np.ndarray:
    """Central differences of every entry of ``theta``, evaluated ``batch`` entries at a time.

    ``loss_diff(idx, plus, minus)`` receives flat indices ``idx`` (B,) and the perturbed values
    ``plus``, ``minus`` (B,) of those entries and returns (B,): the loss with entry ``idx[b]``
    set to ``plus[b]`` minus the loss with it set to ``minus[b]`` (all other entries as in
    ``theta``). The caller evaluates the B perturbed models together, e.g. on stacked weights
    with the unperturbed earlier layers cached. Same steps as ``numerical_gradient``.
    Returns an array with the shape of ``theta``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    flat = theta.reshape(-1)
    grad = np.empty(flat.size)
    for start in range(0, flat.size, batch):
        idx = np.arange(start, min(start + batch, flat.size))
        old = flat[idx]
        step = h * np.maximum(1.0, np.abs(old))
        plus, minus = old + step, old - step
        grad[idx] = np.asarray(loss_diff(idx, plus, minus), dtype=np.float64) / (plus - minus)
    return grad.reshape(theta.shape)


def kink_free(
    sample: Callable[[int], Any],
    preactivations: Callable[[Any], Iterable[np.ndarray]],
    margin: float = 1e-2,
    max_tries: int = 100,
) -> tuple[Any, int]:
    """Rejection sampling of a test instance away from kinks.

    Calls ``sample(attempt)`` for attempt = 0, 1, ... until every array returned by
    ``preactivations(instance)`` (e.g. each ReLU pre-activation (N, D_m)) has
    ``min |z| > margin``. Returns (instance, attempt); RuntimeError after ``max_tries``.
    """
    for attempt in range(max_tries):
        instance = sample(attempt)
        if all(np.min(np.abs(z), initial=np.inf) > margin for z in preactivations(instance)):
            return instance, attempt
    raise RuntimeError(f"no instance with every |z| > {margin} in {max_tries} draws")
