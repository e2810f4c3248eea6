"""Property tests (hypothesis): shapes and dtypes of every gradient, and backward passes that
leave inputs, parameters and caches untouched (snapshots, read-only arrays, repeated calls)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from backprop_ref import batched, batched_nets, scalar, scalar_nets, vector, vector_nets
from tests.backprop_ref.strategies import LEVELS, mlp_cases, net_dims, targets

MODULES = {"scalar": scalar, "vector": vector, "batched": batched}
NET_MODULES = {"scalar": scalar_nets, "vector": vector_nets, "batched": batched_nets}


def _arrays(obj: Any) -> list[np.ndarray]:
    """Every ndarray reachable through dicts, lists and tuples, in a fixed order."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, dict):
        return [a for k in sorted(obj, key=str) for a in _arrays(obj[k])]
    if isinstance(obj, list | tuple):
        return [a for v in obj for a in _arrays(v)]
    return []


def _snapshot(obj: Any) -> list[np.ndarray]:
    return [a.copy() for a in _arrays(obj)]


def _unchanged(obj: Any, snap: list[np.ndarray]) -> bool:
    now = _arrays(obj)
    return len(now) == len(snap) and all(
        a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        for a, b in zip(now, snap, strict=True))


def _read_only(*objs: Any) -> None:
    for obj in objs:
        for a in _arrays(obj):
            a.flags.writeable = False


def _run_twice_and_check(backward, cache, inputs) -> dict[str, np.ndarray]:
    """Run backward twice on a read-only cache; inputs and cache unchanged, results equal."""
    snap_in, snap_cache = _snapshot(inputs), _snapshot(cache)
    _read_only(cache)
    g1 = backward(cache)
    g2 = backward(cache)
    assert _unchanged(inputs, snap_in)
    assert _unchanged(cache, snap_cache)
    assert set(g1) == set(g2)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])
        assert not any(np.shares_memory(g1[k], a) for a in _arrays(inputs)), k
    return g1


@given(case=mlp_cases(), level=st.sampled_from(LEVELS))
def test_mlp_gradient_shapes_dtypes_and_purity(case, level):
    spec, params = case.spec, case.params
    X, T = (case.X[:1].T.copy(), case.T[:1].T.copy()) if level == "vector" else (case.X, case.T)
    _read_only(params, X, T)
    mod = MODULES[level]
    loss, cache = mod.mlp_loss(X, T, params, spec)
    assert isinstance(loss, float)
    grads = _run_twice_and_check(mod.mlp_backward, cache, (params, X, T))
    L = spec.depth
    want = set(spec.param_names()) | {f"z{m}" for m in range(1, L + 1)} | {
        f"a{m}" for m in range(L + 1)}
    assert set(grads) == want
    for k in spec.param_names():
        assert grads[k].shape == params[k].shape and grads[k].dtype == np.float64, k
    for m in range(L + 1):
        width = spec.sizes[m]
        shape = (width, 1) if level == "vector" else (X.shape[0], width)
        for k in ([f"a{m}"] if m == 0 else [f"z{m}", f"a{m}"]):
            assert grads[k].shape == shape and grads[k].dtype == np.float64, k
    for k in (*spec.param_names(), "a0", *(f"z{m}" for m in range(1, L + 1))):
        assert np.all(np.isfinite(grads[k])), k


@given(dims=net_dims(), level=st.sampled_from(LEVELS))
def test_twin_shapes_and_purity(dims, level):
    vector_level = level == "vector"
    N, D, H = dims["N"], dims["D"], dims["H"]
    rng = np.random.default_rng(dims["seed"])
    params = batched_nets.init_twin_params(D, H, rng)
    mod = NET_MODULES[level]
    rows = 1 if vector_level else N
    xa, xb = rng.normal(size=(rows, D)), rng.normal(size=(rows, D))
    t = rng.uniform(size=(rows, 1))
    if vector_level:
        xa, xb = xa.T.copy(), xb.T.copy()
    _read_only(params, xa, xb, t)
    loss, cache = mod.twin_loss(xa, xb, t, params)
    assert isinstance(loss, float) and np.isfinite(loss)
    g = _run_twice_and_check(mod.twin_backward, cache, (params, xa, xb, t))
    assert set(g) == {*params, "m_a", "h_a", "m_b", "h_b", "h", "z", "xa", "xb"}
    unit = (H, 1) if vector_level else (N, H)
    out = (1, 1) if vector_level else (N, 1)
    want = {**{k: v.shape for k, v in params.items()}, "xa": xa.shape, "xb": xb.shape,
            "z": out, **{k: unit for k in ("m_a", "h_a", "m_b", "h_b", "h")}}
    for k, shape in want.items():
        assert g[k].shape == shape and g[k].dtype == np.float64, k


@given(dims=net_dims(), level=st.sampled_from(LEVELS))
def test_skip_shapes_and_purity(dims, level):
    vector_level = level == "vector"
    N, D, H1, H2, C = (dims[k] for k in ("N", "D", "H1", "H2", "C"))
    rng = np.random.default_rng(dims["seed"])
    params = batched_nets.init_skip_params(D, H1, H2, C, rng)
    rows = 1 if vector_level else N
    x, t = rng.normal(size=(rows, D)), targets(rng, rows, C, "cross_entropy")
    mod = NET_MODULES[level]
    if vector_level:
        x, t = x.T.copy(), t.T.copy()
    _read_only(params, x, t)
    loss, cache = mod.skip_loss(x, t, params)
    assert isinstance(loss, float) and np.isfinite(loss)
    g = _run_twice_and_check(mod.skip_backward, cache, (params, x, t))
    assert set(g) == {*params, "z1", "h1", "z2", "zs", "h2", "z3", "x"}

    def shape(w: int) -> tuple[int, int]:
        return (w, 1) if vector_level else (N, w)

    want = {**{k: v.shape for k, v in params.items()}, "x": x.shape, "z1": shape(H1),
            "h1": shape(H1), "z2": shape(H2), "zs": shape(H2), "h2": shape(H2), "z3": shape(C)}
    for k, s in want.items():
        assert g[k].shape == s and g[k].dtype == np.float64, k
