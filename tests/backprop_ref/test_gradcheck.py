"""Full and directional gradient checks (backprop_ref.gradcheck); kink-safe sampling; failure
messages; the fast check agrees with both (its own tests: test_gradcheck_fast.py); what the
student-side coursekit.gradcheck ships."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from backprop_ref import batched, gradcheck_fast
from backprop_ref import gradcheck as ref_gradcheck
from backprop_ref.gradcheck import (
    DIRECTIONAL_TOL,
    as_float64,
    assert_gradients,
    check_gradients,
    compare_gradients,
    directional_check,
    kink_free,
    kink_free_instance,
    mlp_loss_fn,
    relu_signs_fn,
)
from backprop_ref.gradcheck_fast import fast_full_check, fast_numerical_gradients
from backprop_ref.spec import MLPSpec
from coursekit import gradcheck as student_gradcheck
from coursekit.gradcheck import DEFAULT_H, PASS_TOL, numerical_gradient, rel_error
from tests.backprop_ref.gc_cases import SPECS, make_case

REPO = Path(__file__).resolve().parents[2]


def test_pass_rule_constants():
    assert PASS_TOL == 1e-6 and DEFAULT_H == 1e-5 and DIRECTIONAL_TOL == 1e-5


def test_coursekit_gradcheck_ships_only_what_the_student_side_uses():
    """Every public name of the shipped checker is used by a notebook, the lab or another
    coursekit module; the instructor's checks stay in backprop_ref."""
    users = [*REPO.glob("source/*/*.ipynb"), REPO / "lab" / "lab.ipynb",
             *(p for p in (REPO / "coursekit").rglob("*.py") if p.name != "gradcheck.py")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in users)
    for name in student_gradcheck.__all__:
        assert re.search(rf"\b{name}\b", text), f"coursekit.gradcheck.{name} is unused"
    public = {n for n in vars(student_gradcheck) if not n.startswith("_") and n.isidentifier()}
    assert public - {"annotations", "np", "Callable"} == set(student_gradcheck.__all__)


def test_backprop_ref_checkers_export_only_their_own_names():
    for module in (ref_gradcheck, gradcheck_fast):
        for name in module.__all__:
            obj = getattr(module, name)
            assert getattr(obj, "__module__", module.__name__) == module.__name__, name


@pytest.mark.parametrize("name", sorted(SPECS))
def test_full_fast_and_directional_agree_on_correct_gradients(name):
    case = make_case(SPECS[name], seed=3)
    X, T, params, spec = case["X"], case["T"], case["params"], case["spec"]
    grads = {k: case["grads"][k] for k in spec.param_names()}
    f = mlp_loss_fn(X, T, params, spec)
    full = check_gradients(f, params, grads, kinks=relu_signs_fn(X, params, spec))
    fast = fast_full_check(X, T, params, spec, grads)
    direct = directional_check(f, params, grads, k=8, seed=1)
    assert full.ok and fast.ok and direct.ok, (full.message(), fast.message(), direct.message())
    numeric_fast = fast_numerical_gradients(X, T, params, spec)
    for k in spec.param_names():
        slow = numerical_gradient(f, params[k])
        assert rel_error(numeric_fast[k], slow) < 1e-8
        assert full.tensors[k].error < 1e-8 and full.tensors[k].skipped == 0


def test_checks_restore_parameters_exactly(small_case):
    params, spec = small_case["params"], small_case["spec"]
    before = {k: v.copy() for k, v in params.items()}
    f = mlp_loss_fn(small_case["X"], small_case["T"], params, spec)
    check_gradients(f, params, small_case["grads"], names=spec.param_names())
    directional_check(f, params, small_case["grads"], names=spec.param_names())
    for k in before:
        assert np.array_equal(params[k], before[k])


def test_all_three_checks_catch_one_wrong_entry(small_case):
    X, T, params, spec = (small_case[k] for k in ("X", "T", "params", "spec"))
    grads = {k: small_case["grads"][k].copy() for k in spec.param_names()}
    grads["W1"][2, 5] *= 1.5
    f = mlp_loss_fn(X, T, params, spec)
    full = check_gradients(f, params, grads)
    fast = fast_full_check(X, T, params, spec, grads)
    direct = directional_check(f, params, grads)
    for report in (full, fast, direct):
        assert report.failed == ["W1"], report.message()
    assert full.tensors["W1"].worst[0][0] == (2, 5)
    assert fast.tensors["W1"].worst[0][0] == (2, 5)


