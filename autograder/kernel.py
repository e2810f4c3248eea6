"""Execute a sanitized notebook in a sandboxed IPython kernel (nbgrader's in-kernel grading).

The kernel is started in the submission's bubblewrap sandbox (:mod:`autograder.sandbox`), so it
runs in namespaces of its own with rlimits, Landlock and (as root) an unprivileged uid. A watchdog
thread enforces the per-submission time limit, a hard per-cell limit for code that ignores
interrupts and the workspace quota by ending the sandbox. Outputs are capped by the bytes
received: ZeroMQ drops any single message larger than the notebook's budget before it is decoded,
and every output message (display updates included) counts against the per-cell and per-notebook
budgets. The execute reply's status of every cell is recorded (a cell whose reply is not "ok"
failed, whatever its outputs say). The sandbox always ends with the notebook.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder import forkserver, sandbox, stages


@dataclass
class ExecInfo:
    """What happened while executing one notebook."""

    executed: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    died_in: int | None = None
    timed_out: set[int] = field(default_factory=set)
    truncated: set[int] = field(default_factory=set)
    status: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)


class _LimitedClient(NotebookClient):
    """NotebookClient that caps the bytes of output kept per cell and per notebook."""

    def __init__(self, nb: Any, limits: sandbox.Limits, info: ExecInfo, **kw: Any) -> None:
        super().__init__(nb, **kw)
        self._limits = limits
        self._info = info
        self._cell_bytes: dict[int, int] = {}
        self._display_owner: dict[str, int] = {}
        self._total = 0

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
        """nbclient's handling of a cell past its timeout (interrupt the kernel), with the
        cell recorded as timed out first: the watchdog, which looks every 0.2 s, can miss a
        cell that the interrupt ends within that time."""
        for index, each in enumerate(self.nb.cells):
            if each is cell:
                self._info.timed_out.add(index)
        return await super()._async_handle_timeout(timeout, cell)

    def process_message(self, msg: dict, cell: Any, cell_index: int) -> Any:
        """Count every output message by its size (display updates included) before using it;
        a display may only be updated by the cell that created it (a hook running during a
        hidden test must not rewrite an earlier cell's output, which feedback shows)."""
        content = msg.get("content", {})
        transient = content.get("transient") if isinstance(content, dict) else None
        did = transient.get("display_id") if isinstance(transient, dict) else None
        if did is not None and self._display_owner.setdefault(str(did), cell_index) != cell_index:
            if msg.get("msg_type") == "update_display_data":
                return None
            msg = {**msg, "content": {k: v for k, v in content.items() if k != "transient"}}
        if msg.get("msg_type") in _OUTPUT_TYPES:
            size = _content_bytes(msg.get("content", {}))
            used = self._cell_bytes.get(cell_index, 0)
            if (used + size > self._limits.output_bytes_per_cell
                    or self._total + size > self._limits.output_bytes_total):
                if cell_index not in self._info.truncated:
                    self._info.truncated.add(cell_index)
                    cell.outputs.append(nbformat.v4.new_output(
                        "stream", name="stdout",
                        text="\n[output truncated by the grader: size limit reached]\n"))
                return None
            self._cell_bytes[cell_index] = used + size
            self._total += size
        return super().process_message(msg, cell, cell_index)


_OUTPUT_TYPES = {"stream", "display_data", "execute_result", "update_display_data", "error"}


def _content_bytes(content: Any) -> int:
    try:
        return len(json.dumps(content, default=str))
    except (TypeError, ValueError, RecursionError):
        return 1 << 40


class _SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel from the worker's fork server when it can (see
    :mod:`autograder.forkserver`), else by executing the kernel spec's command."""

    sandbox_launch: Any = None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self.sandbox_launch is not None:
            try:
                proc = self.sandbox_launch()
            except forkserver.ForkServerError:
                proc = None
            if proc is not None:
                prov = self.provisioner
                prov.process, prov.pid, prov.pgid = proc, proc.pid, proc.pid
                prov.cwd = kw.get("cwd")
                self._reconcile_connection_info(prov.connection_info)
                return
        await super()._async_launch_kernel(kernel_cmd, **kw)


