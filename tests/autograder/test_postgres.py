"""Grading into a real PostgreSQL gradebook (nbgrader's db_url), started on loopback here."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder import demo, pipeline
from autograder.course import Course
from autograder.demo import copy_fixture
from autograder.release import release_assignment
from tests.autograder.conftest import ASSIGNMENT, FAST

pytestmark = pytest.mark.slow


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1 with an empty database; stopped afterwards.

    Its folder is outside pytest's (root-only) temporary tree so that the postgres user can
    reach it."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are missing (./dev test installs them as root)")
    base = Path(tempfile.mkdtemp(prefix="bpc-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        base.chmod(0o700)
    port = _free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {sock}"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                 "-l", str(base / "log"), "-w", "-t", "60", "start"]),
                   check=True, capture_output=True)
    try:
        for _ in range(100):
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p",
                                    str(port)], capture_output=True)
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        "postgres", "gradebook"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                     "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_grade_into_a_postgresql_gradebook(postgres_url: str, tmp_path: Path) -> None:
    root = tmp_path / "course"
    copy_fixture(root)
    course = Course(root, Course.load(root).course_id, postgres_url)
    assert release_assignment(course, ASSIGNMENT).ok

    folder = tmp_path / "submitted"
    kinds = demo.build_class(course, ASSIGNMENT, folder, abusive=False)
    keep = {"correct", "blank", "mistake_transposed_dW1"}
    for student in set(kinds) - keep:
        shutil.rmtree(folder / student)
    report = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=2, limits=FAST))
    assert report.problems == []
    assert {r.student: r.score for r in report.rows} == {
        "correct": 5, "blank": 0, "mistake_transposed_dW1": 1,
    }

    from nbgrader.api import Gradebook

    with Gradebook(postgres_url, course.course_id) as gb:
        assert gb.find_submission(ASSIGNMENT, "correct").score == 5
        assert gb.find_submission(ASSIGNMENT, "blank").score == 0
        assert {s.id for s in gb.students} >= keep
    assert not (root / "gradebook.db").exists(), "nothing may be written to the default SQLite"
