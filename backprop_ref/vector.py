"""Backprop for one example: column vectors (docs/conventions.md).

Forward:  z^(m) = W^(m) a^(m-1) + b^(m),   a^(m) = f(z^(m)),   L = L(a^(L), t).
Backward: dW = dz a_prev^T,   db = dz,   da_prev = W^T dz.

``backprop_ref.batched`` has the same functions for a batch in rows; a diff of the two
modules shows only what vectorizing over the batch changes. Backward passes never write into
their arguments or caches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref.activations import as_float, elementwise, sigmoid
from backprop_ref.losses import output_activation, per_example_grad, per_example_loss
from backprop_ref.spec import MLPSpec

CLASS_AXIS = 0
"""Axis of units/classes: arrays are (D_m, 1)."""


def _as_data(x: np.ndarray, width: int, what: str) -> np.ndarray:
    """Check a column (width, 1) and return it as a float array (float64 unless given float32)."""
    x = as_float(x)
    if x.shape != (width, 1):
        raise ValueError(f"{what} must be a column of shape ({width}, 1), got {x.shape}")
    return x


def affine_forward(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """z = W a_prev + b.

    a_prev: (D_in, 1), W: (D_out, D_in), b: (D_out, 1). Returns z (D_out, 1) and the cache.
    """
    z = W @ a_prev + b
    return z, (a_prev, W, b)


def affine_backward(
    dz: np.ndarray, cache: tuple, need_da_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of the affine map from dz (D_out, 1).

    Returns da_prev (D_in, 1) = W^T dz, dW (D_out, D_in) = dz a_prev^T, db (D_out, 1) = dz;
    da_prev is None when ``need_da_prev`` is False (the first layer of a net, whose input is data).
    """
    a_prev, W, _ = cache
    da_prev = W.T @ dz if need_da_prev else None
    return da_prev, dz @ a_prev.T, dz.copy()


def activation_forward(z: np.ndarray, name: str) -> tuple[np.ndarray, tuple]:
    """a = f(z) elementwise (softmax along the class axis). z, a: (D_m, 1)."""
    if name == "softmax":
        return output_activation(z, "softmax", CLASS_AXIS), (z, name)
    return elementwise(name)[0](z), (z, name)


def activation_backward(da: np.ndarray, cache: tuple) -> np.ndarray:
    """dz = da * f'(z) (D_m, 1); for softmax, the softmax Jacobian times da."""
    z, name = cache
    if name == "softmax":
        y = output_activation(z, "softmax", CLASS_AXIS)
        return y * (da - (da * y).sum(axis=CLASS_AXIS, keepdims=True))
    return da * elementwise(name)[1](z)


def loss_forward(z_out: np.ndarray, t: np.ndarray, output: str, loss: str) -> tuple[float, tuple]:
    """Loss of the example for the output layer f = ``output`` with loss ``loss``.

    z_out, t: (C, 1). Returns the float loss and the cache.
    """
    value = float(per_example_loss(z_out, t, output, loss, CLASS_AXIS).sum())
    return value, (z_out, t, output, loss)


def loss_backward(cache: tuple) -> np.ndarray:
    """dL/dz^(L) (C, 1): e.g. a - t for softmax + CE."""
    z_out, t, output, loss = cache
    return per_example_grad(z_out, t, output, loss, CLASS_AXIS)


def mlp_forward(
    x: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[np.ndarray, dict[str, Any]]:
    """Forward pass of the MLP. x: (D, 1). Returns the output a^(L) (C, 1) and the cache.

    The cache holds ``"a0"``...``"aL"`` and ``"z1"``...``"zL"`` (each (D_m, 1)), the layer
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
    """Forward pass and loss. x: (D, 1), t: (C, 1). Returns (loss, cache)."""
    _, cache = mlp_forward(x, params, spec)
    t = _as_data(t, spec.sizes[-1], "t")
    L = spec.depth
    value, lcache = loss_forward(cache[f"z{L}"], t, spec.output, spec.loss)
    cache["loss"] = lcache
    return value, cache


def mlp_backward(cache: dict[str, Any], input_grad: bool = True) -> dict[str, np.ndarray]:
    """Backward pass from the cache of ``mlp_loss``.

    Returns dL/dW{m} (D_m, D_{m-1}), dL/db{m} (D_m, 1), dL/dz{m} and dL/da{m} (D_m, 1) for
    m = 1..L, and dL/da0 (D, 1), under the keys "W1", "b1", "z1", "a1", ..., "a0".
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
    """dL/da^(L) (C, 1) for the example's loss, from the output y and the target."""
    _, t, _, loss = loss_cache
    if loss == "half_squared_error":
        return y - t
    if loss == "squared_error":
        return 2.0 * (y - t)
    if loss == "cross_entropy":
        # -t_k / y_k; 0 where t_k = 0 even if y_k underflowed to 0 (no 0/0 = nan).
        with np.errstate(divide="ignore"):
            return np.divide(-t, y, out=np.zeros_like(y), where=t != 0)
    # BCE: -t / y + (1 - t) / (1 - y) with 1 - y = sigmoid(-z), exact when y rounds to 1.
    z_out = loss_cache[0]
    with np.errstate(divide="ignore"):
        return (
            np.divide(-t, y, out=np.zeros_like(y), where=t != 0)
            + np.divide(1.0 - t, sigmoid(-z_out), out=np.zeros_like(y), where=t != 1)
        )
