"""Trusted grading of ps5 (backpropagation as a program): one TaskSpec per graded code cell.

Runs only in the trusted grader (may import backprop_ref). Not listed here, so decided by
nbgrader: the manually graded written answers (5.6, 5.13).

No cascades. A task that builds on earlier ones is probed with the model solutions of the
earlier tasks lent to the runner (``Probe(inject=...)``; the answer cells of
``source/ps5/ps5.ipynb``, read on first use): they stand in for the student's during that
call, so each task is judged on its own code only. The runner receives a probe's sources only
when that probe runs, and probes lent sources that are not a superset of the earlier ones
run in separate sandboxes (``autograder.runner_host.runner_chains``), so a submission that kept a
model solution gains nothing. The engine's backward pass is judged on graphs built from plain
data whose local derivatives are given (``run_backward``), the layers' backward passes on caches
the grader builds.

References come from ``backprop_ref``: ``engine`` (Part A), ``batched`` and ``layer_nets``
(Part B), ``train`` (Part C). Mistakes named here (``coursekit.diagnose.MISTAKES`` ids):

| id | how it is recognised |
|---|---|
| grad_assigned | the grads equal a backward pass with ``=`` for ``+=``, in the student's order |
| visited_before_consumers | the returned order visits a node before one of its consumers |
| grad_not_reset | a second call equals two passes without resetting the grads |
| shared_one_branch / shared_averaged | the twin's W1, b1 equal one branch's / the mean |
| momentum_not_carried | the trajectory equals momentum with the velocity reset every step |
| missing_1_over_n (and the other ratio, shape and mutant rules) | ``backprop_ref.diagnose`` |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.registry.common import Lazy, gradient_compare, lend, matches, mutant_cell
from autograder.tasks import Probe, TaskContext, TaskSpec, Trial, Verdict, compare_outputs
from backprop_ref import batched, engine, layer_nets, scalar
from backprop_ref.activations import softmax
from backprop_ref.spec import MLPSpec
from backprop_ref.train import momentum_step, predict, train
from coursekit import seeds
from coursekit.data import one_hot
from coursekit.digits import digits_split
from coursekit.gradcheck import rel_error

ASSIGNMENT = "ps5"

# ------------------------------------------------------------------ model solutions (injected)

ENGINE = ("t5_1_answer",)
ENGINE_AND_BACKWARD = (*ENGINE, "t5_2_answer")
LAYERS = ("t5_7_answer",)
TRAINING = (*LAYERS, "t5_8_answer", "t5_10_answer")
"""Answer cells whose model solutions stand in for earlier tasks (``common.lend``)."""


def _given(given: Sequence[str], name: str, args: Sequence[Any], label: str,
           readonly: bool = False) -> Probe:
    """A probe of ``name(*args)`` with the model solutions of the answer cells ``given``
    standing in for earlier tasks."""
    return Probe(name, args=tuple(args), label=label, readonly=readonly,
                 inject=lend(ASSIGNMENT, given))


def _args(probe: Probe) -> tuple:
    """The arguments of the function a probe is about."""
    return tuple(probe.args)


# ------------------------------------------------------------------ Part A: the engine

ARITH_OPS = ("+", "*", "**")
UNARY_OPS = ("tanh", "relu", "exp", "log")


def _op_instances(ops: Sequence[str]) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for op in ops:
            for _ in range(3):
                a = float(ctx.rng.uniform(0.2, 2.5) * (1 if op in ("log", "**") else
                                                       ctx.rng.choice([-1.0, 1.0])))
                b = float(ctx.rng.uniform(-2.0, 2.0))
                out.append(Probe("op_result", args=(op, a, b), label=f"{op} at {a:.3g}, {b:.3g}"))
        return out

    return make


def _op_reference(probe: Probe) -> tuple[float, list[float]]:
    op, a, b = probe.args
    x = engine.Value(a)
    out = {"+": lambda: x + engine.Value(b), "*": lambda: x * engine.Value(b),
           "**": lambda: x**b}.get(op, lambda: getattr(x, op)())()
    return out.data, list(out.local)


def random_spec(rng: np.random.Generator, n: int = 9) -> list[tuple]:
    """A graph as plain data (see ``graph_from_spec``): every node after the first two inputs
    uses its predecessor and one earlier node, so values are used several times and reach the
    root along paths of different lengths (a visit in the wrong order shows)."""
    spec: list[tuple] = [("x0", float(rng.uniform(-1, 1))), ("x1", float(rng.uniform(-1, 1)))]
    for i in range(2, n):
        parents = sorted({f"x{i - 1}", f"x{int(rng.integers(0, i - 1))}"})
        local = [float(v) for v in rng.uniform(0.5, 2.0, len(parents)) * rng.choice([-1, 1],
                                                                                   len(parents))]
        spec.append((f"x{i}", float(rng.uniform(-1, 1)), parents, local))
    return spec


DIAMOND = [("u", 1.0), ("v", 2.0, ["u"], [3.0]), ("w", 0.5, ["u", "v"], [2.0, -1.0]),
           ("r", 4.0, ["w", "u"], [0.5, 1.0])]
"""The notebook's DIAMOND graph (u feeds v, w and the root r)."""


