# ruff: noqa: E501 - the students' code keeps their own line lengths
"""Problem set 4 as different students wrote it (shared weights and skip connections)."""

from __future__ import annotations

from tests.integration.corpus_students.common import Submission, bug, correct, with_cell

AUTO = {"t4_1_tests_a1": 1, "t4_1_tests_a2": 1, "t4_1_tests_shapes": 1, "t4_2_tests_dz": 1,
        "t4_2_tests_dW1": 1, "t4_3_tests_public": 1, "t4_3_tests_head": 1,
        "t4_3_tests_shared": 2, "t4_4_tests": 1, "t4_5_tests": 1, "t4_6_tests_public": 1,
        "t4_6_tests_upper": 1, "t4_6_tests_lower": 1, "t4_6_tests_x": 2}
"""Every automatically graded cell of ps4 and its points."""

T41 = '''mc_grad_h_a = "B"
mc_grad_W1_twin = "B"
D, H = 4, 3
twin_shapes = {"z": (1, 1), "W2": (1, H), "b2": (1, 1), "h": (H, 1), "h_a": (H, 1),
               "m_a": (H, 1), "W1": (H, D), "b1": (H, 1)}
'''
T41_LITERAL = '''mc_grad_h_a, mc_grad_W1_twin = "B", "B"
twin_shapes = dict(z=(1, 1), W2=(1, 3), b2=(1, 1), h=(3, 1), h_a=(3, 1), m_a=(3, 1), W1=(3, 4), b1=(3, 1))
'''

T42_PLAIN = '''f = twin_forward(xa_mine, xb_mine, P_mine)
my_dz = float(f["y"][0, 0] - t_mine)
dh = P_mine["W2"].T * my_dz
dm_a = dh * f["h_b"] * (f["m_a"] > 0)
dm_b = dh * f["h_a"] * (f["m_b"] > 0)
my_dW1 = dm_a @ xa_mine.T + dm_b @ xb_mine.T
print(my_dz, my_dW1)
'''
T42_OUTER = '''fw_mine = twin_forward(xa_mine, xb_mine, P_mine)
y_mine = 1 / (1 + np.exp(-fw_mine["z"][0, 0]))
my_dz = y_mine - t_mine
# both branches use W1: add their contributions
branch_a = np.outer(my_dz * P_mine["W2"][0] * fw_mine["h_b"][:, 0], xa_mine[:, 0])
branch_b = np.outer(my_dz * P_mine["W2"][0] * fw_mine["h_a"][:, 0], xb_mine[:, 0])
my_dW1 = branch_a + branch_b    # every unit is active for both inputs here
'''

T43_PLAIN = '''def twin_backward(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the twin loss for inputs xa, xb (D, 1) and target t.

    Returns "z", "b2" (1, 1), "W2" (1, H), "h", "h_a", "h_b", "m_a", "m_b", "b1" (H, 1), "W1" (H, D).
    """
    f = twin_forward(xa, xb, params)
    dz = f["y"] - t
    dW2 = dz @ f["h"].T
    db2 = dz.copy()
    dh = params["W2"].T @ dz
    dh_a = dh * f["h_b"]
    dh_b = dh * f["h_a"]
    dm_a = dh_a * (f["m_a"] > 0)
    dm_b = dh_b * (f["m_b"] > 0)
    dW1 = dm_a @ xa.T + dm_b @ xb.T
    db1 = dm_a + dm_b
    return {"z": dz, "W2": dW2, "b2": db2, "h": dh, "h_a": dh_a, "h_b": dh_b, "m_a": dm_a,
            "m_b": dm_b, "W1": dW1, "b1": db1}
'''
T43_EINSUM = '''def twin_backward(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the twin loss for inputs xa, xb (D, 1) and target t.

    Returns "z", "b2" (1, 1), "W2" (1, H), "h", "h_a", "h_b", "m_a", "m_b", "b1" (H, 1), "W1" (H, D).
    """
    fw = twin_forward(xa, xb, params)
    g = {"z": fw["y"] - t}
    g["W2"] = np.einsum("ij,hj->ih", g["z"], fw["h"])
    g["b2"] = g["z"] * 1.0
    g["h"] = np.einsum("ih,ij->hj", params["W2"], g["z"])
    g["h_a"], g["h_b"] = g["h"] * fw["h_b"], g["h"] * fw["h_a"]
    g["m_a"] = np.where(fw["m_a"] > 0, g["h_a"], 0.0)
    g["m_b"] = np.where(fw["m_b"] > 0, g["h_b"], 0.0)
    g["W1"] = np.einsum("hi,di->hd", g["m_a"], xa) + np.einsum("hi,di->hd", g["m_b"], xb)
    g["b1"] = g["m_a"] + g["m_b"]
    return g
'''
T43_HELPERS = '''def relu_backward(dh: np.ndarray, m: np.ndarray) -> np.ndarray:
    """dL/dm from dL/dh for h = ReLU(m)."""
    return dh * (m > 0).astype(np.float64)


def affine_backward(dm: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dW, db) of m = W x + b for one column x."""
    return np.outer(dm, x), dm.copy()


def twin_backward(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the twin loss for inputs xa, xb (D, 1) and target t.

    Returns "z", "b2" (1, 1), "W2" (1, H), "h", "h_a", "h_b", "m_a", "m_b", "b1" (H, 1), "W1" (H, D).
    """
    nodes = twin_forward(xa, xb, params)
    out = {}
    out["z"] = nodes["y"] - t
    out["W2"], out["b2"] = affine_backward(out["z"], nodes["h"])
    out["h"] = np.dot(params["W2"].T, out["z"])
    out["h_a"] = out["h"] * nodes["h_b"]      # product rule: the other factor
    out["h_b"] = out["h"] * nodes["h_a"]
    out["m_a"] = relu_backward(out["h_a"], nodes["m_a"])
    out["m_b"] = relu_backward(out["h_b"], nodes["m_b"])
    dW_a, db_a = affine_backward(out["m_a"], xa)
    dW_b, db_b = affine_backward(out["m_b"], xb)
    out["W1"], out["b1"] = dW_a + dW_b, db_a + db_b   # shared weights: sum over both uses
    return out
'''

