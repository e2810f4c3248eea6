"""Elementwise activations and their derivatives, plus a numerically stable softmax.

Every function works on an array of any shape and returns a new array of that shape, float64 by
default (float32 stays float32, for speed comparisons; integers become float64). Derivatives
are written as functions of the pre-activation ``z`` (the notes' sigma'(z)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def as_float(z: np.ndarray) -> np.ndarray:
    """``z`` as a float array: float32 and float64 are kept, anything else becomes float64."""
    z = np.asarray(z)
    return z if z.dtype in (np.float32, np.float64) else z.astype(np.float64)


def identity(z: np.ndarray) -> np.ndarray:
    """f(z) = z."""
    return as_float(z).copy()


def identity_prime(z: np.ndarray) -> np.ndarray:
    """f'(z) = 1."""
    return np.ones_like(as_float(z))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigma(z) = 1 / (1 + exp(-z)), without overflow for large |z|."""
    z = as_float(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(as_float(z))


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2."""
    return 1.0 - np.tanh(as_float(z)) ** 2


def relu(z: np.ndarray) -> np.ndarray:
    """ReLU(z) = max(z, 0)."""
    return np.maximum(as_float(z), 0.0)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """ReLU'(z) = 1 where z > 0, else 0 (0 at the kink z = 0)."""
    return (as_float(z) > 0).astype(as_float(z).dtype)


ArrayFn = Callable[[np.ndarray], np.ndarray]

ELEMENTWISE: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "identity": (identity, identity_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
}
"""Activation name -> (f, f') for the elementwise activations."""


def elementwise(name: str) -> tuple[ArrayFn, ArrayFn]:
    """The pair (f, f') for an elementwise activation name, with a clear error for others."""
    try:
        return ELEMENTWISE[name]
    except KeyError:
        raise ValueError(
            f"unknown elementwise activation {name!r}; use one of {tuple(ELEMENTWISE)}"
        ) from None


def softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """Softmax along ``axis`` (the class axis), computed after subtracting the maximum."""
    z = as_float(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """log softmax along ``axis`` by log-sum-exp: z - max - log(sum(exp(z - max)))."""
    z = as_float(z)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
