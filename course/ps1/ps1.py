# %% [markdown]
# # Problem set 1 — Computation graphs and the chain rule
#
# In this problem set every quantity is a **single number**. You will follow derivatives along
# the edges of small computation graphs, first by hand and then in code, until the backward
# pass of a small classifier holds no mystery.
#
# **How this notebook works**
#
# - Cells that say `YOUR CODE HERE` or `YOUR ANSWER HERE` are yours. Keep the function names
#   and signatures as they are.
# - The cells below each task are its **tests**. The visible checks use fixed examples; when
#   your notebook is graded, more checks run on fresh random examples (and on *your* numbers).
#   A visible check that passes is a good sign, not a guarantee.
# - Failure messages follow one pattern: the quantity, how far off it is (relative error or
#   tolerance) and, when the mistake is a common one, its name.
# - Gradients are compared with a tolerance of `1e-6` in relative error
#   `||g - g_ref|| / (||g|| + ||g_ref||)`; numbers you compute are compared to 4 significant
#   digits, so compute them in Python rather than rounding by hand.
# - Written answers (marked *manually graded*) are read by a person.
#
# Points: 22 in total (16 checked automatically, 6 manually graded).

# %% [markdown]
# ## Your numbers
#
# Some exercises use numbers drawn for you alone. On JupyterHub your login picks them; otherwise
# type your student id between the quotes below and run the cell. At grading time the grader
# uses the id of the submission, so answers computed for someone else's numbers will not match.

# %%
STUDENT_ID = ""  # e.g. "jdoe42"; leave empty on JupyterHub

# %% cell="locked" grade_id="setup"
import math

import numpy as np

from coursekit import check, seeds

ME = seeds.student_id(STUDENT_ID)
print(f"Numbers are drawn for student id {ME!r}.")

# %% [markdown]
# ## Part A — one graph, all its partials (*Practice problems: backpropagation*, §1.1 Q1)
#
# Seven nodes: four inputs ($w, x, b, t$), two intermediate nodes ($z, y$) and the output
# $\mathcal{L}$:
#
# $$z = w x + b, \qquad y = x + \tanh(z), \qquad \mathcal{L} = \tfrac12 (y - t)^2 .$$
#
# Draw the graph before you compute anything: one node per quantity, and an edge $u \to v$
# whenever the formula of $v$ reads $u$. A node with **two** outgoing edges changes
# $\mathcal{L}$ along two paths, and its partial derivative is then a sum of two products, one
# per path.
#
# ### Task 1.0 — the graph, written down (1 point)
#
# Set `q1_parents` to a dict that maps every computed node (`"z"`, `"y"`, `"L"`) to the list of
# its **parents**, the nodes its formula reads, e.g. `{"z": [...], "y": [...], "L": [...]}`.
# The inputs have no parents and need no entry. The cell after it draws your graph.

# %% cell="answer" grade_id="t1_0_answer"
### BEGIN SOLUTION
q1_parents = {"z": ["w", "x", "b"], "y": ["z", "x"], "L": ["y", "t"]}
### END SOLUTION

# %%
from coursekit.explorers.graph import show_graph

Q1_NODES = ["w", "x", "b", "t", "z", "y", "L"]
show_graph(q1_parents, Q1_NODES)

# %% cell="tests" grade_id="t1_0_tests" points=1
"""Task 1.0: the parents of z, y and L (1 point).

Visible part: a dict of known node names, every node connected, no cycle; the edges themselves
are checked after submission (the message then names each missing or extra edge; a visible
check would give them away)."""
from coursekit.explorers.graph import check_graph

check_graph("q1_parents", q1_parents, Q1_NODES)
### BEGIN HIDDEN TESTS
check_graph("q1_parents", q1_parents, Q1_NODES, expected={"z": ["w", "x", "b"], "y": ["z", "x"], "L": ["y", "t"]})
### END HIDDEN TESTS

# %% [markdown]
# In your graph one input should have **two** outgoing edges: it changes $\mathcal{L}$
# directly and, through another node, indirectly.
#
# Backpropagation visits the nodes in reverse order, starting from
# $\partial\mathcal{L}/\partial\mathcal{L} = 1$ and multiplying by one local derivative per edge.
# The only local derivative that is not immediate is
# $\frac{d}{dz}\tanh(z) = 1 - \tanh^2(z)$.

# %% cell="locked" grade_id="t1_1_numbers"
q1 = seeds.numbers("ps1", ME, "t1_1", ["w", "x", "b", "t"])
print("Your numbers:", q1)

# %% [markdown]
# ### Task 1.1 — the partials at your numbers (2 points)
#
# Using **your** numbers `q1["w"]`, `q1["x"]`, `q1["b"]`, `q1["t"]` from the cell above, set the
# six variables `dL_dL`, `dL_dy`, `dL_dz`, `dL_dw`, `dL_db`, `dL_dx` (Python floats) to the
# values of
# $\frac{\partial\mathcal{L}}{\partial\mathcal{L}}, \frac{\partial\mathcal{L}}{\partial y},
# \frac{\partial\mathcal{L}}{\partial z}, \frac{\partial\mathcal{L}}{\partial w},
# \frac{\partial\mathcal{L}}{\partial b}, \frac{\partial\mathcal{L}}{\partial x}$.
# You may compute them in Python from `q1` (recommended) or type them with at least five
# significant digits. One point for the first three, one for the last three.

# %% cell="answer" grade_id="t1_1_answer"
### BEGIN SOLUTION
_z = q1["w"] * q1["x"] + q1["b"]
_y = q1["x"] + math.tanh(_z)
dL_dL = 1.0
dL_dy = _y - q1["t"]
dL_dz = dL_dy * (1.0 - math.tanh(_z) ** 2)
dL_dw = dL_dz * q1["x"]
dL_db = dL_dz
dL_dx = dL_dy + dL_dz * q1["w"]
### END SOLUTION

