"""Gradient descent for the batched MLP, as in the notes (003):

    initialize theta_0;  while t++ < max_iterations:  theta_{t+1} <- theta_t - eta grad theta_t

Each step is a forward pass (``batched.mlp_loss``), a backward pass (``batched.mlp_backward``)
and the update W <- W - lr dW, b <- b - lr db for every layer. Full-batch by default; with
``batch_size`` each step uses the next minibatch of a shuffled pass over the data (reshuffled
every epoch). All randomness comes from ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np

from backprop_ref import batched
from backprop_ref.spec import MLPSpec, init_params


def train(
    X: np.ndarray,
    T: np.ndarray,
    spec: MLPSpec,
    lr: float,
    steps: int,
    seed: int = 0,
    batch_size: int | None = None,
    params: dict[str, np.ndarray] | None = None,
    momentum: float = 0.0,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Train the MLP ``spec`` by gradient descent on inputs X (N, D) and targets T (N, C).

    ``params`` (keys "W1", "b1", ...; W{m} (D_m, D_{m-1}), b{m} (D_m, 1)) is the starting point;
    it is copied, never modified. Without it, parameters come from ``init_params(spec, rng)``
    with ``rng = default_rng(seed)``; the same generator then shuffles minibatches, so the same
    seed gives identical results. Returns the trained parameters (new arrays) and the history
    of losses, shape (steps,): entry s is the mean loss of the batch used by step s, evaluated
    before that step's update. With ``momentum`` beta > 0 each step is :func:`momentum_step`,
    the velocity carried from step to step (it starts at zero).
    """
    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if X.ndim != 2 or T.ndim != 2 or X.shape[0] != T.shape[0]:
        raise ValueError(f"X (N, D) and T (N, C) must have the same N, got {X.shape}, {T.shape}")
    if steps < 0 or lr <= 0:
        raise ValueError("steps must be >= 0 and lr > 0")
    n = X.shape[0]
    if batch_size is not None and not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in 1..{n}, got {batch_size}")
    rng = np.random.default_rng(seed)
    start = init_params(spec, rng) if params is None else params
    theta = {k: np.array(v, dtype=np.float64, copy=True) for k, v in start.items()}
    velocity = {k: np.zeros_like(theta[k]) for k in spec.param_names()}
    history = np.empty(steps, dtype=np.float64)
    order = np.arange(n)
    pos = n  # forces a shuffle before the first minibatch
    for s in range(steps):
        if batch_size is None:
            xb, tb = X, T
        else:
            if pos + batch_size > n:
                order = rng.permutation(n)
                pos = 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            xb, tb = X[idx], T[idx]
        loss, cache = batched.mlp_loss(xb, tb, theta, spec)
        grads = batched.mlp_backward(cache)
        history[s] = loss
        if momentum:
            theta, velocity = momentum_step(theta, grads, velocity, lr, momentum)
        else:
            theta = {k: theta[k] - lr * grads[k] for k in spec.param_names()}
    return theta, history


def momentum_step(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    velocity: dict[str, np.ndarray],
    lr: float,
    beta: float,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One step of gradient descent with momentum: v <- beta v + g, theta <- theta - lr v, for
    every key of ``velocity`` (each array keeps its shape). Returns new dicts of new arrays."""
    new_v = {k: beta * velocity[k] + grads[k] for k in velocity}
    new_p = dict(params)
    new_p.update({k: params[k] - lr * new_v[k] for k in new_v})
    return new_p, new_v


def predict(X: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec) -> np.ndarray:
    """Predicted class labels (N,) int64 for inputs X (N, D).

    argmax of the output a^(L) (N, C) over classes; for one output unit (C = 1), 1 where the
    output is at least 1/2, else 0.
    """
    y, _ = batched.mlp_forward(X, params, spec)
    if y.shape[1] == 1:
        return (y[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(y, axis=1).astype(np.int64)


def accuracy(
    X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> float:
    """Fraction of examples whose predicted label equals y.

    X: (N, D); y: integer labels (N,) or one-hot targets (N, C) (C > 1) or 0/1 targets (N, 1).
    """
    y = np.asarray(y)
    if y.ndim == 2:
        y = np.argmax(y, axis=1) if y.shape[1] > 1 else (y[:, 0] >= 0.5).astype(np.int64)
    pred = predict(X, params, spec)
    if pred.shape != y.shape:
        raise ValueError(f"labels have shape {y.shape}, predictions {pred.shape}")
    return float(np.mean(pred == y))
