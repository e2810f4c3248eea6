"""Shared test instances and hypothesis strategies for the reference implementation.

Instances follow notes/gradient-checking.md §2: float64, |z| well away from the ReLU kink
(rejection sampling until every ReLU pre-activation has |z| > MARGIN), |z| ~ 0.5..3 from He
initialisation and standard-normal inputs, pairwise distinct dimensions by default.
Everything is seeded, so a failure is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_ref import batched, batched_nets, scalar, vector
from backprop_ref.spec import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, MLPSpec, init_params

MARGIN = 1e-2
"""Smallest |z| allowed at a ReLU in a finite-difference instance."""

SQUARED = ("half_squared_error", "squared_error")
PAIRS: tuple[tuple[str, str], ...] = (
    *((out, loss) for out in OUTPUT_ACTIVATIONS for loss in SQUARED),
    ("softmax", "cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
)
"""Every allowed (output activation, loss) pair."""

LEVELS = ("scalar", "vector", "batched")


def targets(rng: np.random.Generator, N: int, C: int, loss: str) -> np.ndarray:
    """Targets T (N, C): probability rows for CE, values in (0, 1) for BCE, normals otherwise."""
    if loss == "cross_entropy":
        return rng.dirichlet(np.ones(C), size=N)
    if loss == "binary_cross_entropy":
        return rng.uniform(0.0, 1.0, size=(N, C))
    return rng.normal(0.0, 1.0, size=(N, C))


@dataclass
class MLPCase:
    """An MLP instance: X (N, D), T (N, C), params of ``spec``."""

    spec: MLPSpec
    params: dict[str, np.ndarray]
    X: np.ndarray
    T: np.ndarray


def _relu_margin(spec: MLPSpec, cache: dict[str, Any]) -> float:
    """Smallest |z| over the layers with a ReLU activation (inf if none)."""
    zs = [np.abs(cache[f"z{m}"]).min() for m in range(1, spec.depth + 1)
          if spec.activation(m) == "relu"]
    return float(min(zs)) if zs else np.inf


def mlp_case(
    sizes: tuple[int, ...],
    hidden: str | tuple[str, ...],
    output: str,
    loss: str,
    N: int = 5,
    seed: int = 0,
    margin: float = MARGIN,
) -> MLPCase:
    """A kink-safe MLP instance, redrawn until every ReLU pre-activation has |z| > margin."""
    spec = MLPSpec(sizes, hidden, output, loss)
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt])
        params = init_params(spec, rng)
        X = rng.normal(0.0, 1.0, size=(N, sizes[0]))
        T = targets(rng, N, sizes[-1], loss)
        _, cache = batched.mlp_forward(X, params, spec)
        if _relu_margin(spec, cache) > margin:
            return MLPCase(spec, params, X, T)
    raise RuntimeError("no kink-safe instance found")


@dataclass
class TwinCase:
    """Twin instance: xa, xb (N, D), t (N, 1)."""

    params: dict[str, np.ndarray]
    xa: np.ndarray
    xb: np.ndarray
    t: np.ndarray


def twin_case(D: int = 7, H: int = 4, N: int = 5, seed: int = 0) -> TwinCase:
    """Kink-safe twin instance with a unit active on both branches in every example."""
    for attempt in range(500):
        rng = np.random.default_rng([seed, attempt, 1])
        params = batched_nets.init_twin_params(D, H, rng)
        xa = rng.normal(0.0, 1.0, size=(N, D))
        xb = rng.normal(0.0, 1.0, size=(N, D))
        t = rng.uniform(0.0, 1.0, size=(N, 1))
        _, c = batched_nets.twin_loss(xa, xb, t, params)
        both = ((c["m_a"] > 0) & (c["m_b"] > 0)).sum(axis=1)
        if min(np.abs(c["m_a"]).min(), np.abs(c["m_b"]).min()) > MARGIN and both.min() >= 1:
            return TwinCase(params, xa, xb, t)
    raise RuntimeError("no kink-safe twin instance found")


@dataclass
class SkipCase:
    """Skip instance: x (N, D), t (N, C)."""

    params: dict[str, np.ndarray]
    x: np.ndarray
    t: np.ndarray


def skip_case(
    D: int = 7, H1: int = 4, H2: int = 6, C: int = 3, N: int = 5, seed: int = 0
) -> SkipCase:
    """Kink-safe skip instance (|z2| > MARGIN), soft targets (N, C)."""
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt, 2])
        params = batched_nets.init_skip_params(D, H1, H2, C, rng)
        x = rng.normal(0.0, 1.0, size=(N, D))
        t = rng.dirichlet(np.ones(C), size=N)
        _, c = batched_nets.skip_loss(x, t, params)
        if np.abs(c["z2"]).min() > MARGIN:
            return SkipCase(params, x, t)
    raise RuntimeError("no kink-safe skip instance found")


def level_loss_grads(
    level: str, X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> tuple[float, dict[str, np.ndarray]]:
    """Batch-mean loss and gradients in the batched layout, computed at ``level``.

    The vector level runs one column per example; its losses and parameter gradients are
    averaged and its per-example dL/dz, dL/da (D_m, 1) are stacked as rows and divided by N.
    """
    if level == "scalar":
        loss, cache = scalar.mlp_loss(X, T, params, spec)
        return loss, scalar.mlp_backward(cache)
    if level == "batched":
        loss, cache = batched.mlp_loss(X, T, params, spec)
        return loss, batched.mlp_backward(cache)
    N = X.shape[0]
    losses, per = [], []
    for n in range(N):
        loss, cache = vector.mlp_loss(X[n:n + 1].T, T[n:n + 1].T, params, spec)
        losses.append(loss)
        per.append(vector.mlp_backward(cache))
    grads = {}
    for k in per[0]:
        if k in params:
            grads[k] = sum(g[k] for g in per) / N
        else:
            grads[k] = np.concatenate([g[k].T for g in per], axis=0) / N
    return float(np.mean(losses)), grads


def level_loss(
    level: str, X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec
) -> float:
    """Batch-mean loss at ``level`` (forward only)."""
    if level == "scalar":
        return scalar.mlp_loss(X, T, params, spec)[0]
    if level == "batched":
        return batched.mlp_loss(X, T, params, spec)[0]
    return float(np.mean([vector.mlp_loss(X[n:n + 1].T, T[n:n + 1].T, params, spec)[0]
                          for n in range(X.shape[0])]))


# ---------------------------------------------------------------- hypothesis strategies

bounded = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)
"""Bounded float64 entries."""


@st.composite
def mlp_cases(draw: st.DrawFn, max_n: int = 6, max_width: int = 5) -> MLPCase:
    """Random MLP: depth 1..3, widths 1..max_width, any activations and allowed pair, inputs
    drawn entry by entry from bounded floats, parameters from a drawn seed (not kink-safe)."""
    depth = draw(st.integers(1, 3))
    sizes = tuple(draw(st.lists(st.integers(1, max_width), min_size=depth + 1,
                                max_size=depth + 1)))
    hidden = tuple(draw(st.lists(st.sampled_from(HIDDEN_ACTIVATIONS), min_size=depth - 1,
                                 max_size=depth - 1)))
    output, loss = draw(st.sampled_from(PAIRS))
    N = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    spec = MLPSpec(sizes, hidden, output, loss)
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng)
    X = draw(hnp.arrays(np.float64, (N, sizes[0]), elements=bounded))
    T = targets(rng, N, sizes[-1], loss)
    return MLPCase(spec, params, X, T)


@st.composite
def net_dims(draw: st.DrawFn, max_n: int = 6, max_width: int = 5) -> dict[str, int]:
    """Random dimensions N, D, H, H1, H2, C and a seed for twin and skip networks."""
    dims = {k: draw(st.integers(1, max_width)) for k in ("D", "H", "H1", "H2", "C")}
    dims["N"] = draw(st.integers(1, max_n))
    dims["seed"] = draw(st.integers(0, 2**32 - 1))
    return dims
