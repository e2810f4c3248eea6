# %% [markdown]
# # Problem set 5 — Backpropagation as a program
#
# Problem sets 1 to 4 wrote the equations of backpropagation out by hand, for one graph at a
# time. Here you write backpropagation **once**, as a program that works for any graph, and then
# build networks out of parts whose backward passes you also wrote once.
#
# - **Part A** is a scalar *reverse-mode automatic differentiation* engine: every number is a
#   node of a graph that remembers where it came from and its local derivatives; one call of
#   `backward` then gives the derivative of the output with respect to every node. This is the
#   algorithm of lecture 002 as code: the forward pass stores what the backward pass needs, the
#   backward pass visits the nodes in reverse order and reuses every intermediate result.
# - **Part B** is the same idea one level up: layers (`affine`, `relu`, `sigmoid`,
#   `softmax_cross_entropy`) as forward/backward pairs with caches, composed into an $L$-layer
#   network and into the twin network with shared weights.
# - **Part C** trains your network with mini-batch gradient descent and momentum on a real data
#   set of handwritten digits.
#
# Notation as in `docs/conventions.md` and Problem set 3: a batch has one example per row,
# $\mathbf{A}^{(m)}$ is $N \times D^{(m)}$, $\mathbf{W}^{(m)}$ is $D^{(m)} \times D^{(m-1)}$,
# $\mathbf{b}^{(m)}$ is a column, and the batch loss is the **mean** over the $N$ examples.
# Gradients must match to a relative error of `1e-6`.
#
# Points: 27 in total (23 checked automatically, 4 manually graded).

# %%
STUDENT_ID = ""  # e.g. "jdoe42"; leave empty on JupyterHub

# %% cell="locked" grade_id="setup"
import math
import time

import matplotlib.pyplot as plt
import numpy as np

from coursekit import check, seeds
from coursekit.data import one_hot
from coursekit.digits import digits_split

ME = seeds.student_id(STUDENT_ID)
print(f"Working as student id {ME!r}.")

# %% [markdown]
# ## Part A — a scalar reverse-mode engine
#
# A `Value` is one node of a computation graph. It holds
#
# - `data`: the number computed in the forward pass;
# - `parents`: the nodes it was computed from (a tuple of `Value`s, empty for an input);
# - `local`: one **local derivative** per parent, $\partial(\text{node})/\partial(\text{parent})$,
#   computed in the forward pass, when everything it needs is at hand;
# - `grad`: $\partial \mathcal{L}/\partial(\text{node})$ once the backward pass has run.
#
# For $c = a \cdot b$ the node $c$ has `parents = (a, b)` and `local = (b.data, a.data)`. The
# backward pass starts with $\partial\mathcal{L}/\partial\mathcal{L} = 1$ and, for every node, adds
# `local[i] * node.grad` to `parents[i].grad`: one term of the chain rule per edge. A node used
# twice (like $x$ in $y = x + \tanh(wx + b)$) receives one such term from each use, and its
# gradient is their **sum**.
#
# ### Task 5.1 — the operations (3 points)
#
# Complete the seven operations of `Value` below. Each returns a **new** node with the right
# `data`, its `parents` and their `local` derivatives:
#
# | operation | data | local derivatives |
# |---|---|---|
# | `a + b` | $a + b$ | ? |
# | `a * b` | $a b$ | ? |
# | `a ** k` ($k$ a Python number) | $a^k$ | ? |
# | `a.tanh()`, `a.relu()`, `a.exp()`, `a.log()` | $\tanh a$, $\max(a, 0)$, $e^a$, $\ln a$ | ? |
#
# Use $\mathrm{ReLU}'(0) = 0$ and the `math` module. The other operations (`-`, `/`, a number on
# the left, `sigmoid`) are given: they are built from yours, so they need no derivative of their
# own. Points: 1 for `+`, `*`, `**`; 2 for `tanh`, `relu`, `exp`, `log`.

# %% cell="answer" grade_id="t5_1_answer"
def as_value(x):  # noqa: ANN001, ANN201
    """x itself when it is a Value, else a new input node holding the number x."""
    return x if isinstance(x, Value) else Value(float(x))


class Value:
    """A scalar node: data, grad, parents and local[i] = d(node)/d(parents[i])."""

    def __init__(self, data: float, parents: tuple = (), local: tuple = (), op: str = "",
                 label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local = tuple(float(d) for d in local)
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other: "Value | float") -> "Value":
        other = as_value(other)
        ### BEGIN SOLUTION
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")
        ### END SOLUTION

    def __mul__(self, other: "Value | float") -> "Value":
        other = as_value(other)
        ### BEGIN SOLUTION
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")
        ### END SOLUTION

    def __pow__(self, k: float) -> "Value":
        """self ** k for a constant (Python number) exponent k."""
        k = float(k)
        ### BEGIN SOLUTION
        return Value(self.data**k, (self,), (k * self.data ** (k - 1.0),), f"**{k:g}")
        ### END SOLUTION

    def tanh(self) -> "Value":
        ### BEGIN SOLUTION
        th = math.tanh(self.data)
        return Value(th, (self,), (1.0 - th * th,), "tanh")
        ### END SOLUTION

    def relu(self) -> "Value":
        ### BEGIN SOLUTION
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")
        ### END SOLUTION

    def exp(self) -> "Value":
        ### BEGIN SOLUTION
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")
        ### END SOLUTION

    def log(self) -> "Value":
        ### BEGIN SOLUTION
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")
        ### END SOLUTION

    # Given: operations built from the ones above.
    def __neg__(self) -> "Value":
        return self * -1.0

    def __sub__(self, other: "Value | float") -> "Value":
        return self + (-as_value(other))

    def __truediv__(self, other: "Value | float") -> "Value":
        return self * as_value(other) ** -1.0

    def __radd__(self, other: float) -> "Value":
        return as_value(other) + self

    def __rmul__(self, other: float) -> "Value":
        return as_value(other) * self

    def __rsub__(self, other: float) -> "Value":
        return as_value(other) - self

    def __rtruediv__(self, other: float) -> "Value":
        return as_value(other) / self

    def sigmoid(self) -> "Value":
        """1 / (1 + exp(-self)), as three nodes of the graph."""
        return (1.0 + (-self).exp()) ** -1.0


# %% cell="locked" grade_id="t5_1_given"
UNARY_OPS = ("tanh", "relu", "exp", "log")


def op_result(op: str, a: float, b: float = 0.0) -> tuple[float, list[float]]:
    """(data, local derivatives) of the node your Value makes for op in "+", "*", "**" (b is the
    exponent) or one of UNARY_OPS applied to a (b unused). Used by the checks and the grader."""
    x = Value(a)
    if op == "+":
        out = x + Value(b)
    elif op == "*":
        out = x * Value(b)
    elif op == "**":
        out = x**b
    elif op in UNARY_OPS:
        out = getattr(x, op)()
    else:
        raise ValueError(f"unknown operation {op!r}")
    if not isinstance(out, Value):
        raise TypeError(f"{op} returned {type(out).__name__}, not a Value")
    if len(out.parents) != len(out.local):
        raise ValueError(f"{op}: {len(out.parents)} parents but {len(out.local)} local derivatives")
    return out.data, [float(d) for d in out.local]


def fd_local(op: str, a: float, b: float = 0.0, h: float = 1e-6) -> list[float]:
    """Central differences of op's data with respect to each of its inputs (a, then b)."""
    if op in UNARY_OPS or op == "**":
        return [(op_result(op, a + h, b)[0] - op_result(op, a - h, b)[0]) / (2 * h)]
    return [(op_result(op, a + h, b)[0] - op_result(op, a - h, b)[0]) / (2 * h),
            (op_result(op, a, b + h)[0] - op_result(op, a, b - h)[0]) / (2 * h)]


# %%
# Try it: data and local derivatives of a few operations, next to finite differences.
for _op, _a, _b in [("+", 1.5, -0.5), ("*", 1.5, -0.5), ("**", 1.5, 3), ("tanh", 0.3, 0), ("log", 2.0, 0)]:
    print(_op, op_result(_op, _a, _b), fd_local(_op, _a, _b))

