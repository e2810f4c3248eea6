"""The trusted task registry of ps1/ps2: source solutions earn full points against backprop_ref
on fresh random instances; injected catalogued mistakes score 0 with the right diagnosis;
correct solutions written in other styles (loops, einsum, matmul) earn full points."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from tests.course.course_helpers import GRADED, REPO, STUDENT


def _tasks(assignment: str) -> list:
    from autograder.tasks import find_task_file, load_tasks

    path = find_task_file(REPO, assignment)
    assert path is not None, f"no task file for {assignment}"
    return load_tasks(path)


def _judge(
    spec: Any,
    fn_of: Callable[[str], Any],
    student: str = STUDENT,
    keep: Callable[[Any], bool] | None = None,
) -> Any:
    """Run the probes of ``spec`` (those ``keep`` accepts) against callables/values from
    ``fn_of`` and judge them with the task's own comparison. A call probe is timed over its
    ``repeat`` calls, as the runner's probes are timed by the grader (without the pipe)."""
    from autograder.tasks import Trial, make_context

    ctx = make_context("backprop-course", spec.notebook or "", student)
    trials = []
    for probe in spec.instances(ctx):
        if keep is not None and not keep(probe):
            continue
        want = spec.reference(probe)
        try:
            target = fn_of(probe.name)
            if not probe.call:
                trials.append(Trial(probe, want, target, None))
                continue
            start = time.perf_counter()
            for _ in range(max(1, probe.repeat)):
                got = target(*copy.deepcopy(probe.args), **copy.deepcopy(dict(probe.kwargs)))
            seconds = time.perf_counter() - start
            trials.append(Trial(probe, want, got, None, seconds=seconds))
        except Exception as exc:
            trials.append(Trial(probe, want, None, f"{type(exc).__name__}: {exc}"))
    assert trials, "no probe selected"
    return spec.judge(trials)


def _square_layers(probe: Any) -> bool:
    """Some W{m}, m >= 2, is square: passing down through W instead of W^T still computes."""
    params = next(a for a in probe.args if isinstance(a, dict))
    return any(
        v.shape[0] == v.shape[1] for k, v in params.items() if k.startswith("W") and k != "W1"
    )


@pytest.fixture(scope="session")
def solution_namespaces(course_copy: Path) -> dict[str, dict[str, Any]]:
    """Each source notebook's non-test code cells executed in one namespace (solutions in)."""
    out = {}
    old = os.environ.get("BPC_STUDENT_ID")
    os.environ["BPC_STUDENT_ID"] = STUDENT
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        for assignment in GRADED:
            nb = nbformat.read(course_copy / "source" / assignment / f"{assignment}.ipynb", 4)
            ns: dict[str, Any] = {"__name__": "__main__"}
            for cell in nb.cells:
                if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
                    exec(compile(cell.source, f"<{assignment}>", "exec"), ns)
            out[assignment] = ns
    finally:
        if old is None:
            os.environ.pop("BPC_STUDENT_ID", None)
        else:
            os.environ["BPC_STUDENT_ID"] = old
    return out


@pytest.mark.parametrize("assignment", GRADED)
def test_registry_matches_notebook_cells(course_copy: Path, assignment: str) -> None:
    nb = nbformat.read(course_copy / "source" / assignment / f"{assignment}.ipynb", 4)
    points = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }
    for spec in _tasks(assignment):
        assert spec.grade_id in points, f"{spec.grade_id} is not a graded code cell"
        assert spec.points == points[spec.grade_id], spec.grade_id


@pytest.mark.parametrize("assignment", GRADED)
def test_source_solutions_equal_reference(solution_namespaces: dict, assignment: str) -> None:
    ns = solution_namespaces[assignment]
    for spec in _tasks(assignment):
        verdict = _judge(spec, ns.__getitem__)
        assert verdict.score == spec.points, f"{spec.grade_id}: {verdict.message}"


