# %% [markdown]
# # Problem set 2 — Vectorizing backpropagation for one example
#
# In Problem set 1 every derivative was a number and the backward pass was a set of loops over
# units. Here the same equations become statements about **vectors and matrices**: one line of
# NumPy per layer instead of two nested loops. As in the notes, the example is a column vector
# ($\mathbf{a}^{(m)}$ has shape $D^{(m)} \times 1$) and $\mathbf{W}^{(m)}$ has shape
# $D^{(m)} \times D^{(m-1)}$ (output $\times$ input).
#
# A reliable way to vectorize: write down the **shape** of every quantity first. Most wrong
# candidates do not even have the right shape.
#
# The rules of Problem set 1 apply: keep names and signatures, visible checks use fixed
# examples, graded checks add random ones; gradients must match to a relative error of `1e-6`.
#
# Points: 26 in total (24 checked automatically, 2 manually graded).

# %%
STUDENT_ID = ""  # e.g. "jdoe42"; leave empty on JupyterHub

# %% cell="locked" grade_id="setup"
import time

import numpy as np

from coursekit import check, seeds

ME = seeds.student_id(STUDENT_ID)
print(f"Working as student id {ME!r}.")

# %% [markdown]
# ## Part A — which expression is the vectorized one? (lecture *Vectorizing the backpropagation algorithm*)
#
# For each exercise set its variable to the letter of the right option, as a string such as
# `"B"`: `mc_weighted_sum` (A1), `mc_output_layer` (A2), `mc_grad_activations` (A3),
# `mc_grad_preactivations` (A4), `mc_grad_weights` (A5). One point each. Notation: $\nabla_{\mathbf{v}} \mathcal{L}$ is the column of partial derivatives
# $\partial \mathcal{L} / \partial v_i$, with the shape of $\mathbf{v}$; $\odot$ is the elementwise product.
#
# **Exercise A1 — the weighted sum.** Which expression gives the column with entries
# $\sum_{j=1}^{D^{(m)}} W^{(m+1)}_{ij} a^{(m)}_j$ for $i = 1, \dots, D^{(m+1)}$?
#
# (A) $(\mathbf{W}^{(m+1)})^\top \mathbf{a}^{(m)}$ &nbsp;
# (B) $(\mathbf{a}^{(m)})^\top \mathbf{W}^{(m+1)}$ &nbsp;
# (C) $\mathbf{W}^{(m+1)} \mathbf{a}^{(m)}$ &nbsp;
# (D) $\mathbf{a}^{(m)} \mathbf{W}^{(m+1)}$
#
# **Exercise A2 — the output layer.** Which expression gives the column with entries
# $\frac{\partial \mathcal{L}}{\partial a^{(L)}_i}\, \sigma^{(L)\prime}(z^{(L)}_i)$?
#
# (A) $(\nabla_{\mathbf{a}^{(L)}} \mathcal{L})^\top \sigma^{(L)\prime}(\mathbf{z}^{(L)})$ &nbsp;
# (B) $\sigma^{(L)\prime}(\mathbf{z}^{(L)})^\top \nabla_{\mathbf{a}^{(L)}} \mathcal{L}$ &nbsp;
# (C) $\nabla_{\mathbf{a}^{(L)}} \mathcal{L} \odot \sigma^{(L)\prime}(\mathbf{z}^{(L)})$ &nbsp;
# (D) $\sigma^{(L)\prime}(\mathbf{z}^{(L)}) (\nabla_{\mathbf{a}^{(L)}} \mathcal{L})^\top$ &nbsp;
# (E) $\nabla_{\mathbf{a}^{(L)}} \mathcal{L} \, \sigma^{(L)\prime}(\mathbf{z}^{(L)})^\top$
#
# **Exercise A3 — gradient with respect to the activations.** Which expression gives the column
# with entries $\sum_{i=1}^{D^{(m+1)}} \frac{\partial \mathcal{L}}{\partial z^{(m+1)}_i} W^{(m+1)}_{ij}$ for
# $j = 1, \dots, D^{(m)}$?
#
# (A) $(\mathbf{W}^{(m+1)})^\top \nabla_{\mathbf{z}^{(m+1)}} \mathcal{L}$ &nbsp;
# (B) $(\nabla_{\mathbf{z}^{(m+1)}} \mathcal{L})^\top \mathbf{W}^{(m+1)}$ &nbsp;
# (C) $\mathbf{W}^{(m+1)} \nabla_{\mathbf{z}^{(m+1)}} \mathcal{L}$ &nbsp;
# (D) $\nabla_{\mathbf{z}^{(m+1)}} \mathcal{L} \, \mathbf{W}^{(m+1)}$
#
# **Exercise A4 — gradient with respect to the pre-activations of a hidden layer.** Same
# options as A2 with $L$ replaced by $m$: which gives the entries
# $\frac{\partial \mathcal{L}}{\partial a^{(m)}_j} \sigma^{(m)\prime}(z^{(m)}_j)$?
#
# **Exercise A5 — gradient with respect to the weights.** Which expression gives the matrix
# with entries $\frac{\partial \mathcal{L}}{\partial z^{(m)}_i} a^{(m-1)}_j$
# ($D^{(m)} \times D^{(m-1)}$)?
#
# (A) $(\nabla_{\mathbf{z}^{(m)}} \mathcal{L})^\top \mathbf{a}^{(m-1)}$ &nbsp;
# (B) $(\mathbf{a}^{(m-1)})^\top \nabla_{\mathbf{z}^{(m)}} \mathcal{L}$ &nbsp;
# (C) $\nabla_{\mathbf{z}^{(m)}} \mathcal{L} \odot \mathbf{a}^{(m-1)}$ &nbsp;
# (D) $\mathbf{a}^{(m-1)} (\nabla_{\mathbf{z}^{(m)}} \mathcal{L})^\top$ &nbsp;
# (E) $\nabla_{\mathbf{z}^{(m)}} \mathcal{L} \, (\mathbf{a}^{(m-1)})^\top$

# %% cell="answer" grade_id="t2_1_answer"
### BEGIN SOLUTION
mc_weighted_sum = "C"
mc_output_layer = "C"
mc_grad_activations = "A"
mc_grad_preactivations = "C"
mc_grad_weights = "E"
### END SOLUTION

