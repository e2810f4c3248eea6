"""Fixtures of the autograder tests: a released copy of the fixture course, fast limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import sandbox
from autograder.course import Course
from autograder.demo import copy_fixture
from autograder.release import release_assignment

FIXTURE = Path(__file__).parent / "fixtures" / "course"
ASSIGNMENT = "demo1"
FAST = sandbox.Limits(cell_timeout=5, submission_timeout=60, runner_timeout=15,
                      memory_bytes=2 * 1024**3)


def copy_course(dest: Path) -> Course:
    """A fresh copy of the fixture course under ``dest`` with demo1 released."""
    root = dest / "course"
    copy_fixture(root)
    course = Course.load(root)
    report = release_assignment(course, ASSIGNMENT)
    assert report.ok, report.leaks
    return course


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """A released fixture course shared by read-only tests (do not grade into it)."""
    return copy_course(tmp_path_factory.mktemp("released"))


@pytest.fixture
def fresh_course(tmp_path: Path) -> Course:
    """A released fixture course of one's own (for tests that grade)."""
    return copy_course(tmp_path)
