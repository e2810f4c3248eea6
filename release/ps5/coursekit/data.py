"""Small 2-D classification data sets for the notebooks, deterministic by seed.

Inputs come in rows, as in the batched level of the course: X has shape (N, 2) and the labels
y shape (N,) (int64, classes 0..C-1). ``one_hot`` turns labels into targets T (N, C).
This module ships to students and uses NumPy only.
"""

from __future__ import annotations

import numpy as np


def make_spirals(
    n_per_class: int, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals, one arm per class.

    Point i of class c lies at radius r_i = i / (n_per_class - 1) in [0, 1] and angle
    theta_i = 4 c + 4 r_i + noise * eps (eps standard normal): x = r (sin theta, cos theta).
    Returns X (N, 2) float64 and y (N,) int64 with N = n_per_class * n_classes, grouped by class.
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError("n_per_class and n_classes must be positive")
    rng = np.random.default_rng(seed)
    X = np.empty((n_per_class * n_classes, 2), dtype=np.float64)
    y = np.empty(n_per_class * n_classes, dtype=np.int64)
    r = np.linspace(0.0, 1.0, n_per_class)
    for c in range(n_classes):
        theta = 4.0 * c + 4.0 * r + noise * rng.standard_normal(n_per_class)
        rows = slice(c * n_per_class, (c + 1) * n_per_class)
        X[rows, 0] = r * np.sin(theta)
        X[rows, 1] = r * np.cos(theta)
        y[rows] = c
    return X, y


def make_moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Class 0 (ceil(n / 2) points): (cos s, sin s) for s evenly spaced in [0, pi].
    Class 1 (floor(n / 2) points): (1 - cos s, 1/2 - sin s).
    Gaussian noise with standard deviation ``noise`` is added to both coordinates.
    Returns X (n, 2) float64 and y (n,) int64, grouped by class.
    """
    if n < 2:
        raise ValueError("make_moons needs n >= 2")
    rng = np.random.default_rng(seed)
    n0 = (n + 1) // 2
    n1 = n - n0
    s0 = np.linspace(0.0, np.pi, n0)
    s1 = np.linspace(0.0, np.pi, n1)
    X = np.concatenate(
        [np.stack([np.cos(s0), np.sin(s0)], axis=1),
         np.stack([1.0 - np.cos(s1), 0.5 - np.sin(s1)], axis=1)]
    )
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    return X, y


def one_hot(y: np.ndarray, C: int) -> np.ndarray:
    """Targets T (N, C) float64 with T[n, y[n]] = 1 for integer labels y (N,) in 0..C-1."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= C):
        raise ValueError(f"labels must be integers in 0..{C - 1}")
    T = np.zeros((y.shape[0], C), dtype=np.float64)
    T[np.arange(y.shape[0]), y] = 1.0
    return T