# %% cell="tests" grade_id="t5_1_tests_arith" points=1
"""Task 5.1: a + b, a * b and a ** k (1 point)."""
for _op, _a, _b, _want in [("+", 1.5, -0.5, 1.0), ("*", 1.5, -0.5, -0.75), ("**", 1.5, 3.0, 3.375), ("**", 4.0, -0.5, 0.5)]:
    _data, _local = op_result(_op, _a, _b)
    check.number(f"({_a} {_op} {_b}).data", _data, _want, rtol=1e-12)
    check.array(f"({_a} {_op} {_b}).local", np.array(_local), np.array(fd_local(_op, _a, _b)), tol=1e-7)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _ in range(5):
    _a, _b = _gen.uniform(0.3, 2.0), _gen.uniform(-2.0, 2.0)
    check.array(f"({_a:.3g} + {_b:.3g}).local", np.array(op_result("+", _a, _b)[1]), np.array([1.0, 1.0]), tol=1e-12)
    check.array(f"({_a:.3g} * {_b:.3g}).local", np.array(op_result("*", _a, _b)[1]), np.array([_b, _a]), tol=1e-12)
    check.number(f"({_a:.3g} ** {_b:.3g}).data", op_result("**", _a, _b)[0], _a**_b, rtol=1e-12)
    check.array(f"({_a:.3g} ** {_b:.3g}).local", np.array(op_result("**", _a, _b)[1]), np.array([_b * _a ** (_b - 1)]), tol=1e-12)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_1_tests_unary" points=2
"""Task 5.1: tanh, relu, exp and log (2 points)."""
for _op, _a in [("tanh", 0.3), ("tanh", -1.7), ("relu", 0.8), ("relu", -0.8), ("exp", -0.4), ("log", 2.5)]:
    _data, _local = op_result(_op, _a)
    check.number(f"Value({_a}).{_op}().data", _data, {"tanh": math.tanh, "relu": lambda v: max(v, 0.0), "exp": math.exp, "log": math.log}[_op](_a), rtol=1e-12)
    check.array(f"Value({_a}).{_op}().local", np.array(_local), np.array(fd_local(_op, _a)), tol=1e-7)