def test_numbers_are_per_student(solution_namespaces: dict) -> None:
    """alice's correct numbers score 0 when graded as bob (a friend's numbers)."""
    ns = solution_namespaces["ps1"]
    for spec in _tasks("ps1"):
        if spec.grade_id.startswith(("t1_1_", "t1_3_")):
            assert _judge(spec, ns.__getitem__, STUDENT).score == spec.points
            verdict = _judge(spec, ns.__getitem__, "bob")
            assert verdict.score == 0, spec.grade_id


def _spec(assignment: str, grade_id: str) -> Any:
    return next(s for s in _tasks(assignment) if s.grade_id == grade_id)


# ------------------------------------------------------------------ injected mistakes


def _vector_mutant(bug: str, keys: Callable[[Mapping], list[str]], cache_of: Callable) -> Callable:
    from backprop_ref.mutants import mutant_backward

    def fn(*args: Any) -> dict[str, np.ndarray]:
        grads = mutant_backward(cache_of(*args), bug, level="vector")
        return {k: grads[k] for k in keys(grads) if k in grads}

    return fn


def _q2_cache(x: np.ndarray, t: np.ndarray, params: dict) -> dict:
    from autograder.registry.ps1 import q2_spec
    from backprop_ref import vector

    return vector.mlp_loss(x, t, params, q2_spec(params))[1]


Q2_KEYS = ["W1", "b1", "W2", "b2", "z2", "a1", "z1"]
Q2_BUGS = ["transposed", "missing_activation_derivative", "sign_flip", "w_not_transposed"]
"""The catalogued mistakes that apply to a ReLU + softmax + CE net for one example."""


@pytest.mark.parametrize(
    ("assignment", "grade_id", "name"),
    [
        ("ps1", "t1_9_tests_hidden", "backward_loops"),
        ("ps2", "t2_3b_tests_hidden", "backward_vec"),
    ],
)
@pytest.mark.parametrize("bug", Q2_BUGS)
def test_backward_mutants_are_named(assignment: str, grade_id: str, name: str, bug: str) -> None:
    from backprop_ref.mutants import applicable

    spec = _spec(assignment, grade_id)
    from autograder.registry.ps1 import q2_spec

    square = np.zeros((3, 3))
    if not applicable(bug, q2_spec({"W1": square, "W2": square}), "vector"):
        pytest.skip(f"{bug} does not apply to a ReLU + softmax + CE net")
    mutant = _vector_mutant(bug, lambda g: Q2_KEYS, _q2_cache)
    # W instead of W^T only computes at all when the layer is square (else a shape error)
    keep = _square_layers if bug == "w_not_transposed" else None
    verdict = _judge(spec, lambda n: mutant, keep=keep)
    assert verdict.score == 0
    assert verdict.diagnosis == bug, verdict.message


MLP_BUGS = [
    "transposed",
    "missing_activation_derivative",
    "derivative_at_activation",
    "sign_flip",
    "w_not_transposed",
]


@pytest.mark.parametrize("bug", MLP_BUGS)
def test_mlp_backward_mutants_are_named(bug: str) -> None:
    from autograder.registry import ps2 as reg  # noqa: F401 - importable as a module too

    spec = _spec("ps2", "t2_4_tests_backward")
    cache_of = lambda *args: _mlp_cache(*args)  # noqa: E731
    L_keys = lambda g: [k for k in g if not (k.startswith("a") and k == f"a{_depth(g)}")]  # noqa: E731
    mutant = _vector_mutant(bug, L_keys, cache_of)
    keep = None
    if bug == "w_not_transposed":
        keep = _square_layers
    elif bug == "derivative_at_activation":
        keep = lambda p: any(a in ("sigmoid", "tanh") for a in p.args[2][:-1])  # noqa: E731
    elif bug == "missing_activation_derivative":
        keep = lambda p: len(p.args[2]) > 1  # noqa: E731
    verdict = _judge(spec, lambda n: mutant, keep=keep)
    assert verdict.score == 0
    assert verdict.diagnosis == bug, verdict.message


def _depth(grads: Mapping) -> int:
    return max(int(k[1:]) for k in grads if k.startswith("W"))


def _mlp_cache(x: np.ndarray, params: dict, acts: list, da: np.ndarray) -> dict:
    from autograder.registry import ps2 as reg
    from autograder.tasks import Probe

    return reg._mlp_cache(Probe("mlp_grads", args=(x, params, acts, da)))


