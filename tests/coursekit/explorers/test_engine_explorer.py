"""Explorer 5 (the backward pass of a scalar engine), driven from Python with a small engine
written here: step through the visits, read the table and the verdict."""

from __future__ import annotations

import math
import re

import pytest

from coursekit.explorers import engine_explorer


class Node:
    """A minimal engine node: data, grad, parents, local derivatives, label."""

    def __init__(self, data, parents=(), local=(), label=""):
        self.data, self.grad = float(data), 0.0
        self.parents, self.local, self.label, self.op = tuple(parents), tuple(local), label, ""


def practice(w=0.5, x=1.0, b=-0.2, t=0.3):
    """z = w x + b, y = x + tanh z, L = (y - t)^2 / 2 with x used twice; returns (L, nodes)."""
    n = {k: Node(v, label=k) for k, v in (("w", w), ("x", x), ("b", b), ("t", t))}
    wx = Node(w * x, (n["w"], n["x"]), (x, w), "wx")
    n["z"] = Node(wx.data + b, (wx, n["b"]), (1.0, 1.0), "z")
    th = Node(math.tanh(n["z"].data), (n["z"],), (1 - math.tanh(n["z"].data) ** 2,), "tanh z")
    n["y"] = Node(x + th.data, (n["x"], th), (1.0, 1.0), "y")
    n["L"] = Node(0.5 * (n["y"].data - t) ** 2, (n["y"], n["t"]),
                  (n["y"].data - t, -(n["y"].data - t)), "L")
    return n["L"], n


def _topo(root):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for p in node.parents:
                visit(p)
            order.append(node)

    visit(root)
    return order


def good_backward(root, assign=False):
    order = _topo(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for p, d in zip(node.parents, node.local, strict=True):
            p.grad = d * node.grad if assign else p.grad + d * node.grad
    return order[::-1]


def rows(explorer):
    return re.findall(r'<tr(?: class="bp-current")? data-step="(\d+)">(.*?)</tr>',
                      explorer.table.value)


def test_stepping_replays_the_visits_and_ends_on_the_engines_own_grads():
    root, n = practice()
    ex = engine_explorer(root, good_backward)
    assert ex.step.max == len(ex.visited) == 9
    assert rows(ex) == [] and "0 of 9" in ex.summary.value
    ex.step.value = 1
    (step, row), = rows(ex)
    assert step == "1" and '<td class="bp-node">L</td>' in row
    assert "y.grad += " in row and "t.grad += " in row
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    ex.next.click()
    assert ex.step.value == 2 and len(rows(ex)) == 2
    ex.back.click()
    ex.back.click()
    ex.back.click()
    assert ex.step.value == 0
    ex.step.value = ex.step.max
    grads, log = ex.replay(ex.step.max)
    assert "equal the replay" in ex.summary.value
    for key in ("w", "x", "b", "z", "y"):
        assert math.isclose(grads[id(n[key])], n[key].grad, rel_tol=1e-12)
    # x is used twice: two visits add to it, and together they make its gradient
    adds = [a for row in log for p, _, _, a in row["adds"] if p == "x"]
    assert len(adds) == 2 and math.isclose(sum(adds), n["x"].grad, rel_tol=1e-12)


def test_an_assigning_backward_is_shown_where_it_differs_from_the_replay():
    root, n = practice()
    ex = engine_explorer(root, lambda r: good_backward(r, assign=True), label="backward")
    ex.step.value = ex.step.max
    text = ex.summary.value
    assert "differ" in text and "x: your backward left" in text
    assert "w:" not in text  # w is used once: assigning and adding agree there


def test_a_node_visited_before_its_consumer_shows_an_incomplete_gradient():
    u = Node(1.0, label="u")
    v = Node(2.0, (u,), (3.0,), "v")
    w = Node(0.5, (u, v), (2.0, -1.0), "w")
    r = Node(4.0, (w, u), (0.5, 1.0), "r")
    a = Node(1.0, (r,), (2.0,), "a")  # a deeper graph: r's grad comes from a

    def bfs(root):
        for node in _topo(root):
            node.grad = 0.0
        root.grad = 1.0
        order, queue, seen = [], [root], set()
        while queue:
            node = queue.pop(0)
            if id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            for p, d in zip(node.parents, node.local, strict=True):
                p.grad += d * node.grad
                queue.append(p)
        return order

    ex = engine_explorer(a, bfs)
    ex.step.value = ex.step.max
    assert [row["node"] for row in ex.rows] == ["a", "r", "w", "u", "v"]
    # the replay of the engine's own order reproduces its grads: the explorer shows the order
    assert "equal the replay" in ex.summary.value
    assert ex.rows[3]["node"] == "u" and ex.rows[3]["adds"] == []


@pytest.mark.parametrize("broken", [
    lambda root: (_ for _ in ()).throw(NotImplementedError()),
    lambda root: None,
])
def test_an_unfinished_backward_does_not_break_the_explorer(broken):
    root, _ = practice()
    ex = engine_explorer(root, broken)
    assert ex.step.max == 0
    assert "NotImplementedError" in ex.status.value or "returned no visiting order" in \
        ex.status.value
    ex.next.click()
    assert ex.step.value == 0


def test_not_built_in_the_graders_isolated_runner(monkeypatch):
    monkeypatch.setenv("BPC_TRUSTED_RUNNER", "1")
    root, _ = practice()
    assert engine_explorer(root, good_backward) is None
