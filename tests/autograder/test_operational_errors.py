"""Every operational error: one line with the fix, the documented exit code, nothing lost."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.api import Gradebook

from autograder import atomic, cli, pipeline, synthetic
from autograder.course import EXIT_CODES, Course
from tests.autograder.conftest import ASSIGNMENT


@pytest.fixture
def course(released, tmp_path) -> Course:
    """A private copy of the released fixture course (cheaper than releasing again)."""
    root = tmp_path / "course"
    shutil.copytree(released.root, root)
    return Course.load(root)


def run(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(list(args))
    out = capsys.readouterr().out
    return code, [ln for ln in out.splitlines() if ln.strip()]


def one_error(lines: list[str]) -> str:
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and len(lines) == 1, lines
    return errors[0]


def db(course: Course) -> Path:
    return Path(course.db_url[len("sqlite:///"):])


def test_exit_codes_are_documented():
    guide = (Path(__file__).parents[2] / "docs" / "instructor-guide.md").read_text()
    for code in EXIT_CODES:
        assert f"| {code} |" in guide


def test_database_down_masks_the_password(course, tmp_path, capsys):
    url = "postgresql+psycopg://grader:s3cr3t-pw@127.0.0.1:1/gradebook"
    code, lines = run(capsys, "grade", ASSIGNMENT, str(tmp_path), "--course-root",
                      str(course.root), "--db-url", url)
    line = one_error(lines)
    assert code == 3
    assert line.startswith("error: cannot use the gradebook at "
                           "postgresql+psycopg://grader:***@127.0.0.1:1/gradebook (")
    assert line.endswith("start the database server or fix --db-url, then run the same "
                         "command again")
    assert "s3cr3t" not in line


@pytest.mark.parametrize("command", ["grade", "feedback", "export", "report"])
def test_corrupt_gradebook_is_refused_and_kept(course, tmp_path, capsys, command):
    garbage = b"this is not sqlite" * 100
    db(course).write_bytes(garbage)
    extra = [str(tmp_path)] if command == "grade" else []
    code, lines = run(capsys, "--course-root", str(course.root), command, ASSIGNMENT, *extra)
    line = one_error(lines)
    assert code == 3
    assert line == (f"error: the gradebook {db(course)} is not a readable nbgrader database "
                    "(file is not a database); restore it from your backup (copy the backed-up "
                    "gradebook.db back, or pg_restore), or for a new course run "
                    "`backprop-course release` first")
    assert db(course).read_bytes() == garbage


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_gradebook_is_never_recreated(course, tmp_path, capsys, state):
    path = db(course)
    if state == "missing":
        path.unlink()
    else:
        path.write_bytes(b"")
    code, lines = run(capsys, "--course-root", str(course.root), "grade", ASSIGNMENT,
                      str(tmp_path))
    line = one_error(lines)
    assert code == 3
    what = "is missing" if state == "missing" else "is empty (0 bytes)"
    assert line.startswith(f"error: the gradebook {path} {what}; this command never creates "
                           "one (that would lose every manual grade): restore it from your "
                           "backup")
    assert (not path.exists()) if state == "missing" else path.read_bytes() == b""


def test_disk_full_keeps_the_previous_csv(course, capsys, monkeypatch):
    csv_path = course.export_path(ASSIGNMENT)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path.write_text("student,score\nalice,7\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    code, lines = run(capsys, "--course-root", str(course.root), "export", ASSIGNMENT)
    line = one_error(lines)
    assert code == 4
    assert line == (f"error: disk full while writing {csv_path}: free space on that disk and "
                    "run the same command again (the previous file is unchanged; students "
                    "finished before are saved)")
    assert csv_path.read_text() == "student,score\nalice,7\n"
    assert not [p for p in csv_path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("command", ["grade", "feedback", "export", "report"])
def test_wrong_assignment_lists_the_valid_names(course, tmp_path, capsys, command):
    extra = [str(tmp_path)] if command == "grade" else []
    code, lines = run(capsys, "--course-root", str(course.root), command, "ps9", *extra)
    assert code == 2
    assert one_error(lines) == ("error: assignment 'ps9' is not in the gradebook; valid names: "
                                f"{ASSIGNMENT}")


def test_empty_or_foreign_folder_never_shrinks_the_csv(course, tmp_path, capsys):
    csv_path = course.export_path(ASSIGNMENT)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path.write_text("the class\n")
    other = tmp_path / "other"
    (other / "alice" / "ps2").mkdir(parents=True)  # another assignment's folder
    for folder in (tmp_path / "empty", other):
        folder.mkdir(exist_ok=True)
        code, lines = run(capsys, "--course-root", str(course.root), "grade", ASSIGNMENT,
                          str(folder))
        assert code == 2
        assert one_error(lines).startswith(f"error: no submission of {ASSIGNMENT} in {folder}")
        assert one_error(lines).endswith("nothing was changed")
        assert csv_path.read_text() == "the class\n"


def test_db_url_after_the_subcommand(tmp_path):
    p = cli._parser()
    for argv in (["--db-url", "sqlite:///a.db", "grade", "a", "f"],
                 ["grade", "a", "f", "--db-url", "sqlite:///a.db"],
                 ["report", "a", "--db-url", "sqlite:///a.db", "--course-root", str(tmp_path)]):
        args = p.parse_args(argv)
        assert args.db_url == "sqlite:///a.db"
    assert p.parse_args(["grade", "a", "f"]).db_url is None


@pytest.mark.parametrize("force", [False, True])
def test_interrupt_message_matches_force(course, tmp_path, capsys, monkeypatch, force):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "grade_assignment", interrupted)
    argv = ["--course-root", str(course.root), "grade", ASSIGNMENT, str(tmp_path)]
    code, lines = run(capsys, *argv + (["--force"] if force else []))
    assert code == 130 and len(lines) == 1
    assert ("resume" in lines[0]) is (not force)
    if force:
        assert "run again with --force to regrade everyone" in lines[0]


def test_task_file_lookup_honours_root_registry(course):
    local = course.root / "autograder_tasks" / f"{ASSIGNMENT}.py"
    registry = course.root / "autograder" / "registry"
    registry.mkdir(parents=True)
    shutil.move(local, registry / f"{ASSIGNMENT}.py")
    assert course.task_file(ASSIGNMENT) == registry / f"{ASSIGNMENT}.py"
    assert course.task_file("nope") is None


@pytest.mark.slow
def test_wrong_notebook_and_changed_logic(course, tmp_path, capsys):
    """A notebook of another assignment is flagged; a changed task file regrades."""
    src = nbformat.read(course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "yan.ipynb").write_text(nbformat.writes(synthetic.solved(src, rel)))
    other = new_notebook(cells=[new_code_cell("x = 1")])
    other.cells[0].metadata["nbgrader"] = {"grade_id": "ps2_forward", "grade": True,
                                           "solution": False, "locked": True, "points": 1,
                                           "schema_version": 3}
    (folder / "zed.ipynb").write_text(nbformat.writes(other))
    argv = ["--course-root", str(course.root), "grade", ASSIGNMENT, str(folder),
            "--workers", "2", "--cell-timeout", "5"]
    code, lines = run(capsys, *argv)
    assert code == 0
    zed = next(ln for ln in lines if ln.startswith("zed"))
    assert "wrong notebook: backprop.ipynb has none of the cells" in zed
    code, lines = run(capsys, *argv)
    assert any(ln.startswith("graded 0, unchanged and skipped 2") for ln in lines)
    task_file = course.task_file(ASSIGNMENT)
    task_file.write_text(task_file.read_text() + "\n# the instructor fixed a tolerance\n")
    code, lines = run(capsys, *argv)
    assert code == 0
    assert any(ln.startswith("grading logic changed since the last run") for ln in lines)
    assert any(ln.startswith("graded 2, unchanged and skipped 0") for ln in lines)
    # a hidden test changed (what `nbgrader generate_assignment --force` stores): regraded too
    with Gradebook(course.db_url, course.course_id) as gb:
        cell = gb.find_source_cell("test_answer", "backprop", ASSIGNMENT)
        cell.source = cell.source.replace("< 1e-9", "< 1e-8")
        gb.db.commit()
    code, lines = run(capsys, *argv)
    assert any(ln.startswith("grading logic changed since the last run") for ln in lines)
    assert any(ln.startswith("graded 2, unchanged and skipped 0") for ln in lines)


def test_broken_late_plugin_is_one_line(course, capsys):
    with open(course.root / "nbgrader_config.py", "a") as fh:
        fh.write('c.AssignLatePenalties.plugin_class = "nowhere.Plugin"\n')
    code, lines = run(capsys, "--course-root", str(course.root), "export", ASSIGNMENT)
    assert code == 2
    line = one_error(lines)
    assert line.startswith(f"error: the late-submission plugin in {course.root}/"
                           "nbgrader_config.py cannot be used (")
    assert line.endswith("fix AssignLatePenalties.plugin_class or "
                         "LateSubmissionPlugin.penalty_method there")


@pytest.mark.slow
def test_grade_a_canvas_bulk_download_with_a_roster(course, tmp_path, capsys):
    """Canvas names become the roster's ids; an ambiguous pair is refused with its reason."""
    src = nbformat.read(course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    rel = nbformat.read(course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    good = nbformat.writes(synthetic.solved(src, rel))
    folder = tmp_path / "canvas"
    folder.mkdir()
    (folder / "smithalice_12345_67890_backprop.ipynb").write_text(good)
    (folder / "smithalice_12345_67890_backprop (1).ipynb").write_text(good)
    (folder / "jonesbob_LATE_222_333_backprop-1.ipynb").write_text(good)
    (folder / "leecara_444_555_backprop.ipynb").write_text(good)
    (folder / "leecara_444_556_backprop.ipynb").write_text(good + " ")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,canvas_id\nalice,12345\nbob,222\ncara,444\n")
    code, lines = run(capsys, "--course-root", str(course.root), "grade", ASSIGNMENT,
                      str(folder), "--roster", str(roster), "--workers", "2",
                      "--cell-timeout", "5")
    assert code == 0
    table = {ln.split()[0]: ln for ln in lines if ln.split()[0] in ("alice", "bob", "cara")}
    assert sorted(table) == ["alice", "bob"] and "5/7" in table["alice"]
    refused = [ln for ln in lines if ln.startswith("not graded 'leecara_444_55")]
    assert len(refused) == 2 and all("several Canvas submissions (555, 556)" in ln
                                     for ln in refused)
    code, lines = run(capsys, "--course-root", str(course.root), "export", ASSIGNMENT,
                      "--format", "canvas", "--roster", str(roster))
    assert code == 0
    text = (course.root / "exports" / f"{ASSIGNMENT}_canvas.csv").read_text().splitlines()
    assert text[0] == f"Student,ID,SIS User ID,SIS Login ID,Section,{ASSIGNMENT}"
    assert sorted(text[2:]) == ["alice,12345,,,,5", "bob,222,,,,5"]
