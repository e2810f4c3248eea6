"""Backprop at the scalar level: the per-unit equations with explicit loops (docs/conventions.md).

This is the non-vectorized pass of the notes (001 Q2), written for every example n of a batch:

    z_nj = sum_i W_ji a_ni + b_j,            a_nj = f(z_nj),
    dL/dW_ji = sum_n dL/dz_nj a_ni,          dL/db_j = sum_n dL/dz_nj,
    dL/da_ni = sum_j dL/dz_nj W_ji,          dL/dz_nj = dL/da_nj f'(z_nj).

Every number is a Python float taken out of the arrays; results are put back into float64 arrays
with the shapes of ``backprop_ref.batched`` (rows are examples, the batch loss is the mean), so
the two levels can be compared entry by entry. The module also holds the two scalar graphs of
001 §1.1: Q1 (``q1_forward``/``q1_backward``) and the bias-free net of Q3 (``q3_*``).
Backward passes never write into their arguments or caches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop_ref.spec import MLPSpec

Rows = list[list[float]]


# ---------------------------------------------------------------- one-number functions


def _sigmoid(z: float) -> float:
    """sigma(z) without overflow: uses exp(-|z|) only."""
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def _softplus(z: float) -> float:
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), finite for every float z."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _f(name: str, z: float) -> float:
    """Elementwise activation f(z)."""
    if name == "identity":
        return z
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    raise ValueError(f"unknown elementwise activation {name!r}")


def _f_prime(name: str, z: float) -> float:
    """f'(z) as a function of the pre-activation (ReLU'(0) = 0)."""
    if name == "identity":
        return 1.0
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1.0 - s)
    if name == "tanh":
        th = math.tanh(z)
        return 1.0 - th * th
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    raise ValueError(f"unknown elementwise activation {name!r}")


def _softmax_row(z: list[float]) -> list[float]:
    """a_k = exp(z_k - max) / sum_k' exp(z_k' - max) for one example."""
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = sum(e)
    return [v / s for v in e]


def _log_softmax_row(z: list[float]) -> list[float]:
    """log a_k = z_k - max - log(sum_k' exp(z_k' - max)) (log-sum-exp) for one example."""
    top = max(z)
    lse = math.log(sum(math.exp(v - top) for v in z))
    return [v - top - lse for v in z]


# ---------------------------------------------------------------- array <-> floats


def _rows(x: np.ndarray, width: int | None = None, what: str = "array") -> Rows:
    """A 2-D array as a list of rows of Python floats (checks the width when given)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or (width is not None and x.shape[1] != width):
        want = f"(N, {width})" if width is not None else "2-D"
        raise ValueError(f"{what} must have shape {want}, got {x.shape}")
    return [[float(v) for v in row] for row in x]


def _array(rows: Rows, n_cols: int) -> np.ndarray:
    """Rows of floats back to a new float64 array (len(rows), n_cols)."""
    out = np.zeros((len(rows), n_cols), dtype=np.float64)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            out[r, c] = v
    return out


# ---------------------------------------------------------------- layers


