"""The instructor's gradient checks (never shipped to students) and their wiring to the
reference MLP; built on ``coursekit.gradcheck`` (``rel_error``, ``PASS_TOL``,
``numerical_gradient``), which is what the students have.

Generic checks (``f`` is a function of no arguments that reads the arrays of ``params``, a dict
of float64 arrays such as ``"W1"`` (D_1, D), ``"b1"`` (D_1, 1); the checks perturb those arrays
in place and restore them exactly):

- ``check_gradients(f, params, grads, *, names=None, h=DEFAULT_H, tol=PASS_TOL, kinks=None)``:
  the full check, central differences of every entry, with a per-tensor ``GradCheckReport``;
- ``directional_check(f, params, grads, k=8, seed=0, per_tensor=True, *, names=None,
  eps=DEFAULT_H, tol=DIRECTIONAL_TOL)``: K random unit directions per tensor;
- ``assert_gradients(f, params, grads, *, method="full", ...)``: either, raising on failure;
- ``compare_gradients(grads, expected)``: the report for trusted expected gradients;
- ``kink_free(sample, preactivations, margin=1e-2, max_tries=100)``: rejection sampling.

MLP helpers (batched level: X (N, D), T (N, C), params as in docs/conventions.md):

- ``mlp_loss_fn(X, T, params, spec, level)``: the loss as a function of no arguments, reading
  ``params`` (which the checks perturb in place).
- ``relu_signs_fn(X, params, spec)``: the signs of every ReLU pre-activation, for ``kinks=``.
- ``kink_free_instance(spec, N, seed, margin)``: (X, T, params) with every ReLU pre-activation
  at least ``margin`` away from 0 (examples are redrawn one by one until they are).

The fast full check of a whole MLP by stacked perturbations is ``backprop_ref.gradcheck_fast``.

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

from backprop_ref import batched
from backprop_ref.mutants import level_module
from backprop_ref.spec import MLPSpec, init_params
from coursekit.gradcheck import DEFAULT_H, PASS_TOL, numerical_gradient, rel_error

__all__ = [
    "DIRECTIONAL_TOL",
    "GradCheckReport",
    "TensorCheck",
    "as_float64",
    "assert_gradients",
    "check_gradients",
    "compare_gradients",
    "directional_check",
    "kink_free",
    "kink_free_instance",
    "mlp_loss_fn",
    "relu_signs_fn",
]

DIRECTIONAL_TOL = 1e-5
"""A directional check passes when the K directional derivatives agree to this relative error."""


def as_float64(x: Any, name: str = "array") -> np.ndarray:
    """``x`` as a float64 array; TypeError for None, objects, strings and complex numbers."""
    if x is None:
        raise TypeError(f"{name} is None: the function returned nothing")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


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


def _kink_crossings(
    kinks: Callable[[], np.ndarray], x: np.ndarray, h: float = DEFAULT_H
) -> np.ndarray:
    """Boolean mask (the shape of ``x``) of the entries whose step ``+-h * max(1, |x_i|)`` (the
    steps of ``numerical_gradient``) changes ``kinks()``; ``x`` is perturbed in place and
    restored exactly."""
    base = np.asarray(kinks()).copy()
    crossed = np.zeros(x.shape, dtype=bool)
    flat, cflat = x.reshape(-1), crossed.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        step = h * max(1.0, abs(old))
        for value in (old + step, old - step):
            flat[i] = value
            cflat[i] |= not np.array_equal(kinks(), base)
        flat[i] = old
    return crossed


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
        numeric[name] = numerical_gradient(f, params[name], h)
        crossed[name] = (np.zeros(params[name].shape, dtype=bool) if kinks is None
                         else _kink_crossings(kinks, params[name], h))
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


def mlp_loss_fn(
    X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec,
    level: str = "batched",
) -> Callable[[], float]:
    """``f()`` = the reference loss of ``spec`` on X (N, D), T (N, C) (or columns (D, 1),
    (C, 1) for level "vector") with the current contents of ``params``."""
    mod = level_module(level)
    return lambda: mod.mlp_loss(X, T, params, spec)[0]


def relu_signs_fn(
    X: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> Callable[[], np.ndarray]:
    """``kinks()`` = the boolean pattern Z^(m) > 0 of every ReLU layer, flattened (batched)."""
    relu = [m for m in range(1, spec.depth + 1) if spec.activation(m) == "relu"]

    def signs() -> np.ndarray:
        _, cache = batched.mlp_forward(X, params, spec)
        return np.concatenate([np.ravel(cache[f"z{m}"] > 0) for m in relu] + [np.zeros(0, bool)])

    return signs


def _targets(spec: MLPSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    c = spec.sizes[-1]
    if spec.loss == "cross_entropy":
        return np.eye(c)[rng.integers(0, c, size=n)]
    if spec.loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n, c)).astype(np.float64)
    if spec.output == "sigmoid":
        return rng.uniform(0.05, 0.95, size=(n, c))
    return rng.normal(0.0, 1.0, size=(n, c))


def kink_free_instance(
    spec: MLPSpec, N: int, seed: int = 0, margin: float = 1e-2, max_tries: int = 1000
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A seeded batched instance: X (N, D) standard normal, T (N, C) suited to the loss, He
    parameters; every example is redrawn until each ReLU pre-activation has ``|z| > margin``.
    Returns (X, T, params)."""
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng)
    X = rng.normal(0.0, 1.0, size=(N, spec.sizes[0]))
    relu = [m for m in range(1, spec.depth + 1) if spec.activation(m) == "relu"]
    for _ in range(max_tries):
        _, cache = batched.mlp_forward(X, params, spec)
        bad = np.zeros(N, dtype=bool)
        for m in relu:
            bad |= np.any(np.abs(cache[f"z{m}"]) <= margin, axis=1)
        if not bad.any():
            return X, _targets(spec, N, rng), params
        X[bad] = rng.normal(0.0, 1.0, size=(int(bad.sum()), spec.sizes[0]))
    raise RuntimeError(f"no kink-free instance with margin {margin} after {max_tries} redraws")