# %% cell="tests" grade_id="t1_1_tests_top" points=1
"""Task 1.1, first part: dL/dL, dL/dy, dL/dz at your numbers (1 point).

Visible part: only that each is a finite number; the values at your numbers are checked after
submission (a visible check would give them away). After Task 1.2, a cell compares these
numbers with your own q1_backward at your numbers."""
for _name, _value in [("dL_dL", dL_dL), ("dL_dy", dL_dy), ("dL_dz", dL_dz)]:
    check.finite_number(_name, _value)
### BEGIN HIDDEN TESTS
_n = seeds.numbers("ps1", seeds.student_id(STUDENT_ID), "t1_1", ["w", "x", "b", "t"])
_zz = _n["w"] * _n["x"] + _n["b"]
_yy = _n["x"] + math.tanh(_zz)
check.number("dL_dL", dL_dL, 1.0)
check.number("dL_dy", dL_dy, _yy - _n["t"])
check.number("dL_dz", dL_dz, (_yy - _n["t"]) * (1.0 - math.tanh(_zz) ** 2))
### END HIDDEN TESTS

# %% cell="tests" grade_id="t1_1_tests_leaves" points=1
"""Task 1.1, second part: dL/dw, dL/db, dL/dx at your numbers (1 point).

Visible part: as for the first part (finite numbers; compared with your q1_backward after
Task 1.2)."""
for _name, _value in [("dL_dw", dL_dw), ("dL_db", dL_db), ("dL_dx", dL_dx)]:
    check.finite_number(_name, _value)
### BEGIN HIDDEN TESTS
_n = seeds.numbers("ps1", seeds.student_id(STUDENT_ID), "t1_1", ["w", "x", "b", "t"])


def _q1_loss(w: float, x: float, b: float, t: float) -> float:
    return 0.5 * (x + math.tanh(w * x + b) - t) ** 2


for _name, _key, _value in [("dL_dw", "w", dL_dw), ("dL_db", "b", dL_db), ("dL_dx", "x", dL_dx)]:
    _p = dict(_n)
    _h = 1e-6
    _p[_key] = _n[_key] + _h
    _up = _q1_loss(**_p)
    _p[_key] = _n[_key] - _h
    _down = _q1_loss(**_p)
    check.number(_name, _value, (_up - _down) / (2 * _h))
### END HIDDEN TESTS

# %% [markdown]
# ### Task 1.2 — the same graph in code (2 points)
#
# Write `q1_backward(w, x, b, t)` that runs the forward pass and then the backward pass of the
# graph and returns a dict with the partial derivative of $\mathcal{L}$ with respect to every
# node: keys `"L"`, `"y"`, `"z"`, `"w"`, `"b"`, `"x"`, each a Python float. The forward pass is
# given as `q1_forward`.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="locked" grade_id="t1_2_given"
def q1_forward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """Forward pass of the Q1 graph: returns the nodes {"z", "y", "L"} as floats."""
    z = w * x + b
    y = x + math.tanh(z)
    return {"z": z, "y": y, "L": 0.5 * (y - t) ** 2}


# %% cell="answer" grade_id="t1_2_answer"
def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    ### BEGIN SOLUTION
    fw = q1_forward(w, x, b, t)
    g = {"L": 1.0}
    g["y"] = g["L"] * (fw["y"] - t)
    g["z"] = g["y"] * (1.0 - math.tanh(fw["z"]) ** 2)
    g["w"] = g["z"] * x
    g["b"] = g["z"] * 1.0
    g["x"] = g["y"] * 1.0 + g["z"] * w
    return g
    ### END SOLUTION


# %%
# Try it: compare with your answers to Task 1.1.
q1_backward(**q1)


# %% cell="tests" grade_id="t1_2_tests" points=2
"""Task 1.2: q1_backward matches finite differences of the graph (2 points)."""


def _check_q1(w: float, x: float, b: float, t: float) -> None:
    g = q1_backward(w, x, b, t)
    check.keys("q1_backward(...)", g, ["L", "y", "z", "w", "b", "x"])
    v = np.array([w, x, b, t], dtype=np.float64)
    y_node = np.array([q1_forward(w, x, b, t)["y"]])
    z_node = np.array([w * x + b])
    check.number("dL/dL", g["L"], 1.0)
    check.grad_fd("dL/dy", np.array([g["y"]]), lambda: 0.5 * (y_node[0] - t) ** 2, y_node)
    check.grad_fd("dL/dz", np.array([g["z"]]), lambda: 0.5 * (x + math.tanh(z_node[0]) - t) ** 2, z_node)
    fd = check.numerical_gradient(lambda: q1_forward(*v)["L"], v)
    for i, key in enumerate(["w", "x", "b"]):
        check.array(f"dL/d{key}", np.array([g[key]]), fd[i : i + 1], tol=1e-6, against="finite differences")


_check_q1(0.7, -1.3, 0.4, 0.5)
_check_q1(-1.1, 0.6, -0.2, -0.8)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _ in range(5):
    _check_q1(*(float(v) for v in _gen.uniform(-2, 2, size=4)))
### END HIDDEN TESTS

# %%
# Signal for Task 1.1 (no points): your six numbers against your own q1_backward at your numbers.
# If this fails, at least one of the two is wrong; the test of Task 1.2 above says which.
for _key, _value in [("L", dL_dL), ("y", dL_dy), ("z", dL_dz), ("w", dL_dw), ("b", dL_db), ("x", dL_dx)]:
    _mine = q1_backward(**q1)[_key]
    assert check.rel_error(np.array(_value), np.array(_mine)) <= check.NUMBER_TOL, (
        f"dL_d{_key} = {_value:.6g} (Task 1.1) but your q1_backward gives {_mine:.6g} at your numbers"
    )

# %% [markdown]
# **Explore (not graded).** The explorer shows, for every node, your `q1_backward` next to a
# finite difference of the loss. Move the sliders: where do the two disagree, if anywhere?

# %%
from coursekit.explorers import graph_explorer

graph_explorer(q1_backward, **q1)

