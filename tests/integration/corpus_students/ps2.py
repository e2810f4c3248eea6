# ruff: noqa: E501 - the students' code keeps their own line lengths
"""Problem set 2 as different students wrote it (vectorized backpropagation for one example)."""

from __future__ import annotations

from tests.integration.corpus_students.common import Submission, bug, correct, with_cell

AUTO = {"t2_1_tests_a1": 1, "t2_1_tests_a2": 1, "t2_1_tests_a3": 1, "t2_1_tests_a4": 1,
        "t2_1_tests_a5": 1, "t2_2_tests_softmax": 1, "t2_2_tests_ce": 1, "t2_3a_tests": 1,
        "t2_3b_tests_public": 1, "t2_3b_tests_hidden": 2, "t2_4_tests_activations": 1,
        "t2_4_tests_forward": 1, "t2_4_tests_backward": 2, "t2_5a_tests": 1, "t2_5b_tests": 2,
        "t2_5_tests_timing": 1}
"""Every automatically graded cell of ps2 and its points."""

MC = '''mc_weighted_sum = "C"
mc_output_layer = "C"
mc_grad_activations = "A"
mc_grad_preactivations = "C"
mc_grad_weights = "E"
'''
MC_DICT = '''answers = {"weighted_sum": "C", "output_layer": "C", "grad_activations": "A",
           "grad_preactivations": "C", "grad_weights": "E"}
mc_weighted_sum = answers["weighted_sum"]
mc_output_layer = answers["output_layer"]
mc_grad_activations = answers["grad_activations"]
mc_grad_preactivations = answers["grad_preactivations"]
mc_grad_weights = answers["grad_weights"]
'''

T22_PLAIN = '''def softmax_col(z: np.ndarray) -> np.ndarray:
    """Softmax of a column z (C, 1), returned as a column (C, 1)."""
    ones = np.ones_like(z)
    e = np.exp(z - np.max(z))
    return e / (ones.T @ e)


def cross_entropy_col(a: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy -sum_k t_k log a_k of probabilities a (C, 1) and target t (C, 1), a float."""
    return -float((t.T @ np.log(a))[0, 0])
'''
T22_DOT = '''def softmax_col(z: np.ndarray) -> np.ndarray:
    """Softmax of a column z (C, 1), returned as a column (C, 1)."""
    C = z.shape[0]
    shifted = z - z.max()
    num = np.exp(shifted)
    den = np.dot(np.ones((1, C)), num)      # 1 x 1
    return num / den


def cross_entropy_col(a: np.ndarray, t: np.ndarray) -> float:
    """Cross-entropy -sum_k t_k log a_k of probabilities a (C, 1) and target t (C, 1), a float."""
    return float(-np.dot(t.T, np.log(a)).item())
'''

SHAPES = '''D, H, C = 4, 5, 3
grad_shapes = {"z2": (C, 1), "W2": (C, H), "b2": (C, 1), "a1": (H, 1), "z1": (H, 1),
               "W1": (H, D), "b1": (H, 1)}
'''
SHAPES_LITERAL = '''grad_shapes = dict(z2=(3, 1), W2=(3, 5), b2=(3, 1), a1=(5, 1), z1=(5, 1), W1=(5, 4), b1=(5, 1))
print(grad_shapes)
'''

