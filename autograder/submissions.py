"""Find submissions in a folder: nbgrader's layout, zip files, loose notebooks, Canvas downloads.

Accepted layouts for ``grade ASSIGNMENT FOLDER``:

- nbgrader: ``FOLDER/<student>/<assignment>/*.ipynb`` (``FOLDER`` is ``submitted/``);
- one zip per student: ``FOLDER/<student>.zip`` holding the notebooks anywhere inside;
- loose notebooks: ``FOLDER/<student>.ipynb`` (one-notebook assignments) or
  ``FOLDER/<student>__<notebook>.ipynb``;
- Canvas bulk download: ``<lastfirst>[_LATE]_<canvas user id>_<submission id>_<file>`` where
  ``<file>`` is the student's file name (``backprop.ipynb``, Canvas's ``backprop-1.ipynb`` for a
  resubmission, a browser's ``backprop (1).ipynb`` duplicate, or a zip). The student id is the
  roster's ``student_id`` for that Canvas user id (see :mod:`autograder.lms`), else the Canvas
  user id itself.

One id per student from one source: a student found in two layouts (a zip and loose notebooks,
a folder and a zip, ...) is refused for both with the reason, never merged; two different files
for the same notebook are refused too (identical duplicates are fine). Ids must match the whole
id rule (:func:`valid_student_id`), and two ids equal but for case are refused.

Only the assignment's notebooks are read, by name, into memory; nothing from a submission is
extracted to disk, so extra files and archive paths (``../``, symlinks) have no effect. A notebook
with another name is accepted for a one-notebook assignment when it is the only one (noted).
"""

from __future__ import annotations

import functools
import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_STUDENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
_CANVAS_RE = re.compile(r"(?P<name>[a-z0-9-]+?)(?P<late>_late)?_(?P<uid>[0-9]+)_(?P<sid>[0-9]+)_"
                        r"(?P<file>.+?)(?: \((?P<dup>[0-9]+)\))?\.(?P<ext>ipynb|zip)",
                        re.IGNORECASE)
_CANVAS_HINT = re.compile(r".*_[0-9]+_[0-9]+_.*")
MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_ZIP_MEMBERS = 2000


@dataclass
class Submission:
    """One student's notebooks as bytes (None when missing) and what was noticed on the way."""

    student: str
    notebooks: dict[str, bytes | None]
    notes: list[str] = field(default_factory=list)
    origin: str = ""
    timestamp: str | None = None
    flags: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """A content hash, used to skip unchanged submissions when resuming."""
        h = hashlib.sha256(self.student.encode())
        for name in sorted(self.notebooks):
            data = self.notebooks[name]
            h.update(name.encode() + b"\0" + (data if data is not None else b"<missing>") + b"\0")
        return h.hexdigest()


@dataclass
class Rejected:
    """An entry of the folder that could not be attributed to a student."""

    path: str
    reason: str


def valid_student_id(name: str) -> bool:
    """Student ids become folder names, database keys and seeds of per-student numbers: the
    whole string must match a conservative character set (no newline, no ``..``)."""
    return bool(_STUDENT_RE.fullmatch(name)) and ".." not in name


@dataclass
class _Entry:
    """One folder entry attributed to a student, before the per-student checks."""

    student: str
    kind: str  # "folder", "zip", "loose notebooks", "Canvas download"
    name: str
    sub: Submission
    canvas_submission: str = ""


def canvas_name(name: str) -> dict[str, str] | None:
    """The parts of a Canvas bulk-download file name, or None when it is not one."""
    m = _CANVAS_RE.fullmatch(name)
    return m.groupdict() if m else None


