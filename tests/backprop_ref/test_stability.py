"""Saturated inputs give finite values and no RuntimeWarning (warnings are errors here)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from backprop_ref import activations, batched, batched_nets, scalar, vector, vector_nets
from backprop_ref.spec import MLPSpec

ROW_LEVELS = (scalar, batched)


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_softmax_of_1000_0_0():
    z = np.array([[1000.0, 0.0, 0.0]])
    np.testing.assert_array_equal(activations.softmax(z, axis=1), [[1.0, 0.0, 0.0]])
    for mod in ROW_LEVELS:
        a, cache = mod.activation_forward(z, "softmax")
        np.testing.assert_array_equal(a, [[1.0, 0.0, 0.0]])
        assert np.all(np.isfinite(mod.activation_backward(np.ones_like(z), cache)))
    a, _ = vector.activation_forward(z.T, "softmax")
    np.testing.assert_array_equal(a, [[1.0], [0.0], [0.0]])


@pytest.mark.parametrize("mod", ROW_LEVELS)
def test_cross_entropy_with_logit_gap_800(mod):
    # the target class is 800 below the largest logit: L = log(1 + e^-800 + e^800...) ~ 800.
    z = np.array([[800.0, 0.0, 0.0], [0.0, 800.0, 0.0]])
    t = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    value, cache = mod.loss_forward(z, t, "softmax", "cross_entropy")
    assert value == pytest.approx(400.0)  # (800 + 0) / 2
    dz = mod.loss_backward(cache)
    np.testing.assert_allclose(dz, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-300)


@pytest.mark.parametrize("z0", [40.0, -40.0, 1000.0, -1000.0])
@pytest.mark.parametrize("t0", [0.0, 1.0, 0.3])
def test_binary_cross_entropy_saturated(z0, t0):
    # L = log(1 + e^z) - t z: z = 1000, t = 0 -> 1000; z = -1000, t = 1 -> 1000;
    # dL/dz = sigma(z) - t, finite.
    z, t = np.array([[z0]]), np.array([[t0]])
    want = max(z0, 0.0) + math.log1p(math.exp(-abs(z0))) - t0 * z0
    for mod in (scalar, batched, vector):
        value, cache = mod.loss_forward(z, t, "sigmoid", "binary_cross_entropy")
        assert value == pytest.approx(want, rel=1e-12)
        dz = mod.loss_backward(cache)
        assert np.all(np.isfinite(dz))
        assert dz[0, 0] == pytest.approx(float(activations.sigmoid(z0)) - t0, abs=1e-15)


@pytest.mark.parametrize("mod", [scalar, batched, vector])
@pytest.mark.parametrize("z0", [40.0, -40.0, 1000.0, -1000.0])
def test_saturated_networks_give_finite_gradients(mod, z0):
    # A 1-1 sigmoid/BCE network with w = 1, b = 0 and input z0: every parameter gradient and
    # dL/dz is finite; dL/da^(1) = -t/y + (1-t)/(1-y) is finite at |z| = 40 (y rounds to 1).
    spec = MLPSpec((1, 1), (), "sigmoid", "binary_cross_entropy")
    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    x, t = np.array([[z0]]), np.array([[1.0 if z0 > 0 else 0.0]])
    _, cache = mod.mlp_loss(x, t, params, spec)
    g = mod.mlp_backward(cache)
    for k in ("W1", "b1", "z1", "a0", "a1"):
        assert np.all(np.isfinite(g[k])), k
    if abs(z0) == 40.0:
        # wrong label: dL/da = 1/(1-y) or -1/y = +-(1 + e^40), from sigma(-z), not 1 - y = 0.
        _, cache = mod.mlp_loss(x, 1.0 - t, params, spec)
        assert mod.mlp_backward(cache)["a1"][0, 0] == pytest.approx(
            math.copysign(1.0 + math.exp(40.0), z0))


@pytest.mark.parametrize("mod", [scalar, batched, vector])
def test_softmax_ce_network_with_huge_logits(mod):
    # one layer, logits (1000, 0, 0) and target on class 0: L = 0, dz = 0, dL/da = (-1, 0, 0)
    spec = MLPSpec((1, 3), (), "softmax", "cross_entropy")
    params = {"W1": np.array([[1000.0], [0.0], [0.0]]), "b1": np.zeros((3, 1))}
    x, t = np.array([[1.0]]), np.array([[1.0, 0.0, 0.0]])
    if mod is vector:
        t = t.T
    value, cache = mod.mlp_loss(x, t, params, spec)
    assert value == 0.0
    g = mod.mlp_backward(cache)
    assert all(np.all(np.isfinite(v)) for v in g.values())
    np.testing.assert_array_equal(g["a1"].ravel(), [-1.0, 0.0, 0.0])


def test_twin_and_skip_saturated():
    H, D = 3, 2
    params = {"W1": np.full((H, D), 30.0), "b1": np.zeros((H, 1)), "W2": np.full((1, H), 5.0),
              "b2": np.zeros((1, 1))}
    xa = xb = np.ones((1, D))
    for mod, a, b in ((batched_nets, xa, xb), (vector_nets, xa.T, xb.T)):
        value, cache = mod.twin_loss(a, b, 0.0, params)  # z = 5 * 3 * 60^2: y rounds to 1
        assert np.isfinite(value) and value > 1e4
        assert all(np.all(np.isfinite(v)) for v in mod.twin_backward(cache).values())
    sp = batched_nets.init_skip_params(2, 3, 4, 3, 0)
    sp["W3"] = sp["W3"] * 1e4
    x, t = np.array([[3.0, -3.0]]), np.array([[0.0, 0.0, 1.0]])
    for mod, xx, tt in ((batched_nets, x, t), (vector_nets, x.T, t.T)):
        value, cache = mod.skip_loss(xx, tt, sp)
        assert np.isfinite(value)
        assert all(np.all(np.isfinite(v)) for v in mod.skip_backward(cache).values())


def test_q3_saturated():
    w = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    for x1, t in ((1000.0, 0.0), (1000.0, 1.0), (40.0, 1.0)):
        fw = scalar.q3_forward(np.array([x1, 0.0]), w, t)
        g = scalar.q3_backward(np.array([x1, 0.0]), w, t)
        assert fw["L"] == pytest.approx((1.0 - t) * x1)
        assert all(math.isfinite(v) for k, v in g.items() if k != "y")
        assert g["z"] == pytest.approx(1.0 - t)
