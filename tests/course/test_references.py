"""The ``_REF = {...}  #: reference`` line of hidden tests: expanded into the model solutions by
the preprocessor that nbgrader_config.py puts first in generate_assignment, so the gradebook
stores (and autograde restores) hidden tests that judge with the model, never the student."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.api import Gradebook

from autograder.references import MarkerError, expand_notebook, marker_line, read_graded
from tests.course.course_helpers import GRADED


def _meta(gid: str, **flags: object) -> dict:
    base = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
            "solution": False}
    return {"nbgrader": {**base, **flags}}


ANSWER = '''def f(x: float) -> float:
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


def g(x: float) -> float:
    """f(x) + 1."""
    ### BEGIN SOLUTION
    return f(x) + 1
    ### END SOLUTION
'''
TESTS = '''"""Task 9 (1 point)."""
### BEGIN HIDDEN TESTS
_REF = {"f": f, "g": g}  #: reference
assert _REF["g"](1.0) == 3.0
### END HIDDEN TESTS
'''


def _nb(tests: str = TESTS, grade: bool = True) -> nbformat.NotebookNode:
    meta = _meta("t9_tests", grade=True, locked=True, points=1) if grade else _meta("t9_tests")
    return new_notebook(cells=[new_code_cell(ANSWER, metadata=_meta("t9_answer", solution=True)),
                               new_code_cell(tests, metadata=meta)])


def test_the_line_runs_as_it_stands_in_the_source_notebook() -> None:
    ns: dict = {}
    for cell in _nb().cells:
        exec(cell.source, ns)
    assert ns["_REF"]["g"] is ns["g"]


def test_expanded_references_are_the_model_even_when_the_students_functions_are_wrong() -> None:
    nb = expand_notebook(_nb())
    source = nb.cells[1].source
    assert "#: reference" not in source and "def _reference_solutions():" in source
    assert "BEGIN SOLUTION" not in source.split("BEGIN HIDDEN TESTS")[1]
    ns = {"f": lambda x: -x, "g": lambda x: 0.0}  # the student's
    exec(source, ns)
    assert ns["_REF"]["g"](1.0) == 3.0 and ns["_REF"]["f"](2.0) == 4.0
    assert ns["g"](1.0) == 0.0, "the student's binding must stay as it was"
    assert _nb().cells[1].source == TESTS, "expand_notebook works on a copy"


@pytest.mark.parametrize(
    ("tests", "grade", "message"),
    [
        ('_REF = {"f": f}  #: reference\n' + TESTS, True, "outside a hidden-test block"),
        (TESTS, False, "not a grade cell"),
        (TESTS.replace('"g": g', '"h": h'), True, "no answer cell defines h"),
        (TESTS.replace(', "g": g', "").replace('_REF["g"]', '_REF["f"]').replace(
            '"f": f', '"g": g'), True, r"calls \['f'\]: name them"),
        (TESTS.replace('_REF = {"f": f, "g": g}  #: reference', "#: reference f, g"), True,
         "old text-source form"),
        (TESTS.replace('{"f": f, "g": g}', '{"f": g}'), True, "each key the name"),
    ],
)
def test_rules(tests: str, grade: bool, message: str) -> None:
    with pytest.raises(MarkerError, match=message):
        expand_notebook(_nb(tests, grade))


def test_marker_line_is_what_the_expansion_reads() -> None:
    assert marker_line(["f", "g"]) == '_REF = {"f": f, "g": g}  #: reference'
    assert marker_line(["f", "g"]) in TESTS


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED)
def test_the_gradebook_stores_the_expanded_hidden_tests(fresh_course: Path,
                                                        assignment: str) -> None:
    """What plain ``nbgrader generate_assignment`` stored (SaveCells) is the graded form of the
    committed source, cell by cell: the autograder restores exactly these into submissions."""
    path = fresh_course / "source" / assignment / f"{assignment}.ipynb"
    graded = read_graded(path)
    want = {c.metadata["nbgrader"]["grade_id"]: c.source for c in graded.cells
            if c.metadata.get("nbgrader", {}).get("locked")}
    with Gradebook(f"sqlite:///{fresh_course / 'gradebook.db'}") as gb:
        stored = {gid: gb.find_source_cell(gid, assignment, assignment).source for gid in want}
    assert stored == want
    assert not [gid for gid, src in stored.items() if "#: reference" in src]
    expanded = [gid for gid, src in stored.items() if "_reference_solutions" in src]
    asks = [c for c in nbformat.read(path, 4).cells if "#: reference" in c.source]
    assert len(expanded) == len(asks), expanded
