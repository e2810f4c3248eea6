"""Helpers for the explorer tests: a small independent batched MLP (rows are examples, softmax +
mean cross-entropy) with its backward pass, and the Q1 partials written out, so that the explorers
can be tested without the reference. Test code never ships to students.
"""

from __future__ import annotations

import math

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.float64)),
}


def depth(params):
    m = 0
    while f"W{m + 1}" in params:
        m += 1
    return m


def forward(X, params, hidden):
    """Returns the softmax output (N, C) and the cache of pre-activations / activations."""
    f, _ = ACTIVATIONS[hidden]
    a, zs, acts = X, [], [X]
    L = depth(params)
    for m in range(1, L + 1):
        z = a @ params[f"W{m}"].T + params[f"b{m}"].T
        zs.append(z)
        a = f(z) if m < L else z
        acts.append(a)
    shifted = a - a.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    return p, (zs, acts)


def loss(X, T, params, hidden="tanh"):
    """Mean cross-entropy, computed with log-sum-exp."""
    _, (zs, _) = forward(X, params, hidden)
    z = zs[-1] - zs[-1].max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(np.sum(T * log_p, axis=1)))


def grads(X, T, params, hidden="tanh", bug=None):
    """Backward pass; ``bug="no_act_deriv"`` drops the hidden activation derivative."""
    p, (zs, acts) = forward(X, params, hidden)
    _, df = ACTIVATIONS[hidden]
    L = depth(params)
    n = X.shape[0]
    dz = (p - T) / n
    out = {}
    for m in range(L, 0, -1):
        out[f"W{m}"] = dz.T @ acts[m - 1]
        out[f"b{m}"] = dz.sum(axis=0, keepdims=True).T
        if m > 1:
            da = dz @ params[f"W{m}"]
            dz = da if bug == "no_act_deriv" else da * df(zs[m - 2])
    return out


def q1_partials(w, x, b, t):
    """dL/d(node) of z = w x + b, y = x + tanh z, L = (y - t)^2 / 2."""
    z = w * x + b
    y = x + math.tanh(z)
    dy = y - t
    dz = dy * (1.0 - math.tanh(z) ** 2)
    return {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy + dz * w}
