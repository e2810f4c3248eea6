"""The twin and skip-connection networks of 001 §1.4 for one example, in columns.

Twin network (Q1), shared weights W1, b1 on both branches:
    m_a = W1 x_a + b1,  h_a = ReLU(m_a),  m_b = W1 x_b + b1,  h_b = ReLU(m_b),
    h = h_a ⊙ h_b,  z = W2 h + b2,  y = sigma(z),  L = -t log y - (1 - t) log(1 - y).
Skip network (Q2):
    z1 = W1 x + b1,  h1 = sigma(z1),  z2 = W2 h1 + b2,  zs = Ws x,  h2 = ReLU(z2) + zs,
    z3 = W3 h2 + b3,  y = softmax(z3),  L = -sum_k t_k log y_k.

``backprop_ref.batched_nets`` has the same functions for a batch in rows; a diff of the two
modules shows only what vectorizing over the batch changes. Losses are computed from the
pre-activation with softplus / log-sum-exp. Backward passes never write into their arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref.activations import log_softmax, relu, relu_prime, sigmoid, sigmoid_prime, softmax

CLASS_AXIS = 0
"""Axis of units/classes: arrays are (D_m, 1)."""


def init_twin_params(D: int, H: int, rng: np.random.Generator | int = 0) -> dict[str, np.ndarray]:
    """Random float64 twin parameters: W1 (H, D), b1 (H, 1), W2 (1, H), b2 (1, 1)."""
    rng = np.random.default_rng(rng)
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(H, D)),
        "b1": rng.normal(0.0, 0.1, size=(H, 1)),
        "W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(1, H)),
        "b2": rng.normal(0.0, 0.1, size=(1, 1)),
    }


def init_skip_params(
    D: int, H1: int, H2: int, C: int, rng: np.random.Generator | int = 0
) -> dict[str, np.ndarray]:
    """Random float64 skip parameters: W1 (H1, D), b1 (H1, 1), W2 (H2, H1), b2 (H2, 1),
    Ws (H2, D), W3 (C, H2), b3 (C, 1)."""
    rng = np.random.default_rng(rng)
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(H1, D)),
        "b1": rng.normal(0.0, 0.1, size=(H1, 1)),
        "W2": rng.normal(0.0, np.sqrt(2.0 / H1), size=(H2, H1)),
        "b2": rng.normal(0.0, 0.1, size=(H2, 1)),
        "Ws": rng.normal(0.0, np.sqrt(1.0 / D), size=(H2, D)),
        "W3": rng.normal(0.0, np.sqrt(2.0 / H2), size=(C, H2)),
        "b3": rng.normal(0.0, 0.1, size=(C, 1)),
    }


def _target(t: float | np.ndarray) -> np.ndarray:
    """The twin target as a (1, 1) float64 array."""
    return np.asarray(t, dtype=np.float64).reshape(1, 1)


def twin_loss(
    xa: np.ndarray, xb: np.ndarray, t: float | np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Twin forward pass and BCE loss. xa, xb: (D, 1); t: float or (1, 1) in [0, 1].

    Returns the loss (float) and the cache with m_a, h_a, m_b, h_b, h (H, 1), z, y (1, 1).
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    xa = np.asarray(xa, dtype=np.float64)
    xb = np.asarray(xb, dtype=np.float64)
    t = _target(t)
    m_a = W1 @ xa + b1
    h_a = relu(m_a)
    m_b = W1 @ xb + b1
    h_b = relu(m_b)
    h = h_a * h_b
    z = W2 @ h + b2
    y = sigmoid(z)
    loss = float((np.logaddexp(0.0, z) - t * z).sum())
    cache = {"xa": xa, "xb": xb, "t": t, "params": params, "m_a": m_a, "h_a": h_a,
             "m_b": m_b, "h_b": h_b, "h": h, "z": z, "y": y}
    return loss, cache


def twin_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Twin gradients: W1 (H, D), b1 (H, 1), W2 (1, H), b2 (1, 1), m_a, h_a, m_b, h_b, h (H, 1),
    z (1, 1), xa, xb (D, 1). The shared W1, b1 get the sum of both branches."""
    W1, W2 = cache["params"]["W1"], cache["params"]["W2"]
    xa, xb = cache["xa"], cache["xb"]
    dz = cache["y"] - cache["t"]
    dW2 = dz @ cache["h"].T
    db2 = dz.copy()
    dh = W2.T @ dz
    dh_a = dh * cache["h_b"]
    dh_b = dh * cache["h_a"]
    dm_a = dh_a * relu_prime(cache["m_a"])
    dm_b = dh_b * relu_prime(cache["m_b"])
    dW1 = dm_a @ xa.T + dm_b @ xb.T
    db1 = dm_a + dm_b
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "m_a": dm_a, "h_a": dh_a,
            "m_b": dm_b, "h_b": dh_b, "h": dh, "z": dz, "xa": W1.T @ dm_a, "xb": W1.T @ dm_b}


def skip_loss(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Skip-network forward pass and cross-entropy. x: (D, 1), t: (C, 1).

    Returns the loss (float) and the cache with z1, h1 (H1, 1), z2, zs, h2 (H2, 1), z3, y (C, 1).
    """
    p = params
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    z1 = p["W1"] @ x + p["b1"]
    h1 = sigmoid(z1)
    z2 = p["W2"] @ h1 + p["b2"]
    zs = p["Ws"] @ x
    h2 = relu(z2) + zs
    z3 = p["W3"] @ h2 + p["b3"]
    y = softmax(z3, axis=CLASS_AXIS)
    loss = float(-(t * log_softmax(z3, axis=CLASS_AXIS)).sum())
    cache = {"x": x, "t": t, "params": params, "z1": z1, "h1": h1, "z2": z2, "zs": zs,
             "h2": h2, "z3": z3, "y": y}
    return loss, cache


def skip_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Skip gradients: every parameter (its shape), z1, h1 (H1, 1), z2, zs, h2 (H2, 1),
    z3 (C, 1) and x (D, 1) = W1^T dz1 + Ws^T dzs (the W1 path plus the skip path)."""
    p, x = cache["params"], cache["x"]
    dz3 = cache["y"] - cache["t"]
    dW3 = dz3 @ cache["h2"].T
    db3 = dz3.copy()
    dh2 = p["W3"].T @ dz3
    dz2 = dh2 * relu_prime(cache["z2"])
    dzs = dh2.copy()
    dWs = dzs @ x.T
    dW2 = dz2 @ cache["h1"].T
    db2 = dz2.copy()
    dh1 = p["W2"].T @ dz2
    dz1 = dh1 * sigmoid_prime(cache["z1"])
    dW1 = dz1 @ x.T
    db1 = dz1.copy()
    dx = p["W1"].T @ dz1 + p["Ws"].T @ dzs
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "Ws": dWs, "W3": dW3, "b3": db3,
            "z1": dz1, "h1": dh1, "z2": dz2, "zs": dzs, "h2": dh2, "z3": dz3, "x": dx}