class _ReadyClient(AsyncKernelClient):
    """jupyter_client's kernel client with a shorter wait at start-up.

    ``wait_for_ready`` is jupyter_client 8.10's (the kernel_info reply on shell, then one
    IOPub message to show IOPub is connected), except its last step: it drains IOPub until
    nothing came for 0.2 s, a fixed 0.2 s per kernel. Here the drain waits 0.01 s: a status
    message that comes later belongs to the kernel_info request, and nbclient matches every
    output to its cell's request by ``parent_header`` (so it cannot be taken for a cell's)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0.01)
            except Empty:
                break


def _kernel_manager(ws: sandbox.Workspace, student_id: str,
                    limits: sandbox.Limits) -> AsyncKernelManager:
    env = sandbox.clean_env(ws, student_id)
    boot = (f"import sys; sys.path.insert(0, {str(ws.path)!r}); "
            "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()")
    program = [sys.executable, "-I", "-c", boot, "-f", "{connection_file}",
               "--HistoryManager.enabled=False", "--IPKernelApp.parent_handle=0"]
    cfg = sandbox.launcher_config(ws, program, env, limits, "kernel")
    km = _SandboxKernelManager(kernel_name="bpc-sandbox")
    km._kernel_spec = KernelSpec(argv=[*sandbox.launch_argv(cfg, ws, limits),
                                       "{connection_file}"],
                                 display_name="sandbox", language="python", env={},
                                 # a signal would reach bubblewrap outside the sandbox, not the
                                 # kernel: ipykernel interrupts itself on a control message
                                 interrupt_mode="message")
    km.client_factory = _ReadyClient
    # a message larger than the whole output budget is dropped by ZeroMQ before it is decoded
    km.context.setsockopt(zmq.MAXMSGSIZE, 4 * limits.output_bytes_total + 65536)
    # the client connects before the kernel has bound its sockets: retry every 10 ms, not 100
    km.context.setsockopt(zmq.RECONNECT_IVL, 10)
    km.connection_file = str(cfg.parent / "connection.json")
    # Unix sockets in the workspace: the kernel needs no network (see sandboxed/launch.py)
    km.transport = "ipc"
    km.ip = str(ws.path / "k")
    if forkserver.usable(limits):
        km.sandbox_launch = lambda: forkserver.launch(
            ws, cfg, limits, cfg.parent / "kernel.log", conn=km.connection_file)
    return km


def execute(nb: Any, ws: sandbox.Workspace, student_id: str, limits: sandbox.Limits) -> ExecInfo:
    """Run every code cell of ``nb`` in place, recording outputs; never raises for student
    faults."""
    info = ExecInfo()
    start = time.monotonic()
    state: dict[str, Any] = {"cell": None, "cell_start": start, "done": False, "killed": ""}

    def on_start(cell: Any, cell_index: int, **_: Any) -> None:
        state["cell"], state["cell_start"] = cell_index, time.monotonic()

    def on_done(cell: Any, cell_index: int, execute_reply: Any = None, **_: Any) -> None:
        info.executed.add(cell_index)
        content = execute_reply.get("content", {}) if isinstance(execute_reply, dict) else {}
        status = content.get("status") if isinstance(content, dict) else None
        info.status[cell_index] = status if isinstance(status, str) else "missing"
        state["cell"] = None

    def on_nb_start(**_: Any) -> None:
        state["started"] = time.monotonic()
        stages.add(info.stages, stages.KERNEL_START, state["started"] - start)
        proc = getattr(km.provisioner, "process", None)
        if proc is not None:
            sandboxes.append(proc)

    def on_complete(**_: Any) -> None:
        # the kernel is not needed any more: end it now instead of a polite shutdown
        state["done"] = True
        state["ended"] = time.monotonic()
        _end(sandboxes, ws)

    def watchdog() -> None:
        hard = limits.cell_timeout + 6.0
        checked = start
        while not state["done"]:
            now = time.monotonic()
            if now - checked > 0.5:
                checked = now
                if sandbox.over_quota(ws):
                    state["killed"] = sandbox.quota_note(ws)
            if state["killed"]:
                pass  # over quota: end it below
            elif now - start > limits.submission_timeout:
                state["killed"] = (f"the notebook exceeded the time limit of "
                                   f"{limits.submission_timeout:.0f} s per submission")
            elif state["cell"] is not None and now - state["cell_start"] > hard:
                state["killed"] = (f"cell {state['cell'] + 1} ran past the time limit of "
                                   f"{limits.cell_timeout:.0f} s and ignored the interrupt")
            elif state["cell"] is not None and now - state["cell_start"] > limits.cell_timeout:
                info.timed_out.add(state["cell"])
            if state["killed"]:
                _end(sandboxes, ws)
                return
            time.sleep(0.2)

    sandboxes: list[Any] = []
    km = _kernel_manager(ws, student_id, limits)
    cfg_dir = Path(km.connection_file).parent
    client = _LimitedClient(
        nb, limits, info, km=km, timeout=int(limits.cell_timeout), interrupt_on_timeout=True,
        raise_on_iopub_timeout=False, iopub_timeout=4, allow_errors=True,
        startup_timeout=60, shutdown_kernel="immediate", record_timing=False,
        on_cell_start=on_start, on_cell_executed=on_done, on_notebook_complete=on_complete,
        on_notebook_start=on_nb_start,
        store_widget_state=False,
        resources={"metadata": {"path": str(ws.path)}})
    dog = threading.Thread(target=watchdog, daemon=True)
    dog.start()
    try:
        with open(cfg_dir / "kernel.log", "wb") as log:
            client.execute(cwd=str(ws.path), stdout=log, stderr=log)
    except DeadKernelError:
        info.died_in = state["cell"]
        info.notes.append(state["killed"] or _death_note(state["cell"]))
    except CellTimeoutError as exc:
        info.died_in = state["cell"]
        info.notes.append(f"cell timed out: {str(exc).splitlines()[0][:200]}")
    except RuntimeError as exc:
        info.died_in = state["cell"]
        info.notes.append(state["killed"] or f"the kernel failed: {str(exc)[:200]}")
    finally:
        state["done"] = True
        state.setdefault("ended", time.monotonic())
        _end(sandboxes, ws)
        _release(client, km)
    stop = time.monotonic()
    if "started" in state:
        stages.add(info.stages, stages.EXECUTION, state["ended"] - state["started"])
    else:  # the kernel never became ready
        stages.add(info.stages, stages.KERNEL_START, state["ended"] - start)
    stages.add(info.stages, stages.KERNEL_END, stop - state["ended"])
    for idx in sorted(info.timed_out):
        if idx != info.died_in:
            info.notes.append(f"cell {idx + 1} was interrupted after the time limit of "
                              f"{limits.cell_timeout:.0f} s")
    info.seconds = time.monotonic() - start
    return info


def _end(sandboxes: list[Any], ws: sandbox.Workspace) -> None:
    """End the kernel's sandbox (every process of its namespaces) and wait until it is gone."""
    for proc in sandboxes:
        if isinstance(proc, forkserver.SandboxedProcess):
            proc.kill()
        else:
            sandbox.end_process_tree(proc.pid)
        try:
            proc.wait(timeout=5)
        except Exception:
            pass
    sandbox.kill_uid(ws.uid)


def _release(client: Any, km: AsyncKernelManager) -> None:
    """Close the client's channels and the manager's ZeroMQ context now. nbclient cleans up
    only a kernel manager it made itself, and jupyter_client leaves the rest to the garbage
    collector: about 20 file descriptors per kernel, which a worker grading a whole class
    would run out of."""
    kc = getattr(client, "kc", None)
    if kc is not None:
        kc.stop_channels()
        client.kc = None
    if not km.context.closed:
        km.context.destroy(linger=0)


def _death_note(cell: int | None) -> str:
    where = f"while running cell {cell + 1}" if cell is not None else ""
    return (f"the kernel died {where} (os._exit, a crash or the memory limit); "
            "the cells after it were not run").replace("  ", " ")
