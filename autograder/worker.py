"""Grade one submission: a pure function from a plain-data job to a :class:`StudentResult`.

Runs in a worker process (local pool or Dask), never touches the gradebook. For each notebook:
parse and sanitize it, execute it in a sandboxed kernel (nbgrader's grading, with stderr ignored),
run the student's code in the isolated runner and judge every registered task in this trusted
process, then combine them with the verdict rule (:func:`combine`): a cell scores the LOWER of
the kernel's result and the trusted result, and every disagreement is flagged with its reason
for the instructor. The feedback page is made by the coordinator from the gradebook (and
rendered by whichever worker is free: :mod:`autograder.pipeline`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

import nbformat
from nbgrader import utils as nbg_utils

from autograder import kernel, runner_host, sandbox, sanitize, stages, tasks
from autograder.results import CellResult, NotebookResult, StudentResult


@dataclass
class Job:
    """Everything needed to grade one student (plain data, picklable, no paths to secrets)."""

    student: str
    assignment: str
    course_id: str
    notebooks: dict[str, bytes | None]
    stored: dict[str, Any]
    release_files: dict[str, bytes]
    tasks_source: str | None
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    notes: list[str] = field(default_factory=list)
    digest: str = ""
    timestamp: str | None = None


def grade_job(job: Job) -> StudentResult:
    """Grade one job; never raises for anything a submission does."""
    try:
        return _grade(job)
    except Exception as exc:
        return failed_result(job, f"internal grader error: {type(exc).__name__}: {exc}",
                             flag=True)


def _specs(job: Job) -> list[tasks.TaskSpec]:
    if not job.tasks_source:
        return []
    return tasks.load_tasks_source(job.tasks_source, job.assignment)


def _grade(job: Job) -> StudentResult:
    specs = _specs(job)
    ctx = tasks.make_context(job.course_id, job.assignment, job.student)
    clock: dict[str, float] = {}
    notebooks = {}
    for nb_name, stored in job.stored.items():
        mine = [s for s in specs if (s.notebook or nb_name) == nb_name and s.grade_id in
                stored["grade"]]
        notebooks[nb_name] = _grade_notebook(job, nb_name, stored, mine, ctx, job.limits, clock)
    return _result(job, notebooks, clock)


def _grade_notebook(job: Job, nb_name: str, stored: dict[str, Any], specs: list[tasks.TaskSpec],
                    ctx: tasks.TaskContext, limits: sandbox.Limits,
                    clock: dict[str, float]) -> NotebookResult:
    notes: list[str] = []
    parse_start = time.perf_counter()
    raw = job.notebooks.get(nb_name)
    if raw is None:
        return _unreadable(stored, f"{nb_name}.ipynb was not submitted")
    try:  # parsed and restored in a child bounded in time and memory
        nb, restored, submitted_kernel = sanitize.read_submission(raw, stored, nb_name,
                                                                 job.assignment)
    except sanitize.SubmissionError as exc:
        return _unreadable(stored, f"{nb_name}.ipynb: {exc}")
    notes += restored
    wanted = json.loads(stored["kernelspec"]).get("name") if stored.get("kernelspec") else None
    if submitted_kernel and wanted and submitted_kernel != wanted:
        notes.append(f"the notebook asked for the kernel '{submitted_kernel}'; it was graded "
                     "with the course's Python kernel")
    # taken before the kernel runs: nothing the kernel does reaches the isolated runner
    runner_index = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                    and not nbg_utils.is_grade(c)]
    code_cells = [nb.cells[i].source for i in runner_index]
    stages.add(clock, stages.PARSE, time.perf_counter() - parse_start)
    with stages.timed(clock, stages.SANDBOX):
        ws = sandbox.new_workspace()
    try:
        with stages.timed(clock, stages.SANDBOX):
            runner_host.write_release_files(ws.path, job.release_files)
            sandbox.seal(ws)
        info = kernel.execute(nb, ws, job.student, limits)
    finally:
        with stages.timed(clock, stages.KERNEL_END):
            sandbox.remove_workspace(ws, kill=False)
    stages.merge(clock, info.stages)
    notes += info.notes
    if info.truncated:
        notes.append("some output was longer than the size limit and was truncated")
    verdicts = runner_host.run_trusted(code_cells, specs, ctx, job.release_files, limits)
    stages.merge(clock, verdicts.stages)
    if verdicts.note:
        notes.append(verdicts.note)
    with stages.timed(clock, stages.JUDGING):
        cells, comments, flagged = _score_cells(nb, info, verdicts.verdicts, notes)
        cells = name_kept_state(cells, verdicts.verdicts, {s.grade_id: s.names for s in specs})
        cells, stopped = name_time_limits(cells, _grade_index(nb), info, verdicts, runner_index,
                                          limits)
        notes += stopped
        flagged = flagged or bool(stopped)
    # the feedback page is rendered by the coordinator from the gradebook (autograder.publish)
    with stages.timed(clock, stages.PARSE):
        graded_nb = nbformat.writes(nb)
    return NotebookResult(cells, comments, flagged, tuple(notes), graded_nb)


def kernel_score(cell: Any) -> tuple[float | None, str]:
    """nbgrader's rule without its flaws: stderr ignored, oversized partial credit rejected."""
    if cell.cell_type != "code":
        auto, _ = nbg_utils.determine_grade(cell)
        return auto, ("no answer" if auto == 0 else "needs manual grading")
    probe = nbformat.from_dict(cell)
    probe.outputs = [o for o in cell.get("outputs", [])
                     if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    errors = [o for o in probe.outputs if o.get("output_type") == "error"]
    if errors:
        return 0.0, f"{errors[0].get('ename', 'Error')}"
    try:
        auto, _ = nbg_utils.determine_grade(probe)
    except ValueError:
        return 0.0, "the cell's value was larger than its points"
    return (float(auto) if auto is not None else 0.0), "passed"


def _score_cells(nb: Any, info: kernel.ExecInfo, verdicts: dict[str, tasks.Verdict],
                 notes: list[str]) -> tuple[dict[str, CellResult], dict[str, str | None], bool]:
    cells: dict[str, CellResult] = {}
    comments: dict[str, str | None] = {}
    flagged = False
    for idx, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid and (nbg_utils.is_solution(cell) or nbg_utils.is_task(cell)):
            unchanged = meta.get("checksum") == nbg_utils.compute_checksum(cell)
            comments[gid] = "No response." if unchanged and not nbg_utils.is_task(cell) else None
        if not gid or not nbg_utils.is_grade(cell):
            continue
        points = float(meta.get("points", 0))
        if cell.cell_type == "code" and idx not in info.executed:
            k_score, k_why = 0.0, "not run (the kernel had stopped)"
        elif cell.cell_type == "code" and info.status.get(idx, "ok") != "ok":
            k_score = 0.0
            k_why = f"the kernel's reply to this cell was '{info.status[idx][:40]}', not 'ok'"
        else:
            k_score, k_why = kernel_score(cell)
            k_why = _error_text(cell) or k_why
        entry = combine(gid, points, k_score, k_why, verdicts.get(gid), cell.cell_type == "code")
        if entry.flagged:
            flagged = True
            notes.append(entry.review)
        cells[gid] = entry
    return cells, comments, flagged


def name_kept_state(cells: dict[str, CellResult], verdicts: dict[str, tasks.Verdict],
                    names: dict[str, tuple[str, ...]]) -> dict[str, CellResult]:
    """Where the notebook's own test of a cell failed although the trusted check of that cell
    passed, and the trusted check of another cell found that a function both cells use keeps
    state between calls, say so in that cell's summary (two facts the grader verified; the
    score stays the lower one). A function that keeps state gives other results in the
    student's kernel, after the notebook's earlier calls, than on the grader's fresh calls."""
    kept: dict[str, str] = {}
    for gid, verdict in verdicts.items():
        if verdict.diagnosis == "accumulates":
            for name in names.get(gid, ()):
                kept.setdefault(name, gid)
    out = dict(cells)
    for gid, cell in cells.items():
        verdict = verdicts.get(gid)
        if (cell.diagnosis != "notebook_test_failed" or verdict is None
                or verdict.score < verdict.max_score):
            continue
        shared = [n for n in names.get(gid, ()) if n in kept and kept[n] != gid]
        if shared:
            name = shared[0]
            out[gid] = replace(cell, diagnosis="accumulates", summary=(
                f"{cell.summary}; the grader's fresh calls pass, but {name} keeps state between "
                f"calls (found by the check of {kept[name]}), so after your notebook's earlier "
                "calls it gives other results: accumulates"))
    return out


def _grade_index(nb: Any) -> dict[str, int]:
    """grade_id -> index of the grade cell in ``nb``."""
    return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells)
            if nbg_utils.is_grade(c) and c.metadata.get("nbgrader", {}).get("grade_id")}


