"""The isolated runner: what student code can and cannot do from inside the sandbox."""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograder import sandbox, trusted
from autograder.tasks import Probe, TaskSpec, Verdict, make_context
from tests.autograder.conftest import ASSIGNMENT, FAST

PROBE_CODE = '''
import os, socket, sys
def _try(fn):
    try:
        return "OK:" + str(fn())[:80]
    except BaseException as e:
        return type(e).__name__
read_source = _try(lambda: open(SOURCE_NB).read())
read_db = _try(lambda: open(DB).read())
list_course = _try(lambda: os.listdir(COURSE))
import_ref = _try(lambda: __import__("backprop_ref.spec"))
import_grader = _try(lambda: __import__("autograder.tasks"))
write_outside = _try(lambda: open("/tmp/bpc-escape-test", "w").write("x"))
connect = _try(lambda: socket.create_connection(("127.0.0.1", 9), timeout=1))
udp = _try(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.1.2.3", 53)))
network = os.environ.get("BPC_SANDBOX_NETWORK")
coursekit = _try(lambda: __import__("coursekit.gradcheck").gradcheck.PASS_TOL)
uid = os.getuid()
student = os.environ.get("BPC_STUDENT_ID")
'''

NAMES = ["read_source", "read_db", "list_course", "import_ref", "import_grader",
         "write_outside", "connect", "coursekit", "uid", "student", "udp", "network"]


def _run(cells, names, course=None, limits=FAST):
    seen = {}

    def capture(trials, spec):
        for t in trials:
            seen[t.probe.name] = t.got if t.error is None else "ERROR " + t.error
        return Verdict(0, spec.points, "")

    spec = TaskSpec("t", 1, tuple(names), lambda ctx: [Probe(n, call=False) for n in names],
                    lambda p: 0.0, compare=capture)
    files = {}
    if course is not None:
        rel = course.release_dir(ASSIGNMENT)
        files = {p.relative_to(rel).as_posix(): p.read_bytes() for p in rel.rglob("*.py")}
    ctx = make_context("c", ASSIGNMENT, "student-7")
    result = trusted.run_trusted(cells, [spec], ctx, files, limits)
    return seen, result


def test_student_code_cannot_reach_course_or_grader(released):
    root = released.root
    header = (f"SOURCE_NB = {str(root / 'source' / ASSIGNMENT / 'backprop.ipynb')!r}\n"
              f"DB = {str(root / 'gradebook.db')!r}\nCOURSE = {str(root)!r}\n")
    seen, _ = _run([header + PROBE_CODE], NAMES, released)
    for name in ("read_source", "read_db", "list_course", "write_outside", "connect"):
        assert not str(seen[name]).startswith("OK"), (name, seen[name])
    assert seen["import_ref"] in ("ModuleNotFoundError", "PermissionError", "ImportError")
    assert seen["import_grader"] in ("ModuleNotFoundError", "PermissionError", "ImportError")
    assert seen["coursekit"] == "OK:1e-06"  # release-side files are importable
    assert seen["student"] == "student-7"
    assert not os.path.exists("/tmp/bpc-escape-test")
    if sandbox.is_root():
        assert seen["uid"] >= 300_000 and seen["uid"] != os.getuid()
        assert seen["network"] == "none" and not seen["udp"].startswith("OK")


def test_functions_are_called_on_plain_arrays_and_results_are_plain():
    code = "import numpy as np\ndef f(a, b=1.0):\n    return {'s': a * b, 'n': int(a.size)}\n"
    out = {}

    def capture(trials, spec):
        out["got"] = trials[0].got
        return Verdict(1, 1, "")

    spec = TaskSpec("t", 1, ("f",), lambda ctx: [Probe("f", args=(np.arange(3.0),),
                                                        kwargs={"b": 2.0})],
                    lambda p: None, compare=capture)
    trusted.run_trusted([code], [spec], make_context("c", "a", "s"), {}, FAST)
    np.testing.assert_array_equal(out["got"]["s"], [0.0, 2.0, 4.0])
    assert out["got"]["n"] == 3


@pytest.mark.parametrize("code, expect", [
    ("import os\nos._exit(0)\n", "ended the isolated run early"),
    ("x = bytearray(8 * 1024**3)\n#--\nvalue = 1.0\n", None),
    pytest.param("import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                 "while True:\n    pass\n", "time limit", marks=pytest.mark.slow),
    ("class Evil:\n    pass\nvalue = Evil()\n", "not a number or an array"),
    ("import numpy as np\nvalue = np.array([object()])\n", "not numeric"),
])
def test_faults_give_a_reason_not_a_crash(code, expect):
    limits = sandbox.Limits(cell_timeout=2, runner_timeout=6, memory_bytes=1024**3)
    seen, result = _run(code.split("#--\n"), ["value"], limits=limits)
    if expect is None:
        assert seen["value"] == 1.0
    else:
        assert expect in str(seen["value"]) + result.note, (seen, result.note)


def test_refuses_to_grade_without_isolation_unless_unsafe(monkeypatch, released, tmp_path,
                                                          capsys):
    from autograder import cli  # noqa: PLC0415

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    monkeypatch.setattr(sandbox, "_PROBLEM", [])
    assert "bubblewrap (bwrap) is not installed" in sandbox.isolation_problem()
    with pytest.raises(sandbox.SandboxUnavailableError):
        sandbox.require_isolation(sandbox.Limits())
    sandbox.require_isolation(sandbox.Limits(unsafe=True))
    status = cli.main(["--course-root", str(released.root), "grade", ASSIGNMENT,
                       str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 2 and "refusing to grade" in out and "--unsafe" in out


def test_sandbox_sees_only_itself(monkeypatch):
    monkeypatch.setenv("BPC_PLANTED_SECRET", "in the grader's environment")
    code = ("import os\npids = sorted(p for p in os.listdir('/proc') if p.isdigit())\n"
            "env = sorted(os.environ)\n")
    seen, _ = _run([code], ["pids", "env"])
    if not sandbox.isolation_problem():
        assert len(seen["pids"]) <= 3, seen["pids"]  # bubblewrap's init, the runner
    assert "BPC_PLANTED_SECRET" not in seen["env"] and "PATH" in seen["env"]
