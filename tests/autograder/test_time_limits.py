"""A time limit hit is said plainly and flagged for review, never scored 0 in silence.

The limits are wall-clock seconds (a hanging or sleeping cell must be stopped), so on a loaded
machine a right answer can run past them. Such a loss is evidence of slowness, not of a wrong
answer: the score stays the lower one (never more generous than the evidence), but the cell's
summary names the limit, the cell and the submission are flagged, and the instructor can
regrade. Before, a cell stopped in the isolated run left its names undefined and the task read
"NameError: name 'answer' is not defined: error", in agreement with the kernel's own
KeyboardInterrupt, so nothing was flagged.
"""

from __future__ import annotations

import nbformat
import pytest

from autograder import kernel, pipeline, runner_host, sandbox, synthetic
from autograder.results import CellResult, NotebookResult
from autograder.tasks import Verdict
from autograder.worker import TIME_LIMIT_HIT, Job, _result, name_time_limits
from tests.autograder.conftest import ASSIGNMENT

LIMITS = sandbox.Limits(cell_timeout=5)
# notebook: 0 setup, 1 answer f, 2 test of f, 3 answer g, 4 test of g; the runner gets 0, 1, 3
INDEX = {"test_f": 2, "test_g": 4}
RUNNER = [0, 1, 3]


def _cells(f: float = 1.0, g: float = 0.0) -> dict[str, CellResult]:
    return {"test_f": CellResult(1.0, f, "ok" if f else "f: NameError: name 'f' is not defined"),
            "test_g": CellResult(2.0, g, "g: NameError: name 'g' is not defined: error",
                                 "error")}


def _trusted(f: float = 1.0, g: float = 0.0, cell_errors=None, note: str = "",
             message: str = "g: NameError: name 'g' is not defined") -> runner_host.TrustedResult:
    return runner_host.TrustedResult(
        {"test_f": Verdict(f, 1.0, "ok" if f else "f failed"),
         "test_g": Verdict(g, 2.0, message, "error")},
        note=note, cell_errors=cell_errors if cell_errors is not None else [None, None, None])


def test_a_kernel_interrupt_before_a_lost_cell_is_named_and_flagged() -> None:
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4}, timed_out={3})
    cells, reviews = name_time_limits(_cells(), INDEX, info, _trusted(g=2.0), RUNNER, LIMITS)
    g = cells["test_g"]
    assert g.score == 0.0, "the score stays the lower one"
    assert g.summary.startswith("time limit: the kernel stopped cell 4 at the time limit of 5 s")
    assert g.flagged and TIME_LIMIT_HIT in g.review and "regrade" in g.review
    assert reviews == [g.review]
    assert cells["test_f"] == _cells()["test_f"], "a cell that kept its points is untouched"


def test_a_kernel_interrupt_after_a_cell_does_not_touch_it() -> None:
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4}, timed_out={3})
    cells, reviews = name_time_limits(_cells(f=0.0, g=2.0), INDEX, info,
                                      _trusted(f=0.0, g=2.0), RUNNER, LIMITS)
    assert cells == _cells(f=0.0, g=2.0) and reviews == []


def test_a_cell_stopped_in_the_isolated_run_is_named_where_the_trusted_check_failed() -> None:
    err = "_OvertimeError: the time limit for this cell or call was exceeded"
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4})
    trusted = _trusted(cell_errors=[None, None, err])
    cells, reviews = name_time_limits(_cells(), INDEX, info, trusted, RUNNER, LIMITS)
    g = cells["test_g"]
    assert g.summary.startswith("time limit: the isolated run stopped cell 4 at its time limit "
                                "of 5 s")
    assert g.flagged and g.diagnosis == "error" and g.score == 0.0
    assert not cells["test_f"].flagged and len(reviews) == 1


@pytest.mark.parametrize(("note", "message", "said"), [
    ("the isolated run exceeded its time limit of 45 s", "g failed",
     "the isolated run exceeded its time limit of 45 s"),
    ("the isolated run's answers were refused: the isolated run did not answer in time",
     "g failed", "did not answer in time"),
    ("", "g failed: _OvertimeError: the time limit for this cell or call was exceeded",
     "a call of the trusted check ran past its time limit of 5 s"),
])
def test_the_isolated_runs_other_time_limits_are_named(note: str, message: str,
                                                       said: str) -> None:
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4})
    trusted = _trusted(note=note, message=message)
    cells, _ = name_time_limits(_cells(), INDEX, info, trusted, RUNNER, LIMITS)
    assert said in cells["test_g"].summary and cells["test_g"].flagged


