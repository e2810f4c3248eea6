# %% [markdown]
# # Problem set 3 — Batches: N examples at once, and training by gradient descent
#
# Problem set 2 moved one example through the network as a column vector. A real training step
# uses a **batch** of $N$ examples. Here the examples are stacked as the rows of a matrix, the
# loss is the **mean** over the batch, and the whole forward and backward pass becomes a handful
# of matrix products (*Practice problems: backpropagation*, §1.2 Q2 and §1.3 Q2). Then you use your backward pass to train a
# small classifier by gradient descent (lecture *The backpropagation algorithm*; lecture notes *Feedforward networks and backpropagation* (CS7015)) and measure what batching buys.
#
# Notation (as in the notes and `docs/conventions.md`): $\mathbf{A}^{(m)}$ and
# $\mathbf{Z}^{(m)}$ are $N \times D^{(m)}$, one row per example; $\mathbf{W}^{(m)}$ is
# $D^{(m)} \times D^{(m-1)}$ and $\mathbf{b}^{(m)}$ is a column $D^{(m)} \times 1$, the same
# arrays as in Problem set 2; $\mathbf{1}_N$ is the column of $N$ ones. In NumPy,
# `W.T` is $\mathbf{W}^\top$ and `b.T` is the row $\mathbf{b}^\top$, which NumPy adds to every row.
#
# The rules of the earlier problem sets apply: keep names and signatures, visible checks use
# fixed examples, graded checks add random ones and your own numbers; gradients must match to a
# relative error of `1e-6`. Failure messages name the tensor, the error and, when they recognise
# it, the mistake.
#
# Points: 19 in total (15 checked automatically, 4 manually graded).

# %%
STUDENT_ID = ""  # e.g. "jdoe42"; leave empty on JupyterHub

# %% cell="locked" grade_id="setup"
import time

import matplotlib.pyplot as plt
import numpy as np

from coursekit import check, seeds
from coursekit.data import make_spirals, one_hot

ME = seeds.student_id(STUDENT_ID)
print(f"Working as student id {ME!r}.")


# %% [markdown]
# ## Part A — the forward pass for a batch (*Practice problems: backpropagation*, §1.2 Q2)
#
# The network of Problem sets 1 and 2, now for $N$ examples: $D$ inputs, $H$ hidden units with
# activation $f$, $C$ softmax outputs, cross-entropy loss averaged over the batch. For example
# $n$ and unit $j$,
#
# $$Z^{(1)}_{nj} = \sum_{i=1}^{D} W^{(1)}_{ji} X_{ni} + b^{(1)}_j,\qquad A^{(1)}_{nj} = f(Z^{(1)}_{nj}),\qquad
#   Z^{(2)}_{nk} = \sum_{j=1}^{H} W^{(2)}_{kj} A^{(1)}_{nj} + b^{(2)}_k,$$
# $$A^{(2)}_{nk} = \frac{e^{Z^{(2)}_{nk}}}{\sum_{k'} e^{Z^{(2)}_{nk'}}},\qquad
#   \mathcal{L} = -\frac{1}{N}\sum_{n=1}^{N}\sum_{k=1}^{C} T_{nk} \log A^{(2)}_{nk} .$$
#
# The softmax acts on each **row** (each example) separately.
#
# **Exercise A1 (1 point).** Which expression is the $N \times H$ matrix $\mathbf{Z}^{(1)}$?
#
# (A) $\mathbf{W}^{(1)} \mathbf{X} + \mathbf{b}^{(1)}$ &nbsp;
# (B) $\mathbf{X} (\mathbf{W}^{(1)})^\top + \mathbf{1}_N (\mathbf{b}^{(1)})^\top$ &nbsp;
# (C) $\mathbf{X} \mathbf{W}^{(1)} + \mathbf{1}_N (\mathbf{b}^{(1)})^\top$ &nbsp;
# (D) $\mathbf{W}^{(1)} \mathbf{X}^\top + \mathbf{b}^{(1)} \mathbf{1}_N^\top$
#
# **Exercise A2 (1 point).** $\mathbf{1}_N$ and $\mathbf{1}_C$ are columns of ones and $\odot$
# is the elementwise product. Which expression is the loss $\mathcal{L}$ above?
#
# (A) $-\frac{1}{N} \mathbf{1}_N^\top \big(\mathbf{T} \odot \log \mathbf{A}^{(2)}\big) \mathbf{1}_C$ &nbsp;
# (B) $-\mathbf{1}_N^\top \big(\mathbf{T} \odot \log \mathbf{A}^{(2)}\big) \mathbf{1}_C$ &nbsp;
# (C) $-\frac{1}{NC} \mathbf{1}_N^\top \big(\mathbf{T} \odot \log \mathbf{A}^{(2)}\big) \mathbf{1}_C$ &nbsp;
# (D) $-\frac{1}{N} (\log \mathbf{A}^{(2)})^\top \mathbf{T}$
#
# Set each variable to the letter of your choice, as a string such as `"A"`.

# %% cell="answer" grade_id="t3_1_answer"
### BEGIN SOLUTION
mc_batch_preactivation = "B"
mc_batch_loss = "A"
### END SOLUTION

# %% cell="tests" grade_id="t3_1_tests_a1" points=1
"""Exercise A1 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_batch_preactivation", mc_batch_preactivation, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_batch_preactivation", mc_batch_preactivation, "B")
### END HIDDEN TESTS

# %% cell="tests" grade_id="t3_1_tests_a2" points=1
"""Exercise A2 (1 point).

