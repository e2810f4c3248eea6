"""Trusted grading of ps3 (batches and gradient descent): one TaskSpec per graded code cell.

Runs only in the trusted grader (may import backprop_ref). Every automatically graded cell has
a task here; the written answers (3.8, 3.9) are graded by the instructor. A task that builds on
an earlier function is judged with the reference's version of it injected (batch_backward with
the reference batch_forward, grads_loop with the reference batch_backward, train_gd with the
reference batch_loss and batch_backward), so one bug costs one task; every function that
computes gradients must do so analytically (no finite differences, in it or in its helpers).
Shapes follow docs/conventions.md (batched level: one example per row, the loss is the mean).

The network is D -> H (``hidden`` in relu / tanh / sigmoid) -> C (softmax, cross-entropy), the
``MLPSpec((D, H, C), hidden, "softmax", "cross_entropy")`` of ``backprop_ref``, so the mutant
oracles of ``backprop_ref.diagnose`` name the batched mistakes (missing 1/N, averaged twice,
bias not summed / wrong axis, transposed dW, W vs W^T, missing f', f'(A)).

``EXAMPLES`` (see ``autograder.synthetic``) holds the catalogued mistakes injected into the
solutions and correct solutions in other styles; ``EXPECTED`` says, for every mistake, which
grade cell must fail and with which ``Verdict.diagnosis`` (a ``coursekit.diagnose.MISTAKES`` id;
empty for tasks whose comparison gives a sentence rather than an id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from autograder.registry.common import (
    Lazy,
    gradient_compare,
    lend,
    mutant_cell,
    value_mutant_compare,
)
from autograder.structure import analytic_gradients
from autograder.symbolic import sympy_task
from autograder.tasks import Probe, TaskContext, TaskSpec, choice_task
from backprop_ref import batched
from backprop_ref.mutants import VALUE_TEXT, loss_value_mutant, mean_loss_mutant
from backprop_ref.spec import MLPSpec
from backprop_ref.train import train
from coursekit import seeds
from coursekit.data import make_spirals, one_hot
from coursekit.gradcheck import PASS_TOL

ASSIGNMENT = "ps3"
MC_ANSWERS = {"mc_batch_preactivation": "B", "mc_batch_loss": "A"}
PARAM_KEYS = ("W1", "b1", "W2", "b2")
OUTPUT_KEYS = ("z2", "W2", "b2")
BACKWARD_KEYS = ("W1", "b1", "W2", "b2", "z2", "a1", "z1")
HIDDEN_KEYS = ("a1", "z1", "W1", "b1")
"""What the hidden-layer cell announces (dA1, dZ1, dW1, db1): it tests only these."""
GIVEN = ("act", "act_prime", "log_softmax_rows", "softmax_rows", "random_problem", "my_batch",
         "fd_grads", "best_time", "train_summary", "spirals_problem", "predict")
"""Functions of the notebook's locked cells: not the student's, not followed by form rules."""

PUBLIC_CASES = (((4, 3, 3, 3), "sigmoid"), ((5, 7, 4, 3), "relu"), ((6, 3, 5, 2), "tanh"))
"""(N, D, H, C), hidden: the visible cases (fixed seeds 31, 32, 33 as in the notebook)."""
HIDDEN_CASES = (
    ((4, 3, 3, 3), "tanh"),
    ((5, 7, 4, 3), "relu"),
    ((7, 2, 5, 3), "tanh"),
    ((6, 4, 3, 5), "sigmoid"),
    ((3, 5, 6, 4), "relu"),
)
"""N >= 3, N != 2; pairwise distinct dims except the first, square case (D = H = C), which comes
first so that W vs W^T is diagnosed before a non-square case crashes on the wrong shapes."""
OUTPUT_CASES = (
    ((4, 3, 3, 3), "tanh"),
    ((5, 7, 4, 4), "relu"),
    ((7, 2, 5, 5), "tanh"),
    ((6, 4, 3, 3), "sigmoid"),
    ((3, 5, 2, 2), "relu"),
)
"""The output-layer cell's cases (as the notebook's): H = C, so that a shape mistake in the hidden
layer (dZ2 W2^T) cannot stop them and costs the hidden-layer cell only; N and D differ from H."""


# ------------------------------------------------------------------ instances and references


def spec_of(params: Mapping[str, np.ndarray], hidden: str) -> MLPSpec:
    """The MLPSpec of the ps3 network with the parameters' sizes."""
    H, D = params["W1"].shape
    return MLPSpec((D, H, params["W2"].shape[0]), hidden, "softmax", "cross_entropy")


