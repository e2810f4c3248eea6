"""Every catalogued mistake injected via the mutants is named; correct gradients never are."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backprop_ref import batched
from backprop_ref.diagnose import diagnose, diagnose_backward
from backprop_ref.gradcheck import mlp_loss_fn
from backprop_ref.mutants import (
    BUGS,
    FUNCTION_BUGS,
    AccumulatingBackward,
    applicable,
    backward_modifying_cache,
    mlp_loss_overwriting_cache,
    mutant_backward,
)
from backprop_ref.spec import MLPSpec
from coursekit import diagnose as ck_diagnose
from coursekit.diagnose import MISTAKES, Diagnosis
from coursekit.gradcheck import numerical_gradient
from tests.backprop_ref.gc_cases import SPECS, make_case, param_part

SEEDS = range(20)
CODE = re.compile(r"@|\.T\b|\.sum\(|axis\s*=|np\.|keepdims|reshape\(|\+=")


def _cases(level):
    return [(bug, name) for bug in BUGS for name in sorted(SPECS)
            if applicable(bug, SPECS[name], level)]


def _check_message(d: Diagnosis) -> None:
    assert d.mistake in MISTAKES
    assert not CODE.search(d.message), d.message


def test_catalogue_covers_the_issue():
    needed = {"transposed", "missing_1_over_n", "averaged_twice", "bias_not_summed",
              "bias_wrong_axis", "missing_activation_derivative", "derivative_at_activation",
              "sign_flip", "factor_2", "w_not_transposed", "broadcast_nn", "accumulates",
              "cache_modified", "forward_overwrote_cache"}
    assert needed <= set(BUGS) | set(FUNCTION_BUGS)
    assert set(BUGS) | set(FUNCTION_BUGS) <= set(MISTAKES)
    for bug in BUGS:
        assert any(applicable(bug, spec) for spec in SPECS.values()), bug


@pytest.mark.parametrize(("bug", "name"), _cases("batched"))
def test_batched_mutant_is_named(bug, name):
    spec = SPECS[name]
    for seed in SEEDS:
        case = make_case(spec, seed)
        ref, cache = case["grads"], case["cache"]
        bad = mutant_backward(cache, bug)
        context = {"cache": cache}
        full = diagnose(bad, ref, context=context)
        params_only = diagnose(param_part(bad, spec), param_part(ref, spec), context=context)
        for d in (full, params_only):
            assert not d.ok and d.mistake == bug, (seed, d)
            assert d.tensor is not None and d.tensor in ref
            _check_message(d)


@pytest.mark.parametrize(("bug", "name"), _cases("vector"))
def test_vector_mutant_is_named(bug, name):
    spec = SPECS[name]
    for seed in SEEDS:
        case = make_case(spec, seed, level="vector")
        bad = mutant_backward(case["cache"], bug, level="vector")
        d = diagnose(bad, case["grads"], context={"cache": case["cache"], "level": "vector"})
        assert d.mistake == bug, (seed, d)
        _check_message(d)


@pytest.mark.parametrize(("bug", "name"), _cases("batched"))
def test_diagnosis_against_finite_differences(bug, name):
    spec = SPECS[name]
    for seed in range(3):
        case = make_case(spec, seed)
        f = mlp_loss_fn(case["X"], case["T"], case["params"], spec)
        fd = {k: numerical_gradient(f, case["params"][k]) for k in spec.param_names()}
        bad = param_part(mutant_backward(case["cache"], bug), spec)
        d = diagnose(bad, fd, context={"cache": case["cache"]})
        assert d.mistake == bug, (seed, d)
        assert diagnose(param_part(case["grads"], spec), fd, context={"cache": case["cache"]}).ok


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("level", ["batched", "vector"])
def test_correct_gradients_are_never_flagged(name, level):
    spec = SPECS[name]
    for seed in range(40):
        case = make_case(spec, 100 + seed, level=level)
        ref = case["grads"]
        same = {k: v.copy() for k, v in ref.items()}
        d = diagnose(same, ref, context={"cache": case["cache"], "level": level})
        assert d.ok and d.mistake == "correct" and d.tensor is None, d
        assert ck_diagnose.diagnose(param_part(same, spec), param_part(ref, spec)).ok
        if level == "batched":
            recomputed = batched.mlp_backward(batched.mlp_loss(case["X"], case["T"],
                                                               case["params"], spec)[1])
            assert diagnose(recomputed, ref, context={"cache": case["cache"]}).ok


def test_correct_code_passes_function_level_checks():
    for name in sorted(SPECS):
        case = make_case(SPECS[name], 7)
        args = (case["X"], case["T"], case["params"], case["spec"])
        d = diagnose_backward(batched.mlp_backward, lambda a=args: batched.mlp_loss(*a)[1])
        assert d.ok, (name, d)


@pytest.mark.parametrize("name", ["relu_ce", "sigmoid_half_se", "deep_bce"])
def test_function_level_mutants_are_named(name):
    spec = SPECS[name]
    for seed in range(5):
        case = make_case(spec, seed)
        args = (case["X"], case["T"], case["params"], spec)

        def fresh(a=args):
            return batched.mlp_loss(*a)[1]

        def aliased(a=args):
            return mlp_loss_overwriting_cache(*a)[1]

        found = [diagnose_backward(AccumulatingBackward(), fresh),
                 diagnose_backward(backward_modifying_cache, fresh),
                 diagnose_backward(batched.mlp_backward, aliased)]
        assert [d.mistake for d in found] == ["accumulates", "cache_modified",
                                              "forward_overwrote_cache"], found
        assert found[1].tensor is not None and found[2].tensor == "z1"
        for d in found:
            _check_message(d)


def test_write_that_leaves_values_unchanged_is_caught_by_read_only_cache(small_case):
    args = tuple(small_case[k] for k in ("X", "T", "params", "spec"))

    def sneaky(cache):
        cache["z1"] *= 1.0
        return batched.mlp_backward(cache)

    d = diagnose_backward(sneaky, lambda: batched.mlp_loss(*args)[1])
    assert d.mistake == "cache_modified" and "read-only" in d.message


def test_rules_without_context():
    ref = {"W2": np.arange(1.0, 13.0).reshape(3, 4), "b2": np.array([[1.0], [-2.0], [0.5]])}
    assert ck_diagnose.diagnose(ref, ref).ok
    cases = {
        "missing_tensor": {"W2": ref["W2"]},
        "not_numeric": dict(ref, b2=None),
        "int_dtype": dict(ref, W2=ref["W2"].astype(int)),
        "non_finite": dict(ref, b2=ref["b2"] * np.inf),
        "flat_shape": dict(ref, b2=ref["b2"].ravel()),
        "transposed": dict(ref, W2=ref["W2"].T),
        "sign_flip": {k: -v for k, v in ref.items()},
        "one_tensor_wrong": dict(ref, W2=ref["W2"] + np.eye(3, 4)),
    }
    for mistake, cand in cases.items():
        d = ck_diagnose.diagnose(cand, ref)
        assert d.mistake == mistake and not d.ok, (mistake, d)
        _check_message(d)
    d = ck_diagnose.diagnose({"W2": ref["W2"] * 1.1 + 0.3}, {"W2": ref["W2"]})
    assert d.mistake == "wrong_values", d
    d = ck_diagnose.diagnose({k: v / 2 for k, v in ref.items()}, ref, loss="squared_error")
    assert d.mistake == "factor_2" and "square" in d.message
    d = ck_diagnose.diagnose(dict(ref, b2=ref["b2"] * 7), ref, n=7)
    assert d.mistake == "missing_1_over_n" and d.tensor == "b2" and "Only db2" in d.message
    d = ck_diagnose.diagnose(dict(ref, b2=ref["b2"] / 5), ref, n=5)
    assert d.mistake == "averaged_twice" and "1/5" in d.message


def test_square_transpose_and_localisation_rules():
    spec = MLPSpec((7, 4, 4), "tanh", "identity", "half_squared_error")
    case = make_case(spec, 0)
    ref = case["grads"]
    d = ck_diagnose.diagnose(dict(ref, W2=ref["W2"].T.copy()), ref)
    assert d.mistake == "transposed" and d.tensor == "W2"
    wrong_z = dict(ref, z1=ref["z1"] * 1.3 + 0.1, W1=ref["W1"] + 1.0)
    d = ck_diagnose.diagnose(wrong_z, ref)
    assert d.mistake == "activation_derivative" and d.tensor == "z1"
    wrong_a = dict(ref, a1=ref["a1"] + 0.1, z1=ref["z1"] + 0.1)
    assert ck_diagnose.diagnose(wrong_a, ref).mistake == "propagation"
    params = param_part(ref, spec)
    d = ck_diagnose.diagnose(dict(params, W1=params["W1"] + 0.1, b1=params["b1"] - 0.1), params)
    assert d.mistake == "downstream" and d.tensor == "W1"
    d = ck_diagnose.diagnose({k: v + 0.1 for k, v in params.items()}, params)
    assert d.mistake == "output_gradient" and "relative error" in d.message


def test_single_tensor_calls_with_d_prefixed_names():
    rng = np.random.default_rng(0)
    dz = rng.normal(size=(5, 3))
    db = dz.sum(axis=0, keepdims=True).T
    d = ck_diagnose.diagnose({"db": dz.T}, {"db": db})
    assert d.mistake == "bias_not_summed" and "db has shape (3, 5)" in d.message
    d = ck_diagnose.diagnose({"db2": dz.sum(axis=1)}, {"db2": db})
    assert d.mistake == "bias_wrong_axis" and "db2" in d.message
    dW = rng.normal(size=(3, 4))
    d = ck_diagnose.diagnose({"dW": dW.T}, {"dW": dW})
    assert d.mistake == "transposed" and d.message.startswith("dW has shape (4, 3)")
    d = ck_diagnose.diagnose({"dZ1": -dz}, {"dZ1": dz})
    assert d.mistake == "sign_flip" and d.message.startswith("dZ1 is")


def test_context_from_inputs_instead_of_cache(small_case):
    spec = small_case["spec"]
    context = {k: small_case[k] for k in ("X", "T", "params", "spec")}
    bad = mutant_backward(small_case["cache"], "missing_activation_derivative")
    d = diagnose(param_part(bad, spec), param_part(small_case["grads"], spec), context=context)
    assert d.mistake == "missing_activation_derivative" and d.tensor == "W1"
    assert "layer 1" in d.message and "active" in d.message
