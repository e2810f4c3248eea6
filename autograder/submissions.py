"""Find submissions in a folder: nbgrader's layout, zip files or loose notebooks.

Accepted layouts for ``grade ASSIGNMENT FOLDER``:

- nbgrader: ``FOLDER/<student>/<assignment>/*.ipynb`` (``FOLDER`` is ``submitted/``);
- one zip per student: ``FOLDER/<student>.zip`` holding the notebooks anywhere inside;
- loose notebooks: ``FOLDER/<student>.ipynb`` (one-notebook assignments) or
  ``FOLDER/<student>__<notebook>.ipynb``.

Only the assignment's notebooks are read, by name, into memory; nothing from a submission is
extracted to disk, so extra files and archive paths (``../``, symlinks) have no effect. A notebook
with another name is accepted for a one-notebook assignment when it is the only one (noted).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")
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
    """Student ids become folder names and database keys: a conservative character set."""
    return bool(_STUDENT_RE.match(name)) and ".." not in name


def discover(folder: Path, assignment: str, notebooks: list[str]
             ) -> tuple[list[Submission], list[Rejected]]:
    """All submissions in ``folder`` for ``assignment`` whose notebooks are ``notebooks``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    subs: dict[str, Submission] = {}
    rejected: list[Rejected] = []
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_symlink():
            rejected.append(Rejected(name, "symbolic links are not followed"))
            continue
        if entry.is_dir():
            student, sub = name, _from_dir(entry, assignment, notebooks)
        elif name.endswith(".zip"):
            student, sub = name[:-4], _from_zip(entry, notebooks)
        elif name.endswith(".ipynb"):
            stem = name[:-6]
            student, _, nb = stem.partition("__")
            sub = _from_loose(entry, nb, notebooks)
        else:
            rejected.append(Rejected(name, "not a folder, zip file or notebook"))
            continue
        if not valid_student_id(student):
            rejected.append(Rejected(name, f"'{student}' is not a valid student id"))
            continue
        if sub is None:
            rejected.append(Rejected(name, f"no folder {assignment}/ inside"))
            continue
        if student in subs:
            merged = subs[student]
            for nb, data in sub.notebooks.items():
                if data is not None and merged.notebooks.get(nb) is None:
                    merged.notebooks[nb] = data
            merged.notes.append(f"several entries for this student; also used {name}")
            continue
        sub.student, sub.origin = student, name
        subs[student] = sub
    return [subs[s] for s in sorted(subs)], rejected


def _read_limited(path: Path) -> bytes:
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return b"{\"too_large\": true}"
    return path.read_bytes()


def _assign(found: dict[str, bytes], notebooks: list[str], notes: list[str]
            ) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {nb: found.get(nb) for nb in notebooks}
    extra = sorted(set(found) - set(notebooks))
    if len(notebooks) == 1 and out[notebooks[0]] is None and len(extra) == 1:
        notes.append(f"the notebook was submitted as {extra[0]}.ipynb and graded as "
                     f"{notebooks[0]}.ipynb")
        out[notebooks[0]] = found[extra[0]]
    elif extra:
        notes.append(f"ignored notebooks that are not part of the assignment: {', '.join(extra)}")
    return out


def _from_dir(path: Path, assignment: str, notebooks: list[str]) -> Submission | None:
    inner = path / assignment
    if not inner.is_dir() or inner.is_symlink():
        return None
    notes: list[str] = []
    found = {p.stem: _read_limited(p) for p in sorted(inner.glob("*.ipynb"))
             if p.is_file() and not p.is_symlink()}
    sub = Submission("", _assign(found, notebooks, notes), notes)
    stamp = inner / "timestamp.txt"  # written by nbgrader collect/submit
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
        sub.timestamp = stamp.read_text(encoding="utf-8", errors="replace").strip() or None
    return sub


def _from_zip(path: Path, notebooks: list[str]) -> Submission:
    notes: list[str] = []
    found: dict[str, bytes] = {}
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
                if info.file_size > MAX_NOTEBOOK_BYTES:
                    notes.append(f"{base} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
                    found[base[:-6]] = b""
                    continue
                with zf.open(info) as fh:
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
                if base[:-6] in found:
                    notes.append(f"{base} appears more than once in the zip; the first is used")
                    continue
                found[base[:-6]] = data
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        notes.append(f"the zip file could not be read ({exc})")
    return Submission("", _assign(found, notebooks, notes), notes)


def _from_loose(path: Path, nb: str, notebooks: list[str]) -> Submission:
    notes: list[str] = []
    if nb:
        found = {nb: _read_limited(path)}
    elif len(notebooks) == 1:
        found = {notebooks[0]: _read_limited(path)}
    else:
        found = {}
        notes.append("a loose notebook must be named <student>__<notebook>.ipynb when the "
                     "assignment has several notebooks")
    return Submission("", _assign(found, notebooks, notes), notes)
