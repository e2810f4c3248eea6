"""The class report in a real browser (Debian's chromium via Playwright): it renders, both
matplotlib figures load, no script runs and no request leaves the page, and every number on
the page equals the gradebook's.

The class is written through the coordinator's gradebook writer and formgrader's API (no
kernels), so the test is fast; the grading itself is covered by tests/autograder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import books, classreport, gradebook
from autograder.course import Course
from autograder.results import CellResult, Marker, MarkerCell, NotebookResult, StudentResult
from autograder.submissions import valid_student_id
from tests.autograder.conftest import copy_course
from tests.browser.lab_harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

ASSIGNMENT = "demo1"
CELLS = {"test_grad_public": 1.0, "test_grad_hidden": 3.0, "test_answer": 1.0, "explain": 2.0}
CLASS = {  # student: (auto scores, diagnosis of test_grad_hidden, timestamp, flags)
    "alice": ({"test_grad_public": 1, "test_grad_hidden": 3, "test_answer": 1}, "", "10:00", []),
    "bob": ({"test_grad_public": 1, "test_grad_hidden": 0, "test_answer": 1},
            "dW1 is the transpose of the expected", "10:00", []),
    "carol": ({"test_grad_public": 1, "test_grad_hidden": 0, "test_answer": 0},
              "dW1 is the transpose of the expected", "10:00", []),
    "dave": ({"test_grad_public": 1, "test_grad_hidden": 0, "test_answer": 1},
             "the tanh derivative is missing", "10:00", []),
    "erin": ({"test_grad_public": 1, "test_grad_hidden": 3, "test_answer": 1}, "",
             "2026-11-21 15:30:00", []),
    "mallory": ({"test_grad_public": 0, "test_grad_hidden": 0, "test_answer": 0}, "",
                "10:00", ["notebook and trusted results disagree <script>x()</script>"]),
    "<i>eve</i>": ({"test_grad_public": 1, "test_grad_hidden": 0, "test_answer": 0}, "",
                   "10:00", []),
}


def _populate(course: Course) -> None:
    with open(course.root / "nbgrader_config.py", "a") as fh:
        fh.write('c.LateSubmissionPlugin.penalty_method = "zero"\n')
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=datetime(2026, 11, 20, 12))
    done = course.state_dir(ASSIGNMENT) / "done"
    done.mkdir(parents=True, exist_ok=True)
    for student, (auto, diagnosis, stamp, flags) in CLASS.items():
        when = stamp if "-" in stamp else f"2026-11-20 {stamp}:00"
        cells = {gid: CellResult(points, float(auto[gid]) if gid in auto else None,
                                 review="; ".join(flags)) for gid, points in CELLS.items()}
        result = StudentResult(student, {"backprop": NotebookResult(cells, flagged=bool(flags))})
        gradebook.write_result(course.db_url, course.course_id, ASSIGNMENT, result,
                               when + " UTC")
        marker = Marker("", "", {"test_grad_hidden": MarkerCell(diagnosis=diagnosis)},
                        diagnosis, tuple(flags))
        if valid_student_id(student):  # the gradebook accepts any id; markers only valid ones
            (done / f"{student}.json").write_text(marker.to_json())
    with Gradebook(course.db_url, course.course_id) as gb:  # formgrader, for two students
        for student, score in (("alice", 2.0), ("bob", 1.0)):
            g = gb.find_grade("explain", "backprop", ASSIGNMENT, student)
            g.manual_score, g.needs_manual_grade = score, False
        gb.db.commit()
    books.apply_late_penalties(course, ASSIGNMENT)


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_class_report_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `./dev test` (installs Debian's chromium)")
    course = copy_course(tmp_path)
    # "<i>eve</i>" is not a valid student id for discovery, but the gradebook accepts any id,
    # so the page must escape it
    _populate(course)
    path, rows, stats = classreport.write_report(course, ASSIGNMENT)
    truth = {b.student: b for b in books.read_class(course, ASSIGNMENT)}
    assert truth["erin"].late_penalty == 5 and truth["erin"].total == 0
    requests, console = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 2000}).new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: console.append(m.text))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            for img in ("#histogram", "#passrate"):
                width = page.eval_on_selector(img, "e => e.complete ? e.naturalWidth : 0")
                assert width > 200, img
            shown = {el.get_attribute("data-student"): float(el.inner_text())
                     for el in page.query_selector_all("span.total")}
            assert shown == {s: pytest.approx(b.total) for s, b in truth.items()}
            rates = {el.get_attribute("data-task"): el.inner_text()
                     for el in page.query_selector_all("span.rate")}
            for gid in CELLS:
                cells = [b.cells[gid] for b in truth.values()]
                graded = [c for c in cells if c.manual_score is not None
                          or c.auto_score is not None]
                full = sum(c.score >= c.max_score for c in graded)
                assert rates[gid] == f"{100 * full / len(graded):.0f}%", gid
            mistakes = [(r.query_selector("td:nth-child(2)").inner_text(),
                         r.query_selector("span.count").inner_text())
                        for r in page.query_selector_all("table.mistakes tbody tr")]
            assert mistakes == [("dW1 is the transpose of the expected", "2"),
                                ("the tanh derivative is missing", "1")]
            late = page.inner_text("table.late")
            assert "erin" in late and "late (+27.5 h, −5)" in late
            flagged = page.inner_text("table.flagged")
            assert "mallory" in flagged and "<script>x()</script>" in flagged
            assert "<i>eve</i>" in page.inner_text("table.students")
            assert page.query_selector_all("script") == []
            assert page.evaluate("typeof x") == "undefined"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "class_report.png"), full_page=True)
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert len(rows) == len(CLASS) and len(stats) == len(CELLS)
    assert Path(path).read_text().count("<img") == 2
