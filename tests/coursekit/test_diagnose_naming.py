"""Naming rules of the diagnosis engine: each id fires on its mistake and not on a look-alike.

Covers one_slice_wrong / one_tensor_wrong (localisation), the SymPy term rules
(missing, extra, wrong sign, one term off by a factor), the "message: id" line of the trusted
comparison, and that every id the engine emits is in the catalogue.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from autograder import compare
from coursekit import diagnose as engine
from coursekit.diagnose import MISTAKES
from coursekit.expressions import expression_diagnosis
from coursekit.gradcheck import PASS_TOL
from tests.coursekit.test_diagnose import _chain


@pytest.fixture
def ref() -> dict:
    return _chain(np.random.default_rng(11))


def test_one_column_of_a_weight_is_one_slice(ref):
    bad = dict(ref, W1=ref["W1"].copy())
    bad["W1"][:, 6] = 0.0  # the last input skipped
    d = engine.diagnose(bad, ref, n=5)
    assert (d.mistake, d.tensor) == ("one_slice_wrong", "W1"), d
    assert "only column 6" in d.message


def test_two_columns_wrong_is_one_tensor_not_one_slice(ref):
    bad = dict(ref, W2=ref["W2"].copy())
    bad["W2"][:, [0, 2]] += 0.3
    d = engine.diagnose(bad, ref, n=5)
    assert (d.mistake, d.tensor) == ("one_tensor_wrong", "W2"), d
    assert "columns 0, 2" in d.message


def test_one_tensor_wrong_needs_its_source_right(ref):
    # dW1 wrong because dZ1 is wrong: not the tensor's own formula
    bad = dict(ref, z1=ref["z1"] * 1.3 + 0.01, W1=ref["W1"] * 1.3 + 0.2, b1=ref["b1"] + 0.1)
    d = engine.diagnose(bad, ref, n=5)
    assert d.mistake not in ("one_tensor_wrong", "one_slice_wrong"), d
    assert d.tensor == "z1"


def test_a_returned_node_gradient_that_the_rest_did_not_use(ref):
    # dL/dA1 returned wrong (e.g. dL/dZ1 under the key a1) while dZ1, dW1, db1 are right
    d = engine.diagnose(dict(ref, a1=ref["z1"]), ref, n=5)
    assert (d.mistake, d.tensor) == ("one_tensor_wrong", "a1"), d
    # dL/dA1 wrong and dZ1 wrong with it: the step back through W2 (not one tensor)
    bad = dict(ref, a1=ref["a1"] * 1.5 + 0.1, z1=ref["z1"] * 1.5 + 0.1, W1=ref["W1"] * 2,
               b1=ref["b1"] * 2)
    assert engine.diagnose(bad, ref, n=5).mistake == "propagation"


def test_factor_2_not_claimed_when_the_output_gradient_is_right(ref):
    # twice dW2 and dW1 with dL/dZ2 right (e.g. values accumulated over two calls): the loss
    # derivative's factor 2 would make dL/dZ2 wrong too
    bad = dict(ref, W2=2 * ref["W2"], W1=2 * ref["W1"])
    d = engine.diagnose(bad, ref, n=5, loss="half_squared_error")
    assert d.mistake != "factor_2", d
    every = {k: 2 * v for k, v in ref.items()}
    assert engine.diagnose(every, ref, n=5, loss="half_squared_error").mistake == "factor_2"


def test_another_wrong_tensor_is_not_only_one(ref):
    bad = dict(ref, W1=ref["W1"].copy(), b1=ref["b1"] + 0.5)
    bad["W1"][:, 6] = 0.0
    d = engine.diagnose(bad, ref, n=5)
    assert d.mistake == "wrong_values" and "db1 also wrong" in d.message, d
    assert "formula" not in d.message


def test_one_slice_without_the_source_in_the_result(ref):
    params = {k: ref[k] for k in ("W2", "b2", "W1", "b1")}
    bad = dict(params, W2=params["W2"].copy())
    bad["W2"][1] *= 2.0
    d = engine.diagnose(bad, params, n=5)
    assert d.mistake == "one_slice_wrong" and d.message.startswith("Only dW2 is wrong"), d
    scattered = dict(params, W2=params["W2"] + np.eye(3, 4))
    assert engine.diagnose(scattered, params, n=5).mistake == "one_tensor_wrong"


W1, W2, WS, X = sympy.symbols("w1 w2 ws x", real=True)
RIGHT = W2 * W1 * (1 - sympy.tanh(W1 * X) ** 2) + WS


@pytest.mark.parametrize(("expr", "mistake"), [
    (RIGHT, "correct"),
    (2 * RIGHT, "expression_factor"),
    (-RIGHT, "expression_factor"),
    (W2 * W1 * (1 - sympy.tanh(W1 * X) ** 2), "expression_missing_term"),
    (RIGHT + X, "expression_extra_term"),
    (W2 * W1 * (1 - sympy.tanh(W1 * X) ** 2) - WS, "expression_wrong_term"),
    (W2 * (1 - sympy.tanh(W1 * X) ** 2) + WS, "expression_term_factor"),
    (3 * W2 * W1 * (1 - sympy.tanh(W1 * X) ** 2) + WS, "expression_term_factor"),
    # look-alikes: a wrong function inside a term is not "a term off by a factor"
    (W2 * W1 * (1 - sympy.tanh(X) ** 2) + WS, "expression_wrong"),
    (W2 * W1 * (1 - sympy.tanh(W1 * X)) + WS, "expression_wrong"),
])
def test_expression_rules(expr, mistake):
    d = expression_diagnosis("dy_dx", expr, RIGHT, [W1, W2, WS, X])
    assert d.mistake == mistake, d
    assert d.mistake in MISTAKES


def test_a_factor_of_a_single_term_expression_is_the_whole_factor():
    a = sympy.Symbol("a", positive=True)
    d = expression_diagnosis("eta_max", 1 / a, 2 / a, [a])
    assert d.mistake == "expression_factor" and "1/2" in d.message
    d = expression_diagnosis("eta_max", 1 / a**2, 2 / a, [a])
    assert d.mistake == "expression_wrong", d


def test_the_trusted_comparison_line_carries_the_id():
    ref = np.arange(1.0, 13.0).reshape(3, 4)
    bad = ref.copy()
    bad[:, 2] = 0.0
    [part] = compare.compare_value(bad, ref, "dW1", PASS_TOL)
    assert not part.ok and part.message.endswith(": one_slice_wrong"), part
    [part] = compare.compare_value(ref * 1.1 + 0.3, ref, "dW1", PASS_TOL)
    assert not part.ok and not any(part.message.endswith(f": {m}") for m in MISTAKES), part
    [part] = compare.compare_value(ref, ref, "dW1", PASS_TOL)
    assert part.ok


def test_catalogue_lists_the_form_and_side_effect_ids():
    for mistake in ("finite_differences", "input_modified", "wrong_symbols", "structure",
                    "missing_path", "one_tensor_wrong", "one_slice_wrong"):
        assert mistake in MISTAKES and MISTAKES[mistake]


def test_form_rule_messages_map_to_their_id():
    from autograder.structure import analytic_gradients, loops_only

    fd = "def f(x):\n    h = 1e-6\n    return (g(x + h) - g(x - h)) / (2 * h)\n"
    message = analytic_gradients("f")(fd)
    assert message and engine.form_mistake(message) == "finite_differences"
    loops = "import numpy as np\ndef f(x):\n    return np.dot(x, x)\n"
    message = loops_only("f")(loops)
    assert message and engine.form_mistake(message) == "structure"


def test_derivative_at_activation_in_the_output_layer_too():
    from backprop_ref import vector
    from backprop_ref.diagnose import diagnose as bp_diagnose
    from backprop_ref.mutants import mutant_backward
    from backprop_ref.spec import MLPSpec, init_params

    spec = MLPSpec((4, 5, 3), ("sigmoid",), "tanh", "half_squared_error")
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    _, cache = vector.mlp_loss(rng.normal(size=(4, 1)), rng.normal(size=(3, 1)), params, spec)
    ref = vector.mlp_backward(cache)
    context = {"cache": cache, "level": "vector"}
    every = mutant_backward(cache, "derivative_at_activation", "vector", output_too=True)
    d = bp_diagnose({k: every[k] for k in ref}, ref, context=context)
    assert d.mistake == "derivative_at_activation" and "layer 2" in d.message, d
    # look-alike: the output layer's dZ off by another rule (not sigma' at A2) is not named
    other = dict(ref, z2=ref["z2"] * 1.1, W2=ref["W2"] * 1.1, b2=ref["b2"] * 1.1)
    assert bp_diagnose(other, ref, context=context).mistake != "derivative_at_activation"


def test_grad_fd_allows_the_finite_differences_own_noise_only():
    from coursekit import check

    # a saturated softmax: dL/dz ~ 1e-5, where the central difference's rounding (~1e-11)
    # is more than 1e-6 of the gradient
    z = np.array([[12.0], [0.5], [-1.0], [0.3]])
    t = np.array([[1.0], [0.0], [0.0], [0.0]])

    def loss() -> float:
        return float(-(t * (z - np.log(np.exp(z).sum()))).sum())

    p = np.exp(z) / np.exp(z).sum()
    check.grad_fd("dz2", p - t, loss, z)  # exact gradient: passes
    with pytest.raises(AssertionError):
        check.grad_fd("dz2", 2 * (p - t), loss, z)
    with pytest.raises(AssertionError):
        check.grad_fd("dz2", np.zeros_like(z), loss, z)


def test_a_batched_node_gradient_knows_its_batch_size():
    r = np.random.default_rng(0).normal(size=(4, 3))
    [part] = compare.compare_value(4 * r, r, "my_dZ2", 1e-7)
    assert part.message.endswith(": missing_1_over_n") and "N=4" in part.message
    # not for a weight (no batch axis), a column (vector level), or another factor
    for got, want, name in ((4 * r, r, "my_dW2"), (4 * r[:, :1], r[:, :1], "my_dZ2"),
                            (3 * r, r, "my_dZ2")):
        [part] = compare.compare_value(got, want, name, 1e-7)
        assert not part.ok and "missing_1_over_n" not in part.message, part


def test_output_gradient_only_when_the_output_node_leads(ref):
    every = {k: v * 1.3 + 0.05 for k, v in ref.items()}
    assert engine.diagnose(every, ref, n=5).mistake == "output_gradient"
    # a cell comparing tensors of a lower part (names without a layer chain): no place claimed
    lower = {"dh1": ref["a1"], "dz1": ref["z1"]}
    d = engine.diagnose({k: v * 1.3 + 0.05 for k, v in lower.items()}, lower)
    assert d.mistake == "wrong_values" and "starting at the output" not in d.message, d
    skip = {"W3": ref["W2"], "h2": ref["a1"], "zs": ref["a1"]}
    d = engine.diagnose({k: v * 1.3 + 0.05 for k, v in skip.items()}, skip)
    assert d.mistake == "wrong_values", d


def test_batch_size_of_a_probed_variable():
    r = np.zeros((4, 3))
    assert compare.batch_size_of("my_dZ2", r) == 4
    assert compare.batch_size_of("my_dW2", r) is None
    assert compare.batch_size_of("my_dZ2", r[:, :1]) is None
