"""Explorer 1 (computation graph), driven from Python: set sliders, read the displayed table."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.explorers import graph_explorer
from coursekit.explorers._common import DASH, fmt
from coursekit.explorers.graph import NODES, numeric_partials, q1_forward
from tests.coursekit.explorers.explorer_helpers import q1_partials


def cell(explorer, node: str, column: str) -> str:
    """Text of one displayed table cell (column: value, analytic, numeric, relerr)."""
    row = re.search(rf'<tr data-node="{node}">(.*?)</tr>', explorer.table.value).group(1)
    return re.search(rf'<td class="bp-{column}">(.*?)</td>', row).group(1)


def verdict(explorer, node: str) -> str:
    row = re.search(rf'<tr data-node="{node}">(.*?)</tr>', explorer.table.value).group(1)
    return re.search(r'class="bp-verdict (bp-\w+)"', row).group(1)


def test_reference_like_partials_are_displayed_and_agree_with_fd():
    g = graph_explorer(q1_partials)
    w, x, b, t = g.values()
    assert (w, x, b, t) == (0.5, 1.0, -0.2, 0.3)
    fwd = q1_forward(w, x, b, t)
    exact = q1_partials(w, x, b, t)
    for node in NODES:
        assert cell(g, node, "value") == fmt(fwd[node])
        assert g.rows[node]["value"] == fwd[node]
    for node, value in exact.items():
        assert g.rows[node]["analytic"] == value
        assert cell(g, node, "analytic") == fmt(value)
        assert math.isclose(g.rows[node]["numeric"], value, rel_tol=1e-8, abs_tol=1e-12)
        assert g.rows[node]["rel_error"] < 1e-8
        assert verdict(g, node) == "bp-pass"
    # dL/dt is shown as a finite difference only: -(y - t)
    assert cell(g, "t", "analytic") == DASH
    assert math.isclose(g.rows["t"]["numeric"], -(fwd["y"] - t), rel_tol=1e-8)
    assert "q1_partials" in g.status.value


def test_moving_a_slider_updates_value_and_gradient():
    g = graph_explorer(q1_partials)
    before = cell(g, "w", "analytic")
    g.sliders["w"].value = 0.6
    expected = q1_partials(0.6, 1.0, -0.2, 0.3)
    assert cell(g, "w", "analytic") == fmt(expected["w"]) != before
    assert cell(g, "w", "value") == fmt(0.6)
    assert cell(g, "z", "value") == fmt(0.6 * 1.0 - 0.2)
    g.sliders["t"].value = 2.5
    expected = q1_partials(0.6, 1.0, -0.2, 2.5)
    for node in ("y", "z", "w", "b", "x"):
        assert cell(g, node, "analytic") == fmt(expected[node])
    assert 0 < g.last_update_seconds < 1.0
    assert 'data-node="w"' in g.diagram.value and fmt(expected["w"]) in g.diagram.value


def test_numeric_only():
    g = graph_explorer(None)
    assert "finite differences only" in g.status.value
    for node in NODES:
        assert cell(g, node, "analytic") == DASH
        assert g.rows[node]["rel_error"] is None
    assert math.isclose(g.rows["w"]["numeric"], q1_partials(*g.values())["w"], rel_tol=1e-8)
    # the diagram falls back to the finite differences, marked as approximate
    assert "\u2248 " + fmt(g.rows["w"]["numeric"]) in g.diagram.value


def test_a_wrong_partial_fails_only_where_it_is_wrong():
    def one_path_only(w, x, b, t):  # forgets that x also feeds y directly
        out = q1_partials(w, x, b, t)
        out["x"] = out["z"] * w
        return out

    g = graph_explorer(one_path_only)
    assert verdict(g, "x") == "bp-fail"
    assert g.rows["x"]["rel_error"] > 0.1
    for node in ("L", "y", "z", "w", "b"):
        assert verdict(g, node) == "bp-pass"


def test_unfinished_and_incomplete_student_functions_do_not_break_it():
    def unfinished(w, x, b, t):
        raise NotImplementedError()

    g = graph_explorer(unfinished)
    assert "NotImplementedError" in g.status.value
    assert cell(g, "w", "analytic") == DASH
    assert cell(g, "w", "numeric") != DASH

    g = graph_explorer(lambda w, x, b, t: {"L": 1.0, "y": "oops"})
    assert "Missing or not a number" in g.status.value
    assert cell(g, "L", "analytic") == "1" and cell(g, "y", "analytic") == DASH


@settings(deadline=None, max_examples=30, derandomize=True)
@given(*(st.floats(-3.0, 3.0) for _ in range(4)))
def test_numeric_partials_match_the_chain_rule(w, x, b, t):
    numeric = numeric_partials(w, x, b, t)
    for node, value in q1_partials(w, x, b, t).items():
        assert numeric[node] == pytest.approx(value, rel=1e-6, abs=1e-8)


def test_a_nan_partial_fails():
    g = graph_explorer(lambda w, x, b, t: {**q1_partials(w, x, b, t), "y": float("nan")})
    assert verdict(g, "y") == "bp-fail" and cell(g, "y", "analytic") == DASH
    assert verdict(g, "z") == "bp-pass"
