# ruff: noqa: E501 - the students' code keeps their own line lengths
"""Problem set 1 as different students wrote it (computation graphs and the chain rule)."""

from __future__ import annotations

from tests.integration.corpus_students.common import Submission, bug, correct, with_cell

AUTO = {"t1_1_tests_top": 1, "t1_1_tests_leaves": 1, "t1_2_tests": 2, "t1_3_tests_one_path": 1,
        "t1_3_tests_many_paths": 1, "t1_4_tests_forward": 1, "t1_4_tests_backward": 2,
        "t1_5_tests_sigmoid_sym": 1, "t1_5_tests_tanh_sym": 1, "t1_5_tests_code": 1,
        "t1_9_tests_public": 1, "t1_9_tests_hidden": 2}
"""Every automatically graded cell of ps1 and its points."""

# ---------------------------------------------------------------- Task 1.1 (numbers)
T11_PLAIN = '''w, x, b, t = q1["w"], q1["x"], q1["b"], q1["t"]
z = w * x + b
y = x + math.tanh(z)
dL_dL = 1.0
dL_dy = y - t
dL_dz = dL_dy * (1 - math.tanh(z) ** 2)
dL_dw = dL_dz * x
dL_db = dL_dz
dL_dx = dL_dy + dL_dz * w
'''
T11_VERBOSE = '''# forward pass first, then walk the graph backwards
zz = q1["w"] * q1["x"] + q1["b"]
yy = q1["x"] + np.tanh(zz)
print("z =", zz, "y =", yy)
dL_dL = 1.0
dL_dy = float(yy - q1["t"])            # d/dy of 1/2 (y - t)^2
dL_dz = dL_dy * (1.0 / np.cosh(zz) ** 2)   # tanh' = sech^2
dL_dw = dL_dz * q1["x"]
dL_db = dL_dz * 1.0
# x has two outgoing edges: directly into y, and through z
dL_dx = dL_dy * 1.0 + dL_dz * q1["w"]
print(dL_dL, dL_dy, dL_dz, dL_dw, dL_db, dL_dx)
'''
T11_FROM_FUNCTION = '''def _partials(w, x, b, t):
    z = w * x + b
    th = math.tanh(z)
    gy = x + th - t
    gz = gy * (1 - th * th)
    return 1.0, gy, gz, gz * x, gz, gy + gz * w


dL_dL, dL_dy, dL_dz, dL_dw, dL_db, dL_dx = _partials(q1["w"], q1["x"], q1["b"], q1["t"])
'''

# ---------------------------------------------------------------- Task 1.2 (q1_backward)
T12_PLAIN = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    z = w * x + b
    y = x + math.tanh(z)
    dy = y - t
    dz = dy * (1.0 - math.tanh(z) ** 2)
    return {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy + dz * w}
'''
T12_USES_FORWARD = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    nodes = q1_forward(w, x, b, t)
    grad = {}
    grad["L"] = 1.0
    grad["y"] = grad["L"] * (nodes["y"] - t)
    local_tanh = 1.0 - math.tanh(nodes["z"]) ** 2
    grad["z"] = grad["y"] * local_tanh
    grad["w"] = grad["z"] * x
    grad["b"] = grad["z"]
    grad["x"] = grad["y"] + grad["z"] * w   # two paths into x
    return grad
'''
T12_NUMPY = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    z = np.float64(w) * x + b
    a = np.tanh(z)
    d_y = (x + a) - t
    d_z = d_y * (1 - a) * (1 + a)
    out = dict(L=1.0, y=d_y, z=d_z, w=d_z * x, b=d_z, x=d_y + w * d_z)
    return {k: float(v) for k, v in out.items()}
'''

# ---------------------------------------------------------------- Task 1.3 (net3 numbers)
T13_PLAIN = '''f = net3_forward(P3, x3)
a1, a2 = f["a1"], f["a2"]
d3 = f["a3"][0, 0] - t3
# W2_12 feeds z2_1 only: C <- z3 <- a2_1 <- z2_1 <- W2_12
dC_dW2_12 = float(d3 * P3["w3"][0, 0] * a2[0, 0] * (1 - a2[0, 0]) * a1[1, 0])
n_paths_W1_23 = 2
total = 0.0
for i in range(2):
    total += d3 * P3["w3"][0, i] * a2[i, 0] * (1 - a2[i, 0]) * P3["W2"][i, 1]
