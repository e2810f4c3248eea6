"""A notebook as reviewable text, for ``git diff`` (a view, never a source: nothing reads it).

    .venv/bin/python scripts/notebook_text.py source/ps1/ps1.ipynb

Prints each cell as a ``# %%`` header (cell type, id, and nbgrader's role flags, grade id and
points as the Create Assignment panel set them) followed by its source, outputs left out. With
``.gitattributes``' ``diff=notebook-text`` and, once per clone,

    git config diff.notebook-text.textconv ".venv/bin/python scripts/notebook_text.py"

``git diff`` and ``git log -p`` show a changed point value or a changed line of a hidden test
as one line of text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

FLAGS = ("solution", "grade", "locked")


def header(cell: nbformat.NotebookNode) -> str:
    """``# %% [markdown] id=... nbgrader: grade_id=... grade locked points=1``."""
    parts = ["# %%"]
    if cell.cell_type != "code":
        parts.append(f"[{cell.cell_type}]")
    parts.append(f"id={cell.get('id', '?')}")
    meta = cell.metadata.get("nbgrader")
    if meta:
        parts.append(f"nbgrader: grade_id={meta.get('grade_id', '?')}")
        parts += [flag for flag in FLAGS if meta.get(flag)]
        if meta.get("grade"):
            parts.append(f"points={meta.get('points', '?')}")
    return " ".join(parts)


def render(path: Path) -> str:
    """The text view of the notebook at ``path``."""
    nb = nbformat.read(path, as_version=4)
    blocks = [f"{header(cell)}\n{cell.source}".rstrip("\n") for cell in nb.cells]
    return "\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the view of each notebook named on the command line."""
    for name in argv if argv is not None else sys.argv[1:]:
        sys.stdout.write(render(Path(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
