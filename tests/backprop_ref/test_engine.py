"""The scalar engine, the layer-composed twin and momentum training (ps5's reference pieces)
against finite differences, the hand-written scalar level and each other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_ref import batched, engine, layer_nets, scalar
from backprop_ref.spec import MLPSpec, init_params
from backprop_ref.train import momentum_step, train
from coursekit.gradcheck import PASS_TOL, numerical_gradient, rel_error

UNARY = {"tanh": math.tanh, "relu": lambda v: max(v, 0.0), "exp": math.exp, "log": math.log}


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("a", [0.7, -1.3, 2.1])
def test_unary_local_derivative_is_the_central_difference(op: str, a: float) -> None:
    if op == "log" and a <= 0:
        a = -a
    node = getattr(engine.Value(a), op)()
    h = 1e-6
    fd = (UNARY[op](a + h) - UNARY[op](a - h)) / (2 * h)
    assert node.data == pytest.approx(UNARY[op](a), rel=1e-15)
    assert node.local[0] == pytest.approx(fd, rel=1e-7, abs=1e-9)


def test_binary_and_pow_local_derivatives() -> None:
    a, b = engine.Value(1.5), engine.Value(-0.4)
    assert (a + b).local == (1.0, 1.0)
    assert (a * b).local == (-0.4, 1.5)
    p = a**3
    assert p.data == pytest.approx(3.375) and p.local[0] == pytest.approx(3 * 1.5**2)
    with pytest.raises(TypeError):
        a ** engine.Value(2.0)


def test_practice_graph_matches_the_scalar_level_and_sums_both_uses_of_x() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        w, x, b, t = rng.uniform(-2, 2, 4)
        n = engine.practice_graph(w, x, b, t)
        engine.backward(n["L"])
        want = scalar.q1_backward(w, x, b, t)
        for k in ("w", "x", "b", "z", "y", "L"):
            assert n[k].grad == pytest.approx(want[k], rel=1e-12, abs=1e-14)
        # x is used twice: its gradient is the sum over both paths
        assert n["x"].grad == pytest.approx(n["y"].grad + n["z"].grad * w, rel=1e-12)


def test_bias_free_graph_matches_q3_backward_and_finite_differences() -> None:
    rng = np.random.default_rng(2)
    for _ in range(10):
        x, w, t = rng.uniform(-2, 2, 2), rng.uniform(-1.5, 1.5, 10), float(rng.integers(0, 2))
        fw = scalar.q3_forward(x, w, t)
        if min(abs(fw[k]) for k in ("m1", "m2", "m3", "m4")) < 1e-2:
            continue
        loss, ws = engine.bias_free_graph(x, w, t)
        assert loss.data == pytest.approx(fw["L"], rel=1e-12)
        engine.backward(loss)
        got = np.array([v.grad for v in ws])
        want = np.array([scalar.q3_backward(x, w, t)[f"w{i}"] for i in range(1, 11)])
        assert rel_error(got, want) <= 1e-10
        wc = w.copy()
        fd = numerical_gradient(
            lambda x=x, wc=wc, t=t: engine.bias_free_graph(x, wc, t)[0].data, wc)
        assert rel_error(got, fd) <= PASS_TOL


def test_backward_resets_gradients_and_visits_every_node_after_its_consumers() -> None:
    n = engine.practice_graph(0.3, -1.1, 0.5, 0.2)
    first = engine.backward(n["L"])
    grads = {k: v.grad for k, v in n.items()}
    second = engine.backward(n["L"])
    assert {k: v.grad for k, v in n.items()} == grads
    assert [id(v) for v in first] == [id(v) for v in second]
    assert engine.order_problems(n["L"], first) == []
    assert first[0] is n["L"]


def test_order_problems_names_a_node_visited_before_a_consumer() -> None:
    nodes = engine.graph_from_spec([("a", 1.0), ("b", 2.0, ["a"], [3.0]),
                                    ("c", 4.0, ["a", "b"], [1.0, 1.0])])
    a, b, c = nodes
    assert engine.order_problems(c, [c, b, a]) == []
    assert engine.order_problems(c, [c, a, b]) == ["a visited before its consumer b"]
    assert engine.order_problems(c, [c, b])[0] == "2 nodes visited, the graph has 3"


def test_a_deep_chain_does_not_hit_the_recursion_limit() -> None:
    v = engine.Value(0.5, label="x")
    x = v
    for _ in range(5000):
        v = v * 1.0001
    engine.backward(v)
    assert x.grad == pytest.approx(1.0001**5000, rel=1e-9)


def test_count_local_uses_on_a_diamond_and_on_a_chain() -> None:
    # x feeds u and v, both feed y: 4 edges; paths x->u->y and x->v->y, total length 4
    x, u, v, y = engine.graph_from_spec([("x", 1.0), ("u", 2.0, ["x"], [1.0]),
                                         ("v", 3.0, ["x"], [1.0]),
                                         ("y", 5.0, ["u", "v"], [1.0, 1.0])])
    assert engine.count_local_uses(y, [x]) == (4, 4)
    assert engine.count_local_uses(y, [x, u]) == (4, 5)
    chain = [("n0", 1.0)] + [(f"n{i}", 1.0, [f"n{i - 1}"], [2.0]) for i in range(1, 6)]
    nodes = engine.graph_from_spec(chain)
    # without reuse every node's derivative walks its whole path again: 5 + 4 + ... + 1
    assert engine.count_local_uses(nodes[-1], nodes[:-1]) == (5, 15)


def test_count_local_uses_matches_explicit_path_enumeration_on_the_bias_free_net() -> None:
    loss, ws = engine.bias_free_graph([0.5, -1.0], np.linspace(-1, 1, 10), 1.0)

    def paths(node: engine.Value, target: engine.Value) -> list[int]:
        if node is target:
            return [0]
        users = engine.consumers(loss)[id(node)]
        return [length + 1 for user in users for length in paths(user, target)]

    edges, per_param = engine.count_local_uses(loss, ws)
    assert per_param == sum(sum(paths(w, loss)) for w in ws)
    assert edges == sum(len(n.parents) for n in engine.topological_order(loss))
    assert per_param > edges


def _twin_instance(rng: np.random.Generator, N: int, D: int, H: int, C: int) -> tuple:
    params = {"W1": rng.normal(0, 1, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
              "W2": rng.normal(0, 1, (C, H)), "b2": rng.normal(0, 0.5, (C, 1))}
    xa, xb = rng.normal(0, 1, (N, D)), rng.normal(0, 1, (N, D))
    t = np.eye(C)[rng.integers(0, C, N)]
    return xa, xb, t, params


def test_layer_twin_matches_finite_differences_and_sums_both_branches() -> None:
    rng = np.random.default_rng(3)
    xa, xb, t, params = _twin_instance(rng, 5, 3, 4, 2)
    _, cache = layer_nets.twin_loss(xa, xb, t, params)
    g = layer_nets.twin_backward(cache)
    P = {k: v.copy() for k, v in params.items()}
    for k in P:
        fd = numerical_gradient(lambda: layer_nets.twin_loss(xa, xb, t, P)[0], P[k])
        assert rel_error(g[k], fd) <= PASS_TOL, k
    xac = xa.copy()
    fd = numerical_gradient(lambda: layer_nets.twin_loss(xac, xb, t, params)[0], xac)
    assert rel_error(g["xa"], fd) <= PASS_TOL
    branches = layer_nets.twin_branch_grads(cache)
    for k in ("W1", "b1"):
        assert rel_error(branches["a"][k] + branches["b"][k], g[k]) <= 1e-12


def test_layer_twin_does_not_modify_its_inputs_or_cache() -> None:
    xa, xb, t, params = _twin_instance(np.random.default_rng(4), 4, 3, 5, 3)
    before = {k: v.copy() for k, v in params.items()}
    _, cache = layer_nets.twin_loss(xa, xb, t, params)
    h_a = cache["h_a"].copy()
    layer_nets.twin_backward(cache)
    assert all(np.array_equal(before[k], params[k]) for k in params)
    assert np.array_equal(h_a, cache["h_a"])


def test_momentum_zero_is_plain_minibatch_sgd_and_momentum_carries_the_velocity() -> None:
    rng = np.random.default_rng(5)
    spec = MLPSpec((4, 6, 3), "relu", "softmax", "cross_entropy")
    X, T = rng.normal(0, 1, (20, 4)), np.eye(3)[rng.integers(0, 3, 20)]
    p0 = init_params(spec, rng)
    plain, h_plain = train(X, T, spec, 0.1, 7, seed=9, batch_size=5, params=p0)
    zero, h_zero = train(X, T, spec, 0.1, 7, seed=9, batch_size=5, params=p0, momentum=0.0)
    assert np.array_equal(h_plain, h_zero)
    # by hand: the same minibatches, the velocity carried across steps
    order_rng = np.random.default_rng(9)
    theta = {k: v.copy() for k, v in p0.items()}
    vel = {k: np.zeros_like(v) for k, v in p0.items()}
    losses = []
    for _epoch in range(2):
        order = order_rng.permutation(20)
        for s in range(4):
            if len(losses) == 7:
                break
            idx = order[5 * s:5 * s + 5]
            loss, cache = batched.mlp_loss(X[idx], T[idx], theta, spec)
            losses.append(loss)
            theta, vel = momentum_step(theta, batched.mlp_backward(cache), vel, 0.1, 0.9)
    got, history = train(X, T, spec, 0.1, 7, seed=9, batch_size=5, params=p0, momentum=0.9)
    assert rel_error(history, np.array(losses)) <= 1e-12
    assert all(rel_error(got[k], theta[k]) <= 1e-12 for k in theta)
    assert rel_error(history, h_plain) > PASS_TOL
