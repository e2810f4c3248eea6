"""Sandbox launcher: drop into the sandbox, then exec the untrusted program.

Run as ``python -I /path/to/launch.py CONFIG.json [CONNECTION_FILE]`` by the trusted grader,
normally as the first program inside bubblewrap (``"bwrap": true``: the namespaces, the file
system view and the network are bubblewrap's; see :mod:`autograder.sandbox`). This file is
deliberately standard-library only and is executed by path (never imported by student code). It
reads its configuration (and the kernel connection file, if given), then, in this order:

1. (``--unsafe`` only) as root, a private mount namespace and a network namespace;
2. sets resource limits (CPU seconds, address space, processes, file size, no core dumps);
3. restricts the file system and network with Landlock (Linux >= 5.13): read-only access to the
   Python installation, read-write access to the workspace only, TCP bind only to the kernel's
   ports, no TCP connect, no signals or abstract sockets outside the sandbox;
4. when running as root, drops to the unprivileged uid/gid given in the configuration (in
   bubblewrap, the only capabilities left are the two this needs; the switch clears them);
5. writes the copy of the connection file into the workspace, changes to the workspace and
   ``execve``s the program with a clean environment.

If Landlock is requested as mandatory and unavailable the launcher exits with status 97.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

_SYS_CREATE = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT = 446
_PR_SET_NO_NEW_PRIVS = 38

# Landlock file-system rights by ABI version.
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_ABI1_ALL = (1 << 13) - 1
_FS_REFER = 1 << 13
_FS_TRUNCATE = 1 << 14
_FS_IOCTL_DEV = 1 << 15
_NET_BIND = 1
_NET_CONNECT = 2
_SCOPE_ALL = 1 | 2

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MS_MOVE = 8192

_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _landlock(read_paths: list[str], write_paths: list[str], bind_ports: list[int]) -> int:
    """Apply a Landlock domain to this process; return the ABI used (0 when unsupported)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return 0
    fs_all = _FS_ABI1_ALL
    if abi >= 2:
        fs_all |= _FS_REFER
    if abi >= 3:
        fs_all |= _FS_TRUNCATE
    if abi >= 5:
        fs_all |= _FS_IOCTL_DEV
    attr = _RulesetAttr(fs_all, (_NET_BIND | _NET_CONNECT) if abi >= 4 else 0,
                        _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    fd = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        return 0
    write_rights = fs_all & ~(_FS_REFER if abi >= 2 else 0)
    for paths, rights in ((read_paths, _READ), (write_paths, write_rights)):
        for path in paths:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            allowed = rights if os.path.isdir(path) else rights & (
                _FS_EXECUTE | _FS_READ_FILE | _FS_WRITE_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV)
            rule = _PathBeneath(allowed & fs_all, pfd)
            libc.syscall(_SYS_ADD_RULE, fd, ctypes.c_int(1), ctypes.byref(rule), ctypes.c_uint32(0))
            os.close(pfd)
    if abi >= 4:
        for port in bind_ports:
            rule = _NetPort(_NET_BIND, port)
            libc.syscall(_SYS_ADD_RULE, fd, ctypes.c_int(2), ctypes.byref(rule), ctypes.c_uint32(0))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return 0
    if libc.syscall(_SYS_RESTRICT, fd, ctypes.c_uint32(0)) != 0:
        return 0
    os.close(fd)
    return abi


def _expose(paths: list[str], stage_dir: str) -> bool:
    """Make ``paths`` reachable for an unprivileged uid although an ancestor (e.g. ``/root``,
    mode 0700) is closed: in a private mount namespace, a tmpfs hides that ancestor and only the
    needed child is bind-mounted back. Return False if this is impossible."""
    plan: dict[str, set[str]] = {}
    for path in paths:
        parts = [p for p in os.path.realpath(path).split("/") if p]
        for i in range(len(parts) - 1):
            anc = "/" + "/".join(parts[: i + 1])
            if not os.stat(anc).st_mode & 0o001:
                plan.setdefault(anc, set()).add(parts[i + 1])
                break
    if not plan:
        return True
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    staged = []
    for anc, kids in plan.items():
        for kid in kids:
            stage = os.path.join(stage_dir, f"stage{len(staged)}")
            src = os.path.join(anc, kid)
            if os.path.isdir(src):
                os.mkdir(stage)
            else:
                open(stage, "w").close()
            if libc.mount(src.encode(), stage.encode(), None, _MS_BIND | _MS_REC, None) != 0:
                return False
            staged.append((stage, src))
    for anc in plan:
        if libc.mount(b"tmpfs", anc.encode(), b"tmpfs", 0, b"mode=755,size=64k") != 0:
            return False
    for stage, target in staged:
        if os.path.isdir(stage):
            os.mkdir(target)
        else:
            open(target, "w").close()
        if libc.mount(stage.encode(), target.encode(), None, _MS_MOVE, None) != 0:
            return False
    return True


def _limits(cfg: dict) -> None:
    pairs = [
        (resource.RLIMIT_CPU, cfg.get("cpu_seconds")),
        (resource.RLIMIT_AS, cfg.get("memory_bytes")),
        (resource.RLIMIT_FSIZE, cfg.get("file_bytes")),
        (resource.RLIMIT_NPROC, cfg.get("nproc")),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in pairs:
        if value is None:
            continue
        soft_hard = (int(value), int(value))
        if which == resource.RLIMIT_CPU:
            soft_hard = (int(value), int(value) + 5)
        resource.setrlimit(which, soft_hard)


def main(argv: list[str]) -> None:
    """Entry point: ``launch.py CONFIG [CONNECTION_FILE]``."""
    with open(argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    conn_data = None
    if len(argv) > 2:
        # read now (the file is the grader's), write the copy after dropping privileges
        with open(argv[2], "rb") as fh:
            conn_data = fh.read(1_000_000)
    program, env = prepare(cfg, conn_data, argv[1])
    os.execve(program[0], program, env)


def prepare(cfg: dict, conn_data: bytes | None, cfg_path: str) -> tuple[list[str], dict]:
    """Steps 1-5 of the module docstring for this process; return the program's argv and
    environment (:func:`main` executes it; the fork server runs it in the forked process)."""
    work = cfg["workspace"]
    uid, gid = cfg.get("uid"), cfg.get("gid")
    program = list(cfg["argv"])
    inside_bwrap = bool(cfg.get("bwrap"))
    ports: list[int] = []
    if conn_data is not None:
        info = json.loads(conn_data)
        ports = [int(info[k]) for k in info if k.endswith("_port")] + [0]
    if (not inside_bwrap and uid is not None and os.getuid() == 0
            and not _expose(cfg.get("expose", []), os.path.dirname(cfg_path))):
        sys.stderr.write("sandbox: cannot expose the Python installation to an unprivileged "
                         "user; running as root with Landlock only\n")
        uid = None
    net = "none" if inside_bwrap else "shared"
    if not inside_bwrap and cfg.get("no_network") and os.getuid() == 0:
        # a fresh network namespace: no interface but a down loopback, so no TCP, UDP or DNS
        libc = ctypes.CDLL(None, use_errno=True)
        net = "none" if libc.unshare(_CLONE_NEWNET) == 0 else "shared"
    _limits(cfg)
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if os.getuid() == 0 or os.geteuid() == 0:
            os._exit(96)
    os.umask(0o077)
    if conn_data is not None:
        conn = os.path.join(work, ".kernel-connection.json")
        fd = os.open(conn, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(conn_data)
        program = [conn if a == "{connection_file}" else a for a in program]
    abi = 0
    if cfg.get("landlock", True):
        abi = _landlock(cfg["read_paths"], cfg["write_paths"], ports)
        if abi == 0 and cfg.get("landlock_required", False):
            sys.stderr.write("sandbox: Landlock is required but unavailable\n")
            os._exit(97)
    os.chdir(work)
    env = dict(cfg["env"])
    env["BPC_SANDBOX_LANDLOCK"] = str(abi)
    env["BPC_SANDBOX_UID"] = str(os.getuid())
    env["BPC_SANDBOX_NETWORK"] = net
    env["BPC_SANDBOX"] = "bwrap" if inside_bwrap else "unsafe"
    return program, env


if __name__ == "__main__":
    main(sys.argv)
