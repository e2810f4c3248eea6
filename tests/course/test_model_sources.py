"""The task files' model solutions are the source notebooks': every source lent to a probe and
every base of a synthetic mistake is read from ``source/<a>/<a>.ipynb`` (on first use, never
when a task file is imported), and every mutant edit applies and changes the code."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder import references, synthetic, tasks
from autograder.references import solution_functions
from autograder.registry import common
from tests.course.course_helpers import GRADED, REPO, STUDENT

REGISTRY = REPO / "autograder" / "registry"
WITH_EXAMPLES = ("ps3", "ps4", "ps5")


def _notebook_sources(assignment: str) -> dict[str, str]:
    """What the notebook holds: answer cells by grade id (markers dropped, as a synthetic
    submission has them) and its functions by name (as the reference lines expand them)."""
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", 4)
    cells = {c.metadata["nbgrader"]["grade_id"]: synthetic.strip_markers(c.source)
             for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    return {**cells, **solution_functions(nb)}


@pytest.mark.parametrize("assignment", GRADED)
def test_importing_a_task_file_reads_no_notebook(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, assignment: str) -> None:
    references._model_sources.cache_clear()
    monkeypatch.setattr(references, "SOURCE", tmp_path)  # no notebook to read there
    module = runpy.run_path(str(REGISTRY / f"{assignment}.py"))
    assert module["TASKS"]
    assert references._model_sources.cache_info().misses == 0


@pytest.mark.parametrize("assignment", GRADED)
def test_every_lent_source_is_the_notebooks(assignment: str) -> None:
    """Each ``Probe.inject`` source is the notebook's model solution of its key (a function or
    an answer cell), or the cache guard wrapped around the student's function."""
    model = _notebook_sources(assignment)
    lent = 0
    for spec in tasks.load_tasks(REGISTRY / f"{assignment}.py"):
        for probe in spec.instances(tasks.make_context("backprop-course", assignment, STUDENT)):
            for key, source in probe.inject.items():
                if source == common.cache_guard(key)[key]:
                    continue
                assert source == model[key], f"{spec.grade_id}: {key} is not the notebook's"
                lent += 1
    assert lent or assignment == "ps4"  # ps4's tasks build on no earlier answer


@pytest.mark.parametrize("assignment", WITH_EXAMPLES)
def test_every_mistake_is_the_notebooks_solution_with_edits_that_apply(
        monkeypatch: pytest.MonkeyPatch, assignment: str) -> None:
    """Each ``mistake_*`` cell of ``EXAMPLES`` is made by ``mutate`` from the notebook's model
    solution of that very cell, and each of its edits applies (else ``mutate`` raises)."""
    made: dict[str, str] = {}  # mutant -> its base

    def recording(source: str, edits: Any) -> str:
        out = real(source, edits)
        made[out] = source
        return out

    real = common.mutate
    monkeypatch.setattr(common, "mutate", recording)
    examples = dict(runpy.run_path(str(REGISTRY / f"{assignment}.py"))["EXAMPLES"])
    model = _notebook_sources(assignment)
    mistakes = {name: cells for name, cells in examples.items() if name.startswith("mistake_")}
    assert mistakes
    for name, cells in mistakes.items():
        for gid, text in cells.items():
            assert text in made, f"{name}: {gid} is not a mutant of a model solution"
            assert made[text] == model[gid], f"{name}: the base is not the notebook's {gid}"
            assert text != model[gid], f"{name}: {gid} is the model solution unchanged"


@pytest.mark.parametrize("edit", [("missing", "x"), ("return x", "return x")])
def test_mutate_refuses_an_edit_that_does_not_apply_or_changes_nothing(
        edit: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="mutant edit"):
        common.mutate("def f(x):\n    return x\n", [edit])


def test_the_logic_digest_covers_the_model_solutions() -> None:
    """A fixed model solution regrades (the task file no longer holds a copy of it)."""
    from autograder.pipeline import logic_digest

    fixed = logic_digest("TASKS = []", {}, {}, {"t1_answer": "def f():\n    return 2"})
    assert fixed != logic_digest("TASKS = []", {}, {}, {"t1_answer": "def f():\n    return 1"})
    assert logic_digest("TASKS = []", {}, {}, {}) == logic_digest("TASKS = []", {}, {})
    assert references.model_sources("ps5")["t5_2_answer"] == references.model_source(
        "ps5", "t5_2_answer")
