"""Read a submitted notebook robustly and restore it with nbgrader's sanitizing preprocessors.

A submitted file is rebuilt cell by cell (type, source, nbgrader metadata only), so invalid or
hand-edited notebooks do not stop grading. Cells are then normalised against the assignment's
stored cells (plain data from :func:`autograder.gradebook.load_stored`, never the database):

- nbgrader metadata with a grade id the assignment does not know (a renamed cell) is removed;
- the metadata of known cells is replaced by the stored flags and points (edited metadata);
- grade and task cells that are missing are put back from the stored source;

and nbgrader's ``ClearOutput``, ``DeduplicateIds`` (keeps the last copy), ``OverwriteCells``
(restores types, locked sources and hidden tests) and ``CheckCellMetadata`` run on top, reading
the stored cells instead of a gradebook. Every change is reported as a note.

The work is bounded by the size caps below and, in :func:`read_submission`, by a forked child
limited to ``READ_SECONDS`` and ``READ_MEMORY_BYTES`` (:mod:`autograder.bounded`): a submission
past them gets a reason, never a stuck or swollen worker.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells
from nbgrader.preprocessors.base import NbGraderPreprocessor

from autograder import bounded

MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_CELLS = 3000
MAX_ATTACHMENT_BYTES = 8 * 1024**2
READ_SECONDS = 60.0
READ_MEMORY_BYTES = 2 * 1024**3
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_ATTACHMENT_REF = re.compile(r"attachment:([^\s)\"'>]+)")
_BLANK_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M/AAAAFAAH+Av4N2KUKAAAA"
              "AElFTkSuQmCC")
"""A 1 x 1 transparent PNG (base64) standing in for an attachment that was not kept."""


class SubmissionError(ValueError):
    """A submitted notebook that cannot be read at all (the reason is shown to the student)."""


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """Rebuild a notebook from raw bytes, keeping only cell types, sources and nbgrader metadata."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    if not data.strip():
        raise SubmissionError("the notebook file is empty")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(f"the notebook is not valid JSON ({exc})") from None
    except RecursionError:
        raise SubmissionError("the notebook's JSON is nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", []), list):
        raise SubmissionError("the file is not a Jupyter notebook (no list of cells)")
    if len(raw.get("cells", [])) > MAX_CELLS:
        raise SubmissionError(f"the notebook has more than {MAX_CELLS} cells")
    cells = []
    budget = [MAX_ATTACHMENT_BYTES]
    for item in raw.get("cells", []):
        if not isinstance(item, dict):
            continue
        src = item.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            src = ""
        ctype = item.get("cell_type")
        maker = {"code": new_code_cell, "markdown": new_markdown_cell}.get(ctype, new_raw_cell)
        cell = maker(source=src)
        meta = item.get("metadata", {})
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(nbg, dict) and isinstance(nbg.get("grade_id"), str):
            cell.metadata["nbgrader"] = dict(nbg)
        if ctype == "markdown":
            attachments = _attachments(item.get("attachments"), budget)
            for name in _ATTACHMENT_REF.findall(src):
                # an image dropped (budget, type) or never attached: a blank one in its place,
                # so the cell still renders
                attachments.setdefault(name[:200], {"image/png": _BLANK_PNG})
            if attachments:
                cell["attachments"] = attachments
        cells.append(cell)
    out = new_notebook(cells=cells)
    meta = raw.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("kernelspec"), dict):
        name = meta["kernelspec"].get("name")
        if isinstance(name, str):
            out.metadata["kernelspec"] = {"name": name[:100]}
    return out


def _attachments(raw: Any, budget: list[int]) -> dict[str, dict[str, str]]:
    """The image attachments of a markdown cell (raster images only, within a size budget)."""
    out: dict[str, dict[str, str]] = {}
    if not isinstance(raw, dict):
        return out
    for name, bundle in raw.items():
        if not (isinstance(name, str) and 0 < len(name) <= 200 and isinstance(bundle, dict)):
            continue
        for mime in _IMAGE_TYPES:
            data = bundle.get(mime)
            if isinstance(data, list):
                data = "".join(d for d in data if isinstance(d, str))
            if isinstance(data, str) and len(data) <= budget[0]:
                budget[0] -= len(data)
                out[name] = {mime: data}
                break
    return out


def _canonical_meta(name: str, stored: dict[str, Any]) -> dict[str, Any]:
    src = stored["source"][name]
    meta: dict[str, Any] = {"schema_version": 3, "grade_id": name,
                            "grade": name in stored["grade"],
                            "solution": name in stored["solution"],
                            "locked": bool(src["locked"]), "cell_type": src["cell_type"]}
    if name in stored["grade"]:
        meta["points"] = stored["grade"][name]["max_score"]
    if name in stored["task"]:
        meta["task"] = True
        meta["points"] = stored["task"][name]
    return meta


def _restored_cell(name: str, stored: dict[str, Any]) -> nbformat.NotebookNode:
    src = stored["source"][name]
    maker = new_code_cell if src["cell_type"] == "code" else new_markdown_cell
    cell = maker(source=src["source"])
    cell.metadata["nbgrader"] = _canonical_meta(name, stored)
    return cell


