"""A grading run renders its feedback pages on its workers: the pages are the ones the
gradebook gives (``backprop-course feedback`` renders the same bytes), a page that fails to
render is reported and never costs the grade, and a student's resume marker is completed only
once every page of theirs is written."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import nbformat
import pytest

from autograder import bounded, demo, pipeline, publish
from autograder.feedback import Page
from autograder.results import Marker, read_marker
from tests.autograder.conftest import ASSIGNMENT, FAST


@pytest.mark.slow
def test_pages_rendered_on_the_workers_are_the_gradebooks_own(fresh_course, tmp_path):
    folder = tmp_path / "submitted"
    kinds = demo.build_class(fresh_course, ASSIGNMENT, folder, abusive=False)
    report = pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=2, limits=FAST))
    assert report.problems == [] and sorted(report.graded) == sorted(kinds)
    pages = {s: (fresh_course.feedback_dir(s, ASSIGNMENT) / "backprop.html").read_bytes()
             for s in kinds}
    markers = fresh_course.state_dir(ASSIGNMENT) / "done"
    assert all(read_marker(markers / f"{s}.json").logic for s in kinds)
    serial = publish.publish_feedback(fresh_course, ASSIGNMENT)  # in this process, one by one
    assert serial.refused == [] and len(serial.written) == len(kinds)
    for student, page in pages.items():
        again = (fresh_course.feedback_dir(student, ASSIGNMENT) / "backprop.html").read_bytes()
        assert again == page, student
    # nothing left to grade: no worker starts and no cluster is contacted
    rerun = pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder, pipeline.GradeOptions(
        workers=2, limits=FAST, scheduler="tcp://127.0.0.1:9"))
    assert sorted(rerun.skipped) == sorted(kinds) and rerun.graded == []


class _Pool:
    """Futures settled by the test, in the order it chooses."""

    def __init__(self) -> None:
        self.futures: list[Future] = []

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        self.futures.append(fut)
        return fut


def _pages_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]):
    monkeypatch.setattr(publish, "instructor_text_notebooks",
                        lambda course, assignment, stored: {"nb1": ("k", {}), "nb2": ("k", {})})

    def pages(course, assignment, stored, students, report, texts):
        for student in students:
            for nb in names[student]:
                yield Page(student, nb, tmp_path / student / f"{nb}.html",
                           nbformat.from_dict({"cells": [{"source": f"summary of {student}"}]}),
                           1.0, 2.0, "k")

    monkeypatch.setattr(publish, "pages", pages)
    markers = tmp_path / "done"
    markers.mkdir()
    finished: list[str] = []
    run = pipeline._Pages(None, ASSIGNMENT, {}, "logic-1", markers, {}, finished.append)
    return run, markers, finished


def test_a_marker_is_completed_only_when_every_page_of_the_student_is_written(
        tmp_path, monkeypatch):
    run, markers, finished = _pages_of(tmp_path, monkeypatch,
                                       {"ann": ["nb1", "nb2"], "bo": []})
    pool = _Pool()
    run.submit(pool, "ann", Marker(digest="d-ann", logic=""))
    run.submit(pool, "bo", Marker(digest="d-bo", logic=""))  # no page: complete at once
    assert read_marker(markers / "bo.json").logic == "logic-1" and finished == ["bo"]
    first, second = pool.futures
    first.set_result(("<p>one</p>", 0.01))
    run.collect(wait=False)
    assert (tmp_path / "ann" / "nb1.html").read_text() == "<p>one</p>"
    assert not (markers / "ann.json").exists() and finished == ["bo"]  # one page is still out
    second.set_result(("<p>two</p>", 0.02))
    run.collect(wait=True)
    assert read_marker(markers / "ann.json").logic == "logic-1" and finished == ["bo", "ann"]
    assert run.report.refused == [] and len(run.report.written) == 2
    assert run.clock[pipeline.stages.RENDERING] == pytest.approx(0.03)


def test_a_page_that_fails_on_its_worker_is_reported_and_the_rest_are_written(
        tmp_path, monkeypatch):
    run, markers, finished = _pages_of(tmp_path, monkeypatch, {"cy": ["nb1", "nb2"]})
    pool = _Pool()
    run.submit(pool, "cy", Marker(digest="d-cy", logic=""))
    limited, crashed = pool.futures
    limited.set_exception(bounded.StepLimitError("the step ran past its time limit of 60 s"))
    crashed.set_exception(RuntimeError("the worker died"))
    run.collect(wait=True)
    plain = (tmp_path / "cy" / "nb1.html").read_text()
    assert "summary of cy" in plain and not (tmp_path / "cy" / "nb2.html").exists()
    assert [r.split(":")[0] for r in run.report.refused] == ["cy/nb1", "cy/nb2"]
    assert "plain page was written" in run.report.refused[0]
    assert "RuntimeError: the worker died" in run.report.refused[1]
    assert read_marker(markers / "cy.json").logic == "logic-1" and finished == ["cy"]
