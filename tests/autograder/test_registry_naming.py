"""Scalar-graph mistakes (ps1 Tasks 1.1-1.4) are named only when a mutant reproduces the
student's partials: factor 2, sigma' at the activation, a missing path, a missing ReLU mask,
the BCE derivative without its t = 0 branch; look-alikes get no name."""

from __future__ import annotations

import math

import numpy as np

from autograder.registry import ps1
from autograder.registry.common import partials_compare, paths_compare, variables_compare
from autograder.tasks import Probe, TaskContext, TaskSpec, Trial
from backprop_ref import scalar, vector
from backprop_ref.mutants import Q1_BUGS, Q3_BUGS, path_terms, q1_mutant, q3_mutant
from coursekit.gradcheck import NUMBER_TOL

SPEC = TaskSpec("t", 2, ("f",), lambda ctx: [], lambda probe: None, tol=NUMBER_TOL)


def _q1_trials(student_fn):
    probes = ps1._q1_instances(TaskContext("c", "ps1", "s", 3, np.random.default_rng(3)))
    return [Trial(p, ps1._q1_reference(p), {k: float(v) for k, v in student_fn(*p.args).items()},
                  None) for p in probes]


def _q1_compare():
    return partials_compare(lambda p, bug, v: q1_mutant(*p.args, bug, v), Q1_BUGS)


def _q1_variant(dy_factor=1.0, at_activation=False, dx=None, dz_scale=1.0):
    def backward(w, x, b, t):
        fw = scalar.q1_forward(w, x, b, t)
        dy = dy_factor * (fw["y"] - t)
        at = math.tanh(fw["z"]) if at_activation else fw["z"]
        dz = dy * (1.0 - math.tanh(at) ** 2) * dz_scale
        out = {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy + dz * w}
        if dx == "no_direct":
            out["x"] = dz * w
        elif dx == "off":
            out["x"] = 0.5 * dy + dz * w
        return out
    return backward


def test_q1_mistakes_named_when_reproduced():
    compare = _q1_compare()
    for fn, bug in ((_q1_variant(dy_factor=2.0), "factor_2"),
                    (_q1_variant(at_activation=True), "derivative_at_activation"),
                    (_q1_variant(dx="no_direct"), "missing_path")):
        v = compare(_q1_trials(fn), SPEC)
        assert (v.score, v.diagnosis) == (0.0, bug), v


def test_q1_look_alikes_are_not_named():
    compare = _q1_compare()
    assert compare(_q1_trials(scalar.q1_backward), SPEC).score == SPEC.points
    # a factor 3 (no squared-error factor), a wrong dz scale, a wrong dx that is not one path
    for fn in (_q1_variant(dy_factor=3.0), _q1_variant(dz_scale=0.5), _q1_variant(dx="off")):
        v = compare(_q1_trials(fn), SPEC)
        assert v.score == 0 and v.diagnosis not in Q1_BUGS, v


def _q3_trials(bug=None, scale=1.0):
    ctx = TaskContext("c", "ps1", "s", 5, np.random.default_rng(5))
    probes = ps1._q3_instances("q3_backward")(ctx)
    out = []
    for p in probes:
        got = q3_mutant(*p.args, bug) if bug else scalar.q3_backward(*p.args)
        out.append(Trial(p, ps1._q3_backward_reference(p),
                         {k: v * (scale if k != "L" else 1.0) for k, v in got.items()}, None))
    return out


def test_q3_mistakes_named_when_reproduced():
    compare = partials_compare(lambda p, bug, v: q3_mutant(*p.args, bug) if v == 0 else None,
                               Q3_BUGS)
    for bug in Q3_BUGS:
        v = compare(_q3_trials(bug), SPEC)
        assert (v.score, v.diagnosis) == (0.0, bug), v
        assert v.message.startswith("case ")
    v = compare(_q3_trials(None, scale=2.0), SPEC)  # twice everywhere, BCE cases too
    assert v.score == 0 and v.diagnosis not in Q3_BUGS, v
    assert compare(_q3_trials(), SPEC).score == SPEC.points


def test_q1_variables_named_from_the_students_numbers():
    def partials_of(student, bug, variant):
        return q1_mutant(**ps1._q1_numbers(student), bug=bug, variant=variant)

    compare = variables_compare(partials_of, lambda n: n.removeprefix("dL_d"), Q1_BUGS)
    names = ("dL_dw", "dL_db", "dL_dx")

    def trials(values):
        return [Trial(Probe(n, call=False, kwargs={"student": "bob"}, label=n),
                      ps1._q1_value(Probe(n, kwargs={"student": "bob"})), values[n], None)
                for n in names]

    right = {n: ps1._q1_value(Probe(n, kwargs={"student": "bob"})) for n in names}
    no_direct = dict(right, dL_dx=partials_of("bob", "missing_path", 0)["x"])
    assert compare(trials(no_direct), SPEC).diagnosis == "missing_path"
    doubled = {n: 2 * v for n, v in right.items()}
    assert compare(trials(doubled), SPEC).diagnosis == "factor_2"
    tripled = {n: 3 * v for n, v in right.items()}
    assert compare(trials(tripled), SPEC).diagnosis not in Q1_BUGS
    assert compare(trials(right), SPEC).score == SPEC.points


