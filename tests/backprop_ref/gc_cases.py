"""Shared instances (imported by the test modules) for the gradient-checker and diagnosis tests.

Dimensions are pairwise distinct (N=5, D=7, H=4, C=3) so that transposes and axis mistakes show
up as shape errors, plus square cases (H = C) and a C = 1 case for broadcasting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref import batched, vector
from backprop_ref.gradcheck import kink_free_instance
from backprop_ref.spec import MLPSpec

SPECS = {
    "relu_ce": MLPSpec((7, 4, 3), "relu", "softmax", "cross_entropy"),
    "sigmoid_half_se": MLPSpec((7, 4, 3), "sigmoid", "identity", "half_squared_error"),
    "tanh_se_square": MLPSpec((7, 4, 4), "tanh", "sigmoid", "squared_error"),
    "relu_softmax_se_square": MLPSpec((7, 3, 3), "relu", "softmax", "half_squared_error"),
    "tanh_c1": MLPSpec((7, 4, 1), "tanh", "identity", "half_squared_error"),
    "deep_bce": MLPSpec((7, 4, 6, 3), ("relu", "sigmoid"), "sigmoid", "binary_cross_entropy"),
}
N = 5


def make_case(spec: MLPSpec, seed: int, level: str = "batched") -> dict[str, Any]:
    """A kink-free instance with its forward cache and reference gradients."""
    X, T, params = kink_free_instance(spec, N, seed=seed, margin=5e-2)
    if level == "vector":
        row = _mixed_row(X, params, spec)
        X, T = X[row:row + 1].T.copy(), T[row:row + 1].T.copy()
    mod = batched if level == "batched" else vector
    _, cache = mod.mlp_loss(X, T, params, spec)
    return {"X": X, "T": T, "params": params, "spec": spec, "cache": cache, "level": level,
            "grads": mod.mlp_backward(cache), "mod": mod}


def _mixed_row(X: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec) -> int:
    """First example with both active and inactive units in every ReLU layer (a missing mask
    is invisible when every unit is active), else 0."""
    _, cache = batched.mlp_forward(X, params, spec)
    relu = [m for m in range(1, spec.depth) if spec.activation(m) == "relu"]
    for n in range(X.shape[0]):
        if all(0 < np.sum(cache[f"z{m}"][n] > 0) < spec.sizes[m] for m in relu):
            return n
    return 0


def param_part(grads: dict[str, np.ndarray], spec: MLPSpec) -> dict[str, np.ndarray]:
    """Only the parameter gradients W{m}, b{m} that exist in ``grads``."""
    return {k: grads[k] for k in spec.param_names() if k in grads}

