"""Explorer 3 (layer gradients), driven from Python with an independent test MLP."""

from __future__ import annotations

import re

import numpy as np
import pytest

from coursekit.explorers import layer_gradients_explorer
from coursekit.explorers._common import DASH, fmt
from coursekit.explorers.layers import fd_weight_grads, mlp_problem_factory
from coursekit.gradcheck import PASS_TOL
from tests.coursekit.explorers.explorer_helpers import grads, loss


def table_cell(explorer, layer: int, css: str) -> str:
    row = re.search(rf'<tr data-layer="{layer}">(.*?)</tr>', explorer.table.value).group(1)
    return re.search(rf'<td class="{css}">(.*?)</td>', row).group(1)


def test_correct_gradients_match_fd_on_every_layer_and_are_drawn():
    e = layer_gradients_explorer(loss, grads, label="test MLP")
    assert sorted(e.norms) == [1, 2, 3, 4]  # 3 hidden layers -> 4 weight layers
    for m, err in e.rel_errors.items():
        assert err < 1e-7, m
        np.testing.assert_allclose(e.analytic[f"W{m}"], e.numeric[f"W{m}"], rtol=1e-5, atol=1e-9)
        assert table_cell(e, m, "bp-norm-analytic") == fmt(e.norms[m][0])
        assert table_cell(e, m, "bp-norm-numeric") == fmt(e.norms[m][1])
    assert e.table.value.count("bp-pass") == 4 and "bp-fail" not in e.table.value
    e.layer.value = 2
    shown, fd, diff = e.images
    np.testing.assert_array_equal(shown, e.analytic["W2"])
    np.testing.assert_array_equal(fd, e.numeric["W2"])
    np.testing.assert_array_equal(diff, e.analytic["W2"] - e.numeric["W2"])
    assert shown.shape == (8, 8)
    np.testing.assert_allclose(
        e.norm_lines["analytic"].get_ydata(), [e.norms[m][0] for m in (1, 2, 3, 4)]
    )
    np.testing.assert_allclose(
        e.norm_lines["numeric"].get_ydata(), [e.norms[m][1] for m in (1, 2, 3, 4)]
    )
    assert "dW2" in e.axes[1].get_title()


def test_vanishing_with_sigmoid_and_depth_exploding_with_relu_and_scale():
    e = layer_gradients_explorer(loss, grads)
    e.activation.value = "sigmoid"
    e.depth.value = 1
    shallow_first = e.norms[1][0]
    e.depth.value = 6
    deep = [e.norms[m][0] for m in range(1, 8)]
    assert deep[0] < 1e-2 * deep[-1]  # vanishing towards the input
    assert deep[0] < 1e-2 * shallow_first
    e.activation.value = "relu"
    e.scale.value = 1.0
    relu_unit = e.norms[1][0]
    e.scale.value = 4.0
    assert e.norms[1][0] > 1e3 * relu_unit  # exploding with a large initial scale
    assert max(e.rel_errors.values()) < PASS_TOL


def test_a_missing_activation_derivative_fails_below_the_output_layer():
    e = layer_gradients_explorer(loss, lambda X, T, p, h: grads(X, T, p, h, bug="no_act_deriv"))
    L = max(e.norms)
    assert e.rel_errors[L] < 1e-7
    assert all(e.rel_errors[m] > 1e-3 for m in range(1, L))
    assert e.table.value.count("bp-fail") == L - 1


def test_numeric_only_and_unfinished_backward():
    e = layer_gradients_explorer(loss, None)
    assert e.analytic == {} and e.images[0] is None
    assert table_cell(e, 1, "bp-norm-analytic") == DASH
    assert not e.norm_lines["analytic"].get_visible()
    assert "finite differences only" in e.status.value

    def unfinished(X, T, p, h):
        raise NotImplementedError()

    e = layer_gradients_explorer(loss, unfinished)
    assert "NotImplementedError" in e.status.value
    assert e.images[2] is None and table_cell(e, 1, "bp-norm-numeric") != DASH


def test_layer_selector_follows_depth_and_does_not_recompute():
    calls = []

    def counting_loss(X, T, p, h):
        calls.append(1)
        return loss(X, T, p, h)

    e = layer_gradients_explorer(counting_loss, grads)
    e.layer.value = 4
    n = len(calls)
    e.layer.value = 3
    assert len(calls) == n  # only redrawn
    assert e.layer.max == 4
    e.depth.value = 1
    assert e.layer.max == 2 and e.layer.value == 2 and sorted(e.norms) == [1, 2]
    assert len(calls) > n
    assert 0 < e.last_update_seconds < 2.0


def test_fd_weight_grads_leaves_params_untouched():
    make = mlp_problem_factory(loss, grads)
    problem = make("tanh", 2, 1.0)
    before = {k: v.copy() for k, v in problem.params.items()}
    fd = fd_weight_grads(problem)
    assert sorted(fd) == ["W1", "W2", "W3"]
    for k, v in before.items():
        np.testing.assert_array_equal(problem.params[k], v)
    exact = problem.grad_fn(problem.params)
    for k in fd:
        assert fd[k] == pytest.approx(exact[k], rel=1e-5, abs=1e-9)


def test_a_transposed_weight_gradient_is_reported_by_shape():
    def transposed(X, T, p, h):
        out = grads(X, T, p, h)
        out["W1"] = out["W1"].T
        return out

    e = layer_gradients_explorer(loss, transposed)
    assert e.bad_shapes == {1: (4, 8)} and e.rel_errors[1] is None
    assert table_cell(e, 1, "bp-norm-analytic") == "shape (4, 8), not (8, 4)"
    assert e.table.value.count("bp-fail") == 1 and e.images[0] is None
    assert e.rel_errors[2] < 1e-7