T23_PLAIN = '''def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    f = forward_vec(x, params)
    dz2 = f["a2"] - t
    dW2 = dz2 @ f["a1"].T
    db2 = dz2
    da1 = params["W2"].T @ dz2
    dz1 = da1 * (f["z1"] > 0)
    dW1 = dz1 @ x.T
    db1 = dz1
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "z2": dz2, "a1": da1, "z1": dz1}
'''
T23_EINSUM = '''def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    fw = forward_vec(x, params)
    delta_out = fw["a2"] - t                                   # (C, 1)
    grad_W2 = np.einsum("ci,hi->ch", delta_out, fw["a1"])      # outer product
    grad_a1 = np.einsum("ch,ci->hi", params["W2"], delta_out)  # W2^T delta
    delta_hid = grad_a1 * np.heaviside(fw["z1"], 0.0)
    grad_W1 = np.einsum("hi,di->hd", delta_hid, x)
    return {"z2": delta_out, "W2": grad_W2, "b2": delta_out.copy(), "a1": grad_a1,
            "z1": delta_hid, "W1": grad_W1, "b1": delta_hid.copy()}
'''
T23_OUTER = '''def relu_prime(v: np.ndarray) -> np.ndarray:
    return (v > 0).astype(float)


def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    W2 = params["W2"]
    cache = forward_vec(x, params)
    e2 = cache["a2"] - t
    e1_a = np.dot(W2.T, e2)
    e1 = e1_a * relu_prime(cache["z1"])
    return dict(W1=np.outer(e1, x), b1=e1, W2=np.outer(e2, cache["a1"]), b2=e2, z2=e2, a1=e1_a, z1=e1)
'''
T23_FOR_K_IN_GRADS = '''def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    f = forward_vec(x, params)
    grads = {}
    grads["z2"] = f["a2"] - t
    grads["W2"] = grads["z2"] @ f["a1"].T
    grads["b2"] = grads["z2"]
    grads["a1"] = params["W2"].T @ grads["z2"]
    grads["z1"] = np.where(f["z1"] > 0, grads["a1"], 0.0)
    grads["W1"] = grads["z1"] @ x.T
    grads["b1"] = grads["z1"]
    for k in grads:          # make sure everything is float64
        grads[k] = np.asarray(grads[k], dtype=np.float64)
    return grads
'''

T24_PLAIN = '''def activation(z: np.ndarray, name: str) -> np.ndarray:
    """sigma(z) elementwise for name in {"identity", "sigmoid", "tanh", "relu"}; shape of z."""
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(0, z)
    raise ValueError(name)


def activation_grad(da: np.ndarray, z: np.ndarray, name: str) -> np.ndarray:
    """dL/dz = dL/da * sigma'(z) elementwise; da and z have the same shape."""
    if name == "identity":
        return da
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return da * s * (1 - s)
    if name == "tanh":
        return da * (1 - np.tanh(z) ** 2)
    if name == "relu":
        return da * (z > 0)
    raise ValueError(name)


def mlp_forward(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> tuple[np.ndarray, dict]:
    """Forward pass of an L-layer MLP for x (D, 1); returns a_L (D_L, 1) and a cache."""
    cache = {"a0": x, "params": params, "acts": acts}
    a = x
    for m in range(1, len(acts) + 1):
        z = params[f"W{m}"] @ a + params[f"b{m}"]
        a = activation(z, acts[m - 1])
        cache[f"z{m}"] = z
        cache[f"a{m}"] = a
    return a, cache


def mlp_backward(da_L: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
    """Backward pass from dL/da_L (D_L, 1): "W{m}", "b{m}", "z{m}" (m = 1..L), "a{m}" (m = 0..L-1)."""
    params, acts = cache["params"], cache["acts"]
    L = len(acts)
    grads = {}
    da = da_L
    for m in range(L, 0, -1):
        dz = activation_grad(da, cache[f"z{m}"], acts[m - 1])
        grads[f"z{m}"] = dz
        grads[f"W{m}"] = dz @ cache[f"a{m - 1}"].T
        grads[f"b{m}"] = dz
        da = params[f"W{m}"].T @ dz
        grads[f"a{m - 1}"] = da
    return grads
'''
T24_DISPATCH = '''ACTS = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
}


def activation(z: np.ndarray, name: str) -> np.ndarray:
    """sigma(z) elementwise for name in {"identity", "sigmoid", "tanh", "relu"}; shape of z."""
    return ACTS[name][0](z)


def activation_grad(da: np.ndarray, z: np.ndarray, name: str) -> np.ndarray:
    """dL/dz = dL/da * sigma'(z) elementwise; da and z have the same shape."""
    return da * ACTS[name][1](z)


def mlp_forward(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> tuple[np.ndarray, dict]:
    """Forward pass of an L-layer MLP for x (D, 1); returns a_L (D_L, 1) and a cache."""
    zs, as_ = [], [x]
    for i, name in enumerate(acts):
        zs.append(params["W%d" % (i + 1)] @ as_[-1] + params["b%d" % (i + 1)])
        as_.append(activation(zs[-1], name))
    return as_[-1], {"zs": zs, "as": as_, "Ws": [params["W%d" % (i + 1)] for i in range(len(acts))],
                     "acts": list(acts)}


def mlp_backward(da_L: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
    """Backward pass from dL/da_L (D_L, 1): "W{m}", "b{m}", "z{m}" (m = 1..L), "a{m}" (m = 0..L-1)."""
    out = {}
    delta_a = da_L
    for i in reversed(range(len(cache["acts"]))):
        m = i + 1
        delta_z = activation_grad(delta_a, cache["zs"][i], cache["acts"][i])
        out["z%d" % m] = delta_z
        out["W%d" % m] = delta_z @ cache["as"][i].T
        out["b%d" % m] = delta_z.copy()
        delta_a = cache["Ws"][i].T @ delta_z
        out["a%d" % i] = delta_a
    return out
'''