dC_dW1_23 = float(total * a1[1, 0] * (1 - a1[1, 0]) * x3[2, 0])
'''
T13_VECTOR = '''fwd = net3_forward(P3, x3)
delta3 = fwd["a3"] - t3                                        # (1, 1)
delta2 = (P3["w3"].T @ delta3) * fwd["a2"] * (1 - fwd["a2"])    # (2, 1)
delta1 = (P3["W2"].T @ delta2) * fwd["a1"] * (1 - fwd["a1"])    # (3, 1)
dC_dW2_12 = float(delta2[0, 0] * fwd["a1"][1, 0])
n_paths_W1_23 = int(P3["W2"].shape[0])   # one path through each unit of layer 2
dC_dW1_23 = float(delta1[1, 0] * x3[2, 0])
'''

# ---------------------------------------------------------------- Task 1.4 (q3 net)
T14_PLAIN = '''def q3_forward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """Forward pass of the bias-free 2-2-2-1 net. x: (2,), w: (10,). Returns every node as a float."""
    x1, x2 = float(x[0]), float(x[1])
    m1 = w[0] * x1 + w[1] * x2
    m2 = w[2] * x1 + w[3] * x2
    h1, h2 = max(m1, 0.0), max(m2, 0.0)
    m3 = w[4] * h1 + w[5] * h2
    m4 = w[6] * h1 + w[7] * h2
    h3, h4 = max(m3, 0.0), max(m4, 0.0)
    z = w[8] * h3 + w[9] * h4
    y = 1.0 / (1.0 + math.exp(-z))
    if loss == "binary_cross_entropy":
        L = -t * math.log(y) - (1 - t) * math.log(1 - y)
    else:
        L = 0.5 * (y - t) ** 2
    out = dict(m1=m1, h1=h1, m2=m2, h2=h2, m3=m3, h3=h3, m4=m4, h4=h4, z=z, y=y, L=L)
    return {k: float(v) for k, v in out.items()}


def q3_backward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """dL/d(node) for every node of q3_forward plus "w1".."w10", as floats."""
    n = q3_forward(x, w, t, loss)
    y = n["y"]
    g = {"L": 1.0}
    if loss == "binary_cross_entropy":
        g["y"] = -t / y + (1 - t) / (1 - y)
    else:
        g["y"] = y - t
    g["z"] = g["y"] * y * (1 - y)
    g["h3"] = g["z"] * w[8]
    g["h4"] = g["z"] * w[9]
    g["m3"] = g["h3"] * (n["m3"] > 0)
    g["m4"] = g["h4"] * (n["m4"] > 0)
    g["h1"] = g["m3"] * w[4] + g["m4"] * w[6]
    g["h2"] = g["m3"] * w[5] + g["m4"] * w[7]
    g["m1"] = g["h1"] * (n["m1"] > 0)
    g["m2"] = g["h2"] * (n["m2"] > 0)
    g["w1"], g["w2"] = g["m1"] * x[0], g["m1"] * x[1]
    g["w3"], g["w4"] = g["m2"] * x[0], g["m2"] * x[1]
    g["w5"], g["w6"] = g["m3"] * n["h1"], g["m3"] * n["h2"]
    g["w7"], g["w8"] = g["m4"] * n["h1"], g["m4"] * n["h2"]
    g["w9"], g["w10"] = g["z"] * n["h3"], g["z"] * n["h4"]
    return {k: float(v) for k, v in g.items()}
'''
T14_HELPERS = '''def relu(v):
    return v if v > 0 else 0.0


def relu_grad(v):
    return 1.0 if v > 0 else 0.0


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def q3_forward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """Forward pass of the bias-free 2-2-2-1 net. x: (2,), w: (10,). Returns every node as a float."""
    W = [None] + [float(v) for v in w]   # 1-based like the notes
    node = {}
    node["m1"] = W[1] * x[0] + W[2] * x[1]
    node["m2"] = W[3] * x[0] + W[4] * x[1]
    node["h1"], node["h2"] = relu(node["m1"]), relu(node["m2"])
    node["m3"] = W[5] * node["h1"] + W[6] * node["h2"]
    node["m4"] = W[7] * node["h1"] + W[8] * node["h2"]
    node["h3"], node["h4"] = relu(node["m3"]), relu(node["m4"])
    node["z"] = W[9] * node["h3"] + W[10] * node["h4"]
    node["y"] = sig(node["z"])
    if loss == "half_squared_error":
        node["L"] = 0.5 * (node["y"] - t) ** 2
    else:
        node["L"] = -(t * math.log(node["y"]) + (1 - t) * math.log(1 - node["y"]))
    return {k: float(v) for k, v in node.items()}