Visible part: the format only (one of the letters); the choice itself is checked after
submission (a visible check would give it away)."""
check.choice("mc_batch_loss", mc_batch_loss, "ABCD")
### BEGIN HIDDEN TESTS
check.choice_is("mc_batch_loss", mc_batch_loss, "A")
### END HIDDEN TESTS

# %% [markdown]
# ### Task 3.2 — `batch_forward` and `batch_loss` (2 points)
#
# The cell below gives the activations $f$ and their derivatives $f'$ (elementwise, any shape;
# names `"relu"`, `"tanh"`, `"sigmoid"`) and a row-wise softmax and log-softmax that never
# overflow. Use them to write
#
# - `batch_forward(X, params, hidden)`: for `X` of shape $(N, D)$ return a dict with `"z1"`,
#   `"a1"` $(N, H)$ and `"z2"`, `"a2"` $(N, C)$ (1 point);
# - `batch_loss(X, T, params, hidden)`: the mean cross-entropy over the batch, a Python float
#   (1 point). Use `log_softmax_rows` rather than `np.log` of the softmax.
#
# `params` holds `"W1"` $(H, D)$, `"b1"` $(H, 1)$, `"W2"` $(C, H)$, `"b2"` $(C, 1)$. Work on
# the whole batch at once, without a Python loop over the examples.

# %% cell="locked" grade_id="t3_2_given"
def act(z: np.ndarray, name: str) -> np.ndarray:
    """f(z) elementwise for name in {"relu", "tanh", "sigmoid"}; same shape as z."""
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    raise ValueError(f"unknown activation {name!r}")


def act_prime(z: np.ndarray, name: str) -> np.ndarray:
    """f'(z) elementwise (the ReLU's derivative is 0 at z = 0); same shape as z."""
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    raise ValueError(f"unknown activation {name!r}")


def log_softmax_rows(Z: np.ndarray) -> np.ndarray:
    """log softmax of every row of Z (N, C), computed with log-sum-exp; shape (N, C)."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_rows(Z: np.ndarray) -> np.ndarray:
    """softmax of every row of Z (N, C); each row of the result sums to 1."""
    return np.exp(log_softmax_rows(Z))


# %% cell="answer" grade_id="t3_2_answer"
def batch_forward(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Forward pass for a batch X (N, D): "z1", "a1" (N, H) and "z2", "a2" (N, C)."""
    ### BEGIN SOLUTION
    z1 = X @ params["W1"].T + params["b1"].T
    a1 = act(z1, hidden)
    z2 = a1 @ params["W2"].T + params["b2"].T
    return {"z1": z1, "a1": a1, "z2": z2, "a2": softmax_rows(z2)}
    ### END SOLUTION


def batch_loss(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> float:
    """Mean cross-entropy over the batch: X (N, D), one-hot T (N, C); a float."""
    ### BEGIN SOLUTION
    z2 = batch_forward(X, params, hidden)["z2"]
    return float(-(T * log_softmax_rows(z2)).sum() / X.shape[0])
    ### END SOLUTION


# %% cell="locked" grade_id="t3_2_instances"
def random_problem(rng: np.random.Generator, N: int, D: int, H: int, C: int, hidden: str = "relu") -> tuple:
    """A random batch X (N, D), one-hot targets T (N, C) and params, with every hidden
    pre-activation at least 1e-2 away from the ReLU's kink (so finite differences are exact)."""
    while True:
        params = {
            "W1": rng.normal(0, 1.0, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1.0, (C, H)), "b2": rng.normal(0, 0.5, (C, 1)),
        }
        X = rng.normal(0, 1.0, (N, D))
        T = one_hot(rng.integers(0, C, N), C)
        pre = np.einsum("nd,hd->nh", X, params["W1"]) + params["b1"][:, 0]
        if hidden != "relu" or np.abs(pre).min() >= 1e-2:
            return X, T, params


# %%
# Try it: a batch of 5 examples with D = 2, H = 4, C = 3.
_X, _T, _p = random_problem(np.random.default_rng(0), 5, 2, 4, 3)
{k: v.shape for k, v in batch_forward(_X, _p).items()}, batch_loss(_X, _T, _p)

# %% cell="tests" grade_id="t3_2_tests_forward" points=1
"""Task 3.2: batch_forward on a fixed batch and against your own per-row computation (1 point)."""
_p = {"W1": np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.8]]), "b1": np.array([[0.1], [-0.2], [0.3]]),
      "W2": np.array([[0.7, -0.4, 1.1], [-0.6, 0.9, 0.2]]), "b2": np.array([[0.05], [-0.1]])}
_X = np.array([[0.6, -0.9], [-1.2, 0.4], [0.3, 0.3], [2.0, -0.5]])
_fw = batch_forward(_X, _p, "relu")
check.keys("batch_forward(...)", _fw, ["z1", "a1", "z2", "a2"])
check.array("z2", _fw["z2"], np.array([[1.8, -1.6], [2.052, 0.264], [0.298, -0.016], [1.96, -1.375]]), tol=1e-9)
check.array("a2", _fw["a2"], softmax_rows(_fw["z2"]), tol=1e-9)
for _hid in ("relu", "tanh", "sigmoid"):
    _fw = batch_forward(_X, _p, _hid)
    # a batch is a stack of examples: row n of the batch result is the result for example n alone
    for _n in range(_X.shape[0]):
        _one = batch_forward(_X[_n : _n + 1], _p, _hid)
        for _k in ("z1", "a1", "z2", "a2"):
            check.array(f"batch_forward(...)['{_k}'] row {_n} ({_hid})", _fw[_k][_n : _n + 1], _one[_k], tol=1e-12)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims, _hid in [((5, 7, 4, 3), "relu"), ((6, 3, 5, 2), "tanh"), ((4, 3, 3, 3), "sigmoid")]:
    _X, _T, _p = random_problem(_gen, *_dims, _hid)
    _z1 = _X @ _p["W1"].T + _p["b1"].T
    _a1 = act(_z1, _hid)
    _z2 = _a1 @ _p["W2"].T + _p["b2"].T
    _fw = batch_forward(_X.copy(), _p, _hid)
    for _k, _v in (("z1", _z1), ("a1", _a1), ("z2", _z2), ("a2", softmax_rows(_z2))):
        check.array(f"batch_forward(...)['{_k}']", _fw[_k], _v, tol=1e-9)
### END HIDDEN TESTS

