"""The isolated runner: what student code can and cannot do from inside the sandbox."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import runner_host, sandbox
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
    result = runner_host.run_trusted(cells, [spec], ctx, files, limits)
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
    runner_host.run_trusted([code], [spec], make_context("c", "a", "s"), {}, FAST)
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
    from autograder import cli

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


@pytest.mark.skipif(bool(sandbox.isolation_problem()), reason="needs bubblewrap")
def test_grader_packages_inside_the_python_environment_are_masked(monkeypatch):
    """A non-editable install puts the grader's packages in site-packages, which the sandbox
    binds: they are covered by an empty tmpfs. Shown with a package that is installed there."""
    import jinja2

    folder = os.path.dirname(os.path.realpath(jinja2.__file__))
    code = (f"import os\nlisted = sorted(os.listdir({folder!r}))\n"
            f"readable = os.path.exists({os.path.join(folder, '__init__.py')!r})\n")
    seen, _ = _run([code], ["listed", "readable"])
    assert seen["readable"] is True and "__init__.py" in seen["listed"]  # not masked: visible
    monkeypatch.setattr(sandbox, "GRADER_PACKAGES", ("jinja2",))
    assert sandbox.hidden_packages(sandbox.python_roots()) == [folder]
    seen, _ = _run([code], ["listed", "readable"])
    assert seen == {"listed": [], "readable": False}, seen


SANDBOXED_IMPORTS = {"launch.py": set(), "runner.py": {"numpy", "sympy"},
                     "zygote.py": {"numpy", "sympy", "matplotlib", "ipykernel", "IPython"}}
"""What each program of ``autograder/sandboxed/`` may import beyond the standard library (its
README.md)."""


def _imported(path: Path) -> set[str]:
    """Every module an import statement of ``path`` names, lazy imports included (``.`` for a
    relative import)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def test_sandboxed_programs_stay_apart():
    """The boundary of autograder/sandboxed/README.md, both ways: its programs import the
    standard library and their listed libraries only (nothing of the course, not one another),
    and nothing on the host side imports them (they are run by path or source text)."""
    folder = sandbox.SANDBOXED_DIR
    assert not (folder / "__init__.py").exists()
    assert sorted(p.name for p in folder.glob("*.py")) == sorted(SANDBOXED_IMPORTS)
    for name, allowed in SANDBOXED_IMPORTS.items():
        tops = {m.split(".")[0] or "." for m in _imported(folder / name)}
        assert tops - set(sys.stdlib_module_names) <= allowed, name
    repo = folder.parents[1]
    host = [p for top in ("autograder", "tests", "bench", "scripts")
            for p in (repo / top).rglob("*.py") if folder not in p.parents]
    for path in host:
        hits = {m for m in _imported(path)
                if m.startswith(("autograder.sandboxed", "autograder._launch", "autograder._runner",
                                 "autograder._zygote"))}
        assert not hits, (path, hits)
