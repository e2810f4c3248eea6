"""Every synthetic submission a task file declares (``EXAMPLES``) is graded as it says
(``EXPECTED``): correct solutions in other styles earn every point, each injected mistake fails
its cell with the named diagnosis — in the trusted runner and in the notebook's own tests."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder import runner_host, sandbox, synthetic, tasks
from tests.course.course_helpers import REPO, STUDENT, notebook_folder

WITH_EXAMPLES = [
    a for a in ("ps1", "ps2", "ps3", "ps4", "ps5")
    if getattr(tasks.load_task_module(REPO / "autograder" / "registry" / f"{a}.py"),
               "EXAMPLES", None)
]


def _cases() -> list[tuple[str, str]]:
    cases = []
    for a in WITH_EXAMPLES:
        module = tasks.load_task_module(REPO / "autograder" / "registry" / f"{a}.py")
        cases += [(a, "correct")] + [(a, name) for name in module.EXAMPLES]
    return cases


def _release_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".ipynb" and "__pycache__" not in p.parts
    }


def _notebook_failures(nb: nbformat.NotebookNode, folder: Path) -> dict[str, str]:
    """Run every code cell in this process (cwd = the source folder); grade id -> error."""
    ns: dict[str, Any] = {"__name__": "__main__"}
    errors: dict[str, str] = {}
    with notebook_folder(folder):
        for cell in nb.cells:
            if cell.cell_type != "code" or "_explorer(" in cell.source:
                continue
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(cell.source, str(gid), "exec"), ns)
            except Exception as exc:
                errors[str(gid)] = f"{type(exc).__name__}: {exc}"
            finally:  # what IPython's post_run_cell hook does in a kernel: end a cell's swaps
                kit = sys.modules.get("coursekit.check")
                if kit is not None and hasattr(kit, "restore_all"):
                    kit.restore_all()
    return errors


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "name"), _cases())
def test_example_is_graded_as_declared(fresh_course: Path, assignment: str, name: str) -> None:
    module = tasks.load_task_module(REPO / "autograder" / "registry" / f"{assignment}.py")
    expected: dict[str, str] = getattr(module, "EXPECTED", {}).get(name, {})
    replace = module.EXAMPLES.get(name)
    src = nbformat.read(fresh_course / "source" / assignment / f"{assignment}.ipynb", 4)
    rel = nbformat.read(fresh_course / "release" / assignment / f"{assignment}.ipynb", 4)
    solved = synthetic.solved(src, rel, replace)

    # The trusted runner, exactly as the pipeline calls it.
    cells = [c.source for c in solved.cells
             if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")]
    specs = tasks.load_tasks(REPO / "autograder" / "registry" / f"{assignment}.py")
    ctx = tasks.make_context("backprop-course", assignment, STUDENT)
    files = _release_files(fresh_course / "release" / assignment)
    verdicts = runner_host.run_trusted(cells, specs, ctx, files, sandbox.Limits()).verdicts
    if not expected:
        lost = {g: v.message for g, v in verdicts.items() if v.score != v.max_score}
        assert not lost, f"{name} should earn every point, lost: {lost}"
    for gid, diagnosis in expected.items():
        v = verdicts[gid]
        assert v.score < v.max_score, f"{name}: {gid} passed the trusted check"
        if diagnosis:
            assert v.diagnosis == diagnosis, f"{name}: {gid} diagnosed {v.diagnosis!r}"

    # The notebook's own tests (hidden part included) on the source with the same answers.
    nb = nbformat.from_dict(json.loads(json.dumps(src)))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if replace and gid in replace:
            cell.source = replace[gid]
    errors = _notebook_failures(nb, fresh_course / "source" / assignment)
    graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    if not expected:
        assert not {g: e for g, e in errors.items() if g in graded}, errors
    for gid in expected:
        assert gid in errors, f"{name}: the notebook's test cell {gid} passed"
        assert errors[gid].startswith("AssertionError"), errors[gid]
