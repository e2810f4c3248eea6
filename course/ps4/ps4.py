# %% [markdown]
# # Problem set 4 — Beyond chains: shared weights and skip connections
#
# So far every network was a **chain**: each layer fed only the next one, and each parameter was
# used once. The backward pass then walks the chain in reverse. Two small networks from the notes
# (*Practice problems: backpropagation*, §1.4) break that pattern:
#
# - the **twin network** (Q1) uses the same weights $\mathbf{W}^{(1)}, \mathbf{b}^{(1)}$ on two
#   inputs, so these parameters reach the loss along two branches;
# - the **skip-connection network** (Q2) sends the input $\mathbf{x}$ both through the first
#   layer and directly to the second hidden layer, so $\mathbf{x}$ reaches the loss along two
#   paths.
#
# The rule that handles both is the one from Problem set 1: when a variable influences the loss
# along several paths, its derivative is the **sum** of the contributions of the paths.
#
# Both networks work on **one example** at a time, as columns (like Problem set 2 and the notes).
# The rules of the earlier problem sets apply: keep names and signatures, visible checks use
# fixed examples, graded checks add random ones and your own numbers; gradients must match to a
# relative error of `1e-6`.
#
# Points: 22 in total (18 checked automatically, 4 manually graded).

# %%
STUDENT_ID = ""  # e.g. "jdoe42"; leave empty on JupyterHub

# %% cell="locked" grade_id="setup"
import functools

import numpy as np

from coursekit import check, seeds

ME = seeds.student_id(STUDENT_ID)
print(f"Working as student id {ME!r}.")

check_one = functools.partial(check.grads, n=1)
"""``check.grads`` for one example (N = 1)."""


def relu(v: np.ndarray) -> np.ndarray:
    """ReLU, elementwise."""
    return np.maximum(v, 0.0)


def sigmoid(v: np.ndarray) -> np.ndarray:
    """Logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-v))


# %% [markdown]
# ## Part A — the twin network (*Practice problems: backpropagation*, §1.4 Q1)
#
# A twin network computes a representation of each of two inputs with the **same** function
# $\Psi(\mathbf{x}) = \mathrm{ReLU}(\mathbf{W}^{(1)}\mathbf{x} + \mathbf{b}^{(1)})$ and then
# compares the two representations. With inputs $\mathbf{x}^{(a)}, \mathbf{x}^{(b)}$ of shape
# $(D, 1)$, $H$ hidden units and a target $t \in \{0, 1\}$ ("same" or "different"):
#
# $$\mathbf{m}^{(a)} = \mathbf{W}^{(1)}\mathbf{x}^{(a)} + \mathbf{b}^{(1)},\quad
#   \mathbf{h}^{(a)} = \mathrm{ReLU}(\mathbf{m}^{(a)}),\qquad
#   \mathbf{m}^{(b)} = \mathbf{W}^{(1)}\mathbf{x}^{(b)} + \mathbf{b}^{(1)},\quad
#   \mathbf{h}^{(b)} = \mathrm{ReLU}(\mathbf{m}^{(b)}),$$
# $$\mathbf{h} = \mathbf{h}^{(a)} \odot \mathbf{h}^{(b)},\qquad
#   z = \mathbf{W}^{(2)}\mathbf{h} + b^{(2)},\qquad y = \sigma(z),\qquad
#   \mathcal{L} = -t\log y - (1-t)\log(1-y).$$
#
# $\mathbf{W}^{(1)}$ is $H \times D$, $\mathbf{b}^{(1)}$ is $H \times 1$, $\mathbf{W}^{(2)}$ is
# $1 \times H$ and $b^{(2)}$ is stored as a $1 \times 1$ array.
#
# ### Task 4.0 — the graph first (1 point)
#
# Draw the computation graph of the twin network (*Practice problems: backpropagation*, §1.4
# Q1(a)) with one node per vector or matrix, the parameters included: `"xa"`, `"xb"`, `"W1"`,
# `"b1"`, `"m_a"`, `"m_b"`, `"h_a"`, `"h_b"`, `"h"`, `"W2"`, `"b2"`, `"z"`, `"y"`, `"t"` and
# `"L"`. Set `twin_parents` to a dict that maps every **computed** node (`"m_a"`, `"m_b"`,
# `"h_a"`, `"h_b"`, `"h"`, `"z"`, `"y"`, `"L"`) to the list of its parents, the nodes its formula
# reads; inputs and parameters have no parents and need no entry. The cell after it draws your
# graph. Look at how many outgoing edges each parameter has: that count is what Part A is about.

# %% cell="answer" grade_id="t4_0_answer"
### BEGIN SOLUTION
twin_parents = {"m_a": ["W1", "xa", "b1"], "m_b": ["W1", "xb", "b1"], "h_a": ["m_a"], "h_b": ["m_b"],
                "h": ["h_a", "h_b"], "z": ["W2", "h", "b2"], "y": ["z"], "L": ["y", "t"]}
### END SOLUTION

# %%
from coursekit.explorers.graph import show_graph

TWIN_NODES = ["xa", "xb", "W1", "b1", "m_a", "m_b", "h_a", "h_b", "h", "W2", "b2", "z", "y", "t", "L"]
show_graph(twin_parents, TWIN_NODES)

# %% cell="tests" grade_id="t4_0_tests" points=1
"""Task 4.0: the parents of every computed node of the twin network (1 point).

