"""Source notebooks pass with their solutions; release notebooks fail only where a student has
work to do."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tests.course.course_helpers import GRADED, errors, stderr_outputs

pytestmark = pytest.mark.slow  # every notebook run in a kernel (and fresh_course)


@pytest.mark.parametrize("assignment", GRADED)
def test_source_notebook_passes_all_its_tests(executed: Callable, assignment: str) -> None:
    nb = executed("source", assignment)
    assert errors(nb) == []
    graded = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    ]
    assert graded and all(c.execution_count for c in graded)
    noisy = [gid for gid, _ in stderr_outputs(nb) if gid.startswith("t")]
    assert not noisy, f"stderr output in graded cells would score 0: {noisy}"


def _owed_names(nb: nbformat.NotebookNode, source: nbformat.NotebookNode) -> set[str]:
    """Names bound (in the source version) by cells that stopped with NotImplementedError in
    the release run: the student's answers and the cells that use them."""
    assert len(nb.cells) == len(source.cells)
    names: set[str] = set()
    for cell, original in zip(nb.cells, source.cells, strict=True):
        stopped = any(
            o.output_type == "error" and o.ename == "NotImplementedError"
            for o in cell.get("outputs", [])
        )
        if cell.cell_type == "code" and stopped:
            for node in ast.walk(ast.parse(original.source)):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
    return names


@pytest.mark.parametrize("assignment", GRADED)
def test_release_notebook_fails_only_with_not_implemented(
    executed: Callable, fresh_course: Path, assignment: str
) -> None:
    nb = executed("release", assignment)
    source = nbformat.read(fresh_course / "source" / assignment / f"{assignment}.ipynb", 4)
    owed = _owed_names(nb, source)
    found = errors(nb)
    assert found, "a blank release should fail"
    for gid, ename, evalue in found:
        if ename == "NotImplementedError":
            continue
        assert ename == "NameError", f"{gid}: {ename}: {evalue}"
        name = evalue.split("'")[1]
        assert name in owed, f"{gid}: NameError for {name!r}, not owed by an unfinished cell"
    answers = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]
    assert all(c.execution_count for c in answers)
    tests = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }
    failing = {gid for gid, _, _ in found}
    assert tests <= failing, f"test cells that pass on a blank notebook: {sorted(tests - failing)}"
