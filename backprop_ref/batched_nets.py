"""The twin and skip-connection networks of 001 §1.4 for a batch, one example per row.

Per example the equations are those of the notes (001 §1.4); the batch loss is the mean.
Twin network (Q1), shared weights W1, b1 on both branches:
    m_a = W1 x_a + b1,  h_a = ReLU(m_a),  m_b = W1 x_b + b1,  h_b = ReLU(m_b),
    h = h_a ⊙ h_b,  z = W2 h + b2,  y = sigma(z),  L = -t log y - (1 - t) log(1 - y).
Skip network (Q2):
    z1 = W1 x + b1,  h1 = sigma(z1),  z2 = W2 h1 + b2,  zs = Ws x,  h2 = ReLU(z2) + zs,
    z3 = W3 h2 + b3,  y = softmax(z3),  L = -sum_k t_k log y_k.

``backprop_ref.vector_nets`` has the same functions for one example in columns; a diff of the two
modules shows only what vectorizing over the batch changes. Losses are computed from the
pre-activation with softplus / log-sum-exp. Backward passes never write into their arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref.activations import log_softmax, relu, relu_prime, sigmoid, sigmoid_prime, softmax

CLASS_AXIS = 1
"""Axis of units/classes: arrays are (N, D_m)."""


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
    """The twin targets as an (N, 1) float64 array (an (N,) array is reshaped)."""
    return np.asarray(t, dtype=np.float64).reshape(-1, 1)


def twin_loss(
    xa: np.ndarray, xb: np.ndarray, t: float | np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Twin forward pass and mean BCE loss. xa, xb: (N, D); t: (N, 1) or (N,) in [0, 1].

    Returns the loss (float) and the cache with m_a, h_a, m_b, h_b, h (N, H), z, y (N, 1).
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    xa = np.asarray(xa, dtype=np.float64)
    xb = np.asarray(xb, dtype=np.float64)
    t = _target(t)
    m_a = xa @ W1.T + b1.T
    h_a = relu(m_a)
    m_b = xb @ W1.T + b1.T
    h_b = relu(m_b)
    h = h_a * h_b
    z = h @ W2.T + b2.T
    y = sigmoid(z)
    if t.shape != z.shape:
        raise ValueError(f"t must have shape {z.shape}, got {t.shape}")
    loss = float((np.logaddexp(0.0, z) - t * z).mean())
    cache = {"xa": xa, "xb": xb, "t": t, "params": params, "m_a": m_a, "h_a": h_a,
             "m_b": m_b, "h_b": h_b, "h": h, "z": z, "y": y}
    return loss, cache


def twin_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Twin gradients of the mean loss: W1 (H, D), b1 (H, 1), W2 (1, H), b2 (1, 1),
    m_a, h_a, m_b, h_b, h (N, H), z (N, 1), xa, xb (N, D). The shared W1, b1 get the sum of
    both branches."""
    W1, W2 = cache["params"]["W1"], cache["params"]["W2"]
    xa, xb = cache["xa"], cache["xb"]
    dz = (cache["y"] - cache["t"]) / xa.shape[0]
    dW2 = dz.T @ cache["h"]
    db2 = dz.sum(axis=0, keepdims=True).T
    dh = dz @ W2
    dh_a = dh * cache["h_b"]
    dh_b = dh * cache["h_a"]
    dm_a = dh_a * relu_prime(cache["m_a"])
    dm_b = dh_b * relu_prime(cache["m_b"])
    dW1 = dm_a.T @ xa + dm_b.T @ xb
    db1 = (dm_a + dm_b).sum(axis=0, keepdims=True).T
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "m_a": dm_a, "h_a": dh_a,
            "m_b": dm_b, "h_b": dh_b, "h": dh, "z": dz, "xa": dm_a @ W1, "xb": dm_b @ W1}


def skip_loss(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Skip-network forward pass and mean cross-entropy. x: (N, D), t: (N, C).

    Returns the loss (float) and the cache with z1, h1 (N, H1), z2, zs, h2 (N, H2), z3, y (N, C).
    """
    p = params
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    z1 = x @ p["W1"].T + p["b1"].T
    h1 = sigmoid(z1)
    z2 = h1 @ p["W2"].T + p["b2"].T
    zs = x @ p["Ws"].T
    h2 = relu(z2) + zs
    z3 = h2 @ p["W3"].T + p["b3"].T
    y = softmax(z3, axis=CLASS_AXIS)
    if t.shape != z3.shape:
        raise ValueError(f"t must have shape {z3.shape}, got {t.shape}")
    loss = float(-(t * log_softmax(z3, axis=CLASS_AXIS)).sum(axis=CLASS_AXIS).mean())
    cache = {"x": x, "t": t, "params": params, "z1": z1, "h1": h1, "z2": z2, "zs": zs,
             "h2": h2, "z3": z3, "y": y}
    return loss, cache


def skip_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Skip gradients of the mean loss: every parameter (its shape), z1, h1 (N, H1),
    z2, zs, h2 (N, H2), z3 (N, C) and x (N, D) = dz1 W1 + dzs Ws (W1 path plus skip path)."""
    p, x = cache["params"], cache["x"]
    dz3 = (cache["y"] - cache["t"]) / x.shape[0]
    dW3 = dz3.T @ cache["h2"]
    db3 = dz3.sum(axis=0, keepdims=True).T
    dh2 = dz3 @ p["W3"]
    dz2 = dh2 * relu_prime(cache["z2"])
    dzs = dh2.copy()
    dWs = dzs.T @ x
    dW2 = dz2.T @ cache["h1"]
    db2 = dz2.sum(axis=0, keepdims=True).T
    dh1 = dz2 @ p["W2"]
    dz1 = dh1 * sigmoid_prime(cache["z1"])
    dW1 = dz1.T @ x
    db1 = dz1.sum(axis=0, keepdims=True).T
    dx = dz1 @ p["W1"] + dzs @ p["Ws"]
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "Ws": dWs, "W3": dW3, "b3": db3,
            "z1": dz1, "h1": dh1, "z2": dz2, "zs": dzs, "h2": dh2, "z3": dz3, "x": dx}
