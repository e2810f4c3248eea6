"""End to end through real nbgrader: generate_assignment (the session's fresh course), filled-in,
blank and friend's-numbers submissions, ``nbgrader autograde``, scores from the gradebook.

The student id reaches the notebook through the autograded folder name (no BPC_STUDENT_ID is
set), exactly as in a plain nbgrader deployment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import ensure_tools_on_path
from tests.course.course_helpers import REPO

pytestmark = pytest.mark.slow

FRIEND_CELLS = {"t1_1_answer", "t1_3_answer"}
FRIEND_TESTS = {
    "t1_1_tests_top",
    "t1_1_tests_leaves",
    "t1_3_tests_one_path",
    "t1_3_tests_many_paths",
}


def _gid(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _filled(root: Path, assignment: str) -> nbformat.NotebookNode:
    """The release notebook with every code answer cell replaced by the source's solution."""
    release = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", 4)
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", 4)
    answers = {
        _gid(c): c.source
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in release.cells:
        if _gid(cell) in answers:
            cell.source = answers[_gid(cell)]
    return release


def _friends_numbers(nb: nbformat.NotebookNode, friend: str) -> nbformat.NotebookNode:
    """Replace the per-student numeric answers by literals computed for ``friend``."""
    from autograder.registry.ps1 import _net3_grads
    from backprop_ref import scalar
    from coursekit import seeds

    q1 = scalar.q1_backward(**seeds.numbers("ps1", friend, "t1_1", ["w", "x", "b", "t"]))
    g3 = _net3_grads(friend)
    literal = {
        "t1_1_answer": "\n".join(f"dL_d{k} = {q1[k]!r}" for k in ("L", "y", "z", "w", "b", "x")),
        "t1_3_answer": f"dC_dW2_12 = {float(g3['W2'][0, 1])!r}\nn_paths_W1_23 = 2\n"
        f"dC_dW1_23 = {float(g3['W1'][1, 2])!r}",
    }
    for cell in nb.cells:
        if _gid(cell) in literal:
            cell.source = literal[_gid(cell)]
    return nb


def _warning_in_answer(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A correct sigmoid_prime that also emits a RuntimeWarning (stderr in its test cell)."""
    for cell in nb.cells:
        if _gid(cell) == "t1_5_answer":
            cell.source = cell.source.replace(
                '    """Derivative of the logistic function, elementwise; same shape as z."""\n',
                '    """Derivative of the logistic function, elementwise; same shape as z."""\n'
                '    import warnings\n'
                '    warnings.warn("a harmless warning", RuntimeWarning, stacklevel=1)\n',
            )
            assert "warnings.warn" in cell.source
    return nb


def _submit(root: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def _autograde(root: Path, assignment: str) -> None:
    ensure_tools_on_path()  # nbgrader runs alembic from the interpreter's bin/
    env = {k: v for k, v in os.environ.items() if k != "BPC_STUDENT_ID"}
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "nbgrader"),
            "autograde",
            assignment,
            "--force",
            "--create",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _scores(root: Path, assignment: str, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", 4)
    cells = [
        _gid(c)
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="backprop-course") as gb:
        return {
            gid: gb.find_grade(gid, assignment, assignment, student).auto_score for gid in cells
        }


def _max(root: Path, assignment: str) -> dict[str, float]:
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", 4)
    return {
        _gid(c): c.metadata["nbgrader"]["points"]
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }


@pytest.fixture(scope="module")
def graded(fresh_course: Path) -> Path:
    root = fresh_course
    _submit(root, "alice", "ps1", _filled(root, "ps1"))
    _submit(root, "bob", "ps1", nbformat.read(root / "release" / "ps1" / "ps1.ipynb", 4))
    _submit(root, "carol", "ps1", _friends_numbers(_filled(root, "ps1"), "alice"))
    _submit(root, "dave", "ps1", _warning_in_answer(_filled(root, "ps1")))
    _autograde(root, "ps1")
    _submit(root, "alice", "ps2", _filled(root, "ps2"))
    _submit(root, "bob", "ps2", nbformat.read(root / "release" / "ps2" / "ps2.ipynb", 4))
    _autograde(root, "ps2")
    return root


def _outputs(root: Path, student: str, assignment: str, gid: str) -> list:
    """The outputs of one cell of the autograded notebook (for failure messages)."""
    nb = nbformat.read(root / "autograded" / student / assignment / f"{assignment}.ipynb", 4)
    cell = next(c for c in nb.cells if _gid(c) == gid)
    return [(o.output_type, o.get("name"), o.get("ename"), o.get("evalue"), o.get("text"))
            for o in cell.get("outputs", [])]


@pytest.mark.parametrize("assignment", ["ps1", "ps2"])
def test_filled_in_submission_gets_full_automatic_marks(graded: Path, assignment: str) -> None:
    scores = _scores(graded, assignment, "alice")
    full = _max(graded, assignment)
    wrong = {g: (scores[g], full[g], _outputs(graded, "alice", assignment, g))
             for g in full if scores[g] != full[g]}
    assert not wrong, wrong


@pytest.mark.parametrize("assignment", ["ps1", "ps2"])
def test_blank_submission_gets_zero(graded: Path, assignment: str) -> None:
    scores = _scores(graded, assignment, "bob")
    assert scores and all(v == 0 for v in scores.values()), scores


def test_friends_numbers_get_zero_on_those_exercises(graded: Path) -> None:
    scores = _scores(graded, "ps1", "carol")
    full = _max(graded, "ps1")
    for gid, value in scores.items():
        assert value == (0 if gid in FRIEND_TESTS else full[gid]), gid


def test_rubric_is_restored_for_the_instructor(graded: Path) -> None:
    nb = nbformat.read(graded / "autograded" / "alice" / "ps1" / "ps1.ipynb", 4)
    rubric = next(c for c in nb.cells if _gid(c) == "t1_6_rubric")
    assert "Rubric (2 points)" in rubric.source
    assert REPO.exists()


def test_stderr_warning_does_not_zero_a_correct_answer(graded: Path) -> None:
    nb = nbformat.read(graded / "autograded" / "dave" / "ps1" / "ps1.ipynb", 4)
    test_cell = next(c for c in nb.cells if _gid(c) == "t1_5_tests_code")
    assert not [o for o in test_cell.outputs if o.get("name") == "stderr"]  # dropped
    assert _scores(graded, "ps1", "dave") == _max(graded, "ps1")