T24_TUPLES = T24_PLAIN[:T24_PLAIN.index("def mlp_forward(")] + '''def mlp_forward(x: np.ndarray, params: dict[str, np.ndarray], acts: list[str]) -> tuple[np.ndarray, dict]:
    """Forward pass of an L-layer MLP for x (D, 1); returns a_L (D_L, 1) and a cache."""
    layers = []                      # one (a_prev, z, W, activation) tuple per layer
    a = x
    for m in range(1, len(acts) + 1):
        W, b = params[f"W{m}"], params[f"b{m}"]
        z = W @ a + b
        layers.append((a, z, W, acts[m - 1]))
        a = activation(z, acts[m - 1])
    return a, layers


def mlp_backward(da_L: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
    """Backward pass from dL/da_L (D_L, 1): "W{m}", "b{m}", "z{m}" (m = 1..L), "a{m}" (m = 0..L-1)."""
    grads = {}
    da = da_L
    for m in range(len(cache), 0, -1):
        a_prev, z, W, name = cache[m - 1]
        dz = activation_grad(da, z, name)
        grads[f"z{m}"], grads[f"W{m}"], grads[f"b{m}"] = dz, dz @ a_prev.T, dz
        da = W.T @ dz
        grads[f"a{m - 1}"] = da
    return grads
'''

OPS = "ops_backward = M * H**2\n"
OPS_EXACT = "# M - 1 steps between layers, H x H multiply-adds each (notes 004)\nops_backward = (M - 1) * H**2\n"

T25_PLAIN = '''def backward_step_loops(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """dz (H_m, 1) from W (H_next, H_m), dz_next (H_next, 1), fprime (H_m, 1), with loops."""
    H_next, H_m = W.shape
    dz = np.zeros((H_m, 1))
    for j in range(H_m):
        acc = 0.0
        for h in range(H_next):
            acc += W[h, j] * dz_next[h, 0]
        dz[j, 0] = fprime[j, 0] * acc
    return dz


def backward_step_vec(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """The same dz (H_m, 1) as backward_step_loops, with one matrix product and no loops."""
    return fprime * (W.T @ dz_next)
'''
T25_EINSUM = '''def backward_step_loops(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """dz (H_m, 1) from W (H_next, H_m), dz_next (H_next, 1), fprime (H_m, 1), with loops."""
    result = np.zeros((W.shape[1], 1))
    for h in range(W.shape[0]):
        for j in range(W.shape[1]):
            result[j, 0] += W[h, j] * dz_next[h, 0]
    for j in range(W.shape[1]):
        result[j, 0] *= fprime[j, 0]
    return result


def backward_step_vec(W: np.ndarray, dz_next: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """The same dz (H_m, 1) as backward_step_loops, with one matrix product and no loops."""
    return np.einsum("hj,hk->jk", W, dz_next) * fprime
'''

WRITTEN = {"t2_5c_written": "Slope 2 for the loops (H^2 work); BLAS does the product in compiled, "
                            "vectorised code, GPUs help further."}

BASE = {"t2_1_answer": MC, "t2_2_answer": T22_PLAIN, "t2_3a_answer": SHAPES,
        "t2_3b_answer": T23_PLAIN, "t2_4_answer": T24_PLAIN, "t2_5a_answer": OPS,
        "t2_5b_answer": T25_PLAIN}

# ---------------------------------------------------------------- buggy cells
B23 = {"t2_3b_tests_public": 1, "t2_3b_tests_hidden": 2}
B24 = {"t2_4_tests_backward": 2}

BUG_SOFTMAX_UNSTABLE = T22_PLAIN.replace("e = np.exp(z - np.max(z))", "e = np.exp(z)")
BUG_CE_ONE_HOT_ONLY = T22_PLAIN.replace("return -float((t.T @ np.log(a))[0, 0])",
                                        "return -float(np.log(t.T @ a)[0, 0])   # picks the true class")
