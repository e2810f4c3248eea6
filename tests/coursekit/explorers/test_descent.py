"""Explorer 4 (gradient descent), driven from Python with an independent test MLP."""

from __future__ import annotations

import re

import numpy as np
import pytest

from coursekit.explorers import descent_explorer
from coursekit.explorers.descent import fd_grad_fn, labels_of
from tests.coursekit.explorers.explorer_helpers import forward, grads, loss


def tanh_loss(X, T, p):
    return loss(X, T, p, "tanh")


def tanh_grads(X, T, p):
    return grads(X, T, p, "tanh")


def tanh_scores(X, p):
    return forward(X, p, "tanh")[0]


def status_number(e, css: str) -> str:
    return re.search(rf'<span class="{css}">(.*?)</span>', e.status.value).group(1)


def test_training_lowers_the_loss_and_draws_curve_and_boundary():
    e = descent_explorer(tanh_loss, tanh_scores, tanh_grads, lr=1.0, hidden=16, steps=300)
    assert e.losses == [] and e.params["W1"].shape == (16, 2) and e.C == 2
    e.train_button.click()
    assert len(e.losses) == 300 and e.progress.value == 300 == e.progress.max
    assert e.losses[-1] < 0.5 * e.losses[0]
    assert e.losses[0] == pytest.approx(
        tanh_loss(*_data(e), e.init_fn((2, 16, 2), e.seed)), rel=1e-12
    )
    assert e.accuracy > 0.85
    np.testing.assert_array_equal(e.loss_line.get_ydata(), e.losses)
    np.testing.assert_array_equal(e.loss_line.get_xdata(), np.arange(1, 301))
    assert set(np.unique(e.grid_labels)) == {0, 1}
    assert status_number(e, "bp-gd-nsteps") == "300"
    assert float(status_number(e, "bp-gd-acc")) == pytest.approx(e.accuracy, abs=1e-5)
    assert not e.train_button.disabled
    e.train(50)  # training continues from where it stopped
    assert len(e.losses) == 350 and e.losses[300] < e.losses[0]


def _data(e):
    return e.X, e.T


def test_controls_reset_the_network():
    e = descent_explorer(tanh_loss, tanh_scores, tanh_grads)
    e.train(20)
    png = bytes(e.image.value)
    e.hidden.value = 5
    assert e.losses == [] and e.params["W1"].shape == (5, 2) and e.progress.value == 0
    assert bytes(e.image.value) != png
    e.dataset.value = "spirals"
    assert e.C == 3 and e.T.shape == (210, 3) and e.params["W2"].shape == (3, 5)
    e.lr.value = 0.1  # only the status changes
    assert "lr = 0.1" in e.status.value and e.losses == []
    assert 0 < e.last_update_seconds < 1.0


def test_finite_difference_training_follows_the_analytic_one():
    a = descent_explorer(tanh_loss, tanh_scores, tanh_grads, hidden=4)
    n = descent_explorer(tanh_loss, tanh_scores, None, hidden=4)
    a.train(5)
    n.train(5)
    assert "finite differences" in n.status.value
    np.testing.assert_allclose(n.losses, a.losses, rtol=1e-8)
    for k in a.params:
        np.testing.assert_allclose(n.params[k], a.params[k], rtol=1e-6, atol=1e-9)
    g = fd_grad_fn(tanh_loss)(a.X, a.T, a.params)
    exact = tanh_grads(a.X, a.T, a.params)
    assert all(g[k] == pytest.approx(exact[k], rel=1e-5, abs=1e-9) for k in exact)


def test_divergence_and_unfinished_functions_are_reported():
    calls = []

    def exploding(X, T, p):
        calls.append(1)
        return tanh_loss(X, T, p) if len(calls) < 4 else float("inf")

    e = descent_explorer(exploding, tanh_scores, tanh_grads)
    e.train(10)
    assert len(e.losses) == 3 and "lr is too large" in e.status.value

    def unfinished(X, T, p):
        raise NotImplementedError()

    e = descent_explorer(tanh_loss, tanh_scores, unfinished)
    e.train(10)
    assert e.losses == [] and "NotImplementedError" in e.status.value
    assert not e.train_button.disabled


def test_labels_of_accepts_scores_probabilities_and_labels():
    np.testing.assert_array_equal(labels_of(np.array([[0.1, 0.9], [0.8, 0.2]])), [1, 0])
    np.testing.assert_array_equal(labels_of(np.array([[0.7], [0.2]])), [1, 0])
    np.testing.assert_array_equal(labels_of(np.array([2, 0])), [2, 0])