def test_failing_assert_names_tensor_entries_and_tolerance(small_case):
    X, T, params, spec = (small_case[k] for k in ("X", "T", "params", "spec"))
    grads = {k: small_case["grads"][k].copy() for k in spec.param_names()}
    expected = grads["b2"][1, 0]
    grads["b2"][1, 0] += 0.25
    with pytest.raises(AssertionError) as info:
        assert_gradients(mlp_loss_fn(X, T, params, spec), params, grads)
    text = str(info.value)
    assert "b2" in text and "W1" not in text and "W2" not in text
    assert "(1, 0)" in text and f"{expected + 0.25:.6g}" in text and f"{expected:.6g}" in text
    assert "1e-06" in text
    with pytest.raises(AssertionError, match="b2"):
        assert_gradients(mlp_loss_fn(X, T, params, spec), params, grads, method="directional")


def test_assert_passes_and_rejects_non_numeric(small_case):
    X, T, params, spec = (small_case[k] for k in ("X", "T", "params", "spec"))
    grads = {k: small_case["grads"][k] for k in spec.param_names()}
    report = assert_gradients(mlp_loss_fn(X, T, params, spec), params, grads)
    assert report.ok and max(t.error for t in report.tensors.values()) < 1e-8
    bad = dict(grads, W2=np.array([["a"] * 4] * 3))
    with pytest.raises(AssertionError, match="W2: W2 must hold real numbers"):
        assert_gradients(mlp_loss_fn(X, T, params, spec), params, bad)
    with pytest.raises(TypeError):
        as_float64(None)
    with pytest.raises(TypeError):
        as_float64(np.array([1 + 2j]))
    assert as_float64([1, 2]).dtype == np.float64


def test_compare_gradients_reports_shape_and_non_finite_problems():
    ref = {"W1": np.ones((3, 4)), "b1": np.ones((3, 1)), "W2": np.ones((2, 3))}
    got = {"W1": np.ones((4, 3)), "b1": np.full((3, 1), np.nan)}
    report = compare_gradients(got, ref)
    assert report.failed == ["W1", "b1", "W2"]
    text = report.message()
    assert "shape (4, 3), expected (3, 4)" in text and "NaN" in text and "missing" in text


@pytest.mark.slow
def test_directional_check_catches_one_percent_error_in_one_bias_of_784_256_10():
    spec = MLPSpec((784, 256, 10), "relu", "softmax", "cross_entropy")
    X, T, params = kink_free_instance(spec, 64, seed=0)
    _, cache = batched.mlp_loss(X, T, params, spec)
    ref = batched.mlp_backward(cache)
    grads = {k: ref[k] for k in spec.param_names()}
    f = mlp_loss_fn(X, T, params, spec)
    clean = directional_check(f, params, grads, k=8, seed=0)
    assert clean.ok, clean.message()
    for bias in ("b1", "b2"):
        wrong = dict(grads, **{bias: grads[bias] * 1.01})
        report = directional_check(f, params, wrong, k=8, seed=0)
        assert report.failed == [bias], report.message()
        assert report.tensors[bias].error > 100 * DIRECTIONAL_TOL


def test_kink_free_instance_keeps_relu_preactivations_away_from_zero():
    spec = MLPSpec((784, 256, 10), "relu", "softmax", "cross_entropy")
    X, _, params = kink_free_instance(spec, 64, seed=2, margin=1e-2)
    _, cache = batched.mlp_forward(X, params, spec)
    assert np.min(np.abs(cache["z1"])) > 1e-2
    active = np.mean(cache["z1"] > 0)
    assert 0.3 < active < 0.7


def test_generic_kink_free_rejects_until_margin():
    draws = iter([np.array([0.5, 1e-4]), np.array([-1e-3, 2.0]), np.array([0.3, -0.7])])
    instance, attempt = kink_free(lambda a: next(draws), lambda z: [z], margin=1e-2)
    assert attempt == 2 and np.array_equal(instance, [0.3, -0.7])
    with pytest.raises(RuntimeError):
        kink_free(lambda a: np.zeros(2), lambda z: [z], max_tries=3)


def test_full_check_skips_coordinates_whose_kink_is_crossed():
    spec = SPECS["relu_ce"]
    case = make_case(spec, seed=4)
    X, T, params = case["X"], case["T"], case["params"]
    params = {k: v.copy() for k, v in params.items()}
    _, cache = batched.mlp_forward(X, params, spec)
    params["b1"][0, 0] -= cache["z1"][2, 0] - 1e-7
    _, cache = batched.mlp_loss(X, T, params, spec)
    grads = {k: v for k, v in batched.mlp_backward(cache).items() if k in params}
    f = mlp_loss_fn(X, T, params, spec)
    plain = check_gradients(f, params, grads)
    flagged = check_gradients(f, params, grads, kinks=relu_signs_fn(X, params, spec))
    assert not plain.ok
    assert flagged.ok and flagged.tensors["b1"].skipped == 1
    assert flagged.tensors["W1"].skipped >= 1
