"""Fast unit tests: comparison and diagnosis, plain data, sanitizing, submissions, gradebook
checks, release leak detection, the stderr rule."""

from __future__ import annotations

import io
import json
import time
import zipfile

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_output

from autograder import compare, plaindata, release, sanitize, submissions, tasks, worker
from autograder.course import CourseError
from autograder.gradebook import check_consistency, load_stored
from autograder.pipeline import check_tasks, smoke_test_tasks
from coursekit.gradcheck import PASS_TOL
from tests.autograder.conftest import ASSIGNMENT


# ----------------------------------------------------------------------------- diagnosis
def _msg(got, want, n=None):
    (part,) = compare.compare_value(got, want, "dW2", PASS_TOL, n_hint=n)
    return part


def test_compare_pass_and_diagnoses():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4))
    assert _msg(w + 1e-12, w).ok
    assert "the transpose of the right shape" in _msg(w.T, w).message
    assert "exactly N=5 times too large" in _msg(5 * w, w, n=5).message
    assert "1/N" in _msg(w / 5, w, n=5).message
    assert "wrong sign" in _msg(-w, w).message
    assert "NaN" in _msg(np.full_like(w, np.nan), w).message
    sq = rng.normal(size=(3, 3))
    assert "holds the transpose of the right values" in _msg(sq.T, sq).message
    col = rng.normal(size=(4, 1))
    assert "has the right values but shape (4,)" in _msg(col.ravel(), col).message
    rows = rng.normal(size=(5, 4))
    assert "shape (5, 4) instead of (4, 1)" in _msg(rows, rows.sum(axis=0)[:, None]).message
    # no cause is claimed for values that differ for no catalogued reason
    assert "is wrong (relative error" in _msg(rng.normal(size=(3, 4)), w).message


def test_compare_outputs_verdicts():
    spec = tasks.TaskSpec("g", 3, ("f",), lambda c: [], lambda p: None)
    want = {"W": np.ones((2, 2)), "b": np.ones((2, 1))}
    good = tasks.Trial(tasks.Probe("f"), want, {k: v.copy() for k, v in want.items()}, None)
    assert spec.judge([good]).score == 3
    half = tasks.Trial(tasks.Probe("f"), want, {"W": want["W"], "b": 2 * want["b"]}, None)
    v = spec.judge([half])
    # a factor 2 is not named without a squared-error loss that predicts it
    assert v.score == 0 and v.parts == {"W": True, "b": False}
    assert "b is wrong (relative error 0.333" in v.diagnosis and "factor" not in v.diagnosis
    partial = tasks.TaskSpec("g", 3, ("f",), lambda c: [], lambda p: None, partial=True)
    assert partial.judge([half]).score == pytest.approx(1.5)
    err = tasks.Trial(tasks.Probe("f"), want, None, "NameError: name 'f' is not defined")
    assert "NameError" in spec.judge([err]).diagnosis
    record = {"calls": [want, {"W": 2 * want["W"], "b": want["b"]}], "errors": [None],
              "mutated": []}
    twice = tasks.unwrap_trial(tasks.Trial(tasks.Probe("f"), want, record, None))
    v = spec.judge([twice])
    assert (v.score, v.diagnosis) == (0, "accumulates")
    assert v.message.startswith("f: a second call on the same inputs gave a different result (W)")


def test_judge_clamps_scores():
    spec = tasks.TaskSpec("g", 2, ("f",), lambda c: [], lambda p: None,
                          compare=lambda t, s: tasks.Verdict(1e9, 2, "x"))
    assert spec.judge([]).score == 2
    spec = tasks.TaskSpec("g", 2, ("f",), lambda c: [], lambda p: None,
                          compare=lambda t, s: tasks.Verdict(float("nan"), 2, "x"))
    assert spec.judge([]).score == 0


