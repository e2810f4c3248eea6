"""Finite-difference gradient checking in float64 (see docs/conventions.md for shapes).

This is the one checker used by the reference tests, the notebooks and the autograder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PASS_TOL = 1e-6
"""A float64 gradient passes when ``rel_error(g, g_ref) <= PASS_TOL``."""

DEFAULT_H = 1e-5


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` of two same-shape arrays; 0.0 if both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` (any shape, float64) is perturbed in place one entry at a time and restored exactly;
    the step is ``h * max(1, |x_i|)`` and the difference is divided by the realised step.
    Returns a new array with the shape of ``x``.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 array, got {x.dtype}")
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        step = h * max(1.0, abs(old))
        flat[i] = old + step
        hi = flat[i]
        f_plus = float(f())
        flat[i] = old - step
        lo = flat[i]
        f_minus = float(f())
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (hi - lo)
    return grad
