"""The reference backward pass with one catalogued student mistake switched on (``bug=``).

Mutants serve two purposes: tests inject each mistake into a correct implementation and check
that ``backprop_ref.diagnose`` names it, and the diagnosis uses them as oracles (a candidate that
equals a mutant's output has that mistake). Bug ids are ids of ``coursekit.diagnose.MISTAKES``.

Value-level bugs (``BUGS``), injected by ``mutant_backward(cache, bug, level)``:

| bug | what the mutant does (batched level, rows are examples) |
|---|---|
| transposed | every dW is the transpose of the right one |
| missing_1_over_n | dZ^(L) without the 1/N of the mean loss |
| averaged_twice | every db divided by N once more |
| bias_not_summed | every db keeps one column per example, shape (D_m, N) |
| bias_wrong_axis | every db summed over the units, shape (N, 1) |
| missing_activation_derivative | hidden dZ = dA (no f'(Z), e.g. no ReLU mask) |
| derivative_at_activation | hidden dZ = dA * f'(A) instead of f'(Z) |
| sign_flip | dZ^(L) with the wrong sign |
| factor_2 | squared errors: the factor 2 dropped, or added to the 1/2-squared error |
| w_not_transposed | dA_prev through W^T instead of W (square layers only) |
| broadcast_nn | C = 1: output (N,) minus target (N, 1) gives an (N, N) dZ^(L) |

Function-level bugs (``FUNCTION_BUGS``): ``AccumulatingBackward`` (adds into stored gradients
on every call), ``backward_modifying_cache`` (writes f'(Z) into the cached Z) and
``mlp_loss_overwriting_cache`` (a forward whose activation overwrote the cached Z).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop_ref import batched, vector
from backprop_ref.activations import elementwise
from backprop_ref.losses import per_example_grad
from backprop_ref.spec import MLPSpec

BUGS = (
    "transposed",
    "missing_1_over_n",
    "averaged_twice",
    "bias_not_summed",
    "bias_wrong_axis",
    "missing_activation_derivative",
    "derivative_at_activation",
    "sign_flip",
    "factor_2",
    "w_not_transposed",
    "broadcast_nn",
)
"""Value-level bugs that ``mutant_backward`` can inject."""

FUNCTION_BUGS = ("accumulates", "cache_modified", "forward_overwrote_cache")
"""Bugs visible only across calls or in the caches, injected by the function-level mutants."""

_LEVELS = {"batched": batched, "vector": vector}
_BATCH_ONLY = {"missing_1_over_n", "averaged_twice", "bias_not_summed", "bias_wrong_axis",
               "broadcast_nn"}


def level_module(level: str) -> Any:
    """The reference module for ``level`` ("batched" or "vector")."""
    try:
        return _LEVELS[level]
    except KeyError:
        raise ValueError(f"level must be one of {tuple(_LEVELS)}, got {level!r}") from None


def applicable(bug: str, spec: MLPSpec, level: str = "batched") -> bool:
    """Whether ``bug`` changes the gradient of ``spec`` at ``level`` (e.g. sigma'(a) needs a
    sigmoid or tanh hidden layer, factor_2 a squared error, w_not_transposed a square layer)."""
    if bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}; use one of {BUGS}")
    if level == "vector" and bug in _BATCH_ONLY:
        return False
    hidden = set(spec.hidden)
    if bug == "missing_activation_derivative":
        return bool(hidden - {"identity"})
    if bug == "derivative_at_activation":
        return bool(hidden & {"sigmoid", "tanh"})
    if bug == "factor_2":
        return spec.loss in ("half_squared_error", "squared_error")
    if bug == "bias_wrong_axis":
        return min(spec.sizes[1:]) > 1
    if bug == "w_not_transposed":
        return any(spec.sizes[m] == spec.sizes[m - 1] for m in range(2, spec.depth + 1))
    if bug == "broadcast_nn":
        return (spec.sizes[-1] == 1 and spec.output != "softmax"
                and spec.loss in ("half_squared_error", "squared_error"))
    return True


def _loss_dz(cache: dict[str, Any], bug: str | None, level: str) -> tuple[np.ndarray, float]:
    """dZ^(L) with a loss-level bug, and the factor the bug puts on dL/dA^(L)."""
    mod = level_module(level)
    z_out, t, output, loss = cache["loss"]
    dz = mod.loss_backward(cache["loss"])
    if bug == "missing_1_over_n":
        return per_example_grad(z_out, t, output, loss, mod.CLASS_AXIS), float(z_out.shape[0])
    if bug == "sign_flip":
        return -dz, -1.0
    if bug == "factor_2":
        factor = 2.0 if loss == "half_squared_error" else 0.5
        return dz * factor, factor
    return dz, 1.0


def _broadcast_grads(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """The output layer of a C = 1 squared-error net whose output was flattened to (N,)."""
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    z_out, t, output, loss = cache["loss"]
    n = z_out.shape[0]
    y = cache[f"a{L}"].reshape(-1)
    dy = (y - t) if loss == "half_squared_error" else 2.0 * (y - t)
    dz = dy * elementwise(output)[1](z_out) / n
    a_prev = cache[f"a{L - 1}"]
    return {f"z{L}": dz, f"W{L}": dz.T @ a_prev, f"b{L}": dz.sum(axis=0, keepdims=True).T}


def mutant_backward(
    cache: dict[str, Any], bug: str | None = None, level: str = "batched",
    output_too: bool = False,
) -> dict[str, np.ndarray]:
    """``mlp_backward`` of ``level`` on the cache of its ``mlp_loss``, with ``bug`` injected.

    Returns the keys of the reference backward (W{m} (D_m, D_{m-1}), b{m} (D_m, 1), z{m},
    a{m} (N, D_m) or (D_m, 1), a0) with the shapes the mistake produces; ``bug=None`` gives the
    reference gradients. ``broadcast_nn`` returns only the output layer's keys (the student's
    code would crash one step later). ``output_too`` (derivative_at_activation only): the
    output layer's sigmoid or tanh is differentiated at its activation as well (a backward
    pass that starts from dL/dA^(L) and treats every layer alike).
    """
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}; use one of {BUGS}")
    mod = level_module(level)
    spec: MLPSpec = cache["spec"]
    if bug is not None and not applicable(bug, spec, level):
        raise ValueError(f"bug {bug!r} does not apply to {spec} at level {level!r}")
    if bug == "broadcast_nn":
        return _broadcast_grads(cache)
    L = spec.depth
    n = cache["a0"].shape[0] if level == "batched" else 1
    reference = mod.mlp_backward(cache)
    dz, factor = _loss_dz(cache, bug, level)
    grads: dict[str, np.ndarray] = {f"z{L}": dz, f"a{L}": reference[f"a{L}"] * factor}
    if bug == "derivative_at_activation" and output_too and spec.output in ("sigmoid", "tanh"):
        dz = reference[f"a{L}"] * elementwise(spec.output)[1](cache[f"a{L}"])
        grads[f"z{L}"] = dz
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            da = grads[f"a{m}"]
            if bug == "missing_activation_derivative":
                dz = da.copy()
            elif bug == "derivative_at_activation" and act[1] in ("sigmoid", "tanh"):
                dz = da * elementwise(act[1])[1](cache[f"a{m}"])
            else:
                dz = mod.activation_backward(da, act)
            grads[f"z{m}"] = dz
        da_prev, dW, db = mod.affine_backward(dz, aff)
        W = aff[1]
        if bug == "transposed":
            dW = dW.T.copy()
        elif bug == "averaged_twice":
            db = db / n
        elif bug == "bias_not_summed":
            db = dz.T.copy()
        elif bug == "bias_wrong_axis":
            db = dz.sum(axis=1, keepdims=True)
        elif bug == "w_not_transposed" and W.shape[0] == W.shape[1]:
            da_prev = dz @ W.T if level == "batched" else W @ dz
        grads[f"W{m}"], grads[f"b{m}"], grads[f"a{m - 1}"] = dW, db, da_prev
    return grads


class AccumulatingBackward:
    """A backward that adds into gradients kept between calls (``+=`` on stored arrays), so the
    second call returns twice the gradient. Call it like ``mlp_backward(cache)``."""

    def __init__(self, level: str = "batched") -> None:
        self._mod = level_module(level)
        self._store: dict[str, np.ndarray] = {}

    def __call__(self, cache: dict[str, Any]) -> dict[str, np.ndarray]:
        """Gradients (shapes as ``mlp_backward``) summed over every call so far."""
        for key, value in self._mod.mlp_backward(cache).items():
            if key in self._store:
                self._store[key] += value
            else:
                self._store[key] = value.copy()
        return {key: value.copy() for key, value in self._store.items()}


def backward_modifying_cache(
    cache: dict[str, Any], level: str = "batched"
) -> dict[str, np.ndarray]:
    """Right gradients on the first call, but f'(Z) is written into each cached hidden Z
    (N, D_m) in place, so the cache is corrupted for any later use."""
    mod = level_module(level)
    spec: MLPSpec = cache["spec"]
    L = spec.depth
    grads: dict[str, np.ndarray] = {}
    dz = mod.loss_backward(cache["loss"])
    grads[f"z{L}"] = dz
    for m in range(L, 0, -1):
        aff, act = cache["layers"][m - 1]
        if m < L:
            z, name = act
            z[...] = elementwise(name)[1](z)
            dz = grads[f"a{m}"] * z
            grads[f"z{m}"] = dz
        da_prev, dW, db = mod.affine_backward(dz, aff)
        grads[f"W{m}"], grads[f"b{m}"], grads[f"a{m - 1}"] = dW, db, da_prev
    return grads


def mlp_loss_overwriting_cache(
    x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec,
    level: str = "batched",
) -> tuple[float, dict[str, Any]]:
    """``mlp_loss`` whose hidden activations were computed in place over Z: each cached
    ``z{m}`` (N, D_m) holds A^(m) instead of Z^(m). Returns (loss, cache)."""
    value, cache = level_module(level).mlp_loss(x, t, params, spec)
    for m in range(1, spec.depth):
        cache[f"z{m}"][...] = cache[f"a{m}"]
    return value, cache


# ------------------------------------------------------------------ scalar graphs (ps1 Q1, Q3)

Q1_BUGS = ("factor_2", "derivative_at_activation", "missing_path", "sign_flip")
"""Mistakes ``q1_mutant`` can inject into the partials of the Q1 graph."""

Q3_BUGS = ("factor_2", "missing_activation_derivative", "output_gradient")
"""Mistakes ``q3_mutant`` can inject into the partials of the Q3 network."""


def q1_mutant(w: float, x: float, b: float, t: float, bug: str, variant: int = 0
              ) -> dict[str, float] | None:
    """The partials of the Q1 graph (z = w x + b, y = x + tanh z, L = 1/2 (y - t)^2; keys "L",
    "y", "z", "w", "b", "x") with ``bug`` switched on; None when the variant does not exist.

    factor_2: dL/dy = 2 (y - t), the derivative of (y - t)^2 for the loss 1/2 (y - t)^2;
    derivative_at_activation: tanh' evaluated at tanh(z) instead of z; missing_path: dL/dx
    along one of its two paths only (variant 0 drops the direct edge x -> y, variant 1 the path
    through z); sign_flip: dL/dy = t - y, so every partial below L has the wrong sign.
    """
    from backprop_ref.scalar import q1_forward

    fw = q1_forward(w, x, b, t)
    dy = (fw["y"] - t) * {"factor_2": 2.0, "sign_flip": -1.0}.get(bug, 1.0)
    at = math.tanh(fw["z"]) if bug == "derivative_at_activation" else fw["z"]
    dz = dy * (1.0 - math.tanh(at) ** 2)
    dx = dy + dz * w
    if bug == "missing_path":
        if variant > 1:
            return None
        dx = dz * w if variant == 0 else dy
    elif variant > 0:
        return None
    return {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dx}


def q3_mutant(x: np.ndarray, w: np.ndarray, t: float, loss: str, bug: str
              ) -> dict[str, float]:
    """``backprop_ref.scalar.q3_backward`` with ``bug`` switched on.

    factor_2: the 1/2-squared error differentiated as 2 (y - t) (BCE cases unchanged);
    missing_activation_derivative: every ReLU mask dropped; output_gradient: the BCE derivative
    -t / y without its (1 - t) / (1 - y) branch, passed back through sigma'(z) (squared-error
    cases unchanged).
    """
    from backprop_ref import scalar

    g = dict(scalar.q3_backward(x, w, t, loss))
    fw = scalar.q3_forward(x, w, t, loss)
    (x1, x2), ws = [float(v) for v in np.ravel(x)], [float(v) for v in np.ravel(w)]
    w1, w2, w3, w4, w5, w6, w7, w8, w9, w10 = ws
    y = fw["y"]
    if bug == "factor_2" and loss != "binary_cross_entropy":
        g["y"] = 2.0 * (y - t)
        g["z"] = g["y"] * y * (1.0 - y)
    elif bug == "output_gradient" and loss == "binary_cross_entropy":
        g["y"] = -t / y
        g["z"] = g["y"] * y * (1.0 - y)
    mask = (lambda m: 1.0) if bug == "missing_activation_derivative" else (
        lambda m: 1.0 if m > 0 else 0.0)
    g["h3"], g["h4"] = g["z"] * w9, g["z"] * w10
    g["m3"], g["m4"] = g["h3"] * mask(fw["m3"]), g["h4"] * mask(fw["m4"])
    g["h1"] = g["m3"] * w5 + g["m4"] * w7
    g["h2"] = g["m3"] * w6 + g["m4"] * w8
    g["m1"], g["m2"] = g["h1"] * mask(fw["m1"]), g["h2"] * mask(fw["m2"])
    g["w1"], g["w2"] = g["m1"] * x1, g["m1"] * x2
    g["w3"], g["w4"] = g["m2"] * x1, g["m2"] * x2
    g["w5"], g["w6"] = g["m3"] * fw["h1"], g["m3"] * fw["h2"]
    g["w7"], g["w8"] = g["m4"] * fw["h1"], g["m4"] * fw["h2"]
    g["w9"], g["w10"] = g["z"] * fw["h3"], g["z"] * fw["h4"]
    g["x1"] = g["m1"] * w1 + g["m2"] * w3
    g["x2"] = g["m1"] * w2 + g["m2"] * w4
    return g


def path_terms(cache: dict[str, Any], layer: int, i: int, j: int) -> list[float]:
    """dC/dW{layer}[i, j] path by path: one product of local derivatives for every path from
    the weight to the (single) output of a vector-level network (``vector.mlp_loss``'s cache).
    Their sum is the right partial; a partial that equals the sum of a strict subset misses
    paths."""
    spec: MLPSpec = cache["spec"]
    params = cache["params"]
    depth = spec.depth
    dz_out = np.ravel(vector.mlp_backward(cache)["z" + str(depth)])
    if dz_out.size != 1:
        raise ValueError("path_terms needs a network with one output")

    def local(m: int) -> np.ndarray:
        return np.ravel(elementwise(spec.activation(m))[1](cache[f"z{m}"]))

    start = float(np.ravel(cache[f"a{layer - 1}"])[j]) * (
        float(local(layer)[i]) if layer < depth else 1.0)
    paths: list[tuple[int, float]] = [(i, start)]
    for m in range(layer + 1, depth + 1):
        W = params[f"W{m}"]
        fprime = local(m) if m < depth else np.ones(W.shape[0])
        paths = [(k, v * float(W[k, u]) * float(fprime[k])) for u, v in paths
                 for k in range(W.shape[0])]
    return [v * float(dz_out[0]) for _, v in paths]


STEP_BUGS = ("w_not_transposed", "missing_activation_derivative")
"""Mistakes ``step_mutant`` can inject into one backward step dz = f'(z) * (W^T dz_next)."""


def step_mutant(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray, bug: str
                ) -> np.ndarray | None:
    """One backward step (ps2 Task 2.5b) with ``bug``: W (H_next, H_m), dz_next (H_next, 1),
    fprime (H_m, 1) -> dz (H_m, 1). w_not_transposed: W dz_next (None when the shapes do not
    allow it: the student's code raises there); missing_activation_derivative: W^T dz_next."""
    if bug == "w_not_transposed":
        if W.shape[0] != W.shape[1]:
            return None
        return fprime * (W @ dz_next)
    if bug == "missing_activation_derivative":
        return W.T @ dz_next
    raise ValueError(f"unknown step bug {bug!r}; use one of {STEP_BUGS}")


SKIP_TEXT = {
    "factor_2": "every gradient is exactly twice the right value, from dL/dz3 on: for softmax "
    "with cross-entropy dL/dz3 = y - t, with no factor 2 (that factor belongs to a squared "
    "error)",
    "w_not_transposed": "dh2 was passed down through W3 the wrong way round (W3 instead of its "
    "transpose); every gradient below it inherits the mistake",
    "skip_through_relu": "dzs went through the ReLU mask: the skip term is added after the "
    "ReLU, so dL/dzs = dL/dh2",
    "derivative_at_activation": "dz1 is wrong: sigma' was evaluated at h1 = sigma(z1) instead "
    "of at z1",
    "missing_activation_derivative": "dz2 lacks the ReLU derivative: ReLU(z2) passes the "
    "gradient only where z2 > 0",
    "skip_path_missing": "dx has only the path through W1 (W1^T dz1): x also reaches the loss "
    "through the skip connection zs = Ws x, whose contribution must be added",
    "main_path_missing": "dx has only the skip path (Ws^T dzs): x also reaches the loss through "
    "the first layer z1 = W1 x + b1, whose contribution must be added",
}
"""Messages of the skip network's mistakes (ps4 Task 4.6), reproduced by ``skip_mutant``."""


def skip_mutant(cache: dict[str, Any], bug: str) -> dict[str, np.ndarray] | None:
    """Every gradient of the skip network (``vector_nets.skip_backward``'s keys) with ``bug``
    and all its consequences; None when the bug cannot happen here (W3 not square)."""
    from backprop_ref.activations import relu_prime, sigmoid_prime

    p, x = cache["params"], cache["x"]
    dz3 = cache["y"] - cache["t"]
    if bug == "factor_2":
        dz3 = 2.0 * dz3
    if bug == "w_not_transposed":
        if p["W3"].shape[0] != p["W3"].shape[1]:
            return None
        dh2 = p["W3"] @ dz3
    else:
        dh2 = p["W3"].T @ dz3
    dz2 = dh2 * (1.0 if bug == "missing_activation_derivative" else relu_prime(cache["z2"]))
    dzs = dh2 * relu_prime(cache["z2"]) if bug == "skip_through_relu" else dh2.copy()
    dh1 = p["W2"].T @ dz2
    at = cache["h1"] if bug == "derivative_at_activation" else cache["z1"]
    dz1 = dh1 * sigmoid_prime(at)
    dx = p["W1"].T @ dz1 + p["Ws"].T @ dzs
    if bug == "skip_path_missing":
        dx = p["W1"].T @ dz1
    elif bug == "main_path_missing":
        dx = p["Ws"].T @ dzs
    return {"W1": dz1 @ x.T, "b1": dz1.copy(), "W2": dz2 @ cache["h1"].T, "b2": dz2.copy(),
            "Ws": dzs @ x.T, "W3": dz3 @ cache["h2"].T, "b3": dz3.copy(), "z1": dz1,
            "h1": dh1, "z2": dz2, "zs": dzs, "h2": dh2, "z3": dz3, "x": dx}


def skip_mistakes(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
                  ) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """(mistake id, message, every gradient that mistake gives) for one skip-network probe,
    for ``autograder.registry.common.gradient_compare(mistakes_of=...)``."""
    from backprop_ref.vector_nets import skip_loss

    _, cache = skip_loss(x, t, params)
    out = []
    for bug, text in SKIP_TEXT.items():
        grads = skip_mutant(cache, bug)
        if grads is not None:
            out.append((bug, text, grads))
    return out


def twin_product_swapped(xa: np.ndarray, xb: np.ndarray, t: Any, params: dict[str, np.ndarray]
                         ) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """The twin network's (ps4 Task 4.3) product-rule mistake with all its consequences: each
    factor of h = h_a * h_b got its own value (dh_a = dh * h_a), so m_a, m_b, W1, b1, xa, xb
    are wrong too. For ``gradient_compare(mistakes_of=...)``."""
    from backprop_ref.activations import relu_prime
    from backprop_ref.vector_nets import twin_loss

    _, c = twin_loss(xa, xb, t, params)
    W1, W2 = params["W1"], params["W2"]
    dz = c["y"] - c["t"]
    dh = W2.T @ dz
    dh_a, dh_b = dh * c["h_a"], dh * c["h_b"]
    dm_a, dm_b = dh_a * relu_prime(c["m_a"]), dh_b * relu_prime(c["m_b"])
    grads = {"W1": dm_a @ c["xa"].T + dm_b @ c["xb"].T, "b1": dm_a + dm_b,
             "W2": dz @ c["h"].T, "b2": dz.copy(), "m_a": dm_a, "h_a": dh_a, "m_b": dm_b,
             "h_b": dh_b, "h": dh, "z": dz, "xa": W1.T @ dm_a, "xb": W1.T @ dm_b}
    text = ("dh_a and dh_b are swapped: h = h_a * h_b, so the gradient reaching h_a is "
            "multiplied by the other factor, h_b (and everything below inherits it)")
    return [("product_rule_swapped", text, grads)]


# ------------------------------------------------------- single values: mutants at the inputs

VALUE_TEXT = {
    "missing_1_over_n": "{name} is exactly N times too large{where}: the loss is the mean over "
    "the N examples, so it and every gradient of it carry a factor 1/N",
    "sign_flip": "{name} has the right size but the wrong sign: dL/dz of the binary "
    "cross-entropy after a sigmoid is y - t, not t - y (and everything built from it inherits "
    "the sign)",
    "shared_one_branch": "{name} holds the gradient of one branch only: W1 is used by both "
    "branches, so its gradient is the sum of the two branches' contributions",
}
"""Messages of the mistakes :func:`loss_value_mutant` and :func:`twin_value_mutants` reproduce."""


def loss_value_mutant(z_out: np.ndarray, t: np.ndarray, output: str, loss: str, bug: str,
                      want: str = "loss") -> Any:
    """The batched loss (``want="loss"``, a float) or dL/dZ^(L) (``want="dz"``, (N, C)) at the
    student's own Z^(L) (N, C) and T (N, C), with ``bug`` ("missing_1_over_n": the sum over the
    examples instead of the mean, and its gradient without the 1/N); None for other bugs."""
    if bug != "missing_1_over_n":
        return None
    value, cache = batched.loss_forward(z_out, t, output, loss)
    if want == "loss":
        return value * z_out.shape[0]
    return per_example_grad(z_out, t, output, loss, batched.CLASS_AXIS)


def mean_loss_mutant(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray], spec: MLPSpec,
                     bug: str) -> float | None:
    """``batched.mlp_loss`` of X (N, D), T (N, C) with ``bug`` ("missing_1_over_n": summed over
    the examples, not averaged); None for other bugs."""
    if bug != "missing_1_over_n":
        return None
    value, _ = batched.mlp_loss(x, t, params, spec)
    return value * np.shape(x)[0]


def twin_value_mutants(xa: np.ndarray, xb: np.ndarray, t: Any, params: dict[str, np.ndarray]
                       ) -> dict[str, list[dict[str, np.ndarray]]]:
    """The twin network's (ps4) gradients with one mistake, at one example: bug -> variants,
    each a dict of the tensors it changes (``"z"`` (1, 1), ``"W1"`` (H, D)). ``sign_flip``:
    dL/dz = t - y, so every gradient flips; ``shared_one_branch``: dW1 of the branch of x_a
    only, or of x_b only."""
    from backprop_ref.vector_nets import twin_backward, twin_loss

    _, c = twin_loss(xa, xb, t, params)
    g = twin_backward(c)
    dm_a, dm_b = g["m_a"], g["m_b"]
    return {
        "sign_flip": [{k: -v for k, v in g.items()}],
        "shared_one_branch": [{"W1": dm_a @ c["xa"].T}, {"W1": dm_b @ c["xb"].T}],
    }
