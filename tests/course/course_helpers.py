"""Helpers shared by the course tests (``from tests.course.course_helpers import ...``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import ensure_tools_on_path

REPO = Path(__file__).resolve().parents[2]
GRADED = ("ps1", "ps2", "ps3", "ps4", "ps5")
"""Graded assignments whose notebooks and registries these tests run (add new ones here)."""
STUDENT = "alice"


def make_course_copy(dest: Path) -> Path:
    """A plain clone's course root: nbgrader_config.py, source/ (its coursekit symlinks kept as
    links), coursekit/; no release, no gradebook."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO / "source", dest / "source", symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "coursekit", dest / "coursekit", ignore=ignore)
    return dest


def assignments(root: Path) -> list[str]:
    """The folders of ``root/source`` that hold a notebook."""
    return sorted(p.parent.name for p in (root / "source").glob("*/*.ipynb"))


def generate(root: Path, assignment: str) -> None:
    """Plain ``nbgrader generate_assignment <a>`` in ``root``, as an instructor types it."""
    ensure_tools_on_path()  # nbgrader runs alembic from the interpreter's bin/
    env = {k: v for k, v in os.environ.items() if k != "BPC_STUDENT_ID"}
    result = subprocess.run(["nbgrader", "generate_assignment", assignment], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"generate_assignment {assignment}:\n{result.stderr[-3000:]}"


def execute(
    path: Path, env: dict[str, str] | None = None, timeout: int = 180
) -> nbformat.NotebookNode:
    """Run a notebook in its folder with a python3 kernel; errors are kept as outputs."""
    nb = nbformat.read(path, as_version=4)
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def errors(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """(grade_id or cell index, exception name, value) of every error output."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}")
                found.append((gid, out.ename, out.evalue))
    return found


def stderr_outputs(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(grade_id or cell index, text) of every stderr stream output."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}")
                found.append((gid, out.text))
    return found


@contextlib.contextmanager
def notebook_folder(folder: Path, student: str = STUDENT) -> Iterator[None]:
    """Run code in this process as a notebook in ``folder`` runs it: the folder as cwd, the
    student's id set, and the folder first on ``sys.path``. That insert is on purpose (the one
    sys.path insert of the tests): ``import coursekit`` must find the copy that ships next to the
    notebook (a release's, or a source folder's links), since that copy is what is tested, not
    the repository's. Afterwards cwd, the id and ``sys.path`` are restored, the shipped coursekit
    is dropped from ``sys.modules`` (the next notebook imports its own) and figures are closed."""
    old_cwd, old_env = os.getcwd(), os.environ.get("BPC_STUDENT_ID")
    os.environ["BPC_STUDENT_ID"] = student
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == "coursekit" or m.startswith("coursekit.")]:
            del sys.modules[name]
        if old_env is None:
            os.environ.pop("BPC_STUDENT_ID", None)
        else:
            os.environ["BPC_STUDENT_ID"] = old_env
        import matplotlib.pyplot as plt

        plt.close("all")
