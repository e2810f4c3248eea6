"""Trusted tasks for the graded items added by issue 13: computation graphs written as parents,
the pairing of output activations with losses, and the matrix form of one layer's backward pass.

The comparisons reuse what the notebooks use (``coursekit.explorers.graph`` for graphs,
``coursekit.gradcheck.rel_error`` through ``compare_outputs`` for arrays), so the visible test,
the hidden test and the grader's message say the same thing. Shapes follow docs/conventions.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from autograder.tasks import (
    Probe,
    TaskContext,
    TaskSpec,
    Trial,
    Verdict,
    choice_task,
    compare_shapes,
)
from backprop_ref import vector
from coursekit.graphs import graph_edge_problems, graph_structure_problems


def graph_task(
    grade_id: str, points: float, name: str, nodes: Sequence[str], expected: Mapping[str, list]
) -> TaskSpec:
    """A task that reads the student's ``{node: [parents]}`` variable ``name`` and gives the
    points only when it has exactly the ``expected`` edges; the message names every wrong edge."""

    def instances(ctx: TaskContext) -> list[Probe]:
        return [Probe(name, call=False, label=name)]

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        trial = trials[0]
        if trial.error is not None:
            return Verdict(0.0, spec.points, f"{name} is not defined", f"{name}: {trial.error}")
        problems = graph_structure_problems(trial.got, list(nodes))
        if not problems:
            problems = graph_edge_problems(trial.got, trial.want)
        if problems:
            return Verdict(0.0, spec.points, f"{name}: {len(problems)} problem(s)",
                           f"{name}: " + "; ".join(problems), {name: False})
        return Verdict(spec.points, spec.points, "correct: every edge as expected", "",
                       {name: True})

    return TaskSpec(grade_id, points, (name,), instances, lambda probe: dict(expected),
                    compare=compare)


# ------------------------------------------------------------------ ps2: output and loss pairs

PAIRS = {
    "identity": "half_squared_error",
    "softmax": "cross_entropy",
    "sigmoid": "binary_cross_entropy",
}
"""Output activation -> its matching loss (docs/conventions.md names)."""


def _pair_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for output in PAIRS:
        for c in (3, 4):
            z = ctx.rng.normal(0.0, 1.5, size=(c, 1))
            if output == "softmax":
                t = np.eye(c)[:, [int(ctx.rng.integers(c))]]
            elif output == "sigmoid":
                t = (ctx.rng.random((c, 1)) < 0.5).astype(np.float64)
            else:
                t = ctx.rng.normal(size=(c, 1))
            out.append(Probe("output_delta", args=(output, z, t), label=f"{output}, C = {c}"))
    return out


def _pair_reference(probe: Probe) -> np.ndarray:
    output, z, t = probe.args
    _, cache = vector.loss_forward(z, t, output, PAIRS[output])
    return vector.loss_backward(cache)


WHY_PAIRS = "B"
"""The option of the "why" multiple choice: with each matched pair dL/dz = y - t."""


def _compare_pairs(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """``loss_for_output`` must map every output activation to its loss (names compared after
    strip/lower); the message names the activations whose loss is wrong or missing."""
    trial = trials[0]
    if trial.error is not None:
        return Verdict(0.0, spec.points, "loss_for_output is not defined",
                       f"loss_for_output: {trial.error}")
    got = trial.got
    if not isinstance(got, Mapping):
        return Verdict(0.0, spec.points, "not a dict",
                       f"loss_for_output must be a dict, got {type(got).__name__}")
    norm = {str(k).strip().lower(): str(v).strip().lower() for k, v in got.items()}
    bad = [k for k, v in trial.want.items() if norm.get(k) != v]
    extra = [k for k in norm if k not in trial.want]
    parts = {k: k not in bad for k in trial.want}
    if bad or extra:
        said = ([f"wrong or missing loss for {', '.join(bad)}"] if bad else []) + (
            [f"unknown output activation(s) {', '.join(extra)}"] if extra else [])
        return Verdict(0.0, spec.points, f"{len(bad)} pair(s) wrong",
                       "loss_for_output: " + "; ".join(said), parts)
    return Verdict(spec.points, spec.points, "correct: every pair", "", parts)


def pairing_tasks(grade_pairs: str, grade_delta: str, grade_why: str) -> list[TaskSpec]:
    """``loss_for_output`` (a dict, read), ``output_delta(output, z, t)`` (C, 1) against the
    reference's dL/dz for each matched pair, and the choice ``why_pairs``."""
    return [
        TaskSpec(grade_pairs, 1, ("loss_for_output",),
                 lambda ctx: [Probe("loss_for_output", call=False, label="loss_for_output")],
                 lambda probe: dict(PAIRS), compare=_compare_pairs),
        TaskSpec(grade_delta, 1, ("output_delta",), _pair_instances, _pair_reference),
        choice_task(grade_why, "why_pairs", WHY_PAIRS),
    ]


# ------------------------------------------------------------------ ps2: matrix forms

MATRIX_SHAPES = {"W": (2, 3), "a_prev": (3, 1), "da": (2, 1), "s": (2, 1)}
"""Shapes of the symbols of Task 2.3c: W^(m) (D_out, D_in), a^(m-1) (D_in, 1), dL/da^(m) and
sigma'(z^(m)) (D_out, 1) with D_out = 2, D_in = 3 (distinct, so that transposes show)."""


def _matrix_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for i in range(3):
        values = {k: ctx.rng.normal(size=shape) for k, shape in MATRIX_SHAPES.items()}
        out.append(Probe("matrix_forms_at", args=(values,), label=f"values {i + 1}"))
    return out


def _matrix_reference(probe: Probe) -> dict[str, np.ndarray]:
    v = probe.args[0]
    dz = v["da"] * v["s"]
    return {"dz": dz, "dW": dz @ v["a_prev"].T, "db": dz, "da_prev": v["W"].T @ dz}


def matrix_task(grade_id: str, points: float, shapes_only: bool = False) -> TaskSpec:
    """The student's four SymPy matrix expressions evaluated (by the notebook's locked
    ``matrix_forms_at``) at fresh values, against the formulas of docs/conventions.md; with
    ``shapes_only`` (the cell that announces shapes) only their shapes are judged."""
    return TaskSpec(grade_id, points, ("dz_expr", "dW_expr", "db_expr", "da_prev_expr"),
                    _matrix_instances, _matrix_reference,
                    compare=compare_shapes if shapes_only else None)