Visible part: a dict of known node names, every node connected, no cycle; the edges themselves
are checked after submission (the message then names each missing or extra edge; a visible
check would give them away)."""
from coursekit.explorers.graph import check_graph

check_graph("twin_parents", twin_parents, TWIN_NODES)
### BEGIN HIDDEN TESTS
check_graph("twin_parents", twin_parents, TWIN_NODES, expected={
    "m_a": ["W1", "xa", "b1"], "m_b": ["W1", "xb", "b1"], "h_a": ["m_a"], "h_b": ["m_b"],
    "h": ["h_a", "h_b"], "z": ["W2", "h", "b2"], "y": ["z"], "L": ["y", "t"]})
### END HIDDEN TESTS

# %% [markdown]
# In your graph $\mathbf{W}^{(1)}$ and $\mathbf{b}^{(1)}$ each have **two** outgoing edges, one
# into $\mathbf{m}^{(a)}$ and one into $\mathbf{m}^{(b)}$: their gradients collect a term from
# each branch.
#
# **Exercise A1 (1 point).** Which expression is $\nabla_{\mathbf{h}^{(a)}}\mathcal{L}$?
#
# (A) $\nabla_{\mathbf{h}}\mathcal{L} \odot \mathbf{h}^{(a)}$ &nbsp;
# (B) $\nabla_{\mathbf{h}}\mathcal{L} \odot \mathbf{h}^{(b)}$ &nbsp;
# (C) $\nabla_{\mathbf{h}}\mathcal{L}$ &nbsp;
# (D) $(\mathbf{h}^{(b)})^\top \nabla_{\mathbf{h}}\mathcal{L}$
#
# **Exercise A2 (1 point).** Which expression is $\nabla_{\mathbf{W}^{(1)}}\mathcal{L}$?
#
# (A) $\nabla_{\mathbf{m}^{(a)}}\mathcal{L}\, (\mathbf{x}^{(a)})^\top$ &nbsp;
# (B) $\nabla_{\mathbf{m}^{(a)}}\mathcal{L}\, (\mathbf{x}^{(a)})^\top + \nabla_{\mathbf{m}^{(b)}}\mathcal{L}\, (\mathbf{x}^{(b)})^\top$ &nbsp;
# (C) $\frac12\big(\nabla_{\mathbf{m}^{(a)}}\mathcal{L}\, (\mathbf{x}^{(a)})^\top + \nabla_{\mathbf{m}^{(b)}}\mathcal{L}\, (\mathbf{x}^{(b)})^\top\big)$ &nbsp;
# (D) $\big(\nabla_{\mathbf{m}^{(a)}}\mathcal{L} + \nabla_{\mathbf{m}^{(b)}}\mathcal{L}\big)\big(\mathbf{x}^{(a)} + \mathbf{x}^{(b)}\big)^\top$
#
# **Task 4.1 — shapes (1 point).** With $D = 4$ and $H = 3$, fill in `twin_shapes` with the
# shape (a tuple) of the gradient of $\mathcal{L}$ with respect to $z$, $\mathbf{W}^{(2)}$,
# $b^{(2)}$, $\mathbf{h}$, $\mathbf{h}^{(a)}$, $\mathbf{m}^{(a)}$, $\mathbf{W}^{(1)}$,
# $\mathbf{b}^{(1)}$.

# %% cell="answer" grade_id="t4_1_answer"
### BEGIN SOLUTION
mc_grad_h_a = "B"
mc_grad_W1_twin = "B"
twin_shapes = {"z": (1, 1), "W2": (1, 3), "b2": (1, 1), "h": (3, 1), "h_a": (3, 1), "m_a": (3, 1),
               "W1": (3, 4), "b1": (3, 1)}
### END SOLUTION

# %% cell="tests" grade_id="t4_1_tests_a1" points=1
"""Exercise A1 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_h_a", mc_grad_h_a, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_h_a", mc_grad_h_a, "B")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t4_1_tests_a2" points=1
"""Exercise A2 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_W1_twin", mc_grad_W1_twin, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_W1_twin", mc_grad_W1_twin, "B")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t4_1_tests_shapes" points=1
"""Task 4.1: shapes of the twin gradients for D = 4, H = 3 (1 point).

Visible part: tuples of ints, each of length 2 (every vector is kept as a 2-D column); which
shapes are right is checked after submission (a visible check would give them away)."""
check.keys("twin_shapes", twin_shapes, ["z", "W2", "b2", "h", "h_a", "m_a", "W1", "b1"])
for _k, _v in twin_shapes.items():
    assert isinstance(_v, tuple) and all(isinstance(n, int) for n in _v), f"twin_shapes[{_k!r}]: use a tuple of ints"
    assert len(_v) == 2, f"twin_shapes[{_k!r}] = {_v}: give 2-D shapes (rows, columns); a vector is a column (K, 1)"
### BEGIN HIDDEN TESTS
_want = {"z": (1, 1), "W2": (1, 3), "b2": (1, 1), "h": (3, 1), "h_a": (3, 1), "m_a": (3, 1),
         "W1": (3, 4), "b1": (3, 1)}
_wrong = [k for k in _want if tuple(twin_shapes[k]) != _want[k]]
assert not _wrong, f"twin_shapes: wrong for {_wrong}; a gradient has the shape of its variable"
### END HIDDEN TESTS

# %% [markdown]
# The forward pass and the loss are given. The loss is computed from $z$ as
# $\log(1 + e^{z}) - t z$, which equals the cross-entropy above and never overflows.

# %% cell="locked" grade_id="t4_2_given"
def twin_forward(xa: np.ndarray, xb: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward pass: m_a, h_a, m_b, h_b, h (H, 1) and z, y (1, 1) for inputs xa, xb (D, 1)."""
    m_a = params["W1"] @ xa + params["b1"]
    m_b = params["W1"] @ xb + params["b1"]
    h_a, h_b = relu(m_a), relu(m_b)
    h = h_a * h_b
    z = params["W2"] @ h + params["b2"]
    return {"m_a": m_a, "h_a": h_a, "m_b": m_b, "h_b": h_b, "h": h, "z": z, "y": sigmoid(z)}


def bce_from_z(z: np.ndarray, t: float) -> float:
    """Binary cross-entropy of y = sigmoid(z) (z of shape (1, 1)) against t, from z."""
    return float(np.logaddexp(0.0, z[0, 0]) - t * z[0, 0])


