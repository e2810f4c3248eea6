"""The whole adversarial corpus graded in one batch through the real pipeline."""

from __future__ import annotations

import ast
import csv
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import demo, gradebook, pipeline
from autograder.feedback import hidden_lines, strip_hidden
from autograder.results import read_marker
from tests.autograder.conftest import ASSIGNMENT, FAST, copy_course
from tests.autograder.corpus import EXPECTED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("corpus")
    course = copy_course(base)
    folder = base / "submitted"
    kinds = demo.build_class(course, ASSIGNMENT, folder)
    # a bystander graded earlier for another assignment must be untouched
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_student("bystander")
    seen: list[tuple[int, int, str]] = []
    report = pipeline.grade_assignment(
        course, ASSIGNMENT, folder, pipeline.GradeOptions(workers=2, limits=FAST),
        progress=lambda n, t, s: seen.append((n, t, s)))
    return course, folder, kinds, report, seen


def test_every_kind_is_catalogued(graded):
    _, _, kinds, _, _ = graded
    assert set(kinds.values()) == set(EXPECTED)


def test_nothing_lost_and_progress_reported(graded):
    _, _, kinds, report, seen = graded
    assert sorted(r.student for r in report.rows) == sorted(kinds)
    assert sorted(report.graded) == sorted(kinds)
    assert [n for n, _, _ in seen] == list(range(1, len(kinds) + 1))
    assert report.rejected == []


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_expected_score_reason_and_flag(graded, kind):
    rows = {r.student: r for r in graded[3].rows}
    row = rows[kind]
    exp = EXPECTED[kind]
    auto = sum(c.score for g, c in row.cells.items() if g != "explain")
    assert auto == pytest.approx(exp.score), (row.diagnosis, row.notes)
    text = " ".join([row.diagnosis, *row.notes])
    if exp.reason:
        assert exp.reason in text
    assert bool(row.flags) == exp.flag, row.flags
    assert row.max_score == 7


def test_gradebook_matches_and_is_consistent(graded):
    course, _, _, report, _ = graded
    assert report.problems == []
    rows = {r.student: r for r in report.rows}
    with Gradebook(course.db_url, course.course_id) as gb:
        for student, row in rows.items():
            sub = gb.find_submission(ASSIGNMENT, student)
            expected = sum(c.score or 0 for c in row.cells.values())
            assert sub.score == pytest.approx(expected)
            flagged = gb.find_submission_notebook("backprop", ASSIGNMENT, student).flagged
            assert flagged == bool(row.flags)
        assert gb.find_student("bystander").submissions == []