T44 = "dy_dx = w2_s * w1_s * sigma(w1_s * x_s) * (1 - sigma(w1_s * x_s)) + ws_s\n"
T44_DIFF = '''y_expr = w2_s * sigma(w1_s * x_s) + ws_s * x_s
dy_dx = sp.diff(y_expr, x_s)
print(dy_dx)
'''
T44_SYMPIFY = 'dy_dx = sp.sympify("w2*w1*exp(-w1*x)/(1 + exp(-w1*x))**2 + ws")\n'
T45 = 'mc_grad_x_skip = "C"\n'

T46_PLAIN = '''def skip_backward(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the skip network's loss for x (D, 1), one-hot t (C, 1).

    Returns every parameter's gradient (its shape), "z3" (C, 1), "h2", "z2", "zs" (H2, 1),
    "h1", "z1" (H1, 1) and "x" (D, 1).
    """
    f = skip_forward(x, params)
    dz3 = f["y"] - t
    dW3 = dz3 @ f["h2"].T
    db3 = dz3
    dh2 = params["W3"].T @ dz3
    dz2 = dh2 * (f["z2"] > 0)
    dzs = dh2
    dWs = dzs @ x.T
    dW2 = dz2 @ f["h1"].T
    db2 = dz2
    dh1 = params["W2"].T @ dz2
    dz1 = dh1 * f["h1"] * (1 - f["h1"])
    dW1 = dz1 @ x.T
    db1 = dz1
    dx = params["W1"].T @ dz1 + params["Ws"].T @ dzs
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "Ws": dWs, "W3": dW3, "b3": db3,
            "z3": dz3, "h2": dh2, "z2": dz2, "zs": dzs, "h1": dh1, "z1": dz1, "x": dx}
'''
T46_EINSUM = '''def skip_backward(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the skip network's loss for x (D, 1), one-hot t (C, 1).

    Returns every parameter's gradient (its shape), "z3" (C, 1), "h2", "z2", "zs" (H2, 1),
    "h1", "z1" (H1, 1) and "x" (D, 1).
    """
    n = skip_forward(x, params)
    g = {}
    g["z3"] = n["y"] - t
    g["W3"] = np.einsum("ci,hi->ch", g["z3"], n["h2"])
    g["b3"] = g["z3"].copy()
    g["h2"] = np.einsum("ch,ci->hi", params["W3"], g["z3"])
    g["zs"] = g["h2"]                                  # h2 = relu(z2) + zs
    g["z2"] = g["h2"] * np.heaviside(n["z2"], 0.0)
    g["Ws"] = np.einsum("hi,di->hd", g["zs"], x)
    g["W2"] = np.einsum("hi,ki->hk", g["z2"], n["h1"])
    g["b2"] = g["z2"].copy()
    g["h1"] = np.einsum("hk,hi->ki", params["W2"], g["z2"])
    g["z1"] = g["h1"] * n["h1"] * (1 - n["h1"])
    g["W1"] = np.einsum("ki,di->kd", g["z1"], x)
    g["b1"] = g["z1"].copy()
    g["x"] = np.einsum("kd,ki->di", params["W1"], g["z1"]) + np.einsum("hd,hi->di", params["Ws"], g["zs"])
    return g
'''
T46_DOT = '''def skip_backward(x: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the skip network's loss for x (D, 1), one-hot t (C, 1).

    Returns every parameter's gradient (its shape), "z3" (C, 1), "h2", "z2", "zs" (H2, 1),
    "h1", "z1" (H1, 1) and "x" (D, 1).
    """
    W1, W2, Ws, W3 = (params[k] for k in ("W1", "W2", "Ws", "W3"))
    fwd = skip_forward(x, params)
    delta3 = fwd["y"] - t
    print("loss here:", skip_loss(x, t, params))
    grad_h2 = np.dot(W3.T, delta3)
    delta2 = np.where(fwd["z2"] > 0, grad_h2, 0)
    grad_h1 = np.dot(W2.T, delta2)
    sig_slope = fwd["h1"] - fwd["h1"] ** 2
    delta1 = grad_h1 * sig_slope
    through_layer1 = np.dot(W1.T, delta1)
    through_skip = np.dot(Ws.T, grad_h2)
    return dict(W3=np.outer(delta3, fwd["h2"]), b3=delta3, z3=delta3, h2=grad_h2, z2=delta2,
                zs=grad_h2, Ws=np.outer(grad_h2, x), W2=np.outer(delta2, fwd["h1"]), b2=delta2,
                h1=grad_h1, z1=delta1, W1=np.outer(delta1, x), b1=delta1,
                x=through_layer1 + through_skip)
'''

