"""Is the gradebook there and readable? One-line answers with the fix, never a new empty one.

nbgrader's ``Gradebook(url)`` silently creates an empty database when the file is missing (or
zero bytes), which after a lost file leads to re-grading into an empty book and losing every
manual grade. Every command that reads or grades calls :func:`check_gradebook` first; only
``release`` (nbgrader's ``generate_assignment``) may create a gradebook.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autograder.course import Course, GradebookError, mask_text, mask_url

RESTORE = ("restore it from your backup (copy the backed-up gradebook.db back, or pg_restore), "
           "or for a new course run `backprop-course release` first")


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for other databases or in-memory)."""
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url[len("sqlite:///"):])
    return None


def check_gradebook(course: Course) -> None:
    """Raise :class:`GradebookError` (one line, with the fix) unless the gradebook exists,
    is reachable and holds nbgrader's tables."""
    path = sqlite_path(course.db_url)
    if path is not None:
        _check_sqlite(path)
    else:
        _check_server(course.db_url)


def _check_sqlite(path: Path) -> None:
    if not path.exists():
        raise GradebookError(f"the gradebook {path} is missing; this command never creates one "
                             f"(that would lose every manual grade): {RESTORE}")
    if path.stat().st_size == 0:
        raise GradebookError(f"the gradebook {path} is empty (0 bytes); this command never "
                             f"creates one (that would lose every manual grade): {RESTORE}")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            con.execute("SELECT count(*) FROM assignment").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise GradebookError(f"the gradebook {path} is not a readable nbgrader database "
                             f"({exc}); {RESTORE}") from None


def _check_server(db_url: str) -> None:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            has = inspect(conn).has_table("assignment")
    except SQLAlchemyError as exc:
        raise db_error(exc, db_url) from None
    finally:
        engine.dispose()
    if not has:
        raise GradebookError(f"the database {mask_url(db_url)} holds no nbgrader gradebook; "
                             f"this command never creates one: {RESTORE}")


def db_error(exc: BaseException, db_url: str) -> GradebookError:
    """A one-line :class:`GradebookError` for a database failure (password masked)."""
    orig = getattr(exc, "orig", None) or exc
    first = next((ln.strip() for ln in str(orig).splitlines() if ln.strip()), type(exc).__name__)
    reason = mask_text(first, db_url)
    if sqlite_path(db_url) is not None:
        return GradebookError(f"the gradebook {sqlite_path(db_url)} failed ({reason}); "
                              f"{RESTORE}")
    return GradebookError(f"cannot use the gradebook at {mask_url(db_url)} ({reason}); start "
                          "the database server or fix --db-url, then run the same command again")
