"""A whole term through the real CLI: every total equal in gradebook, table, CSV, Canvas CSV,
feedback and ``nbgrader export``; manual grades and extra credit (written through nbgrader's API
as formgrader does) kept by regrades; a resubmission's stale manual marks flagged for review;
a custom late plugin applied; no hidden-test text in any feedback."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from autograder import books, cli, gradebook, synthetic
from autograder.feedback import hidden_lines, strip_hidden
from tests.autograder.conftest import ASSIGNMENT

pytestmark = pytest.mark.slow
NB = "backprop"
DUE = datetime(2026, 11, 20, 12, 0, 0)
ON_TIME = "2026-11-20 10:00:00.000000 UTC"
LATE_26H = "2026-11-21 14:00:00.000000 UTC"


def formgrade(course, student: str, cell: str, manual: float | None, extra: float | None = None,
              comment: str | None = None) -> None:
    """What formgrader's API handlers do when the instructor saves a grade or a comment."""
    with Gradebook(course.db_url, course.course_id) as gb:
        grade = gb.find_grade(cell, NB, ASSIGNMENT, student)
        grade.manual_score = manual
        grade.extra_credit = extra
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        if comment is not None:
            gb.find_comment(cell, NB, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def submit(folder: Path, student: str, nb, stamp: str | None = None,
           name: str = "backprop.ipynb") -> None:
    d = folder / student / ASSIGNMENT
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("*.ipynb"):
        old.unlink()
    (d / name).write_text(nbformat.writes(nb))
    if stamp:
        (d / "timestamp.txt").write_text(stamp)


def run(args: list[str], capsys) -> tuple[int, str]:
    code = cli.main(args)
    return code, capsys.readouterr().out


def table_totals(out: str, students: list[str]) -> dict[str, float]:
    totals = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in students and re.fullmatch(r"[\d.]+/[\d.]+", parts[1]):
            totals[parts[0]] = float(parts[1].split("/")[0])
    return totals


def feedback_total(html: str) -> float:
    m = re.search(r"backprop \(Score: ([\d.]+) / ([\d.]+)\)", html)
    assert m, "no notebook score in the feedback page"
    return float(m.group(1))


def nbgrader_export(course) -> dict[str, dict[str, str]]:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get("PATH", ""))
    out = course.root / "nbgrader_export.csv"
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export",
                    f"--to={out}", f"--db={course.db_url}"], cwd=course.root, env=env,
                   check=True, capture_output=True)
    with open(out, newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}