TIME_LIMIT_HIT = "a time limit was hit"
"""Words of the review text of a cell flagged by :func:`name_time_limits`."""

_OVERTIME = ("the time limit for this cell or call was exceeded", "exceeded its time limit",
             "ran past the time limit", "time limit of", "did not answer in time")
"""How the runner, the transport and the kernel's watchdog word a time limit (the first is
the runner's error for a cell or call stopped after its step)."""


def name_time_limits(cells: dict[str, CellResult], index: dict[str, int], info: kernel.ExecInfo,
                     verdicts: runner_host.TrustedResult, runner_index: list[int],
                     limits: sandbox.Limits) -> tuple[dict[str, CellResult], list[str]]:
    """Say plainly, and flag for review, every cell that lost points after a time limit
    stopped something it depends on; (cells, the review text of each cell so flagged).

    The limits are wall-clock seconds (a hanging or sleeping cell must be stopped), so on a
    loaded machine a right answer can run past them: such a loss is evidence of slowness, not
    of a wrong answer. The score stays the lower one (never more generous than the evidence);
    the summary names the limit and the cell flags for the instructor, who can regrade.
    Kernel: a cell interrupted after ``cell_timeout`` (or the notebook ended by the time
    limit) affects the grade cells from that cell on. Isolated run: a cell stopped after its
    step, the whole run past ``runner_timeout``, or a probe past its step affects every cell
    whose trusted check failed."""
    kernel_stops = {i: f"the kernel stopped cell {i + 1} at the time limit of "
                       f"{limits.cell_timeout:.0f} s per cell" for i in info.timed_out}
    ended = [n for n in info.notes if "per submission" in n or "ignored the interrupt" in n
             or n.startswith("cell timed out")]  # the watchdog's and nbclient's time limits
    if info.died_in is not None and ended:
        kernel_stops[info.died_in] = ended[0]
    runner_stops = [runner_index[i] for i, err in enumerate(verdicts.cell_errors)
                    if i < len(runner_index) and err and _OVERTIME[0] in err]
    runner_note = verdicts.note if any(w in verdicts.note for w in _OVERTIME) else ""
    out = dict(cells)
    stopped: list[str] = []
    for gid, cell in cells.items():
        if cell.score is None or cell.score >= cell.max_score - 1e-9 or gid not in index:
            continue
        reasons = []
        before = sorted(i for i in kernel_stops if i <= index[gid])
        if before:
            reasons.append(kernel_stops[before[0]])
        verdict = verdicts.verdicts.get(gid)
        if verdict is not None and verdict.score < verdict.max_score - 1e-9:
            if runner_stops:
                reasons.append(f"the isolated run stopped cell {runner_stops[0] + 1} at its time "
                               f"limit of {limits.cell_timeout:.0f} s")
            elif runner_note:
                reasons.append(runner_note)
            elif _OVERTIME[0] in verdict.message or _OVERTIME[0] in verdict.diagnosis:
                reasons.append(f"a call of the trusted check ran past its time limit of "
                               f"{limits.cell_timeout:.0f} s")
        if not reasons:
            continue
        why = "; ".join(reasons)
        review = (f"{gid}: {TIME_LIMIT_HIT} ({why}) and the cell lost its points after it, "
                  "which a slow or loaded machine can cause: check the answer or regrade")
        out[gid] = replace(cell, summary=f"time limit: {why}; {cell.summary}",
                           diagnosis=cell.diagnosis or "time_limit",
                           review=f"{cell.review}; {review}" if cell.review else review)
        stopped.append(review)
    return out, stopped


