"""The record of one hand-written submission and the expectation the grader must meet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Submission:
    """One student's notebook, as the solution cells they changed, and what grading must give.

    ``cells``: solution grade id -> the source the student left there (cells not listed keep
    the release's ``raise NotImplementedError()``); ``extra``: code cells the student added
    after the grade id they follow. ``lose``: grade cell -> points it must lose (every other
    automatically graded cell keeps all its points). ``mistake``: the ``coursekit.diagnose``
    mistake id the feedback must name on every cell of ``lose`` (None: no catalogued mistake;
    an id missing from ``MISTAKES`` is one the catalogue should have). ``kind``: ``correct``,
    ``bug``, ``blank`` or ``partial``; ``category``: the issue 8 category a bug belongs to;
    ``cascade``: the bug sits in a function a later task builds on (the later task must not
    pay for it).
    """

    cells: dict[str, str]
    lose: dict[str, float] = field(default_factory=dict)
    mistake: str | None = None
    kind: str = "correct"
    category: str = ""
    cascade: bool = False
    extra: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""


def correct(cells: dict[str, str], note: str = "", extra: dict[str, list[str]] | None = None
            ) -> Submission:
    """A correct submission: nothing may be lost."""
    return Submission(cells=cells, note=note, extra=extra or {})


def bug(cells: dict[str, str], lose: dict[str, float], mistake: str | None, category: str,
        note: str = "", cascade: bool = False) -> Submission:
    """A submission with one realistic bug."""
    return Submission(cells=cells, lose=lose, mistake=mistake, kind="bug", category=category,
                      cascade=cascade, note=note)


def with_cell(base: dict[str, str], **changes: str) -> dict[str, str]:
    """``base`` with some solution cells replaced (a student's work with one cell changed)."""
    return {**base, **changes}