def _q1_mutant(kind: str) -> Callable:
    import math

    def fn(w: float, x: float, b: float, t: float) -> dict[str, float]:
        z = w * x + b
        y = x + math.tanh(z)
        dy = y - t
        dz = dy * (1 - math.tanh(z) ** 2)
        g = {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy + dz * w}
        if kind == "sign_flip":
            g = {k: (-v if k != "L" else v) for k, v in g.items()}
        elif kind == "one_path":
            g["x"] = dz * w
        elif kind == "tanh_prime_unsquared":
            dz = dy * (1 - math.tanh(z))
            g.update(z=dz, w=dz * x, b=dz, x=dy + dz * w)
        return g

    return fn


@pytest.mark.parametrize("kind", ["sign_flip", "one_path", "tanh_prime_unsquared"])
def test_q1_mistakes_fail(kind: str) -> None:
    verdict = _judge(_spec("ps1", "t1_2_tests"), lambda n: _q1_mutant(kind))
    assert verdict.score == 0
    if kind == "sign_flip":
        assert verdict.diagnosis == "sign_flip" and "wrong sign" in verdict.message


def _q3_mutant(kind: str, ns: dict) -> Callable:
    right = ns["q3_backward"]

    def fn(x: np.ndarray, w: np.ndarray, t: float, loss: str) -> dict[str, float]:
        g = dict(right(x, w, t, loss))
        n = ns["q3_forward"](x, w, t, loss)
        if kind == "no_relu_mask":  # dL/dm = dL/dh everywhere
            for j in (3, 4):
                g[f"m{j}"] = g[f"h{j}"]
            g["w5"], g["w6"] = g["m3"] * n["h1"], g["m3"] * n["h2"]
            g["w7"], g["w8"] = g["m4"] * n["h1"], g["m4"] * n["h2"]
        elif kind == "sigmoid_prime_at_y":
            s = 1 / (1 + np.exp(-n["y"]))
            g["z"] = g["y"] * s * (1 - s)
        return g

    return fn


@pytest.mark.parametrize("kind", ["no_relu_mask", "sigmoid_prime_at_y"])
def test_q3_mistakes_fail(solution_namespaces: dict, kind: str) -> None:
    verdict = _judge(
        _spec("ps1", "t1_4_tests_backward"), lambda n: _q3_mutant(kind, solution_namespaces["ps1"])
    )
    assert verdict.score == 0


# ------------------------------------------------------------------ other correct styles


def _forward(x: np.ndarray, params: dict) -> dict:
    z1 = params["W1"] @ x + params["b1"]
    a1 = np.maximum(z1, 0)
    z2 = params["W2"] @ a1 + params["b2"]
    e = np.exp(z2 - z2.max())
    return {"z1": z1, "a1": a1, "z2": z2, "a2": e / e.sum()}


def backward_einsum(x: np.ndarray, t: np.ndarray, params: dict) -> dict:
    f = _forward(x, params)
    dz2 = f["a2"] - t
    da1 = np.einsum("kj,ki->ji", params["W2"], dz2)
    dz1 = np.where(f["z1"] > 0, da1, 0.0)
    return {
        "z2": dz2,
        "W2": np.einsum("ki,ji->kj", dz2, f["a1"]),
        "b2": dz2,
        "a1": da1,
        "z1": dz1,
        "W1": np.einsum("ji,di->jd", dz1, x),
        "b1": dz1,
    }


def backward_matmul(x: np.ndarray, t: np.ndarray, params: dict) -> dict:
    f = _forward(x, params)
    dz2 = np.subtract(f["a2"], t)
    da1 = np.matmul(params["W2"].T, dz2)
    dz1 = da1 * np.heaviside(f["z1"], 0.0)
    return {
        "z2": dz2,
        "W2": np.outer(dz2, f["a1"]),
        "b2": dz2.copy(),
        "a1": da1,
        "z1": dz1,
        "W1": np.outer(dz1, x),
        "b1": dz1.copy(),
    }


