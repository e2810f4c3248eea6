"""Structural requirements are checked on the student's source in the trusted process."""

from __future__ import annotations

from autograder import runner_host, sandbox, structure, tasks
from autograder.tasks import Probe, TaskSpec

LOOPS = '''
def f(x):
    out = 0.0
    for v in x:
        out += v
    return out
'''
VECTOR = '''
import numpy as np

def f(x):
    return float(np.ones(len(x)) @ np.asarray(x))
'''


def test_loops_only_and_no_loops_read_the_source():
    assert structure.loops_only("f")([LOOPS]) is None
    assert "explicit loops" in structure.loops_only("f")([VECTOR])
    assert structure.no_loops("f")([VECTOR]) is None
    assert "Python loops (for)" in structure.no_loops("f")([LOOPS])
    assert structure.loops_only("g")([LOOPS]) == "g is not defined"
    # A cell that does not parse is left out; the last definition wins, as in a notebook.
    assert structure.no_loops("f")([LOOPS, "def broken(:", VECTOR]) is None
    comprehension = "def f(x):\n    return sum([x[i] for i in range(len(x))])\n"
    assert "comprehension over range" in structure.no_loops("f")([comprehension])
    over_keys = "def f(g):\n    return {k: 2 * v for k, v in g.items()}\n"
    assert structure.no_loops("f")([over_keys]) is None


def test_a_right_answer_in_the_wrong_form_scores_zero_in_the_trusted_runner():
    spec = TaskSpec("t", 2, ("f",), lambda ctx: [Probe("f", args=([1.0, 2.0, 3.0],))],
                    lambda probe: 6.0, structure=structure.loops_only("f"))
    ctx = tasks.make_context("c", "a", "s")
    right = runner_host.run_trusted([LOOPS], [spec], ctx, {}, sandbox.Limits()).verdicts["t"]
    assert right.score == 2
    wrong_form = runner_host.run_trusted([VECTOR], [spec], ctx, {}, sandbox.Limits()).verdicts["t"]
    assert wrong_form.score == 0 and wrong_form.diagnosis == "structure"
    assert "explicit loops" in wrong_form.message


def test_the_course_tasks_declare_their_form_requirements():
    from pathlib import Path

    registry = Path(__file__).resolve().parents[2] / "autograder" / "registry"
    ps1 = {s.grade_id: s for s in tasks.load_tasks(registry / "ps1.py")}
    ps2 = {s.grade_id: s for s in tasks.load_tasks(registry / "ps2.py")}
    vectorized = "def backward_loops(x, t, params):\n    return params['W2'].T @ x\n"
    looped = "def backward_vec(x, t, params):\n    for j in range(3):\n        pass\n"
    for gid in ("t1_9_tests_public", "t1_9_tests_hidden"):
        assert "explicit loops" in ps1[gid].structure([vectorized])
    assert "Python loops" in ps2["t2_3b_tests_hidden"].structure([looped])


KEY_LOOP = '''
def f(x, t, params):
    g = {"W": params["W"] * 2.0}
    for k in g:
        g[k] = np.asarray(g[k], dtype=float)
    return {k: v.copy() for k, v in g.items()}
'''
HELPER_LOOP = '''
def _down(W, dz):
    out = np.zeros((W.shape[1], 1))
    for j in range(W.shape[1]):
        out[j, 0] = W[:, j] @ dz[:, 0]
    return out


def f(W, dz):
    return _down(W, dz)
'''


def test_no_loops_allows_result_key_loops_and_follows_helpers():
    assert structure.no_loops("f")([KEY_LOOP]) is None
    assert structure.no_loops("f")([HELPER_LOOP]) == (
        "f (through its helper _down) uses Python loops (for): the task asks for vector and "
        "matrix operations")
    # given (locked) helpers are not the student's: not followed
    assert structure.no_loops("f", given=("_down",))([HELPER_LOOP]) is None
    over_rows = "def f(X):\n    return sum(x * 2 for x in X)\n"
    assert "comprehension" in structure.no_loops("f")([over_rows])
    hidden = "def f(X):\n    return list(map(lambda r: r * 2, X))\n"
    assert "map" in structure.no_loops("f")([hidden])
    assert "through its helper _down) uses @" in structure.loops_only("f")([HELPER_LOOP])
    key_list = 'KEYS = ("W", "b")\n\ndef f(g):\n    return {k: g[k] for k in KEYS}\n'
    assert structure.no_loops("f")([key_list]) is None


FD_QUOTIENT = '''
def f(theta, h=1e-5):
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e.flat[i] = h
        g.flat[i] = (loss(theta + e) - loss(theta - e)) / (2 * h)
    return g
'''
FD_ALIAS = '''
from coursekit.gradcheck import numerical_gradient as ng

def helper(P, k):
    return ng(lambda: 0.0, P[k])

def f(P):
    return {k: helper(P, k) for k in P}
'''
STABLE = '''
EPS = 1e-12

def f(a2, T, N):
    dz = (a2 - T) / N
    return dz, -np.log(a2 + EPS).sum(), (a2 - T) / (N + EPS)
'''


def test_finite_differences_are_found_in_the_function_and_its_helpers():
    rule = structure.analytic_gradients
    assert rule("f")([FD_QUOTIENT]) == (
        "f uses finite differences (a difference quotient (f(x + h) - f(x - h)) / 2h): the task "
        "asks for analytic gradients by backpropagation; finite differences are only for "
        "checking them")
    assert rule("f")([FD_ALIAS]).startswith(
        "f (through its helper helper) uses finite differences (calls ng)")
    literal = "def f(x):\n    return (g(x + 1e-6) - g(x)) / 1e-6\n"
    assert "difference quotient" in rule("f")([literal])
    assert rule("f")(["def f(x):\n    return check.grad_fd('x', x, g, x)\n"]).startswith(
        "f uses finite differences (calls grad_fd)")
    # numerically stable code with small constants is not a finite difference
    assert rule("f")([STABLE]) is None


def test_the_notebook_side_rule_reads_the_same_loops(tmp_path, monkeypatch):
    import importlib

    from coursekit.structure import function_loops

    (tmp_path / "student_mod.py").write_text("import numpy as np\n" + HELPER_LOOP + KEY_LOOP
                                             .replace("def f(", "def g(", 1))
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("student_mod")
    assert function_loops(mod.f) == ["for (in _down)"]
    assert function_loops(mod.f, given=("_down",)) == []
    assert function_loops(mod.g) == []
