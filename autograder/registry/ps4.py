"""Trusted grading of ps4 (twin and skip-connection networks): one TaskSpec per graded code cell.

Runs only in the trusted grader (may import backprop_ref). Every automatically graded cell has
a task here; the written answers (4.7, 4.8) are graded by the instructor. Every student's random
twin cases have both targets t = 0 and t = 1 (both branches of the binary cross-entropy); a cell
that announces some tensors tests only those; twin_backward and skip_backward must compute
analytic gradients (no finite differences, in them or in their helpers).
Both networks work on one example in columns (``backprop_ref.vector_nets``, 001 section 1.4).

Besides the course's rules (``backprop_ref.diagnose``), the comparison recognises the mistakes
of graphs that are not chains, by comparing with the tensors each mistake would give:

| id | mistake |
|---|---|
| shared_one_branch | the shared W1, b1 of the twin net get one branch's gradient only |
| shared_averaged | the two branches' contributions to W1, b1 are averaged, not added |
| product_rule_swapped | dh_a = dh * h_a (its own factor) instead of dh * h_b |
| skip_path_missing | dx = W1^T dz1 only: the skip path Ws^T dzs is missing |
| main_path_missing | dx = Ws^T dzs only: the path through W1 is missing |
| skip_through_relu | dzs = dz2: the skip term was sent through the ReLU mask |
| missing_activation_derivative | the ReLU mask (twin m_a, m_b; skip z2) is missing |
| derivative_at_activation | skip z1: sigma' evaluated at h1 instead of z1 |

The first six are not (yet) ids of ``coursekit.diagnose.MISTAKES``; see the report to the lead.
``EXAMPLES`` / ``EXPECTED`` follow ``autograder/registry/ps3.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from autograder.registry.common import Lazy, gradient_compare, mutant_cell, value_mutant_compare
from autograder.structure import analytic_gradients
from autograder.symbolic import sympy_task
from autograder.tasks import Probe, TaskContext, TaskSpec, choice_task
from backprop_ref import mutants, vector_nets
from coursekit import seeds
from coursekit.gradcheck import PASS_TOL

ASSIGNMENT = "ps4"
MC_ANSWERS = {"mc_grad_h_a": "B", "mc_grad_W1_twin": "B", "mc_grad_x_skip": "C"}
TWIN_SHAPES = {
    "z": (1, 1),
    "W2": (1, 3),
    "b2": (1, 1),
    "h": (3, 1),
    "h_a": (3, 1),
    "m_a": (3, 1),
    "W1": (3, 4),
    "b1": (3, 1),
}
TWIN_HEAD = ("z", "W2", "b2", "h", "h_a", "h_b")
TWIN_KEYS = (*TWIN_HEAD, "m_a", "m_b", "W1", "b1")
TWIN_SHARED = ("m_a", "m_b", "W1", "b1")
SKIP_LAYER1 = ("h1", "z1", "W1", "b1")
GIVEN = ("relu", "sigmoid", "twin_forward", "bce_from_z", "twin_loss", "twin_tail",
         "twin_numbers", "twin_example", "twin_fd", "skip_forward", "ce_from_logits", "skip_loss",
         "skip_example", "skip_fd")
"""Functions of the notebook's locked cells: not the student's, not followed by form rules."""
SKIP_UPPER = ("z3", "W3", "b3", "h2", "z2", "zs", "W2", "b2", "Ws")
SKIP_LOWER = (*SKIP_UPPER, "h1", "z1", "W1", "b1")
SKIP_KEYS = (*SKIP_LOWER, "x")

TWIN_PUBLIC = ((41, (3, 3)), (42, (4, 3)), (43, (2, 5)))
TWIN_CASES = ((3, 3), (4, 3), (2, 5), (5, 4))
SKIP_PUBLIC = ((61, (3, 3, 3, 3)), (62, (4, 5, 3, 2)), (63, (2, 4, 6, 3)))
SKIP_CASES = ((3, 3, 3, 3), (4, 5, 3, 2), (2, 4, 6, 3), (5, 3, 4, 6))
"""(D, H) and (D, H1, H2, C): pairwise distinct dimensions plus a square case."""


# ------------------------------------------------------------------ instances (as the notebook)


def _twin_forward(xa: np.ndarray, xb: np.ndarray, p: Mapping[str, np.ndarray]) -> dict:
    _, cache = vector_nets.twin_loss(xa, xb, 0.0, dict(p))
    return cache


def twin_example(rng: np.random.Generator, D: int, H: int) -> tuple:
    """The notebook's ``twin_example``: same draws, same acceptance rule."""
    while True:
        params = {
            "W1": rng.normal(0, 0.8, (H, D)),
            "b1": rng.normal(0.5, 0.4, (H, 1)),
            "W2": rng.normal(0, 0.8, (1, H)),
            "b2": rng.normal(0, 0.5, (1, 1)),
        }
        xa, xb = rng.normal(0, 1, (D, 1)), rng.normal(0, 1, (D, 1))
        t = float(rng.integers(0, 2))
        f = _twin_forward(xa, xb, params)
        both = int(((f["m_a"] > 0) & (f["m_b"] > 0)).sum())
        one = int(((f["m_a"] > 0) != (f["m_b"] > 0)).sum())
        kinks = min(np.abs(f["m_a"]).min(), np.abs(f["m_b"]).min())
        if kinks >= 1e-2 and both >= 2 and one >= 1 and abs(f["z"][0, 0]) <= 3.0:
            return xa, xb, t, params