def backward_plain_loops(x: np.ndarray, t: np.ndarray, params: dict) -> dict:
    f = _forward(x, params)
    W2 = params["W2"]
    C, H = W2.shape
    D = x.shape[0]
    dz2 = [[f["a2"][k, 0] - t[k, 0]] for k in range(C)]
    da1 = [[sum(dz2[k][0] * W2[k, j] for k in range(C))] for j in range(H)]
    dz1 = [[da1[j][0] if f["z1"][j, 0] > 0 else 0.0] for j in range(H)]
    return {
        "z2": np.array(dz2),
        "b2": np.array(dz2),
        "a1": np.array(da1),
        "z1": np.array(dz1),
        "b1": np.array(dz1),
        "W2": np.array([[dz2[k][0] * f["a1"][j, 0] for j in range(H)] for k in range(C)]),
        "W1": np.array([[dz1[j][0] * x[i, 0] for i in range(D)] for j in range(H)]),
    }


@pytest.mark.parametrize("style", [backward_einsum, backward_matmul, backward_plain_loops])
@pytest.mark.parametrize(
    ("assignment", "grade_id"), [("ps1", "t1_9_tests_hidden"), ("ps2", "t2_3b_tests_hidden")]
)
def test_other_correct_styles_pass(style: Callable, assignment: str, grade_id: str) -> None:
    spec = _spec(assignment, grade_id)
    verdict = _judge(spec, lambda n: style)
    assert verdict.score == spec.points, verdict.message


def mlp_grads_einsum(x: np.ndarray, params: dict, acts: list, da_L: np.ndarray) -> dict:
    f = {
        "identity": lambda z: z,
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }
    fp = {
        "identity": lambda z: np.ones_like(z),
        "tanh": lambda z: 1 / np.cosh(z) ** 2,
        "relu": lambda z: (z > 0) * 1.0,
        "sigmoid": lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
    }
    a, zs, as_ = x, [], [x]
    for m, name in enumerate(acts, start=1):
        z = np.einsum("ij,jk->ik", params[f"W{m}"], a) + params[f"b{m}"]
        a = f[name](z)
        zs.append(z)
        as_.append(a)
    grads, da = {}, da_L
    for m in range(len(acts), 0, -1):
        dz = da * fp[acts[m - 1]](zs[m - 1])
        grads[f"z{m}"], grads[f"b{m}"] = dz, dz
        grads[f"W{m}"] = np.einsum("ik,jk->ij", dz, as_[m - 1])
        da = np.einsum("ij,ik->jk", params[f"W{m}"], dz)
        grads[f"a{m - 1}"] = da
    return grads


def test_mlp_backward_other_style_passes() -> None:
    spec = _spec("ps2", "t2_4_tests_backward")
    verdict = _judge(spec, lambda n: mlp_grads_einsum)
    assert verdict.score == spec.points, verdict.message


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED)
def test_trusted_runner_grades_the_solutions(fresh_course: Path, assignment: str) -> None:
    """Through the grading engineer's isolated runner (plain-data round trip included)."""
    from autograder import runner_host, sandbox
    from autograder.tasks import make_context

    folder = fresh_course / "source" / assignment
    nb = nbformat.read(folder / f"{assignment}.ipynb", 4)
    cells = [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")
    ]
    files = {
        str(p.relative_to(folder)): p.read_bytes() for p in (folder / "coursekit").rglob("*.py")
    }
    specs = _tasks(assignment)
    for student in (STUDENT, "bob"):
        ctx = make_context("backprop-course", assignment, student)
        result = runner_host.run_trusted(cells, specs, ctx, files, sandbox.Limits())
        assert not [e for e in result.cell_errors if e], result.cell_errors
        assert set(result.verdicts) == {s.grade_id for s in specs}
        for spec in specs:
            verdict = result.verdicts[spec.grade_id]
            assert verdict.score == spec.points, f"{student} {spec.grade_id}: {verdict.message}"


# ------------------------------------------------------------------ in-notebook tests too