def test_the_notebook_time_limit_is_named_with_its_own_words() -> None:
    note = "the notebook exceeded the time limit of 180 s per submission"
    info = kernel.ExecInfo(executed={0, 1, 2}, died_in=3, notes=[note])
    cells, _ = name_time_limits(_cells(), INDEX, info, _trusted(g=2.0), RUNNER, LIMITS)
    assert cells["test_g"].summary.startswith(f"time limit: {note}")


def test_no_time_limit_changes_nothing() -> None:
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4}, notes=["the kernel died (os._exit)"],
                           died_in=3)
    cells, reviews = name_time_limits(_cells(), INDEX, info, _trusted(), RUNNER, LIMITS)
    assert cells == _cells() and reviews == []


def test_the_submission_is_flagged_with_the_time_limit_not_a_disagreement() -> None:
    info = kernel.ExecInfo(executed={0, 1, 2, 3, 4}, timed_out={3})
    cells, _ = name_time_limits(_cells(), INDEX, info, _trusted(), RUNNER, LIMITS)
    job = Job("alice", "a", "c", {}, {}, {}, None)
    flags = _result(job, {"nb": NotebookResult(cells, flagged=True)}, {}).flags
    assert flags == ("a time limit was hit before 1 task(s) lost points (a loaded machine can "
                     "cause it; check or regrade): test_g",)


@pytest.mark.slow
def test_an_answer_slower_than_the_limit_is_flagged_as_a_time_limit(fresh_course, tmp_path):
    """A right answer that needs more wall time than the cell limit (what a loaded machine does
    to a cell near its limit, made deterministic with a sleep): stopped in the kernel and in the
    isolated run, 0 for its test, and said and flagged as a time limit; the other cells keep
    their points and are not flagged."""
    rel = nbformat.read(fresh_course.release_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    src = nbformat.read(fresh_course.source_dir(ASSIGNMENT) / "backprop.ipynb", as_version=4)
    slow = synthetic.solved(src, rel, {"answer": "import time\n\ntime.sleep(4)\n"
                                                 "answer = float(np.sum(x ** 2))\n"})
    folder = tmp_path / "submitted"
    (folder / "slow" / ASSIGNMENT).mkdir(parents=True)
    (folder / "slow" / ASSIGNMENT / "backprop.ipynb").write_text(nbformat.writes(slow))
    limits = sandbox.Limits(cell_timeout=2, submission_timeout=60, runner_timeout=10,
                            memory_bytes=2 * 1024**3)
    report = pipeline.grade_assignment(fresh_course, ASSIGNMENT, folder,
                                       pipeline.GradeOptions(workers=1, limits=limits))
    row = {r.student: r for r in report.rows}["slow"]
    cell = row.cells["test_answer"]
    assert cell.score == 0.0
    assert cell.summary.startswith("time limit: "), cell.summary
    assert "at the time limit of 2 s" in cell.summary, cell.summary
    assert cell.needs_manual, "flagged for the instructor's review in formgrader"
    assert any(TIME_LIMIT_HIT in f and "test_answer" in f for f in row.flags), row.flags
    assert row.cells["test_grad_hidden"].score == 3.0
    assert not row.cells["test_grad_hidden"].needs_manual


def test_a_cell_nbclient_interrupts_at_its_timeout_is_recorded_as_timed_out():
    """Recorded by nbclient's own timeout, not only by the watchdog's look every 0.2 s, which
    misses a cell that the interrupt ends in between."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager
    from nbformat.v4 import new_code_cell, new_notebook

    class Manager(AsyncKernelManager):
        interrupted = 0

        async def _async_interrupt_kernel(self) -> None:
            Manager.interrupted += 1

        interrupt_kernel = _async_interrupt_kernel

    nb = new_notebook(cells=[new_code_cell("1"), new_code_cell("1"), new_code_cell("2")])
    info = kernel.ExecInfo()
    client = kernel._LimitedClient(nb, sandbox.Limits(), info, km=Manager(),
                                   interrupt_on_timeout=True)
    asyncio.run(client._async_handle_timeout(2, nb.cells[1]))  # equal to cell 0, not it
    assert info.timed_out == {1} and Manager.interrupted == 1
