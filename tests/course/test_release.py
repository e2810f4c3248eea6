"""release/ is exactly what plain ``nbgrader generate_assignment <a>`` makes from the committed
source/, generating it changes nothing in source/, and release/ leaks nothing."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from tests.course.course_helpers import GRADED, REPO

RELEASED = sorted(p.name for p in (REPO / "release").iterdir() if p.is_dir())
STUDENT_FUNCTIONS = {
    "q1_backward",
    "q3_forward",
    "q3_backward",
    "sigmoid_prime",
    "tanh_prime",
    "backward_loops",
    "softmax_col",
    "cross_entropy_col",
    "output_delta",
    "backward_vec",
    "activation",
    "activation_grad",
    "mlp_forward",
    "mlp_backward",
    "backward_step_loops",
    "backward_step_vec",
    "batch_forward",
    "batch_loss",
    "batch_backward",
    "grads_loop",
    "train_gd",
    "twin_backward",
    "skip_backward",
    "topological_order",
    "backward",
    "practice_grads",
    "bias_free_root",
    "count_local_uses",
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
    "mlp_loss_grads",
    "twin_loss_grads",
    "momentum_step",
    "train_sgd",
}
"""Functions students write in ps1-ps5: nothing shipped (coursekit) may define them."""
GRADIENT_PATTERNS = (
    "1-np.tanh(",
    "1.0-np.tanh(",
    "1-math.tanh(",
    "1.0-math.tanh(",
    "s*(1-s)",
    "s*(1.0-s)",
    "a*(1-a)",
    "a*(1.0-a)",
    "(z>0)",
    "a2-t",
    "W.T@dz",
    "dz@a_prev.T",
    "dz@x.T",
    "dZ.T@",
)
"""Analytic-gradient fragments (spaces removed) of student tasks that must not ship."""


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.mark.slow
def test_every_course_assignment_is_released(fresh_course: Path) -> None:
    assert RELEASED == sorted(p.name for p in (fresh_course / "release").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", RELEASED)
def test_release_is_up_to_date(fresh_course: Path, assignment: str) -> None:
    """Regenerate with `./dev build` (or `nbgrader generate_assignment <a> --force`)."""
    fresh = _files(fresh_course / "release" / assignment)
    committed = _files(REPO / "release" / assignment)
    assert sorted(committed) == sorted(fresh), "release/ has a different set of files"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, (
        f"stale in release/{assignment}: {stale}; run ./dev build {assignment}"
    )


@pytest.mark.slow
def test_generating_the_release_leaves_the_source_as_it_was(fresh_course: Path) -> None:
    """No step of generate_assignment writes into source/ (an instructor's edits are safe)."""
    def tree(root: Path) -> dict[str, bytes | str]:
        return {p.relative_to(root).as_posix(): (str(p.readlink()) if p.is_symlink()
                                                 else p.read_bytes())
                for p in sorted(root.rglob("*"))
                if (p.is_file() or p.is_symlink()) and "__pycache__" not in p.parts}

    assert tree(fresh_course / "source") == tree(REPO / "source")


def test_the_lab_is_not_an_assignment() -> None:
    """The lab imports backprop_ref: it lives in lab/, outside source/, so formgrader never
    lists it and nothing can release it."""
    assert (REPO / "lab" / "lab.ipynb").is_file()
    assert not (REPO / "source" / "lab").exists() and not (REPO / "release" / "lab").exists()
    lab = nbformat.read(REPO / "lab" / "lab.ipynb", 4)
    assert not [c for c in lab.cells if "nbgrader" in c.metadata]
    assert "backprop_ref" in "".join(c.source for c in lab.cells)


@pytest.mark.parametrize("assignment", RELEASED)
def test_release_leaks_nothing(assignment: str) -> None:
    folder = REPO / "release" / assignment
    names = set(_files(folder))
    assert f"{assignment}.ipynb" in names
    extra = [n for n in names if not n.startswith("coursekit/") and n != f"{assignment}.ipynb"]
    assert not extra, f"unexpected files in release/{assignment}: {extra}"
    assert not [n for n in names if "backprop_ref" in n or "autograder" in n]
    kit = {n.removeprefix("coursekit/") for n in names if n.startswith("coursekit/")}
    assert kit == set(_files(REPO / "coursekit")), "the shipped coursekit differs from coursekit/"
    text = (folder / f"{assignment}.ipynb").read_text(encoding="utf-8")
    for marker in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "HIDDEN TESTS",
        "MARK SCHEME",
        "import backprop_ref",
        "from backprop_ref",
        "import autograder",
        "from autograder",
    ):
        assert marker not in text, f"{marker!r} in release/{assignment}/{assignment}.ipynb"
    nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source
        if meta.get("solution") and cell.cell_type == "markdown":
            assert cell.source.strip() == "YOUR ANSWER HERE"


MARKERS = (
    ("BEGIN SOLUTION", "END SOLUTION"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME"),
)


def _split(cell: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """(secret, public) stripped lines of a source cell: inside any marker region, or not."""
    if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
        return [line.strip() for line in cell.source.splitlines()], []
    secret, public, inside = [], [], False
    for line in cell.source.splitlines():
        if any(begin in line for begin, _ in MARKERS):
            inside = True
        elif any(end in line for _, end in MARKERS):
            inside = False
        else:
            (secret if inside else public).append(line.strip())
    return secret, public


@pytest.mark.parametrize("assignment", GRADED)
def test_no_solution_or_hidden_test_code_in_release(course_copy: Path, assignment: str) -> None:
    source = nbformat.read(course_copy / "source" / assignment / f"{assignment}.ipynb", 4)
    public: set[str] = set()
    secret: set[str] = set()
    for cell in source.cells:
        hidden, shown = _split(cell)
        secret.update(hidden)
        public.update(shown)
    distinctive = {s for s in secret - public if len(s) >= 12 and not s.startswith("#")}
    assert len(distinctive) > 20
    released = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", 4)
    shipped = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    leaked = sorted(distinctive & shipped)
    assert not leaked, f"solution/hidden lines in release/{assignment}: {leaked[:5]}"


@pytest.mark.parametrize("assignment", RELEASED)
def test_shipped_coursekit_holds_no_student_gradient(assignment: str) -> None:
    for path in sorted((REPO / "release" / assignment / "coursekit").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        defined = {
            n.name
            for n in ast.walk(ast.parse(source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        assert not defined & STUDENT_FUNCTIONS, f"{path.name} defines {defined & STUDENT_FUNCTIONS}"
        code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
        squeezed = re.sub(r"\s+", "", code)
        found = [p for p in GRADIENT_PATTERNS if p in squeezed]
        assert not found, f"{path.relative_to(REPO)} contains gradient code {found}"


@pytest.mark.parametrize("assignment", GRADED)
def test_release_points_match_source(course_copy: Path, assignment: str) -> None:
    def points(nb: nbformat.NotebookNode) -> dict[str, float]:
        return {
            c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points", 0)
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        }

    src = nbformat.read(course_copy / "source" / assignment / f"{assignment}.ipynb", 4)
    rel = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", 4)
    assert points(src) == points(rel)
    total = sum(points(rel).values())
    header = json.dumps(rel.cells[0].source)
    assert f"Points: {total:g} in total" in header, "the notebook's stated total is wrong"