BUG_SHAPES_W1 = SHAPES.replace('"W1": (H, D)', '"W1": (D, H)')
BUG_W_NOT_T = T23_PLAIN.replace('da1 = params["W2"].T @ dz2', 'da1 = (dz2.T @ params["W2"].T).T')
BUG_DW2_T = T23_PLAIN.replace('dW2 = dz2 @ f["a1"].T', 'dW2 = f["a1"] @ dz2.T')
BUG_A1_IS_Z1 = T23_PLAIN.replace('"a1": da1', '"a1": dz1')
BUG_VEC_FD = '''def backward_vec(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, vectorized.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    P = {k: v.copy() for k, v in params.items()}
    g = {k: check.numerical_gradient(lambda: loss_vec(x, t, P), P[k]) for k in P}
    f = forward_vec(x, params)
    z2, a1 = f["z2"].copy(), f["a1"].copy()
    ce = lambda z: float(-(t * (z - z.max() - np.log(np.exp(z - z.max()).sum()))).sum())  # noqa: E731
    g["z2"] = check.numerical_gradient(lambda: ce(z2), z2)
    g["a1"] = check.numerical_gradient(lambda: ce(params["W2"] @ a1 + params["b2"]), a1)
    g["z1"] = g["a1"] * (f["z1"] > 0)
    return g
'''
BUG_SIGMOID_SIGN = T24_PLAIN.replace("return 1 / (1 + np.exp(-z))", "return 1 / (1 + np.exp(z))")
BUG_AT_ACTIVATION = T24_PLAIN.replace('dz = activation_grad(da, cache[f"z{m}"], acts[m - 1])',
                                      'dz = activation_grad(da, cache[f"a{m}"], acts[m - 1])')
BUG_CACHE_REUSED = T24_PLAIN.replace('        grads[f"z{m}"] = dz\n',
                                     '        grads[f"z{m}"] = dz\n        cache[f"z{m}"] = dz  # reuse the slot\n')
BUG_ACCUMULATES = T24_PLAIN.replace(
    '''    grads = {}
    da = da_L''', '''    grads = _GRADS          # like .grad in PyTorch
    da = da_L''').replace('''        grads[f"W{m}"] = dz @ cache[f"a{m - 1}"].T''',
                          '''        grads[f"W{m}"] = grads.get(f"W{m}", 0) + dz @ cache[f"a{m - 1}"].T''') \
    .replace("def mlp_backward(", "_GRADS = {}\n\n\ndef mlp_backward(")
BUG_BIAS_UNITS = T24_PLAIN.replace('grads[f"b{m}"] = dz\n', 'grads[f"b{m}"] = dz.sum(axis=0, keepdims=True)\n')
BUG_FACTOR_SIGMOID = T24_PLAIN.replace("return da * s * (1 - s)", "return da * s * (1 - s) / 2")
BUG_FORWARD_NO_LAST_BIAS = T24_PLAIN.replace(
    'z = params[f"W{m}"] @ a + params[f"b{m}"]',
    'z = params[f"W{m}"] @ a + (params[f"b{m}"] if m < len(acts) else 0.0)   # no bias on the output?')
BUG_CACHE_RELU_MASK = T24_PLAIN.replace(
    '        dz = activation_grad(da, cache[f"z{m}"], acts[m - 1])\n',
    '        z = cache[f"z{m}"]\n        if acts[m - 1] == "relu":\n'
    '            z *= z > 0          # only the active units matter\n'
    '        dz = activation_grad(da, z, acts[m - 1])\n')
BUG_DEFAULT_ACC = T24_PLAIN.replace(
    "def mlp_backward(da_L: np.ndarray, cache: dict) -> dict[str, np.ndarray]:",
    "def mlp_backward(da_L: np.ndarray, cache: dict, grads: dict = {}) -> dict[str, np.ndarray]:") \
    .replace("    grads = {}\n    da = da_L", "    da = da_L") \
    .replace('        grads[f"b{m}"] = dz\n', '        grads[f"b{m}"] = grads.get(f"b{m}", 0) + dz\n')
BUG_OPS_NO_M = "ops_backward = H**2\n"
BUG_OPS_WRONG = "ops_backward = M * H\n"
BUG_STEP_VEC_NO_T = T25_PLAIN.replace("return fprime * (W.T @ dz_next)", "return fprime * (W @ dz_next)")
BUG_STEP_LOOPS_NO_FPRIME = T25_PLAIN.replace("dz[j, 0] = fprime[j, 0] * acc", "dz[j, 0] = acc")

