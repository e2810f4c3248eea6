"""Opening nbgrader's gradebook, with one database engine for a whole grading run.

``nbgrader.api.Gradebook(url)`` builds a new SQLAlchemy engine each time: it inspects the
schema, runs ``create_all`` and, since SQLAlchemy caches compiled statements per engine,
compiles every query again. The coordinator opens the gradebook several times per student
(write the result, late penalties, read the class for the feedback page), which made about
half of its time per student. Inside :func:`shared_engine`, :func:`open_gradebook` opens the
first gradebook as nbgrader does and every later one on the same engine: same tables, same
nbgrader API, each with its own session, so nothing is held between two opens but pooled
connections. Outside it, :func:`open_gradebook` is nbgrader's ``Gradebook``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nbgrader.api import Gradebook
from sqlalchemy.orm import scoped_session, sessionmaker

_SHARED: dict[str, Any] = {}
"""db_url -> the engine of the first gradebook opened on it in the active scope (or None)."""


class _OnEngine(Gradebook):
    """nbgrader's gradebook on an engine whose tables another gradebook already checked."""

    def __init__(self, engine: Any, course_id: str) -> None:
        self.engine = engine
        self.db = scoped_session(sessionmaker(autoflush=True, bind=engine, future=True))
        self.check_course(course_id=course_id)
        self.course_id = course_id
        self.authenticator = None

    def close(self) -> None:
        """End this gradebook's session; the shared engine stays for the next open."""
        self.db.remove()


def open_gradebook(db_url: str, course_id: str) -> Gradebook:
    """nbgrader's gradebook of ``course_id`` at ``db_url`` (a context manager, as nbgrader's)."""
    if db_url not in _SHARED:
        return Gradebook(db_url, course_id)
    engine = _SHARED[db_url]
    if engine is None:
        gb = Gradebook(db_url, course_id)
        _SHARED[db_url] = gb.engine
        return gb
    return _OnEngine(engine, course_id)


@contextmanager
def shared_engine(db_url: str) -> Iterator[None]:
    """Within this block, gradebooks opened on ``db_url`` share one engine (disposed at the
    end, also on an error). Nested blocks on the same URL share the outer one's."""
    if db_url in _SHARED:
        yield
        return
    _SHARED[db_url] = None
    try:
        yield
    finally:
        engine = _SHARED.pop(db_url)
        if engine is not None:
            engine.dispose()
