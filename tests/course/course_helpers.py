"""Helpers shared by the course tests (imported as ``course_helpers``; this folder is on
sys.path under pytest's default import mode)."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
GRADED = ("ps1", "ps2", "ps3", "ps4", "ps5")
"""Graded assignments whose notebooks and registries these tests run (add new ones here)."""
STUDENT = "alice"


def load_build() -> ModuleType:
    """The course build module (``autograder.build``, run as scripts/build_course.py)."""
    return importlib.import_module("autograder.build")


def make_course_copy(dest: Path) -> Path:
    """A minimal course root: nbgrader_config.py, course/, coursekit/ (no release, no db)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO / "course", dest / "course", ignore=ignore)
    shutil.copytree(REPO / "coursekit", dest / "coursekit", ignore=ignore)
    return dest


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