SUBMISSIONS: dict[str, Submission] = {
    # ---------------------------------------------------------- correct work, several styles
    "ps2_plain": correct({**BASE, **WRITTEN}),
    "ps2_einsum": correct(with_cell(BASE, t2_3b_answer=T23_EINSUM, t2_5b_answer=T25_EINSUM),
                          "einsum for every product"),
    "ps2_dot_outer_helpers": correct(with_cell(BASE, t2_2_answer=T22_DOT, t2_3b_answer=T23_OUTER),
                                     "np.dot and np.outer, a relu_prime helper"),
    "ps2_dispatch_lists": correct(with_cell(BASE, t2_4_answer=T24_DISPATCH, t2_1_answer=MC_DICT,
                                            t2_3a_answer=SHAPES_LITERAL),
                                  "activation table of lambdas, a cache of lists, dict() shapes"),
    "ps2_for_k_in_grads": correct(with_cell(BASE, t2_3b_answer=T23_FOR_K_IN_GRADS),
                                  "a for loop that only converts the result dict (issue 8, cat. 8)"),
    "ps2_exact_count": correct(with_cell(BASE, t2_5a_answer=OPS_EXACT),
                               "(M-1) H^2, the exact count of the notes (issue 8, cat. 7)"),
    "ps2_extra_cells": correct(
        with_cell(BASE, t2_4_answer=T24_DISPATCH, t2_5b_answer=T25_EINSUM),
        "scratch cells",
        extra={"t2_3b_answer": ["_g = backward_vec(*example_vec(np.random.default_rng(3)))\n"
                                "print({k: v.shape for k, v in _g.items()})"],
               "t2_4_answer": ["_a, _c = mlp_forward(np.ones((2, 1)), random_mlp(np.random.default_rng(1), "
                               "(2, 3, 1)), ['tanh', 'identity'])\nprint(_a)"]}),
    "ps2_mixed": correct(with_cell(BASE, t2_2_answer=T22_DOT, t2_3b_answer=T23_EINSUM,
                                   t2_4_answer=T24_DISPATCH, t2_5b_answer=T25_EINSUM,
                                   t2_1_answer=MC_DICT), "every alternative at once"),
    # ---------------------------------------------------------- one bug each
    "ps2_mc_a4_wrong": bug(with_cell(BASE, t2_1_answer=MC.replace('preactivations = "C"',
                                                                 'preactivations = "D"')),
                           {"t2_1_tests_a4": 1}, None, "4 wrong answer"),
    "ps2_softmax_overflows": bug(with_cell(BASE, t2_2_answer=BUG_SOFTMAX_UNSTABLE),
                                 {"t2_2_tests_softmax": 1}, None, "4 wrong values",
                                 "no max subtraction: nan for large logits"),
    "ps2_ce_one_hot_only": bug(with_cell(BASE, t2_2_answer=BUG_CE_ONE_HOT_ONLY),
                               {"t2_2_tests_ce": 1}, None, "1 soft targets",
                               "-log(t.a) is right only for one-hot targets"),
    "ps2_shapes_w1_transposed": bug(with_cell(BASE, t2_3a_answer=BUG_SHAPES_W1),
                                    {"t2_3a_tests": 1}, None, "6 shapes"),
    "ps2_vec_w_not_transposed": bug(with_cell(BASE, t2_3b_answer=BUG_W_NOT_T), B23,
                                    "w_not_transposed", "4 W not transposed",
                                    "dz2^T W2^T: crashes unless H == C"),
    "ps2_vec_dw2_transposed": bug(with_cell(BASE, t2_3b_answer=BUG_DW2_T), B23, "transposed",
                                  "4 transposed"),
    "ps2_vec_a1_is_z1": bug(with_cell(BASE, t2_3b_answer=BUG_A1_IS_Z1), B23, "one_tensor_wrong",
                            "4 one tensor", "returns dL/dz1 under the key a1"),
    "ps2_vec_finite_differences": bug(with_cell(BASE, t2_3b_answer=BUG_VEC_FD), B23,
                                      "finite_differences", "3 finite differences",
                                      "check.numerical_gradient of loss_vec"),
    "ps2_sigmoid_sign": bug(with_cell(BASE, t2_4_answer=BUG_SIGMOID_SIGN),
                            {"t2_4_tests_activations": 1}, None, "5 cascade",
                            "activation('sigmoid') is sigma(-z); forward and backward are judged "
                            "with the reference activation", cascade=True),
    "ps2_mlp_derivative_at_a": bug(with_cell(BASE, t2_4_answer=BUG_AT_ACTIVATION), B24,
                                   "derivative_at_activation", "4 sigma' at a"),
    "ps2_mlp_overwrites_cache": bug(with_cell(BASE, t2_4_answer=BUG_CACHE_REUSED), B24,
                                    "cache_modified", "2 side effects",
                                    "stores dz in the cache's z slot"),
    "ps2_mlp_accumulates": bug(with_cell(BASE, t2_4_answer=BUG_ACCUMULATES), B24, "accumulates",
                               "2 accumulation", "weight gradients added to a global dict"),
    "ps2_mlp_bias_summed_over_units": bug(with_cell(BASE, t2_4_answer=BUG_BIAS_UNITS), B24,
                                          "bias_wrong_axis", "4 bias axis"),
    "ps2_sigmoid_grad_halved": bug(with_cell(BASE, t2_4_answer=BUG_FACTOR_SIGMOID),
                                   {"t2_4_tests_activations": 1}, None, "5 spill",
                                   "sigma' / 2 inside activation_grad; mlp_backward, which calls "
                                   "it, is judged with the reference activation_grad",
                                   cascade=True),
    "ps2_ops_missing_m": bug(with_cell(BASE, t2_5a_answer=BUG_OPS_NO_M), {"t2_5a_tests": 1},
                             "expression_wrong", "4 SymPy form", "one layer's count: H^2 misses the factor M - 1 of the layers (not a constant factor)"),
    "ps2_ops_linear_in_h": bug(with_cell(BASE, t2_5a_answer=BUG_OPS_WRONG), {"t2_5a_tests": 1},
                               "expression_wrong", "4 SymPy form"),
    "ps2_step_vec_no_transpose": bug(with_cell(BASE, t2_5b_answer=BUG_STEP_VEC_NO_T),
                                     {"t2_5b_tests": 2}, "w_not_transposed", "4 W not transposed"),
    "ps2_step_loops_no_fprime": bug(with_cell(BASE, t2_5b_answer=BUG_STEP_LOOPS_NO_FPRIME),
                                    {"t2_5b_tests": 2}, "missing_activation_derivative",
                                    "4 missing derivative"),
    # ---------------------------------------------------------- written after issue 8's gaps
    "ps2_cache_tuples": correct(with_cell(BASE, t2_4_answer=T24_TUPLES),
                                "a cache of per-layer tuples, not the model's dict"),
    "ps2_forward_no_last_bias": bug(with_cell(BASE, t2_4_answer=BUG_FORWARD_NO_LAST_BIAS),
                                    {"t2_4_tests_forward": 1}, None, "5 cascade",
                                    "the output layer's bias left out: mlp_backward is judged "
                                    "on the model forward's cache", cascade=True),
    "ps2_mlp_masks_cache": bug(with_cell(BASE, t2_4_answer=BUG_CACHE_RELU_MASK), B24,
                               "cache_modified", "2 side effects",
                               "zeroes the negative cached z of ReLU layers in place"),
    "ps2_mlp_default_dict": bug(with_cell(BASE, t2_4_answer=BUG_DEFAULT_ACC), B24,
                                "accumulates", "2 accumulation",
                                "a mutable default argument collects the bias gradients"),
    # ---------------------------------------------------------- blanks and partial work
    "ps2_blank": Submission(cells={}, lose=dict(AUTO), kind="blank"),
    "ps2_only_mc": Submission(cells={"t2_1_answer": MC},
                              lose={g: p for g, p in AUTO.items() if not g.startswith("t2_1_")},
                              kind="partial"),
    "ps2_until_backward_vec": Submission(
        cells={k: BASE[k] for k in ("t2_1_answer", "t2_2_answer", "t2_3a_answer", "t2_3b_answer")},
        lose={g: p for g, p in AUTO.items() if g.startswith(("t2_4", "t2_5"))}, kind="partial"),
    "ps2_no_part_e": Submission(
        cells={k: v for k, v in BASE.items() if not k.startswith("t2_5")},
        lose={g: p for g, p in AUTO.items() if g.startswith("t2_5")}, kind="partial"),
}
