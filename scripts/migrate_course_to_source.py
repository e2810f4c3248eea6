"""One-off: turn the old jupytext text sources into the committed nbgrader source notebooks.

    .venv/bin/python scripts/migrate_course_to_source.py          # every course/psN/psN.py
    .venv/bin/python scripts/migrate_course_to_source.py ps2 ps3  # some of them

``course/<a>/<a>.py`` (jupytext percent with the short cell roles ``cell="answer"|"tests"|
"written"|"rubric"|"locked"``, ``grade_id``, ``points``) becomes ``source/<a>/<a>.ipynb`` with
nbgrader schema-3 metadata, the same stable cell ids the old build gave (``<a>-<a>-<index>``),
the python3 kernelspec and no jupytext metadata; each ``#: reference f, g`` comment becomes the
line ``_REF = {"f": f, "g": g}  #: reference`` that ``autograder.references`` expands at
``nbgrader generate_assignment``. ``source/<a>/coursekit/`` gets its links. ``course/lab/lab.py``
(if still there) becomes ``lab/lab.ipynb``. The authoring rules of the old build are enforced.

Once the notebooks are the source (nobody edits ``course/`` any more), delete ``course/``, this
script and ``tests/course/test_migration.py``; ``git grep -n 'course/ps'`` should then find
nothing outside the history.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import jupytext
import nbformat

from autograder import coursekit_links
from autograder.references import expand_notebook, marker_line

REPO = Path(__file__).resolve().parent.parent

ROLES = ("answer", "tests", "written", "rubric", "locked")
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
OLD_REFERENCE = re.compile(r"^(?P<indent>[ \t]*)#: reference (?P<names>[\w, ]+?)\s*$", re.M)


class MigrationError(ValueError):
    """A text source breaks an authoring rule."""


def _nbgrader_metadata(role: str, cell_type: str, grade_id: str, points: float | None) -> dict:
    """Schema-3 nbgrader metadata for a cell role."""
    grade = role in ("tests", "written")
    meta: dict = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": role in ("tests", "rubric", "locked"),
        "schema_version": 3,
        "solution": role in ("answer", "written"),
    }
    if grade:
        meta["points"] = points
    if role == "answer" and cell_type != "code":
        raise MigrationError(f"{grade_id}: an 'answer' cell must be code; use 'written' for prose")
    if role == "written" and cell_type != "markdown":
        raise MigrationError(f"{grade_id}: a 'written' cell must be markdown")
    return meta


def _check_markers(role: str | None, source: str, where: str) -> None:
    """Solution markers only in answer cells, hidden tests only in test cells."""
    has = {m: m in source for m in ("SOLUTION", "HIDDEN TESTS", "MARK SCHEME")}
    if has["SOLUTION"] and role not in ("answer", "written"):
        raise MigrationError(f"{where}: solution markers outside an answer cell")
    if has["HIDDEN TESTS"] and role != "tests":
        raise MigrationError(f"{where}: hidden-test markers outside a tests cell")
    if has["MARK SCHEME"] and role != "rubric":
        raise MigrationError(f"{where}: mark-scheme markers outside a rubric cell")
    if role == "answer" and "BEGIN SOLUTION" not in source:
        raise MigrationError(f"{where}: an answer cell needs ### BEGIN/END SOLUTION markers")


def _reference_lines(source: str) -> str:
    """``#: reference f, g`` -> ``_REF = {"f": f, "g": g}  #: reference``."""
    def rewrite(match: re.Match[str]) -> str:
        names = [n for n in re.split(r"[,\s]+", match.group("names")) if n]
        return match.group("indent") + marker_line(names)

    return OLD_REFERENCE.sub(rewrite, source)


def convert(text_path: Path, prefix: str) -> nbformat.NotebookNode:
    """One jupytext percent file -> the nbgrader source notebook."""
    nb = jupytext.read(text_path, fmt="py:percent")
    seen: set[str] = set()
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = dict(cell.metadata)
        role = meta.pop("cell", None)
        grade_id = meta.pop("grade_id", None)
        points = meta.pop("points", None)
        where = f"{text_path.name} cell {index} ({grade_id or role or cell.cell_type})"
        if role is not None and role not in ROLES:
            raise MigrationError(f"{where}: unknown cell role {role!r}; use one of {ROLES}")
        _check_markers(role, cell.source, where)
        new_meta: dict = {}
        if role is not None:
            if not grade_id or not GRADE_ID.match(str(grade_id)):
                raise MigrationError(f"{where}: role {role!r} needs a grade_id of [A-Za-z0-9_-]")
            if grade_id in seen:
                raise MigrationError(f"{where}: duplicate grade_id {grade_id!r}")
            seen.add(grade_id)
            if role in ("tests", "written"):
                if not isinstance(points, (int, float)) or points <= 0:
                    raise MigrationError(f"{where}: a graded cell needs points > 0")
            elif points is not None:
                raise MigrationError(f"{where}: only tests and written cells carry points")
            new_meta["nbgrader"] = _nbgrader_metadata(role, cell.cell_type, grade_id, points)
        elif grade_id is not None or points is not None:
            raise MigrationError(f"{where}: grade_id/points without a cell role")
        source = _reference_lines(cell.source)
        make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                "raw": nbformat.v4.new_raw_cell}[cell.cell_type]
        new = make(source, metadata=new_meta)
        new["id"] = f"{prefix}-{index:03d}"
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    nbformat.validate(out)
    expand_notebook(out, text_path.name)  # every reference line must expand
    return out


def text_sources(root: Path) -> list[str]:
    """The problem sets still kept as text: ``course/<a>/<a>.py`` (the lab aside)."""
    course = root / "course"
    if not course.is_dir():
        return []
    return sorted(p.name for p in course.iterdir()
                  if p.name != "lab" and (p / f"{p.name}.py").is_file())


def migrate(root: Path, names: list[str]) -> list[Path]:
    """Write ``source/<a>/<a>.ipynb`` (and its coursekit links) for each name; the paths."""
    written = []
    for name in names:
        nb = convert(root / "course" / name / f"{name}.py", f"{name}-{name}")
        path = root / "source" / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(path)
    coursekit_links.sync(root, names)
    lab = root / "course" / "lab" / "lab.py"
    if lab.is_file():
        path = root / "lab" / "lab.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(convert(lab, "lab-lab"), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every course/<a>/<a>.py")
    args = parser.parse_args(argv)
    names = args.assignments or text_sources(REPO)
    for path in migrate(REPO, names):
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
