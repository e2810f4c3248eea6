"""Build the course: jupytext text sources -> nbgrader source notebooks -> release.

    python scripts/build_course.py [--release] [--root DIR] [ASSIGNMENT ...]
    (the same as ``python -m autograder.build``; ``backprop-course release`` and ``demo`` call it)

One way only: ``course/<a>/<nb>.py`` (jupytext percent, committed) becomes
``source/<a>/<nb>.ipynb`` (gitignored) with nbgrader schema-3 metadata expanded from the short
cell roles of docs/authoring.md, stable cell ids and no jupytext metadata; ``coursekit/`` is
copied into ``source/<a>/coursekit/``. With ``--release`` the script then runs
``nbgrader generate_assignment <a> --force`` in the course root.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parent.parent
ROLES = ("answer", "tests", "written", "rubric", "locked")
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}


class BuildError(ValueError):
    """A text source breaks an authoring rule (docs/authoring.md)."""


def _nbgrader_metadata(role: str, cell_type: str, grade_id: str, points: float | None) -> dict:
    """Schema-3 nbgrader metadata for a cell role."""
    solution = role in ("answer", "written")
    grade = role in ("tests", "written")
    locked = role in ("tests", "rubric", "locked")
    meta: dict = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    if role == "answer" and cell_type != "code":
        raise BuildError(f"{grade_id}: an 'answer' cell must be code; use 'written' for prose")
    if role == "written" and cell_type != "markdown":
        raise BuildError(f"{grade_id}: a 'written' cell must be markdown")
    return meta


def _check_markers(role: str | None, source: str, where: str) -> None:
    """Solution markers only in answer cells, hidden tests only in test cells."""
    has_solution = "BEGIN SOLUTION" in source or "END SOLUTION" in source
    has_hidden = "BEGIN HIDDEN TESTS" in source or "END HIDDEN TESTS" in source
    has_scheme = "BEGIN MARK SCHEME" in source or "END MARK SCHEME" in source
    if has_solution and role not in ("answer", "written"):
        raise BuildError(f"{where}: solution markers outside an answer cell")
    if has_hidden and role != "tests":
        raise BuildError(f"{where}: hidden-test markers outside a tests cell")
    if has_scheme and role != "rubric":
        raise BuildError(f"{where}: mark-scheme markers outside a rubric cell")
    if role == "answer" and not has_solution:
        raise BuildError(f"{where}: an answer cell needs ### BEGIN/END SOLUTION around the body")


REFERENCE_MARKER = re.compile(r"^(?P<indent>[ \t]*)#: reference (?P<names>[\w, ]+?)\s*$", re.M)
"""``#: reference f, g`` in a hidden-test block: expanded into the model solutions of f, g."""