# %% cell="tests" grade_id="t3_2_tests_loss" points=1
"""Task 3.2: batch_loss is the mean over the batch (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward, so that a mistake there costs its own cell only
#: reference batch_forward
check.using(globals(), **_REF).for_this_cell()
### END HIDDEN TESTS
_p = {"W1": np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.8]]), "b1": np.array([[0.1], [-0.2], [0.3]]),
      "W2": np.array([[0.7, -0.4, 1.1], [-0.6, 0.9, 0.2]]), "b2": np.array([[0.05], [-0.1]])}
_X = np.array([[0.6, -0.9], [-1.2, 0.4], [0.3, 0.3], [2.0, -0.5]])
_T = one_hot(np.array([0, 1, 1, 0]), 2)
_NO_MEAN = ("exactly N times the mean (the sum over the examples): the loss is the mean over the N "
            "examples, so it carries a factor 1/N: missing_1_over_n")
check.number("batch_loss(...)", batch_loss(_X, _T, _p, "relu"), 0.7182333791905648, rtol=1e-8,
             mistakes={_NO_MEAN: 4 * 0.7182333791905648})
# the mean of a batch equals the mean of the losses of its examples taken one at a time
_each = [batch_loss(_X[n : n + 1], _T[n : n + 1], _p, "tanh") for n in range(4)]
check.number("batch_loss(...) of 4 examples vs the mean of 4 single-example losses",
             batch_loss(_X, _T, _p, "tanh"), float(np.mean(_each)), rtol=1e-10)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims, _hid in [((5, 7, 4, 3), "relu"), ((6, 3, 5, 2), "tanh"), ((3, 2, 4, 5), "sigmoid")]:
    _X, _T, _p = random_problem(_gen, *_dims, _hid)
    _z2 = act(_X @ _p["W1"].T + _p["b1"].T, _hid) @ _p["W2"].T + _p["b2"].T
    _mean = float(-(_T * log_softmax_rows(_z2)).sum() / _dims[0])
    check.number("batch_loss(...)", batch_loss(_X, _T, _p, _hid), _mean, rtol=1e-9,
                 mistakes={_NO_MEAN: _dims[0] * _mean})
### END HIDDEN TESTS

# %% [markdown]
# ## Part B — where the 1/N goes (*Practice problems: backpropagation*, §1.3 Q2)
#
# Because the loss is the mean, every example contributes $\frac1N$ of its own gradient. For
# softmax with cross-entropy the notes give
#
# $$\frac{\partial\mathcal{L}}{\partial Z^{(2)}_{nk}} = \frac1N\big(A^{(2)}_{nk} - T_{nk}\big).$$
#
# Once the $\frac1N$ sits in $\nabla_{\mathbf{Z}^{(2)}}\mathcal{L}$, it travels backwards with
# everything else: no later step divides by $N$ again.
#
# ### Task 3.3 — the loss and its gradient at your numbers (2 points)
#
# The cell below draws a batch of $N = 4$ logits $\mathbf{Z}^{(2)}$ ($4 \times 3$) and labels
# for you. Set `my_loss` to the mean cross-entropy (a float, 1 point) and `my_dZ2` to
# $\nabla_{\mathbf{Z}^{(2)}}\mathcal{L}$ (an array of shape $(4, 3)$, 1 point). Compute them in
# Python from `Z2_mine` and `T_mine`; you may use the given `softmax_rows` and `log_softmax_rows`.

# %% cell="locked" grade_id="t3_3_numbers"
def my_batch(student: str) -> tuple[np.ndarray, np.ndarray]:
    """This student's logits Z2 (4, 3) and one-hot targets T (4, 3) for Task 3.3."""
    Z2 = seeds.matrix("ps3", student, "t3_3_Z2", (4, 3), low=-2.0, high=2.0)
    labels = seeds.rng("ps3", student, "t3_3_labels").integers(0, 3, 4)
    return Z2, one_hot(labels, 3)


Z2_mine, T_mine = my_batch(ME)
print("Z2 =\n", Z2_mine, "\nT =\n", T_mine)

# %% cell="answer" grade_id="t3_3_answer"
### BEGIN SOLUTION
my_loss = float(-(T_mine * log_softmax_rows(Z2_mine)).sum() / Z2_mine.shape[0])
my_dZ2 = (softmax_rows(Z2_mine) - T_mine) / Z2_mine.shape[0]
### END SOLUTION

# %% cell="tests" grade_id="t3_3_tests_loss" points=1
"""Task 3.3: the mean loss at your numbers (1 point).

Visible part: only that it is a finite number; the value at your numbers is checked after
submission (a visible check would give it away)."""
check.finite_number("my_loss", my_loss)
### BEGIN HIDDEN TESTS
_Z, _T = my_batch(seeds.student_id(STUDENT_ID))
_mean = float(-(_T * log_softmax_rows(_Z)).sum() / 4)
check.number("my_loss", my_loss, _mean, rtol=1e-6, mistakes={
    "exactly N = 4 times the mean (the sum over the examples): the loss is the mean over the N "
    "examples, so it carries a factor 1/N: missing_1_over_n": 4 * _mean})
### END HIDDEN TESTS

# %% cell="tests" grade_id="t3_3_tests_grad" points=1
"""Task 3.3: dL/dZ2 at your numbers (1 point).

Visible part: the shape, and two properties every right answer has (each row sums to 0,
because softmax outputs and one-hot targets both sum to 1; every entry lies strictly between
-1/N and 1/N). It cannot tell you that the values are right: that would give them away."""
check.shape("my_dZ2", my_dZ2, (4, 3))
_row_sums = np.asarray(my_dZ2, dtype=np.float64).sum(axis=1)
assert np.allclose(_row_sums, 0.0, atol=1e-9), f"my_dZ2: the rows sum to {_row_sums}, not 0"
assert np.all(np.abs(np.asarray(my_dZ2)) < 1 / 4), (
    "my_dZ2: some entries are not between -1/N and 1/N (N = 4): the loss is a mean over the batch"
)
### BEGIN HIDDEN TESTS
_Z, _T = my_batch(seeds.student_id(STUDENT_ID))
_Zc = _Z.copy()
check.grad_fd("my_dZ2", my_dZ2, lambda: float(-(_T * log_softmax_rows(_Zc)).sum() / 4), _Zc, n=4,
               loss="cross_entropy")
