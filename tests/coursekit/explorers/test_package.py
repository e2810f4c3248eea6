"""Package rules for coursekit.explorers and a headless run of the lab notebook."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coursekit.explorers import sizes_of

REPO = Path(__file__).resolve().parents[3]
EXPLORERS = REPO / "coursekit" / "explorers"


def test_importing_the_explorers_never_imports_the_reference_and_builds_nothing():
    code = (
        "import sys\n"
        "from ipywidgets.widgets.widget import _instances\n"
        "before = len(_instances)\n"
        "import coursekit.explorers\n"
        "assert not [m for m in sys.modules if m.startswith('backprop_ref')], 'imports reference'\n"
        "assert len(_instances) == before, 'widgets made at import time'\n"
        "coursekit.explorers.graph_explorer()\n"
        "assert len(_instances) > before\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)


def test_no_reference_import_and_no_student_derivatives_in_the_source():
    formulas = [
        r"1(\.0)?\s*-\s*(np\.|math\.)?tanh\([^)]*\)\s*\*\*\s*2",  # tanh'
        r"(\w+)\s*\*\s*\(\s*1(\.0)?\s*-\s*\1\s*\)",  # sigmoid' as s * (1 - s)
    ]
    for path in EXPLORERS.glob("*.py"):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] == "backprop_ref"], path.name
        for pattern in formulas:
            assert not re.search(pattern, text), f"{path.name} matches {pattern!r}"
    # the patterns do find the formulas they are meant to find
    assert re.search(formulas[0], "return 1.0 - np.tanh(z) ** 2")
    assert re.search(formulas[1], "s * (1 - s)")


def test_sizes_of():
    params = {"W1": np.zeros((5, 2)), "b1": np.zeros((5, 1)), "W2": np.zeros((3, 5))}
    assert sizes_of(params) == (2, 5, 3)


@pytest.mark.slow
def test_lab_notebook_runs_headless_without_errors_or_stderr(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(REPO / "lab" / "lab.ipynb", 4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env_path) if p)
    try:
        NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 4
    nbformat.validate(nb)


def test_explorers_are_not_built_in_the_graders_isolated_runner(monkeypatch):
    """Nobody sees a widget in the trusted runner: the calls return None there, quickly."""
    from coursekit import explorers

    monkeypatch.setenv("BPC_TRUSTED_RUNNER", "1")
    assert explorers.graph_explorer() is None
    assert explorers.step_size_explorer() is None
    assert explorers.layer_gradients_explorer(lambda X, T, p, h: 0.0) is None
    assert explorers.descent_explorer(lambda X, T, p: 0.0, lambda X, p: X) is None
    monkeypatch.delenv("BPC_TRUSTED_RUNNER")
    assert explorers.graph_explorer() is not None


def test_while_nbgrader_autogrades_the_explorers_compute_everything_but_render_nothing(
        monkeypatch):
    from coursekit.explorers import step_size_explorer

    drawn = step_size_explorer()
    assert bytes(drawn.image.value).startswith(b"\x89PNG")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    blind = step_size_explorer()
    images = [w for w in _all_widgets(blind.widget) if hasattr(w, "format")]
    assert images and all(bytes(w.value) == b"" for w in images)
    assert blind.summary == drawn.summary  # the same numbers, computed as usual
    assert blind.note.value == drawn.note.value and blind.table.value == drawn.table.value


def _all_widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all_widgets(child)
