"""Trusted grading of ps2 (vectorizing one example): one TaskSpec per graded cell.

Runs only in the trusted grader (may import backprop_ref). Every automatically graded cell has
a task here; the written answer is graded by the instructor. The timing test's measurement is the
student's kernel's, which student code controls, so its trusted task asks for evidence the kernel
cannot forge: ``backward_step_vec`` right at the timing cell's H = 256 (or wrong only by a
catalogued mistake that Task 2.5b's cell charges) and, timed by the grader
from outside the sandbox (call and transfer included), faster than a third of a looped step timed
in the grader (:func:`compare_timing`); the notebook's test must pass as well (verdict rule).
Shapes follow docs/conventions.md (one example: columns).

The forward and backward cells of Task 2.4 are judged with the reference ``activation`` and
``activation_grad`` injected, so a bug in those costs their own cell only. The backward cell
reads the cache of the student's own ``mlp_forward`` where that gives the right output (the
cache's layout is the student's choice) and the model ``mlp_forward``'s cache where it does
not; a write into the cache by ``mlp_backward`` fails the backward cell. Every backward function
must compute analytic gradients (no finite differences, in it or in its helpers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy

from autograder.registry.common import cache_guard, gradient_compare, lend, mutant_compare
from autograder.registry.ps1 import q2_context, q2_instance, q2_reference
from autograder.structure import all_of, analytic_gradients, no_loops
from autograder.symbolic import as_expression, by_name
from autograder.tasks import (
    Probe,
    TaskContext,
    TaskSpec,
    Trial,
    Verdict,
    choice_task,
    side_effect_verdict,
)
from backprop_ref import activations, vector
from backprop_ref.mutants import STEP_BUGS, step_mutant
from backprop_ref.spec import MLPSpec
from coursekit.gradcheck import rel_error

ASSIGNMENT = "ps2"
MC_ANSWERS = {
    "mc_weighted_sum": "C",
    "mc_output_layer": "C",
    "mc_grad_activations": "A",
    "mc_grad_preactivations": "C",
    "mc_grad_weights": "E",
}
GRAD_SHAPES = {
    "z2": (3, 1),
    "W2": (3, 5),
    "b2": (3, 1),
    "a1": (5, 1),
    "z1": (5, 1),
    "W1": (5, 4),
    "b1": (5, 1),
}
MLP_CASES = (
    ((4, 5, 3), ("sigmoid", "tanh")),
    ((3, 4, 4, 2), ("relu", "relu", "sigmoid")),
    ((5, 3, 3, 3, 4), ("tanh", "sigmoid", "relu", "identity")),
    ((2, 2), ("tanh",)),
)


GIVEN = ("forward_vec", "loss_vec", "example_vec", "random_mlp", "mlp_output", "mlp_grads",
         "kink_free", "time_step", "measure")
"""Functions of the notebook's locked cells: not the student's, not followed by form rules."""

ACTIVATIONS = ("activation", "activation_grad")
"""The model activation functions (the notebook's, ``common.lend``), lent to Task 2.4's forward
and backward cells."""
MODEL_FORWARD = ("mlp_forward",)
"""The model mlp_forward: it makes the cache of Task 2.4's backward cases where the student's
own mlp_forward gives a wrong output."""

GUARD = cache_guard("mlp_backward")
"""mlp_backward watched for writes into the cache mlp_forward made."""


def _analytic(name: str) -> object:
    return analytic_gradients(name, GIVEN)


def _choice_task(grade_id: str, name: str) -> TaskSpec:
    return choice_task(grade_id, name, MC_ANSWERS[name])


def _softmax_instances(ctx: TaskContext) -> list[Probe]:
    probes = [
        Probe("softmax_col", args=(ctx.rng.normal(0, 3, (c, 1)),), label=f"C = {c}")
        for c in (2, 3, 7)
    ]
    probes.append(
        Probe("softmax_col", args=(np.array([[1000.0], [999.0], [-5.0]]),), label="large entries")
    )
    return probes


def _ce_instances(ctx: TaskContext) -> list[Probe]:
    probes = []
    for c in (2, 4, 6):
        p = ctx.rng.uniform(0.05, 1.0, (c, 1))
        p /= p.sum()
        t = np.zeros((c, 1))
        t[ctx.rng.integers(c), 0] = 1.0
        probes.append(Probe("cross_entropy_col", args=(p, t), label=f"C = {c}"))
    # The formula -sum_k t_k log a_k holds for any target distribution, not only one-hot ones.
    p = ctx.rng.uniform(0.05, 1.0, (4, 1))
    t = ctx.rng.uniform(0.05, 1.0, (4, 1))
    probes.append(Probe("cross_entropy_col", args=(p / p.sum(), t / t.sum()),
                        label="C = 4, soft target"))
    return probes


def _ce_reference(probe: Probe) -> float:
    a, t = probe.args
    return float(-(t * np.log(a)).sum())


def _backward_vec_instances(
    dims: Sequence[tuple[int, int, int]],
) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        return [
            Probe("backward_vec", args=q2_instance(ctx.rng, *d), label=f"D, H, C = {d}")
            for d in dims
        ]

    return make


def _activation_instances(ctx: TaskContext) -> list[Probe]:
    z = ctx.rng.uniform(-3, 3, (6, 1))
    z[np.abs(z) < 0.05] = 0.5
    da = ctx.rng.normal(size=(6, 1))
    probes = []
    for name in activations.ELEMENTWISE:
        probes.append(Probe("activation", args=(z, name), label=f"activation {name}"))
        probes.append(Probe("activation_grad", args=(da, z, name), label=f"activation_grad {name}"))
    return probes


def _activation_reference(probe: Probe) -> np.ndarray:
    if probe.name == "activation":
        z, name = probe.args
        return activations.elementwise(name)[0](z)
    da, z, name = probe.args
    return da * activations.elementwise(name)[1](z)


def mlp_spec(sizes: Sequence[int], acts: Sequence[str]) -> MLPSpec:
    """The MLPSpec whose loss gradient w.r.t. a_L is supplied as dL/da_L (half squared error)."""
    return MLPSpec(
        tuple(sizes), hidden=tuple(acts[:-1]), output=acts[-1], loss="half_squared_error"
    )


def mlp_instance(
    rng: np.random.Generator, sizes: Sequence[int], acts: Sequence[str]
) -> tuple[np.ndarray, dict[str, np.ndarray], list[str], np.ndarray]:
    """x (D, 1), params, acts and dL/da_L (D_L, 1), with every ReLU |z| >= 1e-2."""
    spec = mlp_spec(sizes, acts)
    while True:
        params = {}
        for m in range(1, len(sizes)):
            params[f"W{m}"] = rng.normal(0, 1.2 / np.sqrt(sizes[m - 1]), (sizes[m], sizes[m - 1]))
            params[f"b{m}"] = rng.normal(0, 0.5, (sizes[m], 1))
        x = rng.normal(size=(sizes[0], 1))
        _, cache = vector.mlp_forward(x, params, spec)
        zs = [cache[f"z{m}"] for m in range(1, len(sizes)) if acts[m - 1] == "relu"]
        if all(np.abs(z).min() >= 1e-2 for z in zs):
            return x, params, list(acts), rng.normal(size=(sizes[-1], 1))


def _mlp_instances(name: str) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        probes = []
        for sizes, acts in MLP_CASES:
            x, params, acts_l, da = mlp_instance(ctx.rng, sizes, acts)
            args = (x, params, acts_l) if name == "mlp_output" else (x, params, acts_l, da)
            probes.append(Probe(name, args=args, label=f"sizes {sizes}, {'/'.join(acts)}",
                                inject=lend(ASSIGNMENT, ACTIVATIONS)))
        return probes

    return make


def _backward_instances(ctx: TaskContext) -> list[Probe]:
    """Per case three probes: the student's mlp_output (does their forward give the right
    output?), mlp_grads with their own forward and mlp_grads with the model's forward (the cache
    layout is the student's choice, so the model's cache can only stand in for a wrong forward);
    :func:`_own_or_model_forward` keeps one of the two mlp_grads trials."""
    probes = []
    for sizes, acts in MLP_CASES:
        x, params, acts_l, da = mlp_instance(ctx.rng, sizes, acts)
        label = f"sizes {sizes}, {'/'.join(acts)}"
        probes += [
            Probe("mlp_output", args=(x, params, acts_l), label=f"{label}, your mlp_forward",
                  inject=lend(ASSIGNMENT, ACTIVATIONS)),
            Probe("mlp_grads", args=(x, params, acts_l, da), label=label,
                  inject={**lend(ASSIGNMENT, ACTIVATIONS), **GUARD}),
            Probe("mlp_grads", args=(x, params, acts_l, da),
                  label=f"{label}, the model mlp_forward's cache",
                  inject={**lend(ASSIGNMENT, (*ACTIVATIONS, *MODEL_FORWARD)), **GUARD}),
        ]
    return probes


def _forward_right(trial: Trial) -> bool:
    """The student's mlp_output gave the reference output, without a side effect."""
    if trial.error is not None or side_effect_verdict([trial]) is not None:
        return False
    try:
        got = np.asarray(trial.got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == trial.want.shape and rel_error(got, trial.want) <= 1e-9


def _own_or_model_forward(trials: Sequence[Trial]) -> list[Trial]:
    """Per case the mlp_grads trial with the student's own forward when that forward gave the
    right output, else the one with the model's forward: a wrong forward costs its own cell,
    and a correct forward's cache (any layout) is what the student's backward reads."""
    out = []
    for k in range(0, len(trials), 3):
        forward, own, model = trials[k : k + 3]
        out.append(own if _forward_right(forward) else model)
    return out


def _backward_reference(probe: Probe) -> Any:
    return _mlp_output_reference(probe) if probe.name == "mlp_output" else mlp_reference(probe)


def _sizes(x: np.ndarray, params: dict[str, np.ndarray], acts: Sequence[str]) -> list[int]:
    return [x.shape[0], *(params[f"b{m}"].shape[0] for m in range(1, len(acts) + 1))]


def _mlp_cache(probe: Probe) -> dict[str, Any]:
    """Cache of vector.mlp_loss with target y - dL/da_L, so that dL/da_L is the given one."""
    x, params, acts, da = probe.args
    spec = mlp_spec(_sizes(x, params, acts), acts)
    y, _ = vector.mlp_forward(x, params, spec)
    _, cache = vector.mlp_loss(x, y - da, params, spec)
    return cache


def mlp_reference(probe: Probe) -> dict[str, np.ndarray]:
    """Reference gradients for mlp_grads(x, params, acts, da_L): W/b/z for m = 1..L, a0..a_{L-1}."""
    L = len(probe.args[2])
    grads = vector.mlp_backward(_mlp_cache(probe))
    keys = [f"{k}{m}" for m in range(1, L + 1) for k in "Wbz"] + [f"a{m}" for m in range(L)]
    return {k: grads[k] for k in keys}


def _mlp_output_reference(probe: Probe) -> np.ndarray:
    x, params, acts = probe.args
    return vector.mlp_forward(x, params, mlp_spec(_sizes(x, params, acts), acts))[0]


def _step_instances(ctx: TaskContext) -> list[Probe]:
    probes = []
    for n_next, n in ((4, 6), (5, 5), (1, 3)):
        args = (
            ctx.rng.normal(size=(n_next, n)),
            ctx.rng.normal(size=(n_next, 1)),
            ctx.rng.uniform(0, 1, (n, 1)),
        )
        probes.append(Probe("backward_step_loops", args=args, label=f"loops {n_next}x{n}"))
        probes.append(Probe("backward_step_vec", args=args, label=f"vectorized {n_next}x{n}"))
    return probes


def _step_reference(probe: Probe) -> np.ndarray:
    W, dz_next, fprime = probe.args
    return fprime * (W.T @ dz_next)


TIMING_H = 256
"""The largest H of the notebook's timing cell (``measure([16, ..., 256])``)."""

TIMING_CALLS = 10
"""Calls per timed probe: the probe's wall time, divided by this, bounds one call from above
with the pipe's transfer (a few ms for the 256 x 256 input) spread over the calls."""


def _timing_instances(ctx: TaskContext) -> list[Probe]:
    rng = np.random.default_rng(TIMING_H)  # the timing cell's own inputs (time_step)
    args = (rng.normal(size=(TIMING_H, TIMING_H)), rng.normal(size=(TIMING_H, 1)),
            rng.uniform(0, 1, (TIMING_H, 1)))
    return [Probe("backward_step_vec", args=args, repeat=TIMING_CALLS,
                  label=f"H = {TIMING_H}, run {i + 1}") for i in range(3)]


def _timing_reference(probe: Probe) -> dict[str, Any]:
    """The step, and the wall time of a looped step on the same inputs, timed here."""
    W, dz_next, fprime = probe.args
    start = time.perf_counter()
    looped = np.array([[fprime[j, 0] * sum(W[h, j] * dz_next[h, 0] for h in range(W.shape[0]))]
                       for j in range(W.shape[1])])
    return {"step": looped, "loop_seconds": time.perf_counter() - start}


def _catalogued_step(got: np.ndarray, args: tuple, tol: float) -> bool:
    """``got`` is the step with one of the catalogued mistakes of ``STEP_BUGS`` (mutant proof):
    the same matrix work, wrong in a way Task 2.5b's own cell charges, so the timing point is
    judged on the time alone (one mistake costs one cell)."""
    for bug in STEP_BUGS:
        mutant = step_mutant(*args, bug)
        if mutant is not None and rel_error(got, mutant) <= tol:
            return True
    return False


def compare_timing(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Task 2.5b's timing point from evidence outside the kernel: the vectorized step at H = 256
    is right (or wrong only by a catalogued mistake that its own cell charges, proven by its
    mutant) and its best probe of ``TIMING_CALLS`` calls, timed by the grader, is under a third
    of the best looped step per call. A fast step that computes anything else scores 0."""
    points = float(spec.points)
    for trial in trials:
        if trial.error is not None:
            return Verdict(0.0, points, f"backward_step_vec at H = {TIMING_H}: {trial.error}")
        got = np.asarray(trial.got, dtype=float) if trial.got is not None else None
        want = trial.want["step"]
        if got is None or got.shape != want.shape:
            return Verdict(0.0, points, f"backward_step_vec at H = {TIMING_H} returned shape "
                           f"{None if got is None else got.shape}, expected {want.shape}")
        err = rel_error(got, want)
        if not err <= spec.tol and not _catalogued_step(got, trial.probe.args, spec.tol):
            return Verdict(0.0, points, f"backward_step_vec at H = {TIMING_H} is wrong "
                           f"(relative error {err:.2g})", error_measure=err)
    measured = [t.seconds for t in trials if t.seconds is not None]
    if not measured:
        return Verdict(0.0, points, "the grader could not time backward_step_vec")
    vec = min(measured) / TIMING_CALLS
    loops = min(t.want["loop_seconds"] for t in trials)
    text = (f"backward_step_vec at H = {TIMING_H}: {vec * 1e3:.1f} ms per call timed by the "
            f"grader (transfer included), a looped step {loops * 1e3:.0f} ms")
    if 3 * vec < loops:
        return Verdict(points, points, text)
    return Verdict(0.0, points, text + ": not a third of it; check that backward_step_vec has "
                   "no Python loops")


def _ops_symbols() -> tuple[sympy.Symbol, sympy.Symbol]:
    return sympy.symbols("M H", positive=True, integer=True)


def compare_count(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Task 2.5a: the count must grow like (M - 1) H^2, the recursion's exact count (notes 004:
    m = 1, ..., M - 1, H variables, H terms each); M H^2 is the same to leading order."""
    trial = trials[0]
    name = trial.probe.name
    if trial.error is not None:
        return Verdict(0.0, spec.points, f"{name}: {trial.error}", "error")
    M, H = _ops_symbols()
    try:
        expr = by_name(as_expression(trial.got), (M, H))
    except (TypeError, ValueError) as exc:
        return Verdict(0.0, spec.points, f"{name}: {exc}", "not_an_expression")
    extra = sorted(str(s) for s in expr.free_symbols - {M, H})
    if extra:
        return Verdict(0.0, spec.points, f"{name} uses {', '.join(extra)}; use only M and H",
                       "wrong_symbols")
    try:
        ratio = sympy.limit(sympy.limit(expr / ((M - 1) * H**2), H, sympy.oo), M, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):
        ratio = None
    if ratio == 1:
        return Verdict(spec.points, spec.points, "correct", "")
    grows = "" if ratio is None else f" (it grows like {ratio} times (M - 1) H^2)"
    return Verdict(0.0, spec.points, f"{name} = {expr} is not the recursion's count to leading "
                   f"order{grows}: count the products per variable, the variables per layer and "
                   "the layers the recursion runs over", "expression_wrong")


TASKS = [
    _choice_task("t2_1_tests_a1", "mc_weighted_sum"),
    _choice_task("t2_1_tests_a2", "mc_output_layer"),
    _choice_task("t2_1_tests_a3", "mc_grad_activations"),
    _choice_task("t2_1_tests_a4", "mc_grad_preactivations"),
    _choice_task("t2_1_tests_a5", "mc_grad_weights"),
    TaskSpec(
        "t2_2_tests_softmax",
        1,
        ("softmax_col",),
        _softmax_instances,
        lambda probe: activations.softmax(probe.args[0], 0),
        tol=1e-9,
    ),
    TaskSpec("t2_2_tests_ce", 1, ("cross_entropy_col",), _ce_instances, _ce_reference, tol=1e-9),
    TaskSpec(
        "t2_3a_tests",
        1,
        ("grad_shapes",),
        lambda ctx: [Probe("grad_shapes", call=False)],
        lambda probe: dict(GRAD_SHAPES),
        tol=0.0,
    ),
    TaskSpec(
        "t2_3b_tests_public",
        1,
        ("backward_vec",),
        _backward_vec_instances([(4, 5, 3), (3, 3, 3)]),
        q2_reference,
        compare=gradient_compare(q2_context),
        structure=_analytic("backward_vec"),
    ),
    TaskSpec(
        "t2_3b_tests_hidden",
        2,
        ("backward_vec",),
        _backward_vec_instances([(4, 5, 3), (3, 3, 3), (6, 2, 4), (2, 7, 5)]),
        q2_reference,
        compare=gradient_compare(q2_context),
        structure=all_of(_analytic("backward_vec"), no_loops("backward_vec", GIVEN)),
    ),
    TaskSpec(
        "t2_4_tests_activations",
        1,
        ("activation", "activation_grad"),
        _activation_instances,
        _activation_reference,
        structure=_analytic("activation_grad"),
    ),
    TaskSpec(
        "t2_4_tests_forward",
        1,
        ("mlp_forward", "mlp_output"),
        _mlp_instances("mlp_output"),
        _mlp_output_reference,
        tol=1e-9,
    ),
    TaskSpec(
        "t2_4_tests_backward",
        2,
        ("mlp_forward", "mlp_backward", "mlp_grads"),
        _backward_instances,
        _backward_reference,
        compare=gradient_compare(lambda probe: {"cache": _mlp_cache(probe), "level": "vector"}),
        structure=analytic_gradients("mlp_backward", (*GIVEN, *ACTIVATIONS)),
        select=_own_or_model_forward,
    ),
    TaskSpec(
        "t2_5a_tests",
        1,
        ("ops_backward",),
        lambda ctx: [Probe("ops_backward", call=False, sympy=True, label="ops_backward")],
        lambda probe: None,
        compare=compare_count,
    ),
    TaskSpec(
        "t2_5b_tests",
        2,
        ("backward_step_loops", "backward_step_vec"),
        _step_instances,
        _step_reference,
        tol=1e-10,
        compare=mutant_compare(lambda p, bug: step_mutant(*p.args, bug), STEP_BUGS),
        structure=all_of(_analytic("backward_step_loops"), _analytic("backward_step_vec")),
    ),
    TaskSpec(
        "t2_5_tests_timing",
        1,
        ("backward_step_vec",),
        _timing_instances,
        _timing_reference,
        tol=1e-10,
        compare=compare_timing,
    ),
]
"""Every autograded cell of ps2 whose verdict the trusted grader decides."""


# ================================================================== issue 13 (material engineer)
# Graded items added by issue 13; the tasks above are not changed by this block.
from autograder.registry.extra_items import matrix_task, pairing_tasks  # noqa: E402

TASKS += [
    *pairing_tasks("t2_2b_tests", "t2_2c_tests", "t2_2d_tests"),
    matrix_task("t2_3c_tests_shapes", 1, shapes_only=True),
    matrix_task("t2_3c_tests_values", 1),
]
