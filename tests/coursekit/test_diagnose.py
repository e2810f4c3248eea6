"""The rules of the one diagnosis engine (coursekit.diagnose), right and wrong cases each.

Includes the misdiagnoses quoted in issue 8 as regression tests, and new cases of each category.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from autograder import compare
from autograder.registry.common import gradient_compare
from autograder.tasks import Probe, TaskSpec, Trial
from backprop_ref import diagnose as bp_diagnose
from coursekit import check
from coursekit import diagnose as engine
from coursekit.gradcheck import PASS_TOL, rel_error

RNG = np.random.default_rng(0)


def _chain(rng: np.random.Generator, n: int = 5, d: int = 7, h: int = 4, c: int = 3) -> dict:
    """Reference gradients of a ReLU + softmax-CE batch, in backward order."""
    X = rng.normal(size=(n, d))
    W1, b1 = rng.normal(size=(h, d)), rng.normal(size=(h, 1))
    W2, b2 = rng.normal(size=(c, h)), rng.normal(size=(c, 1))
    z1 = X @ W1.T + b1.T
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2.T + b2.T
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    T = np.eye(c)[rng.integers(0, c, n)]
    dz2 = (p - T) / n
    da1 = dz2 @ W2
    dz1 = da1 * (z1 > 0)
    return {"z2": dz2, "W2": dz2.T @ a1, "b2": dz2.sum(0, keepdims=True).T, "a1": da1,
            "z1": dz1, "W1": dz1.T @ X, "b1": dz1.sum(0, keepdims=True).T}


def _raises(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- non-finite values (issue 10.3)

def test_rel_error_rejects_non_finite_and_survives_huge_values():
    a = RNG.normal(size=(3, 4))
    assert rel_error(a * 1e200, a * 1e200) == 0.0
    assert rel_error(a * 1e200, a) > 0.99
    assert rel_error(a * 1e-300, a * 1e-300) == 0.0
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[0, 0] = bad
        assert rel_error(b, a) == np.inf and rel_error(a, b) == np.inf
        assert not rel_error(b, a) <= PASS_TOL


@pytest.mark.parametrize("bad", [1e200, 1e300, np.inf, np.nan])
def test_huge_or_non_finite_gradients_never_pass(bad):
    ref = _chain(np.random.default_rng(1))
    cand = dict(ref, W1=ref["W1"] * bad if np.isfinite(bad) else np.full_like(ref["W1"], bad))
    assert not engine.diagnose(cand, ref).ok
    assert not bp_diagnose.diagnose(cand, ref).ok
    assert not all(p.ok for p in compare.compare_value(cand, ref, "", PASS_TOL))
    with pytest.raises(AssertionError):
        check.grads("g", cand, ref)
    with pytest.raises(AssertionError):
        check.array("W1", cand["W1"], ref["W1"])


def test_a_reference_that_overflows_fails_instead_of_passing():
    x = np.array([[800.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        msg = _raises(check.grad_fd, "dx", np.array([[1.0]]), lambda: float(np.exp(x[0, 0])), x)
    assert "not finite" in msg or "NaN" in msg


# ---------------------------------------------------------------- constant factors

def test_scalar_ratio_is_never_a_cause():
    # regression: "Every entry is exactly 0.35 times the correct value" for a scalar
    for value in (0.35 * 1.7, 2.248 * 1.7, -1.7):
        d = engine.number_diagnosis("dL_dz", value, 1.7)
        assert not d.ok
        assert "times" not in d.message and "factor" not in d.message and "sign" not in d.message
        d = engine.tensor_diagnosis("dz", np.array([[value]]), np.array([[1.7]]), loss="mse")
        assert not d.ok and d.mistake == "wrong_values"
        assert "times" not in d.message and "factor" not in d.message, d.message
    msg = _raises(check.number, "dL_dz", 2.248 * 1.7, 1.7)
    assert "2.248" not in msg and "factor" not in msg  # regression: "off by a factor 2.248"


def test_single_active_unit_proves_nothing():
    ref = np.zeros((4, 3))
    ref[2] = [0.3, -0.2, 0.5]  # one active unit: one nonzero row
    d = engine.tensor_diagnosis("dW1", 0.35 * ref, ref, n=5, loss="squared_error")
    assert d.mistake not in ("factor_2", "missing_1_over_n", "averaged_twice"), d
    assert "times" not in d.message and "exactly" not in d.message
    bias = np.array([[0.0], [0.7], [0.0]])
    d = engine.tensor_diagnosis("db1", 0.5 * bias, bias, loss="squared_error")
    assert d.mistake != "factor_2" and "exactly" not in d.message
    # two active units do carry it
    ref[0] = [0.1, 0.4, -0.3]
    d = engine.tensor_diagnosis("dW1", 0.5 * ref, ref, loss="squared_error")
    assert d.mistake == "factor_2"


def test_uncatalogued_ratio_is_not_named():
    ref = _chain(np.random.default_rng(2))
    for k in (2.248, 0.35, 3.0, 1.5):
        d = engine.diagnose({key: k * v for key, v in ref.items()}, ref, n=5,
                            loss="cross_entropy")
        assert d.mistake not in ("factor_2", "missing_1_over_n", "averaged_twice", "sign_flip")
        assert "times" not in d.message and "factor" not in d.message, d.message
        assert "exactly" not in d.message, d.message


def test_factor_texts_know_the_loss():
    ref = _chain(np.random.default_rng(3))
    half = {k: v / 2 for k, v in ref.items()}
    # regression: "the derivative of a square (y - t)^2 has a factor 2" in a CE network
    for loss in ("cross_entropy", "binary_cross_entropy", None):
        d = engine.diagnose(half, ref, n=5, loss=loss)
        assert d.mistake != "factor_2" and "square" not in d.message, (loss, d.message)
    d = engine.diagnose(half, ref, n=5, loss="squared_error")
    assert d.mistake == "factor_2" and "(y - t)^2" in d.message and "half" in d.message
    d = engine.diagnose({k: 2 * v for k, v in ref.items()}, ref, n=5, loss="half_squared_error")
    assert d.mistake == "factor_2" and "no factor 2" in d.message
    d = engine.diagnose({k: 2 * v for k, v in ref.items()}, ref, n=5, loss="squared_error")
    assert d.mistake != "factor_2"  # the catalogue predicts 1/2 there, not 2


def test_missing_one_over_n_needs_a_known_n():
    ref = _chain(np.random.default_rng(4))
    times_n = {k: 5 * v for k, v in ref.items()}
    d = engine.diagnose(times_n, ref, n=5)
    assert d.mistake == "missing_1_over_n" and "N=5" in d.message
    d = engine.diagnose({k: ref[k] for k in ("W2", "b2", "W1", "b1")},
                        {k: ref[k] for k in ("W2", "b2", "W1", "b1")}, n=None)
    assert d.ok
    d = engine.diagnose({k: 5 * ref[k] for k in ("W2", "b2", "W1", "b1")},
                        {k: ref[k] for k in ("W2", "b2", "W1", "b1")}, n=None)
    assert d.mistake != "missing_1_over_n"  # N unknown: never guessed from the ratio
    d = engine.diagnose({k: ref[k] / 5 if k == "b2" else ref[k] for k in ref}, ref, n=5)
    assert d.mistake == "averaged_twice" and d.tensor == "b2"
    d = engine.diagnose({k: -v for k, v in ref.items()}, ref, n=5)
    assert d.mistake == "sign_flip" and "direction" in d.message


def test_missing_one_over_n_in_a_student_variable_is_named():
    # regression: a missing 1/N in my_dZ2 reported as "norm ratio 4.000"
    rng = np.random.default_rng(5)
    Z, T = rng.normal(size=(4, 3)), np.eye(3)[[0, 2, 1, 1]]

    def loss() -> float:
        m = Z.max(axis=1, keepdims=True)
        logp = Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True))
        return float(-(T * logp).sum() / 4)

    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    check.grad_fd("my_dZ2", (P - T) / 4, loss, Z, n=4)
    msg = _raises(check.grad_fd, "my_dZ2", P - T, loss, Z, n=4)
    assert msg.startswith("my_dZ2") and "1/N" in msg and "N=4" in msg
    assert "norm ratio" not in msg


# ---------------------------------------------------------------- localisation

def test_first_wrong_node_from_the_output_end():
    ref = _chain(np.random.default_rng(6))
    bad = dict(ref)
    bad["z2"] = ref["z2"] + 0.05 * np.random.default_rng(0).normal(size=ref["z2"].shape)
    bad["W2"] = ref["W2"] * 1.3
    d = engine.diagnose(bad, ref, n=5)
    assert d.tensor == "z2" and d.message.startswith(("dL/dZ2", "Every")), d.message
    # the dict's own order does not matter for chain keys
    shuffled = {k: ref[k] for k in ("W1", "b1", "z1", "a1", "b2", "W2", "z2")}
    assert engine.diagnose(bad, shuffled, n=5).tensor == "z2"


def test_only_a_slice_of_a_weight_is_wrong():
    # regression: "the error enters while passing the gradient down" when dZ1 is right and only a
    # slice of dW1 is wrong
    ref = _chain(np.random.default_rng(7))
    bad = dict(ref, W1=ref["W1"].copy())
    bad["W1"][1] += 0.5
    for d in (engine.diagnose(bad, ref, n=5), bp_diagnose.diagnose(bad, ref)):
        assert d.tensor == "W1" and d.mistake == "one_slice_wrong", d
        assert "only row 1" in d.message and "dL/dZ1" in d.message and "right" in d.message
        assert "passing the gradient down" not in d.message
    bad["W1"] = ref["W1"].copy()
    bad["W1"][:, 3] *= -1
    d = engine.diagnose(bad, ref, n=5)
    assert "only column 3" in d.message and d.mistake == "one_slice_wrong"
    bad["W1"] = ref["W1"] * 1.7 + 0.1
    d = engine.diagnose(bad, ref, n=5)
    assert d.mistake == "one_tensor_wrong" and "where dW1 is computed" in d.message
    params = {k: ref[k] for k in ("W2", "b2", "W1", "b1")}
    d = engine.diagnose(dict(params, W1=bad["W1"]), params, n=5)
    assert d.mistake == "one_tensor_wrong" and d.message.startswith("Only dW1 is wrong")
    assert "passing" not in d.message


def test_named_node_of_a_graph_beats_its_weights():
    # regression: weights blamed when dW is named but dh_a was the first wrong node (ps4 twin)
    rng = np.random.default_rng(8)
    keys = ("z", "W2", "b2", "h", "h_a", "h_b", "m_a", "m_b", "W1", "b1")
    shapes = {"z": (1, 1), "W2": (1, 3), "b2": (1, 1), "W1": (3, 4), "b1": (3, 1)}
    ref = {k: rng.normal(size=shapes.get(k, (3, 1))) for k in keys}
    bad = {k: (v * 1.4 + 0.2 if k in ("h_a", "m_a", "W1", "b1") else v) for k, v in ref.items()}
    d = engine.diagnose(bad, ref, n=1)
    assert d.tensor == "h_a" and "dh_a" in d.message and "dW1" not in d.message.split(";")[0]
    bad = dict(ref, W1=ref["W1"] + 0.3)
    d = engine.diagnose(bad, ref, n=1)
    assert d.tensor == "W1" and "dm_b" in d.message and "where dW1 is computed" in d.message
    # an explicit order wins over the dict's order
    fd_order = {k: ref[k] for k in ("W1", "b1", "W2", "b2", "h_a", "h_b", "m_a", "m_b")}
    bad = {k: (v + 0.2 if k in ("h_a", "m_a", "W1", "b1") else v) for k, v in ref.items()}
    d = engine.diagnose(bad, fd_order, n=1, order=keys)
    assert d.tensor == "h_a"


def test_scalar_output_node_factor_is_not_named():
    # a twin net with dz off by 2: one number, so no factor; the first wrong node is dz
    rng = np.random.default_rng(9)
    ref = {"z": np.array([[0.4]]), "W2": rng.normal(size=(1, 3)), "b2": np.array([[0.4]])}
    d = engine.diagnose({k: 2 * v for k, v in ref.items()}, ref, n=1, loss="squared_error")
    assert d.tensor == "z" and d.mistake != "factor_2" and "exactly" not in d.message


# ---------------------------------------------------------------- SymPy answers

def test_sympy_answers_get_specific_messages():
    x, w1, w2, ws = sp.symbols("x w1 w2 ws")
    syms = [x, w1, w2, ws]
    right = w2 * (1 - sp.tanh(w1 * x) ** 2) * w1 + ws
    check.sympy_equal("dy_dx", right, right, syms)
    check.sympy_equal("dy_dx", w1 * w2 / sp.cosh(w1 * x) ** 2 + ws, right, syms)
    cases = {
        "constant factor 2": 2 * right,
        "wrong sign": -right,
        "misses one term": w2 * (1 - sp.tanh(w1 * x) ** 2) * w1,
        "one term too many": right + x,
        "test points": w2 * (1 - sp.tanh(x) ** 2) * w1 + ws,
    }
    for words, wrong in cases.items():
        msg = _raises(check.sympy_equal, "dy_dx", wrong, right, syms)
        assert msg.startswith("dy_dx") and words in msg, msg
        assert "AssertionError" not in msg


def test_sympy_symbols_without_the_notebook_assumptions_are_accepted():
    # regression: sympify("2/a") (a plain Symbol a) scored 0 with "AssertionError"
    a = sp.symbols("a", positive=True)
    check.sympy_expr("eta_max", sp.sympify("2/a"), [a])
    check.sympy_equal("eta_max", sp.sympify("2/a"), 2 / a, [a])
    check.sympy_equal("eta_max", "2/a", 2 / a, [a])
    msg = _raises(check.sympy_equal, "eta_max", sp.sympify("1/a"), 2 / a, [a])
    assert "constant factor 1/2" in msg
    msg = _raises(check.sympy_expr, "eta_max", sp.sympify("2/b"), [a])
    assert "['b']" in msg


def test_sympy_derivative_checks_against_finite_differences():
    x, w1, w2, ws = sp.symbols("x w1 w2 ws")
    syms = [x, w1, w2, ws]

    def y(x_, w1_, w2_, ws_):
        return w2_ * np.tanh(w1_ * x_) + ws_ * x_

    check.sympy_derivative("dy_dx", w2 * (1 - sp.tanh(w1 * x) ** 2) * w1 + ws, y, 0, syms)
    msg = _raises(check.sympy_derivative, "dy_dx", w2 * (1 - sp.tanh(w1 * x) ** 2) * w1, y, 0,
                  syms)
    assert "central difference" in msg
    s, z = sp.symbols("s"), sp.symbols("z")

    def to_s(point):
        return {s: 1 / (1 + np.exp(-point[z]))}

    def sig(z_):
        return 1 / (1 + np.exp(-z_))

    check.sympy_derivative("sigmoid_prime_in_s", s * (1 - s), sig, 0, [z], [s], to_s)
    with pytest.raises(AssertionError):
        check.sympy_derivative("sigmoid_prime_in_s", s * (1 + s), sig, 0, [z], [s], to_s)


# ---------------------------------------------------------------- one message everywhere

def _single_cases():
    rng = np.random.default_rng(10)
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=(3, 1))
    yield "dW2", W.T.copy(), W, None
    yield "dW2", W * 5, W, 5
    yield "dW2", -W, W, 5
    yield "db2", b.ravel(), b, None
    yield "db2", np.tile(b, (1, 5)), b, 5
    slice_bad = W.copy()
    slice_bad[0] += 1
    yield "dW2", slice_bad, W, None
    yield "dW2", W * 1.3 + 0.1, W, None
    yield "dW2", np.full_like(W, np.nan), W, None
    yield "z", np.array([[0.7]]), np.array([[0.2]]), 1


@pytest.mark.parametrize("case", list(_single_cases()), ids=lambda c: f"{c[0]}")
def test_notebook_and_grader_say_the_same_thing(case):
    name, got, want, n = case
    expected = engine.tensor_diagnosis(name, got, want, n=n).named()
    parts = compare.compare_value(got, want, name, PASS_TOL, n_hint=n)
    assert len(parts) == 1 and not parts[0].ok and parts[0].message == expected
    msg = _raises(check.array, name, got, want, n=n)
    assert msg.startswith(expected), (msg, expected)


def test_gradient_dicts_get_the_same_message_in_the_hidden_test_and_the_feedback():
    ref = _chain(np.random.default_rng(11))
    bad_slice = dict(ref, W1=ref["W1"].copy())
    bad_slice["W1"][2] -= 0.4
    spec = TaskSpec("t", 1, ("f",), lambda ctx: [], lambda probe: None)
    for cand in ({k: 5 * v for k, v in ref.items()}, bad_slice,
                 dict(ref, W2=ref["W2"].T.copy()), dict(ref, b1=ref["b1"].ravel())):
        found = engine.diagnose(cand, ref, n=5)
        verdict = gradient_compare()([Trial(Probe("f"), ref, cand, None)], spec)
        msg = _raises(check.grads, "f(...)", cand, ref, n=5)
        assert verdict.score == 0
        assert verdict.diagnosis == found.mistake
        # without a context the grader cannot know N; with it, both name the same tensor
        if found.mistake != "missing_1_over_n":
            assert found.message.rstrip(".") in verdict.message
        assert found.named() in msg


@pytest.mark.parametrize("bug", ["missing_activation_derivative", "derivative_at_activation",
                                 "w_not_transposed"])
def test_oracle_mistakes_read_the_same_in_the_notebook_and_the_grader(bug):
    from backprop_ref import batched
    from backprop_ref.mutants import mutant_backward
    from backprop_ref.spec import MLPSpec, init_params

    spec = MLPSpec((3, 3, 3), "tanh", "softmax", "cross_entropy")
    rng = np.random.default_rng(12)
    X, T = rng.normal(size=(5, 3)), np.eye(3)[rng.integers(0, 3, 5)]
    _, cache = batched.mlp_loss(X, T, init_params(spec, 1, scale=1.0), spec)
    ref = {k: v for k, v in batched.mlp_backward(cache).items() if k != "a0"}
    bad = {k: v for k, v in mutant_backward(cache, bug).items() if k != "a0"}
    graded = bp_diagnose.diagnose(bad, ref, context={"cache": cache})
    assert graded.mistake == bug
    key = "a1" if bug == "w_not_transposed" else "z1"
    text = check.mistake_text(bug, key, 1, "tanh")
    msg = _raises(check.grads, "batch_backward(...)", bad, ref, n=5, loss="cross_entropy",
                  mistakes={text: {key: bad[key]}})
    assert graded.message == text and graded.message in msg