# ----------------------------------------------------------------------------- plain data
def test_plaindata_round_trip_and_strictness(tmp_path):
    enc = plaindata.Encoder()
    value = {"a": np.arange(3.0), "t": (1, 2.5, float("inf")), "l": [None, "s", True]}
    encoded = enc.enc(value)
    back = plaindata.decode(json.loads(json.dumps(encoded)), enc.arrays)
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["t"] == (1, 2.5, float("inf")) and back["l"] == [None, "s", True]
    for bad in ({"$a": "missing"}, {"$x": 1}, {"$d": [[1, 2]]}, {"a": 1, "b": 2}):
        with pytest.raises(plaindata.PlainDataError):
            plaindata.decode(bad, {})
    with pytest.raises(TypeError):
        enc.enc(object())
    np.save(tmp_path / "obj.npy", np.array([object()]), allow_pickle=True)
    with open(tmp_path / "x.npz", "wb") as fh:
        np.savez(fh, a=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        plaindata.load_arrays(tmp_path / "x.npz")


# ----------------------------------------------------------------------------- sanitize
def test_parse_notebook_rejects_garbage_readably():
    for data, text in ((b"", "empty"), (b"{", "not valid JSON"), (b"[1]", "not a Jupyter"),
                       (b"\xff\xfe", "not valid JSON")):
        with pytest.raises(sanitize.SubmissionError, match=text):
            sanitize.parse_notebook(data)
    nb = sanitize.parse_notebook(json.dumps({"cells": [
        {"cell_type": "code", "source": ["a = ", "1"], "metadata": {"nbgrader": "bad"}},
        {"cell_type": "weird", "source": 5}, "junk"]}).encode())
    assert [c.cell_type for c in nb.cells] == ["code", "raw"]
    assert nb.cells[0].source == "a = 1" and "nbgrader" not in nb.cells[0].metadata
    # an attachment referenced but not kept (never attached, over the budget) renders blank
    nb = sanitize.parse_notebook(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "![a](attachment:gone.png) ![b](attachment:big.png)",
         "metadata": {}, "attachments": {"big.png": {"image/png": "A" * (9 * 1024**2)}}}]}
    ).encode())
    assert set(nb.cells[0].attachments) == {"gone.png", "big.png"}
    assert all(len(a["image/png"]) < 200 for a in nb.cells[0].attachments.values())


def test_reading_a_submission_is_bounded_in_time_and_depth(released):
    stored = load_stored(released.db_url, released.course_id, ASSIGNMENT)["backprop"]
    rel = nbformat.read(released.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    nb, notes, kernel = sanitize.read_submission(nbformat.writes(rel).encode(), stored,
                                                 "backprop", ASSIGNMENT)
    assert len(nb.cells) == len(rel.cells) and notes == [] and kernel == "python3"
    deep = b'{"cells": [], "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(sanitize.SubmissionError, match="nested too deeply"):
        sanitize.read_submission(deep, stored, "backprop", ASSIGNMENT)
    flood = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("*x* " * 1500)
                                            for _ in range(2900)])
    start = time.monotonic()
    with pytest.raises(sanitize.SubmissionError, match="within the grader's limits"):
        sanitize.read_submission(nbformat.writes(flood).encode(), stored, "backprop",
                                 ASSIGNMENT, seconds=0.05)
    assert time.monotonic() - start < 5