def q3_backward(x: np.ndarray, w: np.ndarray, t: float, loss: str = "binary_cross_entropy") -> dict[str, float]:
    """dL/d(node) for every node of q3_forward plus "w1".."w10", as floats."""
    W = [None] + [float(v) for v in w]
    n = q3_forward(x, w, t, loss)
    d = {"L": 1.0}
    if loss == "half_squared_error":
        d["z"] = (n["y"] - t) * n["y"] * (1 - n["y"])
        d["y"] = n["y"] - t
    else:
        d["z"] = n["y"] - t          # sigmoid + cross-entropy simplify
        d["y"] = d["z"] / (n["y"] * (1 - n["y"]))
    d["h3"], d["h4"] = d["z"] * W[9], d["z"] * W[10]
    d["m3"], d["m4"] = d["h3"] * relu_grad(n["m3"]), d["h4"] * relu_grad(n["m4"])
    d["h1"] = d["m3"] * W[5] + d["m4"] * W[7]
    d["h2"] = d["m3"] * W[6] + d["m4"] * W[8]
    d["m1"], d["m2"] = d["h1"] * relu_grad(n["m1"]), d["h2"] * relu_grad(n["m2"])
    inputs = {1: x[0], 2: x[1], 3: x[0], 4: x[1], 5: n["h1"], 6: n["h2"], 7: n["h1"], 8: n["h2"],
              9: n["h3"], 10: n["h4"]}
    feeds = {1: "m1", 2: "m1", 3: "m2", 4: "m2", 5: "m3", 6: "m3", 7: "m4", 8: "m4", 9: "z", 10: "z"}
    for i in range(1, 11):
        d[f"w{i}"] = d[feeds[i]] * inputs[i]
    return {k: float(v) for k, v in d.items()}
'''

# ---------------------------------------------------------------- Task 1.5 (sigma', tanh')
T15_PLAIN = '''sigmoid_prime_in_s = s * (1 - s)
tanh_prime_in_r = 4 * r * (1 - r)


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the logistic function, elementwise; same shape as z."""
    a = 1.0 / (1.0 + np.exp(-z))
    return a * (1.0 - a)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of tanh, elementwise; same shape as z."""
    return 1.0 - np.tanh(z) ** 2
'''
T15_DERIVED = '''# let SymPy do the differentiation, then substitute the function's own value
_sig = 1 / (1 + sp.exp(-zsym))
_d = sp.diff(_sig, zsym)
print(sp.simplify(_d - _sig * (1 - _sig)))   # 0, so sigma' = s (1 - s)
sigmoid_prime_in_s = s - s**2
tanh_prime_in_r = 4 * r - 4 * r**2   # tanh(z) = 2 sigma(2z) - 1, chain rule gives 2 * 2


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the logistic function, elementwise; same shape as z."""
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of tanh, elementwise; same shape as z."""
    return 1.0 / np.cosh(z) ** 2
'''
T15_SYMPIFY = '''sigmoid_prime_in_s = sp.sympify("s*(1 - s)")
tanh_prime_in_r = sp.sympify("4*r*(1 - r)")


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the logistic function, elementwise; same shape as z."""
    s_ = 0.5 * (1 + np.tanh(z / 2))
    return s_ * (1 - s_)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of tanh, elementwise; same shape as z."""
    th = np.tanh(z)
    return (1 - th) * (1 + th)
