"""One bug costs one task on the kernel side too: the notebook's own tests (hidden part
included), run in a python3 kernel as ``nbgrader autograde`` runs them, judge each task with the
model versions of the earlier functions it builds on (``#: reference`` + ``check.using``) and
test only the tensors a cell announces. Each case breaks ONE function of the model solution in
the source notebook and asserts that exactly that function's own cells lose points."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.references import read_graded
from tests.course.course_helpers import STUDENT, errors, execute

BUGS: dict[str, tuple[str, str, str, set[str]]] = {
    # name: (answer cell, model line, buggy line, the cells that must lose points — no others)
    "ps1_forward_wrong": (
        "t1_4_answer", 'n["m3"] = w5 * n["h1"] + w6 * n["h2"]',
        'n["m3"] = w5 * n["h1"] + w6 * n["h1"]',
        {"t1_4_tests_forward"}),
    "ps2_activation_wrong": (
        "t2_4_answer", "return 1.0 / (1.0 + np.exp(-z))", "return 1.0 / (1.0 + np.exp(z))",
        {"t2_4_tests_activations"}),
    "ps2_activation_grad_wrong": (
        "t2_4_answer", "return da * (1.0 - np.tanh(z) ** 2)", "return da * (1.0 - z ** 2)",
        {"t2_4_tests_activations"}),
    "ps2_mlp_forward_no_bias": (
        "t2_4_answer", 'z = params[f"W{m}"] @ a + params[f"b{m}"]', 'z = params[f"W{m}"] @ a',
        {"t2_4_tests_forward"}),
    "ps3_forward_no_bias": (
        "t3_2_answer", 'z1 = X @ params["W1"].T + params["b1"].T', 'z1 = X @ params["W1"].T',
        {"t3_2_tests_forward"}),
    "ps3_loss_sum_not_mean": (
        "t3_2_answer", '.sum() / X.shape[0])', ".sum())", {"t3_2_tests_loss"}),
    "ps3_backward_missing_1_over_N": (
        "t3_4_answer", 'g["z2"] = (fw["a2"] - T) / N', 'g["z2"] = fw["a2"] - T',
        {"t3_4_tests_public", "t3_4_tests_output", "t3_4_tests_hidden_layer"}),
    "ps3_backward_db2_averaged_twice": (
        "t3_4_answer", 'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T',
        'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T / N',
        {"t3_4_tests_public", "t3_4_tests_output"}),
    "ps3_backward_updates_params_in_place": (
        "t3_4_answer", 'g["a1"] = g["z2"] @ params["W2"]',
        'g["a1"] = g["z2"] @ params["W2"]\n    params["W2"] -= g["z2"].T @ fw["a1"]',
        # the notebook's tests pass copies, so the mutation itself is judged by the trusted
        # runner (the lower score counts); here 3.5 and 3.7, which call it, keep their points
        set()),
    "ps3_train_gd_in_place": (
        "t3_7_answer", "theta_ = {k: theta_[k] - lr * g[k] for k in theta_}",
        "for k in theta_:\n            params[k] -= lr * g[k]\n        theta_ = params",
        # the spirals cell tests what training reaches (from a copy taken before the call);
        # leaving params unchanged is the first cell's
        {"t3_7_tests"}),
    "ps4_twin_head_wrong": (
        "t4_3_answer", 'g["W2"] = g["z"] @ f["h"].T', 'g["W2"] = g["z"] @ f["h_a"].T',
        {"t4_3_tests_public", "t4_3_tests_head"}),
    "ps4_skip_upper_wrong": (
        "t4_6_answer", 'g["W3"] = g["z3"] @ f["h2"].T', 'g["W3"] = 2 * g["z3"] @ f["h2"].T',
        {"t4_6_tests_public", "t4_6_tests_upper"}),
}


def _lost(nb: nbformat.NotebookNode) -> set[str]:
    """Graded code cells with an error output: the cells nbgrader autograde scores 0."""
    graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
              and c.metadata.get("nbgrader", {}).get("grade")}
    return {gid for gid, _, _ in errors(nb) if gid in graded}


def _run(fresh_course: Path, assignment: str, tmp_path: Path, edit: tuple[str, str, str] | None
         ) -> tuple[set[str], nbformat.NotebookNode]:
    src = fresh_course / "source" / assignment / f"{assignment}.ipynb"
    nb = read_graded(src)  # the hidden tests as the gradebook stores them, references expanded
    if edit is not None:
        cell_id, model, buggy = edit
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell_id]
        assert cell.source.count(model) == 1, f"{cell_id}: the model line {model!r} moved"
        cell.source = cell.source.replace(model, buggy)
    # a last cell records which functions the names are bound to once the tests have run
    nb.cells.append(nbformat.v4.new_code_cell(
        "import types as _types\n"
        "print(sorted(f'{k}={v.__qualname__}' for k, v in list(globals().items())\n"
        "             if isinstance(v, _types.FunctionType) and not k.startswith('_')))"))
    path = src.parent / f"_cascade_{tmp_path.name}.ipynb"
    nbformat.write(nb, path)
    try:
        ran = execute(path, {"BPC_STUDENT_ID": STUDENT}, timeout=300)
    finally:
        path.unlink()
    return _lost(ran), ran


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUGS))
def test_one_bug_costs_only_its_own_cells(fresh_course: Path, tmp_path: Path, name: str) -> None:
    cell_id, model, buggy, own = BUGS[name]
    lost, _ = _run(fresh_course, name.split("_")[0], tmp_path, (cell_id, model, buggy))
    assert lost == own, f"{name}: lost {sorted(lost)}, expected only {sorted(own)}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["ps1", "ps2", "ps3", "ps4"])
def test_students_bindings_are_restored_after_each_cell(fresh_course: Path, tmp_path: Path,
                                                        assignment: str) -> None:
    """The model solution loses nothing, and after a cell that swaps in references the names
    are the student's own functions again (the swap lasts only for its cell)."""
    lost, ran = _run(fresh_course, assignment, tmp_path, None)
    assert not lost, lost
    swapping = [c for c in ran.cells if "for_this_cell()" in c.source]
    # ps4's tasks build on no earlier student function (its forward passes are given)
    assert bool(swapping) == (assignment != "ps4"), f"{assignment}: {len(swapping)} swapping cells"
    bound = "".join(o.get("text", "") for o in ran.cells[-1].outputs)
    assert "batch_forward" in bound or assignment != "ps3", bound
    assert "_reference_solutions" not in bound, f"{assignment}: a reference stayed bound: {bound}"


def test_using_restores_the_students_bindings() -> None:
    from coursekit import check

    def mine() -> str:
        return "student"

    ns = {"f": mine}
    with check.using(ns, f=lambda: "model", g=lambda: "new"):
        assert ns["f"]() == "model"
        assert ns["g"]() == "new"
    assert ns["f"] is mine and "g" not in ns
    check.using(ns, f=lambda: "model").for_this_cell()  # no IPython here: restore_all ends it
    assert ns["f"]() == "model"
    check.restore_all()
    assert ns["f"] is mine
