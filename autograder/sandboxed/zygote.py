"""Fork server: a clean interpreter with the heavy libraries imported, forked into one sandbox.

Run as ``python -I /path/to/zygote.py`` by :mod:`autograder.forkserver`, with a clean
environment (one BLAS thread, matplotlib's Agg backend), never with student data. It imports
numpy, sympy, matplotlib (Agg, pyplot) and ipykernel once, writes ``ready`` and then serves
requests on its stdin, one at a time:

1. the grader writes one byte ``F`` on the server's stdin, a Unix socket; the server forks a child
   and waits for it (the server's own memory never holds a request: everything below happens
   in the child);
2. the child reads one JSON line ``{"anchor", "config", "conn", "log", "pipes"}``, sent with
   ``pipes`` descriptors attached (``SCM_RIGHTS``: the ends of the program's stdin and stdout
   pipes for a program spoken to over them, the isolated runner; none for the kernel, which
   talks over ZeroMQ); ``anchor`` is the
   host pid of the first process of a freshly started bubblewrap sandbox (see
   ``autograder.forkserver``); the child joins that sandbox's cgroup, IPC, UTS, network, PID
   and mount namespaces (``setns``), changes its root to the sandbox's root and forks once more,
   so that the grandchild is a process of the sandbox's PID namespace; it writes the
   grandchild's host pid as one line to stdout and exits;
3. the grandchild closes every inherited descriptor (stdin and stdout are the received pipes or
   ``/dev/null`` and ``log``; stderr goes to ``log``), keeps
   only the two capabilities bubblewrap leaves the launcher (to switch uid), applies the
   launcher's steps (``prepare`` of ``launch.py``, loaded by path: rlimits, the sandbox's random
   uid, Landlock, the clean environment, the workspace as working directory), reseeds the random
   generators and runs the program of the configuration, ``python -I -c CODE ARGS`` (the
   kernel's boot code or the isolated runner's source), in a fresh ``__main__``, and ends with
   ``os._exit`` (nothing of the server's interpreter is finalised on the student's behalf).

A forked process is used for exactly one program of one sandbox and ends with it; the server
never runs student code and is never given anything of a submission but the paths above. This
file is executed by path (never imported by student code) and only at the grader's request.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import socket
import sys

_NAMESPACES = ("cgroup", "ipc", "uts", "net", "pid", "mnt")
_PR_CAPBSET_DROP = 24


def _load_launcher() -> object:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launch.py")
    spec = importlib.util.spec_from_file_location("_bpc_launch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WARM = ("numpy", "numpy.testing", "numpy.polynomial", "numpy.fft", "sympy",
        "sympy.combinatorics", "sympy.tensor.tensor", "sympy.codegen.ast", "matplotlib.pyplot",
        "matplotlib.backends.backend_agg", "matplotlib_inline.backend_inline", "PIL.PngImagePlugin",
        "ipywidgets", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
        "ipykernel.zmqshell", "IPython.core.completer",
        "IPython.core.history", "IPython.core.magics")
"""What a kernel or runner of the course imports (measured on the solved problem sets: the
libraries themselves, the parts of them their code loads lazily, ipywidgets for the explorers
and the kernel's own parts), imported once before any fork. Only third-party libraries that
student code would load itself: never a file of the course."""


def _warm() -> None:
    """Import :data:`WARM`, with matplotlib on the Agg backend, and draw one figure of the kind
    the explorers draw (log axes, math text, a legend, PNG): a process's first figure also
    loads the fonts and builds matplotlib's math text parser (about 0.15 s)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    for name in WARM:
        importlib.import_module(name)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.loglog([1e-8, 1e-1], [1e-10, 1.0], label="$h^2$")
    ax.plot([1e-8, 1e-1], [1e-2, 1e-3], "o-", label="error")
    ax.set_title(r"$\partial L / \partial w$ at $x = 0.5$")
    ax.set_xlabel("h")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")


def _read_request(fd: int, limit: int = 1 << 16) -> tuple[dict, list[int]]:
    """The JSON line of one request and the descriptors sent with it (at most two)."""
    sock = socket.socket(fileno=os.dup(fd))
    try:
        data, fds, _, _ = socket.recv_fds(sock, limit, 2)
        while data and not data.endswith(b"\n"):
            chunk = sock.recv(limit)
            if not chunk or len(data) > limit:
                break
            data += chunk
    finally:
        sock.close()
    if not data.endswith(b"\n"):
        raise EOFError("no request")
    return json.loads(data), fds


def _join(anchor: int) -> None:
    """Enter the namespaces and the root of the sandbox whose first process is ``anchor``."""
    libc = ctypes.CDLL(None, use_errno=True)
    names = [n for n in _NAMESPACES
             if os.readlink(f"/proc/{anchor}/ns/{n}") != os.readlink(f"/proc/self/ns/{n}")]
    if "pid" not in names or "mnt" not in names or "net" not in names:
        raise OSError("the anchor is not in a sandbox of its own")
    fds = [os.open(f"/proc/{anchor}/ns/{n}", os.O_RDONLY | os.O_CLOEXEC) for n in names]
    root = os.open(f"/proc/{anchor}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for name, fd in zip(names, fds, strict=True):
        if libc.setns(fd, 0) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)
    os.chdir("/")


def _keep_capabilities(keep: tuple[int, ...]) -> None:
    """Drop every other capability from the bounding set (as bubblewrap's ``--cap-drop ALL
    --cap-add`` does for the launcher), so that none can ever be regained."""
    libc = ctypes.CDLL(None, use_errno=True)
    last = 40
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        pass
    for cap in range(last + 1):
        if cap not in keep and libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap}")


