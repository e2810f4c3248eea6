"""Structural requirements are checked on the student's source in the trusted process."""

from __future__ import annotations

from autograder import sandbox, structure, tasks, trusted
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
    right = trusted.run_trusted([LOOPS], [spec], ctx, {}, sandbox.Limits()).verdicts["t"]
    assert right.score == 2
    wrong_form = trusted.run_trusted([VECTOR], [spec], ctx, {}, sandbox.Limits()).verdicts["t"]
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