WRITTEN = {"t4_7_written": "W1 is used twice; the loss depends on it along both branches, so the "
                           "gradient is the sum. With one branch she follows the wrong direction.",
           "t4_8_written": "Without the skip the gradient reaching x vanishes; the skip path adds "
                           "Ws^T dzs which does not go through the saturated units."}

BASE = {"t4_1_answer": T41, "t4_2_answer": T42_PLAIN, "t4_3_answer": T43_PLAIN,
        "t4_4_answer": T44, "t4_5_answer": T45, "t4_6_answer": T46_PLAIN}

# ---------------------------------------------------------------- buggy cells
L43_SHARED = {"t4_3_tests_public": 1, "t4_3_tests_shared": 2}
L43_ALL = {"t4_3_tests_public": 1, "t4_3_tests_head": 1, "t4_3_tests_shared": 2}
L46_ALL = {"t4_6_tests_public": 1, "t4_6_tests_upper": 1, "t4_6_tests_lower": 1, "t4_6_tests_x": 2}

BUG_MY_DW1_ONE_BRANCH = T42_PLAIN.replace("my_dW1 = dm_a @ xa_mine.T + dm_b @ xb_mine.T",
                                          "my_dW1 = dm_a @ xa_mine.T")
BUG_MY_DZ_SIGN = T42_PLAIN.replace('my_dz = float(f["y"][0, 0] - t_mine)',
                                   'my_dz = float(t_mine - f["y"][0, 0])')
BUG_TWIN_ONE_BRANCH = T43_PLAIN.replace("dW1 = dm_a @ xa.T + dm_b @ xb.T", "dW1 = dm_a @ xa.T") \
    .replace("db1 = dm_a + dm_b", "db1 = dm_a")
BUG_TWIN_AVERAGED = T43_PLAIN.replace("dW1 = dm_a @ xa.T + dm_b @ xb.T",
                                      "dW1 = (dm_a @ xa.T + dm_b @ xb.T) / 2") \
    .replace("db1 = dm_a + dm_b", "db1 = (dm_a + dm_b) / 2")
BUG_TWIN_PRODUCT_SWAPPED = T43_PLAIN.replace('dh_a = dh * f["h_b"]', 'dh_a = dh * f["h_a"]') \
    .replace('dh_b = dh * f["h_a"]', 'dh_b = dh * f["h_b"]')
