"""Trusted grading of ps1 (computation graphs and the chain rule): one TaskSpec per graded cell.

Runs only in the trusted grader (may import backprop_ref). Every automatically graded cell has
a task here (the verdict is the lower of this and the notebook's own test); the written answers
are graded by the instructor. Shapes follow docs/conventions.md.

Probes cover every branch for every student: both losses of Task 1.4 with both targets t = 0
and t = 1; the backward passes are judged with the reference q3_forward injected (a forward bug
costs Task 1.4's forward cell only) and must compute analytic gradients (no finite differences,
in the function or its helpers).

Per-student numbers: probes that read a variable carry ``kwargs={"student": id}`` so that
``reference`` recomputes the expected value for the student being graded (the runner ignores
kwargs when it only reads a variable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from autograder.registry.common import (
    gradient_compare,
    lend,
    partials_compare,
    paths_compare,
    variables_compare,
)
from autograder.structure import all_of, analytic_gradients, loops_only
from autograder.symbolic import sympy_task
from autograder.tasks import Probe, TaskContext, TaskSpec
from backprop_ref import activations, scalar, vector
from backprop_ref.mutants import Q1_BUGS, Q3_BUGS, path_terms, q1_mutant, q3_mutant
from backprop_ref.spec import MLPSpec
from coursekit import seeds
from coursekit.gradcheck import NUMBER_TOL

ASSIGNMENT = "ps1"

Q1_NODES = ("L", "y", "z", "w", "b", "x")
Q3_NODES = ("m1", "h1", "m2", "h2", "m3", "h3", "m4", "h4", "z", "y", "L")
Q3_GRADS = (*(f"w{i}" for i in range(1, 11)), *Q3_NODES)
Q2_KEYS = ("W1", "b1", "W2", "b2", "z2", "a1", "z1")
Q2_SPEC_NAMES = ("relu", "softmax", "cross_entropy")
GIVEN = ("q1_forward", "sigmoid", "net3_forward", "net3_cost", "net3_numbers", "q2_forward",
         "q2_loss", "q2_example")
"""Functions of the notebook's locked cells: not the student's, not followed by form rules."""

Q3_FORWARD = ("q3_forward",)
"""The model q3_forward (the notebook's, ``common.lend``), lent when q3_backward is judged."""


def _analytic(name: str) -> object:
    return analytic_gradients(name, GIVEN)


# ------------------------------------------------------------------ instances and references


def _q1_numbers(student: str) -> dict[str, float]:
    return seeds.numbers(ASSIGNMENT, student, "t1_1", ["w", "x", "b", "t"])


def net3_numbers(student: str) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Part B's per-student parameters (W1..W3 in conventions' names), x (3, 1) and t."""
    m = lambda key, shape: seeds.matrix(ASSIGNMENT, student, f"t1_3_{key}", shape)  # noqa: E731
    params = {
        "W1": m("W1", (3, 3)),
        "b1": m("b1", (3, 1)),
        "W2": m("W2", (2, 3)),
        "b2": m("b2", (2, 1)),
        "W3": m("w3", (1, 2)),
        "b3": m("b3", (1, 1)),
    }
    t = seeds.numbers(ASSIGNMENT, student, "t1_3_t", ["t"])["t"]
    return params, m("x", (3, 1)), t


NET3_SPEC = MLPSpec((3, 3, 2, 1), hidden="sigmoid", output="identity", loss="half_squared_error")


def _net3_grads(student: str) -> dict[str, np.ndarray]:
    params, x, t = net3_numbers(student)
    _, cache = vector.mlp_loss(x, np.array([[t]]), params, NET3_SPEC)
    return vector.mlp_backward(cache)


def _net3_paths(student: str) -> list[float]:
    params, x, t = net3_numbers(student)
    _, cache = vector.mlp_loss(x, np.array([[t]]), params, NET3_SPEC)
    return path_terms(cache, 1, 1, 2)


Q1_VARIABLES = variables_compare(
    lambda s, bug, v: q1_mutant(**_q1_numbers(s), bug=bug, variant=v),
    lambda n: n.removeprefix("dL_d"), Q1_BUGS)


def _variable_probes(names: Sequence[str], ctx: TaskContext) -> list[Probe]:
    return [Probe(n, call=False, kwargs={"student": ctx.student_id}, label=n) for n in names]


def _q1_value(probe: Probe) -> float:
    grads = scalar.q1_backward(**_q1_numbers(probe.kwargs["student"]))
    return float(grads[probe.name.removeprefix("dL_d")])


def _net3_value(probe: Probe) -> Any:
    if probe.name == "n_paths_W1_23":
        return 2
    grads = _net3_grads(probe.kwargs["student"])
    if probe.name == "dC_dW2_12":
        return float(grads["W2"][0, 1])
    return float(grads["W1"][1, 2])


def _q1_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for i in range(5):
        w, x, b, t = (float(v) for v in ctx.rng.uniform(-2, 2, size=4))
        out.append(Probe("q1_backward", args=(w, x, b, t), label=f"case {i + 1}"))
    return out


def _q1_reference(probe: Probe) -> dict[str, float]:
    return {k: float(v) for k, v in scalar.q1_backward(*probe.args).items() if k in Q1_NODES}


def q3_instance(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """x (2,), w (10,), t with every ReLU pre-activation at least 1e-2 away from 0."""
    while True:
        x, w = rng.uniform(-2, 2, 2), rng.uniform(-1.5, 1.5, 10)
        t = float(rng.integers(0, 2))
        fw = scalar.q3_forward(x, w, t)
        if min(abs(fw[k]) for k in ("m1", "m2", "m3", "m4")) >= 1e-2:
            return x, w, t


def _q3_instances(name: str, injected: Sequence[str] = (),
                  ) -> Callable[[TaskContext], list[Probe]]:
    """Eight cases: both losses with both targets t = 0 and t = 1, twice, for every student."""

    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for i in range(8):
            x, w, _ = q3_instance(ctx.rng)
            loss, t = scalar.Q3_LOSSES[i % 2], float((i // 2) % 2)
            out.append(Probe(name, args=(x, w, t, loss), inject=lend(ASSIGNMENT, injected),
                             label=f"case {i + 1} ({loss}, t = {t:g})"))
        return out

    return make


def _q3_forward_reference(probe: Probe) -> dict[str, float]:
    return {k: float(v) for k, v in scalar.q3_forward(*probe.args).items() if k in Q3_NODES}


def _q3_backward_reference(probe: Probe) -> dict[str, float]:
    return {k: float(v) for k, v in scalar.q3_backward(*probe.args).items() if k in Q3_GRADS}


def _elementwise_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for shape in ((5,), (4, 1), (3, 2)):
        z = ctx.rng.uniform(-4, 4, size=shape)
        out.append(Probe("sigmoid_prime", args=(z,), label=f"sigmoid_prime {shape}"))
        out.append(Probe("tanh_prime", args=(z,), label=f"tanh_prime {shape}"))
    return out


def _elementwise_reference(probe: Probe) -> np.ndarray:
    fn = activations.sigmoid_prime if probe.name == "sigmoid_prime" else activations.tanh_prime
    return fn(probe.args[0])


def q2_instance(
    rng: np.random.Generator, D: int, H: int, C: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """x (D, 1), one-hot t (C, 1) and params of the 001 Q2 net, hidden |z1| >= 1e-2."""
    while True:
        params = {
            "W1": rng.normal(0, 1, (H, D)),
            "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1, (C, H)),
            "b2": rng.normal(0, 0.5, (C, 1)),
        }
        x = rng.normal(0, 1, (D, 1))
        t = np.zeros((C, 1))
        t[rng.integers(C), 0] = 1.0
        if np.abs(params["W1"] @ x + params["b1"]).min() >= 1e-2:
            return x, t, params


def q2_spec(params: Mapping[str, np.ndarray]) -> MLPSpec:
    """The MLPSpec of the 001 Q2 net with the parameters' sizes (ReLU, softmax, CE)."""
    H, D = params["W1"].shape
    return MLPSpec((D, H, params["W2"].shape[0]), *Q2_SPEC_NAMES)