'''

# ---------------------------------------------------------------- Task 1.9 (loops)
T19_PLAIN = '''def backward_loops(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, unit by unit with loops.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    fw = q2_forward(x, params)
    W1, W2 = params["W1"], params["W2"]
    H, D = W1.shape
    C = W2.shape[0]
    dz2 = np.zeros((C, 1))
    dW2 = np.zeros((C, H))
    db2 = np.zeros((C, 1))
    for k in range(C):
        dz2[k, 0] = fw["a2"][k, 0] - t[k, 0]
        db2[k, 0] = dz2[k, 0]
        for j in range(H):
            dW2[k, j] = dz2[k, 0] * fw["a1"][j, 0]
    da1 = np.zeros((H, 1))
    dz1 = np.zeros((H, 1))
    dW1 = np.zeros((H, D))
    db1 = np.zeros((H, 1))
    for j in range(H):
        s = 0.0
        for k in range(C):
            s += W2[k, j] * dz2[k, 0]
        da1[j, 0] = s
        dz1[j, 0] = s if fw["z1"][j, 0] > 0 else 0.0
        db1[j, 0] = dz1[j, 0]
        for i in range(D):
            dW1[j, i] = dz1[j, 0] * x[i, 0]
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "z2": dz2, "a1": da1, "z1": dz1}
'''
T19_INDEXED = '''def backward_loops(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy for one example, unit by unit with loops.

    x: (D, 1), t: (C, 1); params W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1).
    Returns "W1", "b1", "W2", "b2" (shapes of the parameters), "z2" (C, 1), "a1", "z1" (H, 1).
    """
    out = q2_forward(x, params)
    n_hidden, n_in = params["W1"].shape
    n_out = params["W2"].shape[0]
    grads = {name: np.zeros(arr.shape) for name, arr in params.items()}
    grads["z2"] = np.zeros((n_out, 1))
    grads["a1"] = np.zeros((n_hidden, 1))
    grads["z1"] = np.zeros((n_hidden, 1))
    # output layer: softmax + cross-entropy gives a - t
    for k in range(n_out):
        grads["z2"][k] = out["a2"][k] - t[k]
    for k in range(n_out):
        grads["b2"][k] = grads["z2"][k]
        for j in range(n_hidden):
            grads["W2"][k, j] = grads["z2"][k, 0] * out["a1"][j, 0]
    # hidden layer
    for j in range(n_hidden):
        grads["a1"][j] = sum(params["W2"][k, j] * grads["z2"][k, 0] for k in range(n_out))
        relu_slope = 1.0 if out["z1"][j, 0] > 0 else 0.0
        grads["z1"][j] = grads["a1"][j] * relu_slope
        grads["b1"][j] = grads["z1"][j]
        for i in range(n_in):
            grads["W1"][j, i] = grads["z1"][j, 0] * x[i, 0]
    return grads
'''

WRITTEN = {
    "t1_6_written": "Because w3 and w4 reach the loss only through h2: dL/dw3 = dL/dh2 * ... so we "
                    "need dL/dh2 on the way down even though h2 is not learned.",
    "t1_7_written": "Both share dC/dz3 and the derivative of a2; backprop stores dL/dz of each "
                    "layer once and reuses it for every weight below (dynamic programming).",
    "t1_8_written": "log a_k = z_k - log sum exp z; differentiate and use sum t = 1.",
}

BASE = {"t1_1_answer": T11_PLAIN, "t1_2_answer": T12_PLAIN, "t1_3_answer": T13_PLAIN,
        "t1_4_answer": T14_PLAIN, "t1_5_answer": T15_PLAIN, "t1_9_answer": T19_PLAIN}
"""One student's complete, correct work; the single-bug submissions below change one cell."""

# ---------------------------------------------------------------- buggy cells
BUG_T11_MISSING_DIRECT_PATH = T11_PLAIN.replace("dL_dx = dL_dy + dL_dz * w", "dL_dx = dL_dz * w")
BUG_T11_FACTOR_2 = T11_PLAIN.replace("dL_dy = y - t", "dL_dy = 2 * (y - t)")
BUG_T12_AT_ACTIVATION = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    fw = q1_forward(w, x, b, t)
    dy = fw["y"] - t
    a = math.tanh(fw["z"])
    dz = dy * (1.0 - math.tanh(a) ** 2)    # tanh' at the node value
    return {"L": 1.0, "y": dy, "z": dz, "w": dz * x, "b": dz, "x": dy + dz * w}
