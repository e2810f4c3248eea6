"""The gradient checker of ``coursekit.gradcheck`` plus its wiring to the reference MLP.

The generic checks (one implementation) are re-exported from ``coursekit.gradcheck``:
``check_gradients``, ``assert_gradients``, ``directional_check``, ``compare_gradients``,
``numerical_gradient``, ``batched_numerical_gradient``, ``rel_error`` and the tolerances.

MLP helpers (batched level: X (N, D), T (N, C), params as in docs/conventions.md):

- ``mlp_loss_fn(X, T, params, spec, level)``: the loss as a function of no arguments, reading
  ``params`` (which the checks perturb in place).
- ``relu_signs_fn(X, params, spec)``: the signs of every ReLU pre-activation, for ``kinks=``.
- ``kink_free_instance(spec, N, seed, margin)``: (X, T, params) with every ReLU pre-activation
  at least ``margin`` away from 0 (examples are redrawn one by one until they are).
- ``fast_numerical_gradients`` / ``fast_full_check(X, T, params, spec, grads)``: central
  differences of every parameter, evaluated in stacked batches of perturbations. Perturbing
  W^(m)_ij or b^(m)_i changes only column i of Z^(m); the unperturbed layers below are cached,
  and only the examples whose activation actually changed are carried through the layers above.
  The forward computations are the reference's activation and loss functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from backprop_ref import batched
from backprop_ref.activations import elementwise, softmax
from backprop_ref.losses import per_example_loss
from backprop_ref.mutants import level_module
from backprop_ref.spec import MLPSpec, init_params
from coursekit.gradcheck import (
    DEFAULT_H,
    DIRECTIONAL_TOL,
    PASS_TOL,
    GradCheckReport,
    TensorCheck,
    as_float64,
    assert_gradients,
    batched_numerical_gradient,
    check_gradients,
    compare_gradients,
    directional_check,
    kink_free,
    numerical_gradient,
    perturbed_stack,
    rel_error,
)

__all__ = [
    "DEFAULT_H",
    "DIRECTIONAL_TOL",
    "PASS_TOL",
    "GradCheckReport",
    "TensorCheck",
    "as_float64",
    "assert_gradients",
    "batched_numerical_gradient",
    "check_gradients",
    "compare_gradients",
    "directional_check",
    "fast_full_check",
    "fast_numerical_gradients",
    "kink_free",
    "kink_free_instance",
    "mlp_loss_fn",
    "numerical_gradient",
    "perturbed_stack",
    "rel_error",
    "relu_signs_fn",
]


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


class _MLPPerturbations:
    """Loss differences of a batched MLP under single-entry perturbations of one parameter."""

    def __init__(self, X: np.ndarray, T: np.ndarray, params: Mapping[str, np.ndarray],
                 spec: MLPSpec) -> None:
        self.spec, self.params = spec, params
        _, self.cache = batched.mlp_loss(X, T, dict(params), spec)
        self.T = self.cache["loss"][1]
        L = spec.depth
        self.n = X.shape[0]
        self.base = per_example_loss(self.cache[f"z{L}"], self.T, spec.output, spec.loss, 1)[:, 0]
        self._probs = softmax(self.cache[f"z{L}"], axis=1)
        self._tw = self.T @ params[f"W{L}"]
        self._w_out = np.ascontiguousarray(params[f"W{L}"].T)
        self._t: dict[str, np.ndarray] = {}

    def _transposed(self, key: str) -> np.ndarray:
        """The cached (N, D_m) array ``key`` as a contiguous (D_m, N) array (memoised)."""
        if key not in self._t:
            self._t[key] = np.ascontiguousarray(self.cache[key].T)
        return self._t[key]

    def loss_diff(self, name: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
        """``loss_diff(idx, plus, minus)`` for parameter ``name`` ("W{m}" or "b{m}")."""
        kind, m = name[0], int(name[1:])
        theta = self.params[name]
        a_prev_t = self._transposed(f"a{m - 1}")
        z_t = self._transposed(f"z{m}")

        def diff(idx: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
            old = theta.reshape(-1)[idx]
            if kind == "W":
                unit, j = np.divmod(idx, theta.shape[1])
                col = a_prev_t[j]
            else:
                unit, col = idx, np.ones((idx.size, self.n))
            zcol = z_t[unit]
            z_up = zcol + (plus - old)[:, None] * col
            z_down = zcol + (minus - old)[:, None] * col
            if m == self.spec.depth - 1 and self.spec.loss == "cross_entropy":
                return self._softmax_ce_pair(m, unit, z_up, z_down)
            return self._change(m, unit, z_up) - self._change(m, unit, z_down)

        return diff

    def _softmax_ce_pair(
        self, m: int, unit: np.ndarray, z_up: np.ndarray, z_down: np.ndarray
    ) -> np.ndarray:
        """L(up) - L(down) (B,) when Z^(m) of the last hidden layer changes in column
        ``unit[b]`` to ``z_up[b]`` or ``z_down[b]`` (B, N), for softmax + cross-entropy.

        Row n of the logits moves by delta * W^(L)[:, i], so its loss changes by
        log sum_k p_k exp(delta w_k) - delta t.w with p = softmax of the unperturbed logits;
        both sides are sums close to 1 (exp(-x) = 1/exp(x) when the steps are opposite) and
        their log-ratio is the difference of the reference's log-sum-exp losses."""
        f = elementwise(self.spec.activation(m))[0]
        a_old = self._transposed(f"a{m}")[unit]
        d_up, d_down = f(z_up) - a_old, f(z_down) - a_old
        out = np.zeros(unit.size)
        bounds = [0, *(np.flatnonzero(np.diff(unit)) + 1).tolist(), unit.size]
        for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
            u = int(unit[r0])
            up, down = d_up[r0:r1], d_down[r0:r1]
            rows = np.flatnonzero(np.any(up != 0, axis=0) | np.any(down != 0, axis=0))
            up, down = up[:, rows], down[:, rows]
            w, p = self._w_out[u], self._probs[rows]
            e_up = np.multiply.outer(up, w)
            np.exp(e_up, out=e_up)
            if np.array_equal(down, -up):
                e_down = np.divide(1.0, e_up)
            else:
                e_down = np.exp(np.multiply.outer(down, w))
            ratio = np.einsum("gsc,sc->gs", e_up, p) / np.einsum("gsc,sc->gs", e_down, p)
            change = np.log(ratio) - (up - down) * self._tw[rows, u]
            out[r0:r1] = change.sum(axis=1) / self.n
        return out

    def _change(self, m: int, unit: np.ndarray, zcol: np.ndarray) -> np.ndarray:
        """Sum over examples of the loss change / N when column ``unit[b]`` of Z^(m) becomes
        ``zcol[b]`` (B, N), for each perturbation b. Returns (B,)."""
        spec, L, cache = self.spec, self.spec.depth, self.cache
        if m == L:
            rows_b, rows_n = np.nonzero(zcol != cache[f"z{L}"][:, unit].T)
            z = cache[f"z{L}"][rows_n]
            z[np.arange(rows_n.size), unit[rows_b]] = zcol[rows_b, rows_n]
        else:
            delta = elementwise(spec.activation(m))[0](zcol) - cache[f"a{m}"][:, unit].T
            rows_b, rows_n = np.nonzero(delta)
            w_next = self.params[f"W{m + 1}"][:, unit[rows_b]].T
            z = cache[f"z{m + 1}"][rows_n] + delta[rows_b, rows_n][:, None] * w_next
            for k in range(m + 1, L):
                a = elementwise(spec.activation(k))[0](z)
                z = a @ self.params[f"W{k + 1}"].T + self.params[f"b{k + 1}"].T
        new = per_example_loss(z, self.T[rows_n], spec.output, spec.loss, 1)[:, 0]
        change = new - self.base[rows_n]
        return np.bincount(rows_b, weights=change, minlength=zcol.shape[0]) / self.n