def discover(folder: Path, assignment: str, notebooks: list[str],
             canvas_ids: dict[str, str] | None = None
             ) -> tuple[list[Submission], list[Rejected]]:
    """All submissions in ``folder`` for ``assignment`` whose notebooks are ``notebooks``;
    ``canvas_ids`` maps Canvas user ids to student ids (from the roster)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    entries: list[_Entry] = []
    rejected: list[Rejected] = []
    for entry in sorted(folder.iterdir()):
        found = _entry(entry, assignment, notebooks, canvas_ids)
        if isinstance(found, Rejected):
            rejected.append(found)
        elif found is not None:
            entries.append(found)
    by_student: dict[str, list[_Entry]] = {}
    for e in entries:
        by_student.setdefault(e.student, []).append(e)
    folded: dict[str, list[str]] = {}
    for student in by_student:
        folded.setdefault(student.lower(), []).append(student)
    subs: list[Submission] = []
    for student in sorted(by_student):
        group = by_student[student]
        clash = sorted(s for s in folded[student.lower()] if s != student)
        if clash:
            reason = (f"the ids '{student}' and '{clash[0]}' differ only in case; rename one "
                      "and grade again")
            rejected += [Rejected(e.name, reason) for e in group]
            continue
        sub, reason = _combine(student, group, notebooks)
        if sub is None:
            rejected += [Rejected(e.name, reason) for e in group]
        else:
            subs.append(sub)
    return subs, rejected


def _entry(entry: Path, assignment: str, notebooks: list[str],
           canvas_ids: dict[str, str] | None) -> _Entry | Rejected | None:
    name = entry.name
    if name.startswith("."):
        return None
    if entry.is_symlink():
        return Rejected(name, "symbolic links are not followed")
    canvas = canvas_name(name) if entry.is_file() else None
    if canvas is not None:
        return _from_canvas(entry, canvas, notebooks, canvas_ids)
    if entry.is_dir():
        student, kind = name, "folder"
        sub = _from_dir(entry, assignment, notebooks)
        if sub is None and valid_student_id(name):
            return Rejected(name, f"no folder {assignment}/ inside")
    elif name.endswith(".zip"):
        student, kind, sub = name[:-4], "zip", _from_zip(entry, notebooks)
    elif name.endswith(".ipynb"):
        student, _, nb = name[:-6].partition("__")
        kind, sub = "loose notebooks", _from_loose(entry, nb, notebooks)
    else:
        return Rejected(name, "not a folder, zip file or notebook")
    if not valid_student_id(student):
        hint = (" (it looks like a Canvas download but does not match "
                "<lastfirst>[_LATE]_<user id>_<submission id>_<file>.ipynb)"
                if _CANVAS_HINT.fullmatch(name) else "")
        return Rejected(name, f"{student!r} is not a valid student id (letters, digits and "
                              f"_.@+- only, starting with a letter or digit){hint}")
    return _Entry(student, kind, name, sub)


def _from_canvas(entry: Path, parts: dict[str, str], notebooks: list[str],
                 canvas_ids: dict[str, str] | None) -> _Entry | Rejected:
    uid = parts["uid"]
    if canvas_ids is not None:
        if uid not in canvas_ids:
            return Rejected(entry.name, f"Canvas user {uid} is not in the roster; add a row "
                                        "for them to the roster file")
        student = canvas_ids[uid]
    else:
        student = uid
    if not valid_student_id(student):
        return Rejected(entry.name, f"the roster maps Canvas user {uid} to {student!r}, which "
                                    "is not a valid student id")
    if parts["ext"].lower() == "zip":
        sub = _from_zip(entry, notebooks)
    else:
        stem = parts["file"]
        base = re.sub(r"-[0-9]+$", "", stem)  # Canvas renames a resubmitted file name-1.ipynb
        nb = stem if stem in notebooks or base not in notebooks else base
        reader = functools.partial(_read_limited, entry)
        sub = Submission("", _assign({nb: reader}, notebooks, []), [])
    if parts["late"]:
        sub.notes.append("Canvas marked this submission late")
    return _Entry(student, "Canvas download", entry.name, sub, canvas_submission=parts["sid"])


def _combine(student: str, group: list[_Entry], notebooks: list[str]
             ) -> tuple[Submission | None, str]:
    """One submission from one source, or None and the reason it is refused."""
    kinds = sorted({e.kind for e in group})
    if len(kinds) > 1:
        names = ", ".join(e.name for e in group)
        return None, (f"{student} was found in more than one layout ({' and '.join(kinds)}: "
                      f"{names}); nothing was merged: keep one and grade again")
    canvas_subs = sorted({e.canvas_submission for e in group if e.canvas_submission})
    if len(canvas_subs) > 1:
        return None, (f"{student} has several Canvas submissions ({', '.join(canvas_subs)}); "
                      "keep only the one to grade")
    if len(group) == 1:
        sub = group[0].sub
        sub.student, sub.origin = student, group[0].name
        return sub, ""
    merged: dict[str, bytes | None] = {nb: None for nb in notebooks}
    source: dict[str, str] = {}
    notes: list[str] = []
    for e in group:
        notes += e.sub.notes
        for nb, data in e.sub.notebooks.items():
            if data is None:
                continue
            if merged.get(nb) is None:
                merged[nb], source[nb] = data, e.name
            elif merged[nb] != data:
                return None, (f"two different files for {nb}.ipynb ({source[nb]}, {e.name}); "
                              "keep only the one to grade")
            else:
                notes.append(f"{e.name} is an identical copy of {source[nb]}")
    sub = Submission(student, merged, sorted(set(notes)), origin=", ".join(e.name for e in group))
    return sub, ""


def _read_limited(path: Path) -> bytes:
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return b"{\"too_large\": true}"
    return path.read_bytes()


def _assign(found: dict[str, Callable[[], bytes]], notebooks: list[str], notes: list[str]
            ) -> dict[str, bytes | None]:
    """Read the notebooks the assignment needs (only those: a zip or folder of many large
    extra notebooks costs nothing) from ``found`` (name -> reader)."""
    chosen: dict[str, str | None] = {nb: nb if nb in found else None for nb in notebooks}
    extra = sorted(set(found) - set(notebooks))
    if len(notebooks) == 1 and chosen[notebooks[0]] is None and len(extra) == 1:
        notes.append(f"the notebook was submitted as {extra[0]}.ipynb and graded as "
                     f"{notebooks[0]}.ipynb")
        chosen[notebooks[0]] = extra[0]
    elif extra:
        notes.append(f"ignored notebooks that are not part of the assignment: {', '.join(extra)}")
    return {nb: None if name is None else found[name]() for nb, name in chosen.items()}


def _from_dir(path: Path, assignment: str, notebooks: list[str]) -> Submission | None:
    inner = path / assignment
    if not inner.is_dir() or inner.is_symlink():
        return None
    notes: list[str] = []
    found = {p.stem: functools.partial(_read_limited, p) for p in sorted(inner.glob("*.ipynb"))
             if p.is_file() and not p.is_symlink()}
    sub = Submission("", _assign(found, notebooks, notes), notes)
    stamp = inner / "timestamp.txt"  # written by nbgrader collect/submit
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
        sub.timestamp = stamp.read_text(encoding="utf-8", errors="replace").strip() or None
    return sub


def _from_zip(path: Path, notebooks: list[str]) -> Submission:
    notes: list[str] = []
    found: dict[str, Callable[[], bytes]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise zipfile.BadZipFile(f"more than {MAX_ZIP_MEMBERS} files")
            for info in members:
                base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if (info.is_dir() or not base.endswith(".ipynb") or "__MACOSX" in info.filename
                        or base.startswith(".")):
                    continue
                if base[:-6] in found:
                    notes.append(f"{base} appears more than once in the zip; the first is used")
                elif info.file_size > MAX_NOTEBOOK_BYTES:
                    notes.append(f"{base} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
                    found[base[:-6]] = bytes
                else:
                    found[base[:-6]] = functools.partial(_read_member, zf, info)
            assigned = _assign(found, notebooks, notes)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        notes.append(f"the zip file could not be read ({exc})")
        assigned = _assign({}, notebooks, notes)
    return Submission("", assigned, notes)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than the notebook cap (whatever its header declares)."""
    with zf.open(info) as fh:
        return fh.read(MAX_NOTEBOOK_BYTES + 1)