# %% cell="tests" grade_id="t2_1_tests_a1" points=1
"""Exercise A1 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_weighted_sum", mc_weighted_sum, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_weighted_sum", mc_weighted_sum, "C")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_1_tests_a2" points=1
"""Exercise A2 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_output_layer", mc_output_layer, "ABCDE")
### BEGIN HIDDEN TESTS
check.choice_is("mc_output_layer", mc_output_layer, "C")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_1_tests_a3" points=1
"""Exercise A3 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_activations", mc_grad_activations, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_activations", mc_grad_activations, "A")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_1_tests_a4" points=1
"""Exercise A4 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_preactivations", mc_grad_preactivations, "ABCDE")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_preactivations", mc_grad_preactivations, "C")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_1_tests_a5" points=1
"""Exercise A5 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_grad_weights", mc_grad_weights, "ABCDE")
### BEGIN HIDDEN TESTS
check.choice_is("mc_grad_weights", mc_grad_weights, "E")
### END HIDDEN TESTS

# %% [markdown]
# ## Part B — softmax and cross-entropy with a vector of ones (*Practice problems: backpropagation*, §1.2 Q1)
#
# For one example with $C$ classes, $\mathbf{z}$ and $\mathbf{t}$ are columns of shape
# $(C, 1)$ and $\mathbf{1}_C$ is the column of $C$ ones. A sum over the entries of a column
# $\mathbf{v}$ is the product $\mathbf{1}_C^\top \mathbf{v}$, a $1 \times 1$ matrix, so
#
# - the softmax divides the elementwise $\exp(\mathbf{z})$ by $\mathbf{1}_C^\top \exp(\mathbf{z})$;
# - the cross-entropy $-\sum_k t_k \log a_k$ is minus one product of a row and a column.
#
# ### Task 2.2 — `softmax_col` and `cross_entropy_col` (2 points)
#
# Write both with a ones vector and matrix products, no Python loops. `softmax_col(z)` returns
# a $(C, 1)$ array; `cross_entropy_col(a, t)` returns a Python float. Subtracting
# $\max_k z_k$ from every entry before `np.exp` leaves the softmax unchanged and avoids
# overflow; do it.

# %% cell="answer" grade_id="t2_2_answer"
def softmax_col(z: np.ndarray) -> np.ndarray:
    """Softmax of a column z (C, 1), returned as a column (C, 1)."""
    ### BEGIN SOLUTION
    ones = np.ones((z.shape[0], 1))
    e = np.exp(z - z.max())
    return e / (ones.T @ e)
    ### END SOLUTION


def cross_entropy_col(a: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy -sum_k t_k log a_k of probabilities a (C, 1) and target t (C, 1), a float."""
    ### BEGIN SOLUTION
    return float(-(t.T @ np.log(a))[0, 0])
    ### END SOLUTION


