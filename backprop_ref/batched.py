"""Backprop for a batch: one example per row (docs/conventions.md).

Forward:  Z^(m) = A^(m-1) W^(m)T + 1_N b^(m)T,   A^(m) = f(Z^(m)),   L = (1/N) sum_n L_n.
Backward: dW = dZ^T A_prev,   db = dZ^T 1_N,   dA_prev = dZ W.

``backprop_ref.vector`` has the same functions for one example in columns; a diff of the two
modules shows only what vectorizing over the batch changes. Backward passes never write into
their arguments or caches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref.activations import as_float, elementwise, sigmoid
from backprop_ref.losses import output_activation, per_example_grad, per_example_loss
from backprop_ref.spec import MLPSpec

CLASS_AXIS = 1
"""Axis of units/classes: arrays are (N, D_m)."""


def _as_data(x: np.ndarray, width: int, what: str) -> np.ndarray:
    """Check a batch (N, width) and return it as a float array (float64 unless given float32)."""
    x = as_float(x)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{what} must have shape (N, {width}), got {x.shape}")
    return x


def affine_forward(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Z = A_prev W^T + 1_N b^T.

    a_prev: (N, D_in), W: (D_out, D_in), b: (D_out, 1). Returns Z (N, D_out) and the cache.
    """
    z = a_prev @ W.T + b.T
    return z, (a_prev, W, b)


def affine_backward(
    dz: np.ndarray, cache: tuple, need_da_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of the affine map from dZ (N, D_out).

    Returns dA_prev (N, D_in) = dZ W, dW (D_out, D_in) = dZ^T A_prev, db (D_out, 1) = dZ^T 1_N;
    dA_prev is None when ``need_da_prev`` is False (the first layer of a net, whose input is data).
    """
    a_prev, W, _ = cache
    da_prev = dz @ W if need_da_prev else None
    return da_prev, dz.T @ a_prev, dz.sum(axis=0, keepdims=True).T


def activation_forward(z: np.ndarray, name: str) -> tuple[np.ndarray, tuple]:
    """A = f(Z) elementwise (softmax along the class axis). Z, A: (N, D_m)."""
    if name == "softmax":
        return output_activation(z, "softmax", CLASS_AXIS), (z, name)
    return elementwise(name)[0](z), (z, name)


def activation_backward(da: np.ndarray, cache: tuple) -> np.ndarray:
    """dZ = dA * f'(Z) (N, D_m); for softmax, each row times the softmax Jacobian."""
    z, name = cache
    if name == "softmax":
        y = output_activation(z, "softmax", CLASS_AXIS)
        return y * (da - (da * y).sum(axis=CLASS_AXIS, keepdims=True))
    return da * elementwise(name)[1](z)


def loss_forward(z_out: np.ndarray, t: np.ndarray, output: str, loss: str) -> tuple[float, tuple]:
    """Mean loss over the batch of the output layer f = ``output`` with loss ``loss``.

    z_out, t: (N, C). Returns the float loss and the cache.
    """
    value = float(per_example_loss(z_out, t, output, loss, CLASS_AXIS).mean())
    return value, (z_out, t, output, loss)


def loss_backward(cache: tuple) -> np.ndarray:
    """dL/dZ^(L) (N, C), including the 1/N of the mean: e.g. (A - T)/N for softmax + CE."""
    z_out, t, output, loss = cache
    return per_example_grad(z_out, t, output, loss, CLASS_AXIS) / z_out.shape[0]


def mlp_forward(
    x: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[np.ndarray, dict[str, Any]]:
    """Forward pass of the MLP. x: (N, D). Returns the output A^(L) (N, C) and the cache.

    The cache holds ``"a0"``...``"aL"`` and ``"z1"``...``"zL"`` (each (N, D_m)), the layer
    caches and ``spec``/``params``.
    """
    a = _as_data(x, spec.sizes[0], "x")
    cache: dict[str, Any] = {"spec": spec, "params": params, "a0": a, "layers": []}
    for m in range(1, spec.depth + 1):
        z, aff = affine_forward(a, params[f"W{m}"], params[f"b{m}"])
        a, act = activation_forward(z, spec.activation(m))
        cache[f"z{m}"], cache[f"a{m}"] = z, a
        cache["layers"].append((aff, act))
    return a, cache


def mlp_loss(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[float, dict[str, Any]]:
    """Forward pass and mean loss. x: (N, D), t: (N, C). Returns (loss, cache)."""
    _, cache = mlp_forward(x, params, spec)
    t = _as_data(t, spec.sizes[-1], "t")
    if t.shape[0] != cache["a0"].shape[0]:
        raise ValueError(f"t has {t.shape[0]} rows but x has {cache['a0'].shape[0]}")
    L = spec.depth
    value, lcache = loss_forward(cache[f"z{L}"], t, spec.output, spec.loss)
    cache["loss"] = lcache
    return value, cache


def mlp_backward(cache: dict[str, Any], input_grad: bool = True) -> dict[str, np.ndarray]:
    """Backward pass from the cache of ``mlp_loss``.

    Returns dL/dW{m} (D_m, D_{m-1}), dL/db{m} (D_m, 1), dL/dz{m} and dL/da{m} (N, D_m) for
    m = 1..L, and dL/da0 (N, D), under the keys "W1", "b1", "z1", "a1", ..., "a0".
    With ``input_grad=False`` dL/da0 is left out (and not computed).
    """
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    grads: dict[str, np.ndarray] = {}
    dz = loss_backward(cache["loss"])
    grads[f"z{L}"] = dz
    # dL/da^(L): only defined through the output activation; softmax/sigmoid pairs are fused.
    grads[f"a{L}"] = _output_da(cache[f"a{L}"], cache["loss"])
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            dz = activation_backward(grads[f"a{m}"], act)
            grads[f"z{m}"] = dz
        da_prev, dW, db = affine_backward(dz, aff, need_da_prev=m > 1 or input_grad)
        grads[f"W{m}"], grads[f"b{m}"] = dW, db
        if da_prev is not None:
            grads[f"a{m - 1}"] = da_prev
    return grads


def _output_da(y: np.ndarray, loss_cache: tuple) -> np.ndarray:
    """dL/dA^(L) (N, C) for the batch-mean loss, from the output y and the targets."""
    _, t, _, loss = loss_cache
    n = y.shape[0]
    if loss == "half_squared_error":
        return (y - t) / n
    if loss == "squared_error":
        return 2.0 * (y - t) / n
    if loss == "cross_entropy":
        # -t_k / y_k; 0 where t_k = 0 even if y_k underflowed to 0 (no 0/0 = nan).
        with np.errstate(divide="ignore"):
            return np.divide(-t, y, out=np.zeros_like(y), where=t != 0) / n
    # BCE: -t / y + (1 - t) / (1 - y) with 1 - y = sigmoid(-z), exact when y rounds to 1.
    z_out = loss_cache[0]
    with np.errstate(divide="ignore"):
        return (
            np.divide(-t, y, out=np.zeros_like(y), where=t != 0)
            + np.divide(1.0 - t, sigmoid(-z_out), out=np.zeros_like(y), where=t != 1)
        ) / n
