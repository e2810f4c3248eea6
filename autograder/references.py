"""Model solutions inside hidden tests: the ``_REF = {...}  #: reference`` line.

A test cell whose task builds on an earlier student function judges it with the model version
(one bug costs one task). In the source notebook the hidden-test block says so with one line::

    _REF = {"batch_forward": batch_forward, "batch_loss": batch_loss}  #: reference

Run as it stands (the instructor's source notebook, where the answer cells hold the model
solutions) the line binds the notebook's own functions. ``nbgrader generate_assignment`` runs
:class:`ExpandReferences` first (``nbgrader_config.py``): before ``ClearSolutions`` empties the
answer cells and before ``SaveCells`` stores the hidden tests in the gradebook, the line becomes
the model solutions of those functions, copied from the notebook's answer cells and defined
inside ``_reference_solutions()``, so that the stored hidden test (the one ``autograde``
restores into every submission) never calls the student's version. The expansion never reaches
``release/`` (it sits inside a hidden-test block, which ``ClearHiddenTests`` removes) and never
touches the source file (preprocessors work on nbgrader's in-memory copy).
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.synthetic import strip_markers

MARKER = re.compile(r"^(?P<indent>[ \t]*)(?P<code>_REF\s*=.*?)[ \t]*#: reference[ \t]*$", re.M)
"""``_REF = {"f": f, "g": g}  #: reference``: expanded into the model solutions of f, g."""
OLD_MARKER = re.compile(r"^[ \t]*#: reference\b.*\S", re.M)
"""The text sources' ``#: reference f, g`` comment (before the notebooks were the source)."""
BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
SOURCE = Path(__file__).resolve().parents[1] / "source"
"""The repository's ``source/``: the task files' model solutions are read from its notebooks."""


class MarkerError(ValueError):
    """A ``#: reference`` line breaks a rule (docs/authoring.md); the message says which."""


def marker_line(names: list[str]) -> str:
    """The source line that asks for the model solutions of ``names``."""
    return "_REF = {" + ", ".join(f'"{n}": {n}' for n in names) + "}  #: reference"


def _names(code: str, where: str) -> list[str]:
    """The function names of ``_REF = {"f": f, ...}`` (each key the name of its value)."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise MarkerError(f"{where}: unreadable '#: reference' line ({exc.msg})") from None
    node = tree.body[0] if len(tree.body) == 1 else None
    value = node.value if isinstance(node, ast.Assign) else None
    ok = isinstance(value, ast.Dict) and value.keys and all(
        isinstance(k, ast.Constant) and isinstance(v, ast.Name) and k.value == v.id
        for k, v in zip(value.keys, value.values, strict=True))
    if not ok:
        raise MarkerError(f"{where}: write the reference line as "
                          f"{marker_line(['f', 'g'])!r} (each key the name of its function)")
    return [k.value for k in value.keys]


def _answer_cells(nb: Any) -> Iterator[Any]:
    """The code answer cells (nbgrader ``solution: true``) of ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            yield cell


def solution_functions(nb: Any) -> dict[str, str]:
    """Name -> source (solution markers dropped) of every function of the code answer cells."""
    found: dict[str, str] = {}
    for cell in _answer_cells(nb):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # a cell nbgrader will report; no reference can come from it
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = strip_markers(ast.get_source_segment(cell.source, node) or "")
    return found


@functools.cache
def _model_sources(assignment: str) -> dict[str, str]:
    """Grade id -> whole answer cell, and function name -> function, of the model solutions in
    ``source/<assignment>/<assignment>.ipynb`` (read once, on first use), markers dropped."""
    nb = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: strip_markers(c.source)
             for c in _answer_cells(nb)}
    return {**cells, **solution_functions(nb)}


def model_sources(assignment: str) -> dict[str, str]:
    """Every model solution of the assignment, as :func:`model_source` gives them; empty when
    ``source/`` has no notebook of that name (a course whose task files lend none)."""
    if not (SOURCE / assignment / f"{assignment}.ipynb").is_file():
        return {}
    return dict(_model_sources(assignment))


