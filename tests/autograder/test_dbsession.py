"""One database engine per grading run: gradebooks opened inside ``shared_engine`` share it,
each with its own session, and see what any other writer committed in between."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import dbsession
from autograder.dbsession import open_gradebook, shared_engine


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new gradebook with one assignment (made once: nbgrader runs alembic for a new one)."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", "course") as gb:
        gb.update_or_create_assignment("a1")
    return path


@pytest.fixture
def db_url(template: Path, tmp_path: Path) -> str:
    shutil.copyfile(template, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_outside_a_scope_every_open_is_nbgraders_own(db_url: str) -> None:
    with open_gradebook(db_url, "course") as one, open_gradebook(db_url, "course") as two:
        assert type(one) is Gradebook and one.engine is not two.engine


def test_inside_a_scope_opens_share_one_engine_with_their_own_sessions(db_url: str) -> None:
    with shared_engine(db_url):
        with open_gradebook(db_url, "course") as first:
            engine = first.engine
            first.add_student("s1")
        with open_gradebook(db_url, "course") as second, \
                open_gradebook(db_url, "course") as third:
            assert second.engine is engine and third.engine is engine
            assert second.db is not third.db
            assert [s.id for s in second.students] == ["s1"]
            assert [a.name for a in third.assignments] == ["a1"]
    assert dbsession._SHARED == {}


def test_a_write_by_another_process_is_seen_by_the_next_shared_open(db_url: str) -> None:
    with shared_engine(db_url):
        with open_gradebook(db_url, "course") as gb:
            assert gb.students == []
        with Gradebook(db_url, "course") as other:  # e.g. the formgrader, between two opens
            other.add_student("late_joiner")
        with open_gradebook(db_url, "course") as gb:
            assert [s.id for s in gb.students] == ["late_joiner"]


def test_nested_scopes_share_the_outer_engine_and_an_error_still_disposes(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    disposed: list[object] = []
    with pytest.raises(RuntimeError, match="boom"), shared_engine(db_url):
        with open_gradebook(db_url, "course") as gb:
            engine = gb.engine
        with shared_engine(db_url):
            with open_gradebook(db_url, "course") as inner:
                assert inner.engine is engine
        assert dbsession._SHARED[db_url] is engine  # the inner scope left it to the outer
        monkeypatch.setattr(engine, "dispose", lambda: disposed.append(engine))
        raise RuntimeError("boom")
    assert disposed == [engine] and dbsession._SHARED == {}
    with open_gradebook(db_url, "course") as after:
        assert after.engine is not engine