def skip_example(rng: np.random.Generator, D: int, H1: int, H2: int, C: int) -> tuple:
    """The notebook's ``skip_example``: same draws, same acceptance rule."""
    while True:
        params = {
            "W1": rng.normal(0, 1, (H1, D)),
            "b1": rng.normal(0, 0.5, (H1, 1)),
            "W2": rng.normal(0, 1, (H2, H1)),
            "b2": rng.normal(0, 0.5, (H2, 1)),
            "Ws": rng.normal(0, 0.6, (H2, D)),
            "W3": rng.normal(0, 0.6, (C, H2)),
            "b3": rng.normal(0, 0.5, (C, 1)),
        }
        x = rng.normal(0, 1, (D, 1))
        t = np.zeros((C, 1))
        t[rng.integers(C), 0] = 1.0
        _, f = vector_nets.skip_loss(x, t, params)
        if np.abs(f["z2"]).min() >= 1e-2 and f["z2"].min() < 0 and np.ptp(f["z3"]) <= 4.0:
            return x, t, params


def twin_numbers(student: str) -> tuple:
    """The notebook's ``twin_numbers``: this student's pair, target and parameters (D = H = 2)."""
    for attempt in range(1000):
        key = f"t4_2_{attempt}"
        params = {
            "W1": seeds.matrix(ASSIGNMENT, student, key + "_W1", (2, 2)),
            "b1": seeds.matrix(ASSIGNMENT, student, key + "_b1", (2, 1), low=0.2, high=1.5),
            "W2": seeds.matrix(ASSIGNMENT, student, key + "_W2", (1, 2)),
            "b2": seeds.matrix(ASSIGNMENT, student, key + "_b2", (1, 1)),
        }
        xa = seeds.matrix(ASSIGNMENT, student, key + "_xa", (2, 1))
        xb = seeds.matrix(ASSIGNMENT, student, key + "_xb", (2, 1))
        f = _twin_forward(xa, xb, params)
        if min(f["m_a"].min(), f["m_b"].min()) >= 0.1:
            t = float(seeds.rng(ASSIGNMENT, student, key + "_t").integers(0, 2))
            return xa, xb, t, params
    raise RuntimeError("no suitable numbers found")


# ------------------------------------------------------------------ references and mistakes


