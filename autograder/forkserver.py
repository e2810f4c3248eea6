"""Start student programs from a warm fork server instead of a fresh interpreter (trusted side).

A fresh kernel pays, per submission, an interpreter start plus the imports of numpy, sympy,
matplotlib and ipykernel (about 1.5 CPU seconds here), and the isolated runner (spoken to over
pipes on its stdin and stdout, see :func:`autograder.sandbox.run_sandboxed`) an interpreter
start plus numpy. Each worker process keeps one **fork server** (``sandboxed/zygote.py``): a
clean ``python -I`` started with the sandbox's environment (no student data, one BLAS thread,
Agg), which imports those libraries once and is never reused for anything but forking.

A program is then started as follows (:func:`launch`); every isolation property of the exec
path (:func:`autograder.sandbox.launch_argv`) holds:

1. bubblewrap builds the submission's sandbox exactly as before (its own PID, IPC, network, UTS,
   cgroup and mount namespaces, the minimal file system, ``--die-with-parent``), but its first
   process (``--as-pid-1``) is a small anchor, ``sleep`` without any capability (where the exec
   path has bubblewrap's init, also root in the sandbox); it says ``ready`` once the sandbox is
   built;
2. the fork server forks; the child joins the anchor's namespaces and root (``setns``,
   ``chroot``) and forks the program's process inside the sandbox's PID namespace; a program
   spoken to over pipes gets their far ends passed over the server's Unix socket
   (``SCM_RIGHTS``), and this process keeps only the near ends;
3. that process keeps only the capabilities the launcher has in bubblewrap (``CAP_SETUID``,
   ``CAP_SETGID``; the switch to the sandbox's uid clears them), applies the launcher's steps
   itself (``prepare`` of ``sandboxed/launch.py``) and runs the program (``python -I -c CODE``)
   with the imports already done.

The process belongs to one sandbox and ends with it (killing bubblewrap ends the namespaces);
nothing is ever forked from a process that ran student code. Where the fork server cannot be
used (not root, ``--unsafe``, it failed to start), programs are started by exec as before.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from autograder import sandbox

ZYGOTE = sandbox.SANDBOXED_DIR / "zygote.py"
ANCHOR = ["/bin/sh", "-c", "echo ready && exec sleep 2147483647"]
START_SECONDS = 60.0
_SERVER: list[Any] = []
_LOCK = threading.Lock()
"""One request at a time: a Dask worker may grade several submissions in threads."""
_PR_SET_CHILD_SUBREAPER = 36
ENABLED = [True]
"""Switch for tests and measurements: ``ENABLED[0] = False`` starts every program by exec."""


class ForkServerError(RuntimeError):
    """The fork server could not start a program (the caller falls back to exec)."""


def usable(limits: sandbox.Limits) -> bool:
    """True when programs of a sandbox with ``limits`` are started from the fork server."""
    return ENABLED[0] and not limits.unsafe and sandbox.is_root() and \
        sandbox.bwrap_path() is not None


class _Server:
    """One fork server process (``sandboxed/zygote.py``) and the pipes to it."""

    def __init__(self) -> None:
        self.home = tempfile.mkdtemp(prefix="bpc-zygote-")
        env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "HOME": self.home,
               "MPLCONFIGDIR": self.home, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
               "LANG": "C.UTF-8", "JUPYTER_PLATFORM_DIRS": "1",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        # requests go over a Unix socket (descriptors can travel with them), answers over a pipe
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen([sys.executable, "-I", str(ZYGOTE)], stdin=theirs,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         env=env, cwd=self.home, start_new_session=True)
        finally:
            theirs.close()
        if _line(self.proc.stdout.fileno(), START_SECONDS) != "ready":
            self.close()
            raise ForkServerError("the fork server did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, request: dict[str, Any], fds: tuple[int, ...] = ()) -> int:
        """Fork the program of ``request`` into its sandbox, passing it ``fds`` (its stdin and
        stdout, or none); return its host pid."""
        data = json.dumps(dict(request, pipes=bool(fds))).encode() + b"\n"
        with _LOCK:
            try:
                # the command byte alone: the server reads it, and only its child the request
                self.sock.sendall(b"F")
                socket.send_fds(self.sock, [data], list(fds))
            except OSError as exc:
                raise ForkServerError(f"the fork server is gone ({exc})") from None
            answer = _line(self.proc.stdout.fileno(), 20.0)
        if not answer.isdigit():
            self.close()  # a late answer must never be read as the next request's
            raise ForkServerError(answer or "no answer from the fork server")
        return int(answer)

    def close(self) -> None:
        self.sock.close()
        sandbox.end_process_tree(self.proc.pid, wait=2.0)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        import shutil

        shutil.rmtree(self.home, ignore_errors=True)


def _line(fd: int, seconds: float) -> str:
    """One line read from ``fd`` within ``seconds`` ("" on timeout or end of file)."""
    data = b""
    deadline = time.monotonic() + seconds
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        poller = select.poll()  # not select(): a worker may hold more than 1024 descriptors
        poller.register(fd, select.POLLIN)
        if left <= 0 or not poller.poll(left * 1000):
            return ""
        chunk = os.read(fd, 4096 if data else 1)
        if not chunk:
            return ""
        data += chunk
    return data.decode("utf-8", "replace").strip()


def server() -> _Server:
    """This process's fork server, started (again) when needed."""
    with _LOCK:
        return _server()


def _server() -> _Server:
    if _SERVER and not _SERVER[0].alive():
        _SERVER.pop().close()
    if not _SERVER:
        # A forked program's parent (outside its sandbox) exits at once, so the program is
        # re-parented to the nearest subreaper: this process, which then reaps it and reads its
        # exit status (without one the host's init would have to, and the sandbox could only
        # end after it did).
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _SERVER.append(_Server())
    return _SERVER[0]


