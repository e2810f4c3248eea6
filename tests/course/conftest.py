"""Session fixtures of the course tests: one fresh build and release in a temporary course
copy, and notebooks executed once per session (see course_helpers.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_helpers import REPO, STUDENT, execute, load_build, make_course_copy  # noqa: E402


@pytest.fixture(scope="session")
def build() -> ModuleType:
    """The build script as a module."""
    return load_build()


@pytest.fixture(scope="session")
def fresh_course(tmp_path_factory: pytest.TempPathFactory, build: ModuleType) -> Path:
    """A temporary course root with source/ built and release/ generated for every assignment."""
    root = make_course_copy(tmp_path_factory.mktemp("course") / "root")
    for name in build.assignments(root):
        build.build_source(root, name)
    for name in build.released(root):
        build.generate_release(root, name)
    return root


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


@pytest.fixture(scope="session")
def repo_on_path() -> None:
    """Make the repository importable (backprop_ref, autograder, coursekit)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