def twin_reference(keys: Sequence[str]) -> Callable[[Probe], dict[str, np.ndarray]]:
    """backprop_ref.vector_nets.twin_backward restricted to ``keys``."""

    def ref(probe: Probe) -> dict[str, np.ndarray]:
        _, cache = vector_nets.twin_loss(*probe.args)
        grads = vector_nets.twin_backward(cache)
        return {k: grads[k] for k in keys}

    return ref


def twin_mistakes(probe: Probe) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """(id, message, tensors the mistake gives) for the twin network's probe."""
    xa, xb, _, _ = probe.args
    _, c = vector_nets.twin_loss(*probe.args)
    g = vector_nets.twin_backward(c)
    ma, mb = g["m_a"], g["m_b"]
    both = (
        "W1 and b1 are used by both branches, so their gradient is the sum of the two "
        "branches' contributions"
    )
    return [
        (
            "shared_one_branch",
            f"dW1, db1 hold the gradient of the branch of x_a only: {both}.",
            {"W1": ma @ xa.T, "b1": ma},
        ),
        (
            "shared_one_branch",
            f"dW1, db1 hold the gradient of the branch of x_b only: {both}.",
            {"W1": mb @ xb.T, "b1": mb},
        ),
        (
            "shared_averaged",
            "dW1, db1 are the average of the two branches' contributions: the "
            "chain rule adds the contributions of all paths, it does not average them.",
            {"W1": (ma @ xa.T + mb @ xb.T) / 2, "b1": (ma + mb) / 2},
        ),
        (
            "product_rule_swapped",
            "dh_a and dh_b are swapped: h = h_a * h_b, so the gradient "
            "reaching h_a is multiplied by the other factor, h_b.",
            {"h_a": g["h"] * c["h_a"], "h_b": g["h"] * c["h_b"]},
        ),
        (
            "missing_activation_derivative",
            "dm_a, dm_b lack the ReLU derivative: only units with m > 0 pass the gradient back.",
            {"m_a": g["h_a"], "m_b": g["h_b"]},
        ),
    ]


def skip_reference(keys: Sequence[str]) -> Callable[[Probe], dict[str, np.ndarray]]:
    """backprop_ref.vector_nets.skip_backward restricted to ``keys``."""

    def ref(probe: Probe) -> dict[str, np.ndarray]:
        _, cache = vector_nets.skip_loss(*probe.args)
        grads = vector_nets.skip_backward(cache)
        return {k: grads[k] for k in keys}

    return ref


# ------------------------------------------------------------------ tasks


def _choice(grade_id: str, name: str) -> TaskSpec:
    return choice_task(grade_id, name, MC_ANSWERS[name])


def _variable(name: str) -> Callable[[TaskContext], list[Probe]]:
    return lambda ctx: [Probe(name, call=False, kwargs={"student": ctx.student_id}, label=name)]


def _my_value(probe: Probe) -> Any:
    _, cache = vector_nets.twin_loss(*twin_numbers(probe.kwargs["student"]))
    grads = vector_nets.twin_backward(cache)
    return float(grads["z"][0, 0]) if probe.name == "my_dz" else grads["W1"]


def _my_mutants(probe: Probe) -> list[tuple[str, str, Any]]:
    """my_dz / my_dW1 with one mistake, recomputed at this student's numbers (mutant proof):
    the sign of dL/dz (my_dW1 inherits it), one branch of the shared W1."""
    variants = mutants.twin_value_mutants(*twin_numbers(probe.kwargs["student"]))
    key = "z" if probe.name == "my_dz" else "W1"
    out = []
    for bug, tensors in variants.items():
        for tensor in tensors:
            if key in tensor:
                value = float(tensor[key][0, 0]) if key == "z" else tensor[key]
                out.append((bug, mutants.VALUE_TEXT[bug].format(name=probe.name), value))
    return out


