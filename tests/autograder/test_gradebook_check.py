"""The post-batch gradebook check compares every field of every student."""

from __future__ import annotations

import copy

from autograder.gradebook import check_consistency

BEFORE = {
    "stored": {"a/nb/t/grade": [1.0, "code"]},
    "students": {
        "alice": {"student": ["A", "L", "a@x", None], "a/submission": ["t0", "None"],
                  "a/nb/flagged": False, "a/nb/t": [0.0, 2.0, 1.0, False],
                  "a/nb/s/comment": [None, "nice"], "b/nb/t": [1.0, None, None, False]},
        "bob": {"student": ["B", None, None, None], "a/nb/t": [1.0, None, None, False]},
    },
}
WRITTEN = {"alice": {"nb/t": 1.0, "nb/t/needs_manual": False, "nb/s/comment": "auto",
                     "nb/flagged": True}}


def _after() -> dict:
    after = copy.deepcopy(BEFORE)
    alice = after["students"]["alice"]
    alice["a/nb/t"][0] = 1.0
    alice["a/nb/s/comment"][0] = "auto"
    alice["a/nb/flagged"] = True
    alice["a/submission"] = ["t1", "None"]
    return after


def test_consistent_when_only_written_fields_changed():
    assert check_consistency(BEFORE, _after(), {"alice"}, "a", WRITTEN) == []


def test_every_field_is_checked():
    cases = {
        "manual score or extra credit": lambda s: s["alice"]["a/nb/t"].__setitem__(1, 9.0),
        "extra credit": lambda s: s["alice"]["a/nb/t"].__setitem__(2, 9.0),
        "manual comment": lambda s: s["alice"]["a/nb/s/comment"].__setitem__(1, "hacked"),
        "holds": lambda s: s["alice"]["a/nb/t"].__setitem__(0, 5.0),
        "flagged": lambda s: s["alice"].__setitem__("a/nb/flagged", False),
        "b/nb/t": lambda s: s["alice"]["b/nb/t"].__setitem__(1, 3.0),
        "student": lambda s: s["alice"].__setitem__("student", ["Eve", "L", "a@x", None]),
        "not graded": lambda s: s["bob"]["a/nb/t"].__setitem__(1, 3.0),
    }
    for what, change in cases.items():
        after = _after()
        change(after["students"])
        problems = check_consistency(BEFORE, after, {"alice"}, "a", WRITTEN)
        assert len(problems) == 1, (what, problems)