def test_a_whole_term(fresh_course, tmp_path, capsys):
    course = fresh_course
    root = course.root
    with open(root / "nbgrader_config.py", "a") as fh:
        fh.write('c.AssignLatePenalties.plugin_class = '
                 '"tests.autograder.late_plugin.OnePointPerDay"\n')
    with Gradebook(course.db_url, course.course_id) as gb:  # as formgrader's assignment editor
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    src = nbformat.read(course.source_dir(ASSIGNMENT) / f"{NB}.ipynb", as_version=4)
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / f"{NB}.ipynb", as_version=4)
    mod = __import__("autograder.tasks", fromlist=["load_task_module"])
    examples = mod.load_task_module(course.task_file(ASSIGNMENT)).EXAMPLES
    folder = tmp_path / "submitted"
    good = synthetic.solved(src, rel)
    submit(folder, "alice", good, ON_TIME)
    submit(folder, "bob", good, LATE_26H)                       # late: 26 h, one started day... 2
    submit(folder, "carol", synthetic.solved(src, rel, examples["mistake_transposed_dW1"]),
           ON_TIME)
    (folder / "dave" / ASSIGNMENT).mkdir(parents=True)
    (folder / "dave" / ASSIGNMENT / f"{NB}.ipynb").write_text("{ not json")   # broken
    submit(folder, "erin", good, ON_TIME, name="my work.ipynb")             # renamed
    submit(folder, "frank", good, ON_TIME)                                   # resubmits later
    syntax = synthetic.solved(src, rel, {"answer": "answer = (1 +"})
    submit(folder, "gina", syntax, ON_TIME)                                  # her own error
    students = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]

    code, out = run(["grade", ASSIGNMENT, str(folder), "--course-root", str(root),
                     "--db-url", course.db_url, "--workers", "2", "--cell-timeout", "5"], capsys)
    assert code == 0, out
    assert "dave" in out and "erin" in out
    assert [ln for ln in out.splitlines() if ln.startswith("grading demo1: ")][:2] == [
        "grading demo1: 1/7 done (" + out.split("1/7 done (")[1].split(")")[0] + ")",
        "grading demo1: 2/7 done (" + out.split("2/7 done (")[1].split(")")[0] + ")"]
    # formgrader: written answers, extra credit, a comment
    formgrade(course, "alice", "explain", 2, extra=1, comment="Exactly right.")
    formgrade(course, "bob", "explain", 1.5)
    formgrade(course, "carol", "explain", 1, comment="Think of one entry per weight.")
    formgrade(course, "frank", "explain", 2)
    formgrade(course, "carol", "test_grad_hidden", None, extra=0.5)
    with Gradebook(course.db_url, course.course_id) as gb:
        manual_before = {(g.student.id, g.name): (g.manual_score, g.extra_credit)
                         for sub in gb.find_assignment(ASSIGNMENT).submissions
                         for nb in sub.notebooks for g in nb.grades}
    # a regrade keeps every manual grade and extra credit
    code, out = run(["--course-root", str(root), "grade", ASSIGNMENT, str(folder), "--force",
                     "--workers", "2", "--cell-timeout", "5"], capsys)
    assert code == 0, out
    with Gradebook(course.db_url, course.course_id) as gb:
        manual_after = {(g.student.id, g.name): (g.manual_score, g.extra_credit)
                        for sub in gb.find_assignment(ASSIGNMENT).submissions
                        for nb in sub.notebooks for g in nb.grades}
        assert manual_after == manual_before
        assert not gb.find_grade("explain", NB, ASSIGNMENT, "alice").needs_manual_grade
    # frank resubmits a different answer: his old manual mark is flagged, not silently kept
    resub = synthetic.solved(src, rel, {"explain": "Because shapes match, I think."})
    submit(folder, "frank", resub, ON_TIME)
    code, out = run(["--course-root", str(root), "grade", ASSIGNMENT, str(folder),
                     "--workers", "2", "--cell-timeout", "5"], capsys)
    assert code == 0, out
    assert "graded 1," in out
    frank_line = next(ln for ln in out.splitlines() if ln.startswith("frank"))
    assert "needs manual grade" in frank_line and "resubmitted" in frank_line
    with Gradebook(course.db_url, course.course_id) as gb:
        assert gb.find_grade("explain", NB, ASSIGNMENT, "frank").needs_manual_grade
    assert max(len(ln) for ln in out.splitlines() if ln.split()[:1] and ln.split()[0]
               in students) <= 80

    code, fb_out = run(["feedback", ASSIGNMENT, "--course-root", str(root)], capsys)
    assert code == 0, fb_out
    code, ex_out = run(["export", ASSIGNMENT, "--course-root", str(root)], capsys)
    assert code == 0, ex_out
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,canvas_id,name,section\n" + "".join(
        f"{s},{1000 + i},{s.title()} Student,A\n" for i, s in enumerate(students)))
    code, cv_out = run(["export", ASSIGNMENT, "--format", "canvas", "--roster", str(roster),
                        "--column", "PS demo (777)", "--course-root", str(root)], capsys)
    assert code == 0, cv_out
    code, md_out = run(["export", ASSIGNMENT, "--format", "moodle", "--course-root", str(root)],
                       capsys)
    assert code == 0, md_out
    code, rep_out = run(["report", ASSIGNMENT, "--course-root", str(root)], capsys)
    assert code == 0, rep_out
    assert max(len(ln) for ln in rep_out.splitlines() if not ln.startswith("HTML report:")) <= 80
    assert (root / "exports" / f"{ASSIGNMENT}_report.html").is_file()

    # one truth: gradebook == nbgrader export == table == CSV == Canvas == feedback
    truth = {b.student: b for b in books.read_class(course, ASSIGNMENT)}
    assert sorted(truth) == students
    assert truth["alice"].total == 5 + 2 + 1  # auto 5, manual 2, extra credit 1
    assert truth["carol"].extra_credit == 0.5
    assert truth["bob"].late_penalty == 2 and truth["bob"].total == 5 + 1.5 - 2
    assert truth["bob"].late_text() == "late (+26 h, −2)"
    assert truth["dave"].total == 0
    exported = nbgrader_export(course)
    table = table_totals(out, students)
    with open(course.export_path(ASSIGNMENT), newline="") as fh:
        class_csv = {r["student"]: r for r in csv.DictReader(fh)}
    with open(root / "exports" / f"{ASSIGNMENT}_canvas.csv", newline="") as fh:
        canvas = list(csv.DictReader(fh))
    assert canvas[0]["Student"].strip() == "Points Possible" and canvas[0]["PS demo (777)"] == "7"
    canvas_by_id = {r["ID"]: float(r["PS demo (777)"]) for r in canvas[1:]}
    with open(root / "exports" / f"{ASSIGNMENT}_moodle.csv", newline="") as fh:
        moodle = {r["ID number"]: r for r in csv.DictReader(fh)}
    report_html = (root / "exports" / f"{ASSIGNMENT}_report.html").read_text()
    for i, s in enumerate(students):
        total = truth[s].total
        assert float(moodle[s][ASSIGNMENT]) == pytest.approx(total), s
        assert f"data-student='{s}'>{total:g}</span>" in report_html, s
        assert float(exported[s]["score"]) == pytest.approx(total), s
        assert table[s] == pytest.approx(total), s
        assert float(class_csv[s]["score"]) == pytest.approx(total), s
        assert canvas_by_id[str(1000 + i)] == pytest.approx(total), s
        html = (course.feedback_dir(s, ASSIGNMENT) / f"{NB}.html").read_text()
        assert feedback_total(html) == pytest.approx(total), s
    assert class_csv["bob"]["late"] == "late (+26 h, −2)" and "late (+26 h, −2)" in out
    assert class_csv["alice"]["extra_credit"] == "1" and class_csv["alice"]["manual"] == "2"
    assert class_csv["frank"]["needs_manual_grade"] == "yes"
    assert "wrong" not in class_csv["erin"]["flags"]
    assert "submitted as my work.ipynb" in class_csv["erin"]["notes"]
    bob_fb = (course.feedback_dir("bob", ASSIGNMENT) / f"{NB}.html").read_text()
    assert "late (+26 h, −2)" in bob_fb
    alice_fb = (course.feedback_dir("alice", ASSIGNMENT) / f"{NB}.html").read_text()
    assert "Exactly right." in alice_fb and "graded by hand" in alice_fb
    gina_fb = (course.feedback_dir("gina", ASSIGNMENT) / f"{NB}.html").read_text()
    assert "SyntaxError" in gina_fb  # her own error, not only a later NameError
    # no hidden-test text in any feedback
    stored = gradebook.load_stored(course.db_url, course.course_id, ASSIGNMENT)[NB]
    public = {ln.strip() for cell in stored["source"].values()
              for ln in strip_hidden(cell["source"])[0].splitlines()}
    public |= {ln.strip() for c in src.cells for ln in c.source.splitlines()
               if "HIDDEN" not in c.source}  # the solution's own lines, which students write
    secrets = [h for h in hidden_lines(stored) if h not in public]
    assert len(secrets) >= 5
    for s in students:
        html = (course.feedback_dir(s, ASSIGNMENT) / f"{NB}.html").read_text()
        plain = re.sub(r"<[^>]+>", "", html)
        assert "HIDDEN TESTS" not in html and "secret_marker" not in html
        assert not [ln for ln in secrets if ln in plain], s
    # the markers of the run know the logic they graded with
    marker = json.loads((course.state_dir(ASSIGNMENT) / "done" / "alice.json").read_text())
    assert marker["logic"]


