"""What grading a submission produces: cell, notebook and student results, and the resume marker.

The worker (:mod:`autograder.worker`) returns one :class:`StudentResult` per student; it crosses
the process boundary by pickling (local pool or Dask) and the coordinator hands it to the
gradebook writer and the autograded notebooks. Totals are not part of a result: every total
shown, exported or rendered is read back from nbgrader's gradebook (:mod:`autograder.books`).

What outlives the run is the per-student :class:`Marker`, a JSON file written by the
coordinator (``<state>/done/<student>.json``): it tells the next run whether the student can be
skipped, and gives the class table, the CSV, the report and the feedback pages the grader's
diagnosis, summaries, flags and notes. It is written and read only through
:meth:`Marker.to_json` and :meth:`Marker.from_json`. Markers of the first, unversioned format
are read (the fields they share); one that cannot be read (a damaged file, an unknown version) is
treated as absent, so the student is regraded and nothing is shown from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CellResult:
    """The grader's result for one grade cell."""

    max_score: float
    """The cell's points."""
    score: float | None
    """What counts (stored as nbgrader's ``auto_score``): the lower of the notebook's own test
    and the trusted check; None when the cell waits for manual grading. (In the results the
    feedback pages are made from, :func:`autograder.publish.publish_feedback`, the gradebook's
    score: manual if given, else auto, plus extra credit.)"""
    summary: str = ""
    """One line on the result, shown to the student (feedback) and in the table."""
    diagnosis: str = ""
    """The mistake named by the diagnosis (or why the cell scored nothing); "" when none."""
    review: str = ""
    """Why the notebook's test and the trusted check disagree, for the instructor; "" when
    they agree."""

    @property
    def flagged(self) -> bool:
        """The two results disagree: the cell needs the instructor's review in formgrader."""
        return bool(self.review)


@dataclass(frozen=True)
class NotebookResult:
    """The grader's result for one notebook of a submission."""

    cells: dict[str, CellResult]
    """grade_id -> result of every grade cell, in notebook order."""
    comments: dict[str, str | None] = field(default_factory=dict)
    """grade_id -> the grader's comment on a solution or task cell (``"No response."`` for an
    unchanged answer cell, else None)."""
    flagged: bool = False
    """The notebook is flagged for review in formgrader."""
    notes: tuple[str, ...] = ()
    """Notes from the grader about this notebook, for the student and the instructor."""
    graded_nb: str | None = None
    """The executed notebook (nbformat JSON) for ``autograded/``; None when it could not be
    read."""


@dataclass(frozen=True)
class StudentResult:
    """The grader's result for one student's submission of an assignment."""

    student: str
    notebooks: dict[str, NotebookResult]
    """notebook name -> result, for every notebook of the assignment."""
    notes: tuple[str, ...] = ()
    """Notes on the submission as a whole (how it was found, what was ignored)."""
    flags: tuple[str, ...] = ()
    """Why the submission needs the instructor's review (empty when it does not)."""
    stages: dict[str, float] = field(default_factory=dict)
    """Wall seconds per grading stage in the worker (:mod:`autograder.stages`)."""

    def all_notes(self) -> list[str]:
        """The submission's notes, then every notebook's."""
        notes = list(self.notes)
        for nb in self.notebooks.values():
            notes += nb.notes
        return notes

    def diagnosis(self) -> str:
        """``grade_id: diagnosis`` of the first cell that lost points with a diagnosis, else
        ""."""
        for nb in self.notebooks.values():
            for gid, c in nb.cells.items():
                if c.diagnosis and c.score is not None and c.score != c.max_score:
                    return f"{gid}: {c.diagnosis}"
        return ""


@dataclass(frozen=True)
class MarkerCell:
    """What the marker keeps of one grade cell."""

    summary: str = ""
    """:attr:`CellResult.summary`."""
    diagnosis: str = ""
    """:attr:`CellResult.diagnosis`."""


MARKER_VERSION = 2
"""Version 1 (unversioned) also held totals, per-cell scores and the grading time, which
nothing read; it is still read (its extra fields ignored)."""


