"""The three levels agree with each other to 1e-10 on the same inputs, for every gradient key.

scalar vs batched on a batch; scalar, vector and batched with N = 1 (vector in columns);
vector row by row (losses and gradients averaged) vs batched for N > 1; twin and skip vector
vs batched row by row.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import batched, batched_nets, scalar, vector, vector_nets
from backprop_ref.spec import HIDDEN_ACTIVATIONS
from coursekit.gradcheck import rel_error
from tests.backprop_ref.strategies import PAIRS, level_loss_grads, mlp_case, skip_case, twin_case

AGREE = 1e-10


def _assert_same(g1: dict, g2: dict, what: str) -> None:
    assert set(g1) == set(g2), what
    for k in g1:
        assert g1[k].shape == g2[k].shape, (what, k)
        assert rel_error(g1[k], g2[k]) <= AGREE, (what, k, rel_error(g1[k], g2[k]))


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("sizes", [(7, 4, 3), (7, 4, 6, 3), (3, 3)])
def test_scalar_vector_batched_agree(sizes, hidden, output, loss):
    case = mlp_case(sizes, hidden, output, loss, N=5, seed=len(sizes))
    results = {lvl: level_loss_grads(lvl, case.X, case.T, case.params, case.spec)
               for lvl in ("scalar", "vector", "batched")}
    ref_loss, ref = results["batched"]
    for lvl in ("scalar", "vector"):
        loss_value, grads = results[lvl]
        assert abs(loss_value - ref_loss) <= AGREE * max(1.0, abs(ref_loss))
        _assert_same(grads, ref, lvl)


@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_single_example_columns_equal_rows(output, loss):
    """With N = 1 the vector level (columns) equals the scalar and batched levels (rows)."""
    case = mlp_case((7, 4, 6, 3), ("tanh", "relu"), output, loss, N=1, seed=7)
    x_col, t_col = case.X.T.copy(), case.T.T.copy()
    lv, cv = vector.mlp_loss(x_col, t_col, case.params, case.spec)
    gv = vector.mlp_backward(cv)
    for mod in (scalar, batched):
        lr, cr = mod.mlp_loss(case.X, case.T, case.params, case.spec)
        gr = mod.mlp_backward(cr)
        assert abs(lv - lr) <= AGREE * max(1.0, abs(lv))
        _assert_same(gv, {k: v if k in case.params else v.T for k, v in gr.items()},
                     mod.__name__)


def test_layer_functions_agree():
    rng = np.random.default_rng(0)
    a, W, b, dz = (rng.normal(size=s) for s in [(5, 7), (4, 7), (4, 1), (5, 4)])
    zs, cs = scalar.affine_forward(a, W, b)
    zb, cb = batched.affine_forward(a, W, b)
    assert rel_error(zs, zb) <= AGREE
    for gs, gb in zip(scalar.affine_backward(dz, cs), batched.affine_backward(dz, cb),
                      strict=True):
        assert gs.shape == gb.shape and rel_error(gs, gb) <= AGREE
    for name in (*HIDDEN_ACTIVATIONS, "softmax"):
        a_s, c_s = scalar.activation_forward(zb, name)
        a_b, c_b = batched.activation_forward(zb, name)
        assert rel_error(a_s, a_b) <= AGREE
        assert rel_error(scalar.activation_backward(dz, c_s),
                         batched.activation_backward(dz, c_b)) <= AGREE


def test_twin_vector_rows_average_to_batched():
    case = twin_case(7, 4, N=5, seed=11)
    loss_b, cache_b = batched_nets.twin_loss(case.xa, case.xb, case.t, case.params)
    gb = batched_nets.twin_backward(cache_b)
    N = case.xa.shape[0]
    per = []
    for n in range(N):
        loss_v, cache_v = vector_nets.twin_loss(case.xa[n:n + 1].T, case.xb[n:n + 1].T,
                                                float(case.t[n, 0]), case.params)
        per.append((loss_v, vector_nets.twin_backward(cache_v)))
    assert abs(np.mean([p[0] for p in per]) - loss_b) <= AGREE
    for k in gb:
        if k in case.params:
            v = sum(p[1][k] for p in per) / N
        else:
            v = np.concatenate([p[1][k].T for p in per]) / N
        assert rel_error(v, gb[k]) <= AGREE, k


def test_skip_vector_rows_average_to_batched():
    case = skip_case(7, 4, 6, 3, N=5, seed=12)
    loss_b, cache_b = batched_nets.skip_loss(case.x, case.t, case.params)
    gb = batched_nets.skip_backward(cache_b)
    N = case.x.shape[0]
    per = []
    for n in range(N):
        loss_v, cache_v = vector_nets.skip_loss(case.x[n:n + 1].T, case.t[n:n + 1].T,
                                                case.params)
        per.append((loss_v, vector_nets.skip_backward(cache_v)))
    assert abs(np.mean([p[0] for p in per]) - loss_b) <= AGREE
    assert set(per[0][1]) == set(gb)
    for k in gb:
        if k in case.params:
            v = sum(p[1][k] for p in per) / N
        else:
            v = np.concatenate([p[1][k].T for p in per]) / N
        assert rel_error(v, gb[k]) <= AGREE, k


def test_scalar_nets_equal_batched_nets():
    from backprop_ref import scalar_nets

    for D, H in ((7, 4), (3, 3)):
        case = twin_case(D, H, N=5, seed=13)
        lb, cb = batched_nets.twin_loss(case.xa, case.xb, case.t, case.params)
        ls, cs = scalar_nets.twin_loss(case.xa, case.xb, case.t, case.params)
        assert abs(lb - ls) <= AGREE
        _assert_same(scalar_nets.twin_backward(cs), batched_nets.twin_backward(cb), "twin")
    for dims in ((7, 4, 6, 3), (3, 3, 3, 3)):
        case = skip_case(*dims, N=5, seed=14)
        lb, cb = batched_nets.skip_loss(case.x, case.t, case.params)
        ls, cs = scalar_nets.skip_loss(case.x, case.t, case.params)
        assert abs(lb - ls) <= AGREE
        _assert_same(scalar_nets.skip_backward(cs), batched_nets.skip_backward(cb), "skip")


@pytest.mark.parametrize("level", ["scalar", "vector", "batched"])
def test_input_grad_false_leaves_out_only_dl_da0(level):
    """mlp_backward(cache, input_grad=False) skips dL/da0 (the data needs no gradient)."""
    import importlib

    from backprop_ref.spec import MLPSpec, init_params

    mod = importlib.import_module(f"backprop_ref.{level}")
    spec = MLPSpec((4, 3, 2), "tanh", "softmax", "cross_entropy")
    params = init_params(spec, 3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 1) if level == "vector" else (3, 4))
    t = np.eye(2)[[1]].T if level == "vector" else np.eye(2)[[0, 1, 1]]
    full = mod.mlp_backward(mod.mlp_loss(x, t, params, spec)[1])
    lean = mod.mlp_backward(mod.mlp_loss(x, t, params, spec)[1], input_grad=False)
    assert set(full) - set(lean) == {"a0"}
    for key, value in lean.items():
        np.testing.assert_array_equal(value, full[key])
