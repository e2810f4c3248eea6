"""An interrupted run keeps every finished student; the next run grades only the rest."""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from autograder import demo, pipeline
from autograder.results import read_marker
from tests.autograder.conftest import ASSIGNMENT, FAST

pytestmark = pytest.mark.slow


class Stop(KeyboardInterrupt):
    pass


def test_interrupted_run_resumes_without_regrading(fresh_course, tmp_path):
    folder = tmp_path / "submitted"
    kinds = demo.build_class(fresh_course, ASSIGNMENT, folder, abusive=False)
    (folder / "correct" / ASSIGNMENT / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC")
    finished: list[str] = []

    def stop_after_three(n, total, student):
        finished.append(student)
        if n == 3:
            raise Stop

    with pytest.raises(Stop):
        pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder,
                                  pipeline.GradeOptions(workers=2, limits=FAST),
                                  progress=stop_after_three)
    markers = fresh_course.state_dir(ASSIGNMENT) / "done"
    # finished: graded, written and published; a student written whose pages were still out
    # keeps a marker without the logic's digest, so the next run grades them again
    complete = [p.stem for p in markers.glob("*.json") if read_marker(p).logic]
    assert sorted(complete) == sorted(finished)
    report = pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=2, limits=FAST))
    assert sorted(report.skipped) == sorted(finished)
    assert sorted(report.graded) == sorted(set(kinds) - set(finished))
    assert report.problems == []
    assert len(report.rows) == len(kinds)
    forced = pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=2, force=True, limits=FAST))
    assert sorted(forced.graded) == sorted(kinds) and forced.skipped == []
    assert [r.score for r in forced.rows] == [r.score for r in report.rows]
    assert {r.student: r.score for r in forced.rows}["correct"] == 5
    marker = read_marker(markers / "correct.json")
    assert marker is not None and marker.logic and marker.diagnosis == ""
    with Gradebook(fresh_course.db_url, fresh_course.course_id) as gb:
        stamp = gb.find_submission(ASSIGNMENT, "correct").timestamp
        assert (stamp.year, stamp.month, stamp.day, stamp.hour) == (2026, 11, 20, 10)