def batch_instance(
    rng: np.random.Generator, N: int, D: int, H: int, C: int, hidden: str
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], str]:
    """X (N, D), one-hot T (N, C), params and hidden, with every ReLU |Z1| >= 1e-2."""
    while True:
        params = {
            "W1": rng.normal(0, 1.0, (H, D)),
            "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1.0, (C, H)),
            "b2": rng.normal(0, 0.5, (C, 1)),
        }
        X = rng.normal(0, 1.0, (N, D))
        T = one_hot(rng.integers(0, C, N), C)
        if hidden != "relu" or np.abs(X @ params["W1"].T + params["b1"].T).min() >= 1e-2:
            return X, T, params, hidden


def _probes(
    name: str, cases: Sequence, rng_of: Callable[[int], np.random.Generator]
) -> list[Probe]:
    out = []
    for i, (dims, hidden) in enumerate(cases):
        out.append(
            Probe(
                name,
                args=batch_instance(rng_of(i), *dims, hidden),
                label=f"N, D, H, C = {dims}, {hidden}",
            )
        )
    return out


def _random(name: str, cases: Sequence) -> Callable[[TaskContext], list[Probe]]:
    return lambda ctx: _probes(name, cases, lambda i: ctx.rng)


def _forward_reference(probe: Probe) -> dict[str, np.ndarray]:
    X, params, hidden = probe.args
    _, cache = batched.mlp_forward(X, params, spec_of(params, hidden))
    return {k: cache[k] for k in ("z1", "a1", "z2", "a2")}


def _forward_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for dims, hidden in (((5, 7, 4, 3), "relu"), ((6, 3, 5, 2), "tanh"), ((4, 3, 3, 3), "sigmoid")):
        X, _, params, hid = batch_instance(ctx.rng, *dims, hidden)
        out.append(Probe("batch_forward", args=(X, params, hid), label=f"{dims}, {hidden}"))
    return out


def _loss_reference(probe: Probe) -> float:
    X, T, params, hidden = probe.args
    return batched.mlp_loss(X, T, params, spec_of(params, hidden))[0]


def backward_reference(keys: Sequence[str]) -> Callable[[Probe], dict[str, np.ndarray]]:
    """Reference gradients of the mean loss (backprop_ref.batched) restricted to ``keys``."""

    def ref(probe: Probe) -> dict[str, np.ndarray]:
        X, T, params, hidden = probe.args
        _, cache = batched.mlp_loss(X, T, params, spec_of(params, hidden))
        grads = batched.mlp_backward(cache)
        return {k: grads[k] for k in keys}

    return ref


def batch_context(probe: Probe) -> dict[str, Any]:
    """Diagnosis context of a probe (X, T, params, hidden) at the batched level."""
    X, T, params, hidden = probe.args
    return {"X": X, "T": T, "params": params, "spec": spec_of(params, hidden), "level": "batched"}


def _my_batch(student: str) -> tuple[np.ndarray, np.ndarray]:
    Z2 = seeds.matrix(ASSIGNMENT, student, "t3_3_Z2", (4, 3), low=-2.0, high=2.0)
    labels = seeds.rng(ASSIGNMENT, student, "t3_3_labels").integers(0, 3, 4)
    return Z2, one_hot(labels, 3)


def _my_value(probe: Probe) -> Any:
    Z2, T = _my_batch(probe.kwargs["student"])
    value, cache = batched.loss_forward(Z2, T, "softmax", "cross_entropy")
    return value if probe.name == "my_loss" else batched.loss_backward(cache)