def fast_numerical_gradients(
    X: np.ndarray,
    T: np.ndarray,
    params: Mapping[str, np.ndarray],
    spec: MLPSpec,
    *,
    names: Iterable[str] | None = None,
    h: float = DEFAULT_H,
    batch: int = 4096,
) -> dict[str, np.ndarray]:
    """Central differences (steps as ``numerical_gradient``) of the batched mean loss with
    respect to every entry of each parameter in ``names`` (default all: W{m} (D_m, D_{m-1}),
    b{m} (D_m, 1)), ``batch`` perturbations at a time. Use a kink-free instance."""
    runner = _MLPPerturbations(X, T, params, spec)
    names = spec.param_names() if names is None else list(names)
    return {
        name: batched_numerical_gradient(
            runner.loss_diff(name), np.asarray(params[name], dtype=np.float64), h=h, batch=batch
        )
        for name in names
    }


def fast_full_check(
    X: np.ndarray,
    T: np.ndarray,
    params: Mapping[str, np.ndarray],
    spec: MLPSpec,
    grads: Mapping[str, Any],
    *,
    names: Iterable[str] | None = None,
    h: float = DEFAULT_H,
    tol: float = PASS_TOL,
    batch: int = 4096,
) -> GradCheckReport:
    """Full check of every entry of every parameter of a batched MLP by stacked central
    differences (see ``fast_numerical_gradients``); same pass rule as ``check_gradients``."""
    numeric = fast_numerical_gradients(X, T, params, spec, names=names, h=h, batch=batch)
    return compare_gradients(grads, numeric, tol=tol, method="fast full")