def model_source(assignment: str, name: str) -> str:
    """The model solution of the function ``name``, or of the whole answer cell whose grade id
    is ``name``, as the assignment's source notebook has it (solution markers dropped): what
    the task files lend to probes and mutate into synthetic mistakes."""
    sources = _model_sources(assignment)
    if name not in sources:
        raise KeyError(f"{assignment}: no answer cell is or defines {name!r}")
    return sources[name]


def _check_placement(cell: Any, where: str) -> None:
    """Reference lines only inside a hidden-test block of a grade cell (else they would ship)."""
    hidden = False
    for line in cell.source.splitlines():
        hidden = (hidden or BEGIN in line) and END not in line
        if (MARKER.match(line) or OLD_MARKER.match(line)) and not hidden:
            raise MarkerError(f"{where}: a '#: reference' line outside a hidden-test block would "
                              "ship the model solution; move it between the hidden-test markers")
    if not cell.metadata.get("nbgrader", {}).get("grade"):
        raise MarkerError(f"{where}: a '#: reference' line in a cell that is not a grade cell "
                          "(nbgrader removes hidden tests from grade cells only)")


def expand_source(source: str, solutions: dict[str, str], where: str) -> str:
    """``source`` with every reference line replaced by the model solutions it names.

    The functions are defined inside ``_reference_solutions()`` so that a reference that calls
    another reference (batch_backward -> batch_forward) calls the model version, never the
    student's; every solution function it calls must therefore be named on the line too.
    """
    if OLD_MARKER.search(MARKER.sub("", source)):
        raise MarkerError(f"{where}: '#: reference f, g' is the old text-source form; write "
                          f"{marker_line(['f', 'g'])!r}")

    def expand(match: re.Match[str]) -> str:
        indent = match.group("indent")
        names = _names(match.group("code"), where)
        for name in names:
            if name not in solutions:
                raise MarkerError(f"{where}: '#: reference {name}': no answer cell defines {name}")
            calls = {n.id for n in ast.walk(ast.parse(solutions[name])) if isinstance(n, ast.Name)}
            loose = sorted((calls & solutions.keys()) - set(names) - {name})
            if loose:
                raise MarkerError(
                    f"{where}: the reference {name} calls {loose}: name them on the line too")
        body = ["def _reference_solutions():  # expanded at generate_assignment from answer cells"]
        for name in names:
            body += ["    " + ln if ln else ln for ln in solutions[name].splitlines()]
        body.append("    return {" + ", ".join(f'"{n}": {n}' for n in names) + "}")
        body += ["", "", "_REF = _reference_solutions()"]
        return "\n".join(indent + ln if ln else ln for ln in body)

    return MARKER.sub(expand, source)


def expand_notebook(nb: Any, name: str = "notebook") -> Any:
    """A copy of ``nb`` with every reference line expanded (the graded form of the source:
    what ``SaveCells`` stores in the gradebook)."""
    out = copy.deepcopy(nb)
    solutions = solution_functions(out)
    for index, cell in enumerate(out.cells):
        if cell.cell_type != "code" or not (MARKER.search(cell.source)
                                            or OLD_MARKER.search(cell.source)):
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", cell.cell_type)
        where = f"{name} cell {index} ({gid})"
        _check_placement(cell, where)
        cell.source = expand_source(cell.source, solutions, where)
    return out


def read_graded(path: Any) -> nbformat.NotebookNode:
    """The source notebook at ``path`` in its graded form (:func:`expand_notebook`)."""
    return expand_notebook(nbformat.read(path, as_version=4), getattr(path, "name", str(path)))


class ExpandReferences(NbGraderPreprocessor):
    """nbgrader preprocessor: expand the reference lines of hidden tests (first in
    ``GenerateAssignment.preprocessors``: before ClearSolutions and SaveCells)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        """Expand every reference line; a broken one stops the release with its reason."""
        name = resources.get("unique_key") or resources.get("metadata", {}).get("name", "notebook")
        return expand_notebook(nb, str(name)), resources