def _loss_mutants(probe: Probe) -> list[tuple[str, str, Any]]:
    """batch_loss summed instead of averaged, recomputed at the probe's inputs."""
    X, T, params, hidden = probe.args
    bug = "missing_1_over_n"
    text = VALUE_TEXT[bug].format(name="batch_loss(...)", where=" in every case")
    return [(bug, text, mean_loss_mutant(X, T, params, spec_of(params, hidden), bug))]


def _my_mutants(probe: Probe) -> list[tuple[str, str, Any]]:
    """my_loss / my_dZ2 without the 1/N, recomputed at this student's Z2_mine, T_mine."""
    Z2, T = _my_batch(probe.kwargs["student"])
    bug = "missing_1_over_n"
    want = "loss" if probe.name == "my_loss" else "dz"
    text = VALUE_TEXT[bug].format(name=probe.name, where=f" (N = {Z2.shape[0]}, at your Z2_mine)")
    return [(bug, text, loss_value_mutant(Z2, T, "softmax", "cross_entropy", bug, want))]


def _variable(name: str) -> Callable[[TaskContext], list[Probe]]:
    return lambda ctx: [Probe(name, call=False, kwargs={"student": ctx.student_id}, label=name)]


def spirals_problem(H: int = 24, seed: int = 0) -> tuple:
    """The notebook's spirals: X (210, 2), labels, one-hot T (210, 3) and starting params."""
    X, y = make_spirals(70, n_classes=3, noise=0.15, seed=seed)
    rng = np.random.default_rng(seed + 1)
    params = {
        "W1": rng.normal(0, 2.0, (H, 2)),
        "b1": rng.normal(0, 0.5, (H, 1)),
        "W2": rng.normal(0, 1.0 / np.sqrt(H), (3, H)),
        "b2": np.zeros((3, 1)),
    }
    return X, y, one_hot(y, 3), params


def _train_instances(ctx: TaskContext) -> list[Probe]:
    X, T, params, _ = batch_instance(ctx.rng, 6, 3, 5, 4, "sigmoid")
    return [
        Probe(
            "train_summary",
            args=(X, T, params, "sigmoid", 0.3, 4),
            readonly=True,
            label="4 steps, N, D, H, C = (6, 3, 5, 4)",
        )
    ]


def _spirals_instances(ctx: TaskContext) -> list[Probe]:
    X, _, T, params = spirals_problem()
    return [Probe("train_summary", args=(X, T, params, "tanh", 1.0, 100), label="spirals")]


def _train_reference(probe: Probe) -> dict[str, np.ndarray]:
    X, T, params, hidden, lr, steps = probe.args
    trained, history = train(X, T, spec_of(params, hidden), lr, steps, params=params)
    return {**{k: trained[k] for k in PARAM_KEYS}, "losses": history}


def _trained_reference(probe: Probe) -> dict[str, np.ndarray]:
    """The trained parameters only: what the spirals cell announces (the recorded losses are
    the first Task 3.7 cell's)."""
    return {k: v for k, v in _train_reference(probe).items() if k != "losses"}


def _choice(grade_id: str, name: str) -> TaskSpec:
    return choice_task(grade_id, name, MC_ANSWERS[name])


# ------------------------------------------------------------------ reference functions

WITH_FORWARD = ("batch_forward",)
WITH_BACKWARD = ("batch_forward", "batch_backward")
WITH_LOSS_AND_BACKWARD = ("batch_forward", "batch_loss", "batch_backward")
"""The earlier functions whose model solutions (the notebook's, ``common.lend``) later tasks
are probed with."""


def _analytic(name: str, injected: Sequence[str] = ()) -> object:
    """No finite differences in ``name`` or its helpers; the reference's injected functions
    are not the student's and are not followed."""
    return analytic_gradients(name, (*GIVEN, *injected))


def _injected(make: Callable[[TaskContext], list[Probe]], names: Sequence[str],
              ) -> Callable[[TaskContext], list[Probe]]:
    """``make``'s probes, each lent the model solutions of ``names``."""
    return lambda ctx: [dataclasses.replace(p, inject=lend(ASSIGNMENT, names)) for p in make(ctx)]


