"""Trusted verdicts: run the student's code in the isolated runner and judge it here.

The runner (``sandboxed/runner.py``) executes the student's code cells in ``python -I`` inside
a fresh sandbox workspace that holds only that code and the release-side files, calls the probes
of every :class:`~autograder.tasks.TaskSpec` and answers in plain JSON/npz over a pipe
(:mod:`autograder.transport`). This module generates the probes, computes the reference values,
reads the answers strictly and applies each task's comparison. No student code runs in this
process, and no reference value ever leaves it.

What student code can hold is limited by construction (:func:`runner_chains`): a probe's data
(its inputs and the reference sources ``inject`` lends it) is sent only after the previous
probe's answer has been read, a variable probe gets no arguments at all, and the probes are split
into **chains**, one fresh sandbox each, in which every probe is lent a superset of what the
probes before it were lent and never the function it is about. So whatever student code keeps
from one probe can only reach a later probe of its chain, which is lent the same sources anyway:
no probe's answer can depend on a reference source it was not itself given, nor on a reference
of the function it is about.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import plaindata, sandbox, stages, transport
from autograder.structure import parsed
from autograder.tasks import Probe, TaskContext, TaskSpec, Trial, Verdict, unwrap_trial
from coursekit.diagnose import form_mistake

RUNNER_SOURCE_PATH = sandbox.SANDBOXED_DIR / "runner.py"
_MARGIN = 5.0  # seconds allowed beyond a probe's own time limit for encoding and the pipe


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


def defined_names(source: str) -> set[str]:
    """The top-level names a reference source binds (functions, classes, assignments)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def runner_chains(probes: list[Probe]) -> list[list[int]]:
    """Split probe indexes into chains run in separate sandboxes (see the module docstring).

    In each chain the lent sources only grow (each probe's ``inject`` items include those of
    every earlier probe of the chain); probes lent the same sources keep their order. A probe
    lent a source that defines the very function it calls is a task-file error."""
    keys = []
    for probe in probes:
        lent = frozenset(probe.inject.items())
        for label, src in lent:
            if probe.name in defined_names(src):
                raise ValueError(f"a probe of {probe.name} is lent a reference source that "
                                 f"defines {probe.name} itself ({label!r})")
        keys.append(lent)
    chains: list[list[int]] = []
    for k in sorted(range(len(probes)), key=lambda i: (len(keys[i]), i)):
        for chain in chains:
            if keys[chain[-1]] <= keys[k]:
                chain.append(k)
                break
        else:
            chains.append([k])
    return chains


@dataclass
class _Answer:
    """What one chain's runner answered (read in the exchange thread)."""

    cells: list[str | None] | None = None
    replies: dict[int, tuple[Any, dict[str, np.ndarray]] | str] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    error: str = ""
    finished: bool = False


def _wire(probe: Probe, fresh: list[str]) -> tuple[dict[str, Any], bytes]:
    """A probe as the runner receives it: a variable probe carries no arguments; a call first
    runs ``fresh`` (the student's own definitions, :func:`fresh_definitions`), then the lent
    reference sources."""
    encoder = plaindata.Encoder()
    msg = {"name": probe.name, "call": probe.call, "repeat": probe.repeat,
           "readonly": probe.readonly, "sympy": probe.sympy, "inject": dict(probe.inject),
           "fresh": list(fresh) if probe.call else []}
    if probe.call:
        msg["args"] = encoder.enc(tuple(probe.args))
        msg["kwargs"] = encoder.enc(dict(probe.kwargs))
    return msg, transport.encode_npz(encoder.arrays)


