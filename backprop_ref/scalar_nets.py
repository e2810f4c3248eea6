"""The twin and skip networks of 001 §1.4 at the scalar level: loops over examples and units.

Same functions and signatures as ``backprop_ref.batched_nets`` (a batch in rows, batch-mean
loss), written one unit at a time as in the notes' non-vectorized equations, e.g. for the twin

    m^a_nj = sum_i W1_ji xa_ni + b1_j,   h_nj = h^a_nj h^b_nj,   z_n = sum_j W2_j h_nj + b2,
    dL/dW1_ji = sum_n (dL/dm^a_nj xa_ni + dL/dm^b_nj xb_ni)   (the shared weight adds up).

Values are Python floats; results are float64 arrays with the batched shapes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop_ref.batched_nets import init_skip_params, init_twin_params
from backprop_ref.scalar import _array, _f, _f_prime, _log_softmax_row, _rows, _sigmoid, _softplus

__all__ = ["init_skip_params", "init_twin_params", "skip_backward", "skip_loss", "twin_backward",
           "twin_loss"]

Rows = list[list[float]]


def _affine(x: Rows, W: Rows, b: Rows | None) -> Rows:
    """out_nj = sum_i W_ji x_ni (+ b_j)."""
    return [[sum(W[j][i] * row[i] for i in range(len(row))) + (b[j][0] if b else 0.0)
             for j in range(len(W))] for row in x]


def _back_affine(dz: Rows, x: Rows, W: Rows) -> tuple[Rows, Rows, Rows]:
    """(dx_ni = sum_j dz_nj W_ji, dW_ji = sum_n dz_nj x_ni, db_j = sum_n dz_nj)."""
    n_ex, d_out, d_in = len(x), len(W), len(W[0])
    dx = [[sum(dz[n][j] * W[j][i] for j in range(d_out)) for i in range(d_in)]
          for n in range(n_ex)]
    dW = [[sum(dz[n][j] * x[n][i] for n in range(n_ex)) for i in range(d_in)]
          for j in range(d_out)]
    db = [[sum(dz[n][j] for n in range(n_ex))] for j in range(d_out)]
    return dx, dW, db


def _map(name: str, z: Rows) -> Rows:
    return [[_f(name, v) for v in row] for row in z]


def _gate(name: str, da: Rows, z: Rows) -> Rows:
    """dz_nj = da_nj f'(z_nj)."""
    return [[d * _f_prime(name, v) for d, v in zip(dr, zr, strict=True)]
            for dr, zr in zip(da, z, strict=True)]


def _out(rows: Rows) -> np.ndarray:
    return _array(rows, len(rows[0]) if rows else 0)


def twin_loss(
    xa: np.ndarray, xb: np.ndarray, t: float | np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Twin forward pass and mean BCE loss. xa, xb: (N, D); t: (N, 1) or (N,) in [0, 1].

    Returns the loss (float) and the cache of Python-float rows: m_a, h_a, m_b, h_b, h (N, H),
    z, y (N, 1).
    """
    W1, b1, W2, b2 = (_rows(params[k]) for k in ("W1", "b1", "W2", "b2"))
    XA, XB = _rows(xa, len(W1[0]), "xa"), _rows(xb, len(W1[0]), "xb")
    T = [[float(v)] for v in np.asarray(t, dtype=np.float64).reshape(-1)]
    if len(T) != len(XA):
        raise ValueError(f"t needs {len(XA)} entries, got {len(T)}")
    m_a, m_b = _affine(XA, W1, b1), _affine(XB, W1, b1)
    h_a, h_b = _map("relu", m_a), _map("relu", m_b)
    h = [[u * v for u, v in zip(ra, rb, strict=True)] for ra, rb in zip(h_a, h_b, strict=True)]
    z = _affine(h, W2, b2)
    y = [[_sigmoid(row[0])] for row in z]
    loss = sum(_softplus(z[n][0]) - T[n][0] * z[n][0] for n in range(len(z))) / len(z)
    cache = {"xa": XA, "xb": XB, "t": T, "W1": W1, "W2": W2, "m_a": m_a, "h_a": h_a,
             "m_b": m_b, "h_b": h_b, "h": h, "z": z, "y": y}
    return loss, cache


def twin_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Twin gradients of the mean loss: W1 (H, D), b1 (H, 1), W2 (1, H), b2 (1, 1),
    m_a, h_a, m_b, h_b, h (N, H), z (N, 1), xa, xb (N, D)."""
    c = cache
    n_ex = len(c["y"])
    dz = [[(c["y"][n][0] - c["t"][n][0]) / n_ex] for n in range(n_ex)]
    dh, dW2, db2 = _back_affine(dz, c["h"], c["W2"])
    dh_a = [[dh[n][j] * c["h_b"][n][j] for j in range(len(dh[n]))] for n in range(n_ex)]
    dh_b = [[dh[n][j] * c["h_a"][n][j] for j in range(len(dh[n]))] for n in range(n_ex)]
    dm_a, dm_b = _gate("relu", dh_a, c["m_a"]), _gate("relu", dh_b, c["m_b"])
    dxa, dW1a, db1a = _back_affine(dm_a, c["xa"], c["W1"])
    dxb, dW1b, db1b = _back_affine(dm_b, c["xb"], c["W1"])
    dW1 = [[u + v for u, v in zip(ra, rb, strict=True)] for ra, rb in zip(dW1a, dW1b, strict=True)]
    db1 = [[ra[0] + rb[0]] for ra, rb in zip(db1a, db1b, strict=True)]
    out = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "m_a": dm_a, "h_a": dh_a, "m_b": dm_b,
           "h_b": dh_b, "h": dh, "z": dz, "xa": dxa, "xb": dxb}
    return {k: _out(v) for k, v in out.items()}