def test_sanitize_restores_cells(released):
    stored = load_stored(released.db_url, released.course_id, ASSIGNMENT)["backprop"]
    rel = nbformat.read(released.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    nb = sanitize.parse_notebook(nbformat.writes(rel).encode())
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    tests[0].source = "pass  # edited test"
    tests[0].metadata.nbgrader["points"] = 50
    tests[1].metadata.nbgrader["grade_id"] = "mine"
    nb.cells.remove(tests[2])
    nb.cells.append(nbformat.from_dict(json.loads(json.dumps(tests[0]))))
    notes = sanitize.sanitize(nb, stored, "backprop", ASSIGNMENT)
    text = " ".join(notes)
    assert "was changed and was restored" in text and "'mine' is not part" in text
    assert "'test_answer' was missing" in text and "appears 2 times" in text
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert set(graded) == {"test_grad_public", "test_grad_hidden", "test_answer", "explain"}
    assert graded["test_grad_public"].metadata.nbgrader["points"] == 1
    assert "shapes OK" in graded["test_grad_public"].source  # locked source restored
    assert "BEGIN HIDDEN TESTS" in graded["test_grad_hidden"].source  # hidden tests back


def test_kernel_score_ignores_stderr_and_rejects_oversized_values():
    cell = new_code_cell("x", metadata={"nbgrader": {"grade": True, "points": 2,
                                                     "grade_id": "t", "solution": False,
                                                     "locked": True, "schema_version": 3}})
    cell.outputs = [new_output("stream", name="stderr", text="RuntimeWarning: overflow")]
    assert worker.kernel_score(cell)[0] == 2
    cell.outputs = [new_output("execute_result", data={"text/plain": "1e9"},
                               execution_count=1)]
    assert worker.kernel_score(cell)[0] == 0
    cell.outputs = [new_output("error", ename="AssertionError", evalue="", traceback=[])]
    assert worker.kernel_score(cell) == (0.0, "AssertionError")


# ----------------------------------------------------------------------------- submissions
def _nb_bytes(text="x = 1"):
    return nbformat.writes(nbformat.v4.new_notebook(cells=[new_code_cell(text)])).encode()


def test_discover_all_layouts(tmp_path):
    (tmp_path / "alice" / "demo1").mkdir(parents=True)
    (tmp_path / "alice" / "demo1" / "backprop.ipynb").write_bytes(_nb_bytes())
    (tmp_path / "alice" / "demo1" / "numpy.py").write_text("boom")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../escape.ipynb", _nb_bytes("evil"))
        zf.writestr("folder/backprop.ipynb", _nb_bytes("bob"))
        zf.writestr("helper.py", "print('x')")
    (tmp_path / "bob.zip").write_bytes(buf.getvalue())
    (tmp_path / "carol.ipynb").write_bytes(_nb_bytes())
    (tmp_path / "dave.zip").write_bytes(b"not a zip")
    (tmp_path / "bad name!.ipynb").write_bytes(_nb_bytes())
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "erin" / "other").mkdir(parents=True)
    subs, rejected = submissions.discover(tmp_path, "demo1", ["backprop"])
    by = {s.student: s for s in subs}
    assert sorted(by) == ["alice", "bob", "carol", "dave"]
    assert b"bob" in by["bob"].notebooks["backprop"]
    assert "ignored notebooks" in " ".join(by["bob"].notes)
    assert by["dave"].notebooks["backprop"] is None and "zip" in by["dave"].notes[0]
    assert not (tmp_path.parent / "escape.ipynb").exists()
    reasons = {r.path: r.reason for r in rejected}
    assert "not a valid student id" in reasons["bad name!.ipynb"]
    assert "no folder demo1/" in reasons["erin"] and "notes.txt" in reasons
    assert by["alice"].digest() != by["carol"].digest()