def _twin_probes(cases: Sequence, fixed: bool) -> Callable[[TaskContext], list[Probe]]:
    """The fixed cases as the notebook draws them; the random ones alternate t = 0, 1 so that
    every student meets both branches of the binary cross-entropy."""

    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for i, case in enumerate(cases):
            seed, dims = case if fixed else (None, case)
            rng = np.random.default_rng(seed) if fixed else ctx.rng
            xa, xb, t, params = twin_example(rng, *dims)
            if not fixed:
                t = float(i % 2)
            out.append(Probe("twin_backward", args=(xa, xb, t, params),
                             label=f"D, H = {dims}, t = {t:g}"))
        return out

    return make


def _skip_probes(cases: Sequence, fixed: bool) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for case in cases:
            seed, dims = case if fixed else (None, case)
            rng = np.random.default_rng(seed) if fixed else ctx.rng
            out.append(
                Probe(
                    "skip_backward", args=skip_example(rng, *dims), label=f"D, H1, H2, C = {dims}"
                )
            )
        return out

    return make


_TWIN = gradient_compare(
    mistakes_of=lambda p: twin_mistakes(p) + mutants.twin_product_swapped(*p.args))


def _analytic(name: str) -> object:
    return analytic_gradients(name, GIVEN)


def _dy_dx_symbols() -> tuple[sympy.Symbol, ...]:
    return sympy.symbols("x w1 w2 ws")


def _dy_dx(s: Sequence[sympy.Symbol]) -> sympy.Expr:
    x, w1, w2, ws = s
    # Task 4.4: y = w2 sigma(w1 x) + ws x, the skip network where its ReLU is active.
    return sympy.diff(w2 / (1 + sympy.exp(-w1 * x)) + ws * x, x)


_SKIP = gradient_compare(mistakes_of=lambda p: mutants.skip_mistakes(*p.args))

TASKS = [
    _choice("t4_1_tests_a1", "mc_grad_h_a"),
    _choice("t4_1_tests_a2", "mc_grad_W1_twin"),
    TaskSpec(
        "t4_1_tests_shapes",
        1,
        ("twin_shapes",),
        lambda ctx: [Probe("twin_shapes", call=False)],
        lambda probe: dict(TWIN_SHAPES),
        tol=0.0,
    ),
    TaskSpec("t4_2_tests_dz", 1, ("my_dz",), _variable("my_dz"), _my_value, tol=PASS_TOL,
             compare=value_mutant_compare(_my_mutants)),
    TaskSpec("t4_2_tests_dW1", 1, ("my_dW1",), _variable("my_dW1"), _my_value, tol=PASS_TOL,
             compare=value_mutant_compare(_my_mutants)),
    TaskSpec(
        "t4_3_tests_public",
        1,
        ("twin_backward",),
        _twin_probes(TWIN_PUBLIC, True),
        twin_reference(("W1", "b1", "W2", "b2", "h_a", "h_b", "m_a", "m_b")),
        compare=_TWIN,
        structure=_analytic("twin_backward"),
    ),
    TaskSpec(
        "t4_3_tests_head",
        1,
        ("twin_backward",),
        _twin_probes(TWIN_CASES, False),
        twin_reference(TWIN_HEAD),
        compare=_TWIN,
        structure=_analytic("twin_backward"),
    ),
    TaskSpec(
        "t4_3_tests_shared",
        2,
        ("twin_backward",),
        _twin_probes(TWIN_CASES, False),
        twin_reference(TWIN_SHARED),
        compare=_TWIN,
        structure=_analytic("twin_backward"),
    ),
    sympy_task("t4_4_tests", "dy_dx", _dy_dx_symbols, _dy_dx),
    _choice("t4_5_tests", "mc_grad_x_skip"),
    TaskSpec(
        "t4_6_tests_public",
        1,
        ("skip_backward",),
        _skip_probes(SKIP_PUBLIC, True),
        skip_reference(("W1", "b1", "W2", "b2", "Ws", "W3", "b3", "x")),
        compare=_SKIP,
        structure=_analytic("skip_backward"),
    ),
    TaskSpec(
        "t4_6_tests_upper",
        1,
        ("skip_backward",),
        _skip_probes(SKIP_CASES, False),
        skip_reference(SKIP_UPPER),
        compare=_SKIP,
        structure=_analytic("skip_backward"),
    ),
    TaskSpec(
        "t4_6_tests_lower",
        1,
        ("skip_backward",),
        _skip_probes(SKIP_CASES, False),
        skip_reference(SKIP_LAYER1),
        compare=_SKIP,
        structure=_analytic("skip_backward"),
    ),
    TaskSpec(
        "t4_6_tests_x",
        2,
        ("skip_backward",),
        _skip_probes(SKIP_CASES, False),
        skip_reference(("x",)),
        compare=_SKIP,
        structure=_analytic("skip_backward"),
    ),
]
"""Every autograded code cell of ps4 whose verdict the trusted grader decides."""


