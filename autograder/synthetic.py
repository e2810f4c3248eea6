"""Synthetic submissions for the demo, the tests and the benchmark.

A class is made from an assignment's source and release notebooks: correct submissions (the
instructor's solution, and any alternative styles the task file lists), the catalogued mistakes a
task file lists in ``EXAMPLES``, blank submissions (the release unchanged), and abusive ones built
by the generic mutators below (they work on any assignment).

Task files may define ``EXAMPLES = {name: {solution_cell_id: source, ...}}``; names starting with
``correct`` are expected to earn every autograded point.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell


def strip_markers(source: str) -> str:
    """The instructor's solution text without the BEGIN/END SOLUTION marker lines."""
    return "\n".join(ln for ln in source.splitlines()
                     if "BEGIN SOLUTION" not in ln and "END SOLUTION" not in ln)


def solved(source_nb: Any, release_nb: Any, replace: dict[str, str] | None = None) -> Any:
    """The release notebook with every solution cell filled (from the source or ``replace``)."""
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    src = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source_nb.cells}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        gid = meta["grade_id"]
        if replace and gid in replace:
            cell.source = replace[gid]
        elif gid in src:
            cell.source = strip_markers(src[gid].source)
    return nb


def _append(nb: Any, code: str, index: int | None = None) -> Any:
    cell = new_code_cell(code)
    if index is None:
        nb.cells.append(cell)
    else:
        nb.cells.insert(index, cell)
    return nb


def _first_code(nb: Any) -> int:
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade"):
            return i
    return len(nb.cells)


def _grade_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and c.cell_type == "code"]


ABUSE_SNIPPETS = {
    "patch_numpy": "import numpy as _np\n_np.allclose = lambda *a, **k: True\n"
                   "_np.isclose = lambda *a, **k: True\n"
                   "_np.testing.assert_allclose = lambda *a, **k: None\n",
    "input_transformer": "ip = get_ipython()\n"
                         "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n",
    "ast_transformer": "import ast\nclass _T(ast.NodeTransformer):\n"
                       "    def visit_Assert(self, node):\n        return ast.Pass()\n"
                       "get_ipython().ast_transformers.append(_T())\n",
    "os_exit": "import os\nos._exit(3)\n",
    "sys_exit": "import sys\nsys.exit(0)\n",
    "busy_loop": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                 "while True:\n    pass\n",
    "memory_bomb": "blob = bytearray(64 * 1024**3)\n",
    "syntax_error": "def broken(:\n    pass\n",
    "huge_output": "for _ in range(200000):\n    print('x' * 100)\n",
    "steal_files": "import glob, os\nleak = []\nfor p in ['/work', '/root', '..', '../..']:\n"
                   "    try:\n        leak += os.listdir(p)\n    except OSError as e:\n"
                   "        leak.append(type(e).__name__)\nprint(leak)\n"
                   "print('uid', os.getuid(), 'network', os.environ.get('BPC_SANDBOX_NETWORK'))\n",
    "write_gradebook": "import glob, sqlite3\nfor p in glob.glob('/**/gradebook.db', "
                       "recursive=True)[:5]:\n    try:\n"
                       "        sqlite3.connect(p).execute('update grade set auto_score=99')\n"
                       "    except Exception as e:\n        print(type(e).__name__)\n",
    "fork_bomb": "import os\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
                 "            import time; time.sleep(60); os._exit(0)\n"
                 "    except OSError:\n        break\n",
}


def abuse(name: str) -> Callable[[Any], Any]:
    """A mutator that inserts the abusive snippet ``name`` before the first grade cell."""
    code = ABUSE_SNIPPETS[name]

    def mutate(nb: Any) -> Any:
        return _append(nb, code, _first_code(nb))

    mutate.__name__ = name
    return mutate


def delete_grade_cell(nb: Any) -> Any:
    """Remove the last autograded test cell."""
    nb.cells.remove(_grade_cells(nb)[-1])
    return nb


def duplicate_grade_cell(nb: Any) -> Any:
    """Copy the first autograded test cell (same grade id twice)."""
    cell = _grade_cells(nb)[0]
    twin = nbformat.from_dict(json.loads(json.dumps(cell)))
    twin["id"] = "duplicated-" + str(cell.get("id", "cell"))[:20]
    nb.cells.insert(nb.cells.index(cell), twin)
    return nb


def rename_grade_cell(nb: Any) -> Any:
    """Change the grade id of the first autograded test cell."""
    _grade_cells(nb)[0].metadata["nbgrader"]["grade_id"] = "renamed_by_student"
    return nb


