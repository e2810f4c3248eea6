"""Workspaces and limits for running untrusted student code (trusted side).

Every submission gets a fresh workspace directory that holds only its notebooks' release-side
files (e.g. ``coursekit/``) and a private ``tmp/``. Every program that runs student code starts
inside **bubblewrap** (Debian's ``bwrap``): its own PID, IPC, network, UTS and mount namespaces
(and, without root, its own user namespace), a file system holding only the system libraries, the
Python installation and the workspace, no network at all (the kernel talks to the worker over Unix
sockets in the workspace), a clean environment and ``--die-with-parent``: when the sandbox's first
process ends, the kernel ends every process and IPC object of the namespaces.

Inside, the launcher (``sandboxed/launch.py``) adds rlimits (CPU, address space, processes, file
size, no core) and Landlock, and as root switches to an unprivileged uid chosen at random per
submission. The workspace is size limited: as root it is a tmpfs of ``DEFAULT_DISK_BYTES``;
without root a watchdog ends the sandbox when the workspace grows past it (files are also capped
by ``RLIMIT_FSIZE``).

Where bubblewrap cannot isolate (not installed, user namespaces disabled), grading is refused
(:func:`isolation_problem`) unless ``Limits.unsafe`` is set, which keeps only the launcher's
rlimits and Landlock (and, as root, the random uid and a network namespace).
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SANDBOXED_DIR = Path(__file__).with_name("sandboxed")
"""The programs that run in (or fork into) a sandbox, by path or source text; never imported
(see its README.md)."""
LAUNCHER = SANDBOXED_DIR / "launch.py"
_UID_BASE = 300_000
_UID_SPAN = 1_000_000_000
DEFAULT_DISK_BYTES = 256 * 1024**2
_MNT_DETACH = 2
# what of /etc a Python program needs (never all of /etc: it can hold service credentials)
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime",
        "passwd", "group", "nsswitch.conf", "mime.types", "python3", "python3.11", "python3.12",
        "python3.13")


class SandboxUnavailableError(RuntimeError):
    """The machine cannot isolate student code (the message says what to do)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (seconds, bytes); ``unsafe`` grades without the
    namespaces of bubblewrap (see :func:`isolation_problem`)."""

    cell_timeout: float = 30.0
    submission_timeout: float = 180.0
    cpu_seconds: int = 240
    memory_bytes: int = 3 * 1024**3
    file_bytes: int = 64 * 1024**2
    nproc: int = 64
    output_bytes_per_cell: int = 100_000
    output_bytes_total: int = 1_000_000
    runner_timeout: float = 45.0
    unsafe: bool = False


@dataclass
class Workspace:
    """A per-submission directory plus the identity its programs run under."""

    path: Path
    uid: int | None
    gid: int | None
    extra_read: list[str] = field(default_factory=list)
    mounted: bool = False
    disk_bytes: int = DEFAULT_DISK_BYTES

    @property
    def tmp(self) -> Path:
        """The private temporary directory inside the workspace."""
        return self.path / "tmp"

    @property
    def ctl(self) -> Path:
        """The grader's control folder beside the workspace (never visible to the sandbox uid)."""
        return Path(str(self.path) + ".ctl")


def is_root() -> bool:
    """True when the grader runs as root and can drop privileges for student code."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None."""
    return shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin")


_PROBLEM: list[str | None] = []


def isolation_problem() -> str | None:
    """None when student code can be fully isolated here; otherwise a one-line reason."""
    if _PROBLEM:
        return _PROBLEM[0]
    bwrap = bwrap_path()
    if bwrap is None:
        problem: str | None = ("bubblewrap (bwrap) is not installed, so student code cannot be "
                               "isolated: install Debian's 'bubblewrap' (./dev setup does it as "
                               "root) or pass --unsafe")
    else:
        probe = [bwrap, *_namespace_args(), *_system_binds(), "--proc", "/proc", "--dev", "/dev",
                 "--", "/bin/sh", "-c", "exit 0"]
        try:
            done = subprocess.run(probe, env={}, capture_output=True, timeout=30, check=False)
            problem = None if done.returncode == 0 else (
                "bubblewrap cannot create namespaces here ("
                + done.stderr.decode("utf-8", "replace").strip().splitlines()[-1][:160]
                + "): enable unprivileged user namespaces or run as root, or pass --unsafe")
        except (OSError, subprocess.TimeoutExpired, IndexError) as exc:
            problem = f"bubblewrap does not run here ({exc}); pass --unsafe to grade anyway"
    _PROBLEM.append(problem)
    return problem


