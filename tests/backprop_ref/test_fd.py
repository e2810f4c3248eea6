"""Every level and every network against central finite differences (coursekit.gradcheck).

Instances are kink-safe (tests/backprop_ref/strategies.py); the pass rule is rel_error <= PASS_TOL.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import batched_nets, vector_nets
from backprop_ref.spec import HIDDEN_ACTIVATIONS
from coursekit.gradcheck import PASS_TOL, numerical_gradient, rel_error
from tests.backprop_ref.strategies import (
    LEVELS,
    PAIRS,
    level_loss,
    level_loss_grads,
    mlp_case,
    skip_case,
    twin_case,
)


def _check_mlp(level: str, case) -> None:
    params, X, T, spec = case.params, case.X, case.T, case.spec
    _, grads = level_loss_grads(level, X, T, params, spec)
    for key in spec.param_names():
        num = numerical_gradient(lambda: level_loss(level, X, T, params, spec), params[key])
        assert grads[key].shape == params[key].shape
        assert rel_error(grads[key], num) <= PASS_TOL, (level, key, rel_error(grads[key], num))
    num_x = numerical_gradient(lambda: level_loss(level, X, T, params, spec), X)
    assert rel_error(grads["a0"], num_x) <= PASS_TOL, (level, "a0")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_mlp_one_hidden_layer_every_activation_and_pair(level, hidden, output, loss):
    seed = 10 * HIDDEN_ACTIVATIONS.index(hidden) + PAIRS.index((output, loss))
    case = mlp_case((7, 4, 3), hidden, output, loss, N=5, seed=seed)
    _check_mlp(level, case)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("sizes", "hidden", "output", "loss"),
    [
        ((7, 3), (), "softmax", "cross_entropy"),
        ((7, 3), (), "sigmoid", "binary_cross_entropy"),
        ((7, 3), (), "relu", "squared_error"),
        ((7, 4, 6, 3), ("relu", "tanh"), "softmax", "cross_entropy"),
        ((7, 4, 6, 3), ("sigmoid", "relu"), "sigmoid", "binary_cross_entropy"),
        ((7, 4, 6, 2, 3), ("tanh", "relu", "sigmoid"), "softmax", "half_squared_error"),
        ((7, 4, 6, 2, 3), ("relu", "identity", "relu"), "tanh", "squared_error"),
        ((3, 3, 3), "relu", "softmax", "cross_entropy"),  # square: H = C = D
    ],
)
def test_mlp_depths_and_square_case(level, sizes, hidden, output, loss):
    _check_mlp(level, mlp_case(sizes, hidden, output, loss, N=5, seed=len(sizes)))


def _twin_inputs(level: str, case, n: int = 0):
    """Batched arrays, or the columns of example n for the vector level."""
    if level == "batched":
        return batched_nets, case.xa, case.xb, case.t
    return vector_nets, case.xa[n:n + 1].T.copy(), case.xb[n:n + 1].T.copy(), case.t[n:n + 1]


@pytest.mark.parametrize("level", ["vector", "batched"])
@pytest.mark.parametrize(("D", "H"), [(7, 4), (4, 4)])
def test_twin(level, D, H):
    case = twin_case(D, H, N=5, seed=D)
    mod, xa, xb, t = _twin_inputs(level, case, n=1)
    _, cache = mod.twin_loss(xa, xb, t, case.params)
    grads = mod.twin_backward(cache)
    for key, arr in [*case.params.items(), ("xa", xa), ("xb", xb)]:
        num = numerical_gradient(lambda: mod.twin_loss(xa, xb, t, case.params)[0], arr)
        assert rel_error(grads[key], num) <= PASS_TOL, (level, key)


@pytest.mark.parametrize("level", ["vector", "batched"])
@pytest.mark.parametrize(("D", "H1", "H2", "C"), [(7, 4, 6, 3), (3, 3, 3, 3)])
def test_skip(level, D, H1, H2, C):
    case = skip_case(D, H1, H2, C, N=5, seed=C)
    if level == "batched":
        mod, x, t = batched_nets, case.x, case.t
    else:
        mod, x, t = vector_nets, case.x[2:3].T.copy(), case.t[2:3].T.copy()
    _, cache = mod.skip_loss(x, t, case.params)
    grads = mod.skip_backward(cache)
    for key, arr in [*case.params.items(), ("x", x)]:
        num = numerical_gradient(lambda: mod.skip_loss(x, t, case.params)[0], arr)
        assert rel_error(grads[key], num) <= PASS_TOL, (level, key)
    # dL/dx really needs both paths: either one alone is far off.
    w1_path = grads["z1"] @ case.params["W1"] if level == "batched" else (
        case.params["W1"].T @ grads["z1"])
    assert rel_error(w1_path, grads["x"]) > 1e-2


def test_q1_graph_against_fd():
    from backprop_ref import scalar

    for w, x, b, t in [(0.7, -1.3, 0.4, 0.2), (-2.0, 0.5, 1.5, -1.0), (1.1, 2.0, -0.3, 3.0)]:
        theta = np.array([w, x, b])
        g = scalar.q1_backward(w, x, b, t)

        def loss(theta=theta, t=t):
            return scalar.q1_forward(theta[0], theta[1], theta[2], t)["L"]

        num = numerical_gradient(loss, theta)
        assert rel_error(np.array([g["w"], g["x"], g["b"]]), num) <= PASS_TOL


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "half_squared_error"])
def test_q3_net_against_fd(loss):
    from backprop_ref import scalar

    rng = np.random.default_rng(3)
    checked = 0
    while checked < 5:
        x, w, t = rng.normal(size=2), rng.normal(size=10), float(rng.uniform())
        fw = scalar.q3_forward(x, w, t, loss)
        if min(abs(fw[m]) for m in ("m1", "m2", "m3", "m4")) < 0.05:
            continue  # kink-safe points only
        g = scalar.q3_backward(x, w, t, loss)
        num_w = numerical_gradient(lambda x=x, w=w, t=t: scalar.q3_forward(x, w, t, loss)["L"], w)
        num_x = numerical_gradient(lambda x=x, w=w, t=t: scalar.q3_forward(x, w, t, loss)["L"], x)
        ana_w = np.array([g[f"w{i}"] for i in range(1, 11)])
        assert rel_error(ana_w, num_w) <= PASS_TOL
        assert rel_error(np.array([g["x1"], g["x2"]]), num_x) <= PASS_TOL
        checked += 1
