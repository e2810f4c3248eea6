"""The reference backward pass with one catalogued student mistake switched on (``bug=``).

Mutants serve two purposes: tests inject each mistake into a correct implementation and check
that ``backprop_ref.diagnose`` names it, and the diagnosis uses them as oracles (a candidate that
equals a mutant's output has that mistake). Bug ids are ids of ``coursekit.diagnose.MISTAKES``.

Value-level bugs (``BUGS``), injected by ``mutant_backward(cache, bug, level)``:

| bug | what the mutant does (batched level, rows are examples) |
|---|---|
| transposed | every dW is the transpose of the right one |
| missing_1_over_n | dZ^(L) without the 1/N of the mean loss |
| averaged_twice | every db divided by N once more |
| bias_not_summed | every db keeps one column per example, shape (D_m, N) |
| bias_wrong_axis | every db summed over the units, shape (N, 1) |
| missing_activation_derivative | hidden dZ = dA (no f'(Z), e.g. no ReLU mask) |
| derivative_at_activation | hidden dZ = dA * f'(A) instead of f'(Z) |
| sign_flip | dZ^(L) with the wrong sign |
| factor_2 | squared errors: the factor 2 dropped, or added to the 1/2-squared error |
| w_not_transposed | dA_prev through W^T instead of W (square layers only) |
| broadcast_nn | C = 1: output (N,) minus target (N, 1) gives an (N, N) dZ^(L) |

Function-level bugs (``FUNCTION_BUGS``): ``AccumulatingBackward`` (adds into stored gradients
on every call), ``backward_modifying_cache`` (writes f'(Z) into the cached Z) and
``mlp_loss_overwriting_cache`` (a forward whose activation overwrote the cached Z).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref import batched, vector
from backprop_ref.activations import elementwise
from backprop_ref.losses import per_example_grad
from backprop_ref.spec import MLPSpec

BUGS = (
    "transposed",
    "missing_1_over_n",
    "averaged_twice",
    "bias_not_summed",
    "bias_wrong_axis",
    "missing_activation_derivative",
    "derivative_at_activation",
    "sign_flip",
    "factor_2",
    "w_not_transposed",
    "broadcast_nn",
)
"""Value-level bugs that ``mutant_backward`` can inject."""

FUNCTION_BUGS = ("accumulates", "cache_modified", "forward_overwrote_cache")
"""Bugs visible only across calls or in the caches, injected by the function-level mutants."""

_LEVELS = {"batched": batched, "vector": vector}
_BATCH_ONLY = {"missing_1_over_n", "averaged_twice", "bias_not_summed", "bias_wrong_axis",
               "broadcast_nn"}


def level_module(level: str) -> Any:
    """The reference module for ``level`` ("batched" or "vector")."""
    try:
        return _LEVELS[level]
    except KeyError:
        raise ValueError(f"level must be one of {tuple(_LEVELS)}, got {level!r}") from None


def applicable(bug: str, spec: MLPSpec, level: str = "batched") -> bool:
    """Whether ``bug`` changes the gradient of ``spec`` at ``level`` (e.g. sigma'(a) needs a
    sigmoid or tanh hidden layer, factor_2 a squared error, w_not_transposed a square layer)."""
    if bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}; use one of {BUGS}")
    if level == "vector" and bug in _BATCH_ONLY:
        return False
    hidden = set(spec.hidden)
    if bug == "missing_activation_derivative":
        return bool(hidden - {"identity"})
    if bug == "derivative_at_activation":
        return bool(hidden & {"sigmoid", "tanh"})
    if bug == "factor_2":
        return spec.loss in ("half_squared_error", "squared_error")
    if bug == "bias_wrong_axis":
        return min(spec.sizes[1:]) > 1
    if bug == "w_not_transposed":
        return any(spec.sizes[m] == spec.sizes[m - 1] for m in range(2, spec.depth + 1))
    if bug == "broadcast_nn":
        return (spec.sizes[-1] == 1 and spec.output != "softmax"
                and spec.loss in ("half_squared_error", "squared_error"))
    return True


def _loss_dz(cache: dict[str, Any], bug: str | None, level: str) -> tuple[np.ndarray, float]:
    """dZ^(L) with a loss-level bug, and the factor the bug puts on dL/dA^(L)."""
    mod = level_module(level)
    z_out, t, output, loss = cache["loss"]
    dz = mod.loss_backward(cache["loss"])
    if bug == "missing_1_over_n":
        return per_example_grad(z_out, t, output, loss, mod.CLASS_AXIS), float(z_out.shape[0])
    if bug == "sign_flip":
        return -dz, -1.0
    if bug == "factor_2":
        factor = 2.0 if loss == "half_squared_error" else 0.5
        return dz * factor, factor
    return dz, 1.0


def _broadcast_grads(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """The output layer of a C = 1 squared-error net whose output was flattened to (N,)."""
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    z_out, t, output, loss = cache["loss"]
    n = z_out.shape[0]
    y = cache[f"a{L}"].reshape(-1)
    dy = (y - t) if loss == "half_squared_error" else 2.0 * (y - t)
    dz = dy * elementwise(output)[1](z_out) / n
    a_prev = cache[f"a{L - 1}"]
    return {f"z{L}": dz, f"W{L}": dz.T @ a_prev, f"b{L}": dz.sum(axis=0, keepdims=True).T}


def mutant_backward(
    cache: dict[str, Any], bug: str | None = None, level: str = "batched"
) -> dict[str, np.ndarray]:
    """``mlp_backward`` of ``level`` on the cache of its ``mlp_loss``, with ``bug`` injected.

    Returns the keys of the reference backward (W{m} (D_m, D_{m-1}), b{m} (D_m, 1), z{m},
    a{m} (N, D_m) or (D_m, 1), a0) with the shapes the mistake produces; ``bug=None`` gives the
    reference gradients. ``broadcast_nn`` returns only the output layer's keys (the student's
    code would crash one step later).
    """
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}; use one of {BUGS}")
    mod = level_module(level)
    spec: MLPSpec = cache["spec"]
    if bug is not None and not applicable(bug, spec, level):
        raise ValueError(f"bug {bug!r} does not apply to {spec} at level {level!r}")
    if bug == "broadcast_nn":
        return _broadcast_grads(cache)
    L = spec.depth
    n = cache["a0"].shape[0] if level == "batched" else 1
    reference = mod.mlp_backward(cache)
    dz, factor = _loss_dz(cache, bug, level)
    grads: dict[str, np.ndarray] = {f"z{L}": dz, f"a{L}": reference[f"a{L}"] * factor}
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            da = grads[f"a{m}"]
            if bug == "missing_activation_derivative":
                dz = da.copy()
            elif bug == "derivative_at_activation" and act[1] in ("sigmoid", "tanh"):
                dz = da * elementwise(act[1])[1](cache[f"a{m}"])
            else:
                dz = mod.activation_backward(da, act)
            grads[f"z{m}"] = dz
        da_prev, dW, db = mod.affine_backward(dz, aff)
        W = aff[1]
        if bug == "transposed":
            dW = dW.T.copy()
        elif bug == "averaged_twice":
            db = db / n
        elif bug == "bias_not_summed":
            db = dz.T.copy()
        elif bug == "bias_wrong_axis":
            db = dz.sum(axis=1, keepdims=True)
        elif bug == "w_not_transposed" and W.shape[0] == W.shape[1]:
            da_prev = dz @ W.T if level == "batched" else W @ dz
        grads[f"W{m}"], grads[f"b{m}"], grads[f"a{m - 1}"] = dW, db, da_prev
    return grads


class AccumulatingBackward:
    """A backward that adds into gradients kept between calls (``+=`` on stored arrays), so the
    second call returns twice the gradient. Call it like ``mlp_backward(cache)``."""

    def __init__(self, level: str = "batched") -> None:
        self._mod = level_module(level)
        self._store: dict[str, np.ndarray] = {}

    def __call__(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        """Gradients (shapes as ``mlp_backward``) summed over every call so far."""
        for key, value in self._mod.mlp_backward(cache).items():
            if key in self._store:
                self._store[key] += value
            else:
                self._store[key] = value.copy()
        return {key: value.copy() for key, value in self._store.items()}


def backward_modifying_cache(
    cache: dict[str, Any], level: str = "batched"
) -> dict[str, np.ndarray]:
    """Right gradients on the first call, but f'(Z) is written into each cached hidden Z
    (N, D_m) in place, so the cache is corrupted for any later use."""
    mod = level_module(level)
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    grads: dict[str, np.ndarray] = {}
    dz = mod.loss_backward(cache["loss"])
    grads[f"z{L}"] = dz
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            z, name = act
            z[...] = elementwise(name)[1](z)
            dz = grads[f"a{m}"] * z
            grads[f"z{m}"] = dz
        da_prev, dW, db = mod.affine_backward(dz, aff)
        grads[f"W{m}"], grads[f"b{m}"], grads[f"a{m - 1}"] = dW, db, da_prev
    return grads


def mlp_loss_overwriting_cache(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec,
    level: str = "batched",
) -> tuple[float, dict[str, Any]]:
    """``mlp_loss`` whose hidden activations were computed in place over Z: each cached
    ``z{m}`` (N, D_m) holds A^(m) instead of Z^(m). Returns (loss, cache)."""
    value, cache = level_module(level).mlp_loss(x, t, params, spec)
    for m in range(1, spec.depth):
        cache[f"z{m}"][...] = cache[f"a{m}"]
    return value, cache
