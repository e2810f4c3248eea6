"""A scalar reverse-mode engine: backpropagation as a program over a graph of nodes (ps5).

Every :class:`Value` is a node holding a float ``data``. An operation makes a new node and stores,
in the forward pass, its ``parents`` and the **local derivatives** d(node)/d(parent), one per
parent (``local``): the forward pass keeps what the backward pass needs (lecture 002).
:func:`backward` visits the nodes in reverse topological order (every node after all the nodes
that consume it) and adds ``local * node.grad`` to each parent's gradient, so a value used twice
gets the **sum** of its two contributions. One backward pass uses every edge once; the chain rule
written out per parameter (one product per path, no reuse) uses an edge once per path through
it, which :func:`count_local_uses` counts.

Graphs can also be built from plain data (:func:`graph_from_spec`), which is how the grader
builds graphs whose local derivatives do not depend on a student's operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


class Value:
    """A scalar node: ``data``, ``grad`` (dL/d(node) after :func:`backward`), ``parents`` and
    the local derivatives ``local[i]`` = d(node)/d(parents[i]), computed in the forward pass."""

    def __init__(self, data: float, parents: Sequence[Value] = (), local: Sequence[float] = (),
                 op: str = "", label: str = "") -> None:
        if len(parents) != len(local):
            raise ValueError("one local derivative per parent")
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local = tuple(float(d) for d in local)
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other: Value | float) -> Value:
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | float) -> Value:
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k: float) -> Value:
        """self ** k for a constant (Python number) exponent k."""
        if isinstance(k, Value):
            raise TypeError("only a constant exponent is supported")
        k = float(k)
        return Value(self.data**k, (self,), (k * self.data ** (k - 1.0),), f"**{k:g}")

    def tanh(self) -> Value:
        th = math.tanh(self.data)
        return Value(th, (self,), (1.0 - th * th,), "tanh")

    def relu(self) -> Value:
        """max(x, 0) with derivative 0 at x = 0."""
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def log(self) -> Value:
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    # Derived operations: built from the ones above, so they need no derivative of their own.
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-as_value(other))

    def __truediv__(self, other: Value | float) -> Value:
        return self * as_value(other) ** -1.0

    def __radd__(self, other: float) -> Value:
        return as_value(other) + self

    def __rmul__(self, other: float) -> Value:
        return as_value(other) * self

    def __rsub__(self, other: float) -> Value:
        return as_value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return as_value(other) / self

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-x)), as three nodes of the graph."""
        return (1.0 + (-self).exp()) ** -1.0


def as_value(x: Value | float) -> Value:
    """``x`` itself when it is a node, else a new constant leaf."""
    return x if isinstance(x, Value) else Value(float(x))


def topological_order(root: Value) -> list[Value]:
    """Every node of ``root``'s graph once, each after all its parents; ``root`` is last."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:  # iterative depth-first search, post-order
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


def backward(root: Value) -> list[Value]:
    """Set ``node.grad`` = d root / d node for every node of the graph; return the visit order.

    Gradients are reset first (a second call gives the same result), the root's is 1, and each
    node, visited after all its consumers, adds ``local * grad`` to each of its parents.
    """
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    visited = list(reversed(order))
    for node in visited:
        for parent, d in zip(node.parents, node.local, strict=True):
            parent.grad += d * node.grad
    return visited


def consumers(root: Value) -> dict[int, list[Value]]:
    """id(node) -> the nodes of ``root``'s graph that use it (once per use)."""
    out: dict[int, list[Value]] = {id(n): [] for n in topological_order(root)}
    for node in topological_order(root):
        for parent in node.parents:
            out[id(parent)].append(node)
    return out


def order_problems(root: Value, visited: Sequence[Value]) -> list[str]:
    """Why ``visited`` is not a valid backward order of ``root``'s graph (empty when it is)."""
    nodes = topological_order(root)
    position = {id(n): i for i, n in enumerate(visited)}
    users = consumers(root)
    problems = []
    missing = [n for n in nodes if id(n) not in position]
    if missing or len(visited) != len(nodes):
        problems.append(f"{len(visited)} nodes visited, the graph has {len(nodes)}")
    for node in nodes:
        for user in users[id(node)]:
            if id(node) in position and id(user) in position \
                    and position[id(node)] < position[id(user)]:
                problems.append(f"{node.label or node.op} visited before its consumer "
                                f"{user.label or user.op}")
    return problems


def count_local_uses(root: Value, leaves: Iterable[Value]) -> tuple[int, int]:
    """(uses in one backward pass, uses without reuse) of local derivatives for d root/d leaf.

    One backward pass multiplies by each edge's local derivative once: the number of edges.
    Without reuse, d root/d leaf is a sum over the paths from ``leaf`` to ``root`` of products of
    local derivatives, one factor per edge of the path: the second number is the sum, over the
    leaves, of the lengths of all their paths.
    """
    order = topological_order(root)
    edges = sum(len(n.parents) for n in order)
    # paths[n] = number of paths n -> root, length[n] = their total length (root first).
    paths = {id(n): 0 for n in order}
    length = {id(n): 0 for n in order}
    paths[id(root)] = 1
    for node in reversed(order):
        for parent in node.parents:
            paths[id(parent)] += paths[id(node)]
            length[id(parent)] += length[id(node)] + paths[id(node)]
    return edges, sum(length.get(id(leaf), 0) for leaf in leaves)


def graph_from_spec(spec: Sequence[Sequence[Any]]) -> list[Value]:
    """Nodes from plain data, in order: ``(label, data)`` is a leaf, ``(label, data, parents,
    local)`` a node whose parents are earlier labels. The last node is the root."""
    nodes: dict[str, Value] = {}
    out = []
    for entry in spec:
        label, data = entry[0], entry[1]
        parents = [nodes[p] for p in entry[2]] if len(entry) > 2 else []
        local = entry[3] if len(entry) > 3 else []
        nodes[label] = Value(data, parents, local, "given", label)
        out.append(nodes[label])
    return out


def practice_graph(w: float, x: float, b: float, t: float) -> dict[str, Value]:
    """The practice problems' graph z = w x + b, y = x + tanh z, L = (y - t)^2 / 2 (x used
    twice); the named nodes w, x, b, t, z, y, L."""
    n = {k: Value(v, label=k) for k, v in (("w", w), ("x", x), ("b", b), ("t", t))}
    n["z"] = n["w"] * n["x"] + n["b"]
    n["y"] = n["x"] + n["z"].tanh()
    n["L"] = 0.5 * (n["y"] - n["t"]) ** 2
    return n


def bias_free_graph(x: Sequence[float], w: Sequence[float], t: float) -> tuple[Value, list[Value]]:
    """The bias-free 2-2-2-1 ReLU net of the practice problems with a sigmoid output and the
    binary cross-entropy: (loss node, the ten weight nodes w1..w10). x: (2,), w: (10,)."""
    ws = [Value(float(v), label=f"w{i + 1}") for i, v in enumerate(w)]
    x1, x2 = (Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x))
    h1 = (ws[0] * x1 + ws[1] * x2).relu()
    h2 = (ws[2] * x1 + ws[3] * x2).relu()
    h3 = (ws[4] * h1 + ws[5] * h2).relu()
    h4 = (ws[6] * h1 + ws[7] * h2).relu()
    y = (ws[8] * h3 + ws[9] * h4).sigmoid()
    loss = -t * y.log() - (1.0 - t) * (1.0 - y).log()
    return loss, ws
