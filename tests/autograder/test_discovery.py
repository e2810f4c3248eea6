"""Discovery is unambiguous: one id per student from one source, Canvas bulk-download names,
full-match ids; clashes are refused for every entry involved, with the reason."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from autograder.course import CourseError
from autograder.lms import canvas_ids, load_roster
from autograder.submissions import canvas_name, discover, valid_student_id

NBS = ["backprop"]
A = "demo1"


def nb(text: str = "x") -> bytes:
    return json.dumps({"cells": [], "metadata": {"note": text}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


def zipped(**members: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def found(folder, canvas=None):
    subs, rejected = discover(folder, A, NBS, canvas)
    return {s.student: s for s in subs}, {r.path: r.reason for r in rejected}


@pytest.mark.parametrize("name, ok", [("alice", True), ("a.b-c_d@x+y", True),
                                      ("alice\n", False), ("alice\r", False), ("", False),
                                      ("-alice", False), ("al/ice", False), ("a..b", False),
                                      ("é", False), ("a" * 101, False)])
def test_ids_must_match_whole(name, ok):
    assert valid_student_id(name) is ok


def test_zip_beside_loose_notebooks_is_refused_for_both(tmp_path):
    (tmp_path / "victim.ipynb").write_bytes(nb("honest"))
    (tmp_path / "victim.zip").write_bytes(zipped(**{"backprop.ipynb": nb("planted")}))
    (tmp_path / "other.ipynb").write_bytes(nb())
    subs, rejected = found(tmp_path)
    assert sorted(subs) == ["other"]
    assert set(rejected) == {"victim.ipynb", "victim.zip"}
    assert "more than one layout (loose notebooks and zip" in rejected["victim.zip"]
    assert "nothing was merged" in rejected["victim.ipynb"]


def test_folder_beside_zip_is_refused(tmp_path):
    (tmp_path / "bob" / A).mkdir(parents=True)
    (tmp_path / "bob" / A / "backprop.ipynb").write_bytes(nb())
    (tmp_path / "bob.zip").write_bytes(zipped(**{"w/backprop.ipynb": nb("other")}))
    subs, rejected = found(tmp_path)
    assert subs == {} and set(rejected) == {"bob", "bob.zip"}


def test_trailing_newline_and_case_twins(tmp_path):
    (tmp_path / "alice\n").mkdir()
    (tmp_path / "alice\n" / A).mkdir()
    (tmp_path / "alice\n" / A / "backprop.ipynb").write_bytes(nb())
    (tmp_path / "Bob.ipynb").write_bytes(nb("1"))
    (tmp_path / "bob.ipynb").write_bytes(nb("2"))
    subs, rejected = found(tmp_path)
    assert subs == {}
    assert "is not a valid student id" in rejected["alice\n"]
    assert "differ only in case" in rejected["Bob.ipynb"] and "bob.ipynb" in rejected


def test_loose_duplicates_of_one_notebook(tmp_path):
    (tmp_path / "carl.ipynb").write_bytes(nb("a"))
    (tmp_path / "carl__backprop.ipynb").write_bytes(nb("b"))
    (tmp_path / "dina.ipynb").write_bytes(nb("same"))
    (tmp_path / "dina__backprop.ipynb").write_bytes(nb("same"))
    subs, rejected = found(tmp_path)
    assert "two different files for backprop.ipynb" in rejected["carl.ipynb"]
    assert subs["dina"].notebooks["backprop"] == nb("same")
    assert any("identical copy" in n for n in subs["dina"].notes)


def test_canvas_bulk_download_names(tmp_path):
    assert canvas_name("smithalice_12345_67890_backprop.ipynb")["uid"] == "12345"
    assert canvas_name("smithalice_LATE_12345_67890_backprop-1.ipynb")["late"]
    assert canvas_name("smithalice_12345_67890_backprop (1).ipynb")["dup"] == "1"
    assert canvas_name("smithalice.ipynb") is None
    (tmp_path / "smithalice_12345_67890_backprop.ipynb").write_bytes(nb("a"))
    (tmp_path / "smithalice_12345_67890_backprop (1).ipynb").write_bytes(nb("a"))
    (tmp_path / "jonesbob_LATE_222_333_backprop-1.ipynb").write_bytes(nb("b"))
    (tmp_path / "leecara_444_555_backprop.ipynb").write_bytes(nb("c1"))
    (tmp_path / "leecara_444_556_backprop.ipynb").write_bytes(nb("c2"))
    (tmp_path / "kimdan_666_777_backprop.ipynb").write_bytes(nb("d1"))
    (tmp_path / "kimdan_666_777_backprop (1).ipynb").write_bytes(nb("d2"))
    (tmp_path / "nguyenem_888_999_work.zip").write_bytes(zipped(**{"backprop.ipynb": nb("e")}))
    roster = tmp_path.parent / "roster.csv"
    roster.write_text("student_id,canvas_id\nalice,12345\nbob,222\ncara,444\ndan,666\n"
                      "emma,888\n")
    subs, rejected = found(tmp_path, canvas_ids(load_roster(roster)))
    assert sorted(subs) == ["alice", "bob", "emma"]
    assert subs["alice"].notebooks["backprop"] == nb("a")
    assert subs["bob"].notebooks["backprop"] == nb("b")
    assert "Canvas marked this submission late" in subs["bob"].notes
    assert subs["emma"].notebooks["backprop"] == nb("e")
    assert "several Canvas submissions (555, 556)" in rejected["leecara_444_555_backprop.ipynb"]
    assert "two different files" in rejected["kimdan_666_777_backprop (1).ipynb"]
    # without a roster the Canvas user id is the student id; unknown ids with one are refused
    subs, _ = found(tmp_path)
    assert "12345" in subs
    roster.write_text("student_id,canvas_id\nalice,12345\n")
    _, rejected = found(tmp_path, canvas_ids(load_roster(roster)))
    assert "Canvas user 222 is not in the roster" in rejected[
        "jonesbob_LATE_222_333_backprop-1.ipynb"]


def test_roster_errors(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("student_id,canvas_id\nalice,1\nbob,1\n")
    with pytest.raises(CourseError, match="Canvas id 1 is given to both alice and bob"):
        load_roster(roster)
    roster.write_text("id,canvas_id\nalice,1\n")
    with pytest.raises(CourseError, match="has no student_id column"):
        load_roster(roster)


def _bomb(members: int, size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for i in range(members):
            zf.writestr(f"extra{i}.ipynb", bytes(size))
        zf.writestr("backprop.ipynb", nb("mine"))
    return buf.getvalue()


@pytest.mark.slow
def test_a_zip_of_many_large_notebooks_reads_only_the_one_graded(tmp_path):
    """50 members of 20 MB each in a 1 MB zip: only the assignment's notebook is read."""
    import tracemalloc

    data = _bomb(50, 20 * 1024**2 - 1)
    assert len(data) < 1.5 * 1024**2
    (tmp_path / "bob.zip").write_bytes(data)
    folder = tmp_path / "loose" / "carol" / A
    folder.mkdir(parents=True)
    for i in range(5):
        (folder / f"extra{i}.ipynb").write_bytes(bytes(20 * 1024**2 - 1))
    (folder / "backprop.ipynb").write_bytes(nb("mine"))
    tracemalloc.start()
    try:
        subs, _ = found(tmp_path)
        loose, _ = found(tmp_path / "loose")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024**2, peak
    for sub in (subs["bob"], loose["carol"]):
        assert json.loads(sub.notebooks["backprop"])["metadata"]["note"] == "mine"
        assert "ignored notebooks that are not part of the assignment" in " ".join(sub.notes)
