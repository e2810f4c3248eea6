"""The fork server: a student's kernel forked from it sees nothing of another student's, and a
crashed or killed one is never used again."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import forkserver, kernel, sandbox
from tests.autograder.conftest import FAST

pytestmark = pytest.mark.skipif(
    not forkserver.usable(FAST) or sandbox.isolation_problem() is not None,
    reason="the fork server is used as root with bubblewrap only")

MARK = "bpc-planted-" + "7f3c9e1a"

PLANT = f'''
import os, sys, builtins, numpy, sympy, matplotlib
for path in ("planted.txt", "/tmp/planted.txt", "/dev/shm/planted.txt", "tmp/planted.txt"):
    try:  # /tmp and /dev/shm belong to the sandbox's root: the student may not write there
        open(path, "w").write("{MARK}")
    except PermissionError:
        pass
with open("mymod_{MARK[-4:]}.py", "w") as fh:
    fh.write("VALUE = '{MARK}'")
sys.path.insert(0, os.getcwd())
__import__("mymod_{MARK[-4:]}")
os.environ["PLANTED"] = "{MARK}"
numpy.planted = builtins.planted = matplotlib.planted = "{MARK}"
sympy.core.planted = "{MARK}"
kept = bytearray(b"{MARK}" * 100000)
print(os.getpid(), os.getuid(), os.environ["BPC_STUDENT_ID"], numpy.random.randint(1 << 30))
'''

LOOK = f'''
import os, sys, builtins, numpy, sympy, matplotlib
def _read(path):
    try:
        return open(path).read()
    except OSError as exc:
        return type(exc).__name__
found = {{
    "files": [_read(p) for p in ("planted.txt", "/tmp/planted.txt", "/dev/shm/planted.txt",
                                 "tmp/planted.txt")],
    "listing": sorted(os.listdir(".")),
    "env": {{k: v for k, v in os.environ.items() if "{MARK}" in v or k == "PLANTED"}},
    "modules": [m for m in sys.modules if m.startswith("mymod")],
    "globals": [hasattr(o, "planted") for o in (numpy, builtins, matplotlib, sympy.core)],
    "status": {{k: v.strip() for k, v in (line.split(":", 1) for line in open("/proc/self/status"))
               if k in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb", "NoNewPrivs")}},
    "fds": sorted(os.listdir("/proc/self/fd")),
}}
print(repr(found))
print(os.getpid(), os.getuid(), os.environ["BPC_STUDENT_ID"], numpy.random.randint(1 << 30))
'''


def _execute(student, *sources, limits=FAST):
    nb = new_notebook(cells=[new_code_cell(src) for src in sources])
    ws = sandbox.new_workspace()
    sandbox.seal(ws)
    launched = []
    real = forkserver.launch

    def spy(*args, **kw):
        launched.append(real(*args, **kw))
        launched[-1].workspace = args[0].path.name
        return launched[-1]

    forkserver.launch = spy
    try:
        info = kernel.execute(nb, ws, student, limits)
    finally:
        forkserver.launch = real
        sandbox.remove_workspace(ws)
    texts = ["".join(o.get("text", "") or f"{o.get('ename')}: {o.get('evalue')}"
                     for o in c.outputs) for c in nb.cells]
    return info, texts, launched


@pytest.mark.slow
def test_a_student_sees_nothing_of_the_previous_one():
    _, (planted,), first = _execute("alice-7", PLANT)
    assert len(planted.split()) == 4, planted
    pid_a, uid_a, who_a, rand_a = planted.split()
    assert who_a == "alice-7"
    _, (looked,), second = _execute("bob-8", LOOK)
    found, last = looked.strip().splitlines()
    found = eval(found)
    assert found["files"] == ["FileNotFoundError"] * 4, found
    assert not any("planted" in n or "mymod" in n for n in found["listing"]), found
    assert found["env"] == {} and found["modules"] == [], found
    assert found["globals"] == [False] * 4, found
    # the launcher's state in bubblewrap: no capability left, only setuid/setgid in the bounding
    # set, no new privileges (Landlock)
    zero = "0" * 16
    assert found["status"] == {"CapInh": zero, "CapPrm": zero, "CapEff": zero,
                               "CapBnd": "00000000000000c0", "CapAmb": zero,
                               "NoNewPrivs": "1"}, found
    pid_b, uid_b, who_b, rand_b = last.split()
    assert who_b == "bob-8" and uid_b != uid_a and rand_b != rand_a
    # both kernels came from the fork server, each its own process, and both are gone now
    assert len(first) == len(second) == 1
    assert first[0].program_pid != second[0].program_pid
    for proc in first + second:
        assert proc.returncode is not None and proc.bwrap.poll() is not None
        assert forkserver._exit_status(proc.program_pid) == -9  # no such process any more


def _memory_has(pid, needle):
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms, *rest = line.split()
            if "r" not in perms or (len(rest) > 3 and rest[3].startswith("/")):
                continue  # a mapped file (the libraries) holds nothing of a request
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


def test_the_fork_server_keeps_no_trace_of_a_student():
    """Every kernel is a copy of the fork server's memory: nothing of a student may be in it
    (not their id, not their paths, not what their code made)."""
    student = "carol-" + "0c4f9b"
    _, (planted,), launched = _execute(student, PLANT)
    assert student in planted
    zygote = forkserver.server().proc.pid
    assert _memory_has(zygote, b"BPC_SANDBOX_LANDLOCK")  # the scan works: the launcher's code
    assert not _memory_has(zygote, student.encode())
    assert not _memory_has(zygote, MARK.encode())
    assert not _memory_has(zygote, launched[0].workspace.encode())


@pytest.mark.slow
@pytest.mark.parametrize("death", ["import os\nos._exit(3)\n",
                                   "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"])
def test_a_dead_kernel_is_reported_and_never_reused(death):
    info, _, launched = _execute("dave-9", "x = 1\n", death, "print('after')\n")
    assert info.executed == {0}
    assert "kernel died" in " ".join(info.notes), info.notes
    assert len(launched) == 1 and launched[0].returncode is not None
    _, (out,), again = _execute("erin-10", "print('fresh')\n")
    assert out == "fresh\n" and again[0].program_pid != launched[0].program_pid


@pytest.mark.slow
def test_a_killed_fork_server_is_replaced():
    old = forkserver.server()
    os.kill(old.proc.pid, signal.SIGKILL)
    old.proc.wait()
    _, (out,), launched = _execute("frank-11", "print(1 + 1)\n")
    assert out == "2\n" and len(launched) == 1
    assert forkserver.server() is not old and forkserver.server().alive()


PIPED = f'''
import builtins, os, sys
line = sys.stdin.readline()
seen = getattr(builtins, "planted", None)
builtins.planted = "{MARK}"
fds = {{}}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[int(fd)] = os.readlink(f"/proc/self/fd/{{fd}}").split(":")[0]
    except OSError:
        pass
print(repr({{"line": line, "warm": "numpy" in sys.modules, "seen": seen, "fds": fds,
             "pid": os.getpid()}}), flush=True)
'''


def _piped(student):
    """Run PIPED as the isolated runner is run: over its stdin and stdout, in a session."""
    ws = sandbox.new_workspace()
    sandbox.seal(ws)
    launched, heard = [], []
    real = forkserver.launch

    def spy(*args, **kw):
        launched.append(real(*args, **kw))
        return launched[-1]

    def session(wfd, rfd):
        os.write(wfd, b"hello\n")
        data = b""
        while chunk := os.read(rfd, 65536):  # until every write end is closed
            data += chunk
        heard.append(data.decode())

    forkserver.launch = spy
    try:
        argv = [sys.executable, "-I", "-c", PIPED]
        code, tail, timed_out = sandbox.run_sandboxed(
            ws, argv, sandbox.clean_env(ws, student), FAST, 30, "piped", session=session)
    finally:
        forkserver.launch = real
        sandbox.remove_workspace(ws)
    assert (code, timed_out) == (0, False), tail
    return eval(heard[0]), launched


@pytest.mark.slow
def test_a_program_spoken_to_over_pipes_is_forked_with_only_its_pipes():
    """The isolated runner's way of talking: its stdin and stdout are the pipes passed over the
    server's socket, it holds nothing else of the server (no socket), and the grader reads the
    end of its output when it ends (no other process keeps a write end)."""
    first, launched = _piped("gina-12")
    assert len(launched) == 1 and launched[0].stdin is not None
    assert first["line"] == "hello\n" and first["warm"] is True and first["seen"] is None
    assert first["fds"][0] == first["fds"][1] == "pipe", first["fds"]
    assert "socket" not in first["fds"].values(), first["fds"]
    assert set(first["fds"]) <= {0, 1, 2, 3}, first["fds"]  # 3: the listing's own descriptor
    second, again = _piped("hank-13")
    assert second["seen"] is None and again[0].program_pid != launched[0].program_pid


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_worker_keeps_no_descriptor_of_a_finished_kernel():
    _execute("warm-1", "1 + 1")  # the fork server and anything made once are there now
    before = _fds()
    for i in range(3):
        info, (out,), _ = _execute(f"fds-{i}", "print('ok')")
        assert out.strip() == "ok" and info.died_in is None
    assert _fds() == before  # nbclient and jupyter_client leave ~20 per kernel to the GC