_GRADS = gradient_compare(batch_context)


def _gd_symbols() -> tuple[sympy.Symbol, ...]:
    """eta, a, theta as the notebook makes them (positive)."""
    return sympy.symbols("eta a theta", positive=True)


TASKS = [
    _choice("t3_1_tests_a1", "mc_batch_preactivation"),
    _choice("t3_1_tests_a2", "mc_batch_loss"),
    TaskSpec(
        "t3_2_tests_forward",
        1,
        ("batch_forward",),
        _forward_instances,
        _forward_reference,
        tol=1e-9,
    ),
    TaskSpec(
        "t3_2_tests_loss",
        1,
        ("batch_loss",),
        _injected(_random(
            "batch_loss",
            (((5, 7, 4, 3), "relu"), ((6, 3, 5, 2), "tanh"), ((3, 2, 4, 5), "sigmoid")),
        ), WITH_FORWARD),
        _loss_reference,
        tol=1e-9,
        compare=value_mutant_compare(_loss_mutants),
    ),
    TaskSpec("t3_3_tests_loss", 1, ("my_loss",), _variable("my_loss"), _my_value, tol=PASS_TOL,
             compare=value_mutant_compare(_my_mutants)),
    TaskSpec("t3_3_tests_grad", 1, ("my_dZ2",), _variable("my_dZ2"), _my_value, tol=1e-7,
             compare=value_mutant_compare(_my_mutants)),
    TaskSpec(
        "t3_4_tests_public",
        1,
        ("batch_backward",),
        _injected(lambda ctx: _probes(
            "batch_backward", PUBLIC_CASES, lambda i: np.random.default_rng(31 + i)
        ), WITH_FORWARD),
        backward_reference(PARAM_KEYS),
        compare=_GRADS,
        structure=_analytic("batch_backward", WITH_FORWARD),
    ),
    TaskSpec(
        "t3_4_tests_output",
        1,
        ("batch_backward",),
        _injected(_random("batch_backward", OUTPUT_CASES), WITH_FORWARD),
        backward_reference(OUTPUT_KEYS),
        compare=_GRADS,
        structure=_analytic("batch_backward", WITH_FORWARD),
    ),
    TaskSpec(
        "t3_4_tests_hidden_layer",
        2,
        ("batch_backward",),
        _injected(_random("batch_backward", HIDDEN_CASES), WITH_FORWARD),
        backward_reference(HIDDEN_KEYS),
        compare=_GRADS,
        structure=_analytic("batch_backward", WITH_FORWARD),
    ),
    TaskSpec(
        "t3_5_tests",
        1,
        ("grads_loop", "batch_backward"),
        _injected(_random(
            "grads_loop",
            (((4, 3, 3, 3), "relu"), ((5, 7, 4, 3), "tanh"), ((6, 2, 5, 3), "sigmoid")),
        ), WITH_BACKWARD),
        backward_reference(PARAM_KEYS),
        compare=_GRADS,
        structure=_analytic("grads_loop", WITH_BACKWARD),
    ),
    sympy_task("t3_6_tests_step", "gd_next", _gd_symbols,
               lambda s: s[2] - s[0] * s[1] * s[2]),
    sympy_task("t3_6_tests_eta_max", "eta_max", lambda: _gd_symbols()[1:2],
               lambda s: 2 / s[0]),
    TaskSpec(
        "t3_7_tests",
        1,
        ("train_gd", "train_summary"),
        _injected(_train_instances, WITH_LOSS_AND_BACKWARD),
        _train_reference,
        tol=1e-8,
        structure=_analytic("train_gd", WITH_LOSS_AND_BACKWARD),
    ),
    TaskSpec(
        "t3_7_tests_spirals",
        1,
        ("train_gd", "train_summary"),
        _injected(_spirals_instances, WITH_LOSS_AND_BACKWARD),
        _trained_reference,
        tol=PASS_TOL,
        structure=_analytic("train_gd", WITH_LOSS_AND_BACKWARD),
        # leaving params unchanged and not keeping state are judged by t3_7_tests, which calls
        # the same train_gd and announces them: one mistake, one cell
        side_effects=False,
    ),
]
"""Every autograded code cell of ps3 whose verdict the trusted grader decides."""