@dataclass(frozen=True)
class Marker:
    """The per-student resume marker: how the student was graded and what the grader said."""

    digest: str
    """The submission's digest (:meth:`autograder.submissions.Submission.digest`)."""
    logic: str
    """The grading logic's digest (:func:`autograder.pipeline.logic_digest`); "" while the
    student's outputs are being written, so that an interrupted run regrades the student."""
    cells: dict[str, MarkerCell] = field(default_factory=dict)
    """grade_id -> summary and diagnosis."""
    diagnosis: str = ""
    """:meth:`StudentResult.diagnosis`."""
    flags: tuple[str, ...] = ()
    """:attr:`StudentResult.flags`."""
    notes: tuple[str, ...] = ()
    """:meth:`StudentResult.all_notes`."""

    @classmethod
    def of(cls, result: StudentResult, digest: str, logic: str) -> Marker:
        """The marker of ``result``, graded from a submission with ``digest``."""
        cells = {gid: MarkerCell(c.summary, c.diagnosis)
                 for nb in result.notebooks.values() for gid, c in nb.cells.items()}
        return cls(digest, logic, cells, result.diagnosis(), result.flags,
                   tuple(result.all_notes()))

    def to_json(self) -> str:
        """The marker file's text (plain JSON with a ``version``)."""
        return json.dumps({
            "version": MARKER_VERSION, "digest": self.digest, "logic": self.logic,
            "cells": {gid: {"summary": c.summary, "diagnosis": c.diagnosis}
                      for gid, c in self.cells.items()},
            "diagnosis": self.diagnosis, "flags": list(self.flags), "notes": list(self.notes)})

    @classmethod
    def from_json(cls, text: str) -> Marker | None:
        """The marker in ``text`` (this version or version 1); None when it is not one."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version", 1) not in (1, MARKER_VERSION):
            return None
        cells = data.get("cells", {})
        if not isinstance(cells, dict) or not all(isinstance(c, dict) for c in cells.values()):
            return None
        try:
            return cls(_text(data.get("digest")), _text(data.get("logic")),
                       {str(gid): MarkerCell(_text(c.get("summary")), _text(c.get("diagnosis")))
                        for gid, c in cells.items()},
                       _text(data.get("diagnosis")), _texts(data.get("flags")),
                       _texts(data.get("notes")))
        except TypeError:
            return None


@dataclass(frozen=True)
class RowCell:
    """One grade cell in a row of the class table: the gradebook's score, the grader's words."""

    max_score: float
    """The cell's points."""
    score: float | None
    """The gradebook's score (manual if given, else auto, plus extra credit); None while the
    cell waits for its first manual grade."""
    needs_manual: bool = False
    """The cell waits for a (re)view in formgrader."""
    diagnosis: str = ""
    """The grader's diagnosis (:attr:`MarkerCell.diagnosis`); "" once the cell is graded by
    hand."""
    summary: str = ""
    """:attr:`MarkerCell.summary`."""


@dataclass(frozen=True)
class ClassRow:
    """One student of the gradebook as the table, the CSV and the class report show them: the
    numbers are the gradebook's (:class:`autograder.books.StudentBook`), the words the grader's
    (the student's :class:`Marker`)."""

    student: str
    raw_score: float
    """Auto + manual + extra credit, nbgrader's per-cell rule, before the late penalty."""
    late_penalty: float
    """nbgrader's late penalty."""
    max_score: float
    """The assignment's points."""
    manual: float
    """Points given by hand."""
    extra_credit: float
    """Extra credit over all cells."""
    late: str
    """``late (+N h, −P)`` when submitted after the due date, else ""."""
    cells: dict[str, RowCell]
    """grade_id -> the cell, for every grade cell of the submission."""
    diagnosis: str = ""
    """:attr:`Marker.diagnosis`."""
    flags: tuple[str, ...] = ()
    """The grader's flags; ``flagged for review`` alone when only formgrader's flag is set."""
    notes: tuple[str, ...] = ()
    """:attr:`Marker.notes`."""

    @property
    def score(self) -> float:
        """The total: ``raw_score − late_penalty``, at least 0 (``nbgrader export``'s score)."""
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def needs_manual(self) -> bool:
        """Some cell waits for a (re)view in formgrader."""
        return any(c.needs_manual for c in self.cells.values())


NO_MARKER = Marker(digest="", logic="")
"""What a student without a readable marker shows: no summary, diagnosis, flag or note."""


def read_marker(path: Path) -> Marker | None:
    """The marker file at ``path``; None when there is none or it cannot be read."""
    try:
        return Marker.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError("not a list")
    return tuple(_text(v) for v in value)
