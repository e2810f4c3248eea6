"""Values worked by hand (arithmetic in the comments), for the notes' small examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_ref import activations, batched, scalar, vector
from backprop_ref.spec import MLPSpec


def test_softmax_ce_gradient_is_a_minus_t():
    # z = (0, ln 2, ln 5): e^z = (1, 2, 5), sum 8, a = (1/8, 2/8, 5/8). t = (0, 1, 0).
    # L = -log(2/8) = log 4; dL/dz_k = a_k - t_k = (1/8, -6/8, 5/8).
    z = np.array([[0.0], [math.log(2.0)], [math.log(5.0)]])
    t = np.array([[0.0], [1.0], [0.0]])
    value, cache = vector.loss_forward(z, t, "softmax", "cross_entropy")
    assert value == pytest.approx(math.log(4.0), abs=1e-14)
    np.testing.assert_allclose(vector.loss_backward(cache), [[0.125], [-0.75], [0.625]],
                               atol=1e-15)
    # scalar and batched levels: the same example in a row, and a batch of two rows where the
    # second has a = (1/3, 1/3, 1/3), t = (1, 0, 0): mean loss (log 4 + log 3) / 2 and
    # dL/dZ = (A - T) / N with N = 2.
    Z = np.array([z[:, 0], [0.0, 0.0, 0.0]])
    T = np.array([t[:, 0], [1.0, 0.0, 0.0]])
    want = np.array([[0.125, -0.75, 0.625], [-2 / 3, 1 / 3, 1 / 3]]) / 2
    for mod in (scalar, batched):
        value, cache = mod.loss_forward(Z, T, "softmax", "cross_entropy")
        assert value == pytest.approx((math.log(4.0) + math.log(3.0)) / 2, abs=1e-14)
        np.testing.assert_allclose(mod.loss_backward(cache), want, atol=1e-15)


def test_sigmoid_and_tanh_derivatives():
    # sigma(0) = 1/2 -> sigma' = 1/4; sigma(ln 3) = 3/4 -> sigma' = 3/16;
    # tanh(ln 3 / 2) = (3 - 1)/(3 + 1) = 1/2 -> tanh' = 3/4; tanh(0) = 0 -> tanh' = 1.
    z = np.array([[0.0, math.log(3.0)], [math.log(3.0) / 2, -math.log(3.0)]])
    s = activations.sigmoid(z)
    np.testing.assert_allclose(s, [[0.5, 0.75], [math.sqrt(3) / (1 + math.sqrt(3)), 0.25]])
    np.testing.assert_allclose(activations.sigmoid_prime(z), s * (1 - s), rtol=1e-14)
    np.testing.assert_allclose(activations.sigmoid_prime(z)[0], [0.25, 3 / 16], rtol=1e-14)
    np.testing.assert_allclose(activations.tanh_prime(z), 1 - np.tanh(z) ** 2, rtol=1e-14)
    assert activations.tanh_prime(np.array([math.log(3.0) / 2]))[0] == pytest.approx(0.75)
    # the scalar and batched activation backward use the same derivatives: da = 1 gives f'(z)
    for name, fprime in (("sigmoid", activations.sigmoid_prime),
                         ("tanh", activations.tanh_prime)):
        for mod in (scalar, batched):
            _, cache = mod.activation_forward(z, name)
            np.testing.assert_allclose(mod.activation_backward(np.ones_like(z), cache),
                                       fprime(z), rtol=1e-14)


def test_relu_mask():
    # ReLU'(z) = [z > 0]: z = (-1, 2, 0.5, -0.25) -> dz = da * (0, 1, 1, 0), dz = (0, 3, 4, 0).
    z = np.array([[-1.0, 2.0, 0.5, -0.25]])
    da = np.array([[7.0, 3.0, 4.0, 5.0]])
    for mod in (scalar, batched):
        _, cache = mod.activation_forward(z, "relu")
        np.testing.assert_array_equal(mod.activation_backward(da, cache), [[0, 3, 4, 0]])


def test_q1_graph_by_hand():
    # w=1, x=0, b=0, t=1: z = 1*0 + 0 = 0, y = 0 + tanh 0 = 0, L = 1/2 (0 - 1)^2 = 1/2.
    # dL/dL = 1, dL/dy = y - t = -1, dL/dz = dL/dy (1 - tanh^2 0) = -1,
    # dL/dw = dL/dz x = 0, dL/db = dL/dz = -1, dL/dx = dL/dy * 1 + dL/dz * w = -1 - 1 = -2.
    assert scalar.q1_forward(1, 0, 0, 1) == {"z": 0.0, "y": 0.0, "L": 0.5}
    assert scalar.q1_backward(1, 0, 0, 1) == {"L": 1.0, "y": -1.0, "z": -1.0, "w": 0.0,
                                              "b": -1.0, "x": -2.0}
    # w=2, x=1, b=-2, t=0: z = 0, y = 1 + 0 = 1, L = 1/2. dL/dy = 1, dL/dz = 1,
    # dL/dw = 1 * 1 = 1, dL/db = 1, dL/dx = 1 + 1 * 2 = 3.
    assert scalar.q1_forward(2, 1, -2, 0) == {"z": 0.0, "y": 1.0, "L": 0.5}
    assert scalar.q1_backward(2, 1, -2, 0) == {"L": 1.0, "y": 1.0, "z": 1.0, "w": 1.0,
                                               "b": 1.0, "x": 3.0}
    # w=0, x=1/2, b=ln(3)/2, t=0: z = ln(3)/2, tanh z = 1/2, y = 1/2 + 1/2 = 1, L = 1/2.
    # dL/dy = 1, dL/dz = 1 * (1 - 1/4) = 3/4, dL/dw = 3/4 * 1/2 = 3/8, dL/db = 3/4,
    # dL/dx = 1 * 1 + 3/4 * 0 = 1.
    g = scalar.q1_backward(0.0, 0.5, math.log(3.0) / 2, 0.0)
    want = {"L": 1.0, "y": 1.0, "z": 0.75, "w": 0.375, "b": 0.75, "x": 1.0}
    assert g == pytest.approx(want, abs=1e-15)


# w1..w10 and x for Q3, all ReLUs active, z = 0:
# m1 = 3*1 + (-1)*2 = 1, h1 = 1;  m2 = 1*1 + 1*2 = 3, h2 = 3;
# m3 = 1*1 + 1*3 = 4, h3 = 4;     m4 = 2*1 + 1*3 = 5, h4 = 5;
# z = 5*4 + (-4)*5 = 0, y = sigma(0) = 1/2.
Q3_X = np.array([1.0, 2.0])
Q3_W = np.array([3.0, -1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 5.0, -4.0])


def test_q3_forward_by_hand():
    fw = scalar.q3_forward(Q3_X, Q3_W, 1.0)
    assert fw == pytest.approx({"m1": 1, "h1": 1, "m2": 3, "h2": 3, "m3": 4, "h3": 4, "m4": 5,
                                "h4": 5, "z": 0, "y": 0.5, "L": math.log(2.0)}, abs=1e-15)


def test_q3_backward_bce_by_hand():
    # t = 1, BCE: dL/dy = -t/y + (1-t)/(1-y) = -2, dL/dz = y - t = -1/2.
    # dL/dh3 = dz w9 = -5/2, dL/dh4 = dz w10 = 2; m3, m4 > 0 so dL/dm3 = -5/2, dL/dm4 = 2.
    # dL/dh1 = dm3 w5 + dm4 w7 = -5/2 + 4 = 3/2; dL/dh2 = dm3 w6 + dm4 w8 = -5/2 + 2 = -1/2.
    # dL/dm1 = 3/2, dL/dm2 = -1/2.
    # dw1 = dm1 x1 = 3/2, dw2 = dm1 x2 = 3, dw3 = dm2 x1 = -1/2, dw4 = dm2 x2 = -1,
    # dw5 = dm3 h1 = -5/2, dw6 = dm3 h2 = -15/2, dw7 = dm4 h1 = 2, dw8 = dm4 h2 = 6,
    # dw9 = dz h3 = -2, dw10 = dz h4 = -5/2.
    g = scalar.q3_backward(Q3_X, Q3_W, 1.0, loss="binary_cross_entropy")
    want = {"L": 1, "y": -2, "z": -0.5, "h3": -2.5, "h4": 2, "m3": -2.5, "m4": 2, "h1": 1.5,
            "h2": -0.5, "m1": 1.5, "m2": -0.5, "w1": 1.5, "w2": 3, "w3": -0.5, "w4": -1,
            "w5": -2.5, "w6": -7.5, "w7": 2, "w8": 6, "w9": -2, "w10": -2.5}
    assert {k: g[k] for k in want} == pytest.approx(want, abs=1e-14)


def test_q3_backward_half_squared_error_by_hand():
    # t = 1, L = 1/2 (y - t)^2 = 1/8. dL/dy = y - t = -1/2, dL/dz = -1/2 * sigma'(0) = -1/8:
    # every gradient below z is the BCE one times 1/4 (ReLUs all active, same weights).
    fw = scalar.q3_forward(Q3_X, Q3_W, 1.0, loss="half_squared_error")
    assert fw["L"] == pytest.approx(0.125)
    g = scalar.q3_backward(Q3_X, Q3_W, 1.0, loss="half_squared_error")
    bce = scalar.q3_backward(Q3_X, Q3_W, 1.0)
    assert g["y"] == -0.5 and g["z"] == -0.125
    for k in ("h1", "h2", "m1", "m2", "m3", "m4", *(f"w{i}" for i in range(1, 11))):
        assert g[k] == pytest.approx(bce[k] / 4, abs=1e-15), k


def test_q3_masked_units_by_hand():
    # x = (1, 2); m1 = 3 - 2 = 1 (h1 = 1), m2 = 1 - 2 = -1 (h2 = 0, masked),
    # m3 = 1*1 + 7*0 = 1 (h3 = 1), m4 = -1*1 + 2*0 = -1 (h4 = 0, masked), z = 2*1 + 3*0 = 2.
    # t = 0, half squared error: dL/dy = y, dL/dz = y * y (1 - y) =: d.
    # dh3 = 2d, dh4 = 3d, dm3 = 2d, dm4 = 0; dh1 = dm3 w5 = 2d, dh2 = dm3 w6 = 14d;
    # dm1 = 2d, dm2 = 0; dw1 = 2d, dw2 = 4d, dw3 = dw4 = 0, dw5 = dm3 h1 = 2d, dw6 = 0,
    # dw7 = dw8 = 0, dw9 = d h3 = d, dw10 = d h4 = 0.
    w = np.array([3.0, -1.0, 1.0, -1.0, 1.0, 7.0, -1.0, 2.0, 2.0, 3.0])
    y = 1 / (1 + math.exp(-2.0))
    d = y * y * (1 - y)
    g = scalar.q3_backward(Q3_X, w, 0.0, loss="half_squared_error")
    want = {"y": y, "z": d, "h3": 2 * d, "h4": 3 * d, "m3": 2 * d, "m4": 0, "h1": 2 * d,
            "h2": 14 * d, "m1": 2 * d, "m2": 0, "w1": 2 * d, "w2": 4 * d, "w3": 0, "w4": 0,
            "w5": 2 * d, "w6": 0, "w7": 0, "w8": 0, "w9": d, "w10": 0}
    assert {k: g[k] for k in want} == pytest.approx(want, abs=1e-15)


def test_q3_rejects_other_losses_and_shapes():
    with pytest.raises(ValueError):
        scalar.q3_forward(Q3_X, Q3_W, 1.0, loss="cross_entropy")
    with pytest.raises(ValueError):
        scalar.q3_backward(Q3_X, Q3_W[:9], 1.0)


def test_loss_pairs_checked():
    z = np.zeros((2, 3))
    for mod in (scalar, batched):
        with pytest.raises(ValueError):
            mod.mlp_loss(z[:, :2], z, {}, MLPSpec((2, 3), (), "tanh", "cross_entropy"))
    with pytest.raises(ValueError):
        scalar.loss_forward(z, z, "tanh", "cross_entropy")