# ------------------------------------------------------------------ synthetic submissions

_TWIN_MUTANTS = {
    "shared_one_branch": [
        ('g["W1"] = g["m_a"] @ xa.T + g["m_b"] @ xb.T', 'g["W1"] = g["m_a"] @ xa.T'),
        ('g["b1"] = g["m_a"] + g["m_b"]', 'g["b1"] = g["m_a"]'),
    ],
    "shared_averaged": [
        (
            'g["W1"] = g["m_a"] @ xa.T + g["m_b"] @ xb.T',
            'g["W1"] = (g["m_a"] @ xa.T + g["m_b"] @ xb.T) / 2',
        ),
        ('g["b1"] = g["m_a"] + g["m_b"]', 'g["b1"] = (g["m_a"] + g["m_b"]) / 2'),
    ],
    "product_rule_swapped": [
        ('g["h_a"] = g["h"] * f["h_b"]', 'g["h_a"] = g["h"] * f["h_a"]'),
        ('g["h_b"] = g["h"] * f["h_a"]', 'g["h_b"] = g["h"] * f["h_b"]'),
    ],
    "missing_activation_derivative": [
        ('g["h_a"] * (f["m_a"] > 0)', 'g["h_a"]'),
        ('g["h_b"] * (f["m_b"] > 0)', 'g["h_b"]'),
    ],
    "sign_flip": [('g["z"] = f["y"] - t', 'g["z"] = t - f["y"]')],
}
_TWIN_CELLS = {
    "shared_one_branch": "t4_3_tests_shared",
    "shared_averaged": "t4_3_tests_shared",
    "product_rule_swapped": "t4_3_tests_head",
    "missing_activation_derivative": "t4_3_tests_shared",
    "sign_flip": "t4_3_tests_head",
}

_SKIP_MUTANTS = {
    "skip_path_missing": [
        ('g["x"] = p["W1"].T @ g["z1"] + p["Ws"].T @ g["zs"]', 'g["x"] = p["W1"].T @ g["z1"]')
    ],
    "main_path_missing": [
        ('g["x"] = p["W1"].T @ g["z1"] + p["Ws"].T @ g["zs"]', 'g["x"] = p["Ws"].T @ g["zs"]')
    ],
    "missing_activation_derivative": [
        ('g["z2"] = g["h2"] * (f["z2"] > 0)', 'g["z2"] = g["h2"].copy()'),
    ],
    "skip_through_relu": [('g["zs"] = g["h2"].copy()', 'g["zs"] = g["z2"].copy()')],
    "derivative_at_activation": [
        (
            'g["h1"] * f["h1"] * (1.0 - f["h1"])',
            'g["h1"] * sigmoid(f["h1"]) * (1.0 - sigmoid(f["h1"]))',
        )
    ],
    "transposed": [('g["W3"] = g["z3"] @ f["h2"].T', 'g["W3"] = f["h2"] @ g["z3"].T')],
}
_SKIP_CELLS = {
    "skip_path_missing": "t4_6_tests_x",
    "main_path_missing": "t4_6_tests_x",
    "missing_activation_derivative": "t4_6_tests_upper",
    "skip_through_relu": "t4_6_tests_upper",
    "derivative_at_activation": "t4_6_tests_lower",
    "transposed": "t4_6_tests_upper",
}


