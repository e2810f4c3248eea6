"""Output layer + loss for one example or a batch, with the gradient w.r.t. the pre-activation.

The class axis is ``axis``: 0 for a column (C, 1), 1 for a batch (N, C). Per-example losses are
returned with the class axis summed out; the levels average them over the batch themselves.

| output   | loss                  | per-example loss                    | dL/dz                 |
|----------|-----------------------|-------------------------------------|-----------------------|
| any f    | half_squared_error    | 1/2 sum_k (f(z)_k - t_k)^2          | (y - t) * f'(z)       |
| any f    | squared_error         | sum_k (f(z)_k - t_k)^2              | 2 (y - t) * f'(z)     |
| softmax  | cross_entropy         | -sum_k t_k log softmax(z)_k         | softmax(z) s - t (*)  |
| sigmoid  | binary_cross_entropy  | sum_k logaddexp(0, z_k) - t_k z_k   | sigmoid(z) - t        |

(*) s = sum_k t_k, which is 1 for one-hot or probability targets: then dz = a - t as in the
notes. Softmax with a squared error uses the full softmax Jacobian: dz = y * (g - sum_k g_k y_k).
"""

from __future__ import annotations

import numpy as np

from backprop_ref.activations import as_float, elementwise, log_softmax, sigmoid, softmax


def output_activation(z: np.ndarray, output: str, axis: int) -> np.ndarray:
    """The network output y = f(z) for an output activation name (softmax along ``axis``)."""
    if output == "softmax":
        return softmax(z, axis=axis)
    return elementwise(output)[0](z)


def per_example_loss(
    z: np.ndarray, t: np.ndarray, output: str, loss: str, axis: int
) -> np.ndarray:
    """Loss of each example, the class axis summed out (keepdims): shape (1, 1) or (N, 1)."""
    z = as_float(z)
    t = as_float(t)
    if z.shape != t.shape:
        raise ValueError(f"target shape {t.shape} differs from output shape {z.shape}")
    if loss == "cross_entropy":
        return -(t * log_softmax(z, axis=axis)).sum(axis=axis, keepdims=True)
    if loss == "binary_cross_entropy":
        return (np.logaddexp(0.0, z) - t * z).sum(axis=axis, keepdims=True)
    y = output_activation(z, output, axis)
    sq = ((y - t) ** 2).sum(axis=axis, keepdims=True)
    if loss == "half_squared_error":
        return 0.5 * sq
    if loss == "squared_error":
        return sq
    raise ValueError(f"unknown loss {loss!r}")


def per_example_grad(
    z: np.ndarray, t: np.ndarray, output: str, loss: str, axis: int
) -> np.ndarray:
    """dL_n/dz for each example's own loss (no 1/N), shape of ``z``."""
    z = as_float(z)
    t = as_float(t)
    if loss == "cross_entropy":
        # a - t for targets summing to 1 (the notes' case); exact for any targets.
        return softmax(z, axis=axis) * t.sum(axis=axis, keepdims=True) - t
    if loss == "binary_cross_entropy":
        return sigmoid(z) - t
    y = output_activation(z, output, axis)
    dy = (y - t) if loss == "half_squared_error" else 2.0 * (y - t)
    if output == "softmax":
        return y * (dy - (dy * y).sum(axis=axis, keepdims=True))
    return dy * elementwise(output)[1](z)
