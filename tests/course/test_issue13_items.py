"""The graded items of issue 13, right and wrong answers, through both judges: the trusted task
(autograder/registry, via its own comparison) and the notebook's test cell (visible + hidden
part, run as nbgrader runs it). Items: computation graphs as parents (ps1 Task 1.0, ps4 Task
4.4a), output/loss pairs (ps2 Tasks 2.2b-d), matrix forms of one layer's backward step (ps2 Task
2.3c)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.course.course_helpers import REPO
from tests.course.test_registry import _judge, _tasks

Q1 = {"z": ["w", "x", "b"], "y": ["z", "x"], "L": ["y", "t"]}
SKIP = {"z1": ["x"], "h1": ["z1"], "z2": ["h1"], "zs": ["x"], "h2": ["z2", "zs"], "z3": ["h2"],
        "y": ["z3"], "L": ["y"]}  # fmt: skip
TWIN = {"m_a": ["W1", "xa", "b1"], "m_b": ["W1", "xb", "b1"], "h_a": ["m_a"], "h_b": ["m_b"],
        "h": ["h_a", "h_b"], "z": ["W2", "h", "b2"], "y": ["z"], "L": ["y", "t"]}  # fmt: skip
NODES = {
    "q1_parents": ("Q1_NODES", ["w", "x", "b", "t", "z", "y", "L"]),
    "skip_parents": ("SKIP_NODES", ["x", "z1", "h1", "z2", "zs", "h2", "z3", "y", "L"]),
    "twin_parents": ("TWIN_NODES", ["xa", "xb", "W1", "b1", "m_a", "m_b", "h_a", "h_b", "h", "W2",
                                    "b2", "z", "y", "t", "L"]),
}  # fmt: skip
"""answer variable -> (the notebook's node-list name, its nodes)."""


def _spec(assignment: str, grade_id: str) -> Any:
    return next(s for s in _tasks(assignment) if s.grade_id == grade_id)


def _cells(assignment: str) -> dict[str, str]:
    """grade_id -> source of the graded notebook's cells (solutions and hidden tests in)."""
    from autograder.references import read_graded

    nb = read_graded(REPO / "source" / assignment / f"{assignment}.ipynb")
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def _run_test_cell(assignment: str, grade_id: str, namespace: dict[str, Any]) -> None:
    """Run one test cell (visible and hidden part) in ``namespace``; raises what it raises."""
    ns = {"np": np, **namespace}
    exec("from coursekit import check", ns)
    exec(compile(_cells(assignment)[grade_id], grade_id, "exec"), ns)


# ------------------------------------------------------------------ graphs


@pytest.mark.parametrize(
    ("assignment", "grade_id", "name", "right", "wrong", "words"),
    [
        ("ps1", "t1_0_tests", "q1_parents", Q1, {**Q1, "y": ["z"]}, "missing edge x \u2192 y"),
        ("ps1", "t1_0_tests", "q1_parents", Q1, {**Q1, "L": ["y", "t", "z"]},
         "extra edge z \u2192 L: the formula of L does not read z"),
        ("ps1", "t1_0_tests", "q1_parents", Q1, {**Q1, "z": ["w", "b"]}, "missing edge x \u2192 z"),
        ("ps4", "t4_4a_tests", "skip_parents", SKIP, {**SKIP, "h2": ["z2"]},
         "missing edge zs \u2192 h2"),
        ("ps4", "t4_4a_tests", "skip_parents", SKIP, {**SKIP, "z2": ["h1", "x"]},
         "extra edge x \u2192 z2"),
        # the shared parameter drawn only in one branch: the very point of the twin network
        ("ps4", "t4_0_tests", "twin_parents", TWIN, {**TWIN, "m_b": ["xb", "b1"]},
         "missing edge W1 \u2192 m_b"),
        ("ps4", "t4_0_tests", "twin_parents", TWIN, {**TWIN, "h": ["h_a", "h_b", "xa"]},
         "extra edge xa \u2192 h"),
    ],
)  # fmt: skip
def test_graph_items(assignment, grade_id, name, right, wrong, words):
    spec = _spec(assignment, grade_id)
    assert _judge(spec, {name: right}.__getitem__).score == spec.points
    verdict = _judge(spec, {name: wrong}.__getitem__)
    assert verdict.score == 0 and words in verdict.diagnosis, verdict.diagnosis
    nodes, node_list = NODES[name]
    from coursekit.graphs import check_graph

    base = {"check_graph": check_graph, nodes: node_list}
    _run_test_cell(assignment, grade_id, {**base, name: right})
    with pytest.raises(AssertionError, match=words.split(":")[0]):
        _run_test_cell(assignment, grade_id, {**base, name: wrong})


def test_graph_item_rejects_malformed_answers_without_the_edges():
    spec = _spec("ps1", "t1_0_tests")
    for bad, words in (([("w", "z")], "must be a dict"), ({**Q1, "y": ["z", "q"]}, "'q'")):
        verdict = _judge(spec, {"q1_parents": bad}.__getitem__)
        assert verdict.score == 0 and words in verdict.diagnosis
    assert _judge(spec, {}.__getitem__).score == 0  # not defined


# ------------------------------------------------------------------ output and loss pairs

PAIRS = {"identity": "half_squared_error", "softmax": "cross_entropy",
         "sigmoid": "binary_cross_entropy"}  # fmt: skip


def _activation(output: str, z: np.ndarray) -> np.ndarray:
    if output == "identity":
        return z
    if output == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return 1.0 / (1.0 + np.exp(-z))


def _right_delta(output, z, t):
    return _activation(output, z) - t


def _sigmoid_times_derivative(output, z, t):
    """A typical mistake: the sigmoid's derivative kept although BCE cancels it."""
    y = _activation(output, z)
    return (y - t) * y * (1 - y) if output == "sigmoid" else y - t


def _softmax_without_target(output, z, t):
    y = _activation(output, z)
    return y if output == "softmax" else y - t


def test_pairs_item():
    spec = _spec("ps2", "t2_2b_tests")
    assert _judge(spec, {"loss_for_output": PAIRS}.__getitem__).score == 1
    swapped = {**PAIRS, "softmax": "binary_cross_entropy", "sigmoid": "cross_entropy"}
    verdict = _judge(spec, {"loss_for_output": swapped}.__getitem__)
    assert verdict.score == 0 and "softmax, sigmoid" in verdict.diagnosis
    _run_test_cell("ps2", "t2_2b_tests", {"loss_for_output": PAIRS})
    with pytest.raises(AssertionError, match="wrong loss for softmax, sigmoid"):
        _run_test_cell("ps2", "t2_2b_tests", {"loss_for_output": swapped})


@pytest.mark.parametrize(
    ("wrong", "words"),
    [(_sigmoid_times_derivative, "sigmoid"), (_softmax_without_target, "softmax")],
)
def test_output_delta_item(wrong, words):
    spec = _spec("ps2", "t2_2c_tests")
    assert _judge(spec, {"output_delta": _right_delta}.__getitem__).score == 1
    verdict = _judge(spec, {"output_delta": wrong}.__getitem__)
    assert verdict.score == 0
    assert not verdict.parts[next(k for k in verdict.parts if words in k)]
    assert all(ok for k, ok in verdict.parts.items() if words not in k)  # only that pair
    ns = {"pair_loss": _pair_loss()}
    _run_test_cell("ps2", "t2_2c_tests", {**ns, "output_delta": _right_delta})
    with pytest.raises(AssertionError, match=f"output_delta\\('{words}'"):
        _run_test_cell("ps2", "t2_2c_tests", {**ns, "output_delta": wrong})


def _pair_loss():
    ns: dict[str, Any] = {"np": np}
    exec(_cells("ps2")["t2_2_pairs_given"], ns)
    return ns["pair_loss"]


def test_why_pairs_item():
    spec = _spec("ps2", "t2_2d_tests")
    assert _judge(spec, {"why_pairs": "B"}.__getitem__).score == 1
    assert _judge(spec, {"why_pairs": " b "}.__getitem__).score == 1
    assert _judge(spec, {"why_pairs": "C"}.__getitem__).score == 0
    with pytest.raises(AssertionError, match="not the right option"):
        _run_test_cell("ps2", "t2_2d_tests", {"why_pairs": "C"})


# ------------------------------------------------------------------ matrix forms


def _matrix_namespace(kind: str) -> dict[str, Any]:
    """The notebook's locked symbols + helper, and the student's four expressions."""
    import sympy as sp

    ns: dict[str, Any] = {"np": np}
    exec(_cells("ps2")["t2_3c_symbols"], ns)
    W, a_prev, da, s = ns["W"], ns["a_prev"], ns["da"], ns["s"]
    dz = sp.hadamard_product(da, s)
    exprs = {"dz_expr": dz, "dW_expr": dz * a_prev.T, "db_expr": dz, "da_prev_expr": W.T * dz}
    if kind == "transposed_dW":
        exprs["dW_expr"] = a_prev * dz.T
    elif kind == "missing_derivative":
        exprs = {"dz_expr": da, "dW_expr": da * a_prev.T, "db_expr": da, "da_prev_expr": W.T * da}
    elif kind == "matmul_style":
        exprs["dW_expr"] = dz @ a_prev.T
        exprs["da_prev_expr"] = (dz.T * W).T
    ns.update(exprs)
    return ns


@pytest.mark.parametrize("kind", ["right", "matmul_style"])
def test_matrix_forms_right(kind):
    ns = _matrix_namespace(kind)
    for grade_id in ("t2_3c_tests_shapes", "t2_3c_tests_values"):
        spec = _spec("ps2", grade_id)
        assert _judge(spec, ns.__getitem__).score == 1, grade_id
        _run_test_cell("ps2", grade_id, ns)


def test_matrix_forms_transposed_weight_gradient_fails_both_cells_by_shape():
    ns = _matrix_namespace("transposed_dW")
    for grade_id in ("t2_3c_tests_shapes", "t2_3c_tests_values"):
        verdict = _judge(_spec("ps2", grade_id), ns.__getitem__)
        assert verdict.score == 0 and "dW" in verdict.diagnosis and "(3, 2)" in verdict.diagnosis
    with pytest.raises(AssertionError, match=r"dW_expr has shape \(3, 2\)"):
        _run_test_cell("ps2", "t2_3c_tests_shapes", ns)


def test_matrix_forms_missing_activation_derivative_fails_only_the_values():
    ns = _matrix_namespace("missing_derivative")
    assert _judge(_spec("ps2", "t2_3c_tests_shapes"), ns.__getitem__).score == 1
    verdict = _judge(_spec("ps2", "t2_3c_tests_values"), ns.__getitem__)
    assert verdict.score == 0 and "dz" in verdict.diagnosis
    _run_test_cell("ps2", "t2_3c_tests_shapes", ns)
    with pytest.raises(AssertionError, match="dz_expr"):
        _run_test_cell("ps2", "t2_3c_tests_values", ns)