def affine_forward(a_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """z_nj = sum_i W_ji a_ni + b_j, with loops over n, j and i.

    a_prev: (N, D_in), W: (D_out, D_in), b: (D_out, 1). Returns z (N, D_out) and the cache.
    """
    A, Wl, bl = _rows(a_prev, what="a_prev"), _rows(W, what="W"), _rows(b, 1, "b")
    d_out, d_in = len(Wl), len(Wl[0])
    z = []
    for n in range(len(A)):
        row = []
        for j in range(d_out):
            s = bl[j][0]
            for i in range(d_in):
                s += Wl[j][i] * A[n][i]
            row.append(s)
        z.append(row)
    return _array(z, d_out), (a_prev, W, b)


def affine_backward(
    dz: np.ndarray, cache: tuple, need_da_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of the affine map from dz (N, D_out), one unit at a time.

    dL/da_ni = sum_j dz_nj W_ji  -> (N, D_in);  dL/dW_ji = sum_n dz_nj a_ni -> (D_out, D_in);
    dL/db_j = sum_n dz_nj -> (D_out, 1).
    """
    a_prev, W, _ = cache
    A, Wl, dZ = _rows(a_prev), _rows(W), _rows(dz)
    n_ex, d_out, d_in = len(A), len(Wl), len(Wl[0])
    da = [[sum(dZ[n][j] * Wl[j][i] for j in range(d_out)) for i in range(d_in)]
          for n in range(n_ex)] if need_da_prev else None
    dW = [[sum(dZ[n][j] * A[n][i] for n in range(n_ex)) for i in range(d_in)]
          for j in range(d_out)]
    db = [[sum(dZ[n][j] for n in range(n_ex))] for j in range(d_out)]
    return (None if da is None else _array(da, d_in)), _array(dW, d_in), _array(db, 1)


def activation_forward(z: np.ndarray, name: str) -> tuple[np.ndarray, tuple]:
    """a_nj = f(z_nj) unit by unit (softmax: per example over its units). z, a: (N, D_m)."""
    Z = _rows(z, what="z")
    width = np.shape(z)[1]
    if name == "softmax":
        a = [_softmax_row(row) for row in Z]
    else:
        _f(name, 0.0)  # unknown names fail here, even for an empty batch
        a = [[_f(name, v) for v in row] for row in Z]
    return _array(a, width), (z, name)


def activation_backward(da: np.ndarray, cache: tuple) -> np.ndarray:
    """dL/dz_nj = dL/da_nj f'(z_nj), shape (N, D_m).

    Softmax: dL/dz_nk = sum_j dL/da_nj a_nj (delta_jk - a_nk)
                      = a_nk (dL/da_nk - sum_j dL/da_nj a_nj).
    """
    z, name = cache
    Z, dA = _rows(z), _rows(da)
    width = np.shape(z)[1]
    dz = []
    for n in range(len(Z)):
        if name == "softmax":
            a = _softmax_row(Z[n])
            inner = sum(dA[n][j] * a[j] for j in range(width))
            dz.append([a[k] * (dA[n][k] - inner) for k in range(width)])
        else:
            dz.append([dA[n][j] * _f_prime(name, Z[n][j]) for j in range(width)])
    return _array(dz, width)


def _check_pair(output: str, loss: str) -> None:
    """Cross-entropy needs softmax, BCE needs sigmoid (docs/conventions.md)."""
    needs = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss)
    if needs is not None and output != needs:
        raise ValueError(f"loss {loss!r} needs output {needs!r}, got {output!r}")
    if loss not in ("half_squared_error", "squared_error", "cross_entropy",
                    "binary_cross_entropy"):
        raise ValueError(f"unknown loss {loss!r}")


def _example_loss(z: list[float], t: list[float], output: str, loss: str) -> float:
    """Loss of one example from its output pre-activations z_k and targets t_k."""
    if loss == "cross_entropy":
        logp = _log_softmax_row(z)
        return -sum(tk * lk for tk, lk in zip(t, logp, strict=True))
    if loss == "binary_cross_entropy":
        return sum(_softplus(zk) - tk * zk for zk, tk in zip(z, t, strict=True))
    y = _softmax_row(z) if output == "softmax" else [_f(output, v) for v in z]
    sq = sum((yk - tk) ** 2 for yk, tk in zip(y, t, strict=True))
    return 0.5 * sq if loss == "half_squared_error" else sq


def _example_grad(z: list[float], t: list[float], output: str, loss: str) -> list[float]:
    """dL_n/dz_k of one example's own loss (no 1/N)."""
    if loss == "cross_entropy":
        a = _softmax_row(z)
        total = sum(t)  # 1 for one-hot targets, where dL/dz_k = a_k - t_k
        return [ak * total - tk for ak, tk in zip(a, t, strict=True)]
    if loss == "binary_cross_entropy":
        return [_sigmoid(zk) - tk for zk, tk in zip(z, t, strict=True)]
    c = 1.0 if loss == "half_squared_error" else 2.0
    if output == "softmax":
        y = _softmax_row(z)
        dy = [c * (yk - tk) for yk, tk in zip(y, t, strict=True)]
        inner = sum(dy[j] * y[j] for j in range(len(y)))
        return [y[k] * (dy[k] - inner) for k in range(len(y))]
    return [c * (_f(output, zk) - tk) * _f_prime(output, zk) for zk, tk in zip(z, t, strict=True)]


def loss_forward(z_out: np.ndarray, t: np.ndarray, output: str, loss: str) -> tuple[float, tuple]:
    """Mean over examples of the per-example loss. z_out, t: (N, C). Returns (loss, cache)."""
    _check_pair(output, loss)
    Z, T = _rows(z_out, what="z_out"), _rows(t, np.shape(z_out)[1], "t")
    if len(T) != len(Z):
        raise ValueError(f"t has {len(T)} rows but z_out has {len(Z)}")
    total = 0.0
    for n in range(len(Z)):
        total += _example_loss(Z[n], T[n], output, loss)
    return total / len(Z), (z_out, t, output, loss)


def loss_backward(cache: tuple) -> np.ndarray:
    """dL/dz_nk (N, C) of the batch mean: (1/N) dL_n/dz_nk; (a_nk - t_nk)/N for softmax + CE."""
    z_out, t, output, loss = cache
    Z, T = _rows(z_out), _rows(t)
    n_ex = len(Z)
    dz = [[g / n_ex for g in _example_grad(Z[n], T[n], output, loss)] for n in range(n_ex)]
    return _array(dz, np.shape(z_out)[1])


def _ratio(num: float, den: float) -> float:
    """num / den, 0 when num = 0, +-inf (no exception) when only den = 0."""
    if num == 0.0:
        return 0.0
    if den == 0.0:
        return math.copysign(math.inf, num)
    return num / den


def _bce_dy(y: float, one_minus_y: float, t: float) -> float:
    """dL/dy of BCE, -t / y + (1 - t) / (1 - y), with 1 - y passed in computed as sigma(-z)."""
    return _ratio(-t, y) + _ratio(1.0 - t, one_minus_y)


def _output_da(y: np.ndarray, loss_cache: tuple) -> np.ndarray:
    """dL/da^(L)_nk (N, C) of the batch-mean loss, unit by unit."""
    z_out, t, _, loss = loss_cache
    Y, T, Z = _rows(y), _rows(t), _rows(z_out)
    n_ex = len(Y)
    out = []
    for n in range(n_ex):
        row = []
        for yk, tk, zk in zip(Y[n], T[n], Z[n], strict=True):
            if loss == "half_squared_error":
                g = yk - tk
            elif loss == "squared_error":
                g = 2.0 * (yk - tk)
            elif loss == "cross_entropy":
                g = _ratio(-tk, yk)
            else:
                g = _bce_dy(yk, _sigmoid(-zk), tk)
            row.append(g / n_ex)
        out.append(row)
    return _array(out, np.shape(y)[1])


# ---------------------------------------------------------------- the MLP


def mlp_forward(
    x: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[np.ndarray, dict[str, Any]]:
    """Forward pass, layer by layer and unit by unit. x: (N, D). Returns a^(L) (N, C) and cache.

    The cache holds "a0".."aL" and "z1".."zL" (each (N, D_m)), the layer caches, spec, params.
    """
    a = np.asarray(x, dtype=np.float64)
    _rows(a, spec.sizes[0], "x")
    cache: dict[str, Any] = {"spec": spec, "params": params, "a0": a, "layers": []}
    for m in range(1, spec.depth + 1):
        z, aff = affine_forward(a, params[f"W{m}"], params[f"b{m}"])
        a, act = activation_forward(z, spec.activation(m))
        cache[f"z{m}"], cache[f"a{m}"] = z, a
        cache["layers"].append((aff, act))
    return a, cache


def mlp_loss(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[float, dict[str, Any]]:
    """Forward pass and mean loss. x: (N, D), t: (N, C). Returns (loss, cache)."""
    _, cache = mlp_forward(x, params, spec)
    t = np.asarray(t, dtype=np.float64)
    L = spec.depth
    value, lcache = loss_forward(cache[f"z{L}"], t, spec.output, spec.loss)
    cache["loss"] = lcache
    return value, cache


def mlp_backward(cache: dict[str, Any], input_grad: bool = True) -> dict[str, np.ndarray]:
    """Backward pass from the cache of ``mlp_loss``, unit by unit.

    Returns dL/dW{m} (D_m, D_{m-1}), dL/db{m} (D_m, 1), dL/dz{m} and dL/da{m} (N, D_m) for
    m = 1..L, and dL/da0 (N, D), under the keys "W1", "b1", "z1", "a1", ..., "a0".
    With ``input_grad=False`` dL/da0 is left out (and not computed).
    """
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    grads: dict[str, np.ndarray] = {}
    dz = loss_backward(cache["loss"])
    grads[f"z{L}"] = dz
    grads[f"a{L}"] = _output_da(cache[f"a{L}"], cache["loss"])
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            dz = activation_backward(grads[f"a{m}"], act)
            grads[f"z{m}"] = dz
        da_prev, dW, db = affine_backward(dz, aff, need_da_prev=m > 1 or input_grad)
        grads[f"W{m}"], grads[f"b{m}"] = dW, db
        if da_prev is not None:
            grads[f"a{m - 1}"] = da_prev
    return grads


# ---------------------------------------------------------------- 001 §1.1 Q1


def q1_forward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """Q1 graph: z = w x + b, y = x + tanh(z), L = 1/2 (y - t)^2. Returns {"z", "y", "L"}."""
    w, x, b, t = float(w), float(x), float(b), float(t)
    z = w * x + b
    y = x + math.tanh(z)
    return {"z": z, "y": y, "L": 0.5 * (y - t) ** 2}


def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """Every partial of the Q1 graph, by backprop from dL/dL = 1.

    Keys "L", "y", "z", "w", "b", "x". x reaches L along two paths (directly into y and
    through z), so dL/dx = dL/dy * 1 + dL/dz * w.
    """
    w, x, b, t = float(w), float(x), float(b), float(t)
    fw = q1_forward(w, x, b, t)
    dL = 1.0
    dy = dL * (fw["y"] - t)
    dz = dy * (1.0 - math.tanh(fw["z"]) ** 2)
    return {"L": dL, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy * 1.0 + dz * w}


# ---------------------------------------------------------------- 001 §1.1 Q3

Q3_LOSSES = ("binary_cross_entropy", "half_squared_error")


def _q3_inputs(x: np.ndarray, w: np.ndarray) -> tuple[list[float], list[float]]:
    """x (2,) and w (10,) as Python floats, w[0] being the notes' w1."""
    xs = [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]
    ws = [float(v) for v in np.asarray(w, dtype=np.float64).reshape(-1)]
    if len(xs) != 2 or len(ws) != 10:
        raise ValueError(f"x needs 2 entries and w 10, got {len(xs)} and {len(ws)}")
    return xs, ws


def q3_forward(
    x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy"
) -> dict[str, float]:
    """Forward pass of the bias-free 2-2-2-1 net of Q3. x: (2,), w: (10,) holding w1..w10.

    Returns every node: "m1".."m4", "h1".."h4", "z", "y", "L". BCE is computed from z as
    log(1 + e^z) - t z, which equals -t log y - (1 - t) log(1 - y) without overflow.
    """
    if loss not in Q3_LOSSES:
        raise ValueError(f"loss must be one of {Q3_LOSSES}, got {loss!r}")
    (x1, x2), (w1, w2, w3, w4, w5, w6, w7, w8, w9, w10) = _q3_inputs(x, w)
    t = float(t)
    m1 = w1 * x1 + w2 * x2
    h1 = _f("relu", m1)
    m2 = w3 * x1 + w4 * x2
    h2 = _f("relu", m2)
    m3 = w5 * h1 + w6 * h2
    h3 = _f("relu", m3)
    m4 = w7 * h1 + w8 * h2
    h4 = _f("relu", m4)
    z = w9 * h3 + w10 * h4
    y = _sigmoid(z)
    L = _softplus(z) - t * z if loss == "binary_cross_entropy" else 0.5 * (y - t) ** 2
    return {"m1": m1, "h1": h1, "m2": m2, "h2": h2, "m3": m3, "h3": h3, "m4": m4, "h4": h4,
            "z": z, "y": y, "L": L}


def q3_backward(
    x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy"
) -> dict[str, float]:
    """Backward pass of Q3: dL/d of every node ("L", "y", "z", "h4".."m1") and "w1".."w10".

    Also "x1", "x2". ReLU'(0) = 0. With BCE, dL/dz = y - t is used directly (stable); dL/dy is
    -t / y + (1 - t) / (1 - y) with 1 - y = sigma(-z).
    """
    fw = q3_forward(x, w, t, loss)
    (x1, x2), (w1, w2, w3, w4, w5, w6, w7, w8, w9, w10) = _q3_inputs(x, w)
    t = float(t)
    y, z = fw["y"], fw["z"]
    g: dict[str, float] = {"L": 1.0}
    if loss == "binary_cross_entropy":
        g["y"] = g["L"] * _bce_dy(y, _sigmoid(-z), t)
        g["z"] = g["L"] * (y - t)
    else:
        g["y"] = g["L"] * (y - t)
        g["z"] = g["y"] * _f_prime("sigmoid", z)
    g["h3"] = g["z"] * w9
    g["h4"] = g["z"] * w10
    g["m3"] = g["h3"] * _f_prime("relu", fw["m3"])
    g["m4"] = g["h4"] * _f_prime("relu", fw["m4"])
    g["h1"] = g["m3"] * w5 + g["m4"] * w7
    g["h2"] = g["m3"] * w6 + g["m4"] * w8
    g["m1"] = g["h1"] * _f_prime("relu", fw["m1"])
    g["m2"] = g["h2"] * _f_prime("relu", fw["m2"])
    g["w1"], g["w2"] = g["m1"] * x1, g["m1"] * x2
    g["w3"], g["w4"] = g["m2"] * x1, g["m2"] * x2
    g["w5"], g["w6"] = g["m3"] * fw["h1"], g["m3"] * fw["h2"]
    g["w7"], g["w8"] = g["m4"] * fw["h1"], g["m4"] * fw["h2"]
    g["w9"], g["w10"] = g["z"] * fw["h3"], g["z"] * fw["h4"]
    g["x1"] = g["m1"] * w1 + g["m2"] * w3
    g["x2"] = g["m1"] * w2 + g["m2"] * w4
    return g