def _from_loose(path: Path, nb: str, notebooks: list[str]) -> Submission:
    notes: list[str] = []
    if nb:
        found = {nb: functools.partial(_read_limited, path)}
    elif len(notebooks) == 1:
        found = {notebooks[0]: functools.partial(_read_limited, path)}
    else:
        found = {}
        notes.append("a loose notebook must be named <student>__<notebook>.ipynb when the "
                     "assignment has several notebooks")
    return Submission("", _assign(found, notebooks, notes), notes)


def _grade_ids(data: bytes) -> set[str] | None:
    """The nbgrader grade ids of a notebook's cells (None when it is not readable JSON)."""
    import json

    try:
        nb = json.loads(data)
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
        out = set()
        for cell in cells:
            meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
            gid = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta, dict) else None
            if isinstance(gid, str):
                out.add(gid)
        return out
    except (ValueError, AttributeError, TypeError, RecursionError):
        return None


def wrong_notebook(sub: Submission, stored_ids: dict[str, set[str]], assignment: str
                   ) -> list[str]:
    """Flags for notebooks that belong to another assignment: they carry nbgrader cells, but
    none of the ids of the notebook they were submitted as."""
    flags = []
    for nb, data in sub.notebooks.items():
        if not data or nb not in stored_ids:
            continue
        ids = _grade_ids(data)
        if ids and not ids & stored_ids[nb]:
            flags.append(f"wrong notebook: {nb}.ipynb has none of the cells of {assignment}/"
                         f"{nb} (it has {', '.join(sorted(ids)[:3])}); is it another "
                         "assignment's notebook?")
    return flags