def _error_text(cell: Any) -> str:
    """``ename: first line of evalue`` of the cell's first error output ("" when none)."""
    for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
        if out.get("output_type") == "error":
            first = str(out.get("evalue", "")).strip().splitlines()[:1]
            text = f"{out.get('ename', 'Error')}" + (f": {first[0]}" if first else "")
            return text[:300]
    return ""


def combine(gid: str, points: float, k_score: float | None, k_why: str,
            verdict: tasks.Verdict | None, is_code: bool = True) -> CellResult:
    """The verdict rule for one grade cell: the LOWER of the kernel's and the trusted result.

    A submission never gains a point the notebook's own tests denied, and the trusted check can
    only take points away from what the kernel reported, never add them. Any disagreement sets
    ``review`` (the reason, for the instructor), which flags the cell. Without a trusted task
    (manual cells, or a task file that does not cover the cell) the kernel's result is the score.
    """
    if verdict is None:
        summary = k_why if is_code else ("needs manual grading" if k_score is None
                                         else "no answer")
        return CellResult(points, k_score, summary, "" if k_score else k_why)
    t_score = verdict.score
    score = t_score if k_score is None else min(k_score, t_score)
    diagnosis = verdict.diagnosis
    summary = verdict.message + (f": {verdict.diagnosis}" if verdict.diagnosis else "")
    right = [p for p, ok in verdict.parts.items() if ok]
    wrong = [p for p, ok in verdict.parts.items() if not ok]
    if wrong and right:
        summary += f" (right: {', '.join(right)}; wrong: {', '.join(wrong)})"
    if k_score is not None and k_score < t_score - 1e-9:
        diagnosis = diagnosis or "notebook_test_failed"
        summary = f"the notebook's own test failed ({k_why})"
    review = ""
    if k_score is None or abs(k_score - t_score) > 1e-9:
        k_text = "no score" if k_score is None else f"{k_score:g}"
        if k_score is not None and k_score < t_score:
            why = f"the notebook's own test failed ({k_why}) while the trusted check passed"
        else:
            why = (f"the trusted check failed ({verdict.message}"
                   f"{': ' + verdict.diagnosis if verdict.diagnosis else ''})"
                   " while the notebook's own test passed")
        review = (f"{gid}: the notebook's own test gave {k_text} and the trusted check "
                  f"gave {t_score:g}: {why}; the lower score, {score:g}, counts")
    return CellResult(points, score, summary, diagnosis, review)