def warm() -> None:
    """Start this process's fork server now (a worker does it before its first job)."""
    if ENABLED[0] and sandbox.is_root() and sandbox.bwrap_path() is not None:
        try:
            server()
        except ForkServerError:
            pass


class SandboxedProcess:
    """A program forked into a sandbox: the sandbox's bubblewrap process plus the program's pid.

    Behaves like the ``Popen`` jupyter_client and :func:`autograder.sandbox.run_sandboxed` use:
    ``poll`` reports the program's end (its exit status, read from ``/proc`` while the anchor
    keeps it as a zombie) and ``kill``/``wait`` act on the whole sandbox."""

    stderr = None

    def __init__(self, bwrap: subprocess.Popen, program_pid: int,
                 pipes: tuple[int, int] | None = None) -> None:
        # the near ends of the program's stdin and stdout, as Popen(stdin=PIPE, stdout=PIPE)
        self.stdin = os.fdopen(pipes[0], "wb", buffering=0) if pipes else None
        self.stdout = os.fdopen(pipes[1], "rb", buffering=0) if pipes else None
        self.bwrap = bwrap
        self.pid = bwrap.pid
        self.program_pid = program_pid
        self.returncode: int | None = None
        self._reaped = False
        self._killed = False

    def poll(self) -> int | None:
        """The program's exit code (negative: killed by that signal) or None while it runs."""
        if self.returncode is not None:
            return self.returncode
        code = self._reap()
        if code is None and self.bwrap.poll() is not None:
            code = -9
        if code is not None:
            self.returncode = code
            self.kill()
        return self.returncode

    def _reap(self) -> int | None:
        """Reap the program once it ended (it is this process's child once its first parent,
        outside the sandbox, has exited); its exit code, or None while it runs."""
        try:
            pid, status = os.waitpid(self.program_pid, os.WNOHANG)
        except ChildProcessError:  # not re-parented yet, or reaped already
            return _exit_status(self.program_pid)
        if pid == 0:
            return None
        self._reaped = True
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the program's end (TimeoutExpired after ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.002
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("sandboxed program", timeout or 0)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
        return self.returncode  # type: ignore[return-value]

    def kill(self) -> None:
        """End the sandbox (every process of its namespaces) and wait until it is gone."""
        if self._killed:
            return
        self._killed = True
        anchor = sandbox.children(self.bwrap.pid)
        sandbox.signal_tree(self.bwrap.pid, anchor)
        # the sandbox's first process can only finish once the program is reaped (here)
        deadline = time.monotonic() + 5.0
        while not self._reaped and time.monotonic() < deadline:
            code = self._reap()
            if code is not None and not self._reaped and _exit_status(self.program_pid) == -9:
                break  # gone: reaped elsewhere
            time.sleep(0.002)
        sandbox.end_process_tree(self.bwrap.pid)
        for pid in [self.bwrap.pid, *anchor]:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if self.returncode is None:
            self.returncode = -9

    terminate = kill

    def send_signal(self, signum: int) -> None:
        """Signals end the sandbox (the kernel is interrupted by message, never by signal)."""
        self.kill()


def _exit_status(pid: int) -> int | None:
    """None while ``pid`` runs; its exit code (or -signal) once it is a zombie or gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return -9
    fields = stat[stat.rfind(b")") + 2:].split()
    if fields[:1] not in ([b"Z"], [b"X"]):
        return None
    try:
        status = int(fields[49])
    except (IndexError, ValueError):
        return -9
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def launch(ws: sandbox.Workspace, cfg: Path, limits: sandbox.Limits, log: Path,
           conn: str | None = None, cwd: str | None = None,
           pipes: bool = False) -> SandboxedProcess:
    """Start the program of launcher config ``cfg`` in a new sandbox of ``ws`` from the fork
    server (see the module docstring); its stderr goes to ``log``, and its stdin and stdout
    are pipes to this process with ``pipes`` (the returned process's ``stdin``/``stdout``),
    otherwise ``/dev/null`` and ``log``."""
    srv = server()
    argv = sandbox.bwrap_argv(ws, limits)
    argv.insert(argv.index("--unshare-pid") + 1, "--as-pid-1")
    # the anchor needs no capability at all (bubblewrap's own init, PID 1 of the exec path, is
    # root in the sandbox too); the program gets the launcher's two from its own drop below
    for cap in ("CAP_SETUID", "CAP_SETGID"):
        at = argv.index(cap)
        del argv[at - 1:at + 1]
    argv += ANCHOR
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            cwd=cwd or str(ws.path), env={})
    try:
        if _line(proc.stdout.fileno(), START_SECONDS) != "ready":
            raise ForkServerError("the sandbox did not start")
        anchor = _first_child(proc.pid)
        if anchor is None:
            raise ForkServerError("the sandbox has no first process")
        request = {"anchor": anchor, "config": str(cfg), "conn": conn or "", "log": str(log)}
        if not pipes:
            return SandboxedProcess(proc, srv.spawn(request))
        to_read, to_program = os.pipe()
        from_program, to_write = os.pipe()
        try:
            pid = srv.spawn(request, (to_read, to_write))
        except BaseException:
            os.close(to_program)
            os.close(from_program)
            raise
        finally:
            os.close(to_read)  # the program's ends live in the program only
            os.close(to_write)
        return SandboxedProcess(proc, pid, (to_program, from_program))
    except BaseException:
        sandbox.end_process_tree(proc.pid)
        proc.wait()
        raise
    finally:
        proc.stdout.close()


def _first_child(pid: int) -> int | None:
    kids = sandbox.children(pid)
    return kids[0] if len(kids) == 1 else None
