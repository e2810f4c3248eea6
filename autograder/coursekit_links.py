"""``source/<a>/coursekit/``: one committed symlink per file of the top-level ``coursekit/``.

nbgrader copies every file beside a source notebook into ``release/<a>/`` (``init_assignment``:
``find_all_files`` walks ``source/<a>/`` with ``os.walk``, which does not descend into a
symlinked *directory*, then ``shutil.copy``, which follows a symlinked *file*). So each
``source/<a>/coursekit/<path>`` is a relative symlink to ``coursekit/<path>``: a plain clone's
``nbgrader generate_assignment <a>`` ships the current coursekit as real files, the notebook's
kernel imports it from the notebook's folder, and there is one copy of each file in git.
Editing a coursekit file needs nothing more; adding or removing one needs :func:`sync`
(``./dev build`` runs it), and :func:`problems` (a test) says when a link is missing or stale.
"""

from __future__ import annotations

import os
from pathlib import Path

SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def kit_files(root: Path) -> list[str]:
    """Paths (posix, relative to ``coursekit/``) of the files that ship."""
    kit = root / "coursekit"
    return sorted(
        p.relative_to(kit).as_posix() for p in kit.rglob("*")
        if p.is_file() and p.suffix != ".pyc" and not p.name.startswith(".")
        and not SKIP_PARTS & set(p.relative_to(kit).parts)
    )


def assignments(root: Path) -> list[str]:
    """Folders of ``source/`` that hold a notebook."""
    src = root / "source"
    if not src.is_dir():
        return []
    return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def _target(link: Path, root: Path, rel: str) -> str:
    return os.path.relpath(root / "coursekit" / rel, link.parent)


def problems(root: Path) -> list[str]:
    """What is wrong with the links of every assignment (empty when all is in order)."""
    found = []
    want = set(kit_files(root))
    for a in assignments(root):
        kit = root / "source" / a / "coursekit"
        have = {p.relative_to(kit).as_posix() for p in kit.rglob("*")
                if (p.is_symlink() or p.is_file()) and p.suffix != ".pyc"
                and not SKIP_PARTS & set(p.relative_to(kit).parts)} if kit.is_dir() else set()
        for rel in sorted(want - have):
            found.append(f"source/{a}/coursekit/{rel}: missing")
        for rel in sorted(have - want):
            found.append(f"source/{a}/coursekit/{rel}: not a file of coursekit/")
        for rel in sorted(want & have):
            link = kit / rel
            if not link.is_symlink():
                found.append(f"source/{a}/coursekit/{rel}: a copy, not a link to coursekit/")
            elif os.readlink(link) != _target(link, root, rel):
                found.append(f"source/{a}/coursekit/{rel}: links to {os.readlink(link)}")
    return found


def sync(root: Path, names: list[str] | None = None) -> list[str]:
    """Add the missing links and drop the links that point elsewhere or at nothing; never
    touch a regular file (:func:`problems` reports a copy). Returns the changes made."""
    changes = []
    want = kit_files(root)
    for a in names or assignments(root):
        kit = root / "source" / a / "coursekit"
        for path in sorted(kit.rglob("*"), reverse=True) if kit.is_dir() else []:
            rel = path.relative_to(kit).as_posix()
            if path.is_symlink() and (rel not in want
                                      or os.readlink(path) != _target(path, root, rel)):
                path.unlink()
                changes.append(f"unlinked source/{a}/coursekit/{rel}")
            elif path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
        for rel in want:
            link = kit / rel
            if not link.is_symlink() and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(_target(link, root, rel))
                changes.append(f"linked source/{a}/coursekit/{rel}")
    return changes