# ------------------------------------------------------------------ synthetic submissions


_BACKWARD_MUTANTS = {
    "missing_1_over_n": [('(fw["a2"] - T) / N', 'fw["a2"] - T')],
    "averaged_twice": [
        (
            'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T',
            'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T / N',
        ),
        (
            'g["b1"] = g["z1"].sum(axis=0, keepdims=True).T',
            'g["b1"] = g["z1"].sum(axis=0, keepdims=True).T / N',
        ),
    ],
    "bias_not_summed": [
        ('g["b2"] = g["z2"].sum(axis=0, keepdims=True).T', 'g["b2"] = g["z2"].T'),
        ('g["b1"] = g["z1"].sum(axis=0, keepdims=True).T', 'g["b1"] = g["z1"].T'),
    ],
    "bias_wrong_axis": [
        (
            'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T',
            'g["b2"] = g["z2"].sum(axis=1, keepdims=True)',
        ),
        (
            'g["b1"] = g["z1"].sum(axis=0, keepdims=True).T',
            'g["b1"] = g["z1"].sum(axis=1, keepdims=True)',
        ),
    ],
    "transposed": [
        ('g["W2"] = g["z2"].T @ fw["a1"]', 'g["W2"] = fw["a1"].T @ g["z2"]'),
        ('g["W1"] = g["z1"].T @ X', 'g["W1"] = X.T @ g["z1"]'),
    ],
    "w_not_transposed": [('g["z2"] @ params["W2"]', 'g["z2"] @ params["W2"].T')],
    "missing_activation_derivative": [('g["a1"] * act_prime(fw["z1"], hidden)', 'g["a1"]')],
    "derivative_at_activation": [('act_prime(fw["z1"], hidden)', 'act_prime(fw["a1"], hidden)')],
    "sign_flip": [('(fw["a2"] - T) / N', '(T - fw["a2"]) / N')],
}

BACKWARD_STYLES = {
    "correct_backward_loops": '''\
def batch_backward(X, T, params, hidden="relu"):
    """Gradients of the mean loss, with explicit loops over examples and units."""
    fw = batch_forward(X, params, hidden)
    W2 = params["W2"]
    N, D = X.shape
    C, H = W2.shape
    dz2 = np.zeros((N, C)); da1 = np.zeros((N, H)); dz1 = np.zeros((N, H))
    dW2 = np.zeros((C, H)); db2 = np.zeros((C, 1)); dW1 = np.zeros((H, D)); db1 = np.zeros((H, 1))
    for n in range(N):
        for k in range(C):
            dz2[n, k] = (fw["a2"][n, k] - T[n, k]) / N
            db2[k, 0] += dz2[n, k]
            for j in range(H):
                dW2[k, j] += dz2[n, k] * fw["a1"][n, j]
        for j in range(H):
            da1[n, j] = sum(dz2[n, k] * W2[k, j] for k in range(C))
            dz1[n, j] = da1[n, j] * act_prime(fw["z1"][n, j], hidden)
            db1[j, 0] += dz1[n, j]
            for i in range(D):
                dW1[j, i] += dz1[n, j] * X[n, i]
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "z2": dz2, "a1": da1, "z1": dz1}
''',
    "correct_backward_einsum": '''\
def batch_backward(X, T, params, hidden="relu"):
    """Gradients of the mean loss with einsum."""
    fw = batch_forward(X, params, hidden)
    dz2 = np.einsum("nk->nk", fw["a2"] - T) / X.shape[0]
    da1 = np.einsum("nk,kj->nj", dz2, params["W2"])
    dz1 = da1 * act_prime(fw["z1"], hidden)
    return {"W2": np.einsum("nk,nj->kj", dz2, fw["a1"]), "b2": np.einsum("nk->k", dz2)[:, None],
            "W1": np.einsum("nj,ni->ji", dz1, X), "b1": np.einsum("nj->j", dz1).reshape(-1, 1),
            "z2": dz2, "a1": da1, "z1": dz1}
''',
    "correct_backward_matmul": '''\
def batch_backward(X, T, params, hidden="relu"):
    """Gradients of the mean loss with np.matmul / np.dot and a ones vector."""
    fw = batch_forward(X, params, hidden)
    N = X.shape[0]
    ones = np.ones((N, 1))
    dz2 = np.subtract(fw["a2"], T) / N
    da1 = np.matmul(dz2, params["W2"])
    dz1 = np.multiply(da1, act_prime(fw["z1"], hidden))
    return {"W2": np.dot(dz2.T, fw["a1"]), "b2": np.matmul(dz2.T, ones),
            "W1": np.dot(np.transpose(dz1), X), "b1": np.matmul(np.transpose(dz1), ones),
            "z2": dz2, "a1": da1, "z1": dz1}
''',
}