def normalise(nb: nbformat.NotebookNode, stored: dict[str, Any]) -> list[str]:
    """Apply the stored metadata; remove unknown grade ids; restore missing grade/task cells."""
    notes: list[str] = []
    known = set(stored["source"])
    seen: dict[str, int] = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        gid = meta.get("grade_id")
        if gid not in known:
            notes.append(f"cell '{gid}' is not part of the assignment (renamed?); "
                         "it was treated as an ordinary cell")
            del cell.metadata["nbgrader"]
            continue
        seen[gid] = seen.get(gid, 0) + 1
        canonical = _canonical_meta(gid, stored)
        changed = any(meta.get(k) != v for k, v in canonical.items() if k != "cell_type")
        if changed:
            notes.append(f"the nbgrader metadata of cell '{gid}' was changed and was restored")
        checksum = meta.get("checksum")
        cell.metadata["nbgrader"] = dict(canonical)
        if checksum is not None:
            cell.metadata["nbgrader"]["checksum"] = checksum
    for gid, count in seen.items():
        if count > 1:
            notes.append(f"cell '{gid}' appears {count} times; only the last copy is graded")
    required = [n for n in stored["order"] if n in stored["grade"] or n in stored["task"]]
    for name in required:
        if name in seen:
            continue
        notes.append(f"cell '{name}' was missing and was put back")
        _insert_in_order(nb, _restored_cell(name, stored), name, stored["order"])
        seen[name] = 1
    return notes


def _insert_in_order(nb: nbformat.NotebookNode, cell: Any, name: str, order: list[str]) -> None:
    earlier = order[: order.index(name)]
    pos = 0
    for idx, other in enumerate(nb.cells):
        gid = other.metadata.get("nbgrader", {}).get("grade_id")
        if gid in earlier:
            pos = idx + 1
    nb.cells.insert(pos, cell)


class _StoredCells:
    """Read-only stand-in for the gradebook queries ``OverwriteCells`` makes."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored = stored

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        if name not in self.stored["source"]:
            raise MissingEntry()
        return SimpleNamespace(name=name, **self.stored["source"][name])

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        if name in self.stored["grade"]:
            return SimpleNamespace(max_score=self.stored["grade"][name]["max_score"])
        if name in self.stored["task"]:
            return SimpleNamespace(max_score=self.stored["task"][name])
        raise MissingEntry()


class StoredOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` reading the stored cells from plain data."""

    def __init__(self, stored: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self._stored = stored

    def preprocess(self, nb: Any, resources: Any) -> Any:
        """Restore types, locked sources, points and checksums of every known cell."""
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = _StoredCells(self._stored)
        return NbGraderPreprocessor.preprocess(self, nb, resources)


def sanitize(nb: nbformat.NotebookNode, stored: dict[str, Any], notebook: str,
             assignment: str) -> list[str]:
    """Normalise and run nbgrader's sanitizing preprocessors in place; return notes."""
    notes = normalise(nb, stored)
    if stored.get("kernelspec"):
        nb.metadata["kernelspec"] = json.loads(stored["kernelspec"])
    resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "db_url": ""}}
    for pp in (ClearOutput(), DeduplicateIds(), StoredOverwriteCells(stored)):
        nb, resources = pp.preprocess(nb, resources)
        for cell in nb.cells:
            if "nbgrader" in cell.metadata and not cell.metadata["nbgrader"]:
                del cell.metadata["nbgrader"]
    try:
        CheckCellMetadata().preprocess(nb, resources)
    except Exception as exc:
        notes.append(f"cell metadata check: {exc}")
    return notes


def _read(data: bytes, stored: dict[str, Any], notebook: str,
          assignment: str) -> tuple[nbformat.NotebookNode, list[str], str | None]:
    nb = parse_notebook(data)
    submitted = nb.metadata.get("kernelspec", {}).get("name")
    return nb, sanitize(nb, stored, notebook, assignment), submitted


def read_submission(data: bytes, stored: dict[str, Any], notebook: str, assignment: str,
                    seconds: float = READ_SECONDS, memory_bytes: int = READ_MEMORY_BYTES,
                    ) -> tuple[nbformat.NotebookNode, list[str], str | None]:
    """:func:`parse_notebook` then :func:`sanitize`, in a bounded child: (notebook, notes, the
    kernel name the submission asked for). Raises :class:`SubmissionError` with the reason."""
    try:
        return bounded.call(_read, data, stored, notebook, assignment, seconds=seconds,
                            memory_bytes=memory_bytes)
    except bounded.StepLimitError as exc:
        text = str(exc)
        if text.startswith("SubmissionError: "):
            raise SubmissionError(text[len("SubmissionError: "):]) from None
        raise SubmissionError(f"the notebook could not be read within the grader's limits "
                              f"({seconds:.0f} s, {memory_bytes >> 20} MB): {text}") from None
