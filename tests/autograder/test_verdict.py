"""The verdict rule: a cell scores the lower of the kernel's and the trusted result, and every
disagreement is flagged with its reason (``autograder.worker.combine``)."""

from __future__ import annotations

from autograder.tasks import Verdict
from autograder.worker import combine


def test_kernel_failure_lowers_a_trusted_pass() -> None:
    v = Verdict(2.0, 2.0, "correct on every case")
    e = combine("t_hidden", 2.0, 0.0, "AssertionError: dW1 is wrong", v)
    assert e.score == 0.0 and e.flagged
    assert e.summary == "the notebook's own test failed (AssertionError: dW1 is wrong)"
    assert e.review == (
        "t_hidden: the notebook's own test gave 0 and the trusted check gave 2: the notebook's "
        "own test failed (AssertionError: dW1 is wrong) while the trusted check passed; "
        "the lower score, 0, counts"
    )


def test_trusted_failure_lowers_a_kernel_pass() -> None:
    v = Verdict(0.0, 3.0, "case 1: twin_backward failed", "error")
    e = combine("t_x", 3.0, 3.0, "passed", v)
    assert e.score == 0.0 and e.flagged
    assert "the trusted check failed (case 1: twin_backward failed: error) while the notebook's" \
           " own test passed; the lower score, 0, counts" in e.review
    assert "stands" not in e.review


def test_agreement_is_not_flagged_and_partial_credit_is_the_minimum() -> None:
    e = combine("t", 2.0, 2.0, "passed", Verdict(2.0, 2.0, "correct"))
    assert e.score == 2.0 and not e.flagged and e.review == ""
    e = combine("t", 4.0, 3.0, "passed", Verdict(1.0, 4.0, "1/4 parts correct"))
    assert e.score == 1.0 and e.flagged


def test_cells_without_a_trusted_task_keep_the_kernel_result() -> None:
    e = combine("t", 1.0, 1.0, "passed", None)
    assert e.score == 1.0 and e.summary == "passed" and not e.flagged


def test_side_effects_fail_the_task_with_their_own_message() -> None:
    import numpy as np

    from autograder import tasks

    spec = tasks.TaskSpec("g", 2, ("f",), lambda c: [], lambda p: None)
    want = {"W": np.ones((2, 2))}

    def trial(record: dict) -> tasks.Trial:
        return tasks.unwrap_trial(tasks.Trial(tasks.Probe("f"), want, record, None))

    same = {"W": np.ones((2, 2))}
    v = spec.judge([trial({"calls": [same, same], "errors": [None],
                           "mutated": ["params['W1']"]})])
    assert (v.score, v.diagnosis) == (0, "input_modified")
    assert v.message.startswith("f changed its argument params['W1'] in place")
    v = spec.judge([trial({"calls": [same], "errors": ["ValueError: assignment destination is "
                                                       "read-only"], "mutated": []})])
    assert (v.score, v.diagnosis) == (0, "input_modified")
    v = spec.judge([trial({"calls": [same, same], "errors": [None], "mutated": ["cache"]})])
    assert v.diagnosis == "cache_modified"
    # a wrong result (NaN included) repeated exactly is a wrong result, not a side effect
    nan = {"W": np.full((2, 2), np.nan)}
    v = spec.judge([trial({"calls": [nan, {"W": np.full((2, 2), np.nan)}], "errors": [None],
                           "mutated": []})])
    assert v.score == 0 and v.diagnosis not in ("accumulates", "input_modified")
    assert spec.judge([trial({"calls": [same, same], "errors": [None], "mutated": []})]).score == 2


def test_kept_state_found_elsewhere_is_named_where_the_notebook_test_failed():
    from autograder.worker import name_kept_state

    verdicts = {"a": Verdict(0, 1, "f: a second call gave a different result", "accumulates"),
                "b": Verdict(2, 2, "correct"), "c": Verdict(1, 1, "correct"),
                "d": Verdict(0, 1, "wrong")}
    cells = {"a": combine("a", 1, 0.0, "AssertionError", verdicts["a"]),
             "b": combine("b", 2, 0.0, "ValueError: shapes", verdicts["b"]),  # kernel failed
             "c": combine("c", 1, 0.0, "ValueError: shapes", verdicts["c"]),  # other function
             "d": combine("d", 1, 0.0, "ValueError: shapes", verdicts["d"])}  # trusted failed
    names = {"a": ("f",), "b": ("f",), "c": ("g",), "d": ("f",)}
    out = name_kept_state(cells, verdicts, names)
    assert out["b"].diagnosis == "accumulates" and out["b"].score == 0.0
    assert "f keeps state between calls (found by the check of a)" in out["b"].summary
    assert out["b"].flagged  # the disagreement stays flagged for the instructor
    assert out["c"] == cells["c"] and out["d"] == cells["d"] and out["a"] == cells["a"]
