"""The course folder as nbgrader expects it: ``source/<a>/<a>.ipynb`` committed and edited in
JupyterLab, coursekit beside it as committed links, the authoring rules on the notebooks
themselves, and an instructor's toolbar edit that survives ``generate_assignment``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import coursekit_links
from tests.course.course_helpers import REPO, assignments, generate, make_course_copy

SOURCES = assignments(REPO)


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_every_source_is_a_committed_notebook_beside_its_coursekit_links() -> None:
    assert SOURCES == sorted(p.name for p in (REPO / "release").iterdir() if p.is_dir())
    tracked = subprocess.run(["git", "ls-files", "source"], cwd=REPO, capture_output=True,
                             text=True, check=False).stdout.split()
    if tracked:  # a git checkout: the notebooks are committed, nothing is generated into source/
        assert {f"source/{a}/{a}.ipynb" for a in SOURCES} <= set(tracked)
    for a in SOURCES:
        names = {p.name for p in (REPO / "source" / a).iterdir()} - {".ipynb_checkpoints"}
        assert names == {f"{a}.ipynb", "coursekit"}, f"source/{a} holds {sorted(names)}"
    assert coursekit_links.problems(REPO) == [], "run ./dev build (it refreshes the links)"


@pytest.mark.parametrize("assignment", SOURCES)
def test_a_source_notebook_is_stored_as_jupyterlab_saves_it(assignment: str) -> None:
    """Saving in JupyterLab rewrites nothing but what was edited: the file is nbformat's own
    serialisation, outputs cleared, ids stable."""
    path = REPO / "source" / assignment / f"{assignment}.ipynb"
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nbformat.writes(nb) + "\n" == text or nbformat.writes(nb) == text
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{assignment}: clear the outputs before committing ({cell.id})")


@pytest.mark.parametrize("assignment", SOURCES)
def test_authoring_rules(assignment: str) -> None:
    """The rules of docs/authoring.md that nbgrader does not enforce on its own."""
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", 4)
    for cell in nb.cells:
        meta, src, where = _nbgrader(cell), cell.source, f"{assignment} {cell.id}"
        if meta.get("grade"):
            assert meta.get("points", 0) > 0, f"{where}: a graded cell needs points > 0"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, (
                f"{where}: keep the signature and docstring visible, markers around the body")
        if "BEGIN SOLUTION" in src or "END SOLUTION" in src:
            assert meta.get("solution"), f"{where}: solution markers outside an answer cell"
        if "HIDDEN TESTS" in src:
            assert meta.get("grade") and cell.cell_type == "code", (
                f"{where}: hidden tests outside a graded code cell")
        if "MARK SCHEME" in src:
            assert meta.get("locked") and cell.cell_type == "markdown", (
                f"{where}: a rubric goes in a locked markdown cell")
        if meta.get("grade") and cell.cell_type == "code":
            assert src.lstrip().startswith('"""'), f"{where}: a test cell starts with a docstring"


def test_coursekit_links_follow_coursekit(tmp_path: Path) -> None:
    """A new coursekit module gets its links, a removed one loses them, a copy is reported
    and never replaced."""
    root = make_course_copy(tmp_path / "root")
    assert coursekit_links.problems(root) == []
    (root / "coursekit" / "extra.py").write_text("X = 1\n")
    (root / "coursekit" / "data.py").unlink()
    assert "source/ps1/coursekit/extra.py: missing" in coursekit_links.problems(root)
    changes = coursekit_links.sync(root)
    assert "linked source/ps1/coursekit/extra.py" in changes
    assert "unlinked source/ps1/coursekit/data.py" in changes
    assert coursekit_links.problems(root) == []
    copy = root / "source" / "ps2" / "coursekit" / "check.py"
    copy.unlink()
    copy.write_text("# an instructor's copy\n")
    assert coursekit_links.sync(root) == []
    assert copy.read_text() == "# an instructor's copy\n"
    assert coursekit_links.problems(root) == [
        "source/ps2/coursekit/check.py: a copy, not a link to coursekit/"]


@pytest.mark.slow
def test_a_toolbar_edit_survives_generate_assignment_and_release(tmp_path: Path) -> None:
    """An instructor sets new points on a grade cell and locks a try-it cell (what the Create
    Assignment toolbar writes into the cell's nbgrader metadata) and saves: plain nbgrader and
    ``backprop-course release`` both release it as edited and leave the source file alone."""
    root = make_course_copy(tmp_path / "root")
    path = root / "source" / "ps1" / "ps1.ipynb"
    nb = nbformat.read(path, 4)
    (grade,) = [c for c in nb.cells if _nbgrader(c).get("grade_id") == "t1_0_tests"]
    assert grade.metadata["nbgrader"]["points"] == 1
    grade.metadata["nbgrader"]["points"] = 3
    plain = next(c for c in nb.cells if c.cell_type == "code" and not _nbgrader(c))
    plain.metadata["nbgrader"] = {"grade": False, "grade_id": "toolbar_locked", "locked": True,
                                  "schema_version": 3, "solution": False}
    nbformat.write(nb, path)  # the server's save
    saved = path.read_bytes()

    generate(root, "ps1")
    assert path.read_bytes() == saved, "generate_assignment wrote into the source"
    released = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", 4)
    by_id = {_nbgrader(c).get("grade_id"): c for c in released.cells}
    assert by_id["t1_0_tests"].metadata["nbgrader"]["points"] == 3
    assert by_id["toolbar_locked"].metadata["nbgrader"]["locked"]
    assert by_id["toolbar_locked"].source == plain.source
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_grade_cell("t1_0_tests", "ps1", "ps1").max_score == 3
        assert gb.find_source_cell("toolbar_locked", "ps1", "ps1").locked

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "autograder.cli", "release", "ps1",
                             "--course-root", str(root)], env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no leaks" in result.stdout
    assert path.read_bytes() == saved, "backprop-course release wrote into the source"
    again = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", 4)
    assert again == released


def test_the_text_view_shows_a_toolbar_edit_as_one_changed_line(tmp_path: Path) -> None:
    """scripts/notebook_text.py (git's textconv for notebooks) renders every cell with its
    nbgrader role; a new point value is exactly one changed line of the view."""
    import difflib
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebook_text",
                                                  REPO / "scripts" / "notebook_text.py")
    view = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(view)
    source = REPO / "source" / "ps1" / "ps1.ipynb"
    before = view.render(source)
    nb = nbformat.read(source, 4)
    assert before.count("# %%") == len(nb.cells)
    (grade,) = [c for c in nb.cells if _nbgrader(c).get("grade_id") == "t1_0_tests"]
    grade.metadata["nbgrader"]["points"] = 3
    nbformat.write(nb, tmp_path / "ps1.ipynb")
    after = view.render(tmp_path / "ps1.ipynb")
    changed = [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                 lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == [
        f"-# %% id={grade.id} nbgrader: grade_id=t1_0_tests grade locked points=1",
        f"+# %% id={grade.id} nbgrader: grade_id=t1_0_tests grade locked points=3"]