def test_isolation_seen_from_inside(graded):
    course, _, _, _, _ = graded
    nb = nbformat.read(course.autograded_dir("abuse_steal_files", ASSIGNMENT) / "backprop.ipynb",
                       as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    # /work, /root and the parents of the workspace: nothing readable. A folder that is not
    # there at all (a CI checkout outside /work) is as good as one that is refused; the only
    # names the kernel may list are its own sandbox's workspace folders.
    listed = ast.literal_eval(printed.splitlines()[0])
    refused = [e for e in listed if e in ("PermissionError", "FileNotFoundError")]
    assert len(refused) >= 2 and "PermissionError" in refused, printed
    assert all(e in refused or e.startswith("bpc-ws-") for e in listed), printed
    assert "gradebook.db" not in printed and "source" not in printed
    if os.geteuid() == 0:  # the kernel ran as an unprivileged uid without any network
        uid = int(re.search(r"uid (\d+)", printed).group(1))
        assert uid >= 300_000 and "network none" in printed


def test_csv_export(graded):
    course, _, kinds, report, _ = graded
    with open(report.csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student"] for r in rows] == sorted(kinds)
    by = {r["student"]: r for r in rows}
    assert by["correct"]["score"] == "5" and by["correct"]["max_score"] == "7"
    assert by["correct"]["test_grad_hidden"] == "3" and by["correct"]["explain"] == ""
    assert by["correct"]["needs_manual_grade"] == "yes"
    assert "transpose" in by["mistake_transposed_dW1"]["diagnosis"]
    assert by["abuse_input_transformer"]["flags"]
    assert by["invalid_json"]["score"] == "0"


def test_feedback_hides_hidden_tests_and_shows_diagnosis(graded):
    course, _, kinds, _, _ = graded
    stored = gradebook.load_stored(course.db_url, course.course_id, ASSIGNMENT)["backprop"]
    public = {ln.strip() for name, cell in stored["source"].items()
              for ln in strip_hidden(cell["source"])[0].splitlines()}
    src = nbformat.read(course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    public |= {ln.strip() for c in src.cells for ln in c.source.splitlines()
               if "HIDDEN" not in c.source}
    secrets = [s for s in hidden_lines(stored) if s not in public]
    assert any("_hidden_loss_secret_marker" in s for s in secrets)
    assert len(secrets) >= 5
    for student in kinds:
        html = (course.feedback_dir(student, ASSIGNMENT) / "backprop.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html
        assert "secret_marker" not in html and "hidden_answer_marker" not in html
        plain = re.sub(r"<[^>]+>", "", html)
        for line in secrets:
            assert line not in plain, (student, line)
    fb = (course.feedback_dir("mistake_transposed_dW1", ASSIGNMENT) / "backprop.html").read_text()
    assert "transpose of the right shape" in fb and "Autograder summary" in fb
    ok = (course.feedback_dir("mistake_no_tanh_derivative", ASSIGNMENT) / "backprop.html")
    text = ok.read_text()
    assert "relative error" in text and "parts correct" in text


def test_rerun_is_idempotent_and_force_regrades(graded, tmp_path):
    course, folder, kinds, report, _ = graded
    before_csv = Path(report.csv_path).read_text()
    again = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                      pipeline.GradeOptions(workers=2, limits=FAST))
    assert again.graded == [] and sorted(again.skipped) == sorted(kinds)
    assert Path(again.csv_path).read_text() == before_csv
    assert again.problems == []
    # a changed submission is regraded, the others are not
    sub = folder / "blank" / ASSIGNMENT / "backprop.ipynb"
    shutil.copy(folder / "correct" / ASSIGNMENT / "backprop.ipynb", sub)
    third = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                      pipeline.GradeOptions(workers=1, limits=FAST))
    assert third.graded == ["blank"]
    assert {r.student: r.score for r in third.rows}["blank"] == 5
    assert third.problems == []


def test_resume_after_interruption(graded):
    course, folder, kinds, _, _ = graded
    state = course.state_dir(ASSIGNMENT) / "done"
    # as if the run had stopped before these two finished
    for student in ("correct", "wrong_kernel"):
        (state / f"{student}.json").unlink()
    resumed = pipeline.grade_assignment(course, ASSIGNMENT, folder,
                                        pipeline.GradeOptions(workers=2, limits=FAST))
    assert sorted(resumed.graded) == ["correct", "wrong_kernel"]
    assert len(resumed.rows) == len(kinds)
    assert {r.student: r.score for r in resumed.rows}["correct"] == 5
    marker = read_marker(state / "correct.json")
    assert marker is not None and marker.logic and marker.diagnosis == ""


def test_feedback_does_not_show_hidden_inputs(graded):
    course, _, _, _, _ = graded
    student = "abuse_print_hidden_inputs"
    nb = nbformat.read(course.autograded_dir(student, ASSIGNMENT) / "backprop.ipynb",
                       as_version=4)
    leaked = [ln for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              for ln in o.get("text", "").splitlines() if ln.startswith("LEAK")]
    assert any(ln.startswith("LEAK W1 ") for ln in leaked)  # the attack had data to leak
    html = (course.feedback_dir(student, ASSIGNMENT) / "backprop.html").read_text()
    assert "not shown in feedback" in html
    for line in leaked:
        assert line not in html and line.split(" ", 2)[2] not in html
