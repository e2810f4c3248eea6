"""An oracle nobody here wrote: HIPS autograd (reverse mode) on the notes' forward equations.

Each forward below is written directly from the notes, with the loss in terms of the output
y (e.g. -sum t log y), and an additive offset (zero) after every node, so that autograd's
gradient with respect to the offset of node v is dL/dv. Gradients must agree to 1e-10.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from backprop_ref import batched_nets, vector_nets
from backprop_ref.spec import HIDDEN_ACTIVATIONS, MLPSpec
from coursekit.gradcheck import rel_error
from tests.backprop_ref.strategies import (
    LEVELS,
    PAIRS,
    level_loss_grads,
    mlp_case,
    skip_case,
    twin_case,
)

AGREE = 1e-10


def _f(name: str, z):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + anp.exp(-z))
    if name == "tanh":
        return anp.tanh(z)
    if name == "relu":
        return anp.maximum(z, 0.0)
    e = anp.exp(z - anp.max(z, axis=1, keepdims=True))  # softmax over the classes of a row
    return e / anp.sum(e, axis=1, keepdims=True)


def _loss(y, t, loss: str):
    """Batch mean of the per-example loss written with y."""
    if loss == "half_squared_error":
        per = 0.5 * anp.sum((y - t) ** 2, axis=1)
    elif loss == "squared_error":
        per = anp.sum((y - t) ** 2, axis=1)
    elif loss == "cross_entropy":
        per = -anp.sum(t * anp.log(y), axis=1)
    else:
        per = anp.sum(-t * anp.log(y) - (1.0 - t) * anp.log(1.0 - y), axis=1)
    return anp.mean(per)


def _mlp_oracle(theta: dict, X: np.ndarray, T: np.ndarray, spec: MLPSpec):
    a = X + theta["a0"]
    for m in range(1, spec.depth + 1):
        z = anp.dot(a, theta[f"W{m}"].T) + theta[f"b{m}"].T + theta[f"z{m}"]
        a = _f(spec.activation(m), z) + theta[f"a{m}"]
    return _loss(a, T, spec.loss)


def _offsets(shapes: dict) -> dict:
    return {k: np.zeros(s) for k, s in shapes.items()}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_mlp_matches_autograd(level, hidden, output, loss):
    sizes = (7, 4, 6, 3) if hidden != "identity" else (7, 4, 3)
    case = mlp_case(sizes, hidden, output, loss, N=5, seed=PAIRS.index((output, loss)))
    N = case.X.shape[0]
    theta = dict(case.params)
    theta.update(_offsets({"a0": (N, sizes[0])}))
    for m in range(1, len(sizes)):
        theta.update(_offsets({f"z{m}": (N, sizes[m]), f"a{m}": (N, sizes[m])}))
    oracle = grad(lambda th: _mlp_oracle(th, case.X, case.T, case.spec))(theta)
    _, grads = level_loss_grads(level, case.X, case.T, case.params, case.spec)
    assert set(grads) == set(oracle)
    for k in oracle:
        assert rel_error(grads[k], oracle[k]) <= AGREE, (k, rel_error(grads[k], oracle[k]))


def _twin_oracle(theta: dict, t: np.ndarray):
    relu = lambda v: anp.maximum(v, 0.0)  # noqa: E731
    m_a = anp.dot(theta["xa"], theta["W1"].T) + theta["b1"].T + theta["o_m_a"]
    h_a = relu(m_a) + theta["o_h_a"]
    m_b = anp.dot(theta["xb"], theta["W1"].T) + theta["b1"].T + theta["o_m_b"]
    h_b = relu(m_b) + theta["o_h_b"]
    h = h_a * h_b + theta["o_h"]
    z = anp.dot(h, theta["W2"].T) + theta["b2"].T + theta["o_z"]
    y = 1.0 / (1.0 + anp.exp(-z))
    return _loss(y, t, "binary_cross_entropy")


@pytest.mark.parametrize(("D", "H"), [(7, 4), (4, 4), (2, 5)])
def test_twin_matches_autograd(D, H):
    case = twin_case(D, H, N=5, seed=20 + D)
    N = case.xa.shape[0]
    theta = {**case.params, "xa": case.xa, "xb": case.xb,
             **_offsets({f"o_{k}": (N, H) for k in ("m_a", "h_a", "m_b", "h_b", "h")}),
             "o_z": np.zeros((N, 1))}
    oracle = grad(lambda th: _twin_oracle(th, case.t))(theta)
    oracle = {k.removeprefix("o_"): v for k, v in oracle.items()}
    _, cache = batched_nets.twin_loss(case.xa, case.xb, case.t, case.params)
    grads = batched_nets.twin_backward(cache)
    assert set(grads) == set(oracle)
    for k in oracle:
        assert rel_error(grads[k], oracle[k]) <= AGREE, k
    # the vector level, example 0 alone (N = 1), against the same oracle on that row
    theta1 = {k: (v[:1] if k[0] not in "Wb" else v) for k, v in theta.items()}
    oracle1 = grad(lambda th: _twin_oracle(th, case.t[:1]))(theta1)
    _, cache = vector_nets.twin_loss(case.xa[:1].T, case.xb[:1].T, case.t[:1], case.params)
    g1 = vector_nets.twin_backward(cache)
    for k, v in oracle1.items():
        k = k.removeprefix("o_")
        assert rel_error(g1[k], v if k in case.params else v.T) <= AGREE, k


def _skip_oracle(theta: dict, t: np.ndarray):
    z1 = anp.dot(theta["x"], theta["W1"].T) + theta["b1"].T + theta["o_z1"]
    h1 = 1.0 / (1.0 + anp.exp(-z1)) + theta["o_h1"]
    z2 = anp.dot(h1, theta["W2"].T) + theta["b2"].T + theta["o_z2"]
    zs = anp.dot(theta["x"], theta["Ws"].T) + theta["o_zs"]
    h2 = anp.maximum(z2, 0.0) + zs + theta["o_h2"]
    z3 = anp.dot(h2, theta["W3"].T) + theta["b3"].T + theta["o_z3"]
    return _loss(_f("softmax", z3), t, "cross_entropy")


@pytest.mark.parametrize(("D", "H1", "H2", "C"), [(7, 4, 6, 3), (3, 3, 3, 3), (2, 5, 4, 6)])
def test_skip_matches_autograd(D, H1, H2, C):
    case = skip_case(D, H1, H2, C, N=5, seed=30 + D)
    N = case.x.shape[0]
    widths = {"z1": H1, "h1": H1, "z2": H2, "zs": H2, "h2": H2, "z3": C}
    theta = {**case.params, "x": case.x,
             **_offsets({f"o_{k}": (N, w) for k, w in widths.items()})}
    oracle = grad(lambda th: _skip_oracle(th, case.t))(theta)
    oracle = {k.removeprefix("o_"): v for k, v in oracle.items()}
    _, cache = batched_nets.skip_loss(case.x, case.t, case.params)
    grads = batched_nets.skip_backward(cache)
    assert set(grads) == set(oracle)
    for k in oracle:
        assert rel_error(grads[k], oracle[k]) <= AGREE, k