# %% cell="tests" grade_id="t2_2_tests_softmax" points=1
"""Task 2.2: softmax_col on fixed and random columns (1 point)."""
_a = softmax_col(np.array([[1.0], [2.0], [0.5]]))
check.array("softmax_col(z)", _a, np.array([[0.2312239], [0.62853172], [0.14024438]]), tol=1e-7)
check.array("softmax_col(z) with large entries", softmax_col(np.array([[1000.0], [999.0]])),
            np.array([[0.73105858], [0.26894142]]), tol=1e-7)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _C in (2, 3, 7):
    _z = _gen.normal(0, 3, (_C, 1))
    _e = np.exp(_z - _z.max())
    check.array("softmax_col(z)", softmax_col(_z.copy()), _e / _e.sum(), tol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_2_tests_ce" points=1
"""Task 2.2: cross_entropy_col on fixed and random examples (1 point)."""
check.number("cross_entropy_col(a, t)",
             cross_entropy_col(np.array([[0.2], [0.7], [0.1]]), np.array([[0.0], [1.0], [0.0]])),
             0.356674944, rtol=1e-7)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _C in (2, 4, 6):
    _p = _gen.uniform(0.05, 1.0, (_C, 1))
    _p /= _p.sum()
    _t = np.zeros((_C, 1))
    _t[_gen.integers(_C), 0] = 1.0
    check.number("cross_entropy_col(a, t)", cross_entropy_col(_p, _t), float(-np.log(_p[_t == 1])[0]),
                 rtol=1e-10)
    _t = _gen.uniform(0, 1, (_C, 1))
    _t /= _t.sum()
    check.number("cross_entropy_col(a, t) (soft target)", cross_entropy_col(_p, _t),
                 float(-(_t * np.log(_p)).sum()), rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### Output activations and losses come in pairs
#
# The lecture notes *Feedforward networks and backpropagation* (CS7015) choose the output
# activation and the loss **together**, by what the target is: real numbers (regression), one
# of $C$ classes (a one-hot $\mathbf{t}$), or $C$ independent yes/no labels ($t_k \in \{0, 1\}$).
# The output activations are `"identity"`, `"softmax"` and `"sigmoid"`; the losses are
# `"half_squared_error"` $\tfrac12\sum_k (y_k - t_k)^2$, `"cross_entropy"` $-\sum_k t_k \log y_k$
# and `"binary_cross_entropy"` $-\sum_k [t_k \log y_k + (1 - t_k)\log(1 - y_k)]$, with
# $\mathbf{y} = f(\mathbf{z})$ the output activation of the pre-activation $\mathbf{z}$.
#
# ### Task 2.2b — which loss goes with which output (1 point)
#
# Set `loss_for_output` to a dict that maps each of `"identity"`, `"softmax"`, `"sigmoid"` to the
# name of the loss it is paired with.

# %% cell="answer" grade_id="t2_2b_answer"
### BEGIN SOLUTION
loss_for_output = {"identity": "half_squared_error", "softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}
### END SOLUTION

# %% cell="tests" grade_id="t2_2b_tests" points=1
"""Task 2.2b: the loss paired with each output activation (1 point)."""
# visible: the three activations, each with one of the three loss names; the pairs are checked
# at grading
check.keys("loss_for_output", loss_for_output, ["identity", "softmax", "sigmoid"])
for _k, _v in loss_for_output.items():
    assert _v in ("half_squared_error", "cross_entropy", "binary_cross_entropy"), (
        f"loss_for_output[{_k!r}]: {_v!r} is not one of the three loss names")
### BEGIN HIDDEN TESTS
_pairs = {"identity": "half_squared_error", "softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}
_bad = [k for k in _pairs if loss_for_output[k] != _pairs[k]]
assert not _bad, f"loss_for_output: wrong loss for {', '.join(_bad)}"
### END HIDDEN TESTS

# %% [markdown]
# The pairs are given below as `pair_loss(output, z, t)`, the loss of one example as a function
# of the pre-activation $\mathbf{z}$ $(C, 1)$ (computed stably from $\mathbf{z}$, not from
# $\mathbf{y}$).
#
# ### Task 2.2c — the gradient at the output, for each pair (1 point)
#
# Write `output_delta(output, z, t)` that returns $\nabla_{\mathbf{z}}\mathcal{L}$, shape
# $(C, 1)$, for the pair whose output activation is `output`. Derive each case by the chain rule,
# $\nabla_{\mathbf{y}}\mathcal{L}$ combined with the derivative (for softmax: the Jacobian) of the
# activation, and simplify as far as you can. No finite differences.

# %% cell="locked" grade_id="t2_2_pairs_given"
def pair_loss(output: str, z: np.ndarray, t: np.ndarray) -> float:
    """Loss of one example for the pair of `output`, from z (C, 1) and target t (C, 1)."""
    if output == "identity":
        return float(0.5 * np.sum((z - t) ** 2))
    if output == "softmax":
        m = z.max()
        return float(-np.sum(t * (z - m - np.log(np.sum(np.exp(z - m))))))
    if output == "sigmoid":
        return float(np.sum(np.logaddexp(0.0, z) - t * z))
    raise ValueError(f"unknown output activation {output!r}")


# %% cell="answer" grade_id="t2_2c_answer"
def output_delta(output: str, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """dL/dz (C, 1) of pair_loss(output, z, t) for z, t of shape (C, 1)."""
    ### BEGIN SOLUTION
    if output == "identity":
        y = z
    elif output == "softmax":
        e = np.exp(z - z.max())
        y = e / e.sum()
    else:
        y = 1.0 / (1.0 + np.exp(-z))
    return y - t
    ### END SOLUTION


# %% cell="tests" grade_id="t2_2c_tests" points=1
"""Task 2.2c: output_delta against finite differences of pair_loss for each pair (1 point)."""
_z = np.array([[0.5], [-1.2], [2.0]])
for _out, _t in (("identity", np.array([[0.3], [0.1], [-0.4]])), ("softmax", np.array([[0.0], [1.0], [0.0]])),
                 ("sigmoid", np.array([[1.0], [0.0], [1.0]]))):
    _zz = _z.copy()
    check.grad_fd(f"output_delta({_out!r}, z, t)", output_delta(_out, _zz, _t), lambda: pair_loss(_out, _zz, _t), _zz)  # noqa: B023
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _out in ("identity", "softmax", "sigmoid"):
    for _C in (2, 5):
        _zz = _gen.normal(0, 1.5, (_C, 1))
        _t = np.eye(_C)[:, [_gen.integers(_C)]] if _out == "softmax" else (
            (_gen.random((_C, 1)) < 0.5).astype(float) if _out == "sigmoid" else _gen.normal(size=(_C, 1)))
        check.grad_fd(f"output_delta({_out!r}, z, t) with C = {_C}", output_delta(_out, _zz, _t),
                      lambda: pair_loss(_out, _zz, _t), _zz)  # noqa: B023
### END HIDDEN TESTS

# %% [markdown]
# ### Task 2.2d — why these pairs (1 point)
#
# Look at your three `output_delta` branches. Set `why_pairs` to the letter of the best reason
# for pairing the output activations with these losses:
#
# (A) They are the only losses whose value is never negative. &nbsp;
# (B) With each matched pair the gradient at the pre-activation is simply
# $\nabla_{\mathbf{z}}\mathcal{L} = \mathbf{y} - \mathbf{t}$: the derivative of the activation
# cancels, so the error signal does not vanish when the output saturates. &nbsp;
# (C) They make the loss a convex function of all the weights of a deep network. &nbsp;
# (D) They are the pairs whose forward pass is cheapest.

# %% cell="answer" grade_id="t2_2d_answer"
### BEGIN SOLUTION
why_pairs = "B"
### END SOLUTION

# %% cell="tests" grade_id="t2_2d_tests" points=1
"""Task 2.2d: the reason for the pairs (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("why_pairs", why_pairs, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("why_pairs", why_pairs, "B")
### END HIDDEN TESTS

# %% [markdown]
# ## Part C — the backward pass for one example (*Practice problems: backpropagation*, §1.3 Q1)
#
# The network of Problem set 1, Part F: $D$ inputs, $H$ ReLU hidden units, $C$ softmax outputs,
# cross-entropy loss. In vector form the forward pass is
#
# $$\mathbf{z}^{(1)} = \mathbf{W}^{(1)}\mathbf{x} + \mathbf{b}^{(1)},\quad
#   \mathbf{a}^{(1)} = \mathrm{ReLU}(\mathbf{z}^{(1)}),\quad
#   \mathbf{z}^{(2)} = \mathbf{W}^{(2)}\mathbf{a}^{(1)} + \mathbf{b}^{(2)},\quad
#   \mathbf{a}^{(2)} = \mathrm{softmax}(\mathbf{z}^{(2)}).$$
#
# Turn each per-unit backward equation into one vector equation. Before writing code, decide
# the shape of each gradient.
#
# ### Task 2.3a — shapes (1 point)
#
# With $D = 4$, $H = 5$, $C = 3$, set `grad_shapes` to a dict with the keys `"z2"`, `"W2"`,
# `"b2"`, `"a1"`, `"z1"`, `"W1"`, `"b1"` (in this order below) whose values are the shapes
# (tuples of ints) of
# $\nabla_{\mathbf{z}^{(2)}}\mathcal{L}$, $\nabla_{\mathbf{W}^{(2)}}\mathcal{L}$,
# $\nabla_{\mathbf{b}^{(2)}}\mathcal{L}$, $\nabla_{\mathbf{a}^{(1)}}\mathcal{L}$,
# $\nabla_{\mathbf{z}^{(1)}}\mathcal{L}$, $\nabla_{\mathbf{W}^{(1)}}\mathcal{L}$,
# $\nabla_{\mathbf{b}^{(1)}}\mathcal{L}$.

# %% cell="answer" grade_id="t2_3a_answer"
### BEGIN SOLUTION
grad_shapes = {
    "z2": (3, 1), "W2": (3, 5), "b2": (3, 1), "a1": (5, 1), "z1": (5, 1), "W1": (5, 4), "b1": (5, 1),
}
### END SOLUTION

# %% cell="tests" grade_id="t2_3a_tests" points=1
"""Task 2.3a: shapes of the gradients for D = 4, H = 5, C = 3 (1 point).

Visible part: tuples of ints, each of length 2 (every vector is kept as a 2-D column); which
shapes are right is checked after submission (a visible check would give them away)."""
check.keys("grad_shapes", grad_shapes, ["z2", "W2", "b2", "a1", "z1", "W1", "b1"])
for _k, _v in grad_shapes.items():
    assert isinstance(_v, tuple) and all(isinstance(n, int) for n in _v), f"grad_shapes[{_k!r}]: use a tuple of ints"
    assert len(_v) == 2, f"grad_shapes[{_k!r}] = {_v}: give 2-D shapes (rows, columns); a vector is a column (K, 1)"
### BEGIN HIDDEN TESTS
_want = {"z2": (3, 1), "W2": (3, 5), "b2": (3, 1), "a1": (5, 1), "z1": (5, 1), "W1": (5, 4), "b1": (5, 1)}
_wrong = [k for k in _want if tuple(grad_shapes[k]) != _want[k]]
assert not _wrong, f"grad_shapes: wrong for {_wrong}; a gradient has the shape of its variable"
### END HIDDEN TESTS

# %% [markdown]
# ### Task 2.3b — `backward_vec` (3 points)
#
# Same contract as `backward_loops` in Problem set 1, but every statement works on whole
# vectors and matrices (no Python loops): return the gradients `"W1"`, `"b1"`, `"W2"`, `"b2"`,
# `"z2"`, `"a1"`, `"z1"` with the shapes above. The forward pass is given.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="locked" grade_id="t2_3_given"
def forward_vec(x: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward pass for x (D, 1): z1, a1 (H, 1), z2, a2 (C, 1)."""
    z1 = params["W1"] @ x + params["b1"]
    a1 = np.maximum(z1, 0.0)
    z2 = params["W2"] @ a1 + params["b2"]
    e = np.exp(z2 - z2.max())
    return {"z1": z1, "a1": a1, "z2": z2, "a2": e / e.sum()}


def loss_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """Cross-entropy of the example, computed with log-sum-exp."""
    z2 = forward_vec(x, params)["z2"]
    m = z2.max()
    return float(-(t * (z2 - m - np.log(np.exp(z2 - m).sum()))).sum())


def example_vec(rng: np.random.Generator, D: int = 4, H: int = 5, C: int = 3) -> tuple:
    """A random example (x, t, params) whose hidden pre-activations keep away from 0."""
    while True:
        params = {
            "W1": rng.normal(0, 1, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1, (C, H)), "b2": rng.normal(0, 0.5, (C, 1)),
        }
        x = rng.normal(0, 1, (D, 1))
        t = np.zeros((C, 1))
        t[rng.integers(C), 0] = 1.0
        if np.abs(forward_vec(x, params)["z1"]).min() > 1e-2:
            return x, t, params


# %% cell="answer" grade_id="t2_3b_answer"
def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    ### BEGIN SOLUTION
    fw = forward_vec(x, params)
    g = {}
    g["z2"] = fw["a2"] - t
    g["W2"] = g["z2"] @ fw["a1"].T
    g["b2"] = g["z2"].copy()
    g["a1"] = params["W2"].T @ g["z2"]
    g["z1"] = g["a1"] * (fw["z1"] > 0)
    g["W1"] = g["z1"] @ x.T
    g["b1"] = g["z1"].copy()
    return g
    ### END SOLUTION


# %% cell="tests" grade_id="t2_3b_tests_public" points=1
"""Task 2.3b, visible part: finite differences on fixed examples (1 point)."""


def _check_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> None:
    g = backward_vec(x, t, {k: v.copy() for k, v in params.items()})
    check.keys("backward_vec(...)", g, ["W1", "b1", "W2", "b2", "z2", "a1", "z1"])
    # from the output end back: dz2, then da1, then the parameters
    z2 = forward_vec(x, params)["z2"].copy()
    check.grad_fd("dz2", g["z2"], lambda: float(-(t * (z2 - np.log(np.exp(z2).sum()))).sum()), z2)
    a1 = forward_vec(x, params)["a1"].copy()

    def _from_a1() -> float:
        z = params["W2"] @ a1 + params["b2"]
        return float(-(t * (z - np.log(np.exp(z).sum()))).sum())

    _square = params["W2"].shape[0] == params["W2"].shape[1]
    check.grad_fd("da1", g["a1"], _from_a1, a1, mistakes={
        "the gradient was passed down through W2 the wrong way round (transposed): W2 maps layer 1 "
        "to layer 2, and going back reverses that map": params["W2"] @ g["z2"]} if _square else None)
    P = {k: v.copy() for k, v in params.items()}
    check.grads_fd(g, lambda: loss_vec(x, t, P), P)


_check_vec(*example_vec(np.random.default_rng(22), D=3, H=3, C=3))  # square first: W vs W^T is named
_check_vec(*example_vec(np.random.default_rng(21)))

# %% cell="tests" grade_id="t2_3b_tests_hidden" points=2
"""Task 2.3b, hidden part: random examples of several sizes, no Python loops (2 points)."""
from coursekit import structure


def _python_loops(fn) -> list[str]:  # noqa: ANN001
    """Loops over the computation in fn and its helpers (loops over result keys are fine)."""
    return structure.function_loops(fn, given=("forward_vec", "loss_vec", "example_vec"))


assert not _python_loops(backward_vec), (
    f"backward_vec: uses {_python_loops(backward_vec)}; use vector and matrix operations instead"
)
_check_vec(*example_vec(np.random.default_rng(23), D=2, H=4, C=5))
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims in [(4, 5, 3), (3, 3, 3), (6, 2, 4), (2, 7, 5)]:
    _check_vec(*example_vec(_gen, *_dims))
### END HIDDEN TESTS

# %% [markdown]
# ### Task 2.3c — the four formulas, written in matrix form (2 points)
#
# Write the backward step of one layer $m$ as matrix expressions, the form the practice
# problems ask for on paper. With SymPy's matrix symbols below (for $D^{(m)} = 2$ outputs and
# $D^{(m-1)} = 3$ inputs) — `W` for $\mathbf{W}^{(m)}$ $(2, 3)$, `a_prev` for
# $\mathbf{a}^{(m-1)}$ $(3, 1)$, `da` for $\nabla_{\mathbf{a}^{(m)}}\mathcal{L}$ $(2, 1)$ and `s`
# for $\sigma'(\mathbf{z}^{(m)})$ $(2, 1)$ — set
#
# - `dz_expr` to $\nabla_{\mathbf{z}^{(m)}}\mathcal{L}$,
# - `dW_expr` to $\nabla_{\mathbf{W}^{(m)}}\mathcal{L}$,
# - `db_expr` to $\nabla_{\mathbf{b}^{(m)}}\mathcal{L}$,
# - `da_prev_expr` to $\nabla_{\mathbf{a}^{(m-1)}}\mathcal{L}$.
#
# Use `*` (or `@`) for the matrix product, `.T` for the transpose and
# `sp.hadamard_product(u, v)` for the elementwise product $\mathbf{u} \odot \mathbf{v}$; you may
# reuse `dz_expr` in the later ones. The first test checks the shape of each expression (a
# wrong order of factors shows there); the grader evaluates them at random matrices.

# %% cell="locked" grade_id="t2_3c_symbols"
import sympy as sp

W = sp.MatrixSymbol("W", 2, 3)
a_prev = sp.MatrixSymbol("a_prev", 3, 1)
da = sp.MatrixSymbol("da", 2, 1)
s = sp.MatrixSymbol("s", 2, 1)


def matrix_forms_at(values: dict, _symbols: tuple = (W, a_prev, da, s)) -> dict:
    """Your four expressions evaluated at numeric values of W (2, 3), a_prev (3, 1), da and s
    (2, 1): a dict of float arrays with the keys "dz", "dW", "db", "da_prev"."""
    subs = {sym: sp.Matrix(values[sym.name]) for sym in _symbols}
    exprs = {"dz": dz_expr, "dW": dW_expr, "db": db_expr, "da_prev": da_prev_expr}
    return {k: np.array(sp.Matrix(e.subs(subs).doit()), dtype=np.float64) for k, e in exprs.items()}


# %% cell="answer" grade_id="t2_3c_answer"
### BEGIN SOLUTION
dz_expr = sp.hadamard_product(da, s)
dW_expr = dz_expr * a_prev.T
db_expr = dz_expr
da_prev_expr = W.T * dz_expr
### END SOLUTION

# %% cell="tests" grade_id="t2_3c_tests_shapes" points=1
"""Task 2.3c: every expression is a matrix expression of the right shape (1 point)."""
for _name, _e, _shape in (("dz_expr", dz_expr, (2, 1)), ("dW_expr", dW_expr, (2, 3)),
                          ("db_expr", db_expr, (2, 1)), ("da_prev_expr", da_prev_expr, (3, 1))):
    assert isinstance(_e, sp.MatrixExpr), f"{_name}: write a SymPy matrix expression in W, a_prev, da, s"
    assert tuple(_e.shape) == _shape, (f"{_name} has shape {tuple(_e.shape)}, the gradient has the shape of its "
                                       f"variable {_shape}: check the order of the factors and the transposes")
_vals = {"W": np.arange(6.0).reshape(2, 3) / 7, "a_prev": np.array([[1.0], [-2.0], [0.5]]),
         "da": np.array([[0.3], [-0.7]]), "s": np.array([[0.25], [0.1]])}
check.shape("matrix_forms_at(...)['dW']", matrix_forms_at(_vals)["dW"], (2, 3))

# %% cell="tests" grade_id="t2_3c_tests_values" points=1
"""Task 2.3c: the four expressions equal the backward step at random matrices (1 point).

Visible part: only that matrix_forms_at evaluates your expressions to a finite number; their
values are compared with the backward step at random matrices after submission (a visible
comparison would give the expressions away)."""
_got = matrix_forms_at({"W": np.ones((2, 3)), "a_prev": np.ones((3, 1)), "da": np.ones((2, 1)), "s": np.ones((2, 1))})
check.finite_number("matrix_forms_at(...)['dz'][0, 0]", float(_got["dz"][0, 0]))
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _ in range(3):
    _v = {"W": _gen.normal(size=(2, 3)), "a_prev": _gen.normal(size=(3, 1)), "da": _gen.normal(size=(2, 1)),
          "s": _gen.uniform(0, 1, (2, 1))}
    _got = matrix_forms_at(_v)
    _dz = _v["da"] * _v["s"]
    check.array("dz_expr", _got["dz"], _dz, tol=1e-12)
    check.array("dW_expr", _got["dW"], _dz @ _v["a_prev"].T, tol=1e-12)
    check.array("db_expr", _got["db"], _dz, tol=1e-12)
    check.array("da_prev_expr", _got["da_prev"], _v["W"].T @ _dz, tol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## Part D — any depth, any activation (the two lectures on backpropagation and the lecture notes *Feedforward networks and backpropagation* (CS7015))
#
# An $L$-layer network repeats one affine map and one activation per layer:
#
# $$\mathbf{z}^{(m)} = \mathbf{W}^{(m)}\mathbf{a}^{(m-1)} + \mathbf{b}^{(m)},\qquad
#   \mathbf{a}^{(m)} = \sigma^{(m)}(\mathbf{z}^{(m)}),\qquad m = 1, \dots, L,$$
#
# with $\mathbf{a}^{(0)} = \mathbf{x}$. The backward pass starts from
# $\nabla_{\mathbf{a}^{(L)}}\mathcal{L}$, which depends only on the loss, and then walks the
# layers from $m = L$ down to $m = 1$. In each layer it needs four vector statements: the
# gradient with respect to $\mathbf{z}^{(m)}$ (from the one with respect to
# $\mathbf{a}^{(m)}$), the weight and bias gradients, and the gradient passed down to
# $\mathbf{a}^{(m-1)}$. You chose all of them in Part A; the bias gradient is the easiest.
# The forward pass must keep every $\mathbf{z}^{(m)}$ and $\mathbf{a}^{(m-1)}$, because the
# backward pass needs them.
#
# *If you read the CS7015 notes:* they write $\mathbf{a}$ for the **pre**-activation and
# $\mathbf{h}$ for the activation, where this course writes $\mathbf{z}$ and $\mathbf{a}$.
#
# ### Task 2.4 — `mlp_forward` and `mlp_backward` (4 points)
#
# - `activation(z, name)` and `activation_grad(da, z, name)` for the names `"identity"`,
#   `"sigmoid"`, `"tanh"`, `"relu"`: the elementwise $\sigma(\mathbf{z})$, and
#   $\nabla_{\mathbf{a}}\mathcal{L} \odot \sigma'(\mathbf{z})$ (1 point).
# - `mlp_forward(x, params, acts)`: `params` holds `"W1"`, `"b1"`, ..., `"WL"`, `"bL"`,
#   `acts` is a list of $L$ activation names (the last is the output's). Return the output
#   $\mathbf{a}^{(L)}$ and a `cache` of your choice (1 point).
# - `mlp_backward(da_L, cache)`: from $\nabla_{\mathbf{a}^{(L)}}\mathcal{L}$ return a dict with
#   `"W{m}"`, `"b{m}"`, `"z{m}"` for $m = 1..L$ and `"a{m}"` for $m = 0..L-1$ (2 points). It is
#   graded on the cache of **your** `mlp_forward`; only where your `mlp_forward` gives a wrong
#   output is it given the model solution's cache instead (the dict of `"a0"`, `"z{m}"`,
#   `"a{m}"` for $m = 1..L$, `"params"` and `"acts"`), so that one mistake costs one cell.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t2_4_answer"
def activation(z: np.ndarray, name: str) -> np.ndarray:
    """sigma(z) elementwise for name in {"identity", "sigmoid", "tanh", "relu"}; shape of z."""
    ### BEGIN SOLUTION
    if name == "identity":
        return z.copy()
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {name!r}")
    ### END SOLUTION


def activation_grad(da: np.ndarray, z: np.ndarray, name: str) -> np.ndarray:
    """dL/dz = dL/da * sigma'(z) elementwise; da and z have the same shape."""
    ### BEGIN SOLUTION
    if name == "identity":
        return da.copy()
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return da * s * (1.0 - s)
    if name == "tanh":
        return da * (1.0 - np.tanh(z) ** 2)
    if name == "relu":
        return da * (z > 0)
    raise ValueError(f"unknown activation {name!r}")
    ### END SOLUTION


def mlp_forward(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> tuple[np.ndarray, dict]:
    """Forward pass of an L-layer MLP for x (D, 1); returns a_L (D_L, 1) and a cache."""
    ### BEGIN SOLUTION
    cache = {"a0": x, "params": params, "acts": list(acts)}
    a = x
    for m, name in enumerate(acts, start=1):
        z = params[f"W{m}"] @ a + params[f"b{m}"]
        a = activation(z, name)
        cache[f"z{m}"], cache[f"a{m}"] = z, a
    return a, cache
    ### END SOLUTION


def mlp_backward(da_L: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
    """Backward pass from dL/da_L (D_L, 1): "W{m}", "b{m}", "z{m}" (m = 1..L), "a{m}" (m = 0..L-1)."""
    ### BEGIN SOLUTION
    params, acts = cache["params"], cache["acts"]
    grads = {}
    da = da_L
    for m in range(len(acts), 0, -1):
        dz = activation_grad(da, cache[f"z{m}"], acts[m - 1])
        grads[f"z{m}"] = dz
        grads[f"W{m}"] = dz @ cache[f"a{m - 1}"].T
        grads[f"b{m}"] = dz.copy()
        da = params[f"W{m}"].T @ dz
        grads[f"a{m - 1}"] = da
    return grads
    ### END SOLUTION


# %% cell="locked" grade_id="t2_4_given"
def random_mlp(rng: np.random.Generator, sizes: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Parameters W{m} (D_m, D_{m-1}) and b{m} (D_m, 1) with entries of moderate size."""
    params = {}
    for m in range(1, len(sizes)):
        params[f"W{m}"] = rng.normal(0, 1.2 / np.sqrt(sizes[m - 1]), (sizes[m], sizes[m - 1]))
        params[f"b{m}"] = rng.normal(0, 0.5, (sizes[m], 1))
    return params


def mlp_output(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> np.ndarray:
    """Only the output a_L (D_L, 1) of your mlp_forward (used by the grader)."""
    return mlp_forward(x, params, acts)[0]


def mlp_grads(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str], da_L: np.ndarray) -> dict:
    """Your mlp_forward, then your mlp_backward from dL/da_L (used by the grader)."""
    _, cache = mlp_forward(x, params, acts)
    return mlp_backward(da_L, cache)


def kink_free(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> bool:
    """True when no ReLU pre-activation is within 1e-2 of 0 (finite differences stay exact)."""
    a = x
    for m, name in enumerate(acts, start=1):
        z = params[f"W{m}"] @ a + params[f"b{m}"]
        if name == "relu" and np.abs(z).min() < 1e-2:
            return False
        a = activation(z, name)  # your activation: a wrong one fails its own test first
    return True


# %% cell="tests" grade_id="t2_4_tests_activations" points=1
"""Task 2.4: activation and activation_grad (1 point)."""
_z = np.array([[-1.5], [-0.2], [0.4], [2.0]])
check.array("activation(z, 'relu')", activation(_z, "relu"), np.array([[0.0], [0.0], [0.4], [2.0]]))
check.array("activation(z, 'identity')", activation(_z, "identity"), _z)
for _name in ("identity", "sigmoid", "tanh", "relu"):
    _zz = _z.copy()
    _da = np.array([[0.3], [-1.1], [0.7], [0.5]])
    check.grad_fd(f"activation_grad(da, z, {_name!r})", activation_grad(_da, _z.copy(), _name),
                  lambda: float((_da * activation(_zz, _name)).sum()), _zz)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_z = _gen.uniform(-3, 3, (6, 1))
_z[np.abs(_z) < 0.05] = 0.5
check.array("activation(z, 'sigmoid')", activation(_z, "sigmoid"), 1 / (1 + np.exp(-_z)), tol=1e-10)
check.array("activation(z, 'tanh')", activation(_z, "tanh"), np.tanh(_z), tol=1e-10)
check.array("activation(z, 'relu')", activation(_z, "relu"), np.maximum(_z, 0), tol=1e-12)
for _name in ("identity", "sigmoid", "tanh", "relu"):
    _zz = _z.copy()
    _da = _gen.normal(size=_z.shape)
    check.grad_fd(f"activation_grad(da, z, {_name!r})", activation_grad(_da, _z.copy(), _name),
                  lambda: float((_da * activation(_zz, _name)).sum()), _zz)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_4_tests_forward" points=1
"""Task 2.4: mlp_forward (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model activation, so that a wrong activation costs its own cell only
#: reference activation
check.using(globals(), activation=_REF["activation"]).for_this_cell()
### END HIDDEN TESTS
_p = {"W1": np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.8]]), "b1": np.array([[0.1], [-0.2], [0.3]]),
      "W2": np.array([[0.7, -0.4, 1.1]]), "b2": np.array([[0.05]])}
_y, _ = mlp_forward(np.array([[0.6], [-0.9]]), _p, ["relu", "sigmoid"])
check.array("mlp_forward(...) output", _y, np.array([[0.8581489351]]), tol=1e-9)
_y, _ = mlp_forward(np.array([[0.6], [-0.9]]), _p, ["tanh", "identity"])
check.array("mlp_forward(...) output", _y, np.array([[-0.0388707624]]), tol=1e-9)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_fns = {"identity": lambda v: v, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0)}
for _sizes, _acts in [((4, 5, 3), ["tanh", "sigmoid"]), ((3, 4, 4, 2), ["relu", "sigmoid", "identity"]),
                      ((2, 3), ["identity"])]:
    _p = random_mlp(_gen, _sizes)
    _x = _gen.normal(size=(_sizes[0], 1))
    _a = _x
    for _m, _n in enumerate(_acts, start=1):
        _a = _fns[_n](_p[f"W{_m}"] @ _a + _p[f"b{_m}"])
    check.array("mlp_forward(...) output", mlp_forward(_x, _p, _acts)[0], _a, tol=1e-10)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t2_4_tests_backward" points=2
"""Task 2.4: mlp_backward against finite differences of mlp_forward (2 points).

mlp_backward reads the cache of your mlp_forward (its layout is yours), must leave that cache
unchanged, and must not keep state between calls."""
### BEGIN HIDDEN TESTS
# judged with the model activation and activation_grad, so that a mistake there costs its own cell
# only; the finite differences use the model mlp_forward, and the cache is your mlp_forward's
# wherever that gives the right output (else the model's, so a wrong forward costs its own cell)
#: reference activation, activation_grad, mlp_forward
check.using(globals(), activation=_REF["activation"], activation_grad=_REF["activation_grad"]).for_this_cell()
_model_forward = _REF["mlp_forward"]
### END HIDDEN TESTS
import copy


def _cache_forward(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> tuple:
    """(the mlp_forward whose cache mlp_backward reads, the one finite differences use): yours
    for both; after submission the model's for the differences, and for the cache too where
    your output is wrong."""
    model = globals().get("_model_forward")
    if model is None:
        return mlp_forward, mlp_forward
    try:
        own = mlp_forward(x, params, acts)[0]
        right = np.shape(own) == np.shape(model(x, params, acts)[0]) and check.rel_error(
            own, model(x, params, acts)[0]) <= 1e-9
    except Exception:  # noqa: BLE001 - a forward that raises is a wrong forward
        right = False
    return (mlp_forward if right else model), model


def _check_mlp(rng: np.random.Generator, sizes: tuple[int, ...], acts: list[str]) -> None:
    while True:
        params = random_mlp(rng, sizes)
        x = rng.normal(size=(sizes[0], 1))
        if kink_free(x, params, acts):
            break
    da_L = rng.normal(size=(sizes[-1], 1))
    P = {k: v.copy() for k, v in params.items()}
    xx = x.copy()
    forward, fd_forward = _cache_forward(x.copy(), {k: v.copy() for k, v in params.items()}, acts)
    _, cache = forward(x, params, acts)
    before = copy.deepcopy(cache)
    grads = copy.deepcopy(mlp_backward(da_L.copy(), cache))
    check.unchanged("cache", cache, before, "mlp_backward")
    again = mlp_backward(da_L.copy(), copy.deepcopy(before))
    L = len(acts)
    check.keys("mlp_backward(...)", grads, [f"{k}{m}" for m in range(1, L + 1) for k in "Wbz"] + ["a0"])
    check.repeatable("mlp_backward(...)", again, grads)

    def f() -> float:  # the loss <da_L, a_L>, whose gradient with respect to a_L is da_L
        return float((da_L * fd_forward(xx, P, acts)[0]).sum())

    check.grads_fd(grads, f, P)
    check.grad_fd("da0", grads["a0"], f, xx)


_check_mlp(np.random.default_rng(41), (3, 4, 2), ["relu", "sigmoid"])
_check_mlp(np.random.default_rng(42), (2, 3, 3, 2), ["tanh", "relu", "identity"])
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _sizes, _acts in [((4, 5, 3), ["sigmoid", "tanh"]), ((3, 4, 4, 2), ["relu", "relu", "sigmoid"]),
                      ((5, 3, 3, 3, 4), ["tanh", "sigmoid", "relu", "identity"]), ((2, 2), ["tanh"])]:
    _check_mlp(_gen, _sizes, _acts)
### END HIDDEN TESTS

# %% [markdown]
# **Explore (not graded).** The explorer builds deeper networks with **your** `mlp_forward`:
# 4 inputs, 1 to 6 hidden layers of 8 units with the activation you pick, 3 identity outputs
# followed by softmax and cross-entropy, mean loss over 8 fixed examples. For every layer $m$
# it compares $\nabla_{\mathbf{W}^{(m)}}\mathcal{L}$ from **your** `mlp_backward` (averaged over
# the examples) with central finite differences of that loss; the heatmaps show the chosen
# layer, the left plot $\|\nabla_{\mathbf{W}^{(m)}}\mathcal{L}\|$ for every layer on a log
# scale. Your backward pass starts from $\nabla_{\mathbf{a}^{(L)}}\mathcal{L}$, which the cell
# takes by finite differences of the loss with respect to the 3 outputs (you derived it
# yourself in Part C).
#
# What to look for:
#
# - **Vanishing gradients.** With `sigmoid`, add hidden layers: the norms fall by a roughly
#   constant factor per layer from the output ($m = L$) down to layer 1, because every layer
#   multiplies the gradient by $\sigma'(z) \le 1/4$ and by a weight matrix. A smaller initial
#   scale makes it worse; `tanh` ($\tanh' \le 1$) suffers much less.
# - **Exploding gradients.** With `relu` and a large initial scale (4 or 8) every layer
#   multiplies the signal by roughly scale$/\sqrt{2}$, on the way forward (the activations that
#   enter $\nabla_{\mathbf{W}^{(m)}}\mathcal{L}$) and on the way back (the gradients
#   $\nabla_{\mathbf{z}^{(m)}}\mathcal{L}$). The weight gradients of *all* layers become huge
#   and grow by about that factor with each hidden layer you add: compare 1, 3 and 6 hidden
#   layers at scale 8. Near scale $\sqrt{2} \approx 1.41$ (He initialisation) they stay of
#   order 1 at any depth.
# - Your gradients and the finite differences should agree in every layer (relative error at
#   most `1e-6`). When a gradient is tiny the finite difference is the difference of two
#   almost equal losses and carries rounding noise of its own, already at norms around
#   $10^{-6}$ with these 8 examples. The explorer estimates that noise; when your gradient and
#   the finite difference differ by less than it, the row says "? FD too noisy" (the check cannot
#   tell) instead of pass or fail. Judge your backward pass on the layers that pass or fail.
# - The colour bars give the scale of each heatmap; the difference map is scaled against what
#   the tolerance allows, so a pale map means "well within the tolerance", not "no structure".

# %%
from IPython.display import display

from coursekit.explorers import layer_gradients_explorer


def _explorer_ce(z: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy of softmax(z) for logits z (C, 1) and one-hot t (C, 1), with log-sum-exp."""
    m = z.max()
    return float(-(t * (z - m - np.log(np.exp(z - m).sum()))).sum())


def _explorer_loss_columns(X: np.ndarray, T: np.ndarray, params: dict, hidden: str) -> float:
    """Mean loss of your mlp_forward over the rows of X (N, D), one-hot T (N, C), one column at a time."""
    acts = [hidden] * (len(params) // 2 - 1) + ["identity"]
    return sum(_explorer_ce(mlp_forward(x[:, None], params, acts)[0], t[:, None]) for x, t in zip(X, T, strict=True)) / len(X)


def _explorer_loss_batch(X: np.ndarray, T: np.ndarray, params: dict, hidden: str) -> float:
    """The same mean loss with all N examples as the columns of one (D, N) input (faster)."""
    acts = [hidden] * (len(params) // 2 - 1) + ["identity"]
    z = mlp_forward(X.T, params, acts)[0]  # (C, N)
    m = z.max(axis=0, keepdims=True)
    return float(-(T.T * (z - m - np.log(np.exp(z - m).sum(axis=0, keepdims=True)))).sum() / len(X))


def _batch_agrees() -> bool:
    """Whether your mlp_forward gives the same loss on a (D, N) input as column by column."""
    p, X = random_mlp(np.random.default_rng(1), (4, 8, 8, 3)), np.random.default_rng(2).normal(size=(8, 4))
    T = np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]
    try:
        return abs(_explorer_loss_batch(X, T, p, "tanh") - _explorer_loss_columns(X, T, p, "tanh")) <= 1e-12
    except Exception:  # a forward pass written for one column only
        return False


def _explorer_loss(X: np.ndarray, T: np.ndarray, params: dict, hidden: str) -> float:
    """Mean loss over the rows of X: one (D, N) call of your mlp_forward when it handles that
    the same way as N columns (checked once below), else one column at a time."""
    return (_explorer_loss_batch if _BATCH_OK else _explorer_loss_columns)(X, T, params, hidden)


def _explorer_grads(X: np.ndarray, T: np.ndarray, params: dict, hidden: str) -> dict:
    """Your mlp_backward averaged over the rows of X: the gradient of _explorer_loss."""
    acts = [hidden] * (len(params) // 2 - 1) + ["identity"]
    total = {k: np.zeros_like(v) for k, v in params.items()}
    for x, t in zip(X, T, strict=True):
        a_L, cache = mlp_forward(x[:, None], params, acts)
        a = a_L.copy()
        da_L = check.numerical_gradient(lambda: _explorer_ce(a, t[:, None]), a)  # noqa: B023
        g = mlp_backward(da_L, cache)
        for k in total:
            total[k] = total[k] + g[k] / len(X)
    return total


try:  # the loss needs your mlp_forward (and activation)
    _explorer_loss_columns(np.ones((1, 4)), np.eye(3)[:1], random_mlp(np.random.default_rng(0), (4, 8, 3)), "sigmoid")
    _forward_ready = True
    _BATCH_OK = _batch_agrees()
except Exception as _exc:  # an unfinished Task 2.4 (NotImplementedError)
    _forward_ready = False
    print(f"The explorer needs your mlp_forward ({type(_exc).__name__}); finish Task 2.4 and run this "
          "cell again.")
if _forward_ready:
    display(layer_gradients_explorer(_explorer_loss, _explorer_grads, label="your mlp_backward"))

# %% [markdown]
# ## Part E — why the matrix form is worth it (note *Backpropagation: a matrix formulation*)
#
# Look at one step of the backward recursion between two hidden layers of $H$ units each:
#
# $$\frac{\partial\mathcal{L}}{\partial z^{(m)}_j} = \sigma'(z^{(m)}_j)
#   \sum_{h=1}^{H} W^{(m+1)}_{hj} \frac{\partial\mathcal{L}}{\partial z^{(m+1)}_h},
#   \qquad j = 1, \dots, H .$$
#
# *If you read the note:* it writes the weight gradient as the transpose of ours (input x
# output); here $\nabla_{\mathbf{W}}\mathcal{L}$ always has the shape of $\mathbf{W}$,
# $D^{(m)} \times D^{(m-1)}$.
#
# ### Task 2.5a — counting (1 point)
#
# With SymPy symbols `M` (number of layers) and `H` (units per layer), set `ops_backward` to
# the number of multiply-add operations of this recursion for every $m = 1, \dots, M-1$ and
# $j = 1, \dots, H$ (as in the notes, 004), exactly or to leading order (drop the $\sigma'$
# products).

# %% cell="locked" grade_id="t2_5_symbols"
import sympy as sp

M, H = sp.symbols("M H", positive=True, integer=True)

# %% cell="answer" grade_id="t2_5a_answer"
### BEGIN SOLUTION
ops_backward = (M - 1) * H**2
### END SOLUTION

# %% cell="tests" grade_id="t2_5a_tests" points=1
"""Task 2.5a: the operation count as a SymPy expression in M and H (1 point).

Visible part: only that it is a SymPy expression in M and H; the count is checked after
submission (a visible check would give it away)."""
check.sympy_expr("ops_backward", ops_backward, [M, H])
### BEGIN HIDDEN TESTS
_ops = sp.sympify(ops_backward)
_named = {"M": M, "H": H}
_ops = _ops.xreplace({v: _named[v.name] for v in _ops.free_symbols if v.name in _named})
_ratio = sp.limit(sp.limit(_ops / ((M - 1) * H**2), H, sp.oo), M, sp.oo)
assert _ratio == 1, f"ops_backward: grows like {_ratio} * (M - 1) * H**2 for large M, H; count again"
### END HIDDEN TESTS

# %% [markdown]
# ### Task 2.5b — the step with loops and with one matrix product (3 points: 2 for the two functions, 1 for the measurement below)
#
# Write the step twice. `backward_step_loops(W, dz_next, fprime)` uses two nested Python loops;
# `backward_step_vec(W, dz_next, fprime)` uses one matrix product and one elementwise product.
# `W` is $W^{(m+1)}$ of shape $(H_{m+1}, H_m)$, `dz_next` is
# $\nabla_{\mathbf{z}^{(m+1)}}\mathcal{L}$ $(H_{m+1}, 1)$ and `fprime` is
# $\sigma'(\mathbf{z}^{(m)})$ $(H_m, 1)$; both return $\nabla_{\mathbf{z}^{(m)}}\mathcal{L}$,
# shape $(H_m, 1)$.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t2_5b_answer"
def backward_step_loops(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """dz (H_m, 1) from W (H_next, H_m), dz_next (H_next, 1), fprime (H_m, 1), with loops."""
    ### BEGIN SOLUTION
    n_next, n = W.shape
    out = np.zeros((n, 1))
    for j in range(n):
        total = 0.0
        for h in range(n_next):
            total += W[h, j] * dz_next[h, 0]
        out[j, 0] = fprime[j, 0] * total
    return out
    ### END SOLUTION


def backward_step_vec(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """The same dz (H_m, 1) as backward_step_loops, with one matrix product and no loops."""
    ### BEGIN SOLUTION
    return fprime * (W.T @ dz_next)
    ### END SOLUTION


# %% cell="tests" grade_id="t2_5b_tests" points=2
"""Task 2.5b: both versions agree with the recursion (2 points)."""
_W = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]])
_dz = np.array([[0.4], [-0.7]])
_fp = np.array([[0.25], [0.0], [1.0]])
_want = np.array([[0.0475], [0.0], [0.97]])
check.array("backward_step_loops(...)", backward_step_loops(_W, _dz, _fp), _want, tol=1e-10)
check.array("backward_step_vec(...)", backward_step_vec(_W, _dz, _fp), _want, tol=1e-10)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _hn, _h in [(4, 6), (5, 5), (1, 3)]:
    _W, _dz, _fp = _gen.normal(size=(_hn, _h)), _gen.normal(size=(_hn, 1)), _gen.uniform(0, 1, (_h, 1))
    _ref = np.array([[_fp[j, 0] * sum(_W[h, j] * _dz[h, 0] for h in range(_hn))] for j in range(_h)])
    check.array("backward_step_loops(...)", backward_step_loops(_W, _dz, _fp), _ref, tol=1e-10)
    check.array("backward_step_vec(...)", backward_step_vec(_W, _dz, _fp), _ref, tol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### Measure it
#
# The cell below times your two functions for growing $H$ (square layers) and plots the times
# on log-log axes. The timing cell itself is not graded; the test after it (the third point of
# Task 2.5b) checks its results, and Task 2.5c asks you to interpret the plot. It takes a few
# seconds. Timings are noisy (other programs share the machine): each point is the median of
# several runs, and what matters is how the times grow with $H$, not their exact values.

# %% cell="locked" grade_id="t2_5_timing"
def time_step(fn, H: int, repeats: int = 3) -> float:  # noqa: ANN001
    """Median wall time in seconds of fn(W, dz_next, fprime) for H x H layers."""
    rng = np.random.default_rng(H)
    W, dz, fp = rng.normal(size=(H, H)), rng.normal(size=(H, 1)), rng.uniform(0, 1, (H, 1))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(W, dz, fp)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(sizes: list[int]) -> dict[str, list]:
    """Median times of both versions for each H in sizes."""
    loops = [time_step(backward_step_loops, h) for h in sizes]
    vectorized = [time_step(backward_step_vec, h, repeats=20) for h in sizes]
    return {"H": list(sizes), "loops": loops, "vectorized": vectorized}


timings = measure([16, 32, 64, 128, 256])

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(timings["H"], timings["loops"], "o-", label="loops")
ax.loglog(timings["H"], timings["vectorized"], "s-", label="matrix product")
ax.set_xticks(timings["H"], [str(h) for h in timings["H"]])  # one plain label per measured H
ax.minorticks_off()
ax.set_xlabel("H (units per layer)")
ax.set_ylabel("seconds per step (median)")
ax.legend()
ax.set_title("One backward step: loops vs. matrix product")
plt.show()

# %% cell="tests" grade_id="t2_5_tests_timing" points=1
"""Task 2.5b: the measurement ran and the matrix product is faster for large H (1 point)."""
assert len(timings["loops"]) == len(timings["H"]) == len(timings["vectorized"]), "timings: run the timing cell"
assert all(t > 0 for t in timings["loops"] + timings["vectorized"]), "timings: times must be positive"
assert timings["loops"][-1] > 3 * timings["vectorized"][-1], (
    "timings: at H = 256 the looped step should be much slower than the matrix product; "
    "check that backward_step_vec has no Python loops"
)

# %% [markdown]
# ### Task 2.5c — read the plot (2 points, manually graded)
#
# What slope do you expect for the looped version on log-log axes, and what do you measure?
# Why is the matrix product so much faster although it performs the same number of
# multiply-adds? Mention what runs the matrix product and what hardware helps further.

# %% [markdown] cell="written" grade_id="t2_5c_written" points=2
# The looped step does $H^2$ multiply-adds, each as a separate Python operation, so its time
# grows like $H^2$: a slope of about 2 on log-log axes (the plot shows roughly 2 for the larger
# $H$). The matrix product does the same arithmetic but in one call into an optimised linear
# algebra library (BLAS, written in C/Fortran with SIMD instructions, cache blocking and several
# threads), so the interpreter's per-operation overhead is paid once rather than $H^2$ times;
# for small $H$ its time is dominated by that fixed call overhead and the curve is flat.
# Specialised hardware such as GPUs executes matrix products massively in parallel, which is
# why expressing backpropagation as matrix computations matters for large networks.

# %% [markdown] cell="rubric" grade_id="t2_5c_rubric"
# *The grader's rubric for Task 2.5c is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: slope about 2 for the loops because the work is $O(H^2)$ per layer ($O(MH^2)$ in
#   all), and compares with the measured slope.
# - 1 point: the matrix product runs in an optimised library (BLAS / NumPy's C code) with no
#   per-operation interpreter overhead (vector instructions, caches, threads); GPUs or other
#   specialised hardware accelerate matrix products further.
# ### END MARK SCHEME