def _backward_instances(calls: int) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        specs = [DIAMOND] + [random_spec(ctx.rng, n) for n in (6, 9, 12)]
        out = []
        for i, spec in enumerate(specs):
            label = "the DIAMOND graph" if i == 0 else f"a random graph of {len(spec)} nodes"
            out.append(_given(ENGINE, "run_backward", (spec, 1), label))
            if calls > 1:
                out.append(_given(ENGINE, "run_backward", (spec, calls), f"{label}, 2 calls"))
        return out

    return make


def simulate(spec: Sequence[Sequence[Any]], order: Sequence[str], *, assign: bool = False,
             calls: int = 1) -> dict[str, float]:
    """The grads a backward pass visiting ``order`` (labels) would leave: adding (or with
    ``assign``, assigning) local * grad to each parent; ``calls`` > 1 without resetting."""
    nodes = {n.label: n for n in engine.graph_from_spec(spec)}
    root = list(nodes.values())[-1]
    for _ in range(calls):
        root.grad = 1.0
        for label in order:
            node = nodes[label]
            for parent, d in zip(node.parents, node.local, strict=True):
                parent.grad = d * node.grad if assign else parent.grad + d * node.grad
    return {label: float(n.grad) for label, n in nodes.items()}


def _backward_reference(probe: Probe) -> dict[str, Any]:
    spec = _args(probe)[0]
    nodes = engine.graph_from_spec(spec)
    visited = engine.backward(nodes[-1])
    return {"order": [n.label for n in visited], "grads": {n.label: n.grad for n in nodes}}


def _order_problems(spec: Sequence[Sequence[Any]], order: Any) -> list[str]:
    nodes = {n.label: n for n in engine.graph_from_spec(spec)}
    if not isinstance(order, (list, tuple)) or not all(isinstance(x, str) for x in order) \
            or set(order) - set(nodes):
        return [f"run_backward returned the order {order!r}, not the labels of the graph's nodes"]
    return engine.order_problems(list(nodes.values())[-1], [nodes[x] for x in order])


def _result_error(trial: Trial, label: str) -> str | None:
    if trial.error is not None:
        return f"{label}: {trial.error}"
    got = trial.got
    if not isinstance(got, Mapping) or not isinstance(got.get("grads"), Mapping):
        return f"{label}: run_backward did not return the order and the grads"
    return None


def _grads_close(got: Mapping[str, Any], want: Mapping[str, float], tol: float) -> bool:
    try:
        g = np.array([float(got[k]) for k in want])
    except (KeyError, TypeError, ValueError):
        return False
    w = np.array(list(want.values()))
    return rel_error(g, w) <= tol


def _wrong_nodes(got: Mapping[str, Any], want: Mapping[str, float], tol: float) -> str:
    bad = []
    for k, v in want.items():
        g = got.get(k)
        if not isinstance(g, (int, float)) or not rel_error(np.array(g), np.array(v)) <= tol:
            bad.append(f"{k} (yours {g!r}, expected {v:.6g})")
    return ", ".join(bad[:4]) + (" ..." if len(bad) > 4 else "")


