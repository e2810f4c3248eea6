"""Grading through a real Dask scheduler and workers on loopback; the gradebook stays
single-writer (the coordinator)."""

from __future__ import annotations

import pytest

from autograder import demo, pipeline
from tests.autograder.conftest import ASSIGNMENT, FAST

pytestmark = pytest.mark.slow


def test_grade_through_dask_scheduler(fresh_course, tmp_path):
    """Also: a gradebook at another SQLAlchemy URL (nbgrader's db_url)."""
    from distributed import LocalCluster

    from autograder.course import Course
    from autograder.release import release_assignment

    url = f"sqlite:///{tmp_path / 'elsewhere' / 'grades.sqlite'}"
    (tmp_path / "elsewhere").mkdir()
    fresh_course = Course(fresh_course.root, fresh_course.course_id, url)
    assert release_assignment(fresh_course, ASSIGNMENT).ok

    folder = tmp_path / "submitted"
    kinds = demo.build_class(fresh_course, ASSIGNMENT, folder, abusive=False)
    subset = {"correct", "blank", "mistake_transposed_dW1"}
    for student in set(kinds) - subset:
        for p in sorted((folder / student).rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        (folder / student).rmdir()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        report = pipeline.grade_assignment(
            fresh_course, ASSIGNMENT, folder,
            pipeline.GradeOptions(scheduler=cluster.scheduler_address, limits=FAST))
    scores = {r.student: r.score for r in report.rows}
    assert scores == {"correct": 5, "blank": 0, "mistake_transposed_dW1": 1}
    assert report.problems == []
    from nbgrader.api import Gradebook

    with Gradebook(url, fresh_course.course_id) as gb:
        assert gb.find_submission(ASSIGNMENT, "correct").score == 5
