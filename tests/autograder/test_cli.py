"""The console script: release and grade a folder of zip files and loose notebooks."""

from __future__ import annotations

import csv
import io
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import cli, synthetic
from tests.autograder.conftest import ASSIGNMENT

pytestmark = pytest.mark.slow


def test_release_and_grade_zips_and_loose_notebooks(fresh_course, tmp_path, capsys):
    root = fresh_course.root
    assert cli.main(["--course-root", str(root), "release", ASSIGNMENT]) == 0
    assert "no leaks" in capsys.readouterr().out
    src = nbformat.read(fresh_course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    rel = nbformat.read(fresh_course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    good = synthetic.solved(src, rel)
    # an extra module shipped with the submission must not be importable
    sneaky = synthetic.solved(src, rel)
    sneaky.cells.insert(2, new_code_cell("import helper\nhelper.cheat()"))
    folder = tmp_path / "in"
    folder.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("work/backprop.ipynb", nbformat.writes(sneaky))
        zf.writestr("work/helper.py", "def cheat():\n    raise SystemExit\n")
    (folder / "zoe.zip").write_bytes(buf.getvalue())
    (folder / "yan.ipynb").write_text(nbformat.writes(good))
    args = ["--course-root", str(root), "grade", ASSIGNMENT, str(folder), "--workers", "2",
            "--cell-timeout", "5"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "consistency check passed" in out and "zoe" in out and "yan" in out
    with open(root / "exports" / f"{ASSIGNMENT}_grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["yan"]["score"] == "5" and rows["zoe"]["score"] == "5"
    graded = nbformat.read(fresh_course.autograded_dir("zoe", ASSIGNMENT) / "backprop.ipynb",
                           as_version=4)
    errors = [o.get("ename") for c in graded.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert "ModuleNotFoundError" in errors
    assert (fresh_course.feedback_dir("yan", ASSIGNMENT) / "backprop.html").exists()
    # second run: nothing to do
    assert cli.main(args) == 0
    assert "graded 0, unchanged and skipped 2" in capsys.readouterr().out


def test_bad_input_is_a_clear_error(fresh_course, tmp_path, capsys):
    code = cli.main(["--course-root", str(fresh_course.root), "grade", ASSIGNMENT,
                     str(tmp_path / "missing")])
    assert code == 2 and "does not exist" in capsys.readouterr().out
    code = cli.main(["--course-root", str(tmp_path), "release"])
    assert code == 2 and "not a course root" in capsys.readouterr().out