# %% [markdown]
# ## Part B — one path or many paths (lecture *The backpropagation algorithm*)
#
# Now a three-layer network with a single output, as in the lecture: $D^{(0)} = 3$ inputs,
# $D^{(1)} = 3$ and $D^{(2)} = 2$ hidden units with the logistic activation $\sigma$, and one
# linear output unit:
#
# $$z^{(1)}_i = \sum_j W^{(1)}_{ij} a^{(0)}_j + b^{(1)}_i,\quad a^{(1)}_i = \sigma(z^{(1)}_i),\qquad
#   z^{(2)}_i = \sum_j W^{(2)}_{ij} a^{(1)}_j + b^{(2)}_i,\quad a^{(2)}_i = \sigma(z^{(2)}_i),$$
# $$z^{(3)} = \sum_j w^{(3)}_j a^{(2)}_j + b^{(3)},\qquad a^{(3)} = z^{(3)},\qquad
#   \mathcal{L} = \tfrac12 (a^{(3)} - t)^2 .$$
#
# Indices are 1-based in the formulas and 0-based in NumPy: $W^{(2)}_{12}$ is `W2[0, 1]`.
#
# The lecture calls the cost $C$; this course writes $\mathcal{L}$ for the cost everywhere and
# keeps $C$ for the number of classes (Part F). The variable names of Task 1.3 keep the
# lecture's `dC_` prefix: read `dC_dW2_12` as $\partial\mathcal{L}/\partial W^{(2)}_{12}$.
#
# - $W^{(2)}_{12}$ feeds only $z^{(2)}_1$, and from there a **single path** leads to $\mathcal{L}$, so its
#   derivative is one product of local derivatives.
# - $W^{(1)}_{23}$ feeds $z^{(1)}_2$, then $a^{(1)}_2$, which feeds **every** unit of layer 2.
#   Each of those is a separate path to $\mathcal{L}$; the multivariate chain rule adds their
#   contributions.

# %% cell="locked" grade_id="t1_3_given"
def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, elementwise, any shape."""
    return 1.0 / (1.0 + np.exp(-z))


def net3_forward(P: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """Forward pass of the 3-3-2-1 network. x: (3, 1). Returns z1, a1 (3, 1), z2, a2 (2, 1), z3, a3 (1, 1)."""
    out = {"a0": x}
    out["z1"] = P["W1"] @ x + P["b1"]
    out["a1"] = sigmoid(out["z1"])
    out["z2"] = P["W2"] @ out["a1"] + P["b2"]
    out["a2"] = sigmoid(out["z2"])
    out["z3"] = P["w3"] @ out["a2"] + P["b3"]
    out["a3"] = out["z3"]
    return out


def net3_cost(P: dict[str, np.ndarray], x: np.ndarray, t: float) -> float:
    """The cost L = 1/2 (a3 - t)^2 for the network above."""
    return 0.5 * float((net3_forward(P, x)["a3"][0, 0] - t) ** 2)


def net3_numbers(student: str) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """This student's parameters, input x (3, 1) and target t for Part B."""
    P = {
        "W1": seeds.matrix("ps1", student, "t1_3_W1", (3, 3)),
        "b1": seeds.matrix("ps1", student, "t1_3_b1", (3, 1)),
        "W2": seeds.matrix("ps1", student, "t1_3_W2", (2, 3)),
        "b2": seeds.matrix("ps1", student, "t1_3_b2", (2, 1)),
        "w3": seeds.matrix("ps1", student, "t1_3_w3", (1, 2)),
        "b3": seeds.matrix("ps1", student, "t1_3_b3", (1, 1)),
    }
    x = seeds.matrix("ps1", student, "t1_3_x", (3, 1))
    t = seeds.numbers("ps1", student, "t1_3_t", ["t"])["t"]
    return P, x, t


P3, x3, t3 = net3_numbers(ME)
for _k, _v in P3.items():
    print(_k, "=\n", _v)
print("x =\n", x3, "\nt =", t3)

# %% [markdown]
# ### Task 1.3 — two derivatives at your numbers (2 points)
#
# With your parameters `P3`, input `x3` and target `t3`, set
#
# - `dC_dW2_12` to $\partial \mathcal{L} / \partial W^{(2)}_{12}$ (one path; 1 point),
# - `n_paths_W1_23` to the number of distinct paths from $W^{(1)}_{23}$ to $\mathcal{L}$ and `dC_dW1_23`
#   to $\partial \mathcal{L} / \partial W^{(1)}_{23}$ (many paths; 1 point).
#
# Use `net3_forward` for the node values and multiply local derivatives yourself. You need
# $\sigma'(z)$: Part D derives it in terms of $\sigma(z)$ (you may do Part D first).

# %% cell="answer" grade_id="t1_3_answer"
### BEGIN SOLUTION
_f = net3_forward(P3, x3)
_dz3 = _f["a3"][0, 0] - t3
_dz2 = _dz3 * P3["w3"][0, :] * (_f["a2"][:, 0] * (1 - _f["a2"][:, 0]))
dC_dW2_12 = float(_dz2[0] * _f["a1"][1, 0])
n_paths_W1_23 = 2
_da1_2 = float(np.sum(_dz2 * P3["W2"][:, 1]))
dC_dW1_23 = _da1_2 * float(_f["a1"][1, 0] * (1 - _f["a1"][1, 0])) * float(x3[2, 0])
### END SOLUTION

# %% cell="tests" grade_id="t1_3_tests_one_path" points=1
"""Task 1.3, one path: dC/dW2_12 at your numbers (1 point).

Visible part: only that it is a finite number; the value at your numbers is checked after
submission against a finite difference of the cost (a visible check would give it away; you
can make that check yourself with check.numerical_gradient and net3_cost)."""
check.finite_number("dC_dW2_12", dC_dW2_12)
### BEGIN HIDDEN TESTS
_P, _x, _t = net3_numbers(seeds.student_id(STUDENT_ID))
_W = _P["W2"]
check.number(
    "dC_dW2_12",
    dC_dW2_12,
    float(check.numerical_gradient(lambda: net3_cost(_P, _x, _t), _W)[0, 1]),
)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t1_3_tests_many_paths" points=1
"""Task 1.3, many paths: the number of paths and dC/dW1_23 at your numbers (1 point).

Visible part: a finite number and a whole number; the count and the value are checked after
submission (a visible check would give them away)."""
check.finite_number("dC_dW1_23", dC_dW1_23)
assert isinstance(n_paths_W1_23, (int, np.integer)), "n_paths_W1_23: give a whole number"
### BEGIN HIDDEN TESTS
assert n_paths_W1_23 == 2, "n_paths_W1_23: count the units of layer 2 that a1_2 feeds"
_P, _x, _t = net3_numbers(seeds.student_id(STUDENT_ID))
check.number(
    "dC_dW1_23",
    dC_dW1_23,
    float(check.numerical_gradient(lambda: net3_cost(_P, _x, _t), _P["W1"])[1, 2]),
)
### END HIDDEN TESTS

