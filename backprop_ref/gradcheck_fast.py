"""The fast full check of a batched MLP: central differences of every parameter, evaluated in
stacked batches of perturbations (instructor side: tests and benchmarks, never shipped).

- ``batched_numerical_gradient(loss_diff, theta, *, h=DEFAULT_H, batch=4096)``: central
  differences of every entry of ``theta``, ``batch`` entries at a time, from a ``loss_diff``
  that evaluates the B perturbed models together; ``perturbed_stack(theta, idx, values)``
  builds B perturbed copies for such a function.
- ``fast_numerical_gradients`` / ``fast_full_check(X, T, params, spec, grads)``: the same for
  every parameter of a batched MLP (X (N, D), T (N, C), params as in docs/conventions.md).
  Perturbing W^(m)_ij or b^(m)_i changes only column i of Z^(m); the unperturbed layers below
  are cached, and only the examples whose activation actually changed are carried through the
  layers above. The forward computations are the reference's activation and loss functions;
  for softmax + cross-entropy the loss of each perturbed model is its log-sum-exp evaluated
  relative to the unperturbed softmax p: sum_k p_k exp(x_k) with x the (realised) change of the
  logits, through expm1 and exp(-x) = 1/exp(x) for the opposite step. No derivative enters:
  every entry is (L(theta + h) - L(theta - h)) / (realised 2h), and
  tests/backprop_ref/test_gradcheck_fast.py checks it against the per-entry loop of two full
  forward passes (``coursekit.gradcheck.numerical_gradient``).

Same steps (``h * max(1, |theta_i|)``) and pass rule (``PASS_TOL``) as the full check of
``backprop_ref.gradcheck``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from backprop_ref import batched
from backprop_ref.activations import elementwise, softmax
from backprop_ref.gradcheck import GradCheckReport, compare_gradients
from backprop_ref.losses import per_example_loss
from backprop_ref.spec import MLPSpec
from coursekit.gradcheck import DEFAULT_H, PASS_TOL

__all__ = [
    "batched_numerical_gradient",
    "fast_full_check",
    "fast_numerical_gradients",
    "perturbed_stack",
]


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


_BLOCK = 1 << 20
"""Entries (float64) of the largest work array of ``_MLPPerturbations._ce_changes``."""


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
        self._psum = self._probs.sum(axis=1)
        self._tsum = self.T.sum(axis=1)
        self._tw = self.T @ params[f"W{L}"]
        self._t: dict[str, np.ndarray] = {}
        self._buffers = (np.empty(0), np.empty(0))

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
        pair = m == self.spec.depth - 1 and self.spec.loss == "cross_entropy"

        def diff(idx: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
            old = theta.reshape(-1)[idx]
            step_up, step_down = plus - old, minus - old
            if kind == "W":
                unit, j = np.divmod(idx, theta.shape[1])
            else:
                unit, j = idx, None
            if pair:
                return self._softmax_ce_pair(m, unit, j, step_up, step_down)
            col = a_prev_t[j] if j is not None else np.ones((idx.size, self.n))
            zcol = z_t[unit]
            z_up = zcol + step_up[:, None] * col
            z_down = zcol + step_down[:, None] * col
            if m == self.spec.depth and self.spec.loss == "cross_entropy":
                return self._logit_ce_changes(unit, z_up - zcol, z_down - zcol)
            return self._change(m, unit, z_up) - self._change(m, unit, z_down)

        return diff

    def _logit_ce_changes(
        self, unit: np.ndarray, d_up: np.ndarray, d_down: np.ndarray
    ) -> np.ndarray:
        """L(up) - L(down) (B,) for softmax + cross-entropy when logit ``unit[b]`` of example n
        moves by d_up[b, n] or d_down[b, n] (B, N): the reference loss
        -sum_k t_k log softmax_k changes by tsum log1p(p_u expm1(d) / P) - t_u d, with
        p = softmax of the unperturbed logits, P = sum_k p_k and tsum = sum_k t_k."""
        q = (self._probs / self._psum[:, None]).T[unit]
        log_up = np.log1p(q * np.expm1(d_up))
        log_down = np.log1p(q * np.expm1(d_down))
        target = np.einsum("bn,bn->b", self.T.T[unit], d_up - d_down)
        return ((log_up - log_down) @ self._tsum - target) / self.n

    def _softmax_ce_pair(
        self, m: int, unit: np.ndarray, j: np.ndarray | None, step_up: np.ndarray,
        step_down: np.ndarray,
    ) -> np.ndarray:
        """L(up) - L(down) (B,) when W^(m)[unit[b], j[b]] (or b^(m)[unit[b]] if ``j`` is None)
        of the last hidden layer moves by ``step_up[b]`` or ``step_down[b]`` (the realised
        steps), for softmax + cross-entropy.

        The perturbed pre-activations Z^(m)[n, u] + step * A^(m-1)[n, j] (or + step) and their
        activations are computed for every example they can reach (``_moving_rows``); the
        logits and losses of the perturbed models follow in ``_ce_changes``. Weights are
        handled one unit at a time (its entries share W^(L)[:, u] and the moving examples),
        biases all at once."""
        f = elementwise(self.spec.activation(m))[0]
        a_prev, z_m, a_m = (self.cache[f"{k}{i}"] for k, i in (("a", m - 1), ("z", m), ("a", m)))
        if j is None:
            rows = np.arange(self.n)
            z, a = z_m[:, unit], a_m[:, unit]
            return self._ce_changes(rows, unit, f(z + step_up) - a, f(z + step_down) - a)
        out = np.zeros(unit.size)
        bounds = [0, *(np.flatnonzero(np.diff(unit)) + 1).tolist(), unit.size]
        for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
            u = int(unit[r0])
            s_up, s_down = step_up[r0:r1], step_down[r0:r1]
            max_step = float(max(np.abs(s_up).max(), np.abs(s_down).max()))
            rows = self._moving_rows(m, u, max_step)
            if rows.size == 0:
                continue
            js = j[r0:r1]
            if int(js[-1]) - int(js[0]) == js.size - 1:
                col = a_prev[rows, int(js[0]):int(js[-1]) + 1]
            else:
                col = a_prev[rows][:, js]
            z, a = z_m[rows, u][:, None], a_m[rows, u][:, None]
            d_up = f(z + s_up * col)
            d_up -= a
            d_down = f(z + s_down * col)
            d_down -= a
            out[r0:r1] = self._ce_changes(rows, u, d_up, d_down)
        return out

    def _moving_rows(self, m: int, u: int, max_step: float) -> np.ndarray:
        """Examples whose activation of unit ``u`` in layer m may change when a weight
        W^(m)[u, j] moves by at most ``max_step``: all of them, except, for ReLU, those whose
        pre-activation is negative by more than twice any possible change of it (their
        activation stays exactly 0, so their loss is exactly unchanged)."""
        if self.spec.activation(m) != "relu":
            return np.arange(self.n)
        key = f"colmax{m - 1}"
        if key not in self._t:
            self._t[key] = np.abs(self.cache[f"a{m - 1}"]).max(axis=1)
        z = self._transposed(f"z{m}")[u]
        return np.flatnonzero((z > 0) | (-z <= 2.0 * max_step * self._t[key]))

    def _buffer(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Two reusable float64 work arrays of at least ``size`` entries."""
        if self._buffers[0].size < size:
            self._buffers = (np.empty(size), np.empty(size))
        return self._buffers[0][:size], self._buffers[1][:size]

    def _ce_changes(
        self, rows: np.ndarray, unit: int | np.ndarray, d_up: np.ndarray, d_down: np.ndarray
    ) -> np.ndarray:
        """Sum over the examples ``rows`` (S,) of L_n(up) - L_n(down), divided by N, when the
        activation of the last hidden layer's unit u (``unit``, or ``unit[g]`` for
        perturbation g) in example rows[s] changes by d_up[s, g] or d_down[s, g] (S, G).
        Returns (G,).

        The logits of example n move by d W^(L)[:, u], and with p = softmax of the unperturbed
        logits the reference loss -sum_k t_k log softmax_k changes by
        tsum log(sum_k p_k exp(d w_k) / sum_k p_k) - d t.w (tsum = sum_k t_k). With
        x_k = d w_k, sum_k p_k exp(x_k) = P + A and sum_k p_k exp(-x_k) = P - B for
        P = sum_k p_k, A = sum_k p_k expm1(x_k), B = sum_k p_k expm1(x_k) / (1 + expm1(x_k))
        (exp(-x) = 1 / exp(x), used where d_down = -d_up exactly; elsewhere expm1 of the
        down-step logits is evaluated), so the log-ratio of up and down is
        log1p((A + B) / (P - B)). The exponentials are (S, C, G') blocks of at most ``_BLOCK``
        entries in preallocated buffers; the sums over C are matmuls."""
        w_l = self.params[f"W{self.spec.depth}"]
        n_rows, n_pert = d_up.shape
        if isinstance(unit, int):
            w = np.repeat(w_l[:, unit:unit + 1], n_pert, axis=1)
            tw = self._tw[rows, unit]
            target = tw @ d_up - tw @ d_down
        else:
            w = w_l[:, unit]
            target = np.einsum("sg,sg->g", self._tw[rows][:, unit], d_up - d_down)
        p_row = self._probs[rows][:, None, :]
        a_sum, b_sum = np.empty((n_rows, n_pert)), np.empty((n_rows, n_pert))
        chunk = max(1, _BLOCK // (n_rows * w.shape[0]))
        for g0 in range(0, n_pert, chunk):
            g1 = min(n_pert, g0 + chunk)
            e_buf, t_buf = self._buffer(n_rows * w.shape[0] * (g1 - g0))
            e = e_buf.reshape(n_rows, w.shape[0], g1 - g0)
            t = t_buf.reshape(e.shape)
            np.multiply(d_up[:, None, g0:g1], w[:, g0:g1], out=e)
            np.expm1(e, out=e)
            a_sum[:, g0:g1] = np.matmul(p_row, e)[:, 0, :]
            np.add(e, 1.0, out=t)
            np.divide(e, t, out=e)
            b_sum[:, g0:g1] = np.matmul(p_row, e)[:, 0, :]
        asym = np.flatnonzero(np.any(d_up + d_down != 0.0, axis=0))
        if asym.size:
            e_down = np.expm1(np.multiply(d_down[:, None, asym], w[:, asym]))
            b_sum[:, asym] = -np.matmul(p_row, e_down)[:, 0, :]
        ratio_m1 = a_sum + b_sum
        b_sum -= self._psum[rows][:, None]
        ratio_m1 /= b_sum
        np.negative(ratio_m1, out=ratio_m1)
        tsum = self._tsum[rows]
        if np.all(tsum == 1.0):
            log_ratio = _log1p_sum(ratio_m1)
        else:
            log_ratio = tsum @ np.log1p(ratio_m1)
        return (log_ratio - target) / self.n

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


def _log1p_sum(r: np.ndarray) -> np.ndarray:
    """sum_s log1p(r[s, g]) (G,) for r (S, G) as one log1p per column: the factors 1 + r are
    multiplied pairwise in the form (1 + a)(1 + b) - 1 = a + b + ab (no rounding of 1 + r)."""
    while r.shape[0] > 1:
        half = r.shape[0] // 2
        a, b = r[:half], r[half:2 * half]
        prod = a * b
        prod += a
        prod += b
        if r.shape[0] % 2:
            last = r[-1]
            prod[0] += last + prod[0] * last
        r = prod
    return np.log1p(r[0])


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
    b{m} (D_m, 1)), about ``batch`` perturbations at a time (for a weight matrix, rounded
    down to whole rows, so that each batch holds every entry of some units). Use a kink-free
    instance."""
    runner = _MLPPerturbations(X, T, params, spec)
    names = spec.param_names() if names is None else list(names)
    numeric = {}
    for name in names:
        theta = np.asarray(params[name], dtype=np.float64)
        row = theta.shape[-1] if theta.ndim == 2 else 1
        numeric[name] = batched_numerical_gradient(
            runner.loss_diff(name), theta, h=h, batch=max(row, batch // row * row)
        )
    return numeric


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