def twin_loss(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> float:
    """The loss L of the twin network for one pair (xa, xb) with target t."""
    return bce_from_z(twin_forward(xa, xb, params)["z"], t)


def twin_tail(h_a: np.ndarray, h_b: np.ndarray, t: float, params: dict[str, np.ndarray]) -> float:
    """The loss computed from the two representations h_a, h_b (H, 1) onwards."""
    return bce_from_z(params["W2"] @ (h_a * h_b) + params["b2"], t)


def twin_numbers(student: str) -> tuple[np.ndarray, np.ndarray, float, dict[str, np.ndarray]]:
    """This student's pair xa, xb (2, 1), target t and parameters (H = 2) for Task 4.2.

    Draws again until every hidden unit is active for both inputs, away from the ReLU kink.
    """
    for attempt in range(1000):
        key = f"t4_2_{attempt}"
        params = {
            "W1": seeds.matrix("ps4", student, key + "_W1", (2, 2)),
            "b1": seeds.matrix("ps4", student, key + "_b1", (2, 1), low=0.2, high=1.5),
            "W2": seeds.matrix("ps4", student, key + "_W2", (1, 2)),
            "b2": seeds.matrix("ps4", student, key + "_b2", (1, 1)),
        }
        xa = seeds.matrix("ps4", student, key + "_xa", (2, 1))
        xb = seeds.matrix("ps4", student, key + "_xb", (2, 1))
        fw = twin_forward(xa, xb, params)
        if min(fw["m_a"].min(), fw["m_b"].min()) >= 0.1:
            t = float(seeds.rng("ps4", student, key + "_t").integers(0, 2))
            return xa, xb, t, params
    raise RuntimeError("no suitable numbers found")


xa_mine, xb_mine, t_mine, P_mine = twin_numbers(ME)
print("xa =\n", xa_mine, "\nxb =\n", xb_mine, "\nt =", t_mine)
for _k, _v in P_mine.items():
    print(_k, "=\n", _v)

# %% [markdown]
# ### Task 4.2 — two gradients at your numbers (2 points)
#
# For your pair `xa_mine`, `xb_mine`, target `t_mine` and parameters `P_mine` (above; $D = H = 2$),
# set `my_dz` to $\partial\mathcal{L}/\partial z$ (a float, 1 point) and `my_dW1` to
# $\nabla_{\mathbf{W}^{(1)}}\mathcal{L}$ (a $2 \times 2$ array, 1 point). Use `twin_forward` for
# the node values and the chain rule for the rest; for the sigmoid with cross-entropy,
# $\partial\mathcal{L}/\partial z = y - t$ (Problem set 1).

# %% cell="answer" grade_id="t4_2_answer"
### BEGIN SOLUTION
_f = twin_forward(xa_mine, xb_mine, P_mine)
my_dz = float(_f["y"][0, 0] - t_mine)
_dh = P_mine["W2"].T * my_dz
_dm_a = _dh * _f["h_b"] * (_f["m_a"] > 0)
_dm_b = _dh * _f["h_a"] * (_f["m_b"] > 0)
my_dW1 = _dm_a @ xa_mine.T + _dm_b @ xb_mine.T
### END SOLUTION

# %% cell="tests" grade_id="t4_2_tests_dz" points=1
"""Task 4.2: dL/dz at your numbers (1 point).

Visible part: the sign and size every right answer has (the output y lies strictly between 0
and 1, so dL/dz is negative for t = 1 and positive for t = 0, and smaller than 1 in size). It
cannot tell you that the value is right: that would give it away."""
check.finite_number("my_dz", my_dz)
assert 0 < abs(my_dz) < 1 and (my_dz < 0) == (t_mine == 1), (
    f"my_dz = {my_dz:.6g} cannot be dL/dz for t = {t_mine:g}: y is between 0 and 1, so y - t is "
    f"{'negative' if t_mine == 1 else 'positive'} and smaller than 1 in size"
)
### BEGIN HIDDEN TESTS
_xa, _xb, _t, _P = twin_numbers(seeds.student_id(STUDENT_ID))
_z = twin_forward(_xa, _xb, _P)["z"].copy()
check.number("my_dz", my_dz, float(check.numerical_gradient(lambda: bce_from_z(_z, _t), _z)[0, 0]), rtol=1e-6)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t4_2_tests_dW1" points=1
"""Task 4.2: dL/dW1 at your numbers, both branches (1 point).

Visible part: the shape only; the values at your numbers are checked after submission (any
visible check of them would give them away). Task 4.3's visible test checks the same chain
rule on other numbers."""
check.shape("my_dW1", my_dW1, (2, 2))
### BEGIN HIDDEN TESTS
_xa, _xb, _t, _P = twin_numbers(seeds.student_id(STUDENT_ID))
_W = _P["W1"]
check.grad_fd("my_dW1", my_dW1, lambda: twin_loss(_xa, _xb, _t, _P), _W, tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Task 4.3 — `twin_backward` (4 points)
#
# Write `twin_backward(xa, xb, t, params)` for any $D$ and $H$. Return a dict with the gradient
# of $\mathcal{L}$ with respect to `"z"` $(1, 1)$, `"W2"` $(1, H)$, `"b2"` $(1, 1)$, `"h"`,
# `"h_a"`, `"h_b"`, `"m_a"`, `"m_b"` $(H, 1)$, `"W1"` $(H, D)$ and `"b1"` $(H, 1)$. Go backwards
# through the graph one node at a time; use $\mathrm{ReLU}'(m) = 1$ for $m > 0$, else $0$.
#
# Points: 1 for the visible check, 1 for $z$, $\mathbf{W}^{(2)}$, $b^{(2)}$, $\mathbf{h}$,
# $\mathbf{h}^{(a)}$, $\mathbf{h}^{(b)}$ and 2 for $\mathbf{m}^{(a)}$, $\mathbf{m}^{(b)}$ and the
# shared $\mathbf{W}^{(1)}$, $\mathbf{b}^{(1)}$, on random examples.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t4_3_answer"
def twin_backward(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the twin loss for inputs xa, xb (D, 1) and target t.

    Returns "z", "b2" (1, 1), "W2" (1, H), "h", "h_a", "h_b", "m_a", "m_b", "b1" (H, 1), "W1" (H, D).
    """
    ### BEGIN SOLUTION
    f = twin_forward(xa, xb, params)
    g = {}
    g["z"] = f["y"] - t
    g["W2"] = g["z"] @ f["h"].T
    g["b2"] = g["z"].copy()
    g["h"] = params["W2"].T @ g["z"]
    g["h_a"] = g["h"] * f["h_b"]
    g["h_b"] = g["h"] * f["h_a"]
    g["m_a"] = g["h_a"] * (f["m_a"] > 0)
    g["m_b"] = g["h_b"] * (f["m_b"] > 0)
    g["W1"] = g["m_a"] @ xa.T + g["m_b"] @ xb.T
    g["b1"] = g["m_a"] + g["m_b"]
    return g
    ### END SOLUTION


# %% cell="locked" grade_id="t4_3_given"
def twin_example(rng: np.random.Generator, D: int, H: int) -> tuple:
    """A random pair xa, xb (D, 1), target t and parameters with every |m| >= 1e-2, at least
    two hidden units active for both inputs (where the gradient of W1 is not zero), one unit
    active for one input only (where ReLU' = 0 matters) and |z| <= 3 (no saturation). H >= 3."""
    while True:
        params = {"W1": rng.normal(0, 0.8, (H, D)), "b1": rng.normal(0.5, 0.4, (H, 1)),
                  "W2": rng.normal(0, 0.8, (1, H)), "b2": rng.normal(0, 0.5, (1, 1))}
        xa, xb = rng.normal(0, 1, (D, 1)), rng.normal(0, 1, (D, 1))
        t = float(rng.integers(0, 2))
        f = twin_forward(xa, xb, params)
        both = int(((f["m_a"] > 0) & (f["m_b"] > 0)).sum())
        one = int(((f["m_a"] > 0) != (f["m_b"] > 0)).sum())
        kinks = min(np.abs(f["m_a"]).min(), np.abs(f["m_b"]).min())
        if kinks >= 1e-2 and both >= 2 and one >= 1 and abs(f["z"][0, 0]) <= 3.0:
            return xa, xb, t, params


def twin_fd(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Central finite differences of twin_loss and twin_tail: W1, b1, W2, b2, h_a, h_b, m_a, m_b."""
    P = {k: v.copy() for k, v in params.items()}
    out = {k: check.numerical_gradient(lambda: twin_loss(xa, xb, t, P), P[k]) for k in P}
    f = twin_forward(xa, xb, params)
    h_a, h_b, m_a, m_b = (f[k].copy() for k in ("h_a", "h_b", "m_a", "m_b"))
    out["h_a"] = check.numerical_gradient(lambda: twin_tail(h_a, h_b, t, params), h_a)
    out["h_b"] = check.numerical_gradient(lambda: twin_tail(h_a, h_b, t, params), h_b)
    out["m_a"] = check.numerical_gradient(lambda: twin_tail(relu(m_a), relu(m_b), t, params), m_a)
    out["m_b"] = check.numerical_gradient(lambda: twin_tail(relu(m_a), relu(m_b), t, params), m_b)
    return out


# %%
# Try it: relative errors of your gradients against finite differences.
_ex = twin_example(np.random.default_rng(0), 4, 3)
_g, _fd = twin_backward(*_ex), twin_fd(*_ex)
{k: check.rel_error(_g[k], _fd[k]) for k in _fd}

# %% cell="tests" grade_id="t4_3_tests_public" points=1
"""Task 4.3, visible part: twin_backward against finite differences on fixed examples (1 point)."""
for _seed, _dims in [(41, (3, 3)), (42, (4, 3)), (43, (2, 5))]:
    _xa, _xb, _t, _p = twin_example(np.random.default_rng(_seed), *_dims)
    _g = twin_backward(_xa.copy(), _xb.copy(), _t, {k: v.copy() for k, v in _p.items()})
    check.keys("twin_backward(...)", _g, ["z", "W2", "b2", "h", "h_a", "h_b", "m_a", "m_b", "W1", "b1"])
    check_one(f"twin_backward(...) with D, H = {_dims}", _g, twin_fd(_xa, _xb, _t, _p),
                against="finite differences", order=("W2", "b2", "h_a", "h_b", "m_a", "m_b", "W1", "b1"))

# %% cell="tests" grade_id="t4_3_tests_head" points=1
"""Task 4.3, hidden part: dz, dW2, db2, dh, dh_a, dh_b on random examples (1 point).

Visible part: the shape of dh; the values are checked against the reference on random examples after
submission. The visible test of Task 4.3 above checks the same function on fixed examples."""
### BEGIN HIDDEN TESTS


def _twin_reference(xa, xb, t, p):  # noqa: ANN001, ANN202
    f = twin_forward(xa, xb, p)
    dz = f["y"] - t
    dh = p["W2"].T @ dz
    dh_a, dh_b = dh * f["h_b"], dh * f["h_a"]
    dm_a, dm_b = dh_a * (f["m_a"] > 0), dh_b * (f["m_b"] > 0)
    ref = {"z": dz, "W2": dz @ f["h"].T, "b2": dz, "h": dh, "h_a": dh_a, "h_b": dh_b,
           "m_a": dm_a, "m_b": dm_b, "W1": dm_a @ xa.T + dm_b @ xb.T, "b1": dm_a + dm_b}
    both = "W1 and b1 are used by both branches, so their gradient is the sum of the two branches' contributions"
    mistakes = {  # the messages of the trusted grader (autograder/registry/ps4.py), word for word
        f"dW1, db1 hold the gradient of the branch of x_a only: {both}.": {"W1": dm_a @ xa.T, "b1": dm_a},
        f"dW1, db1 hold the gradient of the branch of x_b only: {both}.": {"W1": dm_b @ xb.T, "b1": dm_b},
        "dW1, db1 are the average of the two branches' contributions: the chain rule adds the contributions "
        "of all paths, it does not average them.": {"W1": (dm_a @ xa.T + dm_b @ xb.T) / 2, "b1": (dm_a + dm_b) / 2},
        "dh_a and dh_b are swapped: h = h_a * h_b, so the gradient reaching h_a is multiplied by the other "
        "factor, h_b.": {"h_a": dh * f["h_a"], "h_b": dh * f["h_b"]},
        "dm_a, dm_b lack the ReLU derivative: only units with m > 0 pass the gradient back.":
            {"m_a": dh_a, "m_b": dh_b},
    }
    return ref, mistakes


_TWIN_CASES = [(3, 3), (4, 3), (2, 5), (5, 4)]
_gen = np.random.default_rng()
for _dims in _TWIN_CASES:
    _ex = twin_example(_gen, *_dims)
    _ref, _mis = _twin_reference(*_ex)
    _g = twin_backward(*_ex)
    check_one(f"twin_backward(...) with D, H = {_dims}", _g,
                {k: _ref[k] for k in ("z", "W2", "b2", "h", "h_a", "h_b")}, against="the reference",
                mistakes=_mis)
### END HIDDEN TESTS
_g = twin_backward(*twin_example(np.random.default_rng(44), 4, 3))
check.shape("twin_backward(...)['h']", _g["h"], (3, 1))

# %% cell="tests" grade_id="t4_3_tests_shared" points=2
"""Task 4.3, hidden part: dm_a, dm_b and the shared dW1, db1 (both branches) on random examples (2 points).

Visible part: the shape of dW1; the values are checked against the reference on random examples after
submission. The visible test of Task 4.3 above checks the same function on fixed examples."""
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in _TWIN_CASES:
    _ex = twin_example(_gen, *_dims)
    _ref, _mis = _twin_reference(*_ex)
    _g = twin_backward(*_ex)
    # only the tensors this cell announces: a mistake in the head costs the head cell only
    check_one(f"twin_backward(...) with D, H = {_dims}", _g,
                {k: _ref[k] for k in ("m_a", "m_b", "W1", "b1")}, against="the reference", mistakes=_mis)
    check_one(f"twin_backward(...) with D, H = {_dims}", _g,
                {k: v for k, v in twin_fd(*_ex).items() if k in ("m_a", "m_b", "W1", "b1")},
                against="finite differences", mistakes=_mis, order=("m_a", "m_b", "W1", "b1"))
### END HIDDEN TESTS
_g = twin_backward(*twin_example(np.random.default_rng(45), 4, 3))
check.shape("twin_backward(...)['W1']", _g["W1"], (3, 4))

# %% [markdown]
# ## Part B — a skip connection (*Practice problems: backpropagation*, §1.4 Q2)
#
# An input $\mathbf{x}$ $(D, 1)$, a first hidden layer of $H_1$ logistic units, a second hidden
# layer of $H_2$ units that adds a **skip connection** from the input, and $C$ softmax outputs with
# the cross-entropy loss:
#
# $$\mathbf{z}_1 = \mathbf{W}_1\mathbf{x} + \mathbf{b}_1,\quad \mathbf{h}_1 = \sigma(\mathbf{z}_1),\qquad
#   \mathbf{z}_2 = \mathbf{W}_2\mathbf{h}_1 + \mathbf{b}_2,\quad \mathbf{z}_s = \mathbf{W}_s\mathbf{x},\quad
#   \mathbf{h}_2 = \mathrm{ReLU}(\mathbf{z}_2) + \mathbf{z}_s,$$
# $$\mathbf{z}_3 = \mathbf{W}_3\mathbf{h}_2 + \mathbf{b}_3,\qquad \mathbf{y} = \mathrm{softmax}(\mathbf{z}_3),\qquad
#   \mathcal{L} = -\sum_k t_k \log y_k .$$
#
# $\mathbf{W}_1$ is $H_1 \times D$, $\mathbf{W}_2$ is $H_2 \times H_1$, $\mathbf{W}_s$ is
# $H_2 \times D$ (no bias), $\mathbf{W}_3$ is $C \times H_2$. The input now has two outgoing
# edges, into $\mathbf{z}_1$ and into $\mathbf{z}_s$. We usually do not need
# $\nabla_{\mathbf{x}}\mathcal{L}$ to train, but we do when $\mathbf{x}$ is itself the output of
# an earlier network, or to see which input features the prediction is sensitive to.
#
# ### Task 4.4a — the graph first (1 point)
#
# Draw the computation graph of the skip network (*Practice problems: backpropagation*, §1.4
# Q2(a)) with one node per vector: `"x"`, `"z1"`, `"h1"`, `"z2"`, `"zs"`, `"h2"`, `"z3"`, `"y"`
# and `"L"` (leave out the parameters and the target). Set `skip_parents` to a dict that maps
# every node except `"x"` to the list of its parents, the nodes its formula reads. The cell
# after it draws your graph; count the paths from `x` to `L` in it.

# %% cell="answer" grade_id="t4_4a_answer"
### BEGIN SOLUTION
skip_parents = {"z1": ["x"], "h1": ["z1"], "z2": ["h1"], "zs": ["x"], "h2": ["z2", "zs"], "z3": ["h2"],
                "y": ["z3"], "L": ["y"]}
### END SOLUTION

# %%
from coursekit.explorers.graph import show_graph

SKIP_NODES = ["x", "z1", "h1", "z2", "zs", "h2", "z3", "y", "L"]
show_graph(skip_parents, SKIP_NODES)

# %% cell="tests" grade_id="t4_4a_tests" points=1
"""Task 4.4a: the parents of every node of the skip network (1 point).

Visible part: a dict of known node names, every node connected, no cycle; the edges themselves
are checked after submission (the message then names each missing or extra edge; a visible
check would give them away)."""
from coursekit.explorers.graph import check_graph

check_graph("skip_parents", skip_parents, SKIP_NODES)
### BEGIN HIDDEN TESTS
check_graph("skip_parents", skip_parents, SKIP_NODES, expected={
    "z1": ["x"], "h1": ["z1"], "z2": ["h1"], "zs": ["x"], "h2": ["z2", "zs"], "z3": ["h2"], "y": ["z3"], "L": ["y"]})
### END HIDDEN TESTS

# %% [markdown]
# ### Task 4.4 — two paths to the input, symbolically (1 point)
#
# Shrink everything to one unit per layer, drop the biases and keep the network's own
# activations: $h_1 = \sigma(w_1 x)$ (logistic), $h_2 = \mathrm{ReLU}(w_2 h_1) + w_s x$. Take a
# point where the ReLU unit is active ($w_2 h_1 > 0$), so that it passes its input unchanged:
# $y = h_2 = w_2\,\sigma(w_1 x) + w_s x$. With the SymPy symbols `x`, `w1`, `w2`, `ws` and the
# logistic function `sigma` below, set `dy_dx` to $\partial y / \partial x$ written with these
# (you may write $\sigma'$ as `sigma(u) * (1 - sigma(u))`).

# %% cell="locked" grade_id="t4_4_symbols"
import sympy as sp

x_s, w1_s, w2_s, ws_s = sp.symbols("x w1 w2 ws")


def sigma(u: sp.Expr) -> sp.Expr:
    """The logistic function 1 / (1 + exp(-u)) as a SymPy expression."""
    return 1 / (1 + sp.exp(-u))

# %% cell="answer" grade_id="t4_4_answer"
### BEGIN SOLUTION
dy_dx = w2_s * sigma(w1_s * x_s) * (1 - sigma(w1_s * x_s)) * w1_s + ws_s
### END SOLUTION

# %% cell="tests" grade_id="t4_4_tests" points=1
"""Task 4.4: dy/dx of y = w2 sigma(w1 x) + ws x (ReLU active), both paths (1 point).

Visible part: dy_dx is evaluated at random values of the symbols and compared with a central
difference of y in x (no expected expression is used)."""
check.sympy_expr("dy_dx", dy_dx, [x_s, w1_s, w2_s, ws_s])
check.sympy_derivative("dy_dx", dy_dx,
                       lambda x_, w1_, w2_, ws_: w2_ / (1 + np.exp(-w1_ * x_)) + ws_ * x_,
                       0, [x_s, w1_s, w2_s, ws_s])
### BEGIN HIDDEN TESTS
check.sympy_equal("dy_dx", dy_dx, sp.diff(w2_s * sigma(w1_s * x_s) + ws_s * x_s, x_s), [x_s, w1_s, w2_s, ws_s])
### END HIDDEN TESTS

# %% [markdown]
# ### Task 4.5 — the gradient with respect to the input (1 point)
#
# Which expression is $\nabla_{\mathbf{x}}\mathcal{L}$ for the skip network? Set `mc_grad_x_skip`
# to the letter of your choice.
#
# (A) $\mathbf{W}_1^\top \nabla_{\mathbf{z}_1}\mathcal{L}$ &nbsp;
# (B) $\mathbf{W}_s^\top \nabla_{\mathbf{z}_s}\mathcal{L}$ &nbsp;
# (C) $\mathbf{W}_1^\top \nabla_{\mathbf{z}_1}\mathcal{L} + \mathbf{W}_s^\top \nabla_{\mathbf{z}_s}\mathcal{L}$ &nbsp;
# (D) $\mathbf{W}_1^\top \nabla_{\mathbf{z}_1}\mathcal{L} + \nabla_{\mathbf{h}_2}\mathcal{L}$

# %% cell="answer" grade_id="t4_5_answer"
### BEGIN SOLUTION
mc_grad_x_skip = "C"
### END SOLUTION

# %% cell="tests" grade_id="t4_5_tests" points=1
"""Task 4.5: which expression is dL/dx (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_x_skip", mc_grad_x_skip, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_x_skip", mc_grad_x_skip, "C")
### END HIDDEN TESTS

# %% [markdown]
# ### Task 4.6 — `skip_backward` (5 points)
#
# Write `skip_backward(x, t, params)`. `params` holds `"W1"`, `"b1"`, `"W2"`, `"b2"`, `"Ws"`,
# `"W3"`, `"b3"`; `t` is a one-hot column $(C, 1)$. Return a dict with the gradient of
# $\mathcal{L}$ with respect to every parameter (same keys, same shapes), the nodes `"z3"`
# $(C, 1)$, `"h2"`, `"z2"`, `"zs"` $(H_2, 1)$, `"h1"`, `"z1"` $(H_1, 1)$, and the input `"x"`
# $(D, 1)$. The forward pass is given; $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ and for
# softmax with cross-entropy $\nabla_{\mathbf{z}_3}\mathcal{L} = \mathbf{y} - \mathbf{t}$.
#
# Points: 1 for the visible check, 1 for layers 3 and 2 and the skip weights
# ($\mathbf{z}_3, \mathbf{W}_3, \mathbf{b}_3, \mathbf{h}_2, \mathbf{z}_2, \mathbf{z}_s,
# \mathbf{W}_2, \mathbf{b}_2, \mathbf{W}_s$), 1 for layer 1 ($\mathbf{h}_1, \mathbf{z}_1,
# \mathbf{W}_1, \mathbf{b}_1$) and 2 for $\nabla_{\mathbf{x}}\mathcal{L}$, on random examples.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="locked" grade_id="t4_6_given"
def skip_forward(x: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward pass for x (D, 1): z1, h1 (H1, 1), z2, zs, h2 (H2, 1), z3, y (C, 1)."""
    p = params
    z1 = p["W1"] @ x + p["b1"]
    h1 = sigmoid(z1)
    z2 = p["W2"] @ h1 + p["b2"]
    zs = p["Ws"] @ x
    h2 = relu(z2) + zs
    z3 = p["W3"] @ h2 + p["b3"]
    e = np.exp(z3 - z3.max())
    return {"z1": z1, "h1": h1, "z2": z2, "zs": zs, "h2": h2, "z3": z3, "y": e / e.sum()}


def ce_from_logits(z3: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy -sum_k t_k log softmax(z3)_k, computed with log-sum-exp."""
    m = z3.max()
    return float(-(t * (z3 - m - np.log(np.exp(z3 - m).sum()))).sum())


def skip_loss(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """The loss L of the skip network for one example x (D, 1) with one-hot target t (C, 1)."""
    return ce_from_logits(skip_forward(x, params)["z3"], t)


def skip_example(rng: np.random.Generator, D: int, H1: int, H2: int, C: int) -> tuple:
    """A random example x (D, 1), one-hot t (C, 1) and parameters with every |z2| >= 1e-2, at
    least one ReLU unit off and logits z3 within a range of 4 (the softmax not saturated)."""
    while True:
        params = {"W1": rng.normal(0, 1, (H1, D)), "b1": rng.normal(0, 0.5, (H1, 1)),
                  "W2": rng.normal(0, 1, (H2, H1)), "b2": rng.normal(0, 0.5, (H2, 1)),
                  "Ws": rng.normal(0, 0.6, (H2, D)),
                  "W3": rng.normal(0, 0.6, (C, H2)), "b3": rng.normal(0, 0.5, (C, 1))}
        x = rng.normal(0, 1, (D, 1))
        t = np.zeros((C, 1))
        t[rng.integers(C), 0] = 1.0
        f = skip_forward(x, params)
        if np.abs(f["z2"]).min() >= 1e-2 and f["z2"].min() < 0 and np.ptp(f["z3"]) <= 4.0:
            return x, t, params


# %% cell="answer" grade_id="t4_6_answer"
def skip_backward(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the skip network's loss for x (D, 1), one-hot t (C, 1).

    Returns every parameter's gradient (its shape), "z3" (C, 1), "h2", "z2", "zs" (H2, 1),
    "h1", "z1" (H1, 1) and "x" (D, 1).
    """
    ### BEGIN SOLUTION
    p = params
    f = skip_forward(x, p)
    g = {}
    g["z3"] = f["y"] - t
    g["W3"] = g["z3"] @ f["h2"].T
    g["b3"] = g["z3"].copy()
    g["h2"] = p["W3"].T @ g["z3"]
    g["z2"] = g["h2"] * (f["z2"] > 0)
    g["zs"] = g["h2"].copy()
    g["Ws"] = g["zs"] @ x.T
    g["W2"] = g["z2"] @ f["h1"].T
    g["b2"] = g["z2"].copy()
    g["h1"] = p["W2"].T @ g["z2"]
    g["z1"] = g["h1"] * f["h1"] * (1.0 - f["h1"])
    g["W1"] = g["z1"] @ x.T
    g["b1"] = g["z1"].copy()
    g["x"] = p["W1"].T @ g["z1"] + p["Ws"].T @ g["zs"]
    return g
    ### END SOLUTION


# %% cell="locked" grade_id="t4_6_fd"
def skip_fd(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Central finite differences of skip_loss with respect to every parameter and to x."""
    P = {k: v.copy() for k, v in params.items()}
    xx = x.copy()
    out = {k: check.numerical_gradient(lambda: skip_loss(xx, t, P), P[k]) for k in P}
    out["x"] = check.numerical_gradient(lambda: skip_loss(xx, t, P), xx)
    return out


# %%
# Try it: relative errors of your gradients against finite differences.
_ex = skip_example(np.random.default_rng(0), 4, 5, 3, 2)
_g, _fd = skip_backward(*_ex), skip_fd(*_ex)
{k: check.rel_error(_g[k], _fd[k]) for k in _fd}

# %% cell="tests" grade_id="t4_6_tests_public" points=1
"""Task 4.6, visible part: skip_backward against finite differences, parameters and x (1 point)."""
for _seed, _dims in [(61, (3, 3, 3, 3)), (62, (4, 5, 3, 2)), (63, (2, 4, 6, 3))]:
    _x, _t, _p = skip_example(np.random.default_rng(_seed), *_dims)
    _g = skip_backward(_x.copy(), _t.copy(), {k: v.copy() for k, v in _p.items()})
    check.keys("skip_backward(...)", _g, ["W1", "b1", "W2", "b2", "Ws", "W3", "b3", "z3", "h2", "z2",
                                          "zs", "h1", "z1", "x"])
    check_one(f"skip_backward(...) with D, H1, H2, C = {_dims}", _g, skip_fd(_x, _t, _p),
                against="finite differences", order=("W3", "b3", "Ws", "W2", "b2", "W1", "b1", "x"))

# %% cell="tests" grade_id="t4_6_tests_upper" points=1
"""Task 4.6, hidden part: layers 3 and 2 and the skip weights Ws on random examples (1 point).

Visible part: the shape of dWs; the values are checked against the reference on random examples after
submission. The visible test of Task 4.6 above checks the same function on fixed examples."""
### BEGIN HIDDEN TESTS


def _skip_reference(x, t, p):  # noqa: ANN001, ANN202
    f = skip_forward(x, p)
    dz3 = f["y"] - t
    dh2 = p["W3"].T @ dz3
    dz2 = dh2 * (f["z2"] > 0)
    dzs = dh2
    dh1 = p["W2"].T @ dz2
    dz1 = dh1 * f["h1"] * (1 - f["h1"])
    ref = {"z3": dz3, "W3": dz3 @ f["h2"].T, "b3": dz3, "h2": dh2, "z2": dz2, "zs": dzs,
           "Ws": dzs @ x.T, "W2": dz2 @ f["h1"].T, "b2": dz2, "h1": dh1, "z1": dz1,
           "W1": dz1 @ x.T, "b1": dz1, "x": p["W1"].T @ dz1 + p["Ws"].T @ dzs}
    mistakes = {  # the messages of the trusted grader (autograder/registry/ps4.py), word for word
        "dx has only the path through W1 (W1^T dz1): x also reaches the loss through the skip connection "
        "zs = Ws x, whose contribution must be added.": {"x": p["W1"].T @ dz1},
        "dx has only the skip path (Ws^T dzs): x also reaches the loss through the first layer "
        "z1 = W1 x + b1, whose contribution must be added.": {"x": p["Ws"].T @ dzs},
        "dz2 lacks the ReLU derivative: ReLU(z2) passes the gradient only where z2 > 0.": {"z2": dh2},
        "dzs went through the ReLU mask: the skip term is added after the ReLU, so dL/dzs = dL/dh2.":
            {"zs": dz2},
        "dz1 is wrong: sigma' was evaluated at h1 = sigma(z1) instead of at z1.":
            {"z1": dh1 * sigmoid(f["h1"]) * (1 - sigmoid(f["h1"]))},
    }
    return ref, mistakes


_SKIP_CASES = [(3, 3, 3, 3), (4, 5, 3, 2), (2, 4, 6, 3), (5, 3, 4, 6)]
_UPPER = ("z3", "W3", "b3", "h2", "z2", "zs", "W2", "b2", "Ws")
_gen = np.random.default_rng()
for _dims in _SKIP_CASES:
    _ex = skip_example(_gen, *_dims)
    _ref, _mis = _skip_reference(*_ex)
    check_one(f"skip_backward(...) with D, H1, H2, C = {_dims}", skip_backward(*_ex),
                {k: _ref[k] for k in _UPPER}, against="the reference", mistakes=_mis)
### END HIDDEN TESTS
_g = skip_backward(*skip_example(np.random.default_rng(64), 4, 5, 3, 2))
check.shape("skip_backward(...)['Ws']", _g["Ws"], (3, 4))

# %% cell="tests" grade_id="t4_6_tests_lower" points=1
"""Task 4.6, hidden part: layer 1 (dh1, dz1, dW1, db1) on random examples (1 point).

Visible part: the shape of dW1; the values are checked against the reference on random examples after
submission. The visible test of Task 4.6 above checks the same function on fixed examples."""
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in _SKIP_CASES:
    _ex = skip_example(_gen, *_dims)
    _ref, _mis = _skip_reference(*_ex)
    check_one(f"skip_backward(...) with D, H1, H2, C = {_dims}", skip_backward(*_ex),
                {k: _ref[k] for k in ("h1", "z1", "W1", "b1")}, against="the reference",
                mistakes=_mis)
### END HIDDEN TESTS
_g = skip_backward(*skip_example(np.random.default_rng(65), 4, 5, 3, 2))
check.shape("skip_backward(...)['W1']", _g["W1"], (5, 4))

# %% cell="tests" grade_id="t4_6_tests_x" points=2
"""Task 4.6, hidden part: dL/dx through both paths, on random examples (2 points).

Visible part: the shape of dx; the values are checked against the reference on random examples after
submission. The visible test of Task 4.6 above checks the same function on fixed examples."""
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in _SKIP_CASES:
    _ex = skip_example(_gen, *_dims)
    _ref, _mis = _skip_reference(*_ex)
    _g = skip_backward(*_ex)
    check_one(f"skip_backward(...) with D, H1, H2, C = {_dims}", _g, {"x": _ref["x"]},
                against="the reference", mistakes={k: v for k, v in _mis.items() if "x" in v})
    check_one(f"skip_backward(...) with D, H1, H2, C = {_dims}", _g, {"x": skip_fd(*_ex)["x"]},
                against="finite differences of skip_loss",
                mistakes={k: v for k, v in _mis.items() if "x" in v})
### END HIDDEN TESTS
_g = skip_backward(*skip_example(np.random.default_rng(66), 4, 5, 3, 2))
check.shape("skip_backward(...)['x']", _g["x"], (4, 1))

# %% [markdown]
# **Explore (not graded).** Every gradient check can be reduced to one variable. Fix a
# direction $\mathbf{d}$ (a unit vector) and look at the **slice** $s \mapsto
# \mathcal{L}(\boldsymbol{\theta} + s\,\mathbf{d})$: by the chain rule its derivative is the
# directional derivative $\langle \nabla_{\boldsymbol{\theta}}\mathcal{L}, \mathbf{d}\rangle$,
# the sum of the entries of your gradient times those of $\mathbf{d}$. The explorer compares that
# number, from **your** backward pass, with forward and central differences of the slice for
# steps $h$ from $10^{-16}$ to $1$, in float64 and float32. Two slices are offered:
#
# - **twin, along the shared W1**: $\boldsymbol{\theta} = \mathbf{W}^{(1)}$ of a fixed twin
#   example, your `twin_backward(...)["W1"]`;
# - **skip, along the input x**: $\boldsymbol{\theta} = \mathbf{x}$ of a fixed skip example,
#   your `skip_backward(...)["x"]`.
#
# With a correct gradient you see the V of Problem set 1: truncation error for large $h$,
# round-off for small $h$, and a bottom far below `1e-6`. If your gradient misses one of the
# two branches or paths, no step size brings the error down: the V has a high floor, and the
# table shows no "best h" (a dash) because no step agrees with your derivative. Along the
# twin slice the slider's $s$ passes points where a hidden ReLU unit switches on or off (the
# note under the controls names the nearest such kink): steps that straddle a kink give large
# errors whatever your gradient. The skip slice is smooth on the slider's range.

# %%
from coursekit.explorers import ProbeFunction, step_size_explorer


def _slice_probe(loss, grad, theta, direction, pre_activations) -> ProbeFunction:  # noqa: ANN001
    """s -> loss(theta + s d) and its derivative sum(grad(theta + s d) * d), elementwise in s.

    The kinks are the s in [-2.5, 2.5] where an entry of pre_activations(theta + s d) changes sign.
    """
    def f(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s)
        return np.array([loss(theta + float(v) * direction) for v in s.ravel()]).reshape(s.shape)

    def df(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s)
        vals = [float(np.sum(grad(theta + float(v) * direction) * direction)) for v in s.ravel()]
        return np.array(vals).reshape(s.shape)

    grid = np.linspace(-2.5, 2.5, 1001)
    pre = np.array([np.ravel(pre_activations(theta + v * direction)) for v in grid])
    kinks = []
    for i, j in zip(*np.nonzero(np.sign(pre[:-1]) != np.sign(pre[1:])), strict=True):
        lo, hi = pre[i, j], pre[i + 1, j]  # interpolate the sign change linearly
        kinks.append(round(float(grid[i] + (grid[i + 1] - grid[i]) * lo / (lo - hi)), 4))
    return ProbeFunction(f, df, tuple(sorted(kinks)))


_rng = np.random.default_rng(7)
_xa, _xb, _tt, _pt = twin_example(np.random.default_rng(0), 4, 3)
_dW1 = _rng.normal(size=_pt["W1"].shape)
_xs, _ts, _ps = skip_example(np.random.default_rng(0), 4, 5, 3, 2)
_dx = _rng.normal(size=_xs.shape)
_slices = {
    "twin, along the shared W1": (
        lambda W1: twin_loss(_xa, _xb, _tt, {**_pt, "W1": W1}),
        lambda W1: twin_backward(_xa, _xb, _tt, {**_pt, "W1": W1})["W1"],
        _pt["W1"], _dW1 / np.linalg.norm(_dW1),
        lambda W1: np.vstack([twin_forward(_xa, _xb, {**_pt, "W1": W1})[k] for k in ("m_a", "m_b")]),
    ),
    "skip, along the input x": (
        lambda x: skip_loss(x, _ts, _ps),
        lambda x: skip_backward(x, _ts, _ps)["x"],
        _xs, _dx / np.linalg.norm(_dx),
        lambda x: skip_forward(x, _ps)["z2"],
    ),
}
_probes = {}
for _name, (_loss, _grad, _theta, _d, _pre) in _slices.items():
    try:
        _grad(_theta)
        _probes[_name] = _slice_probe(_loss, _grad, _theta, _d, _pre)
    except Exception as _exc:  # an unfinished Task 4.3 or 4.6 (NotImplementedError)
        print(f"{_name}: your backward pass is not ready yet ({type(_exc).__name__}); finish it "
              "and run this cell again.")
if not _probes:
    print("Meanwhile the explorer shows its built-in function exp(sin x) + relu(x).")
step_size_explorer(_probes, include_default=not _probes, x=0.0, variable="s" if _probes else "x")

# %% [markdown]
# ## Part C — why the sums matter
#
# ### Task 4.7 — shared weights (2 points, manually graded)
#
# Your friend Lea computes $\nabla_{\mathbf{W}^{(1)}}\mathcal{L}$ of the twin network from the
# branch of $\mathbf{x}^{(a)}$ only, arguing that the other branch "uses a copy of the same
# weights anyway". Explain with the computation graph why the gradient of a shared parameter is
# the **sum** over its uses, and what would go wrong if she trained with her gradient.

# %% [markdown] cell="written" grade_id="t4_7_written" points=2
# In the graph $\mathbf{W}^{(1)}$ is one node with two outgoing edges, into $\mathbf{m}^{(a)}$ and
# into $\mathbf{m}^{(b)}$: changing an entry of $\mathbf{W}^{(1)}$ changes both representations at
# once. By the multivariate chain rule the total derivative is the sum over all paths from the
# node to the loss, $\nabla_{\mathbf{W}^{(1)}}\mathcal{L} = \nabla_{\mathbf{m}^{(a)}}\mathcal{L}\,
# \mathbf{x}^{(a)\top} + \nabla_{\mathbf{m}^{(b)}}\mathcal{L}\,\mathbf{x}^{(b)\top}$. There is no
# "copy": the same numbers are used twice, so both uses count. Lea's vector is the gradient of
# a different function (one in which the $b$ branch had its own, frozen weights); it is not the
# direction of steepest descent of $\mathcal{L}$. A step along it can even increase the loss
# when the $b$ branch pulls the other way, and training would ignore everything the loss says
# through the second input (e.g. the representations would not be trained to be similar for
# similar pairs). Equivalently, the twin network is a network with two weight matrices
# constrained to be equal, and the gradient with respect to the shared value is the sum of the
# two matrices' gradients.

# %% [markdown] cell="rubric" grade_id="t4_7_rubric"
# *The grader's rubric for Task 4.7 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: $\mathbf{W}^{(1)}$ has two outgoing edges (two paths to the loss); the multivariate
#   chain rule sums the contributions of all paths (or: two tied copies, the shared gradient is
#   the sum of both copies' gradients).
# - 1 point: with one branch only, the update is not the (negative) gradient of the loss:
#   training ignores the second branch's effect, may increase the loss or converge to the wrong
#   solution.
# ### END MARK SCHEME

# %% [markdown]
# ### Task 4.8 — what the skip path does for the gradient (2 points, manually graded)
#
# Look at your $\nabla_{\mathbf{x}}\mathcal{L}$ of the skip network. Suppose the logistic layer
# saturates ($\sigma'(\mathbf{z}_1) \approx \mathbf{0}$) or every ReLU unit of the second layer
# is off ($\mathbf{z}_2 < \mathbf{0}$). What happens to the gradient that reaches $\mathbf{x}$ with
# and without the skip connection, and why does this make deep networks with skip connections
# easier to train?

# %% [markdown] cell="written" grade_id="t4_8_written" points=2
# $\nabla_{\mathbf{x}}\mathcal{L} = \mathbf{W}_1^\top \nabla_{\mathbf{z}_1}\mathcal{L} +
# \mathbf{W}_s^\top \nabla_{\mathbf{h}_2}\mathcal{L}$, where the first term carries the factors
# $\sigma'(\mathbf{z}_1)$ and $\mathrm{ReLU}'(\mathbf{z}_2)$ and the second carries neither (the
# skip term is added after the ReLU, so $\nabla_{\mathbf{z}_s}\mathcal{L} =
# \nabla_{\mathbf{h}_2}\mathcal{L}$). If the sigmoid saturates or all ReLUs are off, the first
# term is (nearly) zero; without the skip connection the gradient reaching $\mathbf{x}$ (and
# anything before it) would vanish, while with it the second term still passes
# $\mathbf{W}_s^\top \nabla_{\mathbf{h}_2}\mathcal{L}$ back undiminished. In a deep network each
# layer multiplies the gradient by another Jacobian with such factors, so gradients through a
# long chain tend to shrink (vanish); skip connections add short paths whose contribution is
# not multiplied by these derivatives, so early layers keep receiving a useful gradient and the
# network trains.

# %% [markdown] cell="rubric" grade_id="t4_8_rubric"
# *The grader's rubric for Task 4.8 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: writes or describes $\nabla_{\mathbf{x}}\mathcal{L}$ as the sum of the $\mathbf{W}_1$
#   path (containing $\sigma'$ and the ReLU mask) and the skip path
#   ($\mathbf{W}_s^\top \nabla_{\mathbf{h}_2}\mathcal{L}$, no activation derivative); the first
#   vanishes in the described cases, the second does not.
# - 1 point: connects this to deep networks: products of many small derivatives make gradients
#   vanish along long chains; skip connections provide short paths so earlier layers still get
#   gradient.
# ### END MARK SCHEME