# %% [markdown]
# ## Part C — a bias-free network, forward and backward (*Practice problems: backpropagation*, §1.1 Q3)
#
# Two inputs $x_1, x_2$, two hidden layers of two ReLU units each, one sigmoid output, no
# biases, ten weights $w_1, \dots, w_{10}$:
#
# $$m_1 = w_1 x_1 + w_2 x_2,\quad m_2 = w_3 x_1 + w_4 x_2,\quad
#   m_3 = w_5 h_1 + w_6 h_2,\quad m_4 = w_7 h_1 + w_8 h_2,$$
# $$h_j = \mathrm{ReLU}(m_j),\qquad z = w_9 h_3 + w_{10} h_4,\qquad y = \sigma(z).$$
#
# Two losses are possible: `"binary_cross_entropy"`,
# $\mathcal{L} = -t\log y - (1-t)\log(1-y)$, and `"half_squared_error"`,
# $\mathcal{L} = \tfrac12 (y-t)^2$.
# In code `w` is a NumPy array of shape `(10,)` with `w[0]` $= w_1$, and `x` has shape `(2,)`.
# Use $\mathrm{ReLU}'(m) = 1$ for $m > 0$ and $0$ otherwise.
#
# ### Task 1.4 — the forward pass (1 point) and the backward pass (2 points)
#
# `q3_forward(x, w, t, loss)` returns a dict with every node as a float:
# `"m1"`, `"h1"`, `"m2"`, `"h2"`, `"m3"`, `"h3"`, `"m4"`, `"h4"`, `"z"`, `"y"`, `"L"`.
#
# `q3_backward(x, w, t, loss)` returns a dict of floats with $\partial\mathcal{L}/\partial(\cdot)$
# for every node above (same keys) and for the ten weights `"w1"` ... `"w10"`. Start from
# $\partial \mathcal{L}/\partial \mathcal{L} = 1$ and go backwards one node at a time, exactly
# as in the notes. (With the cross-entropy, $\partial\mathcal{L}/\partial z$ simplifies to
# $y - t$; derive it!)
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t1_4_answer"
def q3_forward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """Forward pass of the bias-free 2-2-2-1 net. x: (2,), w: (10,). Returns every node as a float."""
    ### BEGIN SOLUTION
    x1, x2 = float(x[0]), float(x[1])
    w1, w2, w3, w4, w5, w6, w7, w8, w9, w10 = (float(v) for v in w)
    n = {}
    n["m1"] = w1 * x1 + w2 * x2
    n["h1"] = max(n["m1"], 0.0)
    n["m2"] = w3 * x1 + w4 * x2
    n["h2"] = max(n["m2"], 0.0)
    n["m3"] = w5 * n["h1"] + w6 * n["h2"]
    n["h3"] = max(n["m3"], 0.0)
    n["m4"] = w7 * n["h1"] + w8 * n["h2"]
    n["h4"] = max(n["m4"], 0.0)
    n["z"] = w9 * n["h3"] + w10 * n["h4"]
    n["y"] = 1.0 / (1.0 + math.exp(-n["z"]))
    if loss == "binary_cross_entropy":
        n["L"] = -t * math.log(n["y"]) - (1.0 - t) * math.log(1.0 - n["y"])
    else:
        n["L"] = 0.5 * (n["y"] - t) ** 2
    return n
    ### END SOLUTION


def q3_backward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """dL/d(node) for every node of q3_forward plus "w1".."w10", as floats."""
    ### BEGIN SOLUTION
    n = q3_forward(x, w, t, loss)
    x1, x2 = float(x[0]), float(x[1])
    w1, w2, w3, w4, w5, w6, w7, w8, w9, w10 = (float(v) for v in w)
    g = {"L": 1.0}
    y = n["y"]
    if loss == "binary_cross_entropy":
        g["y"] = g["L"] * (-t / y + (1.0 - t) / (1.0 - y))
    else:
        g["y"] = g["L"] * (y - t)
    g["z"] = g["y"] * y * (1.0 - y)
    g["h3"], g["h4"] = g["z"] * w9, g["z"] * w10
    g["m3"] = g["h3"] * (1.0 if n["m3"] > 0 else 0.0)
    g["m4"] = g["h4"] * (1.0 if n["m4"] > 0 else 0.0)
    g["h1"] = g["m3"] * w5 + g["m4"] * w7
    g["h2"] = g["m3"] * w6 + g["m4"] * w8
    g["m1"] = g["h1"] * (1.0 if n["m1"] > 0 else 0.0)
    g["m2"] = g["h2"] * (1.0 if n["m2"] > 0 else 0.0)
    g["w1"], g["w2"] = g["m1"] * x1, g["m1"] * x2
    g["w3"], g["w4"] = g["m2"] * x1, g["m2"] * x2
    g["w5"], g["w6"] = g["m3"] * n["h1"], g["m3"] * n["h2"]
    g["w7"], g["w8"] = g["m4"] * n["h1"], g["m4"] * n["h2"]
    g["w9"], g["w10"] = g["z"] * n["h3"], g["z"] * n["h4"]
    return g
    ### END SOLUTION


# %%
# Try it on the fixed example used by the tests below.
q3_forward(np.array([0.5, -1.0]), np.array([0.8, -0.4, -0.6, 0.9, 1.1, 0.7, -0.5, 1.2, 0.9, -1.3]), 1.0)