CORRECT_LOOP_COMPREHENSION = '''\
def grads_loop(X, T, params, hidden="relu"):
    """Mean of the per-example gradients, collected in a list."""
    per = [batch_backward(X[n : n + 1], T[n : n + 1], params, hidden) for n in range(X.shape[0])]
    return {k: np.mean([g[k] for g in per], axis=0) for k in ("W1", "b1", "W2", "b2")}
'''

_TRAIN_MUTANTS = {
    "loss_after_update": [
        ("        losses[s] = batch_loss(X, T, theta_, hidden)\n", ""),
        (
            "        theta_ = {k: theta_[k] - lr * g[k] for k in theta_}\n",
            "        theta_ = {k: theta_[k] - lr * g[k] for k in theta_}\n"
            "        losses[s] = batch_loss(X, T, theta_, hidden)\n",
        ),
    ],
    "ascent": [("- lr * g[k]", "+ lr * g[k]")],
    "in_place": [
        ("theta_ = {k: v.copy() for k, v in params.items()}", "theta_ = params"),
        (
            "        theta_ = {k: theta_[k] - lr * g[k] for k in theta_}\n",
            "        for k in theta_:\n            theta_[k] -= lr * g[k]\n",
        ),
    ],
}


def _examples() -> dict[str, dict[str, str]]:
    """The synthetic submissions, made from the notebook's model solutions on first use."""
    return {
        **{
            f"mistake_backward_{bug}": mutant_cell(ASSIGNMENT, "t3_4_answer", edits)
            for bug, edits in _BACKWARD_MUTANTS.items()
        },
        **{name: {"t3_4_answer": src} for name, src in BACKWARD_STYLES.items()},
        "mistake_loop_sum_not_mean": mutant_cell(ASSIGNMENT, "t3_5_answer", [("v / N", "v")]),
        "correct_loop_comprehension": {"t3_5_answer": CORRECT_LOOP_COMPREHENSION},
        "mistake_loss_sum_not_mean": mutant_cell(
            ASSIGNMENT, "t3_2_answer", [(".sum() / X.shape[0])", ".sum())")]),
        **{
            f"mistake_train_{bug}": mutant_cell(ASSIGNMENT, "t3_7_answer", edits)
            for bug, edits in _TRAIN_MUTANTS.items()
        },
    }


EXAMPLES: Mapping[str, dict[str, str]] = Lazy(_examples)
"""Synthetic submissions: ``correct_*`` earn every point, ``mistake_*`` lose the cells below."""

EXPECTED: dict[str, dict[str, str]] = {
    **{f"mistake_backward_{bug}": {"t3_4_tests_hidden_layer": bug} for bug in _BACKWARD_MUTANTS},
    "mistake_loop_sum_not_mean": {"t3_5_tests": "missing_1_over_n"},
    "mistake_loss_sum_not_mean": {"t3_2_tests_loss": ""},
    **{f"mistake_train_{bug}": {"t3_7_tests": ""} for bug in _TRAIN_MUTANTS},
}
"""mistake example -> {grade cell that must fail: expected ``Verdict.diagnosis``}; "" means any
diagnosis (tasks graded by ``compare_outputs``, whose diagnosis is a sentence, not an id)."""