def _exchange(cells: list[str], probes: list[tuple[int, Probe, list[str]]],
              limits: sandbox.Limits, answer: _Answer) -> Any:
    """The exchange with one runner (``run_sandboxed``'s session): strictly in turns."""

    def talk(wfd: int, rfd: int) -> None:
        start = time.monotonic()
        end = start + limits.runner_timeout
        step = float(limits.cell_timeout)
        received = 0
        decoded_budget = transport.MAX_DECODED_BYTES
        try:
            transport.send_frame(wfd, {"cells": cells, "step_seconds": step,
                                       "probes": len(probes)}, b"", end)
            reply, _ = transport.recv_frame(rfd, end, max_npz=0)
            got = reply.get("cells") if isinstance(reply, dict) else None
            answer.cells = [c if isinstance(c, str) else None for c in got] if isinstance(
                got, list) else []
            for k, probe, fresh in probes:
                msg, npz = _wire(probe, fresh)
                t0 = time.monotonic()
                deadline = min(end, t0 + step + _MARGIN)
                transport.send_frame(wfd, msg, npz, deadline)
                left = transport.MAX_SESSION_BYTES - received
                reply, data = transport.recv_frame(
                    rfd, deadline, max_json=min(transport.MAX_JSON_BYTES, left),
                    max_npz=min(transport.MAX_NPZ_BYTES, left))
                answer.seconds[k] = time.monotonic() - t0
                received += len(data) + 12
                try:
                    arrays = transport.decode_npz(data, decoded_budget)
                    decoded_budget -= sum(a.nbytes for a in arrays.values())
                    answer.replies[k] = (reply, arrays)
                except transport.TransportError as exc:
                    answer.replies[k] = f"unreadable result ({str(exc)[:200]})"
            answer.finished = True
        except (transport.TransportError, OSError) as exc:
            answer.error = str(exc)[:200]

    return talk


def _run_chain(cells: list[str], probes: list[tuple[int, Probe, list[str]]], ctx: TaskContext,
               release_files: dict[str, bytes], limits: sandbox.Limits) -> tuple[_Answer, str]:
    """One fresh sandbox: the cells, then the chain's probes; (answers, note on the run)."""
    answer = _Answer()
    ws = sandbox.new_workspace()
    try:
        write_release_files(ws.path, release_files)
        sandbox.seal(ws)
        argv = [_python(), "-I", "-c", RUNNER_SOURCE_PATH.read_text(encoding="utf-8")]
        env = sandbox.clean_env(ws, ctx.student_id, {"BPC_TRUSTED_RUNNER": "1"})
        code, tail, timed_out = sandbox.run_sandboxed(
            ws, argv, env, limits, limits.runner_timeout, "runner",
            session=_exchange(cells, probes, limits, answer))
    finally:
        sandbox.remove_workspace(ws, kill=False)
    return answer, _runner_note(code, tail, timed_out, answer, limits)


def run_trusted(cells: list[str], tasks: list[TaskSpec], ctx: TaskContext,
                release_files: dict[str, bytes], limits: sandbox.Limits) -> TrustedResult:
    """Execute ``cells`` in the isolated runner, probe every task and judge the answers."""
    start = time.perf_counter()
    result = TrustedResult()
    if not tasks:
        return result
    plan: list[tuple[TaskSpec, list[int], list[Any]]] = []
    flat: list[Probe] = []
    fresh: list[list[str]] = []
    for spec in tasks:
        message = spec.structure(cells) if spec.structure else None
        if message:
            # The form is wrong whatever the numbers: judged from the source, not probed (a
            # finite-difference "backward" can be slow enough to starve the other tasks).
            result.verdicts[spec.grade_id] = Verdict(0.0, float(spec.points), message,
                                                     form_mistake(message))
            continue
        probes = list(spec.instances(ctx))
        plan.append((spec, list(range(len(flat), len(flat) + len(probes))),
                     [spec.reference(p) for p in probes]))
        flat += probes
        texts = list(dict.fromkeys(fresh_definitions(cells, spec.names).values()))
        fresh += [texts] * len(probes)
    prepared = time.perf_counter()
    stages.add(result.stages, stages.TRUSTED_PREP, prepared - start)
    answers: dict[int, tuple[_Answer, str]] = {}
    for chain in runner_chains(flat):
        answer, note = _run_chain(cells, [(k, flat[k], fresh[k]) for k in chain], ctx,
                                  release_files, limits)
        if answer.cells is not None and not result.cell_errors:
            result.cell_errors = answer.cells
        if note and note not in result.note:
            result.note = f"{result.note}; {note}" if result.note else note
        for k in chain:
            answers[k] = (answer, note)
    judged = time.perf_counter()
    stages.add(result.stages, stages.TRUSTED_RUN, judged - prepared)
    if not plan and not result.cell_errors:
        result.cell_errors = []
    for spec, indexes, wants in plan:
        trials = [unwrap_trial(_trial(flat[k], want, k, *answers[k]))
                  for k, want in zip(indexes, wants, strict=True)]
        # The form rules were decided before probing (above); here only the values are judged.
        result.verdicts[spec.grade_id] = spec.judge(trials)
    stages.add(result.stages, stages.JUDGING, time.perf_counter() - judged)
    result.seconds = time.perf_counter() - start
    return result