### END HIDDEN TESTS

# %% [markdown]
# ### Task 3.4 — `batch_backward` (4 points)
#
# Turn the per-example backward equations of the notes into matrix equations for the batch
# (*Practice problems: backpropagation*, §1.3 Q2, parts (a) to (e)). Write down the shape of every gradient first: each has the
# shape of its variable, so $\nabla_{\mathbf{W}^{(2)}}\mathcal{L}$ is $C \times H$ although it
# is built from two matrices with $N$ rows, and $\nabla_{\mathbf{b}^{(1)}}\mathcal{L}$ is
# $H \times 1$ although $\mathbf{Z}^{(1)}$ has $N$ rows: a bias is shared by all $N$ examples,
# so its gradient **sums** over them.
#
# `batch_backward(X, T, params, hidden)` returns a dict with `"W1"`, `"b1"`, `"W2"`, `"b2"`
# (shapes of the parameters) and `"z2"` $(N, C)$, `"a1"`, `"z1"` $(N, H)$: the gradients of the
# mean loss. Use your `batch_forward`, the given `act_prime`, and matrix products: aim for no
# Python loop over the examples (the timing after Task 3.5 shows why).
#
# Points: 1 for the visible check, 1 for the output layer ($\mathbf{Z}^{(2)}$, $\mathbf{W}^{(2)}$,
# $\mathbf{b}^{(2)}$), 2 for the hidden layer ($\mathbf{A}^{(1)}$, $\mathbf{Z}^{(1)}$,
# $\mathbf{W}^{(1)}$, $\mathbf{b}^{(1)}$) on random batches.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t3_4_answer"
def batch_backward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a batch X (N, D), one-hot T (N, C).

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1), "z2" (N, C), "a1", "z1" (N, H).
    """
    ### BEGIN SOLUTION
    fw = batch_forward(X, params, hidden)
    N = X.shape[0]
    g = {}
    g["z2"] = (fw["a2"] - T) / N
    g["W2"] = g["z2"].T @ fw["a1"]
    g["b2"] = g["z2"].sum(axis=0, keepdims=True).T
    g["a1"] = g["z2"] @ params["W2"]
    g["z1"] = g["a1"] * act_prime(fw["z1"], hidden)
    g["W1"] = g["z1"].T @ X
    g["b1"] = g["z1"].sum(axis=0, keepdims=True).T
    return g
    ### END SOLUTION


# %% cell="locked" grade_id="t3_4_given"
def fd_grads(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str) -> dict[str, np.ndarray]:
    """Central finite differences of your batch_loss with respect to W1, b1, W2, b2."""
    P = {k: v.copy() for k, v in params.items()}
    return {k: check.numerical_gradient(lambda: batch_loss(X, T, P, hidden), P[k]) for k in P}


# %%
# Try it: compare your gradients with finite differences of your own loss.
_X, _T, _p = random_problem(np.random.default_rng(1), 5, 2, 4, 3, "tanh")
_g, _fd = batch_backward(_X, _T, _p, "tanh"), fd_grads(_X, _T, _p, "tanh")
{k: check.rel_error(_g[k], _fd[k]) for k in _fd}

# %% cell="tests" grade_id="t3_4_tests_public" points=1
"""Task 3.4, visible part: parameter gradients against finite differences of your batch_loss (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward and batch_loss, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss
check.using(globals(), batch_forward=_REF["batch_forward"], batch_loss=_REF["batch_loss"]).for_this_cell()
### END HIDDEN TESTS
for _seed, _dims, _hid in [(31, (4, 3, 3, 3), "sigmoid"), (32, (5, 7, 4, 3), "relu"), (33, (6, 3, 5, 2), "tanh")]:
    _X, _T, _p = random_problem(np.random.default_rng(_seed), *_dims, _hid)
    _g = batch_backward(_X.copy(), _T.copy(), {k: v.copy() for k, v in _p.items()}, _hid)
    check.keys("batch_backward(...)", _g, ["W1", "b1", "W2", "b2", "z2", "a1", "z1"])
    check.grads(f"batch_backward(...) with N, D, H, C = {_dims}, {_hid}",
                {k: _g[k] for k in ("W2", "b2", "W1", "b1")}, fd_grads(_X, _T, _p, _hid), n=_dims[0],
                against="finite differences", loss="cross_entropy")

# %% cell="tests" grade_id="t3_4_tests_output" points=1
"""Task 3.4, hidden part: the output layer dZ2, dW2, db2 on random batches (1 point).

Visible part: the shape of dZ2; the values are checked against the reference on random batches after
submission (all with H = C, so that a shape mistake in the hidden layer does not stop them). The
visible test of Task 3.4 above checks the same function on fixed batches."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward and batch_loss, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss, batch_backward
check.using(globals(), batch_forward=_REF["batch_forward"], batch_loss=_REF["batch_loss"]).for_this_cell()
_reference_backward = _REF["batch_backward"]


def _batch_mistakes(X, T, p, hidden):  # noqa: ANN001, ANN202
    """Mistakes that the ratio and shape rules cannot name, as the tensors they produce."""
    g = _reference_backward(X, T, p, hidden)
    z1 = X @ p["W1"].T + p["b1"].T
    out = {
        check.mistake_text("missing_activation_derivative", "z1", 1, hidden): {"z1": g["a1"]},
        check.mistake_text("derivative_at_activation", "z1", 1, hidden):
            {"z1": g["a1"] * act_prime(act(z1, hidden), hidden)},
    }
    if p["W2"].shape[0] == p["W2"].shape[1]:
        out[check.mistake_text("w_not_transposed", "a1", 1)] = {"a1": g["z2"] @ p["W2"].T}
    return out


# the square case (D = H = C) first: with W2 used the wrong way round, it is the only case that
# does not crash, so it names the mistake
_BATCH_CASES = [((4, 3, 3, 3), "tanh"), ((5, 7, 4, 3), "relu"), ((7, 2, 5, 3), "tanh"),
                ((6, 4, 3, 5), "sigmoid"), ((3, 5, 6, 4), "relu")]
# the output layer on H = C: a shape mistake in the hidden layer (dZ2 W2^T) cannot stop these
# cases, so it costs the hidden-layer cell only
_OUTPUT_CASES = [((4, 3, 3, 3), "tanh"), ((5, 7, 4, 4), "relu"), ((7, 2, 5, 5), "tanh"),
                 ((6, 4, 3, 3), "sigmoid"), ((3, 5, 2, 2), "relu")]
_gen = np.random.default_rng()
for _dims, _hid in _OUTPUT_CASES:
    _X, _T, _p = random_problem(_gen, *_dims, _hid)
    _want = _reference_backward(_X, _T, _p, _hid)
    _g = batch_backward(_X.copy(), _T.copy(), {k: v.copy() for k, v in _p.items()}, _hid)
    check.grads(f"batch_backward(...) with N, D, H, C = {_dims}, {_hid}", _g,
                {k: _want[k] for k in ("z2", "W2", "b2")}, n=_dims[0], against="the reference",
                loss="cross_entropy")
### END HIDDEN TESTS
_X, _T, _p = random_problem(np.random.default_rng(34), 5, 2, 3, 3, "relu")
check.shape("batch_backward(...)['z2']", batch_backward(_X, _T, _p, "relu")["z2"], (5, 3))

# %% cell="tests" grade_id="t3_4_tests_hidden_layer" points=2
"""Task 3.4, hidden part: the hidden layer dA1, dZ1, dW1, db1 on random batches (2 points).

Visible part: the shape of dZ1; the values are checked against the reference on random batches after
submission. The visible test of Task 3.4 above checks the same function on fixed batches."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward and batch_loss, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss, batch_backward
check.using(globals(), batch_forward=_REF["batch_forward"], batch_loss=_REF["batch_loss"]).for_this_cell()
_reference_backward = _REF["batch_backward"]
_gen = np.random.default_rng()
for _dims, _hid in _BATCH_CASES:
    _X, _T, _p = random_problem(_gen, *_dims, _hid)
    _want = _reference_backward(_X, _T, _p, _hid)
    _g = batch_backward(_X.copy(), _T.copy(), {k: v.copy() for k, v in _p.items()}, _hid)
    # only the tensors this cell announces: a mistake in dW2 or db2 costs the output cell only
    check.grads(f"batch_backward(...) with N, D, H, C = {_dims}, {_hid}", _g,
                {k: _want[k] for k in ("a1", "z1", "W1", "b1")}, n=_dims[0], against="the reference",
                mistakes=_batch_mistakes(_X, _T, _p, _hid), loss="cross_entropy")
    check.grads(f"batch_backward(...) with N, D, H, C = {_dims}, {_hid}",
                {k: _g[k] for k in ("W1", "b1")},
                {k: v for k, v in fd_grads(_X, _T, _p, _hid).items() if k in ("W1", "b1")}, n=_dims[0],
                against="finite differences of batch_loss", loss="cross_entropy")
### END HIDDEN TESTS
_X, _T, _p = random_problem(np.random.default_rng(35), 6, 3, 5, 2, "sigmoid")
check.shape("batch_backward(...)['z1']", batch_backward(_X, _T, _p, "sigmoid")["z1"], (6, 5))

# %% [markdown]
# ### Task 3.5 — the batch gradient is the average of per-example gradients (1 point)
#
# A batch of one example is still a batch: `batch_backward(X[n:n+1], T[n:n+1], params, hidden)`
# is the gradient of example $n$'s own loss. Write `grads_loop(X, T, params, hidden)` that loops
# over the $N$ examples, calls your `batch_backward` on each one alone, and combines the results
# into the gradient of the **mean** loss of the whole batch. Return a dict with `"W1"`, `"b1"`,
# `"W2"`, `"b2"`. (This is what a per-example implementation computes; you will time it below.)
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t3_5_answer"
def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    total = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    for n in range(N):
        g = batch_backward(X[n : n + 1], T[n : n + 1], params, hidden)
        for k in total:
            total[k] += g[k]
    return {k: v / N for k, v in total.items()}
    ### END SOLUTION


# %% cell="tests" grade_id="t3_5_tests" points=1
"""Task 3.5: grads_loop loops over the examples and equals the gradient of the mean loss (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward, batch_loss and batch_backward, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss, batch_backward
_reference_backward = _REF["batch_backward"]
check.using(globals(), **_REF).for_this_cell()
### END HIDDEN TESTS
for _seed, _dims, _hid in [(51, (5, 7, 4, 3), "tanh"), (52, (4, 3, 3, 3), "relu")]:
    _X, _T, _p = random_problem(np.random.default_rng(_seed), *_dims, _hid)
    check.grads(f"grads_loop(...) with N, D, H, C = {_dims}", grads_loop(_X, _T, _p, _hid),
                fd_grads(_X, _T, _p, _hid), n=_dims[0], against="finite differences of your batch_loss")
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
for _dims, _hid in [((6, 2, 5, 3), "sigmoid"), ((3, 4, 2, 5), "relu")]:
    _X, _T, _p = random_problem(_gen, *_dims, _hid)
    _want = _reference_backward(_X, _T, _p, _hid)
    check.grads(f"grads_loop(...) with N, D, H, C = {_dims}", grads_loop(_X, _T, _p, _hid),
                {k: _want[k] for k in ("W2", "b2", "W1", "b1")}, n=_dims[0], against="the reference")
### END HIDDEN TESTS

# %% [markdown]
# ### Measure it: one batch against N single examples
#
# The cell below times `batch_backward` on the whole batch and `grads_loop` for growing $N$
# ($D = 2$, $H = 32$, $C = 3$). It is not graded; Task 3.9 asks you to explain what you see.
# It takes a few seconds. Timings are noisy (other programs share the machine, caches warm up):
# each point is the **median** of several runs, which a single slow run cannot move, and the
# shape of the curves (how the times grow with $N$) is what matters, not their exact values.

# %% cell="locked" grade_id="t3_5_timing"
def median_time(fn, *args, repeats: int = 5) -> float:  # noqa: ANN001
    """Median wall time in seconds of fn(*args) over `repeats` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


timing = {"N": [10, 30, 100, 300, 1000], "batched": [], "loop": []}
for _n in timing["N"]:
    _X, _T, _p = random_problem(np.random.default_rng(_n), _n, 2, 32, 3, "tanh")
    try:
        timing["batched"].append(median_time(batch_backward, _X, _T, _p, "tanh", repeats=7))
        timing["loop"].append(median_time(grads_loop, _X, _T, _p, "tanh", repeats=3))
    except NotImplementedError:
        print("Write batch_backward and grads_loop first.")
        break
if timing["loop"]:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(timing["N"][: len(timing["batched"])], timing["batched"], "s-", label="one batched call")
    ax.loglog(timing["N"][: len(timing["loop"])], timing["loop"], "o-", label="N single-example calls")
    ax.set_xticks(timing["N"], [str(n) for n in timing["N"]])
    ax.minorticks_off()
    ax.set_xlabel("N (examples)")
    ax.set_ylabel("seconds per gradient (median)")
    ax.set_title("Batched backward pass vs. a loop over examples")
    ax.legend()
    plt.show()

# %% [markdown]
# ## Part C — training by gradient descent (lecture *The backpropagation algorithm*; lecture notes *Feedforward networks and backpropagation* (CS7015))
#
# Gradient descent repeats one step: with all parameters collected in $\theta$ and a learning
# rate $\eta > 0$,
#
# $$\theta_{t+1} = \theta_t - \eta \, \nabla_\theta \mathcal{L}(\theta_t).$$
#
# Each step is a forward pass, a backward pass and an update of every parameter array.
#
# ### Task 3.6 — how large may the step be? (2 points)
#
# Take the simplest loss, $J(\theta) = \frac{a}{2}\theta^2$ with $a > 0$, whose minimum is at 0.
# With the SymPy symbols `eta` ($\eta$), `a` and `theta` ($\theta_t$):
#
# 1. set `gd_next` to $\theta_{t+1}$ after one gradient-descent step from $\theta_t$ (1 point);
# 2. set `eta_max` to the learning rate above which the iterates move away from 0 (they
#    oscillate with a growing size) instead of converging, as an expression in `a` (1 point).

# %% cell="locked" grade_id="t3_6_symbols"
import sympy as sp

eta, a, theta = sp.symbols("eta a theta", positive=True)

# %% cell="answer" grade_id="t3_6_answer"
### BEGIN SOLUTION
gd_next = theta - eta * a * theta
eta_max = 2 / a
### END SOLUTION

# %% cell="tests" grade_id="t3_6_tests_step" points=1
"""Task 3.6.1: one gradient-descent step on J = a theta^2 / 2 (1 point).

Visible part: gd_next is compared, at random values of eta, a and theta, with
theta - eta * (a finite difference of J at theta); no expected expression is used."""
check.sympy_expr("gd_next", gd_next, [eta, a, theta])
check.sympy_derivative("gd_next", (theta - sp.sympify(gd_next)) / eta,
                       lambda eta_, a_, th_: a_ * th_**2 / 2, 2, [eta, a, theta])
### BEGIN HIDDEN TESTS
check.sympy_equal("gd_next", gd_next, theta - eta * sp.diff(a * theta**2 / 2, theta), [eta, a, theta])
### END HIDDEN TESTS

# %% cell="tests" grade_id="t3_6_tests_eta_max" points=1
"""Task 3.6.2: the largest learning rate that still converges (1 point).

Visible part: for a few values of a, 200 gradient-descent steps on J with a learning rate 1 %
below your eta_max must shrink theta, and 1 % above it must not."""
check.sympy_expr("eta_max", eta_max, [a])
for _a in (0.5, 1.7, 4.0):
    _lr = float(sp.sympify(eta_max).subs({_s: _a for _s in sp.sympify(eta_max).free_symbols}))
    for _f, _shrinks in ((0.99, True), (1.01, False)):
        _th = 1.0
        for _ in range(200):
            _th -= _f * _lr * _a * _th
        assert (abs(_th) < 1.0) == _shrinks, (
            f"eta_max: with a = {_a}, {_f:g} * eta_max = {_f * _lr:.4g} makes theta "
            f"{'grow' if _shrinks else 'shrink'} (|theta| = {abs(_th):.3g} after 200 steps)"
        )
### BEGIN HIDDEN TESTS
check.sympy_equal("eta_max", eta_max, 2 / a, [a])
### END HIDDEN TESTS

# %% [markdown]
# ### Task 3.7 — `train_gd` (2 points)
#
# Write `train_gd(X, T, params, hidden, lr, steps)`: full-batch gradient descent with your
# `batch_loss` and `batch_backward`. Return the trained parameters (a **new** dict of new arrays;
# do not modify `params`) and the losses, a NumPy array of shape `(steps,)` whose entry $s$ is the
# loss **before** the update of step $s$.
#
# **Analytic gradients only:** compute the gradients by backpropagation; finite differences
# (yours, or the notebook's and coursekit's helpers, also inside a helper) score 0 here, and
# so does a function that modifies its inputs or keeps state between calls.

# %% cell="answer" grade_id="t3_7_answer"
def train_gd(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str, lr: float,
             steps: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Full-batch gradient descent from params; returns (new params, losses of shape (steps,))."""
    ### BEGIN SOLUTION
    theta_ = {k: v.copy() for k, v in params.items()}
    losses = np.empty(steps)
    for s in range(steps):
        losses[s] = batch_loss(X, T, theta_, hidden)
        g = batch_backward(X, T, theta_, hidden)
        theta_ = {k: theta_[k] - lr * g[k] for k in theta_}
    return theta_, losses
    ### END SOLUTION


# %% cell="locked" grade_id="t3_7_given"
def train_summary(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str, lr: float,
                  steps: int) -> dict[str, np.ndarray]:
    """Your train_gd as one dict: the trained W1, b1, W2, b2 and "losses" (used by the grader)."""
    trained, losses = train_gd(X, T, params, hidden, lr, steps)
    return {**{k: trained[k] for k in ("W1", "b1", "W2", "b2")}, "losses": np.asarray(losses)}


def spirals_init(sizes: tuple[int, int, int], seed: int = 0) -> dict[str, np.ndarray]:
    """Starting parameters of a D -> H -> C network, sizes = (D, H, C): W1 (H, D) with std 2 (so
    that the tanh units cut the plane in many directions), b1 (H, 1) std 0.5, W2 (C, H) std
    1/sqrt(H), b2 (C, 1) zero."""
    D, H, C = sizes
    rng = np.random.default_rng(seed + 1)
    return {"W1": rng.normal(0, 2.0, (H, D)), "b1": rng.normal(0, 0.5, (H, 1)),
            "W2": rng.normal(0, 1.0 / np.sqrt(H), (C, H)), "b2": np.zeros((C, 1))}


def spirals_problem(H: int = 24, seed: int = 0) -> tuple:
    """Three interleaved spirals (70 points each), one-hot targets and starting parameters."""
    X, y = make_spirals(70, n_classes=3, noise=0.15, seed=seed)
    return X, y, one_hot(y, 3), spirals_init((2, H, 3), seed)


def predict(X: np.ndarray, params: dict[str, np.ndarray], hidden: str) -> np.ndarray:
    """Predicted classes (N,) of your network: the most probable class of each row."""
    return np.argmax(batch_forward(X, params, hidden)["a2"], axis=1)


# %% cell="tests" grade_id="t3_7_tests" points=1
"""Task 3.7: a few steps of train_gd on a small batch, and params left unchanged (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward, batch_loss and batch_backward, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss, batch_backward
_reference_backward = _REF["batch_backward"]
check.using(globals(), **_REF).for_this_cell()
### END HIDDEN TESTS
_X, _T, _p = random_problem(np.random.default_rng(71), 5, 3, 4, 2, "tanh")
_before = {k: v.copy() for k, v in _p.items()}
_out, _losses = train_gd(_X, _T, _p, "tanh", 0.5, 3)
check.unchanged("params", _p, _before, "train_gd")
check.shape("losses", _losses, (3,))
check.number("losses[0]", _losses[0], batch_loss(_X, _T, _before, "tanh"), rtol=1e-12)
_step1 = {k: _before[k] - 0.5 * v for k, v in batch_backward(_X, _T, _before, "tanh").items() if k in _before}
check.number("losses[1]", _losses[1], batch_loss(_X, _T, _step1, "tanh"), rtol=1e-10)
### BEGIN HIDDEN TESTS
_gen = np.random.default_rng()
_X, _T, _p = random_problem(_gen, 6, 3, 5, 4, "sigmoid")
_q = {k: v.copy() for k, v in _p.items()}
_ls = []
for _s in range(4):
    _ls.append(batch_loss(_X, _T, _q, "sigmoid"))
    _w = _reference_backward(_X, _T, _q, "sigmoid")
    _q = {k: _q[k] - 0.3 * _w[k] for k in _q}
_res = train_summary(_X, _T, _p, "sigmoid", 0.3, 4)
check.array("losses", _res["losses"], np.array(_ls), tol=1e-9)
for _k in _q:
    check.array(f"trained {_k}", _res[_k], _q[_k], tol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Train on spirals
#
# The next cell trains your network (tanh hidden layer, $H = 24$) on three interleaved spirals,
# 210 points made with NumPy (`coursekit.data.make_spirals`), for 300 steps with $\eta = 1$,
# then draws the loss curve and the decision boundary. It takes about a second.

# %% cell="locked" grade_id="t3_7_train"
X_sp, y_sp, T_sp, P_sp = spirals_problem()
P_trained, loss_curve = train_gd(X_sp, T_sp, P_sp, "tanh", 1.0, 300)
acc = float(np.mean(predict(X_sp, P_trained, "tanh") == y_sp))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(loss_curve)
ax1.set_xlabel("step")
ax1.set_ylabel("mean cross-entropy")
ax1.set_yscale("log")
ax1.set_title("Loss curve")
g1, g2 = np.meshgrid(np.linspace(-1.2, 1.2, 150), np.linspace(-1.2, 1.2, 150))
grid_pred = predict(np.column_stack([g1.ravel(), g2.ravel()]), P_trained, "tanh").reshape(g1.shape)
ax2.contourf(g1, g2, grid_pred, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.3, cmap="brg")
ax2.scatter(X_sp[:, 0], X_sp[:, 1], c=y_sp, s=12, cmap="brg", edgecolors="k", linewidths=0.3)
ax2.set_title(f"Decision boundary (training accuracy {acc:.0%})")
ax2.set_aspect("equal")
plt.show()

# %% cell="tests" grade_id="t3_7_tests_spirals" points=1
"""Task 3.7: 100 steps on the spirals lower the loss and fit the training points (1 point)."""
### BEGIN HIDDEN TESTS
# judged with the model batch_forward, batch_loss and batch_backward, so that a mistake there costs its own cell only
#: reference batch_forward, batch_loss, batch_backward
_reference_backward = _REF["batch_backward"]
check.using(globals(), **_REF).for_this_cell()
### END HIDDEN TESTS
_Xs, _ys, _Ts, _Ps = spirals_problem()
_Ps0 = {k: v.copy() for k, v in _Ps.items()}
_run = train_summary(_Xs, _Ts, _Ps, "tanh", 1.0, 100)
check.shape("losses", _run["losses"], (100,))
_trained = {k: _run[k] for k in ("W1", "b1", "W2", "b2")}
assert batch_loss(_Xs, _Ts, _trained, "tanh") < 0.25 * batch_loss(_Xs, _Ts, _Ps0, "tanh"), (
    "the loss of the trained parameters: 100 steps should cut the loss by a factor 4")
_acc = float(np.mean(predict(_Xs, _run, "tanh") == _ys))
assert _acc >= 0.9, f"training accuracy {_acc:.2f} < 0.9 after 100 steps"
### BEGIN HIDDEN TESTS
# what this cell announces: the trained parameters (from the starting ones, copied before the
# call); the recorded losses and leaving params unchanged are Task 3.7's first cell
_q = {k: v.copy() for k, v in _Ps0.items()}
for _s in range(100):
    _w = _reference_backward(_Xs, _Ts, _q, "tanh")
    _q = {k: _q[k] - 1.0 * _w[k] for k in _q}
for _k in _q:
    check.array(f"trained {_k}", _run[_k], _q[_k], tol=1e-8)
### END HIDDEN TESTS

# %% [markdown]
# ### Explore
#
# The explorer below trains the same kind of network with **your** `batch_loss`,
# `batch_backward` and `batch_forward`: pick the data set, the learning rate and the hidden
# width, then press *Train k steps* and watch the loss and the boundary. It starts from the
# same data and the same initialisation as `spirals_problem` (through `spirals_init`), so 300
# steps at lr = 1 reach the accuracy of the static plot above. Try a learning rate that is far
# too large. Nothing here is graded.

# %%
from coursekit.explorers import descent_explorer

descent_explorer(
    loss_fn=lambda X, T, p: batch_loss(X, T, p, "tanh"),
    predict_fn=lambda X, p: batch_forward(X, p, "tanh")["a2"],
    grad_fn=lambda X, T, p: batch_backward(X, T, p, "tanh"),
    init_fn=spirals_init,
    dataset="spirals", lr=1.0, hidden=24, steps=300,
)

# %% [markdown]
# ## Part D — what the mean does for you
#
# ### Task 3.8 — sum or mean? (2 points, manually graded)
#
# Your friend Ahmed uses the **sum** of the per-example losses instead of the mean, with the
# same code otherwise. How do his gradients compare with yours? What must he do with the learning
# rate to take the same steps as you, and what happens to his training when he doubles the batch
# size while keeping his learning rate? Use your answer to Task 3.6 to explain it.

# %% [markdown] cell="written" grade_id="t3_8_written" points=2
# The sum is $N$ times the mean, so every one of his gradients is exactly $N$ times mine (the
# factor $\frac1N$ in $\nabla_{\mathbf{Z}^{(2)}}\mathcal{L}$ is missing and nothing else changes).
# To take the same steps he must divide his learning rate by $N$: $\eta_{\text{sum}} = \eta/N$.
# In Task 3.6 the largest stable learning rate is $2/a$, where $a$ is the curvature of the loss;
# summing multiplies the curvature by $N$, so his $\eta_{\max}$ shrinks like $1/N$. Doubling the
# batch with the same learning rate doubles his effective step: a rate that worked may now make
# the loss oscillate or diverge, and his learning rate has to be retuned whenever $N$ changes.
# With the mean the gradient is an average whose size does not grow with $N$, so one learning
# rate serves every batch size.

# %% [markdown] cell="rubric" grade_id="t3_8_rubric"
# *The grader's rubric for Task 3.8 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: the sum's gradients are exactly $N$ times the mean's, so the learning rate must be
#   divided by $N$ to take the same steps.
# - 1 point: doubling $N$ doubles the effective step; with Task 3.6 ($\eta_{\max} = 2/a$, the
#   curvature grows with $N$) a previously good rate can oscillate or diverge; with the mean the
#   learning rate does not depend on the batch size.
# ### END MARK SCHEME

# %% [markdown]
# ### Task 3.9 — read the timing plot (2 points, manually graded)
#
# `batch_backward` and `grads_loop` compute the same numbers. How do their times grow with $N$
# in your plot, and roughly how much faster is the batched version at $N = 1000$? Explain why,
# and name one cost of the batched version that the loop does not have.

# %% [markdown] cell="written" grade_id="t3_9_written" points=2
# Both grow roughly linearly in $N$ once $N$ is large (slope about 1 on log-log axes), since the
# work is proportional to the number of examples; for small $N$ the batched time is nearly flat
# because fixed overheads dominate. At $N = 1000$ the batched pass is one to two orders of
# magnitude faster in my plot. The loop pays Python's interpreter overhead, and the overhead of
# calling NumPy on tiny $1 \times H$ arrays, $N$ times; the batched version makes a few calls on
# large matrices that run in optimised compiled code (BLAS matrix products with vector
# instructions, cache-friendly blocking, possibly several threads). Its cost is memory: it keeps
# $\mathbf{Z}^{(1)}$, $\mathbf{A}^{(1)}$ and their gradients for all $N$ examples at once
# ($N \times H$ arrays), while the loop needs memory for one example only.

# %% [markdown] cell="rubric" grade_id="t3_9_rubric"
# *The grader's rubric for Task 3.9 is shown here after grading.*
#
# ### BEGIN MARK SCHEME
# **Rubric (2 points).**
# - 1 point: both times grow about linearly with $N$ (the batched one flat for small $N$); gives
#   a speed-up read from their plot (typically 10x-100x at $N = 1000$).
# - 1 point: explains it by per-call interpreter/NumPy overhead paid $N$ times versus a few
#   matrix products in optimised compiled code (BLAS), and names a cost of batching: memory for
#   $N \times H$ activations and gradients (or: all examples must be available at once).
# ### END MARK SCHEME