def require_isolation(limits: Limits) -> None:
    """Raise :class:`SandboxUnavailableError` unless isolation works or ``limits.unsafe`` is set."""
    if limits.unsafe:
        return
    problem = isolation_problem()
    if problem:
        raise SandboxUnavailableError(problem)


def new_workspace(base: Path | None = None, disk_bytes: int = DEFAULT_DISK_BYTES) -> Workspace:
    """Create an empty workspace; as root, a size-limited tmpfs owned by a fresh random uid."""
    root = Path(tempfile.mkdtemp(prefix="bpc-ws-", dir=base))
    os.chmod(root, 0o700)
    uid = gid = None
    mounted = False
    if is_root():
        uid = gid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        opts = f"size={disk_bytes},nr_inodes=20000,mode=0700".encode()
        libc = ctypes.CDLL(None, use_errno=True)
        mounted = libc.mount(b"tmpfs", str(root).encode(), b"tmpfs", 0, opts) == 0
    (root / "tmp").mkdir()
    return Workspace(root, uid, gid, mounted=mounted, disk_bytes=disk_bytes)


def seal(ws: Workspace) -> None:
    """Hand the workspace to its sandbox uid (call after all files are in place)."""
    if ws.uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(ws.path):
        os.chown(dirpath, ws.uid, ws.gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), ws.uid, ws.gid, follow_symlinks=False)


def python_roots() -> list[str]:
    """The Python installation (venv and base interpreter), as real paths."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"],
             os.path.dirname(os.path.realpath(sys.executable))}
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    return [p for p in real if not any(p.startswith(q + "/") for q in real)]


def read_roots() -> list[str]:
    """Paths the sandbox may read: the Python installation and system libraries only."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"]}
    paths.update({"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys/devices/system/cpu",
                  "/dev/urandom", "/dev/random", "/dev/zero"})
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)} | paths)
    return [p for p in real if os.path.exists(p)]


