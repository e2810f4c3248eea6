# %% [markdown]
# # Lab: seeing gradients
#
# Four explorers, all driven by the course's reference implementation (`backprop_ref`). Move a
# slider and the numbers and plots update. Notation and shapes as in the lecture notes: `W^(m)` is
# D_m x D_{m-1}, a batch has one example per row, the loss is a mean over the N examples.
#
# 1. **Computation graph** of problem 1: `z = w x + b`, `y = x + tanh z`, `L = (y - t)^2 / 2`.
# 2. **Step size**: the error of finite differences against `h`.
# 3. **Layer gradients** of an MLP: vanishing and exploding gradients.
# 4. **Gradient descent** on 2-D toy data.
#
# Run all cells (Run > Run All Cells), then play.

# %%
import numpy as np
from IPython.display import display

from backprop_ref import activations, batched, scalar
from backprop_ref.spec import MLPSpec
from coursekit.explorers import (
    ProbeFunction,
    descent_explorer,
    graph_explorer,
    layer_gradients_explorer,
    sizes_of,
    step_size_explorer,
)


def make_spec(
    params: dict[str, np.ndarray],
    hidden: str,
    output: str = "softmax",
    loss: str = "cross_entropy",
) -> MLPSpec:
    """The MLPSpec of parameters W1 (D_1, D_0) ... WL (D_L, D_{L-1}) with one hidden activation."""
    return MLPSpec(sizes_of(params), hidden, output, loss)


def ref_loss(
    X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "tanh"
) -> float:
    """Mean cross-entropy of the reference MLP on X (N, D), one-hot T (N, C): a float."""
    return batched.mlp_loss(X, T, params, make_spec(params, hidden))[0]


def ref_grads(
    X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "tanh"
) -> dict[str, np.ndarray]:
    """The reference backward pass: dict with W1 (D_1, D_0), b1 (D_1, 1), ... ."""
    _, cache = batched.mlp_loss(X, T, params, make_spec(params, hidden))
    return batched.mlp_backward(cache)


def ref_scores(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "tanh") -> np.ndarray:
    """Softmax outputs (N, C) of the reference MLP."""
    return batched.mlp_forward(X, params, make_spec(params, hidden))[0]


# %% [markdown]
# ## 1. The computation graph
#
# Each row shows a node's forward value, the reference's backward partial dL/d(node) and a central
# finite difference of L with respect to that node (its other inputs held fixed). `x` feeds `z` and
# `y`, so dL/dx collects both paths. Try `t` close to `y`: every partial goes to zero.

# %%
graph = graph_explorer(scalar.q1_backward)
display(graph)

# %% [markdown]
# ## 2. How small should h be?
#
# Forward differences have truncation error O(h), central ones O(h^2); round-off grows like
# eps |f| / h. The bottom of each V is the best step. Compare float64 with float32, then move the
# point to x = 0, the ReLU kink of the first function: no step size gives "the" derivative there.

# %%
steps = step_size_explorer(
    {
        "tanh (reference)": (activations.tanh, activations.tanh_prime),
        "sigmoid (reference)": (activations.sigmoid, activations.sigmoid_prime),
        "relu (reference)": ProbeFunction(activations.relu, activations.relu_prime, (0.0,)),
    }
)
display(steps)

# %% [markdown]
# ## 3. Gradients layer by layer
#
# An MLP 4 -> 8 -> ... -> 8 -> 3 with softmax and cross-entropy on 8 random examples. Left: the norm
# of each layer's weight gradient (log scale). Right: the chosen layer's dW from the reference
# backward pass, from finite differences, and their difference. Try sigmoid with 6 hidden layers
# (vanishing), then ReLU with init scale 4 (exploding), then ReLU with scale 1.41 (He).

# %%
layers = layer_gradients_explorer(ref_loss, ref_grads, label="reference")
display(layers)

# %% [markdown]
# ## 4. Gradient descent
#
# A 2 -> H -> C tanh network trained by full-batch gradient descent with the reference gradients.
# Click "Train k steps" (again to continue), "Reset" to start over. Which learning rates diverge?
# How many hidden units do the spirals need?

# %%
descent = descent_explorer(ref_loss, ref_scores, ref_grads)
display(descent)