check.array("Value(0.0).relu().local", np.array(op_result("relu", 0.0)[1]), np.array([0.0]), tol=0.0)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _ in range(5):
    _a = _gen.uniform(-3, 3)
    _p = abs(_a) + 0.1
    check.array(f"Value({_a:.3g}).tanh().local", np.array(op_result("tanh", _a)[1]), np.array([1 - math.tanh(_a) ** 2]), tol=1e-12)
    check.array(f"Value({_a:.3g}).relu().local", np.array(op_result("relu", _a)[1]), np.array([float(_a > 0)]), tol=0.0)
    check.array(f"Value({_a:.3g}).exp().local", np.array(op_result("exp", _a)[1]), np.array([math.exp(_a)]), tol=1e-12)
    check.array(f"Value({_p:.3g}).log().local", np.array(op_result("log", _p)[1]), np.array([1 / _p]), tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.2 — the backward pass (3 points)
#
# Write two functions.
#
# - `topological_order(root)`: every node of `root`'s graph **once**, each one after all its
#   parents, `root` last. (Hint: a depth-first search that appends a node after visiting all its
#   parents. Nodes are not hashable by value: keep a `set` of `id(node)`.)
# - `backward(root)`: resets `grad` to 0 for every node of the graph, sets `root.grad = 1`, then
#   visits the nodes in **reverse** topological order and, for each node, adds
#   `local[i] * node.grad` to `parents[i].grad`. It returns the list of nodes in the order it
#   visited them.
#
# Why this order? A node may pass its gradient on only when it is complete, that is after
# **every** node that uses it has added its term. Why reset? So that a second call (a new
# training step) does not add to the gradients of the first. Why add and not assign? Because a
# node used twice gets one term per use.
#
# Points: 1 for a valid visiting order, 1 for the gradients on graphs where values are used more
# than once, 1 for the same result when `backward` is called twice.

# %% cell="answer" grade_id="t5_2_answer"
def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph once, each after all its parents; root is last."""
    ### BEGIN SOLUTION
    order, seen = [], set()

    def visit(node: Value) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order
    ### END SOLUTION


def backward(root: Value) -> list[Value]:
    """Set node.grad = d root / d node for every node of root's graph; return the visit order."""
    ### BEGIN SOLUTION
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    visited = order[::-1]
    for node in visited:
        for parent, d in zip(node.parents, node.local):
            parent.grad += d * node.grad
    return visited
    ### END SOLUTION


# %% cell="locked" grade_id="t5_2_given"
def graph_from_spec(spec: list) -> list[Value]:
    """Nodes from plain data, in order: (label, data) is an input, (label, data, parent labels,
    local derivatives) a node computed from earlier ones. The last node is the root."""
    nodes = {}
    for entry in spec:
        parents = [nodes[p] for p in entry[2]] if len(entry) > 2 else []
        nodes[entry[0]] = Value(entry[1], parents, entry[3] if len(entry) > 3 else [], "given", entry[0])
    return list(nodes.values())


def run_backward(spec: list, calls: int = 1) -> dict:
    """Build the graph of spec, call your backward on its root `calls` times; return the labels
    in the order of the last call ("order") and every node's grad ("grads"). Used by the grader."""
    nodes = graph_from_spec(spec)
    for _ in range(calls):
        visited = backward(nodes[-1])
    return {"order": [n.label for n in visited], "grads": {n.label: float(n.grad) for n in nodes}}


def order_problems(spec: list, order: list[str]) -> list[str]:
    """Why `order` (labels) is not a valid backward order of spec's graph; empty when it is."""
    labels = [e[0] for e in spec]
    if sorted(order) != sorted(labels):
        return [f"visited {order}, the graph's nodes are {labels}"]
    where = {lab: i for i, lab in enumerate(order)}
    return [f"{p} visited before its consumer {e[0]}" for e in spec if len(e) > 2 for p in e[2]
            if where[p] < where[e[0]]]


# The graph of the figure in lecture 002: u feeds v and, directly, the output r as well.
DIAMOND = [("u", 1.0), ("v", 2.0, ["u"], [3.0]), ("w", 0.5, ["u", "v"], [2.0, -1.0]),
           ("r", 4.0, ["w", "u"], [0.5, 1.0])]

# %%
# Try it: the visiting order and the gradients of the small graph above.
run_backward(DIAMOND)

# %% cell="tests" grade_id="t5_2_tests_order" points=1
"""Task 5.2: every node is visited after all the nodes that use it (1 point)."""
_res = run_backward(DIAMOND)
assert not order_problems(DIAMOND, _res["order"]), "backward's visiting order: " + "; ".join(order_problems(DIAMOND, _res["order"]))
assert _res["order"][0] == "r", "backward must start at the root"
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _k in range(4):
    _spec = [("x0", 1.0), ("x1", 1.0)]
    for _i in range(2, 9):
        _ps = sorted({f"x{_i - 1}", f"x{int(_gen.integers(0, _i - 1))}"})
        _spec.append((f"x{_i}", 1.0, _ps, list(_gen.uniform(0.5, 2.0, len(_ps)))))
    _o = run_backward(_spec)["order"]
    assert not order_problems(_spec, _o), "backward's visiting order: " + "; ".join(order_problems(_spec, _o))
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_2_tests_grads" points=1
"""Task 5.2: gradients are summed over every use of a node (1 point)."""
_g = run_backward(DIAMOND)["grads"]
# r = 0.5 w + u, w = 2 u - v, v = 3 u: dr/du = 1 + 0.5 * (2 - 3) = 0.5
_want = {"r": 1.0, "w": 0.5, "v": -0.5, "u": 0.5}
check.array("grads of the DIAMOND graph", np.array([_g[k] for k in _want]), np.array(list(_want.values())), tol=1e-12)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _k in range(4):
    _spec = [("x0", 1.0), ("x1", 1.0)]
    for _i in range(2, 9):
        _ps = sorted({f"x{_i - 1}", f"x{int(_gen.integers(0, _i - 1))}"})
        _spec.append((f"x{_i}", 1.0, _ps, list(_gen.uniform(-2.0, 2.0, len(_ps)))))
    _ref = {e[0]: 0.0 for e in _spec}
    _ref[_spec[-1][0]] = 1.0
    for _e in _spec[::-1]:
        for _p, _d in zip(_e[2] if len(_e) > 2 else [], _e[3] if len(_e) > 3 else [], strict=True):
            _ref[_p] += _d * _ref[_e[0]]
    _g = run_backward(_spec)["grads"]
    check.array("grads of a random graph", np.array([_g[k] for k in _ref]), np.array(list(_ref.values())), tol=1e-9)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_2_tests_reset" points=1
"""Task 5.2: a second call of backward gives the same gradients (1 point)."""
_once, _twice = run_backward(DIAMOND, calls=1)["grads"], run_backward(DIAMOND, calls=2)["grads"]
check.array("grads after two calls of backward", np.array(list(_twice.values())), np.array(list(_once.values())), tol=1e-12)
### BEGIN HIDDEN TESTS
_spec = [("a", 1.0), ("b", 2.0, ["a"], [1.5]), ("c", 3.0, ["a", "b"], [0.5, 2.0]), ("d", 1.0, ["c", "b"], [1.0, -1.0])]
check.array("grads after three calls of backward", np.array(list(run_backward(_spec, calls=3)["grads"].values())),
            np.array(list(run_backward(_spec)["grads"].values())), tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.3 — the practice graph, again (1 point)
#
# The graph of Problem set 1, Part A: $z = wx + b$, $y = x + \tanh z$,
# $\mathcal{L} = \frac12 (y - t)^2$, with $x$ used twice. Write `practice_grads(w, x, b, t)`: build
# the graph from `Value`s with your operations, call your `backward`, and return a dict of floats
# with the gradients of $\mathcal{L}$ with respect to `"w"`, `"x"`, `"b"`, `"z"` and `"y"`.
#
# Your numbers below are the ones of Problem set 1 (the same seed): compare with your answers
# there, and with finite differences in the try-it cell.

# %% cell="answer" grade_id="t5_3_answer"
def practice_grads(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """dL/dw, dL/dx, dL/db, dL/dz, dL/dy of z = w x + b, y = x + tanh z, L = (y - t)^2 / 2."""
    ### BEGIN SOLUTION
    n = {k: Value(v, label=k) for k, v in (("w", w), ("x", x), ("b", b), ("t", t))}
    n["z"] = n["w"] * n["x"] + n["b"]
    n["y"] = n["x"] + n["z"].tanh()
    loss = 0.5 * (n["y"] - n["t"]) ** 2
    backward(loss)
    return {k: n[k].grad for k in ("w", "x", "b", "z", "y")}
    ### END SOLUTION


# %% cell="locked" grade_id="t5_3_numbers"
q1 = seeds.numbers("ps1", ME, "t1_1", ["w", "x", "b", "t"])
print("Your numbers (as in Problem set 1):", q1)


def practice_loss(w: float, x: float, b: float, t: float) -> float:
    """L of the practice graph, in plain floats (for finite differences)."""
    return 0.5 * (x + math.tanh(w * x + b) - t) ** 2


# %%
# Try it: your engine next to central differences of the loss.
_g = practice_grads(**q1)
_h = 1e-6
{k: (_g[k], (practice_loss(**{**q1, k: q1[k] + _h}) - practice_loss(**{**q1, k: q1[k] - _h})) / (2 * _h))
 for k in ("w", "x", "b")}

# %% cell="tests" grade_id="t5_3_tests" points=1
"""Task 5.3: the practice graph at your numbers and at random ones (1 point)."""
_g = practice_grads(0.5, -1.0, 0.25, 0.3)
check.keys("practice_grads(...)", _g, ["w", "x", "b", "z", "y"])
_h = 1e-6
for _k, _i in (("w", 0), ("x", 1), ("b", 2)):
    _p, _m = [0.5, -1.0, 0.25, 0.3], [0.5, -1.0, 0.25, 0.3]
    _p[_i] += _h
    _m[_i] -= _h
    check.number(f"dL/d{_k}", _g[_k], (practice_loss(*_p) - practice_loss(*_m)) / (2 * _h), rtol=1e-6)
### BEGIN HIDDEN TESTS
_n = seeds.numbers("ps1", seeds.student_id(STUDENT_ID), "t1_1", ["w", "x", "b", "t"])
_gen = np.random.default_rng()
for _args in [(_n["w"], _n["x"], _n["b"], _n["t"])] + [tuple(_gen.uniform(-2, 2, 4)) for _ in range(3)]:
    _w, _x, _b, _t = _args
    _z = _w * _x + _b
    _dy = _x + math.tanh(_z) - _t
    _dz = _dy * (1 - math.tanh(_z) ** 2)
    _want = {"w": _dz * _x, "x": _dy + _dz * _w, "b": _dz, "z": _dz, "y": _dy}
    _g = practice_grads(*_args)
    for _k in _want:
        check.number(f"dL/d{_k} at w, x, b, t = {_args}", _g[_k], _want[_k], rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Explore: your backward pass, node by node
#
# The explorer runs **your** `backward` on the practice graph at your numbers and replays it one
# node at a time: which node is visited, and what it adds to each parent's gradient. Watch $x$
# receive two contributions. Nothing here is graded.

# %%
from coursekit.explorers import engine_explorer


def practice_root() -> Value:
    """The practice graph at your numbers, built with your Value (the root is L)."""
    n = {k: Value(v, label=k) for k, v in q1.items()}
    z = n["w"] * n["x"] + n["b"]
    z.label = "z"
    y = n["x"] + z.tanh()
    y.label = "y"
    loss = 0.5 * (y - n["t"]) ** 2
    loss.label = "L"
    return loss


engine_explorer(practice_root(), backward)

# %% [markdown]
# ### Task 5.4 — the bias-free network (1 point)
#
# The network of Problem set 1, Part C: inputs $x_1, x_2$, two hidden layers of two ReLU units,
# a sigmoid output $y = \sigma(w_9 h_3 + w_{10} h_4)$, no biases, and the binary cross-entropy
# $\mathcal{L} = -t \log y - (1 - t)\log(1 - y)$. Write `bias_free_root(x, w, t)` that builds this
# graph from `Value`s (`x`: shape `(2,)`, `w`: shape `(10,)` with `w[0]` $= w_1$) and returns the
# loss node and the list of the ten weight nodes; use the given `.sigmoid()` and `.log()`. The
# given `bias_free_grads` then runs your `backward` and returns $\partial\mathcal{L}/\partial w$,
# shape `(10,)`: compare it with your `q3_backward` of Problem set 1.

# %% cell="answer" grade_id="t5_4_answer"
def bias_free_root(x: np.ndarray, w: np.ndarray, t: float) -> tuple[Value, list[Value]]:
    """(loss node, [w1, ..., w10] nodes) of the bias-free 2-2-2-1 net. x: (2,), w: (10,)."""
    ### BEGIN SOLUTION
    ws = [Value(float(v), label=f"w{i + 1}") for i, v in enumerate(w)]
    x1, x2 = Value(float(x[0]), label="x1"), Value(float(x[1]), label="x2")
    h1 = (ws[0] * x1 + ws[1] * x2).relu()
    h2 = (ws[2] * x1 + ws[3] * x2).relu()
    h3 = (ws[4] * h1 + ws[5] * h2).relu()
    h4 = (ws[6] * h1 + ws[7] * h2).relu()
    y = (ws[8] * h3 + ws[9] * h4).sigmoid()
    loss = -t * y.log() - (1.0 - t) * (1.0 - y).log()
    return loss, ws
    ### END SOLUTION


# %% cell="locked" grade_id="t5_4_given"
def bias_free_grads(x: np.ndarray, w: np.ndarray, t: float) -> np.ndarray:
    """dL/dw (10,) from your graph and your backward."""
    loss, ws = bias_free_root(x, w, t)
    backward(loss)
    return np.array([v.grad for v in ws])


def bias_free_loss(x: np.ndarray, w: np.ndarray, t: float) -> float:
    """The loss of your graph, as a float."""
    return bias_free_root(x, w, t)[0].data


# %% cell="tests" grade_id="t5_4_tests" points=1
"""Task 5.4: dL/dw of the bias-free network against finite differences (1 point)."""
for _x, _w, _t in [(np.array([0.5, -1.0]), np.array([0.3, -0.6, 0.9, 0.4, -0.7, 1.1, 0.8, -0.2, 1.3, -0.9]), 1.0),
                   (np.array([-1.2, 0.7]), np.array([-0.5, 0.8, 0.6, -0.3, 0.9, 0.2, -0.4, 1.0, -1.1, 0.7]), 0.0)]:
    _wc = _w.copy()
    check.grad_fd("dL/dw", bias_free_grads(_x, _w, _t), lambda: bias_free_loss(_x, _wc, _t), _wc)  # noqa: B023
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_done = 0
while _done < 3:
    _x, _w, _t = _gen.uniform(-2, 2, 2), _gen.uniform(-1.5, 1.5, 10), float(_gen.integers(0, 2))
    _m1, _m2 = _w[0] * _x[0] + _w[1] * _x[1], _w[2] * _x[0] + _w[3] * _x[1]
    _h1, _h2 = max(_m1, 0), max(_m2, 0)
    _m3, _m4 = _w[4] * _h1 + _w[5] * _h2, _w[6] * _h1 + _w[7] * _h2
    if min(abs(_m1), abs(_m2), abs(_m3), abs(_m4)) < 1e-2:
        continue
    _done += 1
    _wc = _w.copy()
    check.number("loss of bias_free_root", bias_free_loss(_x, _w, _t),
                 float(np.logaddexp(0, _w[8] * max(_m3, 0) + _w[9] * max(_m4, 0)) - _t * (_w[8] * max(_m3, 0) + _w[9] * max(_m4, 0))), rtol=1e-9)
    check.grad_fd("dL/dw", bias_free_grads(_x, _w, _t), lambda: bias_free_loss(_x, _wc, _t), _wc)  # noqa: B023
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.5 — what reuse saves (1 point)
#
# Count the multiplications by a local derivative, the work of the chain rule.
#
# - One backward pass multiplies by each edge's local derivative **once**: the number of edges
#   (node, parent) of the graph.
# - Without reuse, as in the lecture's first attempt, $\partial \mathcal{L}/\partial w$ is written
#   out for each parameter $w$ on its own: a sum over all the paths from $w$ to $\mathcal{L}$ of
#   the product of the local derivatives along the path, one factor per edge. For a set of
#   parameters that costs the sum, over the parameters, of the lengths of all their paths.
#
# Write `count_local_uses(root, leaves)` returning the two counts `(one_pass, per_parameter)` as
# Python ints for any graph (`leaves` is a list of nodes of the graph). Count the paths without
# listing them: the number of paths from a node to the root, and their total length, can be
# computed for all nodes in one sweep in reverse topological order, from those of its consumers.

# %% cell="answer" grade_id="t5_5_answer"
def count_local_uses(root: Value, leaves: list[Value]) -> tuple[int, int]:
    """(edges of root's graph, sum over leaves of the lengths of all their paths to root)."""
    ### BEGIN SOLUTION
    order = topological_order(root)
    edges = sum(len(n.parents) for n in order)
    paths = {id(n): 0 for n in order}
    length = {id(n): 0 for n in order}
    paths[id(root)] = 1
    for node in order[::-1]:
        for parent in node.parents:
            paths[id(parent)] += paths[id(node)]
            length[id(parent)] += length[id(node)] + paths[id(node)]
    return edges, sum(length[id(leaf)] for leaf in leaves)
    ### END SOLUTION


# %% cell="locked" grade_id="t5_5_given"
def count_on_spec(spec: list, leaves: list[str]) -> list[int]:
    """Your count_local_uses on the graph of spec with the named leaves (used by the grader)."""
    nodes = {n.label: n for n in graph_from_spec(spec)}
    return [int(c) for c in count_local_uses(list(nodes.values())[-1], [nodes[k] for k in leaves])]


# %%
# Try it: the two counts for the ten weights of the bias-free network.
_loss, _ws = bias_free_root(np.array([0.5, -1.0]), np.linspace(-1, 1, 10), 1.0)
count_local_uses(_loss, _ws)

# %% cell="tests" grade_id="t5_5_tests" points=1
"""Task 5.5: the two counts on small graphs (1 point)."""
_chain = [("n0", 1.0)] + [(f"n{i}", 1.0, [f"n{i - 1}"], [2.0]) for i in range(1, 6)]
assert count_on_spec(_chain, ["n0", "n1", "n2", "n3", "n4"]) == [5, 15], "a chain of 5 edges: 5 uses in one pass, 5 + 4 + 3 + 2 + 1 without reuse"
assert count_on_spec(DIAMOND, ["u"]) == [5, 6], "DIAMOND: 5 edges; u reaches r by u-r, u-w-r and u-v-w-r"
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _k in range(3):
    _spec = [("x0", 1.0), ("x1", 1.0)]
    for _i in range(2, 9):
        _ps = sorted({f"x{_i - 1}", f"x{int(_gen.integers(0, _i - 1))}"})
        _spec.append((f"x{_i}", 1.0, _ps, [1.0] * len(_ps)))
    _users = {e[0]: [] for e in _spec}
    for _e in _spec:
        for _p in (_e[2] if len(_e) > 2 else []):
            _users[_p].append(_e[0])

    def _lengths(lab, root=_spec[-1][0], users=_users):  # noqa: ANN001, ANN202
        return [0] if lab == root else [n + 1 for u in users[lab] for n in _lengths(u)]

    _edges = sum(len(e[2]) for e in _spec if len(e) > 2)
    assert count_on_spec(_spec, ["x0", "x1", "x3"]) == [_edges, sum(sum(_lengths(v)) for v in ("x0", "x1", "x3"))], \
        "count_local_uses on a random graph"
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.6 — read your counts (2 points, manually graded)
#
# For the ten weights of the bias-free network, what are your two counts and their ratio? Which
# intermediate results does one backward pass compute once and reuse, that the per-parameter
# formulas compute again and again? How would the ratio change for a network with more layers,
# and what does the forward pass have to store so that the backward pass can run?

# %% [markdown] cell="written" grade_id="t5_6_written" points=2
# One backward pass uses each of the 54 edges of the graph once; the per-parameter formulas use
# 414 local derivatives for the ten weights, almost 8 times as many. The backward pass computes
# $\partial\mathcal{L}/\partial z$, $\partial\mathcal{L}/\partial h_3$,
# $\partial\mathcal{L}/\partial h_4$, $\partial\mathcal{L}/\partial m_3$, ... once and reuses each
# for every parameter below it; written out per parameter, the shared factors near the output
# (the sigmoid and loss nodes, $w_9$, $w_{10}$, the ReLU gates) are multiplied again for every
# parameter and every path, and the number of paths grows with the product of the layer widths.
# With more layers the per-parameter cost grows with depth times the number of paths (it can grow
# exponentially), while the backward pass stays one use per edge, so the ratio grows. The forward
# pass must keep every node's value, or directly its local derivatives (as `Value.local`), e.g.
# $1 - \tanh^2 z$, the ReLU gate, the other factor of a product.

# %% [markdown] cell="rubric" grade_id="t5_6_rubric"
# *The grader's rubric for Task 5.6 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: the two counts from their code (54 and 414 with the construction of the model
#   solution; other
#   constructions of the same network give other exact numbers: accept them if consistent) and
#   their ratio; names the reused quantities (the gradients of the nodes near the output, computed
#   once and shared by all parameters below).
# - 1 point: more layers make the per-parameter count grow much faster (paths multiply), the
#   backward pass stays one use per edge; the forward pass stores the values / local derivatives
#   the backward pass needs.
# ### END MARK SCHEME

# %% [markdown]
# ## Part B — layers you compose
#
# A layer is a pair of functions. `forward` computes the output and returns a **cache**: what
# `backward` will need. `backward` takes the gradient of the loss with respect to the output
# and the cache, and returns the gradients with respect to the inputs and parameters. A network
# is then forward calls in order and backward calls in the reverse order, like the nodes of
# Part A but with whole arrays.
#
# Shapes: `A_prev` is $(N, D_{in})$, `W` is $(D_{out}, D_{in})$, `b` is $(D_{out}, 1)$, `Z` is
# $(N, D_{out})$; `T` is one-hot $(N, C)$. The caches are fixed so that the parts fit together:
#
# | layer | forward returns | cache | backward returns |
# |---|---|---|---|
# | `affine` | `Z = A_prev W^T + 1_N b^T` | `(A_prev, W, b)` | `(dA_prev, dW, db)` |
# | `relu` | `A = max(Z, 0)` | `Z` | `dZ` |
# | `sigmoid` | `A = 1 / (1 + exp(-Z))` | `A` (the output!) | `dZ` |
# | `softmax_cross_entropy` | the mean loss (a float) | `(P, T)`, `P` the softmax of `Z` | `dZ` |
#
# The sigmoid's cache is its output: its derivative can be written with $A$ alone. The softmax
# must not overflow: subtract each row's maximum first. The loss is the **mean** over the batch.
#
# ### Task 5.7 — the four layers (6 points)
#
# Points: 1 each for `affine_forward`, `affine_backward`, the ReLU pair, the sigmoid pair,
# `softmax_cross_entropy_forward` and `softmax_cross_entropy_backward`. Each backward is checked
# with a cache made by the checker (in the format above), so a mistake in a forward pass does not
# cost its backward pass.

# %% cell="answer" grade_id="t5_7_answer"
def affine_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Z (N, D_out) = A_prev (N, D_in) W^T + b^T with W (D_out, D_in), b (D_out, 1).

    The cache is (A_prev, W, b).
    """
    ### BEGIN SOLUTION
    return A_prev @ W.T + b.T, (A_prev, W, b)
    ### END SOLUTION


def affine_backward(dZ: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From dZ (N, D_out): dA_prev (N, D_in), dW (D_out, D_in), db (D_out, 1)."""
    ### BEGIN SOLUTION
    A_prev, W, _ = cache
    return dZ @ W, dZ.T @ A_prev, dZ.sum(axis=0, keepdims=True).T
    ### END SOLUTION


def relu_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = max(Z, 0), same shape as Z; the cache is Z."""
    ### BEGIN SOLUTION
    return np.maximum(Z, 0.0), Z
    ### END SOLUTION


def relu_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ from dA and the cached Z (same shapes); ReLU'(0) = 0."""
    ### BEGIN SOLUTION
    return dA * (cache > 0)
    ### END SOLUTION


def sigmoid_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = 1 / (1 + exp(-Z)), same shape as Z; the cache is A."""
    ### BEGIN SOLUTION
    A = np.exp(-np.logaddexp(0.0, -Z))
    return A, A
    ### END SOLUTION


def sigmoid_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ from dA and the cached A (same shapes)."""
    ### BEGIN SOLUTION
    return dA * cache * (1.0 - cache)
    ### END SOLUTION


def softmax_cross_entropy_forward(Z: np.ndarray, T: np.ndarray) -> tuple[float, tuple]:
    """Mean cross-entropy of the row-wise softmax of Z (N, C), one-hot T (N, C); cache (P, T)."""
    ### BEGIN SOLUTION
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(T * log_p).sum() / Z.shape[0]), (np.exp(log_p), T)
    ### END SOLUTION


def softmax_cross_entropy_backward(cache: tuple) -> np.ndarray:
    """dZ (N, C) of the mean loss from the cache (P, T)."""
    ### BEGIN SOLUTION
    P, T = cache
    return (P - T) / P.shape[0]
    ### END SOLUTION


# %% cell="locked" grade_id="t5_7_given"
def layer_problem(rng: np.random.Generator, N: int, D_in: int, D_out: int) -> tuple:
    """A random A_prev (N, D_in), W (D_out, D_in), b (D_out, 1) and upstream dZ (N, D_out)."""
    return (rng.normal(0, 1, (N, D_in)), rng.normal(0, 1, (D_out, D_in)), rng.normal(0, 1, (D_out, 1)),
            rng.normal(0, 1, (N, D_out)))


def away_from_kink(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Random entries with |z| >= 0.1 (finite differences of ReLU are exact there)."""
    Z = rng.normal(0, 1, shape)
    return np.where(np.abs(Z) < 0.1, 0.1 * np.sign(Z) + 0.1 * (Z == 0), Z)


def relu_pair(Z: np.ndarray, dA: np.ndarray) -> dict[str, np.ndarray]:
    """Your relu_forward's A and your relu_backward's dZ with the cache Z."""
    return {"A": relu_forward(Z)[0], "dZ": relu_backward(dA, Z.copy())}


def sigmoid_pair(Z: np.ndarray, dA: np.ndarray) -> dict[str, np.ndarray]:
    """Your sigmoid_forward's A and your sigmoid_backward's dZ with the cache A = sigmoid(Z)."""
    return {"A": sigmoid_forward(Z)[0], "dZ": sigmoid_backward(dA, np.exp(-np.logaddexp(0.0, -Z)))}


def sce_backward_of(Z: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Your softmax_cross_entropy_backward with the cache (softmax(Z), T)."""
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    return softmax_cross_entropy_backward((P / P.sum(axis=1, keepdims=True), T))


# %%
# Try it: shapes of a forward and backward pass through one affine layer.
_A, _W, _b, _dZ = layer_problem(np.random.default_rng(0), 5, 3, 4)
_Z, _cache = affine_forward(_A, _W, _b)
[x.shape for x in (_Z, *affine_backward(_dZ, _cache))]

# %% cell="tests" grade_id="t5_7_tests_affine_forward" points=1
"""Task 5.7: affine_forward and its cache (1 point)."""
_Z, _cache = affine_forward(np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]]), np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 1.0]]), np.array([[0.5], [0.0], [-1.0]]))
check.array("Z", _Z, np.array([[-0.5, 3.0, 1.0], [2.0, 0.5, -2.0], [-2.5, 1.5, 2.0]]), tol=1e-12)
check.array("cache[0] (A_prev)", _cache[0], np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]]), tol=0.0)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in [(5, 3, 4), (2, 6, 3), (4, 4, 4)]:
    _A, _W, _b, _ = layer_problem(_gen, *_dims)
    _Z, _cache = affine_forward(_A, _W, _b)
    check.array("Z", _Z, np.einsum("nd,od->no", _A, _W) + _b[:, 0], tol=1e-12)
    for _i, _want in enumerate((_A, _W, _b)):
        check.array(f"cache[{_i}]", _cache[_i], _want, tol=0.0)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_7_tests_affine_backward" points=1