def _unreadable(stored: dict[str, Any], reason: str, flag: bool = False) -> NotebookResult:
    cells = {gid: CellResult(g["max_score"], 0.0, reason, reason)
             for gid, g in stored["grade"].items()}
    return NotebookResult(cells, {}, flag, (reason,), None)


def failed_result(job: Job, reason: str, flag: bool) -> StudentResult:
    """A result giving zero everywhere with ``reason`` (internal errors, lost workers)."""
    notebooks = {nb_name: _unreadable(stored, reason, flag)
                 for nb_name, stored in job.stored.items()}
    return _result(job, notebooks, {})


def _result(job: Job, notebooks: dict[str, NotebookResult],
            clock: dict[str, float]) -> StudentResult:
    """The student's result, flagged when a cell's two results disagree, a cell lost points
    after a time limit, or a notebook is flagged."""
    flags: list[str] = []
    disagree: list[str] = []
    timed: list[str] = []
    for nb_res in notebooks.values():
        disagree += [gid for gid, cell in nb_res.cells.items()
                     if cell.flagged and not cell.review.startswith(f"{gid}: {TIME_LIMIT_HIT}")]
        timed += [gid for gid, cell in nb_res.cells.items() if TIME_LIMIT_HIT in cell.review]
        if nb_res.flagged and not disagree and not timed:
            flags.append("flagged for review")
    if timed:
        flags.insert(0, f"a time limit was hit before {len(timed)} task(s) lost points (a "
                        f"loaded machine can cause it; check or regrade): {', '.join(timed)}")
    if disagree:
        flags.insert(0, f"notebook and trusted results disagree on {len(disagree)} task(s): "
                        f"{', '.join(disagree)}")
    return StudentResult(job.student, notebooks, tuple(job.notes), tuple(flags), clock)