def compare_order(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Every visiting order must visit each node once, after all the nodes that use it."""
    parts = {}
    for trial in trials:
        label = trial.probe.label
        error = _result_error(trial, label)
        if error:
            parts[label] = False
            return Verdict(0.0, spec.points, error, "error", parts)
        problems = _order_problems(_args(trial.probe)[0], trial.got.get("order"))
        parts[label] = not problems
        if problems:
            return Verdict(0.0, spec.points, f"{label}: {problems[0]}", "visited_before_consumers"
                           if "consumer" in problems[0] else "wrong_values", parts)
    return Verdict(spec.points, spec.points, "every order is a reverse topological order", "",
                   parts)


def compare_backward_grads(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """The grads of every graph; a mismatch is explained only by a mistake it reproduces."""
    parts = {}
    for trial in trials:
        label = trial.probe.label
        error = _result_error(trial, label)
        if error:
            parts[label] = False
            return Verdict(0.0, spec.points, error, "error", parts)
        got, want = trial.got["grads"], trial.want["grads"]
        parts[label] = _grads_close(got, want, spec.tol)
        if parts[label]:
            continue
        graph = _args(trial.probe)[0]
        order = trial.got.get("order")
        msg = f"{label}: wrong gradients at {_wrong_nodes(got, want, spec.tol)}"
        if not _order_problems(graph, order) or not isinstance(order, (list, tuple)):
            pass
        elif _grads_close(got, simulate(graph, order), spec.tol):
            return Verdict(0.0, spec.points, f"{msg}. They are what adding local x grad in your "
                           f"visiting order gives, but {_order_problems(graph, order)[0]}: a "
                           "node passes its gradient on only once every consumer has added its "
                           "term", "visited_before_consumers", parts)
        if isinstance(order, (list, tuple)) and not set(order) - {e[0] for e in graph} and \
                _grads_close(got, simulate(graph, order, assign=True), spec.tol):
            return Verdict(0.0, spec.points, f"{msg}. They are what assigning parent.grad = "
                           "local x grad gives: a node used more than once must add (+=) the "
                           "term of every use", "grad_assigned", parts)
        return Verdict(0.0, spec.points, msg, "wrong_values", parts)
    return Verdict(spec.points, spec.points, "correct on every graph", "", parts)


def compare_reset(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """A second call must leave the grads of the first, which must be a backward pass (right,
    or one of the catalogued mistakes that another cell charges)."""
    parts = {}
    pairs = [(trials[i], trials[i + 1]) for i in range(0, len(trials) - 1, 2)]
    for once, twice in pairs:
        label = once.probe.label
        error = _result_error(once, label) or _result_error(twice, twice.probe.label)
        if error:
            parts[label] = False
            return Verdict(0.0, spec.points, error, "error", parts)
        graph, order = _args(once.probe)[0], once.got.get("order")
        first = once.got["grads"]
        known = [once.want["grads"]]
        if isinstance(order, (list, tuple)) and not set(order) - {e[0] for e in graph}:
            known += [simulate(graph, order), simulate(graph, order, assign=True)]
        if not any(_grads_close(first, k, spec.tol) for k in known):
            parts[label] = False
            return Verdict(0.0, spec.points, f"{label}: the first call's gradients are wrong at "
                           f"{_wrong_nodes(first, once.want['grads'], spec.tol)}", "wrong_values",
                           parts)
        parts[label] = _grads_close(twice.got["grads"], first, spec.tol)
        if parts[label]:
            continue
        msg = (f"{label}: a second call of backward changed the gradients at "
               f"{_wrong_nodes(twice.got['grads'], first, spec.tol)}")
        twice_order = twice.got.get("order")
        if isinstance(twice_order, (list, tuple)) and not set(twice_order) - {e[0] for e in graph}:
            for assign in (False, True):
                if _grads_close(twice.got["grads"], simulate(graph, twice_order, assign=assign,
                                                             calls=2), spec.tol):
                    return Verdict(0.0, spec.points, f"{msg}: they are the first call's plus a "
                                   "second pass on top, so backward must first reset every "
                                   "node's grad to 0", "grad_not_reset", parts)
        return Verdict(0.0, spec.points, msg, "not_repeatable", parts)
    return Verdict(spec.points, spec.points, "two calls give the same gradients", "", parts)


def _practice_numbers(student: str) -> tuple[float, float, float, float]:
    n = seeds.numbers("ps1", student, "t1_1", ["w", "x", "b", "t"])
    return n["w"], n["x"], n["b"], n["t"]


PRACTICE_KEYS = ("w", "x", "b", "z", "y")


def _practice_instances(ctx: TaskContext) -> list[Probe]:
    cases = [("your numbers", _practice_numbers(ctx.student_id))]
    cases += [(f"random case {i + 1}", tuple(float(v) for v in ctx.rng.uniform(-2, 2, 4)))
              for i in range(3)]
    return [_given(ENGINE_AND_BACKWARD, "practice_grads", args, f"w, x, b, t = "
                   f"{', '.join(f'{v:.3g}' for v in args)} ({what})") for what, args in cases]


def _practice_reference(probe: Probe) -> dict[str, float]:
    g = scalar.q1_backward(*_args(probe))
    return {k: float(g[k]) for k in PRACTICE_KEYS}


def bias_free_instance(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """x (2,), w (10,), t with every ReLU input at least 1e-2 away from 0."""
    while True:
        x, w = rng.uniform(-2, 2, 2), rng.uniform(-1.5, 1.5, 10)
        t = float(rng.integers(0, 2))
        fw = scalar.q3_forward(x, w, t)
        if min(abs(fw[k]) for k in ("m1", "m2", "m3", "m4")) >= 1e-2:
            return x, w, t


def _bias_free_instances(ctx: TaskContext) -> list[Probe]:
    return [_given(ENGINE_AND_BACKWARD, "bias_free_grads", bias_free_instance(ctx.rng),
                   f"case {i + 1}") for i in range(4)]


def _bias_free_reference(probe: Probe) -> np.ndarray:
    g = scalar.q3_backward(*_args(probe), "binary_cross_entropy")
    return np.array([g[f"w{i}"] for i in range(1, 11)])


def _count_instances(ctx: TaskContext) -> list[Probe]:
    chain = [("n0", 1.0)] + [(f"n{i}", 1.0, [f"n{i - 1}"], [2.0]) for i in range(1, 7)]
    cases = [(chain, ["n0", "n2", "n5"]), (DIAMOND, ["u", "v"])]
    for n in (7, 10):
        spec = random_spec(ctx.rng, n)
        cases.append((spec, [spec[0][0], spec[1][0], spec[3][0]]))
    return [_given(ENGINE_AND_BACKWARD, "count_on_spec", case, f"graph {i + 1}")
            for i, case in enumerate(cases)]


def _count_reference(probe: Probe) -> list[int]:
    spec, leaves = _args(probe)
    nodes = {n.label: n for n in engine.graph_from_spec(spec)}
    return list(engine.count_local_uses(list(nodes.values())[-1], [nodes[k] for k in leaves]))


# ------------------------------------------------------------------ Part B: layers

LAYER_DIMS = ((5, 3, 4), (2, 6, 3), (4, 4, 4))
"""(N, D_in, D_out): distinct sizes, and a square case so that transposes show."""


def _layer(rng: np.random.Generator, N: int, D_in: int, D_out: int) -> tuple:
    return (rng.normal(0, 1, (N, D_in)), rng.normal(0, 1, (D_out, D_in)),
            rng.normal(0, 1, (D_out, 1)), rng.normal(0, 1, (N, D_out)))


def _affine_forward_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for dims in LAYER_DIMS:
        A, W, b, _ = _layer(ctx.rng, *dims)
        out.append(Probe("affine_forward", args=(A, W, b), readonly=True,
                         label=f"N, D_in, D_out = {dims}"))
    return out


def _affine_forward_reference(probe: Probe) -> tuple:
    return batched.affine_forward(*probe.args)


def _affine_backward_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for dims in LAYER_DIMS:
        A, W, b, dZ = _layer(ctx.rng, *dims)
        out.append(Probe("affine_backward", args=(dZ, (A, W, b)), readonly=True,
                         label=f"N, D_in, D_out = {dims}"))
    return out


def _affine_backward_reference(probe: Probe) -> dict[str, np.ndarray]:
    dA, dW, db = batched.affine_backward(*probe.args)
    return {"a_prev": dA, "W": dW, "b": db}


def _as_dict(keys: Sequence[str], compare: Callable[[Sequence[Trial], TaskSpec], Verdict]
             ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """``compare`` applied with a tuple result (or one array) named by ``keys``."""

    def named(got: Any) -> Any:
        if len(keys) == 1 and not isinstance(got, (tuple, list, Mapping)):
            return {keys[0]: got}
        if isinstance(got, (tuple, list)) and len(got) == len(keys):
            return dict(zip(keys, got, strict=True))
        return got

    def run(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        return compare([Trial(t.probe, t.want, named(t.got), t.error) for t in trials], spec)

    return run


def _kink_free(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    Z = rng.normal(0, 1, shape)
    return np.where(np.abs(Z) < 0.1, np.where(Z < 0, -0.1, 0.1), Z)


def _activation_instances(name: str) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for shape in ((5, 4), (3, 6)):
            Z = _kink_free(ctx.rng, shape) * (1.0 if name == "relu_pair" else 3.0)
            out.append(Probe(name, args=(Z, ctx.rng.normal(0, 1, shape)), readonly=True,
                             label=f"Z of shape {shape}"))
        return out

    return make


def _activation_reference(probe: Probe) -> dict[str, np.ndarray]:
    Z, dA = probe.args
    act = "relu" if probe.name == "relu_pair" else "sigmoid"
    A, cache = batched.activation_forward(Z, act)
    return {"A": A, "dZ": batched.activation_backward(dA, cache)}


def _sce_instances(name: str) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        out = []
        for N, C in ((5, 3), (3, 6), (4, 4)):
            Z = ctx.rng.normal(0, 2, (N, C))
            Z[0, 0] += 800.0  # a large logit: the softmax must not overflow
            out.append(Probe(name, args=(Z, one_hot(ctx.rng.integers(0, C, N), C)),
                             readonly=True, label=f"N, C = {N}, {C}"))
        return out

    return make


def _sce_forward_reference(probe: Probe) -> tuple:
    Z, T = probe.args
    loss, _ = batched.loss_forward(Z, T, "softmax", "cross_entropy")
    return loss, (softmax(Z, axis=1), T)


def _sce_backward_reference(probe: Probe) -> dict[str, np.ndarray]:
    Z, T = probe.args
    _, cache = batched.loss_forward(Z, T, "softmax", "cross_entropy")
    return {"z1": batched.loss_backward(cache)}


def mlp_instance(rng: np.random.Generator, N: int, sizes: Sequence[int], hidden: str) -> tuple:
    """X (N, D_0), one-hot T, params and hidden; ReLU inputs at least 1e-2 away from 0."""
    while True:
        params: dict[str, np.ndarray] = {}
        for m in range(1, len(sizes)):
            params[f"W{m}"] = rng.normal(0, 1 / np.sqrt(sizes[m - 1]), (sizes[m], sizes[m - 1]))
            params[f"b{m}"] = rng.normal(0, 0.3, (sizes[m], 1))
        X = rng.normal(0, 1, (N, sizes[0]))
        T = one_hot(rng.integers(0, sizes[-1], N), sizes[-1])
        _, cache = batched.mlp_forward(X, params, _spec(params, hidden))
        pre = [cache[f"z{m}"] for m in range(1, len(sizes) - 1)]
        if hidden != "relu" or all(np.abs(z).min() >= 1e-2 for z in pre):
            return X, T, params, hidden


def _spec(params: Mapping[str, np.ndarray], hidden: str) -> MLPSpec:
    L = len(params) // 2
    sizes = [params["W1"].shape[1]] + [params[f"W{m}"].shape[0] for m in range(1, L + 1)]
    return MLPSpec(tuple(sizes), hidden, "softmax", "cross_entropy")


MLP_CASES = ((7, (5, 4, 3), "relu"), (6, (2, 6, 4, 3, 5), "relu"), (5, (3, 4, 4, 4), "relu"),
             (6, (3, 4, 2), "sigmoid"))
"""(N, sizes, hidden): an L = 2, 3 and 4 network; a square W3 so that W vs W^T shows."""


def _mlp_instances(name: str) -> Callable[[TaskContext], list[Probe]]:
    def make(ctx: TaskContext) -> list[Probe]:
        return [_given(LAYERS, name, mlp_instance(ctx.rng, N, sizes, hidden),
                       f"sizes {sizes}, {hidden}, N = {N}") for N, sizes, hidden in MLP_CASES]

    return make


def _mlp_loss_reference(probe: Probe) -> float:
    X, T, params, hidden = _args(probe)
    return batched.mlp_loss(X, T, params, _spec(params, hidden))[0]


def _mlp_grads_reference(probe: Probe) -> dict[str, np.ndarray]:
    X, T, params, hidden = _args(probe)
    _, cache = batched.mlp_loss(X, T, params, _spec(params, hidden))
    grads = batched.mlp_backward(cache)
    return {k: grads[k] for k in params}


def _mlp_context(probe: Probe) -> dict[str, Any]:
    X, T, params, hidden = _args(probe)
    return {"X": X, "T": T, "params": params, "spec": _spec(params, hidden), "level": "batched"}


def twin_instance(rng: np.random.Generator, N: int, D: int, H: int, C: int) -> tuple:
    """The notebook's ``twin_problem``: every ReLU input >= 1e-2 from 0, every unit active."""
    while True:
        params = {"W1": rng.normal(0, 1, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
                  "W2": rng.normal(0, 1, (C, H)), "b2": rng.normal(0, 0.5, (C, 1))}
        xa, xb = rng.normal(0, 1, (N, D)), rng.normal(0, 1, (N, D))
        M = np.concatenate([xa, xb]) @ params["W1"].T + params["b1"].T
        if np.abs(M).min() >= 1e-2 and (M > 0).any(axis=0).all():
            return xa, xb, one_hot(rng.integers(0, C, N), C), params


def _twin_instances(ctx: TaskContext) -> list[Probe]:
    return [_given(LAYERS, "twin_grads", twin_instance(ctx.rng, *dims), f"N, D, H, C = {dims}")
            for dims in ((5, 3, 4, 2), (6, 2, 5, 3), (4, 3, 3, 3))]


def _twin_reference(probe: Probe) -> dict[str, np.ndarray]:
    _, cache = layer_nets.twin_loss(*_args(probe))
    g = layer_nets.twin_backward(cache)
    return {k: g[k] for k in ("W1", "b1", "W2", "b2")}


def twin_mistakes(probe: Probe) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """(id, message, tensors) of the shared-weight mistakes of the twin."""
    _, cache = layer_nets.twin_loss(*_args(probe))
    branch = layer_nets.twin_branch_grads(cache)
    rule = ("W1 and b1 are used by both branches, so their gradient is the sum of the two "
            "uses' gradients (one affine_backward per use, then add)")
    out = [("shared_one_branch", f"dW1, db1 hold the gradient of the use by x_{side} only: "
            f"{rule}.", dict(branch[side])) for side in ("a", "b")]
    out.append(("shared_averaged", f"dW1, db1 are the average of the two uses: {rule}, not "
                "their mean.", {k: (branch["a"][k] + branch["b"][k]) / 2 for k in ("W1", "b1")}))
    return out


# ------------------------------------------------------------------ Part C: training


def _momentum_instances(ctx: TaskContext) -> list[Probe]:
    out = []
    for shapes in (((3, 2), (3, 1)), ((4, 4), (4, 1))):
        params = {k: ctx.rng.normal(size=s) for k, s in zip(("W1", "b1"), shapes, strict=True)}
        grads = {k: ctx.rng.normal(size=v.shape) for k, v in params.items()}
        velocity = {k: ctx.rng.normal(size=v.shape) for k, v in params.items()}
        lr, beta = float(ctx.rng.uniform(0.01, 0.5)), float(ctx.rng.uniform(0.5, 0.95))
        out.append(Probe("momentum_step", args=(params, grads, velocity, lr, beta),
                         readonly=True, label=f"lr = {lr:.3g}, beta = {beta:.3g}"))
    return out


def _momentum_reference(probe: Probe) -> tuple:
    return momentum_step(*probe.args)


def _train_instances(ctx: TaskContext) -> list[Probe]:
    X, T, params, _ = mlp_instance(ctx.rng, 13, (4, 6, 3, 3), "relu")
    seed = int(ctx.rng.integers(0, 1000))
    return [_given(TRAINING, "train_summary", (X, T, params, "relu", 0.2, 0.7, 4, 3, seed),
                   "3 epochs, batches of 4 of N = 13", readonly=True)]


def _train_reference(probe: Probe, momentum_carried: bool = True) -> dict[str, np.ndarray]:
    X, T, params, hidden, lr, beta, batch_size, epochs, seed = _args(probe)
    steps = epochs * (X.shape[0] // batch_size)
    trained, losses = train(X, T, _spec(params, hidden), lr, steps, seed=seed,
                            batch_size=batch_size, params=params,
                            momentum=beta if momentum_carried else 0.0)
    return {**{k: trained[k] for k in params}, "losses": losses}


def train_mistakes(probe: Probe) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """The trajectory of momentum with the velocity reset at every step (plain SGD)."""
    return [("momentum_not_carried", "the trajectory is that of plain gradient descent: the "
             "velocity was reset at every step; it must start at zero once and be carried to "
             "the next step and the next epoch", _train_reference(probe, momentum_carried=False))]


DIGITS_SETUP = {"hidden": "relu", "lr": 0.1, "beta": 0.9, "batch_size": 32, "epochs": 15,
                "seed": 2}
"""The notebook's DIGITS_SETUP (network 64 -> 64 -> 32 -> 10)."""


def digits_start(sizes: Sequence[int] = (64, 64, 32, 10), seed: int = 1) -> dict[str, np.ndarray]:
    """The notebook's ``digits_start``: He-initialised weights, zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for m in range(1, len(sizes)):
        params[f"W{m}"] = rng.normal(0, np.sqrt(2.0 / sizes[m - 1]), (sizes[m], sizes[m - 1]))
        params[f"b{m}"] = np.zeros((sizes[m], 1))
    return params


def digits_reference() -> dict[str, Any]:
    """The notebook's ``digits_result`` computed with the reference: losses, val accuracy."""
    X_tr, y_tr, X_va, y_va = digits_split()
    setup = DIGITS_SETUP
    params = digits_start()
    spec = _spec(params, setup["hidden"])
    trained, losses = train(X_tr, one_hot(y_tr, 10), spec, setup["lr"],
                            setup["epochs"] * (len(y_tr) // setup["batch_size"]),
                            seed=setup["seed"], batch_size=setup["batch_size"], params=params,
                            momentum=setup["beta"])
    accuracy = float(np.mean(predict(X_va, trained, spec) == y_va))
    return {"losses": losses, "val_accuracy": accuracy}


DIGITS_ACCURACY = 0.95
"""The validation accuracy Task 5.12 asks for."""


def compare_digits(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """The outcome of the digits training: one loss per step, the loss of the last epoch far
    below that of the first, and at least DIGITS_ACCURACY on the validation images."""
    trial = trials[0]
    if trial.error is not None:
        return Verdict(0.0, spec.points, f"digits_result failed: {trial.error}", "error")
    got, want = trial.got, trial.want
    try:
        losses = np.asarray(got["losses"], dtype=np.float64)
        accuracy = float(got["val_accuracy"])
    except (KeyError, TypeError, ValueError):
        return Verdict(0.0, spec.points, "digits_result did not return the losses and the "
                       "validation accuracy", "not_numeric")
    epoch = len(want["losses"]) // DIGITS_SETUP["epochs"]
    if losses.shape != want["losses"].shape or not np.all(np.isfinite(losses)):
        return Verdict(0.0, spec.points, f"losses: expected {want['losses'].shape[0]} finite "
                       f"batch losses (one per step), got shape {losses.shape}", "wrong_shape")
    parts = {"loss decreases": bool(losses[-epoch:].mean() < 0.2 * losses[:epoch].mean()),
             "validation accuracy": accuracy >= DIGITS_ACCURACY}
    if not parts["loss decreases"]:
        return Verdict(0.0, spec.points, f"the mean loss of the last epoch "
                       f"({losses[-epoch:].mean():.3g}) is not below a fifth of the first "
                       f"({losses[:epoch].mean():.3g})", "wrong_values", parts)
    if not parts["validation accuracy"]:
        return Verdict(0.0, spec.points, f"validation accuracy {accuracy:.3f} < "
                       f"{DIGITS_ACCURACY} (the reference reaches {want['val_accuracy']:.3f})",
                       "wrong_values", parts)
    return Verdict(spec.points, spec.points, f"validation accuracy {accuracy:.3f}", "", parts)


def with_mistakes(mistakes_of: Callable[[Probe], list[tuple[str, str, dict[str, np.ndarray]]]]
                  ) -> Callable[[Sequence[Trial], TaskSpec], Verdict]:
    """:func:`compare_outputs`, naming a listed mistake when the result reproduces it."""

    def compare(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
        verdict = compare_outputs(trials, spec)
        if verdict.score == spec.points:
            return verdict
        for trial in trials:
            if trial.error is None and isinstance(trial.got, Mapping):
                for mistake, text, tensors in mistakes_of(trial.probe):
                    if matches(trial.got, trial.want, tensors, spec.tol):
                        return Verdict(0.0, spec.points, f"{trial.probe.label}: {text}", mistake,
                                       verdict.parts, verdict.error_measure)
        return verdict

    return compare


_GRADS = gradient_compare(_mlp_context)

TASKS = [
    TaskSpec("t5_1_tests_arith", 1, ("Value", "op_result"), _op_instances(ARITH_OPS),
             _op_reference, tol=1e-9),
    TaskSpec("t5_1_tests_unary", 2, ("Value", "op_result"), _op_instances(UNARY_OPS),
             _op_reference, tol=1e-9),
    TaskSpec("t5_2_tests_order", 1, ("backward", "run_backward"), _backward_instances(1),
             _backward_reference, compare=compare_order),
    TaskSpec("t5_2_tests_grads", 1, ("backward", "run_backward"), _backward_instances(1),
             _backward_reference, compare=compare_backward_grads, tol=1e-9),
    TaskSpec("t5_2_tests_reset", 1, ("backward", "run_backward"), _backward_instances(2),
             _backward_reference, compare=compare_reset, tol=1e-9),
    TaskSpec("t5_3_tests", 1, ("practice_grads",), _practice_instances, _practice_reference,
             tol=1e-9),
    TaskSpec("t5_4_tests", 1, ("bias_free_root", "bias_free_grads"), _bias_free_instances,
             _bias_free_reference, tol=1e-8),
    TaskSpec("t5_5_tests", 1, ("count_local_uses", "count_on_spec"), _count_instances,
             _count_reference, tol=0.0),
    TaskSpec("t5_7_tests_affine_forward", 1, ("affine_forward",), _affine_forward_instances,
             _affine_forward_reference, tol=1e-12),
    TaskSpec("t5_7_tests_affine_backward", 1, ("affine_backward",), _affine_backward_instances,
             _affine_backward_reference, compare=_as_dict(("a_prev", "W", "b"),
                                                          gradient_compare())),
    TaskSpec("t5_7_tests_relu", 1, ("relu_forward", "relu_backward", "relu_pair"),
             _activation_instances("relu_pair"), _activation_reference, tol=1e-12),
    TaskSpec("t5_7_tests_sigmoid", 1, ("sigmoid_forward", "sigmoid_backward", "sigmoid_pair"),
             _activation_instances("sigmoid_pair"), _activation_reference, tol=1e-10),
    TaskSpec("t5_7_tests_sce_forward", 1, ("softmax_cross_entropy_forward",),
             _sce_instances("softmax_cross_entropy_forward"), _sce_forward_reference, tol=1e-10),
    TaskSpec("t5_7_tests_sce_backward", 1, ("softmax_cross_entropy_backward", "sce_backward_of"),
             _sce_instances("sce_backward_of"), _sce_backward_reference,
             compare=_as_dict(("z1",), gradient_compare())),
    TaskSpec("t5_8_tests_loss", 1, ("mlp_loss_grads", "mlp_loss_only"),
             _mlp_instances("mlp_loss_only"), _mlp_loss_reference, tol=1e-9),
    TaskSpec("t5_8_tests_grads", 2, ("mlp_loss_grads", "mlp_grads"), _mlp_instances("mlp_grads"),
             _mlp_grads_reference, compare=_GRADS),
    TaskSpec("t5_9_tests", 2, ("twin_loss_grads", "twin_grads"), _twin_instances, _twin_reference,
             compare=gradient_compare(mistakes_of=twin_mistakes)),
    TaskSpec("t5_10_tests", 1, ("momentum_step",), _momentum_instances, _momentum_reference,
             tol=1e-12),
    TaskSpec("t5_11_tests", 1, ("train_sgd", "train_summary"), _train_instances,
             _train_reference, compare=with_mistakes(train_mistakes), tol=1e-9),
    TaskSpec("t5_12_tests", 1, ("train_sgd", "digits_result"),
             lambda ctx: [_given(TRAINING, "digits_result", (), "the digits, DIGITS_SETUP")],
             lambda probe: digits_reference(), compare=compare_digits),
]
"""Every autograded code cell of ps5 whose verdict the trusted grader decides."""


# ------------------------------------------------------------------ synthetic submissions

_BACKWARD_MUTANTS = {
    "grad_assigned": [("parent.grad += d * node.grad", "parent.grad = d * node.grad")],
    "grad_not_reset": [("    for node in order:\n        node.grad = 0.0\n", "")],
    "visited_before_consumers": [(
        "    visited = order[::-1]\n    for node in visited:\n"
        "        for parent, d in zip(node.parents, node.local, strict=True):\n"
        "            parent.grad += d * node.grad\n",
        "    visited, queue, seen = [], [root], set()\n    while queue:\n"
        "        node = queue.pop(0)\n        if id(node) in seen:\n            continue\n"
        "        seen.add(id(node))\n        visited.append(node)\n"
        "        for parent, d in zip(node.parents, node.local, strict=True):\n"
        "            parent.grad += d * node.grad\n            queue.append(parent)\n")],
}

_TWIN_MUTANTS = {
    "shared_one_branch": [('"W1": dW1a + dW1b, "b1": db1a + db1b', '"W1": dW1a, "b1": db1a')],
    "shared_averaged": [('"W1": dW1a + dW1b, "b1": db1a + db1b',
                         '"W1": (dW1a + dW1b) / 2, "b1": (db1a + db1b) / 2')],
}

CORRECT_BACKWARD_ITERATIVE = '''\
def topological_order(root):
    """Kahn's algorithm on the consumers' counts: a node comes after all its parents."""
    nodes, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(node.parents)
    users = {id(n): 0 for n in nodes}
    for n in nodes:
        for p in n.parents:
            users[id(p)] += 1
    ready, backwards = [root], []
    while ready:
        node = ready.pop()
        backwards.append(node)
        for p in node.parents:
            users[id(p)] -= 1
            if users[id(p)] == 0:
                ready.append(p)
    return backwards[::-1]


def backward(root):
    """Reset, seed, then one pass in reverse topological order."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for i, parent in enumerate(node.parents):
            parent.grad = parent.grad + node.local[i] * node.grad
    return order[::-1]
'''

_CELL_MUTANTS = {
    "mistake_sce_minibatch_not_averaged": ("t5_7_answer", [
        ("    return (P - T) / P.shape[0]", "    return P - T")]),
    "mistake_affine_bias_not_summed": ("t5_7_answer", [
        ("dZ.sum(axis=0, keepdims=True).T", "dZ.T")]),
    "mistake_momentum_not_carried": ("t5_11_answer", [(
        "            theta, velocity = momentum_step(theta, grads, velocity, lr, beta)",
        "            theta, velocity = momentum_step(theta, grads, {k: np.zeros_like(v) for k, "
        "v in theta.items()}, lr, beta)")]),
    "mistake_mlp_no_activation_derivative": ("t5_8_answer", [(
        "            dZ = act_backward(dA, caches[m - 2][1])", "            dZ = dA")]),
    "mistake_ops_tanh_derivative": ("t5_1_answer", [("(1.0 - th * th,)", "(1.0 - th,)")]),
}
"""Mistake example -> (answer cell, edits of its model solution)."""


def _examples() -> dict[str, dict[str, str]]:
    """The synthetic submissions, made from the notebook's model solutions on first use."""
    return {
        **{f"mistake_backward_{bug}": mutant_cell(ASSIGNMENT, "t5_2_answer", edits)
           for bug, edits in _BACKWARD_MUTANTS.items()},
        "correct_backward_iterative": {"t5_2_answer": CORRECT_BACKWARD_ITERATIVE},
        **{f"mistake_twin_{bug}": mutant_cell(ASSIGNMENT, "t5_9_answer", edits)
           for bug, edits in _TWIN_MUTANTS.items()},
        **{name: mutant_cell(ASSIGNMENT, cell, edits)
           for name, (cell, edits) in _CELL_MUTANTS.items()},
    }


EXAMPLES: Mapping[str, dict[str, str]] = Lazy(_examples)
"""Synthetic submissions: ``correct_*`` earn every point, ``mistake_*`` lose the cells below."""

EXPECTED: dict[str, dict[str, str]] = {
    "mistake_backward_grad_assigned": {"t5_2_tests_grads": "grad_assigned"},
    "mistake_backward_grad_not_reset": {"t5_2_tests_reset": "grad_not_reset"},
    "mistake_backward_visited_before_consumers": {
        "t5_2_tests_order": "visited_before_consumers",
        "t5_2_tests_grads": "visited_before_consumers"},
    "mistake_twin_shared_one_branch": {"t5_9_tests": "shared_one_branch"},
    "mistake_twin_shared_averaged": {"t5_9_tests": "shared_averaged"},
    "mistake_sce_minibatch_not_averaged": {"t5_7_tests_sce_backward": "missing_1_over_n"},
    "mistake_affine_bias_not_summed": {"t5_7_tests_affine_backward": "bias_not_summed"},
    "mistake_momentum_not_carried": {"t5_11_tests": "momentum_not_carried"},
    "mistake_mlp_no_activation_derivative": {"t5_8_tests_grads": ""},
    "mistake_ops_tanh_derivative": {"t5_1_tests_unary": ""},
}
"""mistake example -> {grade cell that must fail: expected ``Verdict.diagnosis``}; "" means any
diagnosis. Every other cell keeps its points: the later tasks are judged with the model
solutions of the earlier ones (no cascade), which ``tests/course/test_ps5.py`` checks."""