'''
BUG_T12_FINITE_DIFF = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    h = 1e-6
    L = lambda **kw: q1_forward(**{**dict(w=w, x=x, b=b, t=t), **kw})["L"]  # noqa: E731
    g = {"L": 1.0}
    for name, val in (("w", w), ("x", x), ("b", b)):
        g[name] = (L(**{name: val + h}) - L(**{name: val - h})) / (2 * h)
    z = w * x + b
    y = x + math.tanh(z)
    g["y"] = (0.5 * (y + h - t) ** 2 - 0.5 * (y - h - t) ** 2) / (2 * h)
    g["z"] = (0.5 * (x + math.tanh(z + h) - t) ** 2 - 0.5 * (x + math.tanh(z - h) - t) ** 2) / (2 * h)
    return g
'''
BUG_T12_NOTEBOOK_FD = '''def q1_backward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """All partials dL/d(node) of the Q1 graph: keys "L", "y", "z", "w", "b", "x" (floats)."""
    v = np.array([w, x, b, t], dtype=np.float64)
    fd = check.numerical_gradient(lambda: q1_forward(*v)["L"], v)
    z = np.array([w * x + b])
    dz = check.numerical_gradient(lambda: 0.5 * (x + math.tanh(z[0]) - t) ** 2, z)
    y = np.array([q1_forward(w, x, b, t)["y"]])
    dy = check.numerical_gradient(lambda: 0.5 * (y[0] - t) ** 2, y)
    return {"L": 1.0, "y": float(dy[0]), "z": float(dz[0]), "w": float(fd[0]), "x": float(fd[1]),
            "b": float(fd[2])}
'''
BUG_T13_ONE_PATH_ONLY = T13_PLAIN.replace("for i in range(2):", "for i in range(1):").replace(
    "n_paths_W1_23 = 2", "n_paths_W1_23 = 1")
BUG_T14_SQUARE_NO_HALF = T14_PLAIN.replace("L = 0.5 * (y - t) ** 2", "L = (y - t) ** 2")
BUG_T14_BCE_T0 = T14_PLAIN.replace("g[\"y\"] = -t / y + (1 - t) / (1 - y)", "g[\"y\"] = -t / y")
BUG_T14_NO_RELU_MASK = T14_PLAIN.replace('g["m3"] = g["h3"] * (n["m3"] > 0)', 'g["m3"] = g["h3"]') \
    .replace('g["m4"] = g["h4"] * (n["m4"] > 0)', 'g["m4"] = g["h4"]') \
    .replace('g["m1"] = g["h1"] * (n["m1"] > 0)', 'g["m1"] = g["h1"]') \
    .replace('g["m2"] = g["h2"] * (n["m2"] > 0)', 'g["m2"] = g["h2"]')
BUG_T14_FACTOR_2_SQUARE = T14_PLAIN.replace('g["y"] = y - t', 'g["y"] = 2 * (y - t)')
BUG_T15_IN_TERMS_OF_Z = T15_PLAIN.replace("sigmoid_prime_in_s = s * (1 - s)",
                                          "sigmoid_prime_in_s = sp.exp(-zsym) / (1 + sp.exp(-zsym)) ** 2")
BUG_T15_TANH_NO_CHAIN = T15_PLAIN.replace("tanh_prime_in_r = 4 * r * (1 - r)",
                                          "tanh_prime_in_r = 2 * r * (1 - r)")
BUG_T15_CODE_AT_ACTIVATION = T15_PLAIN.replace("return 1.0 - np.tanh(z) ** 2",
                                               "return 1.0 - z ** 2")
BUG_T19_MUTATES_T = T19_PLAIN.replace(
    '''    for k in range(C):
        dz2[k, 0] = fw["a2"][k, 0] - t[k, 0]''',
    '''    t -= fw["a2"]          # t becomes t - a
    for k in range(C):
        dz2[k, 0] = -t[k, 0]''')
BUG_T19_W_NOT_TRANSPOSED = T19_PLAIN.replace("s += W2[k, j] * dz2[k, 0]", "s += W2[j, k] * dz2[k, 0]")
BUG_T19_LAST_INPUT_SKIPPED = T19_PLAIN.replace("for i in range(D):", "for i in range(D - 1):")
BUG_T19_NO_RELU = T19_PLAIN.replace("dz1[j, 0] = s if fw[\"z1\"][j, 0] > 0 else 0.0",
                                    "dz1[j, 0] = s")