def test_nbgrader_generate_feedback_cannot_leak(fresh_course, tmp_path):
    """``nbgrader generate_feedback --force`` in this course strips every hidden test."""
    course = fresh_course
    src = nbformat.read(course.source_dir(ASSIGNMENT) / f"{NB}.ipynb", as_version=4)
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / f"{NB}.ipynb", as_version=4)
    nb = synthetic.solved(src, rel)
    nb.cells.append(new_code_cell("print('visible')"))
    folder = tmp_path / "submitted"
    submit(folder, "alice", nb, ON_TIME)
    assert cli.main(["--course-root", str(course.root), "grade", ASSIGNMENT, str(folder),
                     "--workers", "1", "--cell-timeout", "5"]) == 0
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get("PATH", ""))
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                    "generate_feedback", ASSIGNMENT, "--force"], cwd=course.root, env=env,
                   check=True, capture_output=True)
    html = (course.feedback_dir("alice", ASSIGNMENT) / f"{NB}.html").read_text()
    stored = gradebook.load_stored(course.db_url, course.course_id, ASSIGNMENT)[NB]
    plain = re.sub(r"<[^>]+>", "", html)
    assert "HIDDEN TESTS" not in html and "secret_marker" not in html
    assert "hidden tests ran here" in plain
    public = {ln.strip() for cell in stored["source"].values()
              for ln in strip_hidden(cell["source"])[0].splitlines()}
    public |= {ln.strip() for c in src.cells for ln in c.source.splitlines()
               if "HIDDEN" not in c.source}
    assert not [h for h in hidden_lines(stored) if h not in public and h in plain]