def _solution_functions(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Name -> source (solution markers dropped) of every function of the answer cells."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        if cell.metadata.get("cell") != "answer" or cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                segment = ast.get_source_segment(cell.source, node) or ""
                lines = [ln for ln in segment.splitlines()
                         if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
                found[node.name] = "\n".join(lines)
    return found


def _expand_references(source: str, solutions: dict[str, str], where: str) -> str:
    """Replace each ``#: reference f, g`` line by a function returning the model f and g.

    The functions are defined inside ``_reference_solutions()`` so that a reference that calls
    another reference (batch_backward -> batch_forward) calls the model version, never the
    student's; every solution function it calls must therefore be named in the marker too.
    """

    def expand(match: re.Match[str]) -> str:
        indent = match.group("indent")
        names = [n for n in re.split(r"[,\s]+", match.group("names")) if n]
        for name in names:
            if name not in solutions:
                raise BuildError(f"{where}: '#: reference {name}': no answer cell defines {name}")
            calls = {n.id for n in ast.walk(ast.parse(solutions[name])) if isinstance(n, ast.Name)}
            loose = sorted((calls & solutions.keys()) - set(names) - {name})
            if loose:
                raise BuildError(
                    f"{where}: the reference {name} calls {loose}: name them in the marker too"
                )
        body = ["def _reference_solutions():  # generated by autograder/build.py from answer cells"]
        for name in names:
            body += ["    " + ln if ln else ln for ln in solutions[name].splitlines()]
        body.append("    return {" + ", ".join(f'"{n}": {n}' for n in names) + "}")
        body += ["", "", "_REF = _reference_solutions()"]
        return "\n".join(indent + ln if ln else ln for ln in body)

    return REFERENCE_MARKER.sub(expand, source)


def _hidden_only(source: str, where: str) -> None:
    """Reference markers may stand only inside a hidden-test block."""
    hidden = False
    for line in source.splitlines():
        hidden = (hidden or "BEGIN HIDDEN TESTS" in line) and "END HIDDEN TESTS" not in line
        if REFERENCE_MARKER.match(line) and not hidden:
            raise BuildError(f"{where}: '#: reference' outside a hidden-test block leaks solutions")


def build_notebook(text_path: Path, prefix: str) -> nbformat.NotebookNode:
    """Read one jupytext percent file and return the nbgrader source notebook."""
    nb = jupytext.read(text_path, fmt="py:percent")
    solutions = _solution_functions(nb)
    seen: set[str] = set()
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = dict(cell.metadata)
        role = meta.pop("cell", None)
        grade_id = meta.pop("grade_id", None)
        points = meta.pop("points", None)
        where = f"{text_path.name} cell {index} ({grade_id or role or cell.cell_type})"
        if role is not None and role not in ROLES:
            raise BuildError(f"{where}: unknown cell role {role!r}; use one of {ROLES}")
        _check_markers(role, cell.source, where)
        if REFERENCE_MARKER.search(cell.source):
            _hidden_only(cell.source, where)
            cell.source = _expand_references(cell.source, solutions, where)
        new_meta: dict = {}
        if role is not None:
            if not grade_id or not GRADE_ID.match(str(grade_id)):
                raise BuildError(f"{where}: role {role!r} needs a grade_id of [A-Za-z0-9_-]")
            if grade_id in seen:
                raise BuildError(f"{where}: duplicate grade_id {grade_id!r}")
            seen.add(grade_id)
            if role in ("tests", "written"):
                if not isinstance(points, (int, float)) or points <= 0:
                    raise BuildError(f"{where}: a graded cell needs points > 0")
            elif points is not None:
                raise BuildError(f"{where}: only tests and written cells carry points")
            new_meta["nbgrader"] = _nbgrader_metadata(role, cell.cell_type, grade_id, points)
        elif grade_id is not None or points is not None:
            raise BuildError(f"{where}: grade_id/points without a cell role")
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=new_meta)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=new_meta)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=new_meta)
        new["id"] = f"{prefix}-{index:03d}"
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    nbformat.validate(out)
    return out


def assignments(root: Path) -> list[str]:
    """Assignment names: the folders of ``course/`` that hold at least one ``.py`` source."""
    course = root / "course"
    return sorted(p.name for p in course.iterdir() if p.is_dir() and any(p.glob("*.py")))


NOT_RELEASED = {
    "lab": "it drives the explorers with the reference (backprop_ref), which never ships to "
    "students; run it from the instructor's environment (./dev setup installs the reference)",
}
"""Assignments built into source/ but never generated into release/, with the reason."""


def released(root: Path) -> list[str]:
    """The assignments that ``--release`` generates: every assignment but ``NOT_RELEASED``."""
    return [name for name in assignments(root) if name not in NOT_RELEASED]


def build_source(root: Path, assignment: str) -> list[Path]:
    """Write ``source/<a>/*.ipynb`` and ``source/<a>/coursekit/``; return the notebook paths."""
    src_dir = root / "course" / assignment
    out_dir = root / "source" / assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.ipynb"):
        stale.unlink()
    written = []
    for text in sorted(src_dir.glob("*.py")):
        nb = build_notebook(text, f"{assignment}-{text.stem}")
        path = out_dir / f"{text.stem}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    kit = out_dir / "coursekit"
    if kit.exists():
        shutil.rmtree(kit)
    shutil.copytree(
        root / "coursekit", kit, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    )
    return written


def nbgrader_env(root: Path) -> dict[str, str]:
    """Environment for nbgrader: the interpreter's bin first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("BPC_STUDENT_ID", None)
    return env


def generate_release(root: Path, assignment: str) -> None:
    """Run ``nbgrader generate_assignment <a> --force`` in ``root``."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    cmd = [str(nbgrader), "generate_assignment", assignment, "--force", "--create"]
    result = subprocess.run(
        cmd, cwd=root, env=nbgrader_env(root), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.stderr}")
    released = root / "release" / assignment
    for junk in released.rglob("__pycache__"):
        shutil.rmtree(junk)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every folder of course/")
    parser.add_argument("--release", action="store_true", help="also run generate_assignment")
    parser.add_argument("--root", type=Path, default=REPO, help="course root (default: repo)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    names = args.assignments or assignments(root)
    for name in names:
        paths = build_source(root, name)
        print(f"built {name}: {', '.join(p.name for p in paths)}")
        if args.release and name in NOT_RELEASED:
            print(f"not released {name}: {NOT_RELEASED[name]}")
        elif args.release:
            generate_release(root, name)
            print(f"released {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
