"""Transitional: while ``course/`` still holds text sources (parallel edits being merged), the
committed notebooks are exactly what scripts/migrate_course_to_source.py makes of them. Delete
this file with ``course/`` and the script."""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
from course_helpers import REPO

SCRIPT = REPO / "scripts" / "migrate_course_to_source.py"


def _script():  # noqa: ANN202 - the script as a module
    spec = importlib.util.spec_from_file_location("migrate_course_to_source", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TEXT = sorted(p.parent.name for p in (REPO / "course").glob("*/*.py")) if (
    REPO / "course").is_dir() and SCRIPT.is_file() else []


@pytest.mark.skipif(not TEXT, reason="course/ is gone: the notebooks are the only source")
@pytest.mark.parametrize("assignment", TEXT)
def test_committed_notebook_is_the_migrated_text_source(assignment: str) -> None:
    pytest.importorskip("jupytext")
    migrated = _script().convert(REPO / "course" / assignment / f"{assignment}.py",
                                 f"{assignment}-{assignment}")
    committed = (REPO / "source" / assignment / f"{assignment}.ipynb").read_text("utf-8")
    assert nbformat.writes(migrated) + "\n" == committed, (
        f"source/{assignment} differs from course/{assignment}: run "
        f".venv/bin/python scripts/migrate_course_to_source.py {assignment}")