def test_path_terms_sum_to_the_partial_and_a_subset_is_a_missing_path():
    params, x, t = ps1.net3_numbers("carol")
    _, cache = vector.mlp_loss(x, np.array([[t]]), params, ps1.NET3_SPEC)
    terms = path_terms(cache, 1, 1, 2)
    assert len(terms) == 2
    assert math.isclose(sum(terms), ps1._net3_grads("carol")["W1"][1, 2], rel_tol=1e-12)
    compare = paths_compare(lambda s: terms, "n_paths_W1_23", "dC_dW1_23")

    def trials(n, value):
        kw = {"student": "carol"}
        return [Trial(Probe("n_paths_W1_23", call=False, kwargs=kw), 2, n, None),
                Trial(Probe("dC_dW1_23", call=False, kwargs=kw), sum(terms), value, None)]

    assert compare(trials(1, terms[0]), SPEC).diagnosis == "missing_path"
    assert compare(trials(2, terms[1]), SPEC).diagnosis == "missing_path"
    v = compare(trials(2, 1.5 * sum(terms)), SPEC)  # wrong, but not a subset of the paths
    assert v.score == 0 and v.diagnosis != "missing_path", v
    v = compare(trials(3, sum(terms)), SPEC)  # an over-count is not a missing path
    assert v.score == 0 and v.diagnosis != "missing_path", v
    assert compare(trials(2, sum(terms)), SPEC).score == SPEC.points


def _step_trials(loops_fn, vec_fn):
    from autograder.registry import ps2

    ctx = TaskContext("c", "ps2", "s", 4, np.random.default_rng(4))
    out = []
    for p in ps2._step_instances(ctx):
        fn = loops_fn if p.name == "backward_step_loops" else vec_fn
        try:
            got, err = fn(*p.args), None
        except ValueError as exc:
            got, err = None, f"ValueError: {exc}"
        out.append(Trial(p, ps2._step_reference(p), got, err))
    return out


def test_backward_step_mistakes_named_by_their_mutants():
    from autograder.registry.common import mutant_compare
    from backprop_ref.mutants import STEP_BUGS, step_mutant

    compare = mutant_compare(lambda p, bug: step_mutant(*p.args, bug), STEP_BUGS)
    right = lambda W, dz, f: f * (W.T @ dz)  # noqa: E731
    no_t = lambda W, dz, f: f * (W @ dz)  # noqa: E731
    no_f = lambda W, dz, f: W.T @ dz  # noqa: E731
    assert compare(_step_trials(right, right), SPEC).score == SPEC.points
    v = compare(_step_trials(right, no_t), SPEC)
    assert v.diagnosis == "w_not_transposed" and "backward_step_vec" in v.message, v
    v = compare(_step_trials(no_f, right), SPEC)
    assert v.diagnosis == "missing_activation_derivative", v
    # look-alikes: a wrong scale, and a crash on every case, are not named
    v = compare(_step_trials(right, lambda W, dz, f: 2 * f * (W.T @ dz)), SPEC)
    assert v.score == 0 and v.diagnosis not in STEP_BUGS, v

    def crash(W, dz, f):
        raise ValueError("always")

    v = compare(_step_trials(right, crash), SPEC)
    assert v.score == 0 and v.diagnosis not in STEP_BUGS, v


def test_skip_network_mistakes_named_on_every_cell_that_sees_them():
    from autograder.registry.common import gradient_compare
    from backprop_ref.mutants import SKIP_TEXT, skip_mistakes, skip_mutant
    from backprop_ref.vector_nets import init_skip_params, skip_backward, skip_loss

    rng = np.random.default_rng(2)
    params = init_skip_params(3, 3, 3, 3, rng)
    x, t = rng.normal(size=(3, 1)), np.eye(3)[:, [1]]
    _, cache = skip_loss(x, t, params)
    ref = skip_backward(cache)
    probe = Probe("skip_backward", args=(x, t, params), label="case 1")
    compare = gradient_compare(mistakes_of=lambda p: skip_mistakes(*p.args))
    cells = {"upper": ("W3", "b3", "z3", "h2"), "lower": ("W1", "b1", "z1", "h1"),
             "x": ("x",), "all": tuple(ref)}
    for bug in SKIP_TEXT:
        got = skip_mutant(cache, bug)
        for cell, keys in cells.items():
            want = {k: ref[k] for k in keys}
            differs = any(not np.allclose(got[k], ref[k]) for k in keys)
            v = compare([Trial(probe, want, {k: got[k] for k in keys}, None)], SPEC)
            if differs:
                assert v.diagnosis == bug, (bug, cell, v)
            else:
                assert v.score == SPEC.points, (bug, cell, v)
    # look-alike: dz3 three times too large is not the factor-2 mistake
    got = {k: 3 * v for k, v in ref.items()}
    v = compare([Trial(probe, ref, got, None)], SPEC)
    assert v.diagnosis not in SKIP_TEXT, v


def test_twin_product_swapped_named_on_the_shared_cell_too():
    from autograder.registry.common import gradient_compare
    from backprop_ref.mutants import twin_product_swapped
    from backprop_ref.vector_nets import init_twin_params, twin_backward, twin_loss

    rng = np.random.default_rng(6)
    params = init_twin_params(3, 3, rng)
    xa, xb = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    _, cache = twin_loss(xa, xb, 1.0, params)
    ref = twin_backward(cache)
    [(bug, _, swapped)] = twin_product_swapped(xa, xb, 1.0, params)
    probe = Probe("twin_backward", args=(xa, xb, 1.0, params), label="case 1")
    compare = gradient_compare(mistakes_of=lambda p: twin_product_swapped(*p.args))
    shared = ("W1", "b1", "m_a", "m_b")
    v = compare([Trial(probe, {k: ref[k] for k in shared}, {k: swapped[k] for k in shared},
                       None)], SPEC)
    assert v.diagnosis == bug, v
    other = {k: ref[k] * 1.2 for k in shared}  # look-alike: wrong, but not the swap
    v = compare([Trial(probe, {k: ref[k] for k in shared}, other, None)], SPEC)
    assert v.score == 0 and v.diagnosis != bug, v