# %% cell="tests" grade_id="t1_4_tests_forward" points=1
"""Task 1.4, forward pass: q3_forward on fixed and random examples (1 point)."""
_x = np.array([0.5, -1.0])
_w = np.array([0.8, -0.4, -0.6, 0.9, 1.1, 0.7, -0.5, 1.2, 0.9, -1.3])
_fw = q3_forward(_x, _w, 1.0, "binary_cross_entropy")
check.keys("q3_forward(...)", _fw, ["m1", "h1", "m2", "h2", "m3", "h3", "m4", "h4", "z", "y", "L"])
_expected = {"m1": 0.8, "h1": 0.8, "m2": -1.2, "h2": 0.0, "m3": 0.88, "h3": 0.88, "m4": -0.4,
             "h4": 0.0, "z": 0.792, "y": 0.688260607959, "L": 0.373587722134}
for _k, _v in _expected.items():
    check.number(f"node {_k}", _fw[_k], _v, rtol=1e-9, atol=1e-11)
check.number("L (half squared error)", q3_forward(_x, _w, 1.0, "half_squared_error")["L"],
             0.048590724275118, rtol=1e-9)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _ in range(5):
    _x, _w, _t = _gen.uniform(-2, 2, 2), _gen.uniform(-1.5, 1.5, 10), float(_gen.integers(0, 2))
    _relu = lambda v: max(v, 0.0)  # noqa: E731
    _m1 = _w[0] * _x[0] + _w[1] * _x[1]
    _m2 = _w[2] * _x[0] + _w[3] * _x[1]
    _m3 = _w[4] * _relu(_m1) + _w[5] * _relu(_m2)
    _m4 = _w[6] * _relu(_m1) + _w[7] * _relu(_m2)
    _z = _w[8] * _relu(_m3) + _w[9] * _relu(_m4)
    _y = 1 / (1 + math.exp(-_z))
    for _loss, _L in [("binary_cross_entropy", -_t * math.log(_y) - (1 - _t) * math.log(1 - _y)),
                      ("half_squared_error", 0.5 * (_y - _t) ** 2)]:
        _fw = q3_forward(_x, _w, _t, _loss)
        for _k, _v in [("m1", _m1), ("m2", _m2), ("m3", _m3), ("m4", _m4), ("z", _z), ("y", _y), ("L", _L)]:
            check.number(f"node {_k}", _fw[_k], float(_v), rtol=1e-9, atol=1e-11)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t1_4_tests_backward" points=2
"""Task 1.4, backward pass: q3_backward against finite differences of q3_forward (2 points)."""
### BEGIN HIDDEN TESTS
# judged with the model q3_forward, so that a mistake there costs its own cell only
#: reference q3_forward
check.using(globals(), **_REF).for_this_cell()
### END HIDDEN TESTS


def _check_q3(x: np.ndarray, w: np.ndarray, t: float, loss: str) -> None:
    g = q3_backward(x, w, t, loss)
    names = [f"w{i}" for i in range(1, 11)]
    check.keys("q3_backward(...)", g, names + ["L", "y", "z", "h1", "h2", "h3", "h4", "m1", "m2", "m3", "m4"])
    wv = np.array(w, dtype=np.float64)
    dw = np.array([g[k] for k in names], dtype=np.float64)
    check.grad_fd("dL/dw (w1..w10)", dw, lambda: q3_forward(x, wv, t, loss)["L"], wv)
    fw = q3_forward(x, w, t, loss)
    # dL/dz and dL/dy from the output end of the graph
    zz = np.array([fw["z"]])
    if loss == "binary_cross_entropy":
        f_of_z = lambda: -t * math.log(1 / (1 + math.exp(-zz[0]))) - (1 - t) * math.log(1 - 1 / (1 + math.exp(-zz[0])))  # noqa: E731
    else:
        f_of_z = lambda: 0.5 * (1 / (1 + math.exp(-zz[0])) - t) ** 2  # noqa: E731
    check.grad_fd("dL/dz", np.array([g["z"]]), f_of_z, zz)


_x = np.array([0.5, -1.0])
_w = np.array([0.8, -0.4, -0.6, 0.9, 1.1, 0.7, -0.5, 1.2, 0.9, -1.3])
_check_q3(_x, _w, 1.0, "binary_cross_entropy")
_check_q3(np.array([-0.7, 1.2]), np.array([-0.9, 0.6, 1.3, 0.4, -0.8, 1.0, 0.7, 0.5, -1.2, 0.8]), 0.0, "half_squared_error")
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_done = 0
while _done < 6:
    _x, _w, _t = _gen.uniform(-2, 2, 2), _gen.uniform(-1.5, 1.5, 10), float(_gen.integers(0, 2))
    _fw = q3_forward(_x, _w, _t)
    if min(abs(_fw[k]) for k in ("m1", "m2", "m3", "m4")) < 1e-2:
        continue  # keep finite differences away from the ReLU kinks
    _check_q3(_x, _w, _t, ("binary_cross_entropy", "half_squared_error")[_done % 2])
    _done += 1
### END HIDDEN TESTS

# %% [markdown]
# ## Part D — derivatives of the logistic function and tanh (lecture notes *Feedforward networks and backpropagation* (CS7015))
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}.$$
#
# Both derivatives can be written using only the function's own value. That is why a forward
# pass that keeps $a = \sigma(z)$ (or $a = \tanh z$) has everything the backward pass needs.
#
# ### Task 1.5 — symbolic and numeric derivatives (3 points)
#
# 1. With the SymPy symbol `s` standing for $\sigma(z)$, set `sigmoid_prime_in_s` to
#    $\sigma'(z)$ written in terms of `s` only (1 point).
# 2. Check that $\tanh(z) = 2\sigma(2z) - 1$. With the symbol `r` standing for $\sigma(2z)$,
#    set `tanh_prime_in_r` to $\tanh'(z)$ in terms of `r` only (1 point). Use the chain rule
#    and your answer to 1; compare with $1 - \tanh^2(z)$ from Part A.
# 3. Write `sigmoid_prime(z)` and `tanh_prime(z)`: elementwise derivatives for a NumPy array `z`
#    of any shape (1 point).
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="locked" grade_id="t1_5_symbols"
import sympy as sp