BUG_T19_DW2_FROM_Z1 = T19_PLAIN.replace('dW2[k, j] = dz2[k, 0] * fw["a1"][j, 0]',
                                        'dW2[k, j] = dz2[k, 0] * fw["z1"][j, 0]')

L19 = {"t1_9_tests_public": 1, "t1_9_tests_hidden": 2}

SUBMISSIONS: dict[str, Submission] = {
    # ---------------------------------------------------------- correct work, several styles
    "ps1_plain": correct({**BASE, **WRITTEN}, "straight from the notes"),
    "ps1_verbose_prints": correct(with_cell(BASE, t1_1_answer=T11_VERBOSE,
                                            t1_2_answer=T12_USES_FORWARD),
                                  "comments and prints everywhere"),
    "ps1_helpers": correct(with_cell(BASE, t1_1_answer=T11_FROM_FUNCTION, t1_4_answer=T14_HELPERS),
                           "helper functions, 1-based weight list, a loop over w1..w10"),
    "ps1_matrix_part_b": correct(with_cell(BASE, t1_3_answer=T13_VECTOR, t1_2_answer=T12_NUMPY),
                                 "Part B with deltas as columns, numpy scalars"),
    "ps1_sympy_derived": correct(with_cell(BASE, t1_5_answer=T15_DERIVED),
                                 "expanded SymPy forms, stable sigmoid'"),
    "ps1_sympify": correct(with_cell(BASE, t1_5_answer=T15_SYMPIFY, t1_9_answer=T19_INDEXED),
                           "SymPy answers from sympify strings (issue 8, category 8)"),
    "ps1_extra_cells": correct(
        with_cell(BASE, t1_4_answer=T14_HELPERS, t1_9_answer=T19_INDEXED),
        "scratch cells of the student's own",
        extra={"t1_2_answer": ["print(q1_backward(0.5, -1.0, 0.2, 0.3))"],
               "t1_9_answer": ["_xx, _tt, _pp = q2_example(np.random.default_rng(5))\n"
                               "for _k, _v in backward_loops(_xx, _tt, _pp).items():\n"
                               "    print(_k, _v.ravel())",
                               "scratch = {k: v.copy() for k, v in _pp.items()}\nlen(scratch)"]}),
    "ps1_mixed": correct(with_cell(BASE, t1_1_answer=T11_VERBOSE, t1_3_answer=T13_VECTOR,
                                   t1_4_answer=T14_HELPERS, t1_5_answer=T15_DERIVED,
                                   t1_9_answer=T19_INDEXED), "every alternative at once"),
    # ---------------------------------------------------------- one bug each
    "ps1_t11_missing_direct_path": bug(
        with_cell(BASE, t1_1_answer=BUG_T11_MISSING_DIRECT_PATH), {"t1_1_tests_leaves": 1},
        "missing_path", "4 wrong values", "dL/dx forgets the direct edge x -> y"),
    "ps1_t11_factor_2": bug(
        with_cell(BASE, t1_1_answer=BUG_T11_FACTOR_2),
        {"t1_1_tests_top": 1, "t1_1_tests_leaves": 1}, "factor_2", "4 factor 2",
        "d/dy of (y - t)^2 / 2 taken as 2 (y - t)"),
    "ps1_t12_tanh_at_activation": bug(
        with_cell(BASE, t1_2_answer=BUG_T12_AT_ACTIVATION), {"t1_2_tests": 2},
        "derivative_at_activation", "4 sigma' at a", "tanh' evaluated at tanh(z)"),
    "ps1_t12_finite_differences": bug(
        with_cell(BASE, t1_2_answer=BUG_T12_FINITE_DIFF), {"t1_2_tests": 2},
        "finite_differences", "3 finite differences", "central differences instead of the chain rule"),
    "ps1_t12_notebook_fd_helper": bug(
        with_cell(BASE, t1_2_answer=BUG_T12_NOTEBOOK_FD), {"t1_2_tests": 2},
        "finite_differences", "3 finite differences", "calls check.numerical_gradient"),
    "ps1_t13_one_path": bug(
        with_cell(BASE, t1_3_answer=BUG_T13_ONE_PATH_ONLY), {"t1_3_tests_many_paths": 1},
        "missing_path", "4 wrong values", "counts one path and sums one path for W1_23"),
    "ps1_t14_forward_no_half": bug(
        with_cell(BASE, t1_4_answer=BUG_T14_SQUARE_NO_HALF), {"t1_4_tests_forward": 1}, None,
        "5 cascade", "forward loss without 1/2; the backward (right) is judged on its own",
        cascade=True),
    "ps1_t14_bce_no_t0_branch": bug(
        with_cell(BASE, t1_4_answer=BUG_T14_BCE_T0), {"t1_4_tests_backward": 2},
        "output_gradient", "1 branch of the loss", "dL/dy misses the (1 - t) / (1 - y) term"),
    "ps1_t14_no_relu_mask": bug(
        with_cell(BASE, t1_4_answer=BUG_T14_NO_RELU_MASK), {"t1_4_tests_backward": 2},
        "missing_activation_derivative", "4 missing derivative", "ReLU' dropped"),
    "ps1_t14_factor_2_square": bug(
        with_cell(BASE, t1_4_answer=BUG_T14_FACTOR_2_SQUARE), {"t1_4_tests_backward": 2},
        "factor_2", "4 factor 2", "half squared error differentiated as 2 (y - t)"),
    "ps1_t15_sigmoid_in_z": bug(
        with_cell(BASE, t1_5_answer=BUG_T15_IN_TERMS_OF_Z), {"t1_5_tests_sigmoid_sym": 1},
        "wrong_symbols", "4 SymPy form", "right derivative, written in z instead of s"),
    "ps1_t15_tanh_no_chain_factor": bug(
        with_cell(BASE, t1_5_answer=BUG_T15_TANH_NO_CHAIN), {"t1_5_tests_tanh_sym": 1},
        "expression_factor", "4 SymPy factor", "forgets the inner derivative 2 of sigma(2z)"),
    "ps1_t15_tanh_prime_of_value": bug(
        with_cell(BASE, t1_5_answer=BUG_T15_CODE_AT_ACTIVATION), {"t1_5_tests_code": 1},
        None, "4 sigma' at a", "tanh_prime uses 1 - z^2 as if z were tanh(z)"),
    "ps1_t19_writes_into_t": bug(
        with_cell(BASE, t1_9_answer=BUG_T19_MUTATES_T), L19, "input_modified", "2 side effects",
        "subtracts a from t in place"),
    "ps1_t19_w_not_transposed": bug(
        with_cell(BASE, t1_9_answer=BUG_T19_W_NOT_TRANSPOSED), L19, "w_not_transposed",
        "4 W not transposed", "W2[j, k] instead of W2[k, j] (IndexError when H != C)"),
    "ps1_t19_last_input_skipped": bug(
        with_cell(BASE, t1_9_answer=BUG_T19_LAST_INPUT_SKIPPED), L19, "one_slice_wrong",
        "4 one slice", "off-by-one loop: last column of dW1 stays 0"),
    "ps1_t19_no_relu": bug(
        with_cell(BASE, t1_9_answer=BUG_T19_NO_RELU), L19, "missing_activation_derivative",
        "4 missing derivative", "ReLU mask forgotten in the hidden layer"),
    "ps1_t19_dw2_from_z1": bug(
        with_cell(BASE, t1_9_answer=BUG_T19_DW2_FROM_Z1), L19, "one_tensor_wrong",
        "4 one tensor", "dW2 uses z1 instead of a1; every other tensor right"),
    # ---------------------------------------------------------- blanks and partial work
    "ps1_blank": Submission(cells={}, lose=dict(AUTO), kind="blank"),
    "ps1_only_written": Submission(cells=dict(WRITTEN), lose=dict(AUTO), kind="blank",
                                   note="wrote the essays, no code"),
    "ps1_parts_a_b": Submission(
        cells={k: BASE[k] for k in ("t1_1_answer", "t1_2_answer", "t1_3_answer")},
        lose={g: p for g, p in AUTO.items() if g.split("_")[1] in ("4", "5", "9")},
        kind="partial", note="stopped after Part B"),
    "ps1_no_loops_yet": Submission(
        cells={k: v for k, v in BASE.items() if k != "t1_9_answer"}, lose=dict(L19),
        kind="partial", note="everything but Task 1.9"),
}
