"""Trusted verdicts: run the student's code in the isolated runner and judge it here.

The runner (``_runner.py``) executes the student's code cells in ``python -I`` inside a fresh
sandbox workspace that holds only that code and the release-side files, calls the probes of every
:class:`~autograder.tasks.TaskSpec` and writes plain JSON/npz. This module generates the probes,
computes the reference values, reads the outputs strictly and applies each task's comparison.
No student code runs in this process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import plaindata, sandbox, stages, transport
from autograder.tasks import Probe, TaskContext, TaskSpec, Trial, Verdict, unwrap_trial
from coursekit.diagnose import form_mistake

RUNNER_SOURCE_PATH = Path(__file__).with_name("_runner.py")


@dataclass
class TrustedResult:
    """Verdicts per grade id plus what happened to the runner process."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    note: str = ""
    cell_errors: list[str | None] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)


def write_release_files(ws_path: Path, files: dict[str, bytes]) -> None:
    """Copy the release-side files (relative path -> bytes) into a workspace."""
    for rel, data in files.items():
        target = (ws_path / rel).resolve()
        if ws_path.resolve() not in target.parents:
            raise ValueError(f"release file path escapes the workspace: {rel}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def run_trusted(cells: list[str], tasks: list[TaskSpec], ctx: TaskContext,
                release_files: dict[str, bytes], limits: sandbox.Limits) -> TrustedResult:
    """Execute ``cells`` in the isolated runner, probe every task and judge the outputs."""
    import time  # noqa: PLC0415

    start = time.perf_counter()
    result = TrustedResult()
    if not tasks:
        return result
    plan: list[tuple[TaskSpec, list[Probe], list[Any]]] = []
    encoder = plaindata.Encoder()
    probes_json = []
    for spec in tasks:
        message = spec.structure(cells) if spec.structure else None
        if message:
            # The form is wrong whatever the numbers: judged from the source, not probed (a
            # finite-difference "backward" can be slow enough to starve the other tasks).
            result.verdicts[spec.grade_id] = Verdict(0.0, float(spec.points), message,
                                                     form_mistake(message))
            continue
        probes = list(spec.instances(ctx))
        wants = [spec.reference(p) for p in probes]
        plan.append((spec, probes, wants))
        for p in probes:
            probes_json.append({"name": p.name, "call": p.call, "args": encoder.enc(tuple(p.args)),
                                "kwargs": encoder.enc(dict(p.kwargs)), "repeat": p.repeat,
                                "readonly": p.readonly, "sympy": p.sympy,
                                "inject": dict(p.inject)})
    prepared = time.perf_counter()
    stages.add(result.stages, stages.TRUSTED_PREP, prepared - start)
    ws = sandbox.new_workspace()
    try:
        write_release_files(ws.path, release_files)
        job = ws.path / ".job"
        job.mkdir()
        (job / "job.json").write_text(json.dumps({"cells": cells, "probes": probes_json,
                                                  "step_seconds": limits.cell_timeout}),
                                      encoding="utf-8")
        np.savez(job / "inputs.npz", **encoder.arrays)
        sandbox.seal(ws)
        argv = [_python(), "-I", "-c", RUNNER_SOURCE_PATH.read_text(encoding="utf-8")]
        env = sandbox.clean_env(ws, ctx.student_id, {"BPC_TRUSTED_RUNNER": "1"})
        ran = time.perf_counter()
        stages.add(result.stages, stages.SANDBOX, ran - prepared)
        code, tail, timed_out = sandbox.run_sandboxed(ws, argv, env, limits,
                                                      limits.runner_timeout, "runner")
        judged = time.perf_counter()
        stages.add(result.stages, stages.TRUSTED_RUN, judged - ran)
        with transport.OutputDir(ws.path, ".job", "out") as out:
            result.note = _runner_note(code, tail, timed_out, out, limits)
            try:
                cells_out = out.load_json("cells.json")
                if isinstance(cells_out, list):
                    result.cell_errors = [c if isinstance(c, str) else None for c in cells_out]
            except transport.TransportError:
                pass
            k = 0
            trial_lists = []
            for _spec, probes, wants in plan:
                trials = []
                for probe, want in zip(probes, wants, strict=True):
                    trials.append(unwrap_trial(_read_trial(out, k, probe, want, result.note)))
                    k += 1
                trial_lists.append(trials)
        # The form rules were decided before probing (above); here only the values are judged.
        for (spec, _probes, _wants), trials in zip(plan, trial_lists, strict=True):
            result.verdicts[spec.grade_id] = spec.judge(trials)
        stages.add(result.stages, stages.JUDGING, time.perf_counter() - judged)
    finally:
        cleaned = time.perf_counter()
        sandbox.remove_workspace(ws, kill=False)
        stages.add(result.stages, stages.KERNEL_END, time.perf_counter() - cleaned)
    result.seconds = time.perf_counter() - start
    return result


def _python() -> str:
    import sys  # noqa: PLC0415

    return sys.executable


def _runner_note(code: int | None, tail: str, timed_out: bool, out: transport.OutputDir,
                 limits: sandbox.Limits) -> str:
    if timed_out:
        return f"the isolated run exceeded its time limit of {limits.runner_timeout:.0f} s"
    if tail.startswith("the workspace grew past its disk quota"):
        return tail.splitlines()[0]
    if out.exists("done.json") and code == 0:
        return ""
    if code is not None and code < 0:
        return f"the isolated run was killed by signal {-code} (CPU or memory limit?)"
    if "MemoryError" in tail:
        return "the isolated run ran out of memory"
    return f"the student code ended the isolated run early (exit code {code})"


def _read_trial(out: transport.OutputDir, k: int, probe: Probe, want: Any, note: str) -> Trial:
    """One probe's result, read as hostile input (see :mod:`autograder.transport`)."""
    if not out.exists(f"p{k}.json"):
        return Trial(probe, want, None, note or "the call did not finish")
    try:
        info = out.load_json(f"p{k}.json")
        if not isinstance(info, dict):
            raise plaindata.PlainDataError("bad result record")
        if info.get("error") is not None:
            return Trial(probe, want, None, str(info["error"])[:500])
        arrays = out.load_arrays(f"p{k}.npz")
        got = plaindata.decode(info.get("value"), arrays)
    except (OSError, ValueError, RecursionError) as exc:
        return Trial(probe, want, None, f"unreadable result ({str(exc)[:200]})")
    return Trial(probe, want, got, None)