def clean_env(ws: Workspace, student_id: str,
              extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: one BLAS thread, HOME/TMP inside the workspace, the student id."""
    bindir = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{bindir}:/usr/bin:/bin",
        "HOME": str(ws.path),
        "TMPDIR": str(ws.tmp),
        "IPYTHONDIR": str(ws.path / ".ipython"),
        "MPLCONFIGDIR": str(ws.tmp),
        "MPLBACKEND": "Agg",
        "JUPYTER_RUNTIME_DIR": str(ws.tmp),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "BPC_STUDENT_ID": student_id,
        "NBGRADER_EXECUTION": "autograde",
    }
    env.update(extra or {})
    return env


def launcher_config(ws: Workspace, argv: list[str], env: dict[str, str], limits: Limits,
                    name: str) -> Path:
    """Write the launcher configuration into a root-only file outside the workspace."""
    isolated = not limits.unsafe
    cfg = {
        "workspace": str(ws.path),
        "uid": ws.uid,
        "gid": ws.gid,
        "argv": argv,
        "env": env,
        "cpu_seconds": limits.cpu_seconds,
        "memory_bytes": limits.memory_bytes,
        "file_bytes": limits.file_bytes,
        # without root the limit counts the processes of this sandbox's user namespace only
        "nproc": limits.nproc if (ws.uid is not None or isolated) else None,
        "read_paths": read_roots() + ws.extra_read,
        "write_paths": [str(ws.path), "/dev/null", "/tmp", "/dev/shm"] if isolated
        else [str(ws.path), "/dev/null"],
        "landlock": True,
        "no_network": True,
        "bwrap": isolated,
        "expose": sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix,
                                                         sys.executable)}),
    }
    ws.ctl.mkdir(mode=0o700, exist_ok=True)
    path = ws.ctl / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cfg), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _namespace_args() -> list[str]:
    args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc",
            "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if is_root():
        # privileged bwrap: the launcher keeps only what it needs to switch to the random uid
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    return args


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in _ETC:
        path = os.path.join("/etc", name)
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


GRADER_PACKAGES = ("autograder", "backprop_ref")
"""The grader's own packages (task files, references, model solutions): never readable in a
sandbox, even where an installation puts them inside the bound Python environment."""


def hidden_packages(binds: list[str]) -> list[str]:
    """The folders of :data:`GRADER_PACKAGES` that lie inside ``binds`` (a non-editable install
    puts them in site-packages): the sandbox mounts an empty tmpfs over each."""
    import importlib.util

    out = []
    for name in GRADER_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            real = os.path.realpath(location)
            if any(real == b or real.startswith(b + "/") for b in binds):
                out.append(real)
    return sorted(set(out))


def bwrap_argv(ws: Workspace, limits: Limits) -> list[str]:
    """The bubblewrap prefix for a program of ``ws`` (see the module docstring)."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailableError("bubblewrap (bwrap) is not installed")
    args = ["/usr/bin/env", "-i", bwrap, *_namespace_args(), *_system_binds()]
    binds = [p for p in python_roots() if not p.startswith(("/usr/", "/bin/", "/lib"))]
    # the folders leading to the bound paths: traversable whatever the grader's umask
    parents = sorted({str(a) for p in [*binds, str(LAUNCHER), *ws.extra_read]
                      for a in Path(p).parents if str(a) not in ("/", "/tmp")})
    for path in parents:
        args += ["--perms", "0755", "--dir", path]
    for path in binds:
        args += ["--ro-bind", path, path]
    for path in hidden_packages(binds):  # the launcher is bound again below, over the mask
        args += ["--size", str(1024**2), "--tmpfs", path]
    for path in ("/sys/devices/system/cpu",):
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(64 * 1024**2), "--tmpfs", "/dev/shm",
             "--size", str(64 * 1024**2), "--tmpfs", "/tmp",
             "--bind", str(ws.path), str(ws.path),
             "--ro-bind", str(ws.ctl), str(ws.ctl),
             "--ro-bind", str(LAUNCHER), str(LAUNCHER)]
    for path in ws.extra_read:
        args += ["--ro-bind", path, path]
    # no --chdir: as root the workspace is the sandbox uid's; the launcher changes to it
    args += ["--remount-ro", "/", "--chdir", "/", "--"]
    return args


def launch_argv(config_path: Path, ws: Workspace, limits: Limits) -> list[str]:
    """The command that starts a program in the sandbox described by ``config_path``."""
    launch = [sys.executable, "-I", str(LAUNCHER), str(config_path)]
    if limits.unsafe:
        return launch
    require_isolation(limits)
    return [*bwrap_argv(ws, limits), *launch]