BUG_TWIN_NO_RELU = T43_PLAIN.replace('dm_a = dh_a * (f["m_a"] > 0)', "dm_a = dh_a") \
    .replace('dm_b = dh_b * (f["m_b"] > 0)', "dm_b = dh_b")
BUG_TWIN_ALIAS = T43_PLAIN.replace("    db1 = dm_a + dm_b\n", "    db1 = dm_a\n    db1 += dm_b\n")
BUG_TWIN_FD = '''def twin_backward(xa: np.ndarray, xb: np.ndarray, t: float, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gradients of the twin loss for inputs xa, xb (D, 1) and target t.

    Returns "z", "b2" (1, 1), "W2" (1, H), "h", "h_a", "h_b", "m_a", "m_b", "b1" (H, 1), "W1" (H, D).
    """
    g = twin_fd(xa, xb, t, params)          # the notebook's finite differences
    f = twin_forward(xa, xb, params)
    g["z"] = f["y"] - t
    g["h"] = params["W2"].T @ g["z"]
    return g
'''
BUG_DYDX_NO_SKIP = "dy_dx = w2_s * w1_s * sigma(w1_s * x_s) * (1 - sigma(w1_s * x_s))\n"
BUG_DYDX_NO_INNER = "dy_dx = w2_s * sigma(w1_s * x_s) * (1 - sigma(w1_s * x_s)) + ws_s\n"
BUG_SKIP_NO_SKIP_IN_X = T46_PLAIN.replace('dx = params["W1"].T @ dz1 + params["Ws"].T @ dzs',
                                          'dx = params["W1"].T @ dz1')
BUG_SKIP_NO_MAIN_IN_X = T46_PLAIN.replace('dx = params["W1"].T @ dz1 + params["Ws"].T @ dzs',
                                          'dx = params["Ws"].T @ dzs')
BUG_SKIP_THROUGH_RELU = T46_PLAIN.replace("    dzs = dh2\n", "    dzs = dz2\n")
BUG_SKIP_PRIME_AT_A = T46_PLAIN.replace('dz1 = dh1 * f["h1"] * (1 - f["h1"])',
                                        'dz1 = dh1 * sigmoid(f["h1"]) * (1 - sigmoid(f["h1"]))')
BUG_SKIP_W3_NOT_T = T46_PLAIN.replace('dh2 = params["W3"].T @ dz3', 'dh2 = (dz3.T @ params["W3"].T).T')
BUG_SKIP_FACTOR_2 = T46_PLAIN.replace('dz3 = f["y"] - t', 'dz3 = 2 * (f["y"] - t)')
BUG_SKIP_NORMALISES_T = T46_PLAIN.replace('    f = skip_forward(x, params)\n',
                                          '    t /= t.sum()       # make sure t is a distribution\n'
                                          '    f = skip_forward(x, params)\n')
BUG_SKIP_ACCUMULATES = T46_PLAIN.replace(
    '''    return {"W1": dW1''', '''    for name, value in (("W1", dW1), ("Ws", dWs)):
        _RUNNING[name] = _RUNNING.get(name, 0) + value
    dW1, dWs = _RUNNING["W1"], _RUNNING["Ws"]
    return {"W1": dW1''').replace("def skip_backward(", "_RUNNING = {}\n\n\ndef skip_backward(")
BUG_MY_DW1_BRANCH_B = T42_PLAIN.replace("my_dW1 = dm_a @ xa_mine.T + dm_b @ xb_mine.T",
                                        "my_dW1 = dm_b @ xb_mine.T")
BUG_MY_DZ_SIGN_OUTER = T42_OUTER.replace("my_dz = y_mine - t_mine", "my_dz = t_mine - y_mine")
BUG_SKIP_W3_ACCUMULATES = T46_PLAIN.replace(
    "    dW3 = dz3 @ f[\"h2\"].T\n",
    "    _TOTAL_W3[0] = _TOTAL_W3[0] + dz3 @ f[\"h2\"].T   # running total\n    dW3 = _TOTAL_W3[0]\n") \
    .replace("def skip_backward(", "_TOTAL_W3 = [0.0]\n\n\ndef skip_backward(")
BUG_SKIP_DB1_NO_SIGMA = T46_PLAIN.replace("    db1 = dz1\n", "    db1 = dh1\n")

