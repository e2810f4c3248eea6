"""Finite-difference gradient checking in float64, as the students use it (docs/conventions.md).

The course's one ``rel_error``, its tolerances and the central-difference gradient: what the
notebooks (through ``coursekit.check``), the check helper, the diagnosis rules and the explorers
use. It holds no analytic gradient. The instructor's checks built on it (the full check with a
per-tensor report, the directional check, the fast stacked check of a whole MLP) are in
``backprop_ref.gradcheck`` and ``backprop_ref.gradcheck_fast`` and never ship.

Pass rule (float64)
-------------------
A gradient ``g`` passes when ``rel_error(g, g_ref) <= PASS_TOL = 1e-6``, where ``g_ref`` is the
reference or the central difference ``numerical_gradient(f, x)`` with step
``h = DEFAULT_H * max(1, |x_i|)`` on a kink-free instance. A number passes
``check.number`` when ``rel_error(value, expected) <= NUMBER_TOL`` (or, near 0, within
``NUMBER_ATOL``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["DEFAULT_H", "NUMBER_ATOL", "NUMBER_TOL", "PASS_TOL", "numerical_gradient", "rel_error"]

PASS_TOL = 1e-6
"""A float64 gradient passes when ``rel_error(g, g_ref) <= PASS_TOL``."""

NUMBER_TOL = 5e-5
"""A number passes when ``rel_error(value, expected) <= NUMBER_TOL`` (about 4 significant
digits) or, for an expected value near 0, when ``|value - expected| <= NUMBER_ATOL``."""

NUMBER_ATOL = 1e-8
"""Absolute slack of a number whose expected value is (close to) 0."""

DEFAULT_H = 1e-5
"""Relative step of the central differences: entry x_i moves by ``DEFAULT_H * max(1, |x_i|)``."""


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``||a - b|| / (||a|| + ||b||)`` of same-shape arrays; 0.0 if both are 0.

    Returns ``inf`` when either array holds NaN or inf, so a non-finite value never passes a
    ``rel_error(...) <= tol`` test. The norms are taken after dividing by the largest entry, so
    huge values (1e200) do not overflow to inf and give NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if scale == 0.0:
        return 0.0
    a, b = a / scale, b / scale
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` (any shape, float64, contiguous) is perturbed in place one entry at a time and restored
    exactly; the step is ``h * max(1, |x_i|)`` and the difference is divided by the realised
    step. Returns a new array with the shape of ``x``.
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
