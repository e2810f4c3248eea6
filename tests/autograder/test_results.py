"""Results cross two boundaries: processes by pickling, and the next run by the resume marker's
JSON (``autograder.results``). Old markers are read, unreadable ones count as absent."""

from __future__ import annotations

import json
import pickle

import pytest

from autograder import sandbox
from autograder.results import (
    MARKER_VERSION,
    CellResult,
    Marker,
    MarkerCell,
    NotebookResult,
    StudentResult,
    read_marker,
)
from autograder.worker import Job

RESULT = StudentResult(
    "alice",
    {"backprop": NotebookResult(
        {"t1": CellResult(2.0, 2.0, "correct on every case"),
         "t2": CellResult(3.0, 0.0, "dW1 is wrong: transposed", "transposed_dW",
                          "t2: the notebook's own test gave 3 and the trusted check gave 0"),
         "explain": CellResult(1.0, None, "needs manual grading")},
        {"answer": "No response."}, True, ("a note on the notebook",), "{}")},
    ("submitted as a zip",), ("notebook and trusted results disagree on 1 task(s): t2",),
    {"parse + restore notebook": 0.25})


def test_marker_round_trip() -> None:
    marker = Marker.of(RESULT, "d1", "l1")
    assert marker.cells["t2"] == MarkerCell("dW1 is wrong: transposed", "transposed_dW")
    assert marker.diagnosis == "t2: transposed_dW"
    assert marker.notes == ("submitted as a zip", "a note on the notebook")
    assert marker.flags == RESULT.flags
    text = marker.to_json()
    assert json.loads(text)["version"] == MARKER_VERSION
    assert Marker.from_json(text) == marker


def test_first_format_markers_are_read() -> None:
    old = {"student": "alice", "score": 5.0, "max_score": 7.0, "needs_manual": True,
           "cells": {"t1": {"score": 2.0, "max_score": 2.0, "summary": "correct",
                            "flagged": False, "diagnosis": ""}},
           "diagnosis": "", "flags": ["f"], "notes": ["n"], "digest": "d", "seconds": 1.5,
           "logic": "l"}
    assert Marker.from_json(json.dumps(old)) == Marker(
        "d", "l", {"t1": MarkerCell("correct", "")}, "", ("f",), ("n",))
    # the first write of a student's marker has no logic yet: it never counts as finished
    assert Marker.from_json(json.dumps({**old, "logic": ""})).logic == ""


@pytest.mark.parametrize("text", [
    "", "{", "[]", '{"version": 99, "digest": "d", "logic": "l"}',
    '{"digest": 3, "logic": "l"}', '{"cells": {"t1": "x"}}', '{"flags": "not a list"}',
    '{"notes": [1]}'])
def test_unreadable_markers_are_absent(text: str, tmp_path) -> None:
    assert Marker.from_json(text) is None
    path = tmp_path / "m.json"
    path.write_text(text)
    assert read_marker(path) is None
    path.write_bytes(b"\xff\xfe")
    assert read_marker(path) is None
    assert read_marker(tmp_path / "missing.json") is None


def test_results_and_jobs_pickle() -> None:
    assert pickle.loads(pickle.dumps(RESULT)) == RESULT
    assert RESULT.notebooks["backprop"].cells["t2"].flagged
    assert not RESULT.notebooks["backprop"].cells["t1"].flagged
    limits = sandbox.Limits(cell_timeout=5, unsafe=True)
    job = Job("alice", "demo1", "course", {}, {}, {}, None, limits)
    assert pickle.loads(pickle.dumps(job)).limits == limits