"""Task 5.7: affine_backward against finite differences (1 point)."""
for _seed, _dims in [(1, (5, 3, 4)), (2, (4, 4, 4))]:
    _A, _W, _b, _dZ = layer_problem(np.random.default_rng(_seed), *_dims)
    _dA, _dW, _db = affine_backward(_dZ, (_A, _W, _b))
    _f = lambda: float((affine_forward(_A, _W, _b)[0] * _dZ).sum())  # noqa: E731, B023 - L = sum(Z * dZ) has dL/dZ = dZ
    check.grads_fd({"A": _dA, "W": _dW, "b": _db}, _f, {"A": _A, "W": _W, "b": _b})
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in [(6, 2, 3), (3, 5, 2), (3, 3, 3)]:
    _A, _W, _b, _dZ = layer_problem(_gen, *_dims)
    _dA, _dW, _db = affine_backward(_dZ, (_A.copy(), _W.copy(), _b.copy()))
    check.array("dA_prev", _dA, np.einsum("no,od->nd", _dZ, _W), tol=1e-10)
    check.array("dW", _dW, np.einsum("no,nd->od", _dZ, _A), tol=1e-10)
    check.array("db", _db, _dZ.sum(axis=0)[:, None], tol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_7_tests_relu" points=1
"""Task 5.7: relu_forward and relu_backward (1 point)."""
_r = relu_pair(np.array([[1.5, -0.5], [-2.0, 0.25]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
check.array("A", _r["A"], np.array([[1.5, 0.0], [0.0, 0.25]]), tol=0.0)
check.array("dZ", _r["dZ"], np.array([[1.0, 0.0], [0.0, 4.0]]), tol=0.0)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_Z, _dA = away_from_kink(_gen, (5, 4)), _gen.normal(0, 1, (5, 4))
_r = relu_pair(_Z, _dA)
check.array("A", _r["A"], np.where(_Z > 0, _Z, 0.0), tol=0.0)
_Zc = _Z.copy()
check.grad_fd("dZ", _r["dZ"], lambda: float((relu_forward(_Zc)[0] * _dA).sum()), _Zc)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_7_tests_sigmoid" points=1
"""Task 5.7: sigmoid_forward and sigmoid_backward (1 point)."""
_Z = np.array([[0.0, 2.0], [-1.0, 800.0]])
_s = sigmoid_pair(_Z, np.ones((2, 2)))
check.array("A", _s["A"], np.array([[0.5, 0.8807970779778823], [0.2689414213699951, 1.0]]), tol=1e-12)
_Zc = np.array([[0.3, -1.2], [2.0, 0.7]])
_dA = np.array([[1.0, -2.0], [0.5, 3.0]])
check.grad_fd("dZ", sigmoid_pair(_Zc, _dA)["dZ"], lambda: float((sigmoid_forward(_Zc)[0] * _dA).sum()), _Zc)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_Z, _dA = _gen.normal(0, 3, (4, 5)), _gen.normal(0, 1, (4, 5))
_s = sigmoid_pair(_Z, _dA)
check.array("A", _s["A"], 0.5 * (1 + np.tanh(_Z / 2)), tol=1e-12)
check.array("dZ", _s["dZ"], _dA * 0.25 * (1 - np.tanh(_Z / 2) ** 2), tol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_7_tests_sce_forward" points=1
"""Task 5.7: softmax_cross_entropy_forward, the mean loss, without overflow (1 point)."""
_Z = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0]])
_T = one_hot(np.array([0, 2, 1]), 3)
_loss, _cache = softmax_cross_entropy_forward(_Z, _T)
check.number("loss", _loss, (0.40760596444437994 + math.log(3.0) + 1000.0) / 3, rtol=1e-12)
check.array("cache[0] (P)", _cache[0], np.exp(_Z - _Z.max(axis=1, keepdims=True)) / np.exp(_Z - _Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True), tol=1e-12)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _N, _C in [(5, 3), (2, 6)]:
    _Z, _T = _gen.normal(0, 2, (_N, _C)), one_hot(_gen.integers(0, _C, _N), _C)
    _lse = np.logaddexp.reduce(_Z, axis=1)
    check.number("loss", softmax_cross_entropy_forward(_Z, _T)[0], float(np.mean(_lse - (_T * _Z).sum(axis=1))), rtol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_7_tests_sce_backward" points=1
"""Task 5.7: softmax_cross_entropy_backward: dZ of the mean loss (1 point)."""
_Zc = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.2, 0.1, 0.3], [-1.0, 2.0, 0.0]])
_T = one_hot(np.array([2, 0, 1, 1]), 3)
check.grad_fd("dZ", sce_backward_of(_Zc, _T), lambda: softmax_cross_entropy_forward(_Zc, _T)[0], _Zc)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _N, _C in [(6, 3), (3, 5)]:
    _Z, _T = _gen.normal(0, 2, (_N, _C)), one_hot(_gen.integers(0, _C, _N), _C)
    _P = np.exp(_Z - np.logaddexp.reduce(_Z, axis=1, keepdims=True))
    check.array("dZ", sce_backward_of(_Z, _T), (_P - _T) / _N, tol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.8 — an $L$-layer network from your layers (3 points)
#
# `params` holds `"W1", "b1", ..., "WL", "bL"` ($L$ = `len(params) // 2`). Layers $1$ to $L-1$
# are affine followed by `hidden` (`"relu"` or `"sigmoid"`), layer $L$ is affine followed by the
# softmax with the mean cross-entropy. Write `mlp_loss_grads(X, T, params, hidden)` returning the
# loss (a float) and a dict of the gradients with the keys of `params`. Use only your layer
# functions: keep each layer's cache in a list during the forward pass, and walk that list
# backwards. Points: 1 for the loss, 2 for the gradients.

# %% cell="answer" grade_id="t5_8_answer"
def mlp_loss_grads(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray],
                   hidden: str = "relu") -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of the L-layer net on X (N, D), T (N, C); gradients, params' keys."""
    ### BEGIN SOLUTION
    L = len(params) // 2
    act_forward = relu_forward if hidden == "relu" else sigmoid_forward
    act_backward = relu_backward if hidden == "relu" else sigmoid_backward
    A, caches = X, []
    for m in range(1, L + 1):
        Z, aff = affine_forward(A, params[f"W{m}"], params[f"b{m}"])
        if m < L:
            A, act = act_forward(Z)
            caches.append((aff, act))
        else:
            loss, loss_cache = softmax_cross_entropy_forward(Z, T)
            caches.append((aff, None))
    grads = {}
    dZ = softmax_cross_entropy_backward(loss_cache)
    for m in range(L, 0, -1):
        aff, _ = caches[m - 1]
        dA, grads[f"W{m}"], grads[f"b{m}"] = affine_backward(dZ, aff)
        if m > 1:
            dZ = act_backward(dA, caches[m - 2][1])
    return loss, grads
    ### END SOLUTION