def workspace_bytes(ws: Workspace, max_entries: int = 20_000) -> int:
    """Disk used by the workspace (a huge number when it holds more than ``max_entries``)."""
    total, seen = 0, 0
    stack = [str(ws.path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    seen += 1
                    if seen > max_entries:
                        return 1 << 62
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def over_quota(ws: Workspace) -> bool:
    """True when a workspace that is not a size-limited tmpfs grew past its quota."""
    return not ws.mounted and workspace_bytes(ws) > ws.disk_bytes


def quota_note(ws: Workspace) -> str:
    """The reason given when a sandbox is ended for its disk use."""
    return (f"the workspace grew past its disk quota of {ws.disk_bytes // 2**20} MB; "
            "the program was stopped")


def kill_uid(uid: int | None) -> int:
    """SIGKILL every process running as ``uid`` (root only); return how many were signalled."""
    if uid is None or not is_root():
        return 0
    killed = 0
    for attempt in range(50):
        found = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid or _is_zombie(entry):
                    continue
            except OSError:
                continue
            found += 1
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        if not found:
            break
        time.sleep(0.005 * (attempt + 1))
    return killed


def _is_zombie(pid: str) -> bool:
    """A killed child stays in /proc as a zombie until its parent reaps it: not a threat."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        stat = fh.read()
    return stat[stat.rfind(b")") + 2:][:1] in (b"Z", b"X")


def run_sandboxed(ws: Workspace, argv: list[str], env: dict[str, str], limits: Limits,
                  timeout: float, name: str = "run",
                  session: Callable[[int, int], None] | None = None,
                  ) -> tuple[int | None, str, bool]:
    """Run ``argv`` in the sandbox; return (exit code or None, stderr tail, timed out).

    With ``session``, the program's stdin and stdout are pipes and ``session(write_fd,
    read_fd)`` talks over them in a thread (the sandbox ends when the program exits, times out
    or outgrows its quota, and the pipes are closed after that). The stderr tail starts with the
    quota note when the workspace outgrew its quota."""
    cfg = launcher_config(ws, argv, env, limits, name)
    err_path = ws.ctl / f"{name}.stderr"
    quota = False
    from autograder import forkserver

    pipe = subprocess.PIPE if session else subprocess.DEVNULL
    talker: threading.Thread | None = None
    with open(err_path, "wb") as err:
        proc: Any = None
        if forkserver.usable(limits):
            try:
                proc = forkserver.launch(ws, cfg, limits, err_path, pipes=session is not None)
            except forkserver.ForkServerError:
                proc = None
        if proc is None:
            proc = subprocess.Popen(launch_argv(cfg, ws, limits), stdin=pipe, stdout=pipe,
                                    stderr=err, start_new_session=True, cwd=str(ws.path),
                                    env={})
        if session is not None:
            assert proc.stdin is not None and proc.stdout is not None
            talker = threading.Thread(target=session, daemon=True,
                                      args=(proc.stdin.fileno(), proc.stdout.fileno()))
            talker.start()
        deadline = time.monotonic() + timeout
        timed_out = False
        code: int | None = None
        while True:
            try:
                code = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            if talker is not None and not talker.is_alive():
                # the exchange is over (done, or the program's answers were refused): a program
                # that does not end by itself soon after is not waited for
                deadline = min(deadline, time.monotonic() + 2.0)
            if time.monotonic() > deadline:
                timed_out = True
            elif over_quota(ws):
                quota = True
            if timed_out or quota:
                _end(proc)
                kill_uid(ws.uid)
                proc.wait()
                code = None
                break
        _end(proc)  # anything the program left behind
        kill_uid(ws.uid)
        if talker is not None:
            talker.join(timeout=10)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
    with open(err_path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4000))
        tail = fh.read().decode("utf-8", "replace")
    if quota:
        tail = quota_note(ws) + "\n" + tail
    return code, tail, timed_out


def _end(proc: Any) -> None:
    """End the sandbox of ``proc`` (a ``Popen`` of bubblewrap or a forked program)."""
    if hasattr(proc, "program_pid"):
        proc.kill()
    else:
        end_process_tree(proc.pid)


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid``: from the kernel's list of each of its threads'
    children (``/proc/<pid>/task/<tid>/children``), else by reading every process's parent."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out += [int(k) for k in fh.read().split()]
        except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN, or the thread ended
            if not os.path.exists(f"/proc/{pid}/task/{tid}/children"):
                return _children_by_parent(pid)
        except OSError:
            continue
    return out


def _children_by_parent(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _gone(pid: int) -> bool:
    try:
        return _is_zombie(str(pid))
    except OSError:
        return True


def signal_tree(pid: int, kids: list[int]) -> None:
    """SIGKILL a sandbox's outer process, its session and its direct children ``kids``."""
    _kill_group(pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    for kid in kids:
        try:
            os.kill(kid, signal.SIGKILL)
        except OSError:
            pass


def end_process_tree(pid: int, wait: float = 5.0) -> bool:
    """SIGKILL a sandbox's outer process and its session; wait until its direct children (the
    sandbox's first process: with it the whole PID namespace) are gone. True when they are."""
    kids = children(pid)
    signal_tree(pid, kids)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if all(_gone(k) for k in kids):
            return True
        time.sleep(0.01)
    return False


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def remove_workspace(ws: Workspace, kill: bool = True) -> None:
    """Kill leftovers (unless already done) and delete the workspace and its control folder."""
    if kill:
        kill_uid(ws.uid)
    if ws.mounted:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.umount2(str(ws.path).encode(), _MNT_DETACH)
        ws.mounted = False
    shutil.rmtree(ws.path, ignore_errors=True)
    shutil.rmtree(ws.ctl, ignore_errors=True)