s, r, zsym = sp.symbols("s r z")

# %% cell="answer" grade_id="t1_5_answer"
### BEGIN SOLUTION
sigmoid_prime_in_s = s * (1 - s)
tanh_prime_in_r = 4 * r * (1 - r)
### END SOLUTION


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the logistic function, elementwise; same shape as z."""
    ### BEGIN SOLUTION
    a = 1.0 / (1.0 + np.exp(-z))
    return a * (1.0 - a)
    ### END SOLUTION


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of tanh, elementwise; same shape as z."""
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(z) ** 2
    ### END SOLUTION


# %% cell="tests" grade_id="t1_5_tests_sigmoid_sym" points=1
"""Task 1.5.1: sigma'(z) in terms of s = sigma(z) (1 point).

Visible part: at random z, your expression with s = sigma(z) is compared with a central
difference of sigma at z (no expected expression is used)."""
check.sympy_expr("sigmoid_prime_in_s", sigmoid_prime_in_s, [s])
check.sympy_derivative("sigmoid_prime_in_s", sigmoid_prime_in_s, lambda z_: 1 / (1 + math.exp(-z_)), 0,
                       [zsym], [s], lambda p: {s: 1 / (1 + math.exp(-p[zsym]))})
### BEGIN HIDDEN TESTS
_sig = 1 / (1 + sp.exp(-zsym))
check.sympy_equal("sigmoid_prime_in_s", sp.sympify(sigmoid_prime_in_s).subs(s, _sig), sp.diff(_sig, zsym), [zsym])
### END HIDDEN TESTS

# %% cell="tests" grade_id="t1_5_tests_tanh_sym" points=1
"""Task 1.5.2: tanh'(z) in terms of r = sigma(2z) (1 point).

Visible part: at random z, your expression with r = sigma(2z) is compared with a central
difference of tanh at z (no expected expression is used)."""
check.sympy_expr("tanh_prime_in_r", tanh_prime_in_r, [r])
check.sympy_derivative("tanh_prime_in_r", tanh_prime_in_r, math.tanh, 0,
                       [zsym], [r], lambda p: {r: 1 / (1 + math.exp(-2 * p[zsym]))})
### BEGIN HIDDEN TESTS
check.sympy_equal("tanh_prime_in_r", sp.sympify(tanh_prime_in_r).subs(r, 1 / (1 + sp.exp(-2 * zsym))),
                  sp.diff(sp.tanh(zsym), zsym), [zsym])
### END HIDDEN TESTS

# %% cell="tests" grade_id="t1_5_tests_code" points=1
"""Task 1.5.3: sigmoid_prime and tanh_prime against finite differences (1 point)."""


def _check_elementwise(name: str, fprime, f, z: np.ndarray) -> None:  # noqa: ANN001
    zz = z.copy()
    # d/dz of sum(f(z)) is f'(z) elementwise, because each output depends on its own input
    check.grad_fd(name, fprime(z.copy()), lambda: float(np.sum(f(zz))), zz)


_z = np.array([[-2.0, -0.5], [0.3, 1.7], [4.0, -3.1]])
_check_elementwise("sigmoid_prime(z)", sigmoid_prime, lambda v: 1 / (1 + np.exp(-v)), _z)
_check_elementwise("tanh_prime(z)", tanh_prime, np.tanh, _z)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _shape in [(5,), (4, 1), (3, 2)]:
    _z = _gen.uniform(-4, 4, size=_shape)
    _check_elementwise("sigmoid_prime(z)", sigmoid_prime, lambda v: 1 / (1 + np.exp(-v)), _z)
    _check_elementwise("tanh_prime(z)", tanh_prime, np.tanh, _z)
### END HIDDEN TESTS

# %% [markdown]
# **Explore (not graded).** How good is a finite difference as a stand-in for your derivative?
# The explorer plots, on log-log axes, the error $|\mathrm{FD}(h) - f'(x)|$ of the forward
# difference $\frac{f(x+h) - f(x)}{h}$ and of the central difference
# $\frac{f(x+h) - f(x-h)}{2h}$ against the step $h$, in float64 and in float32, with **your**
# `sigmoid_prime` and `tanh_prime` as $f'$. Look for the V: for large $h$ the truncation error
# falls as $h$ (forward) or $h^2$ (central); for small $h$ round-off takes over and grows as
# $1/h$. Where is the bottom of each V, and how does it move from float64 to float32? The
# grey line marks the step the checks in this course use. (A wrong derivative shows as a V
# that never gets low.)

# %%
from coursekit.explorers import step_size_explorer

_pairs = {}
for _name, _get in [("sigmoid", lambda: (sigmoid, sigmoid_prime)), ("tanh", lambda: (np.tanh, tanh_prime))]:
    try:
        _f, _df = _get()
        _df(np.array([0.5]))
        _pairs[_name] = (_f, _df)
    except Exception as _exc:  # an unfinished Task 1.5.3 (NotImplementedError or NameError)
        _why = f"{type(_exc).__name__}: {_exc}" if str(_exc) else type(_exc).__name__
        print(f"{_name}: your derivative is not ready yet ({_why}); finish Task 1.5 and run this cell again.")
if not _pairs:
    print("Meanwhile the explorer shows its built-in function exp(sin x) + relu(x).")
step_size_explorer(_pairs, include_default=not _pairs)

# %% [markdown]
# ## Part E — why backpropagation works the way it does
#
# ### Task 1.6 — a gradient for something we do not learn (2 points, manually graded)
#
# In the network of Part C, your friend Ji-woo argues that $\partial\mathcal{L}/\partial h_2$
# should not be computed, because $h_2$ is an activation and not a parameter we learn.
# Explain in a few sentences why computing it is nevertheless useful (refer to the weights
# $w_3$ and $w_4$).