STYLES: dict[str, dict[str, str]] = {
    "correct_twin_einsum": {
        "t4_3_answer": '''\
def twin_backward(xa, xb, t, params):
    """Twin gradients with einsum."""
    f = twin_forward(xa, xb, params)
    dz = f["y"] - t
    dh = np.einsum("oh,oc->hc", params["W2"], dz)
    dh_a, dh_b = dh * f["h_b"], dh * f["h_a"]
    dm_a, dm_b = dh_a * np.heaviside(f["m_a"], 0.0), dh_b * np.heaviside(f["m_b"], 0.0)
    return {"z": dz, "W2": np.einsum("oc,hc->oh", dz, f["h"]), "b2": dz.copy(), "h": dh,
            "h_a": dh_a, "h_b": dh_b, "m_a": dm_a, "m_b": dm_b,
            "W1": np.einsum("hc,dc->hd", dm_a, xa) + np.einsum("hc,dc->hd", dm_b, xb),
            "b1": dm_a + dm_b}
'''
    },
    "correct_twin_loops": {
        "t4_3_answer": '''\
def twin_backward(xa, xb, t, params):
    """Twin gradients unit by unit, accumulating each use of a shared weight."""
    f = twin_forward(xa, xb, params)
    H, D = params["W1"].shape
    g = {k: np.zeros((H, 1)) for k in ("h", "h_a", "h_b", "m_a", "m_b", "b1")}
    g["z"] = np.array([[f["y"][0, 0] - t]])
    g["b2"] = g["z"].copy()
    g["W2"] = np.zeros((1, H))
    g["W1"] = np.zeros((H, D))
    for j in range(H):
        g["W2"][0, j] = g["z"][0, 0] * f["h"][j, 0]
        g["h"][j, 0] = params["W2"][0, j] * g["z"][0, 0]
        g["h_a"][j, 0] = g["h"][j, 0] * f["h_b"][j, 0]
        g["h_b"][j, 0] = g["h"][j, 0] * f["h_a"][j, 0]
        g["m_a"][j, 0] = g["h_a"][j, 0] if f["m_a"][j, 0] > 0 else 0.0
        g["m_b"][j, 0] = g["h_b"][j, 0] if f["m_b"][j, 0] > 0 else 0.0
        for branch, x in (("m_a", xa), ("m_b", xb)):
            g["b1"][j, 0] += g[branch][j, 0]
            for i in range(D):
                g["W1"][j, i] += g[branch][j, 0] * x[i, 0]
    return g
'''
    },
    "correct_skip_matmul": {
        "t4_6_answer": '''\
def skip_backward(x, t, params):
    """Skip gradients with np.matmul and np.outer."""
    p = params
    f = skip_forward(x, p)
    dz3 = np.subtract(f["y"], t)
    dh2 = np.matmul(p["W3"].T, dz3)
    dz2 = np.where(f["z2"] > 0, dh2, 0.0)
    dh1 = np.matmul(p["W2"].T, dz2)
    dz1 = dh1 * (f["h1"] - f["h1"] ** 2)
    return {"z3": dz3, "W3": np.outer(dz3, f["h2"]), "b3": dz3, "h2": dh2, "z2": dz2, "zs": dh2,
            "Ws": np.outer(dh2, x), "W2": np.outer(dz2, f["h1"]), "b2": dz2, "h1": dh1, "z1": dz1,
            "W1": np.outer(dz1, x), "b1": dz1,
            "x": np.matmul(p["W1"].T, dz1) + np.matmul(p["Ws"].T, dh2)}
'''
    },
    "correct_skip_einsum": {
        "t4_6_answer": '''\
def skip_backward(x, t, params):
    """Skip gradients with einsum."""
    p = params
    f = skip_forward(x, p)
    dz3 = f["y"] - t
    dh2 = np.einsum("ck,co->ko", p["W3"], dz3)
    dz2 = dh2 * (f["z2"] > 0)
    dh1 = np.einsum("kj,ko->jo", p["W2"], dz2)
    dz1 = dh1 * f["h1"] * (1 - f["h1"])
    outer = lambda a, b: np.einsum("io,jo->ij", a, b)  # noqa: E731
    return {"z3": dz3, "W3": outer(dz3, f["h2"]), "b3": dz3, "h2": dh2, "z2": dz2, "zs": dh2,
            "Ws": outer(dh2, x), "W2": outer(dz2, f["h1"]), "b2": dz2, "h1": dh1, "z1": dz1,
            "W1": outer(dz1, x), "b1": dz1,
            "x": np.einsum("jd,jo->do", p["W1"], dz1) + np.einsum("kd,ko->do", p["Ws"], dh2)}
'''
    },
}
"""Correct solutions in other styles."""