# %% cell="locked" grade_id="t5_8_given"
def mlp_problem(rng: np.random.Generator, N: int, sizes: tuple, hidden: str = "relu") -> tuple:
    """X (N, D_0), one-hot T (N, D_L) and params of an MLP with sizes (D_0, ..., D_L); for ReLU
    every hidden pre-activation is at least 1e-2 away from 0."""
    while True:
        params = {}
        for m in range(1, len(sizes)):
            params[f"W{m}"] = rng.normal(0, 1 / np.sqrt(sizes[m - 1]), (sizes[m], sizes[m - 1]))
            params[f"b{m}"] = rng.normal(0, 0.3, (sizes[m], 1))
        X, T = rng.normal(0, 1, (N, sizes[0])), one_hot(rng.integers(0, sizes[-1], N), sizes[-1])
        A, ok = X, True
        for m in range(1, len(sizes) - 1):
            Z = A @ params[f"W{m}"].T + params[f"b{m}"].T
            ok = ok and np.abs(Z).min() >= 1e-2
            A = np.maximum(Z, 0) if hidden == "relu" else 1 / (1 + np.exp(-Z))
        if ok or hidden != "relu":
            return X, T, params, hidden


def mlp_grads(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """The gradients of your mlp_loss_grads (used by the checks and the grader)."""
    return mlp_loss_grads(X, T, params, hidden)[1]


def mlp_loss_only(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> float:
    """The loss of your mlp_loss_grads."""
    return float(mlp_loss_grads(X, T, params, hidden)[0])


def fd_param_grads(loss_fn, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Central differences of loss_fn(P) with respect to every array of a copy P of params."""
    P = {k: v.copy() for k, v in params.items()}
    return {k: check.numerical_gradient(lambda: loss_fn(P), P[k]) for k in P}


# %% cell="tests" grade_id="t5_8_tests_loss" points=1
"""Task 5.8: the loss of a 3-layer network (1 point)."""
_X, _T, _p, _ = mlp_problem(np.random.default_rng(81), 5, (3, 4, 5, 2))
_lp = {"W1": np.array([[1.0, -1.0]]), "b1": np.array([[0.5]]), "W2": np.array([[2.0], [-1.0]]), "b2": np.zeros((2, 1))}
check.number("mlp_loss_only on a tiny net", mlp_loss_only(np.array([[1.0, 0.0], [0.0, 1.0]]), np.eye(2), _lp),
             0.5 * (math.log1p(math.exp(-4.5)) + math.log1p(math.exp(0.0))), rtol=1e-10)
check.finite_number("mlp_loss_only", mlp_loss_only(_X, _T, _p))
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _sizes, _hid in [((4, 6, 3), "relu"), ((3, 5, 4, 2), "sigmoid")]:
    _X, _T, _p, _ = mlp_problem(_gen, 6, _sizes, _hid)
    _A = _X
    for _m in range(1, len(_sizes)):
        _Z = _A @ _p[f"W{_m}"].T + _p[f"b{_m}"].T
        _A = (np.maximum(_Z, 0) if _hid == "relu" else 1 / (1 + np.exp(-_Z))) if _m < len(_sizes) - 1 else _Z
    check.number("mlp_loss_only", mlp_loss_only(_X, _T, _p, _hid),
                 float(np.mean(np.logaddexp.reduce(_A, axis=1) - (_T * _A).sum(axis=1))), rtol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t5_8_tests_grads" points=2
"""Task 5.8: the gradients of L-layer networks against finite differences (2 points)."""
for _seed, _sizes, _hid in [(82, (3, 4, 5, 2), "relu"), (83, (4, 3, 3), "sigmoid")]:
    _X, _T, _p, _ = mlp_problem(np.random.default_rng(_seed), 5, _sizes, _hid)
    check.grads(f"mlp_grads with sizes {_sizes}, {_hid}", mlp_grads(_X, _T, _p, _hid),
                fd_param_grads(lambda P: mlp_loss_only(_X, _T, P, _hid), _p), n=5, against="finite differences of your loss")  # noqa: B023
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _sizes, _hid in [((5, 4, 3), "relu"), ((2, 6, 4, 3, 5), "relu"), ((3, 4, 2), "sigmoid")]:
    _X, _T, _p, _ = mlp_problem(_gen, 7, _sizes, _hid)
    _Lf = lambda P: float(np.mean(np.logaddexp.reduce(_logits(P), axis=1) - (_T * _logits(P)).sum(axis=1)))  # noqa: E731, B023

    def _logits(P, X=_X, sizes=_sizes, hid=_hid):  # noqa: ANN001, ANN202
        A = X
        for m in range(1, len(sizes)):
            Z = A @ P[f"W{m}"].T + P[f"b{m}"].T
            A = (np.maximum(Z, 0) if hid == "relu" else 1 / (1 + np.exp(-Z))) if m < len(sizes) - 1 else Z
        return A

    check.grads(f"mlp_grads with sizes {_sizes}, {_hid}", mlp_grads(_X, _T, _p, _hid), fd_param_grads(_Lf, _p), n=7,
                against="finite differences")
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.9 — the twin network from your layers (2 points)
#
# The twin network of Problem set 4 with a softmax head: two inputs $\mathbf{X}_a$,
# $\mathbf{X}_b$ $(N, D)$ go through the **same** first layer,
#
# $$\mathbf{H}_a = \mathrm{ReLU}(\mathbf{X}_a \mathbf{W}^{(1)\top} + \mathbf{1}_N \mathbf{b}^{(1)\top}),\quad
#   \mathbf{H}_b = \mathrm{ReLU}(\mathbf{X}_b \mathbf{W}^{(1)\top} + \mathbf{1}_N \mathbf{b}^{(1)\top}),\quad
#   \mathbf{H} = \mathbf{H}_a \odot \mathbf{H}_b,$$
#
# then $\mathbf{Z} = \mathbf{H}\mathbf{W}^{(2)\top} + \mathbf{1}_N \mathbf{b}^{(2)\top}$ $(N, C)$
# and the mean softmax cross-entropy. Write `twin_loss_grads(Xa, Xb, T, params)` with your
# layers: call `affine_forward` **twice** with the same `W1`, `b1` (two caches). The gradient of
# a weight used twice is the **sum** of the gradients of its two uses, exactly as for a `Value`
# used twice in Part A. Return the loss and a dict with `"W1"`, `"b1"`, `"W2"`, `"b2"`.

# %% cell="answer" grade_id="t5_9_answer"
def twin_loss_grads(Xa: np.ndarray, Xb: np.ndarray, T: np.ndarray,
                    params: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """Mean loss of the twin net on Xa, Xb (N, D), T (N, C).

    Gradients: W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    """
    ### BEGIN SOLUTION
    Ma, aff_a = affine_forward(Xa, params["W1"], params["b1"])
    Ha, relu_a = relu_forward(Ma)
    Mb, aff_b = affine_forward(Xb, params["W1"], params["b1"])
    Hb, relu_b = relu_forward(Mb)
    Z, aff_2 = affine_forward(Ha * Hb, params["W2"], params["b2"])
    loss, loss_cache = softmax_cross_entropy_forward(Z, T)
    dH, dW2, db2 = affine_backward(softmax_cross_entropy_backward(loss_cache), aff_2)
    _, dW1a, db1a = affine_backward(relu_backward(dH * Hb, relu_a), aff_a)
    _, dW1b, db1b = affine_backward(relu_backward(dH * Ha, relu_b), aff_b)
    return loss, {"W1": dW1a + dW1b, "b1": db1a + db1b, "W2": dW2, "b2": db2}
    ### END SOLUTION


# %% cell="locked" grade_id="t5_9_given"
def twin_problem(rng: np.random.Generator, N: int, D: int, H: int, C: int) -> tuple:
    """Xa, Xb (N, D), one-hot T (N, C) and params with both branches' ReLU inputs >= 1e-2 from 0."""
    while True:
        params = {"W1": rng.normal(0, 1, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
                  "W2": rng.normal(0, 1, (C, H)), "b2": rng.normal(0, 0.5, (C, 1))}
        Xa, Xb = rng.normal(0, 1, (N, D)), rng.normal(0, 1, (N, D))
        M = np.concatenate([Xa, Xb]) @ params["W1"].T + params["b1"].T
        if np.abs(M).min() >= 1e-2 and (M > 0).any(axis=0).all():
            return Xa, Xb, one_hot(rng.integers(0, C, N), C), params


def twin_grads(Xa: np.ndarray, Xb: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The gradients of your twin_loss_grads (used by the checks and the grader)."""
    return twin_loss_grads(Xa, Xb, T, params)[1]


# %% cell="tests" grade_id="t5_9_tests" points=2
"""Task 5.9: the twin network's gradients, the shared W1 and b1 summed over both uses (2 points)."""
for _seed, _dims in [(91, (5, 3, 4, 2)), (92, (4, 3, 3, 3))]:
    _Xa, _Xb, _T, _p = twin_problem(np.random.default_rng(_seed), *_dims)
    _g = twin_grads(_Xa, _Xb, _T, _p)
    check.keys("twin_grads(...)", _g, ["W1", "b1", "W2", "b2"])
    check.grads(f"twin_grads with N, D, H, C = {_dims}", _g,
                fd_param_grads(lambda P: float(twin_loss_grads(_Xa, _Xb, _T, P)[0]), _p), n=_dims[0],  # noqa: B023
                against="finite differences of your loss")
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in [(6, 2, 5, 3), (3, 4, 3, 2)]:
    _Xa, _Xb, _T, _p = twin_problem(_gen, *_dims)

    def _twin_L(P, Xa=_Xa, Xb=_Xb, T=_T):  # noqa: ANN001, ANN202
        H = np.maximum(Xa @ P["W1"].T + P["b1"].T, 0) * np.maximum(Xb @ P["W1"].T + P["b1"].T, 0)
        Z = H @ P["W2"].T + P["b2"].T
        return float(np.mean(np.logaddexp.reduce(Z, axis=1) - (T * Z).sum(axis=1)))

    check.grads(f"twin_grads with N, D, H, C = {_dims}", twin_grads(_Xa, _Xb, _T, _p), fd_param_grads(_twin_L, _p),
                n=_dims[0], against="finite differences")
### END HIDDEN TESTS

# %% [markdown]
# ## Part C — training on real data: 8x8 handwritten digits
#
# `digits_split()` loads the 1797 images of handwritten digits that ship with scikit-learn
# (`sklearn.datasets.load_digits`, a copy of the UCI *Optical Recognition of Handwritten Digits*
# test set; nothing is downloaded). Each image is 8x8 pixels, flattened to 64 features in
# $[0, 1]$. It returns a shuffled split: 1437 images to train on and 360 to **validate** on,
# images the network never trains on, which tell how well it generalises.
#
# **Mini-batch gradient descent** takes each step on a batch of $B$ examples instead of all $N$:
# many cheap, noisy steps instead of a few exact ones. **Momentum** keeps a velocity per parameter,
# a running sum of past gradients, and steps along it:
#
# $$\mathbf{v} \leftarrow \beta \mathbf{v} + \nabla_\theta \mathcal{L},\qquad \theta \leftarrow \theta - \eta\, \mathbf{v}.$$
#
# The velocity starts at zero and is **carried** from one step to the next; with $\beta = 0$ this
# is plain gradient descent.
#
# ### Task 5.10 — `momentum_step` (1 point)
#
# `momentum_step(params, grads, velocity, lr, beta)` returns the new parameters and the new
# velocity, both **new** dicts of new arrays with the keys of `params` (do not modify the
# arguments).

# %% cell="answer" grade_id="t5_10_answer"
def momentum_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                  velocity: dict[str, np.ndarray], lr: float,
                  beta: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One step of gradient descent with momentum; returns (new params, new velocity)."""
    ### BEGIN SOLUTION
    new_v = {k: beta * velocity[k] + grads[k] for k in params}
    return {k: params[k] - lr * new_v[k] for k in params}, new_v
    ### END SOLUTION


# %% cell="tests" grade_id="t5_10_tests" points=1
"""Task 5.10: two momentum steps, arguments left unchanged (1 point)."""
_p, _g, _v = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[0.5]])}, {"W1": np.array([[0.5, -1.0]]), "b1": np.array([[2.0]])}, {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
_p1, _v1 = momentum_step(_p, _g, _v, 0.1, 0.9)
_p2, _v2 = momentum_step(_p1, _g, _v1, 0.1, 0.9)
check.array("velocity['W1'] after two steps", _v2["W1"], np.array([[0.95, -1.9]]), tol=1e-12)
check.array("params['W1'] after two steps", _p2["W1"], np.array([[0.855, 2.29]]), tol=1e-12)
check.array("params['W1'] (the argument) after momentum_step", _p["W1"], np.array([[1.0, 2.0]]), tol=0.0)
check.array("velocity['W1'] (the argument) after momentum_step", _v["W1"], np.zeros((1, 2)), tol=0.0)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_p = {"W1": _gen.normal(size=(3, 2)), "b1": _gen.normal(size=(3, 1))}
_g = {k: _gen.normal(size=v.shape) for k, v in _p.items()}
_v = {k: _gen.normal(size=v.shape) for k, v in _p.items()}
_np, _nv = momentum_step(_p, _g, _v, 0.05, 0.8)
for _k in _p:
    check.array(f"velocity[{_k!r}]", _nv[_k], 0.8 * _v[_k] + _g[_k], tol=1e-12)
    check.array(f"params[{_k!r}]", _np[_k], _p[_k] - 0.05 * (0.8 * _v[_k] + _g[_k]), tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Task 5.11 — `train_sgd` (1 point)
#
# `train_sgd(X, T, params, hidden, lr, beta, batch_size, epochs, seed)` trains with your
# `mlp_loss_grads` and `momentum_step`:
#
# - `rng = np.random.default_rng(seed)`, velocities start at zero (`np.zeros_like`);
# - each epoch draws `order = rng.permutation(N)` and takes the batches
#   `order[s * batch_size:(s + 1) * batch_size]` for `s` in `range(N // batch_size)` (the
#   remainder is left out);
# - each step computes the loss and gradients of its batch and takes one momentum step; the
#   velocity is carried over to the next step (and the next epoch).
#
# Return the trained parameters (new arrays; `params` stays unchanged) and the array of the
# batch losses, shape `(epochs * (N // batch_size),)`, each computed before its step's update.

# %% cell="answer" grade_id="t5_11_answer"
def train_sgd(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str,
              lr: float, beta: float, batch_size: int, epochs: int,
              seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Mini-batch SGD with momentum on X (N, D), T (N, C); returns (new params, batch losses)."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    theta = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    N = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(N)
        for s in range(N // batch_size):
            idx = order[s * batch_size:(s + 1) * batch_size]
            loss, grads = mlp_loss_grads(X[idx], T[idx], theta, hidden)
            losses.append(loss)
            theta, velocity = momentum_step(theta, grads, velocity, lr, beta)
    return theta, np.array(losses)
    ### END SOLUTION


# %% cell="locked" grade_id="t5_11_given"
def train_summary(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str, lr: float, beta: float,
                  batch_size: int, epochs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Your train_sgd as one dict: the trained parameters and "losses" (used by the grader)."""
    trained, losses = train_sgd(X, T, params, hidden, lr, beta, batch_size, epochs, seed)
    return {**{k: trained[k] for k in params}, "losses": np.asarray(losses, dtype=np.float64)}


def predict(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> np.ndarray:
    """Predicted classes (N,): the largest output of the network for each row of X."""
    A = X
    L = len(params) // 2
    for m in range(1, L + 1):
        A = A @ params[f"W{m}"].T + params[f"b{m}"].T
        if m < L:
            A = relu_forward(A)[0] if hidden == "relu" else sigmoid_forward(A)[0]
    return np.argmax(A, axis=1)


# %% cell="tests" grade_id="t5_11_tests" points=1
"""Task 5.11: two epochs on a small problem, with your own layers and steps (1 point)."""
_X, _T, _p, _ = mlp_problem(np.random.default_rng(111), 10, (3, 5, 2))
_before = {k: v.copy() for k, v in _p.items()}
_run = train_summary(_X, _T, _p, "relu", 0.1, 0.9, 4, 2, seed=3)
check.shape("losses", _run["losses"], (4,))
for _k in _p:
    check.array(f"params[{_k!r}] after train_sgd", _p[_k], _before[_k], tol=0.0)
_order = np.random.default_rng(3).permutation(10)[:4]
check.number("losses[0]", _run["losses"][0], mlp_loss_only(_X[_order], _T[_order], _before), rtol=1e-12)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_X, _T, _p, _ = mlp_problem(_gen, 13, (4, 6, 3, 3))
_r = np.random.default_rng(5)
_q = {k: v.copy() for k, v in _p.items()}
_vel = {k: np.zeros_like(v) for k, v in _p.items()}
_ls = []
for _e in range(3):
    _o = _r.permutation(13)
    for _s in range(13 // 4):
        _i = _o[4 * _s:4 * _s + 4]
        _l, _gr = mlp_loss_grads(_X[_i], _T[_i], _q, "relu")
        _ls.append(_l)
        _vel = {k: 0.7 * _vel[k] + _gr[k] for k in _q}
        _q = {k: _q[k] - 0.2 * _vel[k] for k in _q}
_run = train_summary(_X, _T, _p, "relu", 0.2, 0.7, 4, 3, seed=5)
check.array("losses", _run["losses"], np.array(_ls), tol=1e-9)
for _k in _q:
    check.array(f"trained {_k}", _run[_k], _q[_k], tol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Train on the digits
#
# The next cell trains a network with two hidden ReLU layers (64 -> 64 -> 32 -> 10) with your
# `train_sgd`: batches of 32, $\eta = 0.1$, $\beta = 0.9$, 15 epochs, about 670 steps. It takes
# well under a second of CPU time with NumPy. It then draws the learning curve (the loss of each
# mini-batch, and its running mean) and reports the accuracy on the validation images.

# %% cell="locked" grade_id="t5_12_train"
DIGITS_SETUP = {"hidden": "relu", "lr": 0.1, "beta": 0.9, "batch_size": 32, "epochs": 15, "seed": 2}


def digits_start(sizes: tuple = (64, 64, 32, 10), seed: int = 1) -> dict[str, np.ndarray]:
    """Starting parameters: W^(m) with standard deviation sqrt(2 / D^(m-1)) (He), b^(m) = 0."""
    rng = np.random.default_rng(seed)
    params = {}
    for m in range(1, len(sizes)):
        params[f"W{m}"] = rng.normal(0, np.sqrt(2.0 / sizes[m - 1]), (sizes[m], sizes[m - 1]))
        params[f"b{m}"] = np.zeros((sizes[m], 1))
    return params


def digits_result() -> dict[str, np.ndarray]:
    """Train on the digits with DIGITS_SETUP; the losses and the validation accuracy (grader)."""
    X_tr, y_tr, X_va, y_va = digits_split()
    run = train_summary(X_tr, one_hot(y_tr, 10), digits_start(), **DIGITS_SETUP)
    trained = {k: v for k, v in run.items() if k != "losses"}
    return {"losses": run["losses"], "val_accuracy": float(np.mean(predict(X_va, trained) == y_va))}


X_train, y_train, X_val, y_val = digits_split()
_cpu = time.process_time()
P_digits, curve = train_sgd(X_train, one_hot(y_train, 10), digits_start(), **DIGITS_SETUP)
cpu_seconds = time.process_time() - _cpu
val_accuracy = float(np.mean(predict(X_val, P_digits) == y_val))
train_accuracy = float(np.mean(predict(X_train, P_digits) == y_train))
print(f"{len(curve)} steps in {cpu_seconds:.2f} s of CPU; training accuracy {train_accuracy:.1%}, "
      f"validation accuracy {val_accuracy:.1%}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(curve, lw=0.6, alpha=0.5, label="each mini-batch")
ax1.plot(np.convolve(curve, np.ones(44) / 44, mode="valid"), lw=2, label="running mean (one epoch)")
ax1.set_yscale("log")
ax1.set_xlabel("step")
ax1.set_ylabel("mean cross-entropy of the batch")
ax1.set_title("Learning curve")
ax1.legend()
_wrong = np.flatnonzero(predict(X_val, P_digits) != y_val)[:8]
ax2.imshow(np.hstack([X_val[i].reshape(8, 8) for i in _wrong]) if len(_wrong) else np.zeros((8, 8)), cmap="gray_r")
ax2.set_title("Misclassified validation images: " + ", ".join(
    f"{y_val[i]}->{predict(X_val[i:i + 1], P_digits)[0]}" for i in _wrong), fontsize=9)
ax2.axis("off")
plt.show()

# %% cell="tests" grade_id="t5_12_tests" points=1
"""Task 5.12: your training reaches at least 95% validation accuracy on the digits (1 point)."""
_res = digits_result()
check.shape("losses", _res["losses"], (15 * (1437 // 32),))
assert _res["val_accuracy"] >= 0.95, f"validation accuracy {_res['val_accuracy']:.3f} < 0.95"
assert _res["losses"][-44:].mean() < 0.2 * _res["losses"][:44].mean(), "the loss of the last epoch should be far below that of the first"

# %% [markdown]
# ### Task 5.13 — read your learning curve (2 points, manually graded)
#
# Why is the curve of the mini-batch losses so noisy, and what does the running mean show?
# Set $\beta = 0$ (edit a copy of the training cell in a new cell) and compare the curves and the
# validation accuracy after 15 epochs; explain the difference with what the velocity does. Why
# do we report the accuracy on the validation images rather than on the training images?

# %% [markdown] cell="written" grade_id="t5_13_written" points=2
# Each point of the curve is the loss of a different batch of 32 images, a random sample: some
# batches are easier than others, so the curve jumps around its trend; the running mean over one
# epoch averages that noise away and shows the trend, a fast drop in the first epoch and a slow
# decrease after. With $\beta = 0$ the loss falls more slowly and validation accuracy after 15
# epochs is a few points lower: with momentum the velocity adds up the gradients of consecutive
# steps, so in directions where they agree the step grows (up to $1/(1-\beta) = 10$ times), and
# the noise of single batches, which points in varying directions, partly cancels. The training
# accuracy is measured on images the network has fitted (it is higher); only images
# it never trained on tell how well it generalises, so we report the validation accuracy.

# %% [markdown] cell="rubric" grade_id="t5_13_rubric"
# *The grader's rubric for Task 5.13 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: noise because every step uses a different random batch (a noisy estimate of the full
#   gradient / loss); the running mean shows the trend.
# - 1 point: a comparison with beta = 0 (slower decrease, lower or similar accuracy after the same
#   number of epochs) explained by the velocity accumulating consistent gradient directions and
#   damping the noise; validation data measures generalisation, training accuracy overestimates it.
# ### END MARK SCHEME