def _q2_instances(dims: Sequence[tuple[int, int, int]]) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        return [
            Probe("backward_loops", args=q2_instance(ctx.rng, *d), label=f"D, H, C = {d}")
            for d in dims
        ]

    return make


def q2_reference(probe: Probe) -> dict[str, np.ndarray]:
    """Reference gradients (backprop_ref.vector) restricted to the keys the task asks for."""
    x, t, params = probe.args
    _, cache = vector.mlp_loss(x, t, params, q2_spec(params))
    grads = vector.mlp_backward(cache)
    return {k: grads[k] for k in Q2_KEYS}


def q2_context(probe: Probe) -> dict[str, Any]:
    """Diagnosis context of a backward probe (x, t, params) at the vector level."""
    x, t, params = probe.args
    return {"X": x, "T": t, "params": params, "spec": q2_spec(params), "level": "vector"}


TASKS = [
    TaskSpec(
        "t1_1_tests_top",
        1,
        ("dL_dL", "dL_dy", "dL_dz"),
        lambda ctx: _variable_probes(("dL_dL", "dL_dy", "dL_dz"), ctx),
        _q1_value,
        tol=NUMBER_TOL,
        compare=Q1_VARIABLES,
    ),
    TaskSpec(
        "t1_1_tests_leaves",
        1,
        ("dL_dw", "dL_db", "dL_dx"),
        lambda ctx: _variable_probes(("dL_dw", "dL_db", "dL_dx"), ctx),
        _q1_value,
        tol=NUMBER_TOL,
        compare=Q1_VARIABLES,
    ),
    TaskSpec("t1_2_tests", 2, ("q1_backward",), _q1_instances, _q1_reference,
             compare=partials_compare(lambda p, bug, v: q1_mutant(*p.args, bug, v), Q1_BUGS),
             structure=_analytic("q1_backward")),
    TaskSpec(
        "t1_3_tests_one_path",
        1,
        ("dC_dW2_12",),
        lambda ctx: _variable_probes(("dC_dW2_12",), ctx),
        _net3_value,
        tol=NUMBER_TOL,
    ),
    TaskSpec(
        "t1_3_tests_many_paths",
        1,
        ("n_paths_W1_23", "dC_dW1_23"),
        lambda ctx: _variable_probes(("n_paths_W1_23", "dC_dW1_23"), ctx),
        _net3_value,
        tol=NUMBER_TOL,
        compare=paths_compare(_net3_paths, "n_paths_W1_23", "dC_dW1_23"),
    ),
    TaskSpec(
        "t1_4_tests_forward",
        1,
        ("q3_forward",),
        _q3_instances("q3_forward"),
        _q3_forward_reference,
        tol=1e-9,
    ),
    TaskSpec(
        "t1_4_tests_backward",
        2,
        ("q3_backward",),
        _q3_instances("q3_backward", Q3_FORWARD),
        _q3_backward_reference,
        structure=analytic_gradients("q3_backward", (*GIVEN, *Q3_FORWARD)),
        compare=partials_compare(
            lambda p, bug, v: q3_mutant(*p.args, bug) if v == 0 else None, Q3_BUGS),
    ),
    sympy_task("t1_5_tests_sigmoid_sym", "sigmoid_prime_in_s", lambda: [sympy.Symbol("s")],
               lambda s: s[0] * (1 - s[0])),
    sympy_task("t1_5_tests_tanh_sym", "tanh_prime_in_r", lambda: [sympy.Symbol("r")],
               lambda r: 4 * r[0] * (1 - r[0])),
    TaskSpec(
        "t1_5_tests_code",
        1,
        ("sigmoid_prime", "tanh_prime"),
        _elementwise_instances,
        _elementwise_reference,
        structure=all_of(_analytic("sigmoid_prime"), _analytic("tanh_prime")),
    ),
    TaskSpec(
        "t1_9_tests_public",
        1,
        ("backward_loops",),
        _q2_instances([(4, 5, 3), (3, 3, 3)]),
        q2_reference,
        compare=gradient_compare(q2_context),
        structure=all_of(loops_only("backward_loops", GIVEN), _analytic("backward_loops")),
    ),
    TaskSpec(
        "t1_9_tests_hidden",
        2,
        ("backward_loops",),
        _q2_instances([(2, 4, 5), (4, 5, 3), (3, 3, 3), (6, 2, 4)]),
        q2_reference,
        compare=gradient_compare(q2_context),
        structure=all_of(loops_only("backward_loops", GIVEN), _analytic("backward_loops")),
    ),
]
"""Every autograded cell of ps1 whose verdict the trusted grader decides."""


# ================================================================== issue 13 (material engineer)
# Graded items added by issue 13; the tasks above are not changed by this block.
from autograder.registry.extra_items import graph_task  # noqa: E402

TASKS += [
    graph_task(
        "t1_0_tests", 1, "q1_parents", ("w", "x", "b", "t", "z", "y", "L"),
        {"z": ["w", "x", "b"], "y": ["z", "x"], "L": ["y", "t"]},
    ),
]  # fmt: skip