def inflate_points(nb: Any) -> Any:
    """Give every grade cell 100 points and unlock it (edited metadata)."""
    for cell in _grade_cells(nb):
        cell.metadata["nbgrader"]["points"] = 100
        cell.metadata["nbgrader"]["locked"] = False
        cell.source = "pass"
    return nb


def wrong_kernel(nb: Any) -> Any:
    """Ask for a kernel that does not exist."""
    nb.metadata["kernelspec"] = {"name": "evil-kernel", "display_name": "x", "language": "python"}
    return nb


def stderr_warning(nb: Any) -> Any:
    """Print to stderr in every test cell's namespace (a correct answer must keep its points)."""
    return _append(nb, "import sys, warnings\nwarnings.warn('a harmless warning')\n"
                       "print('to stderr', file=sys.stderr)\n", _first_code(nb))


def print_hidden_inputs(nb: Any) -> Any:
    """Print, after all tests, every array the tests left behind (hidden inputs included)."""
    return _append(nb, "import numpy as _np\nfor _k, _v in list(globals().items()):\n"
                       "    if isinstance(_v, _np.ndarray):\n"
                       "        print('LEAK', _k, _np.array2string(_v.ravel()[:3]))\n")


MUTATORS: dict[str, Callable[[Any], Any]] = {
    **{f"abuse_{k}": abuse(k) for k in ABUSE_SNIPPETS},
    "deleted_grade_cell": delete_grade_cell,
    "duplicated_grade_cell": duplicate_grade_cell,
    "renamed_grade_cell": rename_grade_cell,
    "inflated_points": inflate_points,
    "wrong_kernel": wrong_kernel,
    "stderr_warning": stderr_warning,
    "abuse_print_hidden_inputs": print_hidden_inputs,
}

CHEATS = {"abuse_patch_numpy", "abuse_input_transformer", "abuse_ast_transformer",
          "abuse_steal_files", "abuse_write_gradebook", "deleted_grade_cell",
          "duplicated_grade_cell", "renamed_grade_cell", "inflated_points", "wrong_kernel"}
"""Mutators that try to earn points: applied to a wrong solution (``wrong=``) when given."""

RAW_FILES = {
    "invalid_json": b'{"cells": [ this is not json',
    "empty_file": b"",
    "not_a_notebook": b'["a", "list"]',
    "no_cells": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
}


def make_class(source_dir: Path, release_dir: Path, out_dir: Path, assignment: str,
               examples: dict[str, dict[str, str]] | None = None, copies: int = 1,
               abusive: bool = True, wrong: dict[str, str] | None = None) -> dict[str, str]:
    """Write a synthetic class in nbgrader's ``submitted/`` layout; return student -> kind.

    ``wrong`` (solution cell id -> source) is the wrong answer that the cheating mutators
    (:data:`CHEATS`) start from, so that any point they earn would be undeserved."""
    kinds: dict[str, str] = {}
    notebooks = sorted(p.stem for p in release_dir.glob("*.ipynb"))
    for copy in range(copies):
        suffix = f"_{copy:02d}" if copies > 1 else ""
        variants: dict[str, dict[str, Any]] = {}
        for nb_name in notebooks:
            src = nbformat.read(source_dir / f"{nb_name}.ipynb", as_version=4)
            rel = nbformat.read(release_dir / f"{nb_name}.ipynb", as_version=4)
            per = variants
            per.setdefault("correct", {})[nb_name] = solved(src, rel)
            per.setdefault("blank", {})[nb_name] = rel
            for name, repl in (examples or {}).items():
                per.setdefault(name, {})[nb_name] = solved(src, rel, repl)
            if abusive:
                for name, fn in MUTATORS.items():
                    base = solved(src, rel, wrong) if name in CHEATS and wrong else solved(src, rel)
                    per.setdefault(name, {})[nb_name] = fn(base)
                for name, data in RAW_FILES.items():
                    per.setdefault(name, {})[nb_name] = data
        for kind, nbs in variants.items():
            student = f"{kind}{suffix}".replace("-", "_")
            folder = out_dir / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            for nb_name, nb in nbs.items():
                data = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
                (folder / f"{nb_name}.ipynb").write_bytes(data)
            if kind == "abuse_steal_files":
                (folder / "numpy.py").write_text("raise SystemExit('shadowed numpy')\n")
            kinds[student] = kind
    return kinds
