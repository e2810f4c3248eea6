"""The 8x8 handwritten digits shipped inside scikit-learn, split for ps5 Part C.

``sklearn.datasets.load_digits`` reads a copy of the UCI "Optical Recognition of Handwritten
Digits" test set (1797 images, 10 classes) that is installed with scikit-learn, so nothing is
downloaded. Pixels (0..16) are scaled to [0, 1].
"""

from __future__ import annotations

import numpy as np


def digits_split(n_val: int = 360, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                           np.ndarray]:
    """A shuffled train/validation split: X_train (N, 64), y_train (N,), X_val (M, 64), y_val
    (M,) with M = ``n_val`` and N = 1797 - M; labels are ints 0..9, X float64 in [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]