def skip_loss(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Skip-network forward pass and mean cross-entropy. x: (N, D), t: (N, C).

    Returns the loss (float) and the cache of rows: z1, h1 (N, H1), z2, zs, h2 (N, H2), z3 (N, C).
    """
    p = {k: _rows(v) for k, v in params.items()}
    X = _rows(x, len(p["W1"][0]), "x")
    T = _rows(t, len(p["W3"]), "t")
    z1 = _affine(X, p["W1"], p["b1"])
    h1 = _map("sigmoid", z1)
    z2 = _affine(h1, p["W2"], p["b2"])
    zs = _affine(X, p["Ws"], None)
    h2 = [[_f("relu", u) + v for u, v in zip(r2, rs, strict=True)]
          for r2, rs in zip(z2, zs, strict=True)]
    z3 = _affine(h2, p["W3"], p["b3"])
    loss = -sum(tk * lk for n in range(len(X))
                for tk, lk in zip(T[n], _log_softmax_row(z3[n]), strict=True)) / len(X)
    cache = {"x": X, "t": T, "p": p, "z1": z1, "h1": h1, "z2": z2, "zs": zs, "h2": h2, "z3": z3}
    return loss, cache


def skip_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Skip gradients of the mean loss: every parameter (its shape), z1, h1 (N, H1),
    z2, zs, h2 (N, H2), z3 (N, C) and x (N, D) = W1 path + skip path."""
    c, p = cache, cache["p"]
    n_ex = len(c["x"])
    dz3 = []
    for n in range(n_ex):
        top = max(c["z3"][n])
        e = [math.exp(v - top) for v in c["z3"][n]]
        dz3.append([(ek / sum(e) - tk) / n_ex for ek, tk in zip(e, c["t"][n], strict=True)])
    dh2, dW3, db3 = _back_affine(dz3, c["h2"], p["W3"])
    dz2 = _gate("relu", dh2, c["z2"])
    dzs = [list(row) for row in dh2]
    dx_skip, dWs, _ = _back_affine(dzs, c["x"], p["Ws"])
    dh1, dW2, db2 = _back_affine(dz2, c["h1"], p["W2"])
    dz1 = _gate("sigmoid", dh1, c["z1"])
    dx_w1, dW1, db1 = _back_affine(dz1, c["x"], p["W1"])
    dx = [[u + v for u, v in zip(r1, r2, strict=True)] for r1, r2 in zip(dx_w1, dx_skip,
                                                                          strict=True)]
    out = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "Ws": dWs, "W3": dW3, "b3": db3,
           "z1": dz1, "h1": dh1, "z2": dz2, "zs": dzs, "h2": dh2, "z3": dz3, "x": dx}
    return {k: _out(v) for k, v in out.items()}