def _test_cell(course: Path, assignment: str, grade_id: str) -> str:
    nb = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", 4)
    return next(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def _mutant_q2(bug: str) -> Callable:
    from backprop_ref.mutants import mutant_backward

    def mutant(x: np.ndarray, t: np.ndarray, params: dict) -> dict:
        grads = mutant_backward(_q2_cache(x, t, params), bug, level="vector")
        return {k: grads[k] for k in Q2_KEYS}

    return mutant


@pytest.mark.parametrize(
    ("assignment", "name", "grade_id"),
    [
        ("ps1", "backward_loops", "t1_9_tests_hidden"),
        ("ps2", "backward_vec", "t2_3b_tests_hidden"),
    ],
)
@pytest.mark.parametrize(
    ("bug", "words"),
    [
        ("sign_flip", "wrong sign"),
        ("transposed", "transpose"),
        ("missing_activation_derivative", "relative error"),
    ],
)
def test_in_notebook_hidden_tests_fail_on_mutants(
    course_copy: Path,
    solution_namespaces: dict,
    assignment: str,
    name: str,
    grade_id: str,
    bug: str,
    words: str,
) -> None:
    """The hidden test cell itself (in the kernel, no reference) rejects the mistake and says
    why; the trusted registry (tests above) names it exactly."""
    ns = dict(solution_namespaces[assignment])
    ns[name] = _mutant_q2(bug)
    public = f"{grade_id.rsplit('_', 1)[0]}_public"
    with pytest.raises(AssertionError):  # the visible cell already fails (and defines helpers)
        exec(compile(_test_cell(course_copy, assignment, public), public, "exec"), ns)
    with pytest.raises(AssertionError) as info:
        exec(compile(_test_cell(course_copy, assignment, grade_id), grade_id, "exec"), ns)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("assignment", "name", "grade_id", "style"),
    [
        ("ps1", "backward_loops", "t1_9_tests_hidden", backward_plain_loops),
        ("ps2", "backward_vec", "t2_3b_tests_hidden", backward_einsum),
        ("ps2", "backward_vec", "t2_3b_tests_hidden", backward_matmul),
    ],
)
def test_in_notebook_tests_accept_other_styles(
    course_copy: Path,
    solution_namespaces: dict,
    assignment: str,
    name: str,
    grade_id: str,
    style: Callable,
) -> None:
    ns = dict(solution_namespaces[assignment])
    ns[name] = style
    public = f"{grade_id.rsplit('_', 1)[0]}_public"
    for gid in (public, grade_id):
        exec(compile(_test_cell(course_copy, assignment, gid), gid, "exec"), ns)


@pytest.mark.parametrize(
    ("assignment", "grade_id", "name", "answer", "ok"),
    [
        ("ps1", "t1_5_tests_sigmoid_sym", "sigmoid_prime_in_s", "s - s**2", True),
        ("ps1", "t1_5_tests_sigmoid_sym", "sigmoid_prime_in_s", "s*(1 + s)", False),
        ("ps1", "t1_5_tests_sigmoid_sym", "sigmoid_prime_in_s", "s*(1 - s)*z", False),
        ("ps1", "t1_5_tests_tanh_sym", "tanh_prime_in_r", "1 - (2*r - 1)**2", True),
        ("ps1", "t1_5_tests_tanh_sym", "tanh_prime_in_r", "1 - r**2", False),
        ("ps2", "t2_5a_tests", "ops_backward", "M*H**2 + M*H", True),
        ("ps2", "t2_5a_tests", "ops_backward", "M*H", False),
        ("ps2", "t2_5a_tests", "ops_backward", "H**2", False),
    ],
)
def test_symbolic_answers_are_checked_by_equivalence(
    course_copy: Path,
    solution_namespaces: dict,
    assignment: str,
    grade_id: str,
    name: str,
    answer: str,
    ok: bool,
) -> None:
    import sympy as sp

    ns = dict(solution_namespaces[assignment])
    symbols = {str(v): v for v in ns.values() if isinstance(v, sp.Symbol)}
    ns[name] = sp.sympify(answer, locals=symbols)
    source = _test_cell(course_copy, assignment, grade_id)
    if ok:
        exec(compile(source, grade_id, "exec"), ns)
    else:
        with pytest.raises(AssertionError, match=name):
            exec(compile(source, grade_id, "exec"), ns)
