"""Run a submission written as code strings through the real trusted runner.

``grade(assignment, replace)`` takes the course source (``source/<a>/<a>.ipynb`` in its graded
form, as the gradebook stores it), fills every
answer cell with the instructor's solution unless ``replace`` gives its text, and returns the
verdicts of ``autograder.runner_host.run_trusted`` with the release's coursekit in the workspace.
"""

from __future__ import annotations

import functools
from pathlib import Path

from autograder import references, runner_host, sandbox, synthetic, tasks

REPO = Path(__file__).resolve().parents[2]
STUDENT = "alice"


@functools.cache
def _source(assignment: str):
    return references.read_graded(REPO / "source" / assignment / f"{assignment}.ipynb")


@functools.cache
def _release_files(assignment: str) -> tuple[tuple[str, bytes], ...]:
    folder = REPO / "release" / assignment
    return tuple(
        (p.relative_to(folder).as_posix(), p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".ipynb" and "__pycache__" not in p.parts
    )


def cells(assignment: str, replace: dict[str, str] | None = None) -> list[str]:
    """The student's non-test code cells: solutions, with ``replace`` by answer grade id."""
    out = []
    for cell in _source(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        gid = meta.get("grade_id")
        if replace and gid in replace:
            out.append(replace[gid])
        else:
            out.append(synthetic.strip_markers(cell.source))
    return out


def solution_of(assignment: str, gid: str) -> str:
    """The instructor's solution text of one answer cell (markers removed)."""
    for cell in _source(assignment).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            return synthetic.strip_markers(cell.source).rstrip("\n") + "\n"
    raise KeyError(gid)


def specs(assignment: str) -> list[tasks.TaskSpec]:
    return tasks.load_tasks(REPO / "autograder" / "registry" / f"{assignment}.py")


def grade(assignment: str, replace: dict[str, str] | None = None,
          only: set[str] | None = None, student: str = STUDENT) -> dict[str, tasks.Verdict]:
    """Trusted verdicts (grade id -> Verdict) of the solution with ``replace`` applied."""
    chosen = [s for s in specs(assignment) if only is None or s.grade_id in only]
    ctx = tasks.make_context("backprop-course", assignment, student)
    files = dict(_release_files(assignment))
    result = runner_host.run_trusted(cells(assignment, replace), chosen, ctx, files,
                                     sandbox.Limits())
    return result.verdicts
