"""Issue 13: explorers that never mislead (FD noise, colour scales, fixed axes, labels that fit,
no best step for a wrong derivative, readable loss ticks) and the drawn-graph checks."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.explorers import descent_explorer, layer_gradients_explorer, step_size_explorer
from coursekit.explorers._common import fd_noise, fd_verdict
from coursekit.explorers.graph import (
    CHAR_WIDTH,
    GraphExplorer,
    box_width,
    show_graph,
)
from coursekit.explorers.layers import NORM_RANGE
from coursekit.explorers.stepsize import ProbeFunction
from coursekit.gradcheck import PASS_TOL
from coursekit.graphs import check_graph, graph_edge_problems, graph_structure_problems
from tests.coursekit.explorers.explorer_helpers import forward, grads, loss

Q1 = {"z": ["w", "x", "b"], "y": ["z", "x"], "L": ["y", "t"]}
Q1_NODES = ["w", "x", "b", "t", "z", "y", "L"]


# ------------------------------------------------------------------ layer explorer


@pytest.mark.parametrize("scale", [0.125, 0.25, 0.5])
def test_correct_gradients_are_never_called_wrong_even_when_tiny(scale):
    """Deep sigmoid nets at small scales: norms down to ~1e-9, FD noisier than the tolerance."""
    e = layer_gradients_explorer(loss, grads)
    e.activation.value = "sigmoid"
    e.scale.value = scale
    e.depth.value = 6
    assert min(n[0] for n in e.norms.values()) < 1e-5  # the case the issue describes
    assert "fail" not in e.states.values(), e.states
    assert "bp-fail" not in e.table.value
    for m, state in e.states.items():
        if state == "unreliable":  # only where the difference is within the FD's own noise
            diff = np.linalg.norm(e.analytic[f"W{m}"] - e.numeric[f"W{m}"])
            assert e.rel_errors[m] > PASS_TOL and diff <= e.noise[m]
    if "unreliable" in e.states.values():
        assert "FD too noisy" in e.table.value and "cannot tell" in e.table.value


def test_a_wrong_gradient_still_fails_and_is_never_passed_as_noise():
    e = layer_gradients_explorer(loss, lambda X, T, p, h: grads(X, T, p, h, bug="no_act_deriv"))
    e.activation.value = "sigmoid"
    L = max(e.norms)
    assert [e.states[m] for m in range(1, L)] == ["fail"] * (L - 1)
    assert e.states[L] == "pass"


def test_fd_verdict_states():
    a = np.array([1.0, 2.0])
    assert fd_verdict(a, a * (1 + 1e-9), noise=0.0)[1] == "pass"
    assert fd_verdict(a, a + 1e-3, noise=1e-6)[1] == "fail"
    tiny = np.array([1e-9, -2e-9])
    assert fd_verdict(tiny, tiny + 1e-11, noise=1e-10)[1] == "unreliable"
    assert fd_verdict(tiny, tiny + 1e-9, noise=1e-10)[1] == "fail"
    assert fd_verdict(a, np.array([np.nan, 1.0]), noise=1.0)[1] == "fail"
    # the noise bound grows with |L|, with 1/h and with the number of entries
    assert fd_noise(10.0, 1e-5, 4) == pytest.approx(10 * fd_noise(1.0, 1e-5, 4))
    assert fd_noise(1.0, 1e-5, 64) == pytest.approx(4 * fd_noise(1.0, 1e-5, 4))


def test_heatmaps_have_colorbars_and_the_difference_is_scaled_to_the_tolerance():
    e = layer_gradients_explorer(loss, grads)
    assert len(e.colorbars) == 2
    e.layer.value = 2
    ana, num, diff = e.images
    budget = PASS_TOL * (np.linalg.norm(ana) + np.linalg.norm(num))
    assert np.abs(diff).max() < budget  # a correct gradient: rounding noise only
    assert e.diff_scale >= budget  # ... drawn pale, not stretched to its own maximum
    assert e._maps[2].get_clim() == (-e.diff_scale, e.diff_scale)
    labels = [t.get_text() for t in e.colorbars[1].ax.get_xticklabels()]
    assert labels == ["\u2212scale", "0", "+scale"]  # the scale itself is in the titles
    assert f"scale \u00b1{e.diff_scale:.1e}" in e.axes[3].get_title()
    assert "scale \u00b1" in e.axes[3].get_title()


def test_norm_axis_is_fixed_so_that_depth_and_scale_move_the_curve():
    e = layer_gradients_explorer(loss, grads)
    e.activation.value = "relu"
    e.scale.value = 1.0
    e.depth.value = 1
    shallow = e.axes[0].get_ylim()
    assert shallow[0] <= NORM_RANGE[0] and shallow[1] >= NORM_RANGE[1]
    e.scale.value = 8.0
    e.depth.value = 6
    deep = e.axes[0].get_ylim()
    top = max(n[0] for n in e.norms.values())
    assert top > 1e3 * max(e.norms[1][0], 1e-300) or top > 1e4  # exploding
    assert deep[1] >= top and deep[0] == shallow[0]  # widened, never rescaled to the data
    assert "bp-layers-ratio" in e.table.value


def test_revisiting_a_setting_costs_no_loss_evaluations():
    calls = []

    def counting_loss(X, T, p, h):
        calls.append(1)
        return loss(X, T, p, h)

    e = layer_gradients_explorer(counting_loss, grads)
    first = dict(e.norms)
    e.depth.value = 5
    n = len(calls)
    e.depth.value = 3
    assert len(calls) == n and e.norms == first


# ------------------------------------------------------------------ graph explorer and items


def test_every_node_label_fits_its_box():
    e = GraphExplorer(None, w=-2.9, x=2.9, b=2.9, t=-2.9)  # FD labels, the longest text
    svg = e.diagram.value
    import re

    for node, body in re.findall(r'<g data-node="(\w+)">(.*?)</g>', svg):
        width = float(re.search(r'width="([\d.]+)"', body).group(1))
        texts = re.findall(r">([^<]+)</text>", body)
        assert all(CHAR_WIDTH * len(t) < width for t in texts), (node, texts, width)
    assert box_width(["\u2202L/\u2202t \u2248 2.5186 (FD)"]) > 110


def test_graph_checks_name_missing_and_extra_edges():
    check_graph("q1_parents", Q1, Q1_NODES, expected=Q1)
    wrong = {"z": ["w", "x", "b"], "y": ["z"], "L": ["y", "t", "x"]}
    problems = graph_edge_problems(wrong, Q1)
    assert problems == [
        "missing edge x \u2192 y: y is computed from x (its parents are z, x)",
        "extra edge x \u2192 L: the formula of L does not read x",
    ]
    with pytest.raises(AssertionError, match="missing edge x \u2192 y"):
        check_graph("q1_parents", wrong, Q1_NODES, expected=Q1)
    assert graph_edge_problems({**Q1, "w": ["b"]}, Q1) == [
        "extra edge b \u2192 w: w is an input, it has no parents"
    ]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ([("w", "z")], "must be a dict"),
        ({"z": ["w", "q"], "y": ["z", "x"], "L": ["y", "t"]}, "'q' (a parent of 'z')"),
        ({"z": "wxb", "y": ["z", "x"], "L": ["y", "t"]}, "must be a list of node names"),
        ({"z": ["w", "x"], "y": ["z", "x"], "L": ["y", "t"]}, "'b' is not connected"),
        ({"z": ["w", "x", "b", "y"], "y": ["z", "x"], "L": ["y", "t"]}, "a cycle"),
    ],
)
def test_graph_structure_problems_are_reported_without_the_answer(answer, words):
    problems = graph_structure_problems(answer, Q1_NODES)
    assert any(words in p for p in problems), problems
    assert graph_structure_problems(Q1, Q1_NODES) == []


def test_show_graph_draws_the_students_edges():
    svg = show_graph(Q1, Q1_NODES).value
    for parent, child in [("w", "z"), ("x", "y"), ("t", "L")]:
        assert f'data-edge="{parent}-{child}"' in svg
    assert svg.count("<line") == 7 and svg.count("data-node=") == 7


# ------------------------------------------------------------------ step size and descent


def test_a_wrong_derivative_has_no_best_step():
    wrong = ProbeFunction(np.sin, lambda x: np.cos(x) + 0.3)
    e = step_size_explorer({"sin, wrong derivative": wrong}, include_default=False, x=0.5)
    assert all(np.isnan(v["best_h"]) for v in e.summary.values())
    assert "1e-16" not in e.table.value and "bp-best-h\">\u2014" in e.table.value
    assert "No step size brings" in e.note.value
    right = step_size_explorer({"sin": (np.sin, np.cos)}, include_default=False)
    assert all(np.isfinite(v["best_h"]) for v in right.summary.values())


def test_the_slider_variable_is_named():
    e = step_size_explorer({"slice": (np.sin, np.cos)}, include_default=False, x=0.0, variable="s")
    assert e.point.description == "s"
    assert "s = 0" in e.ax.get_title() and "f'(s)" in e.ax.get_ylabel()


def test_loss_panel_before_training_and_ticks_below_one():
    e = descent_explorer(lambda X, T, p: loss(X, T, p, "tanh"),
                         lambda X, p: forward(X, p, "tanh")[0],
                         lambda X, T, p: grads(X, T, p, "tanh"), steps=50)  # fmt: skip
    assert e.loss_hint.get_visible()
    assert e.ax_loss.get_xlim() == (0.0, 51.0)  # the steps about to be taken
    e.train()
    assert not e.loss_hint.get_visible()
    lo, hi = e.ax_loss.get_ylim()
    ticks = [t for t in e.ax_loss.yaxis.get_majorticklocs() if lo <= t <= hi]
    assert len(ticks) >= 2 and min(ticks) < 1.0
    e.fig.canvas.draw()
    labels = [t.get_text() for t in e.ax_loss.get_yticklabels() if t.get_text()]
    assert len(labels) >= 2


def test_spirals_are_the_ps3_spirals_with_the_given_initialisation():
    from coursekit.data import make_spirals
    from coursekit.explorers.descent import load_data

    X, y = load_data("spirals")
    X2, y2 = make_spirals(70, n_classes=3, noise=0.15, seed=0)
    np.testing.assert_array_equal(X, X2)
    seen = []

    def init(sizes, seed):
        seen.append((sizes, seed))
        rng = np.random.default_rng(seed + 1)
        return {"W1": rng.normal(0, 2.0, (sizes[1], sizes[0])), "b1": np.zeros((sizes[1], 1)),
                "W2": rng.normal(0, 0.2, (sizes[2], sizes[1])), "b2": np.zeros((sizes[2], 1))}

    e = descent_explorer(lambda X, T, p: loss(X, T, p, "tanh"),
                         lambda X, p: forward(X, p, "tanh")[0], None, init_fn=init,
                         dataset="spirals", hidden=24)  # fmt: skip
    assert seen == [((2, 24, 3), 0)]
    np.testing.assert_array_equal(e.params["W1"], init((2, 24, 3), 0)["W1"])


def test_a_new_data_set_redraws_its_own_points_and_colours():
    """The descent explorer keeps its artists between data sets: the points, their classes and
    the colour range must follow the set shown."""
    e = descent_explorer(lambda X, T, p: loss(X, T, p, "tanh"),
                         lambda X, p: forward(X, p, "tanh")[0],
                         lambda X, T, p: grads(X, T, p, "tanh"), steps=5)  # fmt: skip
    for name in ("spirals", "moons", "spirals"):
        e.dataset.value = name
        assert np.array_equal(e.points.get_offsets(), e.X)
        assert np.array_equal(e.points.get_array(), e.y)
        assert e.points.get_clim() == e.boundary.get_clim() == (-0.5, e.C - 0.5)
        assert e.ax_map.get_xlim() == e.extent[:2] and e.ax_map.get_ylim() == e.extent[2:]
    assert {2, 3} >= {e.C} and e.image.value[:4] == b"\x89PNG"


def test_the_layer_axis_spans_every_depth_offered():
    e = layer_gradients_explorer(loss, grads)
    ax = e.axes[0]
    for depth in (1, e.depth.max, 2):
        e.depth.value = depth
        assert ax.get_xlim() == (0.5, e.depth.max + 1.5)
        xs, _ = e.norm_lines["numeric"].get_data()
        assert list(xs) == list(range(1, depth + 2))