def _run(launch: object, request: dict, log_fd: int, pipes: list[int]) -> int:
    """The grandchild: become the sandbox's program (see the module docstring, step 3)."""
    os.setsid()
    if len(pipes) == 2:
        os.dup2(pipes[0], 0)
        os.dup2(pipes[1], 1)
    else:
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, 1 << 16)
    _keep_capabilities((6, 7))  # CAP_SETGID, CAP_SETUID: what bubblewrap leaves the launcher
    with open(request["config"], encoding="utf-8") as fh:
        cfg = json.load(fh)
    conn = None
    if request.get("conn"):
        with open(request["conn"], "rb") as fh:
            conn = fh.read(1_000_000)
    program, env = launch.prepare(cfg, conn, request["config"])
    if len(program) < 4 or program[1:3] != ["-I", "-c"]:
        os.execve(program[0], program, env)
    os.environ.clear()
    os.environ.update(env)
    import random
    import tempfile
    import types

    import numpy

    random.seed()
    numpy.random.seed()  # noqa: NPY002 - the legacy global generator, as numpy seeds it
    tempfile.tempdir = None
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main
    sys.argv = ["-c", *program[4:]]
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    try:
        exec(compile(program[3], "<string>", "exec"), main.__dict__)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    return code


def _child(launch: object) -> None:
    """The forked child of one request (step 2); never returns."""
    status = 1
    try:
        request, pipes = _read_request(0)
        if len(pipes) != (2 if request.get("pipes") else 0):
            raise OSError("the request's pipes did not arrive")
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                         0o600)
        _join(int(request["anchor"]))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _run(launch, request, log_fd, pipes)
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        os.write(1, f"{pid}\n".encode())
        status = 0
    except BaseException as exc:
        try:
            os.write(1, f"error {type(exc).__name__}: {exc}\n".encode()[:500])
        except OSError:
            pass
    finally:
        os._exit(status)


def main() -> None:
    """Serve fork requests on stdin until it closes."""
    launch = _load_launcher()
    _warm()
    os.write(1, b"ready\n")
    while True:
        command = os.read(0, 1)
        if command != b"F":
            return
        pid = os.fork()
        if pid == 0:
            _child(launch)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