# %% [markdown] cell="written" grade_id="t1_6_written" points=2
# $h_2$ sits between the first-layer weights and the loss: $w_3$ and $w_4$ influence
# $\mathcal{L}$ only through $m_2$ and then $h_2$. By the chain rule
# $\partial\mathcal{L}/\partial w_3 = \partial\mathcal{L}/\partial h_2 \cdot \mathrm{ReLU}'(m_2)
# \cdot x_1$, so the derivative with respect to $h_2$ is an intermediate result that the
# gradients of the earlier weights need. Backpropagation computes it once, from
# $\partial\mathcal{L}/\partial m_3$ and $\partial\mathcal{L}/\partial m_4$ (two paths), and
# passes it further back; without it we could not reach $w_3, w_4$ (or $w_1, w_2$ via $h_1$
# likewise).

# %% [markdown] cell="rubric" grade_id="t1_6_rubric"
# *The grader's rubric for Task 1.6 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: says that $w_3, w_4$ (earlier parameters) affect the loss only through $h_2$
#   (via $m_2$), so their gradients are products that contain $\partial\mathcal{L}/\partial h_2$.
# - 1 point: says that $\partial\mathcal{L}/\partial h_2$ is computed once and reused
#   (passed backwards) instead of recomputing every path; or mentions the two paths through
#   $m_3$ and $m_4$ that it collects.
# - 0 points for "it is not useful" or an answer about updating $h_2$ itself.
# ### END MARK SCHEME

# %% [markdown]
# ### Task 1.7 — reusing work (2 points, manually graded)
#
# In Part B you computed $\partial\mathcal{L}/\partial W^{(2)}_{12}$ and $\partial\mathcal{L}/\partial W^{(1)}_{23}$
# separately. Which factors did the two computations share? Explain how backpropagation
# organises the computation so that every such shared factor is computed once, and why that
# makes computing the whole gradient cost about as much as one forward pass
# (the idea is dynamic programming).

# %% [markdown] cell="written" grade_id="t1_7_written" points=2
# Both products start with $\partial\mathcal{L}/\partial a^{(3)} \cdot \partial a^{(3)}/\partial z^{(3)}
# = \partial\mathcal{L}/\partial z^{(3)}$, and both go through $\partial\mathcal{L}/\partial z^{(2)}_1$ (the second
# one also through $\partial\mathcal{L}/\partial z^{(2)}_2$). Backpropagation stores
# $\partial\mathcal{L}/\partial z$ for every unit, layer by layer from the output down: the values of
# layer $m$ are computed from those of layer $m+1$, which are already known, and each weight's
# derivative is that stored value times one activation from the forward pass. Every edge of
# the graph is then used a constant number of times, instead of once per path through it (the
# number of paths grows exponentially with depth), so the backward pass costs the same order
# of operations as the forward pass. Memoising subproblems like this is dynamic programming.

# %% [markdown] cell="rubric" grade_id="t1_7_rubric"
# *The grader's rubric for Task 1.7 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: identifies a shared factor ($\partial\mathcal{L}/\partial z^{(3)}$ and/or
#   $\partial\mathcal{L}/\partial z^{(2)}_1$).
# - 1 point: explains storing $\partial\mathcal{L}/\partial z^{(m)}$ per layer and computing layer $m$
#   from layer $m+1$ (dynamic programming / memoisation), so each edge is used a constant
#   number of times rather than once per path; cost comparable to a forward pass.
# ### END MARK SCHEME

# %% [markdown]
# ## Part F — the backward pass of a small classifier, with loops (*Practice problems: backpropagation*, §1.1 Q2)
#
# One hidden layer of $H$ ReLU units, $C$ softmax outputs, cross-entropy loss, for **one**
# example $\mathbf{x}$ (a column of $D$ numbers) with one-hot target $\mathbf{t}$:
#
# $$z^{(1)}_j = \sum_{i} W^{(1)}_{ji} x_i + b^{(1)}_j,\quad a^{(1)}_j = \mathrm{ReLU}(z^{(1)}_j),\quad
#   z^{(2)}_k = \sum_j W^{(2)}_{kj} a^{(1)}_j + b^{(2)}_k,$$
# $$a^{(2)}_k = \frac{e^{z^{(2)}_k}}{\sum_{k'} e^{z^{(2)}_{k'}}},\qquad
#   \mathcal{L} = -\sum_k t_k \log a^{(2)}_k .$$
#
# ### Task 1.8 — show that $\partial\mathcal{L}/\partial z^{(2)}_k = a^{(2)}_k - t_k$ (2 points, manually graded)
#
# Derive it. Hint: write $\log a^{(2)}_k = z^{(2)}_k - \log\sum_{k'} e^{z^{(2)}_{k'}}$ and use
# $\sum_k t_k = 1$.

# %% [markdown] cell="written" grade_id="t1_8_written" points=2
# Using $\log a_k = z_k - \log S$ with $S = \sum_{k'} e^{z_{k'}}$ (superscripts dropped),
# $\mathcal{L} = -\sum_k t_k z_k + \big(\sum_k t_k\big) \log S = -\sum_k t_k z_k + \log S$,
# since the one-hot target sums to 1. Differentiating with respect to $z_i$:
# $\partial \mathcal{L}/\partial z_i = -t_i + \frac{1}{S} e^{z_i} = a_i - t_i$.

# %% [markdown] cell="rubric" grade_id="t1_8_rubric"
# *The grader's rubric for Task 1.8 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: a correct route: log-sum-exp rewriting as in the hint, or the softmax Jacobian
#   $\partial a_k/\partial z_i = a_k(\delta_{ki} - a_i)$ combined with
#   $\partial\mathcal{L}/\partial a_k = -t_k/a_k$ and summed over $k$.
# - 1 point: uses $\sum_k t_k = 1$ explicitly and arrives at $a_i - t_i$ without errors.
# ### END MARK SCHEME

