"""Session fixtures of the course tests: one fresh release by plain nbgrader in a temporary
course copy, and notebooks executed once per session (see course_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tests.course.course_helpers import (
    STUDENT,
    assignments,
    execute,
    generate,
    make_course_copy,
)


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course as a plain clone has it (``source/``, ``coursekit/``,
    ``nbgrader_config.py``), nothing generated: cheap, for tests that read the source only."""
    return make_course_copy(tmp_path_factory.mktemp("course") / "root")


@pytest.fixture(scope="session")
def fresh_course(course_copy: Path) -> Path:
    """``course_copy`` with release/ generated for every assignment by plain ``nbgrader
    generate_assignment <a>`` (no step of ours). Minutes on 2 shared cores: the tests that
    use it are marked slow."""
    for name in assignments(course_copy):
        generate(course_copy, name)
    return course_copy


@pytest.fixture(scope="session")
def executed(fresh_course: Path) -> Callable[[str, str], nbformat.NotebookNode]:
    """``executed(kind, assignment)``: the source or release notebook, run once per session."""
    cache: dict[tuple[str, str], nbformat.NotebookNode] = {}

    def get(kind: str, assignment: str) -> nbformat.NotebookNode:
        key = (kind, assignment)
        if key not in cache:
            path = fresh_course / kind / assignment / f"{assignment}.ipynb"
            cache[key] = execute(path, {"BPC_STUDENT_ID": STUDENT})
        return cache[key]

    return get