SUBMISSIONS: dict[str, Submission] = {
    # ---------------------------------------------------------- correct work, several styles
    "ps4_plain": correct({**BASE, **WRITTEN}),
    "ps4_einsum": correct(with_cell(BASE, t4_3_answer=T43_EINSUM, t4_6_answer=T46_EINSUM),
                          "einsum throughout"),
    "ps4_helpers": correct(with_cell(BASE, t4_3_answer=T43_HELPERS, t4_2_answer=T42_OUTER),
                           "relu_backward / affine_backward helpers, np.outer"),
    "ps4_dot_prints": correct(with_cell(BASE, t4_6_answer=T46_DOT, t4_1_answer=T41_LITERAL),
                              "np.dot, np.where, a print of the loss inside the backward pass"),
    "ps4_sympy_diff": correct(with_cell(BASE, t4_4_answer=T44_DIFF), "sp.diff of the expression"),
    "ps4_sympify": correct(with_cell(BASE, t4_4_answer=T44_SYMPIFY, t4_3_answer=T43_EINSUM),
                           "dy_dx from a sympify string"),
    "ps4_extra_cells": correct(
        with_cell(BASE, t4_6_answer=T46_EINSUM),
        "scratch cells",
        extra={"t4_3_answer": ["_ex = twin_example(np.random.default_rng(3), 3, 4)\n"
                               "_g = twin_backward(*_ex)\nprint(sorted(_g))"],
               "t4_6_answer": ["_ex = skip_example(np.random.default_rng(1), 3, 4, 3, 2)\n"
                               "print({k: check.rel_error(v, skip_fd(*_ex)[k]) for k, v in skip_backward(*_ex).items() if k in skip_fd(*_ex)})"]}),
    "ps4_mixed": correct(with_cell(BASE, t4_1_answer=T41_LITERAL, t4_2_answer=T42_OUTER,
                                   t4_3_answer=T43_HELPERS, t4_4_answer=T44_DIFF,
                                   t4_6_answer=T46_DOT), "every alternative at once"),
    # ---------------------------------------------------------- one bug each
    "ps4_mc_a2_wrong": bug(with_cell(BASE, t4_1_answer=T41.replace('mc_grad_W1_twin = "B"',
                                                                  'mc_grad_W1_twin = "A"')),
                           {"t4_1_tests_a2": 1}, None, "4 wrong answer"),
    "ps4_shapes_w1_transposed": bug(with_cell(BASE, t4_1_answer=T41.replace('"W1": (H, D)',
                                                                           '"W1": (D, H)')),
                                    {"t4_1_tests_shapes": 1}, None, "6 shapes"),
    "ps4_my_dw1_one_branch": bug(with_cell(BASE, t4_2_answer=BUG_MY_DW1_ONE_BRANCH),
                                 {"t4_2_tests_dW1": 1}, "shared_one_branch", "4 shared weight"),
    "ps4_my_dz_sign": bug(with_cell(BASE, t4_2_answer=BUG_MY_DZ_SIGN),
                          {"t4_2_tests_dz": 1, "t4_2_tests_dW1": 1}, "sign_flip", "4 sign",
                          "t - y; my_dW1 is built from it"),
    "ps4_twin_one_branch": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_ONE_BRANCH), L43_SHARED,
                               "shared_one_branch", "4 one tensor"),
    "ps4_twin_averaged": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_AVERAGED), L43_SHARED,
                             "shared_averaged", "4 factor"),
    "ps4_twin_product_swapped": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_PRODUCT_SWAPPED), L43_ALL,
                                    "product_rule_swapped", "4 first wrong node",
                                    "dh_a is the first wrong node, not dW1"),
    "ps4_twin_no_relu": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_NO_RELU), L43_SHARED,
                            "missing_activation_derivative", "4 missing derivative"),
    "ps4_twin_alias_db1": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_ALIAS), L43_SHARED,
                              "one_tensor_wrong", "4 one tensor",
                              "db1 += dm_b writes into dm_a: only m_a is wrong"),
    "ps4_twin_fd_helper": bug(with_cell(BASE, t4_3_answer=BUG_TWIN_FD), L43_ALL,
                              "finite_differences", "3 finite differences",
                              "twin_fd, the notebook's helper, inside the backward pass"),
    "ps4_dydx_no_skip": bug(with_cell(BASE, t4_4_answer=BUG_DYDX_NO_SKIP), {"t4_4_tests": 1},
                            "expression_missing_term", "4 SymPy missing term"),
    "ps4_dydx_no_inner": bug(with_cell(BASE, t4_4_answer=BUG_DYDX_NO_INNER), {"t4_4_tests": 1},
                             "expression_term_factor", "4 SymPy factor", "forgets the inner w1 in the sigma term (the skip term ws is right)"),
    "ps4_mc_skip_wrong": bug(with_cell(BASE, t4_5_answer='mc_grad_x_skip = "A"\n'),
                             {"t4_5_tests": 1}, None, "4 wrong answer"),
    "ps4_skip_no_skip_in_x": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_NO_SKIP_IN_X),
                                 {"t4_6_tests_public": 1, "t4_6_tests_x": 2}, "skip_path_missing",
                                 "4 one tensor"),
    "ps4_skip_no_main_in_x": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_NO_MAIN_IN_X),
                                 {"t4_6_tests_public": 1, "t4_6_tests_x": 2}, "main_path_missing",
                                 "4 one tensor"),
    "ps4_skip_through_relu": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_THROUGH_RELU),
                                 {"t4_6_tests_public": 1, "t4_6_tests_upper": 1, "t4_6_tests_x": 2},
                                 "skip_through_relu", "4 wrong path"),
    "ps4_skip_prime_at_a": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_PRIME_AT_A),
                               {"t4_6_tests_public": 1, "t4_6_tests_lower": 1, "t4_6_tests_x": 2},
                               "derivative_at_activation", "4 sigma' at a"),
    "ps4_skip_w3_not_transposed": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_W3_NOT_T), L46_ALL,
                                      "w_not_transposed", "4 W not transposed",
                                      "a shape error unless C == H2"),
    "ps4_skip_factor_2": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_FACTOR_2), L46_ALL, "factor_2",
                             "4 factor 2", "2 (y - t) in a cross-entropy network"),
    "ps4_skip_normalises_t": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_NORMALISES_T), L46_ALL,
                                 "input_modified", "2 side effects",
                                 "t /= t.sum() in place: the values stay, the input is written"),
    # The running totals also make the notebook's own lower-layer and dx tests crash in the
    # kernel (their calls use other shapes than the totals); the trusted check passes those
    # cells, the kernel's error stands and the submission is flagged for review (verdict rule).
    "ps4_skip_accumulates": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_ACCUMULATES),
                                {"t4_6_tests_public": 1, "t4_6_tests_upper": 1,
                                 "t4_6_tests_lower": 1, "t4_6_tests_x": 2}, "accumulates",
                                "2 accumulation",
                                "dW1 and dWs added to a running total across calls"),
    "ps4_skip_db1_no_sigma": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_DB1_NO_SIGMA),
                                 {"t4_6_tests_public": 1, "t4_6_tests_lower": 1},
                                 "one_tensor_wrong", "4 one tensor", "db1 = dh1, every other right"),
    # ---------------------------------------------------------- written after issue 8's gaps
    "ps4_my_dw1_branch_b": bug(with_cell(BASE, t4_2_answer=BUG_MY_DW1_BRANCH_B),
                               {"t4_2_tests_dW1": 1}, "shared_one_branch", "4 shared weight",
                               "only the branch of x_b"),
    "ps4_my_dz_sign_outer": bug(with_cell(BASE, t4_2_answer=BUG_MY_DZ_SIGN_OUTER),
                                {"t4_2_tests_dz": 1, "t4_2_tests_dW1": 1}, "sign_flip", "4 sign",
                                "t - y in the np.outer style; my_dW1 is built from it"),
    "ps4_skip_w3_accumulates": bug(with_cell(BASE, t4_6_answer=BUG_SKIP_W3_ACCUMULATES),
                                   {"t4_6_tests_public": 1, "t4_6_tests_upper": 1,
                                    "t4_6_tests_lower": 1, "t4_6_tests_x": 2},
                                   "accumulates", "2 accumulation",
                                   "dW3 kept in a running total: the lower-layer and dx cells "
                                   "test tensors that do not accumulate, but their calls crash "
                                   "in the kernel (flagged, as above)"),
    # ---------------------------------------------------------- blanks and partial work
    "ps4_blank": Submission(cells={}, lose=dict(AUTO), kind="blank"),
    "ps4_twin_only": Submission(
        cells={k: BASE[k] for k in ("t4_1_answer", "t4_2_answer", "t4_3_answer")},
        lose={g: p for g, p in AUTO.items() if g.startswith(("t4_4", "t4_5", "t4_6"))},
        kind="partial"),
    "ps4_no_skip_backward": Submission(
        cells={k: v for k, v in BASE.items() if k != "t4_6_answer"}, lose=dict(L46_ALL),
        kind="partial"),
}