def test_timestamp_is_read_from_nbgrader_layout(tmp_path):
    (tmp_path / "amy" / "demo1").mkdir(parents=True)
    (tmp_path / "amy" / "demo1" / "backprop.ipynb").write_bytes(_nb_bytes())
    (tmp_path / "amy" / "demo1" / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC\n")
    (sub,), _ = submissions.discover(tmp_path, "demo1", ["backprop"])
    assert sub.timestamp == "2026-11-20 10:00:00 UTC"


def test_broken_task_file_stops_before_grading():
    def boom(ctx):
        raise KeyError("W3")

    spec = tasks.TaskSpec("t", 1, ("f",), boom, lambda p: None)
    with pytest.raises(CourseError, match="task t: the task file fails.*KeyError"):
        smoke_test_tasks([spec], "c", "a")


def test_renamed_notebook_is_graded_with_a_note(tmp_path):
    (tmp_path / "zed" / "demo1").mkdir(parents=True)
    (tmp_path / "zed" / "demo1" / "backprop (1).ipynb").write_bytes(_nb_bytes())
    (sub,), _ = submissions.discover(tmp_path, "demo1", ["backprop"])
    assert sub.notebooks["backprop"] is not None and "graded as backprop" in sub.notes[0]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        submissions.discover(tmp_path / "nope", "demo1", ["backprop"])


# ----------------------------------------------------------------------------- gradebook
def test_consistency_check_detects_tampering():
    before = {"stored": {"a/nb/t/source": ["assert x", "c1", "code", True]},
              "students": {"s1": {"a/nb/t": [1, None, None, False]},
                           "s2": {"a/nb/t": [0, None, None, False]}}}
    after = json.loads(json.dumps(before))
    assert check_consistency(before, after, {"s1"}, "a", {"s1": {"nb/t": 1}}) == []
    after["students"]["s2"]["a/nb/t"][0] = 3
    after["stored"]["a/nb/t/source"][0] = "pass"
    problems = check_consistency(before, after, {"s1"}, "a", {"s1": {"nb/t": 0}})
    text = " ".join(problems)
    assert "stored cells changed" in text and "s2: rows changed" in text
    assert "s1: nb/t holds 1, wrote 0" in text


def test_task_points_must_match_the_gradebook(released):
    stored = load_stored(released.db_url, released.course_id, ASSIGNMENT)
    spec = tasks.TaskSpec("test_answer", 9, ("answer",), lambda c: [], lambda p: None)
    with pytest.raises(CourseError, match="9 points"):
        check_tasks([spec], stored)
    with pytest.raises(CourseError, match="no grade cell"):
        check_tasks([tasks.TaskSpec("nope", 1, (), lambda c: [], lambda p: None)], stored)


def test_missing_assignment_in_gradebook_is_explained(released):
    with pytest.raises(CourseError, match="run the release command"):
        load_stored(released.db_url, released.course_id, "nope")


# ----------------------------------------------------------------------------- release
def test_release_is_clean_and_leaks_are_caught(released, tmp_path):
    assert release.check_release(released, ASSIGNMENT).ok
    rel = released.release_dir(ASSIGNMENT)
    nb_path = rel / "backprop.ipynb"
    original = nb_path.read_text()
    try:
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells[2].source += "\n    dY = (Y - T) / N"
        nbformat.write(nb, nb_path)
        (rel / "solutions.py").write_text("from backprop_ref import batched\n")
        leaks = " ".join(release.check_release(released, ASSIGNMENT).leaks)
        assert "dY = (Y - T) / N" in leaks
        assert "solutions.py: not a file of source" in leaks
        assert "imports the reference" in leaks
    finally:
        nb_path.write_text(original)
        (rel / "solutions.py").unlink()
    assert release.check_release(released, ASSIGNMENT).ok


# ----------------------------------------------------------------------------- process tree
def test_children_are_those_of_every_thread_and_the_same_as_by_parent():
    import subprocess
    import sys

    from autograder import sandbox

    # a parent of its own (the test process has other tests' children): two children, one
    # started from a second thread, then it waits for its stdin to close
    code = ("import subprocess, sys, threading\n"
            "kids = [subprocess.Popen(['sleep', '30'])]\n"
            "t = threading.Thread(target=lambda: kids.append(subprocess.Popen(['sleep', '30'])))\n"
            "t.start(); t.join()\n"
            "print(*sorted(k.pid for k in kids), flush=True)\n"
            "sys.stdin.read()\n"
            "[k.kill() for k in kids]\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        mine = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(mine) == 2
        assert sorted(sandbox.children(parent.pid)) == mine
        assert sorted(sandbox._children_by_parent(parent.pid)) == mine
        assert sandbox.children(mine[0]) == [] and sandbox.children(2**22 + 1) == []
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
