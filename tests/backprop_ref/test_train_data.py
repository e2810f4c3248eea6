"""Gradient descent on the spirals, and the student-side data sets."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from backprop_ref import batched, train
from backprop_ref.spec import MLPSpec, init_params
from coursekit import data

SPEC = MLPSpec((2, 24, 3), "relu", "softmax", "cross_entropy")


@pytest.fixture(scope="module")
def spirals():
    X, y = data.make_spirals(60, n_classes=3, noise=0.2, seed=0)
    return X, y, data.one_hot(y, 3)


def test_loss_decreases_on_spirals(spirals):
    X, y, T = spirals
    params, hist = train.train(X, T, SPEC, lr=1.0, steps=300, seed=0)
    assert hist.shape == (300,) and hist.dtype == np.float64
    assert hist[-1] < 0.5 * hist[0]
    assert np.mean(hist[-20:]) < np.mean(hist[:20])
    assert train.accuracy(X, y, params, SPEC) > 0.8  # chance is 1/3
    assert train.accuracy(X, T, params, SPEC) == train.accuracy(X, y, params, SPEC)
    # the history entry s is the loss at the parameters before step s
    assert hist[0] == pytest.approx(batched.mlp_loss(X, T, init_params(SPEC, 0), SPEC)[0])


def test_minibatch_training_decreases_and_is_reproducible(spirals):
    X, _, T = spirals
    p1, h1 = train.train(X, T, SPEC, lr=0.5, steps=200, seed=3, batch_size=32)
    p2, h2 = train.train(X, T, SPEC, lr=0.5, steps=200, seed=3, batch_size=32)
    p3, h3 = train.train(X, T, SPEC, lr=0.5, steps=200, seed=4, batch_size=32)
    np.testing.assert_array_equal(h1, h2)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert not np.array_equal(h1, h3)
    full = batched.mlp_loss(X, T, p1, SPEC)[0]
    assert full < 0.7 * batched.mlp_loss(X, T, init_params(SPEC, np.random.default_rng(3)),
                                         SPEC)[0]


def test_one_step_is_the_update_rule(spirals):
    # theta_1 = theta_0 - lr * grad theta_0, for every W and b
    X, _, T = spirals
    p0 = init_params(SPEC, 5)
    p1, hist = train.train(X, T, SPEC, lr=0.1, steps=1, params=p0)
    loss, cache = batched.mlp_loss(X, T, p0, SPEC)
    g = batched.mlp_backward(cache)
    assert hist[0] == loss
    for k in SPEC.param_names():
        np.testing.assert_allclose(p1[k], p0[k] - 0.1 * g[k], rtol=0, atol=1e-15)


def test_caller_params_not_mutated(spirals):
    X, _, T = spirals
    p0 = init_params(SPEC, 1)
    snap = {k: v.copy() for k, v in p0.items()}
    for v in p0.values():
        v.flags.writeable = False
    out, _ = train.train(X, T, SPEC, lr=0.5, steps=20, params=p0, batch_size=16)
    for k in p0:
        np.testing.assert_array_equal(p0[k], snap[k])
        assert not np.shares_memory(out[k], p0[k])
        assert not np.array_equal(out[k], p0[k])


def test_predict_labels(spirals):
    X, y, T = spirals
    params = init_params(SPEC, 0)
    pred = train.predict(X, params, SPEC)
    assert pred.shape == y.shape and pred.dtype == np.int64
    np.testing.assert_array_equal(pred, np.argmax(batched.mlp_forward(X, params, SPEC)[0], 1))
    bspec = MLPSpec((2, 5, 1), "tanh", "sigmoid", "binary_cross_entropy")
    bp = init_params(bspec, 0)
    out = batched.mlp_forward(X, bp, bspec)[0][:, 0]
    np.testing.assert_array_equal(train.predict(X, bp, bspec), (out >= 0.5).astype(int))


def test_spirals_and_moons_deterministic_shapes():
    X, y = data.make_spirals(50, n_classes=4, noise=0.1, seed=2)
    assert X.shape == (200, 2) and y.shape == (200,) and X.dtype == np.float64
    assert y.dtype == np.int64 and sorted(set(y.tolist())) == [0, 1, 2, 3]
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)  # r in [0, 1]
    X2, y2 = data.make_spirals(50, n_classes=4, noise=0.1, seed=2)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, data.make_spirals(50, n_classes=4, noise=0.1, seed=3)[0])
    M, c = data.make_moons(101, noise=0.1, seed=0)
    assert M.shape == (101, 2) and c.shape == (101,) and c.dtype == np.int64
    assert (c == 0).sum() == 51 and (c == 1).sum() == 50
    np.testing.assert_array_equal(M, data.make_moons(101, noise=0.1, seed=0)[0])
    M0, _ = data.make_moons(4, noise=0.0)
    np.testing.assert_allclose(M0, [[1, 0], [-1, 0], [0, 0.5], [2, 0.5]], atol=1e-15)


def test_one_hot():
    T = data.one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(T, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert T.dtype == np.float64
    with pytest.raises(ValueError):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError):
        data.one_hot(np.array([0.0, 1.0]), 3)


def test_data_module_does_not_import_backprop_ref():
    tree = ast.parse(Path(data.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(name.startswith("backprop_ref") for name in names)