# %% [markdown]
# ### Task 1.9 — the backward pass with loops (3 points)
#
# Write `backward_loops(x, t, params)` using the per-unit equations of the notes, with explicit
# Python `for` loops over units: **no** `@`, `np.dot`, `np.matmul`, `np.outer` or `np.einsum`
# (Problem set 2 is about replacing these loops by matrix products).
#
# Shapes: `x` is $(D, 1)$, `t` is $(C, 1)$; `params` holds `"W1"` $(H, D)$, `"b1"` $(H, 1)$,
# `"W2"` $(C, H)$, `"b2"` $(C, 1)$. Return a dict with the gradients `"W1"`, `"b1"`, `"W2"`,
# `"b2"` (each the shape of its parameter) and `"z2"` $(C, 1)$, `"a1"` $(H, 1)$, `"z1"` $(H, 1)$.
# The forward pass is given.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="locked" grade_id="t1_9_given"
def q2_forward(x: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward pass: z1, a1 (H, 1), z2, a2 (C, 1) for x (D, 1) (stable softmax)."""
    z1 = params["W1"] @ x + params["b1"]
    a1 = np.maximum(z1, 0.0)
    z2 = params["W2"] @ a1 + params["b2"]
    e = np.exp(z2 - z2.max())
    return {"z1": z1, "a1": a1, "z2": z2, "a2": e / e.sum()}


def q2_loss(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """Cross-entropy -sum_k t_k log a2_k, computed with log-sum-exp."""
    z2 = q2_forward(x, params)["z2"]
    m = z2.max()
    return float(-(t * (z2 - m - np.log(np.exp(z2 - m).sum()))).sum())


def q2_example(rng: np.random.Generator, D: int = 4, H: int = 5, C: int = 3) -> tuple:
    """A random example (x, t, params) whose hidden pre-activations keep away from 0."""
    while True:
        params = {
            "W1": rng.normal(0, 1, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1, (C, H)), "b2": rng.normal(0, 0.5, (C, 1)),
        }
        x = rng.normal(0, 1, (D, 1))
        t = np.zeros((C, 1))
        t[rng.integers(C), 0] = 1.0
        if np.abs(q2_forward(x, params)["z1"]).min() > 1e-2:
            return x, t, params


# %% cell="answer" grade_id="t1_9_answer"
def backward_loops(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, unit by unit with loops.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    ### BEGIN SOLUTION
    fw = q2_forward(x, params)
    W1, W2 = params["W1"], params["W2"]
    H, D = W1.shape
    C = W2.shape[0]
    g = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    g["z2"] = np.zeros((C, 1))
    g["a1"] = np.zeros((H, 1))
    g["z1"] = np.zeros((H, 1))
    for k in range(C):
        g["z2"][k, 0] = fw["a2"][k, 0] - t[k, 0]
        g["b2"][k, 0] = g["z2"][k, 0]
        for j in range(H):
            g["W2"][k, j] = g["z2"][k, 0] * fw["a1"][j, 0]
    for j in range(H):
        total = 0.0
        for k in range(C):
            total += g["z2"][k, 0] * W2[k, j]
        g["a1"][j, 0] = total
        g["z1"][j, 0] = total * (1.0 if fw["z1"][j, 0] > 0 else 0.0)
        g["b1"][j, 0] = g["z1"][j, 0]
        for i in range(D):
            g["W1"][j, i] = g["z1"][j, 0] * x[i, 0]
    return g
    ### END SOLUTION


# %%
# Try it on a small random example.
_x, _t, _p = q2_example(np.random.default_rng(0))
{k: v.shape for k, v in backward_loops(_x, _t, _p).items()}


# %% cell="tests" grade_id="t1_9_tests_public" points=1
"""Task 1.9, visible part: loops only, and gradients match finite differences on fixed examples (1 point)."""
import ast
import inspect
import textwrap


def _uses_matrix_products(fn) -> list[str]:  # noqa: ANN001
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append("@")
        if isinstance(node, ast.Attribute) and node.attr in {"dot", "matmul", "outer", "einsum", "inner", "tensordot"}:
            found.append(node.attr)
    return found


assert not _uses_matrix_products(backward_loops), (
    f"backward_loops: uses {sorted(set(_uses_matrix_products(backward_loops)))}; write explicit loops over units"
)


def _check_q2(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> None:
    g = backward_loops(x, t, {k: v.copy() for k, v in params.items()})
    check.keys("backward_loops(...)", g, ["W1", "b1", "W2", "b2", "z2", "a1", "z1"])
    fw = q2_forward(x, params)
    z2 = fw["z2"].copy()
    check.grad_fd("dz2", g["z2"], lambda: float(-(t * (z2 - np.log(np.exp(z2).sum()))).sum()), z2)
    P = {k: v.copy() for k, v in params.items()}
    check.grads_fd(g, lambda: q2_loss(x, t, P), P)


_check_q2(*q2_example(np.random.default_rng(12), D=3, H=3, C=3))  # square first: W vs W^T shows
_check_q2(*q2_example(np.random.default_rng(11)))

# %% cell="tests" grade_id="t1_9_tests_hidden" points=2
"""Task 1.9, hidden part: random examples of several sizes (2 points)."""
_check_q2(*q2_example(np.random.default_rng(13), D=2, H=4, C=5))
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in [(4, 5, 3), (3, 3, 3), (6, 2, 4)]:
    _x, _t, _p = q2_example(_gen, *_dims)
    _check_q2(_x, _t, _p)
    # the intermediate gradient dL/da1 through both paths of each hidden unit
    _fw = q2_forward(_x, _p)
    _a1 = _fw["a1"].copy()
    _z2_of_a1 = lambda: float(-(_t * np.log(np.exp(_p["W2"] @ _a1 + _p["b2"]) / np.exp(_p["W2"] @ _a1 + _p["b2"]).sum())).sum())  # noqa: E731, B023
    check.grad_fd("da1", backward_loops(_x, _t, _p)["a1"], _z2_of_a1, _a1)
assert not _uses_matrix_products(backward_loops), "backward_loops: write explicit loops over units"
### END HIDDEN TESTS

# %% [markdown]
# ## Explore
#
# The graph explorer of Part A and the step-size explorer of Part D run on your own functions:
# go back to them after a change, move the sliders and watch every partial update beside its
# finite difference. Nothing here is graded.