_CONSTRUCTORS = {"dict", "list", "set", "tuple", "defaultdict", "OrderedDict", "float", "int"}


def _plain_value(node: ast.AST) -> bool:
    """An assigned value that computes nothing of the student's: literals, names, empty
    containers (``_ACC = {}``, ``_GRADS = dict()``), never a call of a function."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and not (
                isinstance(sub.func, ast.Name) and sub.func.id in _CONSTRUCTORS):
            return False
    return True


def fresh_definitions(cells: list[str], names: Iterable[str]) -> dict[str, str]:
    """name -> the definitions of the last cell that defines ``name`` at top level (its defs,
    classes, imports and plain assignments such as ``_ACC = {}``; no calls, no loops, no
    prints), for ``inject``: each probe then meets the task's functions as their cell makes
    them, whatever earlier cells did with them. State kept between calls (a global
    accumulator, a default argument) is then seen by the probe's second call, not hidden by a
    crash that the notebook's other cells caused on the first."""
    wanted = set(names)
    out: dict[str, str] = {}
    for src in cells:
        try:
            tree = parsed(src)
        except (SyntaxError, ValueError):
            continue  # IPython magics or broken code: the probe meets the function as it is
        defined = {n.name for n in tree.body
                   if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)} & wanted
        if not defined:
            continue
        keep = [n for n in tree.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                              | ast.Import | ast.ImportFrom)
                or (isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None
                    and _plain_value(n.value))]
        text = ast.unparse(ast.Module(body=keep, type_ignores=[]))
        for name in defined:
            out[name] = text
    return out


def _python() -> str:
    import sys

    return sys.executable


def _runner_note(code: int | None, tail: str, timed_out: bool, answer: _Answer,
                 limits: sandbox.Limits) -> str:
    if answer.finished:
        return ""
    if tail.startswith("the workspace grew past its disk quota"):
        return tail.splitlines()[0]
    if timed_out and (not answer.error or "in time" in answer.error):
        return f"the isolated run exceeded its time limit of {limits.runner_timeout:.0f} s"
    if answer.error and "ended before it answered" not in answer.error:
        return f"the isolated run's answers were refused: {answer.error}"
    if code is not None and code < 0:
        return f"the isolated run was killed by signal {-code} (CPU or memory limit?)"
    if "MemoryError" in tail:
        return "the isolated run ran out of memory"
    return f"the student code ended the isolated run early (exit code {code})"


def _trial(probe: Probe, want: Any, k: int, answer: _Answer, note: str) -> Trial:
    """One probe's answer, read as hostile input (see :mod:`autograder.transport`)."""
    reply = answer.replies.get(k)
    if reply is None:
        return Trial(probe, want, None, note or answer.error or "the call did not finish")
    if isinstance(reply, str):
        return Trial(probe, want, None, reply)
    info, arrays = reply
    try:
        if not isinstance(info, dict):
            raise plaindata.PlainDataError("bad result record")
        if info.get("error") is not None:
            return Trial(probe, want, None, str(info["error"])[:500])
        got = plaindata.decode(info.get("value"), arrays)
    except (ValueError, RecursionError) as exc:
        return Trial(probe, want, None, f"unreadable result ({str(exc)[:200]})")
    return Trial(probe, want, got, None, seconds=answer.seconds.get(k))
