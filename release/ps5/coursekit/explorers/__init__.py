"""Gradient explorers: ipywidgets + matplotlib views of gradients, for the lab and ps1-ps5.

Every explorer takes the functions it shows as arguments; this package holds no analytic
gradient a student is asked to write and never imports the reference. Each function below
returns an explorer object: make it the last expression of a cell (or ``display`` it).

Wiring in a problem set (the student's own functions and finite differences only)::

    from coursekit.explorers import graph_explorer, step_size_explorer
    from coursekit.explorers import layer_gradients_explorer, descent_explorer

    graph_explorer(q1_backward)                      # student's partials vs finite differences
    graph_explorer()                                 # finite differences only
    step_size_explorer({"sigmoid": (sigmoid, sigmoid_prime)})
    layer_gradients_explorer(                        # student's backward vs FD of student's loss
        loss_fn=lambda X, T, p, hidden: mlp_loss(X, T, p, make_spec(p, hidden))[0],
        grad_fn=lambda X, T, p, hidden: mlp_backward(mlp_loss(X, T, p, make_spec(p, hidden))[1]),
    )
    descent_explorer(loss_fn=..., predict_fn=..., grad_fn=None)   # None: FD of the loss
    engine_explorer(root, backward)                  # student's engine, replayed node by node

``make_spec(p, hidden)`` stands for whatever the notebook uses to describe the network; the
explorers only need :func:`sizes_of` to recover the layer widths from the parameters.
In the lab the same calls receive the reference's functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

from coursekit.explorers.descent import DescentExplorer, GradFn, LossFn, PredictFn
from coursekit.explorers.engine import BackwardFn, EngineExplorer
from coursekit.explorers.graph import GraphExplorer, PartialsFn
from coursekit.explorers.layers import LayerGradientExplorer, Params, mlp_problem_factory
from coursekit.explorers.stepsize import ProbeFunction, StepSizeExplorer, default_functions

__all__ = [
    "DescentExplorer",
    "EngineExplorer",
    "GraphExplorer",
    "LayerGradientExplorer",
    "StepSizeExplorer",
    "ProbeFunction",
    "descent_explorer",
    "engine_explorer",
    "graph_explorer",
    "layer_gradients_explorer",
    "sizes_of",
    "step_size_explorer",
]


def _in_grader() -> bool:
    """True inside the grader's isolated runner, where nobody sees a widget: explorers are then
    not built (saving the grader their start-up work) and the calls return None."""
    return os.environ.get("BPC_TRUSTED_RUNNER") == "1"


def sizes_of(params: Mapping[str, np.ndarray]) -> tuple[int, ...]:
    """Layer widths ``(D_0, ..., D_L)`` of ``W1`` (D_1, D_0), ..., ``WL`` (D_L, D_{L-1})."""
    sizes = [int(np.shape(params["W1"])[1])]
    m = 1
    while f"W{m}" in params:
        sizes.append(int(np.shape(params[f"W{m}"])[0]))
        m += 1
    return tuple(sizes)


def graph_explorer(
    partials_fn: PartialsFn | None = None,
    *,
    w: float = 0.5,
    x: float = 1.0,
    b: float = -0.2,
    t: float = 0.3,
    label: str | None = None,
) -> GraphExplorer | None:
    """Explorer 1, the graph z = w x + b, y = x + tanh z, L = (y - t)^2 / 2.

    ``partials_fn(w, x, b, t)`` returns a dict with keys "L", "y", "z", "w", "b", "x" (dL/d of
    each, ``float``); ``None`` shows finite differences only. ``w, x, b, t`` are the starting
    slider values (a problem set can pass the student's numbers); ``label`` names the function.
    """
    if _in_grader():
        return None
    return GraphExplorer(partials_fn, w=w, x=x, b=b, t=t, label=label)


def step_size_explorer(
    functions: Mapping[str, tuple[Callable, Callable] | ProbeFunction] | None = None,
    *,
    include_default: bool = True,
    x: float = 0.5,
    variable: str = "x",
) -> StepSizeExplorer | None:
    """Explorer 2, finite-difference error against h in float64 and float32.

    ``functions`` maps a name to ``(f, df)`` (elementwise, array in, same-shape array out) or to a
    :class:`ProbeFunction` with kink points. The built-in ``exp(sin x) + relu(x)``, with a ReLU
    kink at 0, comes first unless ``include_default=False``.
    """
    if _in_grader():
        return None
    table: dict[str, ProbeFunction] = default_functions() if include_default else {}
    for name, fn in (functions or {}).items():
        table[name] = fn if isinstance(fn, ProbeFunction) else ProbeFunction(fn[0], fn[1])
    return StepSizeExplorer(table, x=x, variable=variable)


def layer_gradients_explorer(
    loss_fn: Callable[[np.ndarray, np.ndarray, Params, str], float],
    grad_fn: Callable[[np.ndarray, np.ndarray, Params, str], Mapping[str, np.ndarray]]
    | None = None,
    *,
    label: str = "gradient function",
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu"),
    hidden_layers: int = 3,
    scale: float = 1.0,
    width: int = 8,
) -> LayerGradientExplorer | None:
    """Explorer 3, per-layer weight gradients against finite differences.

    ``loss_fn(X, T, params, hidden) -> float`` is the mean loss of a softmax/cross-entropy (or
    any) MLP with hidden activation ``hidden`` on X (N, D), one-hot T (N, C); ``grad_fn`` with
    the same arguments returns the gradients (keys ``W1 .. WL`` at least), or is ``None`` for
    finite differences only. Widths are (D, width, ..., width, C) with D = 4, C = 3, N = 8; the
    weights have std ``scale / sqrt(D_in)``.
    """
    if _in_grader():
        return None
    factory = mlp_problem_factory(loss_fn, grad_fn, width=width)
    return LayerGradientExplorer(
        factory, activations=activations, hidden_layers=hidden_layers, scale=scale, label=label
    )


def descent_explorer(
    loss_fn: LossFn,
    predict_fn: PredictFn,
    grad_fn: GradFn | None = None,
    *,
    init_fn: Callable[[tuple[int, ...], int], Params] | None = None,
    dataset: str = "moons",
    lr: float = 1.0,
    hidden: int = 16,
    steps: int = 200,
) -> DescentExplorer | None:
    """Explorer 4, gradient descent on moons or spirals with loss curve and decision boundary.

    ``loss_fn(X, T, params) -> float``, ``predict_fn(X, params)`` -> scores (N, C) or labels (N,),
    ``grad_fn(X, T, params)`` -> gradients with the keys of ``params`` (``None``: central finite
    differences of ``loss_fn``, slower). Networks are D -> H -> C with parameters from
    ``init_fn(sizes, seed)`` (default: W std 1/sqrt(D_in)); ``dataset``, ``lr``, ``hidden`` and
    ``steps`` (k) are the starting control values.
    """
    if _in_grader():
        return None
    return DescentExplorer(
        loss_fn, predict_fn, grad_fn, init_fn=init_fn, dataset=dataset, lr=lr, hidden=hidden,
        steps=steps,
    )  # fmt: skip


def engine_explorer(root: object, backward_fn: BackwardFn, *,
                    label: str | None = None) -> EngineExplorer | None:
    """Explorer 5, the backward pass of a scalar engine (ps5) replayed one node at a time.

    ``root`` is a node of the student's engine (``data``, ``grad``, ``parents``, ``local``);
    ``backward_fn(root)`` is the student's backward pass, returning the nodes in visiting order.
    """
    if _in_grader():
        return None
    return EngineExplorer(root, backward_fn, label=label)
