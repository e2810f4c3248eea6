"""The build script: cell roles become nbgrader metadata, authoring rules are enforced, output
is deterministic."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from course_helpers import GRADED, REPO

GOOD = '''# %% [markdown]
# Intro

# %% cell="locked" grade_id="setup"
import math

# %% cell="answer" grade_id="t9_answer"
def f() -> int:
    """Return one."""
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% cell="tests" grade_id="t9_tests" points=2
"""Task 9 (2 points)."""
assert f() == 1
### BEGIN HIDDEN TESTS
assert f() + 1 == 2
### END HIDDEN TESTS

# %% [markdown] cell="written" grade_id="t9_written" points=1
# A model answer.

# %% [markdown] cell="rubric" grade_id="t9_rubric"
# ### BEGIN MARK SCHEME
# One point for anything sensible.
# ### END MARK SCHEME
'''


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nb.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_roles_become_nbgrader_metadata(build: ModuleType, tmp_path: Path) -> None:
    nb = build.build_notebook(_write(tmp_path, GOOD), "x-nb")
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    assert meta[0] is None
    assert meta[1] == {
        "grade": False,
        "grade_id": "setup",
        "locked": True,
        "schema_version": 3,
        "solution": False,
    }
    assert meta[2]["solution"] and not meta[2]["grade"] and not meta[2]["locked"]
    assert meta[3]["grade"] and meta[3]["locked"] and meta[3]["points"] == 2
    assert nb.cells[4].cell_type == "markdown" and meta[4]["solution"] and meta[4]["grade"]
    assert meta[4]["points"] == 1
    assert meta[5]["locked"] and not meta[5]["grade"]
    assert [c["id"] for c in nb.cells] == [f"x-nb-{i:03d}" for i in range(6)]
    assert "jupytext" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('grade_id="t9_tests" points=2', 'grade_id="t9_answer" points=2', "duplicate grade_id"),
        ('grade_id="t9_tests" points=2', 'grade_id="t9_tests"', "needs points"),
        (
            'cell="locked" grade_id="setup"',
            'cell="locked" grade_id="setup" points=1',
            "only tests and written",
        ),
        (
            'cell="tests" grade_id="t9_tests"',
            'cell="test" grade_id="t9_tests"',
            "unknown cell role",
        ),
        ('cell="locked" grade_id="setup"', 'cell="locked"', "needs a grade_id"),
        (
            "    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
            "    return 1",
            "needs ### BEGIN/END SOLUTION",
        ),
        (
            "import math",
            "import math\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
            "hidden-test markers",
        ),
        ("import math", "import math  # BEGIN SOLUTION", "solution markers outside"),
        ("# A model answer.", "# ### BEGIN MARK SCHEME\n# ### END MARK SCHEME", "mark-scheme"),
    ],
)
def test_rules_are_enforced(
    build: ModuleType, tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    with pytest.raises(build.BuildError, match=message):
        build.build_notebook(_write(tmp_path, GOOD.replace(old, new, 1)), "x-nb")


@pytest.mark.parametrize("assignment", GRADED)
def test_build_is_deterministic_and_ships_coursekit(
    build: ModuleType, tmp_path: Path, assignment: str
) -> None:
    text = REPO / "course" / assignment / f"{assignment}.py"
    one = build.build_notebook(text, f"{assignment}-{assignment}")
    two = build.build_notebook(text, f"{assignment}-{assignment}")
    assert one == two
    ids = [c.metadata["nbgrader"]["grade_id"] for c in one.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


def test_build_source_copies_coursekit_without_caches(build: ModuleType, tmp_path: Path) -> None:
    from course_helpers import make_course_copy

    root = make_course_copy(tmp_path / "root")
    (root / "coursekit" / "__pycache__").mkdir(exist_ok=True)
    (root / "coursekit" / "__pycache__" / "junk.pyc").write_bytes(b"x")
    paths = build.build_source(root, "ps1")
    assert [p.name for p in paths] == ["ps1.ipynb"]
    kit = root / "source" / "ps1" / "coursekit"
    assert (kit / "check.py").is_file() and (kit / "seeds.py").is_file()
    assert not list(kit.rglob("__pycache__"))
