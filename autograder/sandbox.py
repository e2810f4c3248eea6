"""Workspaces and limits for running untrusted student code (trusted side).

Every submission gets a fresh workspace directory that holds only its notebooks, the instructor's
release-side files (e.g. ``coursekit/``) and a private ``tmp/``. Programs started in it go through
:mod:`autograder._launch`, which applies rlimits and Landlock and, when the grader runs as root,
switches to an unprivileged uid chosen at random per submission (no other process shares it, so
``RLIMIT_NPROC`` is per submission and no other submission's files are readable), in a network
namespace of its own. After the submission, :func:`kill_uid` ends every process left with that
uid.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = Path(__file__).with_name("_launch.py")
_UID_BASE = 300_000
_UID_SPAN = 1_000_000_000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (seconds, bytes)."""

    cell_timeout: float = 30.0
    submission_timeout: float = 180.0
    cpu_seconds: int = 240
    memory_bytes: int = 3 * 1024**3
    file_bytes: int = 64 * 1024**2
    nproc: int = 64
    output_bytes_per_cell: int = 100_000
    output_bytes_total: int = 1_000_000
    runner_timeout: float = 45.0


@dataclass
class Workspace:
    """A per-submission directory plus the identity its programs run under."""

    path: Path
    uid: int | None
    gid: int | None
    extra_read: list[str] = field(default_factory=list)

    @property
    def tmp(self) -> Path:
        """The private temporary directory inside the workspace."""
        return self.path / "tmp"


def is_root() -> bool:
    """True when the grader runs as root and can drop privileges for student code."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def new_workspace(base: Path | None = None) -> Workspace:
    """Create an empty workspace; as root, owned by a fresh random unprivileged uid."""
    root = Path(tempfile.mkdtemp(prefix="bpc-ws-", dir=base))
    os.chmod(root, 0o700)
    uid = gid = None
    if is_root():
        uid = gid = _UID_BASE + secrets.randbelow(_UID_SPAN)
    (root / "tmp").mkdir()
    ws = Workspace(root, uid, gid)
    return ws


def seal(ws: Workspace) -> None:
    """Hand the workspace to its sandbox uid (call after all files are in place)."""
    if ws.uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(ws.path):
        os.chown(dirpath, ws.uid, ws.gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), ws.uid, ws.gid, follow_symlinks=False)


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
    cfg = {
        "workspace": str(ws.path),
        "uid": ws.uid,
        "gid": ws.gid,
        "argv": argv,
        "env": env,
        "cpu_seconds": limits.cpu_seconds,
        "memory_bytes": limits.memory_bytes,
        "file_bytes": limits.file_bytes,
        "nproc": limits.nproc if ws.uid is not None else None,
        "read_paths": read_roots() + ws.extra_read,
        "write_paths": [str(ws.path), "/dev/null"],
        "landlock": True,
        "no_network": True,
        "expose": sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix,
                                                         sys.executable)}),
    }
    cfg_dir = Path(str(ws.path) + ".ctl")
    cfg_dir.mkdir(mode=0o700, exist_ok=True)
    path = cfg_dir / f"{name}.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


def launch_argv(config_path: Path) -> list[str]:
    """The command that starts a program in the sandbox described by ``config_path``."""
    return [sys.executable, "-I", str(LAUNCHER), str(config_path)]


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
                  timeout: float, name: str = "run") -> tuple[int | None, str, bool]:
    """Run ``argv`` in the sandbox; return (exit code or None, stderr tail, timed out)."""
    cfg = launcher_config(ws, argv, env, limits, name)
    err_path = Path(str(ws.path) + ".ctl") / f"{name}.stderr"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(launch_argv(cfg), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                cwd=str(ws.path))
        expired = threading.Event()

        def on_timeout() -> None:
            expired.set()
            _kill_group(proc.pid)
            kill_uid(ws.uid)

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        try:
            code: int | None = proc.wait()  # blocking waitpid: no polling latency
        finally:
            timer.cancel()
        timed_out = expired.is_set()
        kill_uid(ws.uid)
        if timed_out:
            code = None
    with open(err_path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4000))
        tail = fh.read().decode("utf-8", "replace")
    return code, tail, timed_out


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def remove_workspace(ws: Workspace, kill: bool = True) -> None:
    """Kill leftovers (unless already done) and delete the workspace and its control folder."""
    if kill:
        kill_uid(ws.uid)
    shutil.rmtree(ws.path, ignore_errors=True)
    shutil.rmtree(str(ws.path) + ".ctl", ignore_errors=True)