_TWIN_ONE_BRANCH_B = [
    ('g["W1"] = g["m_a"] @ xa.T + g["m_b"] @ xb.T', 'g["W1"] = g["m_b"] @ xb.T'),
    ('g["b1"] = g["m_a"] + g["m_b"]', 'g["b1"] = g["m_b"]'),
]
"""shared_one_branch with the other branch kept."""


def _examples() -> dict[str, dict[str, str]]:
    """The synthetic submissions, made from the notebook's model solutions on first use."""
    return {
        **{
            f"mistake_twin_{bug}": mutant_cell(ASSIGNMENT, "t4_3_answer", edits)
            for bug, edits in _TWIN_MUTANTS.items()
        },
        "mistake_twin_shared_one_branch_b": mutant_cell(ASSIGNMENT, "t4_3_answer",
                                                        _TWIN_ONE_BRANCH_B),
        **{
            f"mistake_skip_{bug}": mutant_cell(ASSIGNMENT, "t4_6_answer", edits)
            for bug, edits in _SKIP_MUTANTS.items()
        },
        **STYLES,
    }


EXAMPLES: Mapping[str, dict[str, str]] = Lazy(_examples)
"""Synthetic submissions: ``correct_*`` earn every point, ``mistake_*`` lose the cells below."""

EXPECTED: dict[str, dict[str, str]] = {
    **{f"mistake_twin_{bug}": {_TWIN_CELLS[bug]: bug} for bug in _TWIN_MUTANTS},
    "mistake_twin_shared_one_branch_b": {"t4_3_tests_shared": "shared_one_branch"},
    **{f"mistake_skip_{bug}": {_SKIP_CELLS[bug]: bug} for bug in _SKIP_MUTANTS},
}
"""mistake example -> {grade cell that must fail: expected ``Verdict.diagnosis``}."""


# ================================================================== issue 13 (material engineer)
# Graded items added by issue 13; the tasks above are not changed by this block.
from autograder.registry.extra_items import graph_task  # noqa: E402

TASKS += [
    graph_task(
        "t4_0_tests", 1, "twin_parents",
        ("xa", "xb", "W1", "b1", "m_a", "m_b", "h_a", "h_b", "h", "W2", "b2", "z", "y", "t", "L"),
        {"m_a": ["W1", "xa", "b1"], "m_b": ["W1", "xb", "b1"], "h_a": ["m_a"], "h_b": ["m_b"],
         "h": ["h_a", "h_b"], "z": ["W2", "h", "b2"], "y": ["z"], "L": ["y", "t"]},
    ),
    graph_task(
        "t4_4a_tests", 1, "skip_parents", ("x", "z1", "h1", "z2", "zs", "h2", "z3", "y", "L"),
        {"z1": ["x"], "h1": ["z1"], "z2": ["h1"], "zs": ["x"], "h2": ["z2", "zs"], "z3": ["h2"],
         "y": ["z3"], "L": ["y"]},
    ),
]  # fmt: skip
