# ruff: noqa: E501 - the students' code keeps their own line lengths
"""Problem set 3 as different students wrote it (batches, the 1/N, gradient descent)."""

from __future__ import annotations

from tests.integration.corpus_students.common import Submission, bug, correct, with_cell

AUTO = {"t3_1_tests_a1": 1, "t3_1_tests_a2": 1, "t3_2_tests_forward": 1, "t3_2_tests_loss": 1,
        "t3_3_tests_loss": 1, "t3_3_tests_grad": 1, "t3_4_tests_public": 1,
        "t3_4_tests_output": 1, "t3_4_tests_hidden_layer": 2, "t3_5_tests": 1,
        "t3_6_tests_step": 1, "t3_6_tests_eta_max": 1, "t3_7_tests": 1, "t3_7_tests_spirals": 1}
"""Every automatically graded cell of ps3 and its points."""

MC = 'mc_batch_preactivation = "B"\nmc_batch_loss = "A"\n'

T32_PLAIN = '''def batch_forward(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Forward pass for a batch X (N, D): "z1", "a1" (N, H) and "z2", "a2" (N, C)."""
    Z1 = X @ params["W1"].T + params["b1"].T
    A1 = act(Z1, hidden)
    Z2 = A1 @ params["W2"].T + params["b2"].T
    return {"z1": Z1, "a1": A1, "z2": Z2, "a2": softmax_rows(Z2)}


def batch_loss(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> float:
    """Mean cross-entropy over the batch: X (N, D), one-hot T (N, C); a float."""
    Z2 = batch_forward(X, params, hidden)["z2"]
    return float(-np.sum(T * log_softmax_rows(Z2)) / X.shape[0])
'''
T32_EINSUM = '''def batch_forward(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Forward pass for a batch X (N, D): "z1", "a1" (N, H) and "z2", "a2" (N, C)."""
    out = {}
    out["z1"] = np.einsum("nd,hd->nh", X, params["W1"]) + params["b1"][:, 0]
    out["a1"] = act(out["z1"], hidden)
    out["z2"] = np.einsum("nh,ch->nc", out["a1"], params["W2"]) + params["b2"][:, 0]
    out["a2"] = softmax_rows(out["z2"])
    return out


def batch_loss(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> float:
    """Mean cross-entropy over the batch: X (N, D), one-hot T (N, C); a float."""
    logp = log_softmax_rows(batch_forward(X, params, hidden)["z2"])
    per_example = -(T * logp).sum(axis=1)
    return float(per_example.mean())
'''
T32_COLUMNS = '''def batch_forward(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Forward pass for a batch X (N, D): "z1", "a1" (N, H) and "z2", "a2" (N, C)."""
    # I think in columns (as in ps2) and transpose at the end
    z1_cols = params["W1"] @ X.T + params["b1"]          # (H, N)
    a1_cols = act(z1_cols, hidden)
    z2_cols = params["W2"] @ a1_cols + params["b2"]      # (C, N)
    z1, a1, z2 = z1_cols.T, a1_cols.T, z2_cols.T
    return {"z1": z1, "a1": a1, "z2": z2, "a2": softmax_rows(z2)}


def batch_loss(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> float:
    """Mean cross-entropy over the batch: X (N, D), one-hot T (N, C); a float."""
    N = len(X)
    return -float(np.einsum("nc,nc->", T, log_softmax_rows(batch_forward(X, params, hidden)["z2"]))) / N
'''

T33_PLAIN = '''N_mine = Z2_mine.shape[0]
my_loss = float(-(T_mine * log_softmax_rows(Z2_mine)).sum() / N_mine)
my_dZ2 = (softmax_rows(Z2_mine) - T_mine) / N_mine
print(my_loss)
print(my_dZ2)
'''
T33_LOOP = '''losses_each = []
for n in range(4):
    row = Z2_mine[n] - Z2_mine[n].max()
    logp = row - np.log(np.sum(np.exp(row)))
    losses_each.append(-np.dot(T_mine[n], logp))
my_loss = float(np.mean(losses_each))
my_dZ2 = np.zeros((4, 3))
for n in range(4):
    p = np.exp(Z2_mine[n] - Z2_mine[n].max())
    p /= p.sum()
    my_dZ2[n] = (p - T_mine[n]) / 4
'''

T34_PLAIN = '''def batch_backward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a batch X (N, D), one-hot T (N, C).

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1), "z2" (N, C), "a1", "z1" (N, H).
    """
    N = X.shape[0]
    f = batch_forward(X, params, hidden)
    dZ2 = (f["a2"] - T) / N
    dW2 = dZ2.T @ f["a1"]
    db2 = dZ2.sum(axis=0).reshape(-1, 1)
    dA1 = dZ2 @ params["W2"]
    dZ1 = dA1 * act_prime(f["z1"], hidden)
    dW1 = dZ1.T @ X
    db1 = dZ1.sum(axis=0).reshape(-1, 1)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "z2": dZ2, "a1": dA1, "z1": dZ1}
'''
T34_EINSUM = '''def batch_backward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a batch X (N, D), one-hot T (N, C).

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1), "z2" (N, C), "a1", "z1" (N, H).
    """
    fw = batch_forward(X, params, hidden)
    g_z2 = (fw["a2"] - T) / len(X)
    g_a1 = np.einsum("nc,ch->nh", g_z2, params["W2"])
    g_z1 = g_a1 * act_prime(fw["z1"], hidden)
    return {
        "z2": g_z2,
        "W2": np.einsum("nc,nh->ch", g_z2, fw["a1"]),
        "b2": np.einsum("nc->c", g_z2)[:, None],
        "a1": g_a1,
        "z1": g_z1,
        "W1": np.einsum("nh,nd->hd", g_z1, X),
        "b1": np.einsum("nh->h", g_z1)[:, None],
    }
'''
T34_LAYERS = '''def dense_backward(dZ: np.ndarray, A_prev: np.ndarray, W: np.ndarray) -> tuple:
    """dW (out, in), db (out, 1), dA_prev (N, in) of Z = A_prev W^T + b^T."""
    return dZ.T @ A_prev, np.sum(dZ, axis=0, keepdims=True).T, dZ @ W


def batch_backward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a batch X (N, D), one-hot T (N, C).

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1), "z2" (N, C), "a1", "z1" (N, H).
    """
    cache = batch_forward(X, params, hidden)
    grads = {"z2": (cache["a2"] - T) / X.shape[0]}
    grads["W2"], grads["b2"], grads["a1"] = dense_backward(grads["z2"], cache["a1"], params["W2"])
    grads["z1"] = grads["a1"] * act_prime(cache["z1"], hidden)
    grads["W1"], grads["b1"], _ = dense_backward(grads["z1"], X, params["W1"])
    return grads
'''
T34_MATMUL = '''def batch_backward(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy for a batch X (N, D), one-hot T (N, C).

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1), "z2" (N, C), "a1", "z1" (N, H).
    """
    n_examples = X.shape[0]
    forward = batch_forward(X, params, hidden)
    delta2 = np.subtract(forward["a2"], T) / n_examples   # the 1/N lives here and only here
    print("delta2 shape", delta2.shape)
    delta1_a = np.matmul(delta2, params["W2"])
    delta1 = delta1_a * act_prime(forward["z1"], hidden)
    ones = np.ones((n_examples, 1))
    return {
        "W2": np.matmul(forward["a1"].T, delta2).T,
        "b2": np.matmul(delta2.T, ones),
        "W1": np.matmul(delta1.T, X),
        "b1": np.dot(delta1.T, ones),
        "z2": delta2, "a1": delta1_a, "z1": delta1,
    }
'''

T35_PLAIN = '''def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    N = X.shape[0]
    acc = {k: np.zeros_like(params[k], dtype=float) for k in ("W1", "b1", "W2", "b2")}
    for n in range(N):
        g = batch_backward(X[n : n + 1], T[n : n + 1], params, hidden)
        for k in acc:
            acc[k] = acc[k] + g[k]
    return {k: v / N for k, v in acc.items()}
'''
T35_MEAN = '''def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    per_example = [batch_backward(x[None, :], t[None, :], params, hidden) for x, t in zip(X, T)]
    return {k: np.mean([g[k] for g in per_example], axis=0) for k in ("W1", "b1", "W2", "b2")}
'''

T36_PLAIN = '''J = a * theta**2 / 2
gd_next = theta - eta * sp.diff(J, theta)
eta_max = 2 / a
'''
T36_SYMPIFY = '''gd_next = sp.expand(theta * (1 - eta * a))
eta_max = sp.sympify("2/a")    # |1 - eta a| < 1
'''
T36_SOLVE = '''gd_next = theta - eta * a * theta
factor = sp.simplify(gd_next / theta)          # 1 - a eta
eta_max = sp.solve(sp.Eq(factor, -1), eta)[0]  # where the factor reaches -1
print(gd_next, eta_max)
'''

T37_PLAIN = '''def train_gd(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str, lr: float,
             steps: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Full-batch gradient descent from params; returns (new params, losses of shape (steps,))."""
    p = {k: v.copy() for k, v in params.items()}
    losses = np.zeros(steps)
    for step in range(steps):
        losses[step] = batch_loss(X, T, p, hidden)
        grads = batch_backward(X, T, p, hidden)
        for k in p:
            p[k] = p[k] - lr * grads[k]
    return p, losses
'''
T37_LIST = '''def train_gd(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str, lr: float,
             steps: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Full-batch gradient descent from params; returns (new params, losses of shape (steps,))."""
    current = dict(params)          # a new dict; arrays are replaced, never changed in place
    history = []
    while len(history) < steps:
        history.append(batch_loss(X, T, current, hidden))
        g = batch_backward(X, T, current, hidden)
        current = {name: value - lr * g[name] for name, value in current.items()}
    return current, np.array(history)
'''

WRITTEN = {"t3_8_written": "Ahmed's gradients are N times mine; he must divide the learning rate by "
                           "N; doubling the batch doubles his step (eta_max = 2/a shrinks).",
           "t3_9_written": "Both grow linearly; the batched call is ~100x faster at N = 1000 because "
                           "of BLAS; it needs memory for the whole batch."}

BASE = {"t3_1_answer": MC, "t3_2_answer": T32_PLAIN, "t3_3_answer": T33_PLAIN,
        "t3_4_answer": T34_PLAIN, "t3_5_answer": T35_PLAIN, "t3_6_answer": T36_PLAIN,
        "t3_7_answer": T37_PLAIN}

# ---------------------------------------------------------------- buggy cells
L34_ALL = {"t3_4_tests_public": 1, "t3_4_tests_output": 1, "t3_4_tests_hidden_layer": 2}
L34_OUT = {"t3_4_tests_public": 1, "t3_4_tests_output": 1}
L34_HID = {"t3_4_tests_public": 1, "t3_4_tests_hidden_layer": 2}

BUG_FORWARD_COLUMN_BIAS = T32_PLAIN.replace('Z1 = X @ params["W1"].T + params["b1"].T',
                                            'Z1 = X @ params["W1"].T + params["b1"]')
BUG_FORWARD_SOFTMAX_COLUMNS = T32_PLAIN.replace(
    'return {"z1": Z1, "a1": A1, "z2": Z2, "a2": softmax_rows(Z2)}',
    'E = np.exp(Z2 - Z2.max())\n    return {"z1": Z1, "a1": A1, "z2": Z2, "a2": E / E.sum(axis=0, keepdims=True)}')
BUG_LOSS_SUM = T32_PLAIN.replace("return float(-np.sum(T * log_softmax_rows(Z2)) / X.shape[0])",
                                 "return float(-np.sum(T * log_softmax_rows(Z2)))")
BUG_MY_DZ2_NO_N = T33_PLAIN.replace("my_dZ2 = (softmax_rows(Z2_mine) - T_mine) / N_mine",
                                    "my_dZ2 = softmax_rows(Z2_mine) - T_mine")
BUG_MY_LOSS_SUM = T33_PLAIN.replace("my_loss = float(-(T_mine * log_softmax_rows(Z2_mine)).sum() / N_mine)",
                                    "my_loss = float(-(T_mine * log_softmax_rows(Z2_mine)).sum())")
BUG_NO_1_OVER_N = T34_PLAIN.replace('dZ2 = (f["a2"] - T) / N', 'dZ2 = f["a2"] - T')
BUG_DW2_TWICE = T34_PLAIN.replace('dW2 = dZ2.T @ f["a1"]', 'dW2 = dZ2.T @ f["a1"] / N')
BUG_DB1_MEAN = T34_PLAIN.replace("db1 = dZ1.sum(axis=0).reshape(-1, 1)",
                                 "db1 = dZ1.mean(axis=0).reshape(-1, 1)")
BUG_DB1_AXIS = T34_PLAIN.replace("db1 = dZ1.sum(axis=0).reshape(-1, 1)",
                                 "db1 = dZ1.sum(axis=1, keepdims=True)")
BUG_DB2_NOT_SUMMED = T34_PLAIN.replace("db2 = dZ2.sum(axis=0).reshape(-1, 1)", "db2 = dZ2.T")
BUG_W2_NOT_T = T34_PLAIN.replace('dA1 = dZ2 @ params["W2"]', 'dA1 = dZ2 @ params["W2"].T')
BUG_PRIME_AT_A = T34_PLAIN.replace('dZ1 = dA1 * act_prime(f["z1"], hidden)',
                                   'dZ1 = dA1 * act_prime(f["a1"], hidden)')
BUG_MUTATES_T = T34_PLAIN.replace('dZ2 = (f["a2"] - T) / N', 'T -= f["a2"]\n    dZ2 = -T / N')
BUG_BACKWARD_FD = T34_PLAIN.replace(
    '''    db1 = dZ1.sum(axis=0).reshape(-1, 1)
''', '''    # the bias sums confused me: take them from finite differences of the loss
    P = {k: v.copy() for k, v in params.items()}
    db1 = check.numerical_gradient(lambda: batch_loss(X, T, P, hidden), P["b1"])
    db2 = check.numerical_gradient(lambda: batch_loss(X, T, P, hidden), P["b2"])
''')
BUG_LOOP_SUM = T35_PLAIN.replace("return {k: v / N for k, v in acc.items()}", "return acc")
BUG_LOOP_ACCUMULATES = '''_ACC = {}


def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    N = X.shape[0]
    for n in range(N):
        g = batch_backward(X[n : n + 1], T[n : n + 1], params, hidden)
        for k in ("W1", "b1", "W2", "b2"):
            _ACC[k] = _ACC.get(k, 0.0) + g[k] / N
    return _ACC
'''
BUG_LOOP_FD = '''def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    return fd_grads(X, T, params, hidden)   # the same numbers, without the loop
'''
BUG_LOSS_SUM_EINSUM = T32_EINSUM.replace("return float(per_example.mean())",
                                         "return float(per_example.sum())")
BUG_MY_DZ2_LOOP_NO_N = T33_LOOP.replace("my_dZ2[n] = (p - T_mine[n]) / 4", "my_dZ2[n] = p - T_mine[n]")
BUG_LOOP_DEFAULT_ACC = '''def grads_loop(X: np.ndarray, T: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu",
               total: dict = {}) -> dict[str, np.ndarray]:
    """Gradient of the mean loss of X (N, D), T (N, C) from N single-example calls of batch_backward.

    Returns "W1" (H, D), "b1" (H, 1), "W2" (C, H), "b2" (C, 1).
    """
    N = X.shape[0]
    for n in range(N):
        g = batch_backward(X[n : n + 1], T[n : n + 1], params, hidden)
        for k in ("W1", "b1", "W2", "b2"):
            total.setdefault(k, np.zeros_like(params[k], dtype=float))
            total[k] += g[k] / N
    return {k: v.copy() for k, v in total.items()}
'''
BUG_TRAIN_REBINDS_CALLERS = T37_PLAIN.replace("p = {k: v.copy() for k, v in params.items()}",
                                              "p = params    # start from the given parameters")
BUG_EINSUM_W2_NOT_T = T34_EINSUM.replace('g_a1 = np.einsum("nc,ch->nh", g_z2, params["W2"])',
                                         'g_a1 = np.einsum("nc,hc->nh", g_z2, params["W2"])')
BUG_GD_SIGN = T36_PLAIN.replace("gd_next = theta - eta * sp.diff(J, theta)",
                                "gd_next = theta + eta * sp.diff(J, theta)")
BUG_ETA_MAX_HALF = T36_PLAIN.replace("eta_max = 2 / a", "eta_max = 1 / a")
BUG_TRAIN_IN_PLACE = T37_PLAIN.replace("p = {k: v.copy() for k, v in params.items()}", "p = params") \
    .replace("p[k] = p[k] - lr * grads[k]", "p[k] -= lr * grads[k]")
BUG_TRAIN_LOSS_AFTER = T37_PLAIN.replace(
    '''        losses[step] = batch_loss(X, T, p, hidden)
        grads = batch_backward(X, T, p, hidden)
        for k in p:
            p[k] = p[k] - lr * grads[k]''', '''        grads = batch_backward(X, T, p, hidden)
        for k in p:
            p[k] = p[k] - lr * grads[k]
        losses[step] = batch_loss(X, T, p, hidden)''')

SUBMISSIONS: dict[str, Submission] = {
    # ---------------------------------------------------------- correct work, several styles
    "ps3_plain": correct({**BASE, **WRITTEN}),
    "ps3_einsum": correct(with_cell(BASE, t3_2_answer=T32_EINSUM, t3_4_answer=T34_EINSUM),
                          "einsum in the forward and backward passes"),
    "ps3_layer_helper": correct(with_cell(BASE, t3_4_answer=T34_LAYERS, t3_5_answer=T35_MEAN),
                                "a dense_backward helper; grads_loop as a mean of a list"),
    "ps3_columns_matmul": correct(with_cell(BASE, t3_2_answer=T32_COLUMNS, t3_4_answer=T34_MATMUL),
                                  "columns then transpose; np.matmul with a ones vector, a print"),
    "ps3_sympify": correct(with_cell(BASE, t3_6_answer=T36_SYMPIFY),
                           "eta_max from sympify('2/a'): no positive assumption (issue 8, cat. 8)"),
    "ps3_solve": correct(with_cell(BASE, t3_6_answer=T36_SOLVE, t3_7_answer=T37_LIST,
                                   t3_3_answer=T33_LOOP),
                         "sp.solve, a while loop in training, loops for my_dZ2"),
    "ps3_extra_cells": correct(
        with_cell(BASE, t3_4_answer=T34_EINSUM),
        "scratch cells",
        extra={"t3_4_answer": ["_X, _T, _p = random_problem(np.random.default_rng(9), 6, 2, 3, 2)\n"
                               "_g = batch_backward(_X, _T, _p)\n"
                               "print({k: check.rel_error(_g[k], v) for k, v in fd_grads(_X, _T, _p, 'relu').items()})"],
               "t3_7_answer": ["print(train_gd(*random_problem(np.random.default_rng(2), 4, 2, 3, 2)[:3], 'relu', 0.1, 2)[1])"]}),
    "ps3_mixed": correct(with_cell(BASE, t3_2_answer=T32_EINSUM, t3_4_answer=T34_LAYERS,
                                   t3_5_answer=T35_MEAN, t3_6_answer=T36_SOLVE,
                                   t3_7_answer=T37_LIST), "every alternative at once"),
    # ---------------------------------------------------------- one bug each
    "ps3_mc_a2_wrong": bug(with_cell(BASE, t3_1_answer=MC.replace('"A"', '"C"')),
                           {"t3_1_tests_a2": 1}, None, "4 wrong answer"),
    "ps3_forward_bias_as_column": bug(
        with_cell(BASE, t3_2_answer=BUG_FORWARD_COLUMN_BIAS), {"t3_2_tests_forward": 1}, None,
        "5 cascade", "b1 broadcast across the examples (shape error unless N == H); backward "
        "is judged with the reference forward", cascade=True),
    "ps3_forward_softmax_columns": bug(
        with_cell(BASE, t3_2_answer=BUG_FORWARD_SOFTMAX_COLUMNS), {"t3_2_tests_forward": 1}, None,
        "5 cascade", "softmax over the batch axis; batch_backward uses it", cascade=True),
    "ps3_loss_sum": bug(with_cell(BASE, t3_2_answer=BUG_LOSS_SUM), {"t3_2_tests_loss": 1},
                        "missing_1_over_n", "5 cascade",
                        "sum instead of mean; the visible backward check differentiates it",
                        cascade=True),
    "ps3_my_dz2_no_n": bug(with_cell(BASE, t3_3_answer=BUG_MY_DZ2_NO_N), {"t3_3_tests_grad": 1},
                           "missing_1_over_n", "4 missing 1/N"),
    "ps3_my_loss_sum": bug(with_cell(BASE, t3_3_answer=BUG_MY_LOSS_SUM), {"t3_3_tests_loss": 1},
                           "missing_1_over_n", "4 missing 1/N", "a scalar N times too large"),
    "ps3_backward_no_1_over_n": bug(with_cell(BASE, t3_4_answer=BUG_NO_1_OVER_N), L34_ALL,
                                    "missing_1_over_n", "4 missing 1/N"),
    "ps3_backward_dw2_averaged_twice": bug(with_cell(BASE, t3_4_answer=BUG_DW2_TWICE), L34_OUT,
                                           "averaged_twice", "4 one tensor"),
    "ps3_backward_db1_mean": bug(with_cell(BASE, t3_4_answer=BUG_DB1_MEAN), L34_HID,
                                 "averaged_twice", "4 one tensor", "only db1 divided by N again"),
    "ps3_backward_db1_wrong_axis": bug(with_cell(BASE, t3_4_answer=BUG_DB1_AXIS), L34_HID,
                                       "bias_wrong_axis", "4 bias axis"),
    "ps3_backward_db2_not_summed": bug(with_cell(BASE, t3_4_answer=BUG_DB2_NOT_SUMMED), L34_OUT,
                                       "bias_not_summed", "4 bias not summed"),
    "ps3_backward_w2_transposed": bug(with_cell(BASE, t3_4_answer=BUG_W2_NOT_T), L34_HID,
                                      "w_not_transposed", "4 W not transposed",
                                      "dZ2 W2^T: a shape error unless C == H"),
    "ps3_backward_prime_at_a": bug(with_cell(BASE, t3_4_answer=BUG_PRIME_AT_A), L34_HID,
                                   "derivative_at_activation", "4 sigma' at a",
                                   "act_prime(a1): right for ReLU only; grads_loop and train_gd "
                                   "must not pay again", cascade=True),
    "ps3_backward_writes_into_t": bug(with_cell(BASE, t3_4_answer=BUG_MUTATES_T), L34_ALL,
                                      "input_modified", "2 side effects", "T -= A2 in place"),
    "ps3_backward_fd_helper": bug(with_cell(BASE, t3_4_answer=BUG_BACKWARD_FD), L34_ALL,
                                  "finite_differences", "3 finite differences",
                                  "check.numerical_gradient for the bias gradients"),
    "ps3_loop_sum": bug(with_cell(BASE, t3_5_answer=BUG_LOOP_SUM), {"t3_5_tests": 1},
                        "missing_1_over_n", "4 missing 1/N"),
    "ps3_loop_accumulates": bug(with_cell(BASE, t3_5_answer=BUG_LOOP_ACCUMULATES),
                                {"t3_5_tests": 1}, "accumulates", "2 accumulation",
                                "a module-level accumulator never reset"),
    "ps3_loop_fd_helper": bug(with_cell(BASE, t3_5_answer=BUG_LOOP_FD), {"t3_5_tests": 1},
                              "finite_differences", "3 finite differences",
                              "the notebook's fd_grads instead of N calls of batch_backward"),
    "ps3_gd_sign": bug(with_cell(BASE, t3_6_answer=BUG_GD_SIGN), {"t3_6_tests_step": 1},
                       "expression_wrong_term", "4 SymPy form", "gradient ascent"),
    "ps3_eta_max_half": bug(with_cell(BASE, t3_6_answer=BUG_ETA_MAX_HALF), {"t3_6_tests_eta_max": 1},
                            "expression_factor", "4 SymPy factor", "1/a: the monotone limit"),
    "ps3_train_in_place": bug(with_cell(BASE, t3_7_answer=BUG_TRAIN_IN_PLACE), {"t3_7_tests": 1},
                              "input_modified", "2 side effects", "updates the caller's params"),
    "ps3_train_loss_after_update": bug(with_cell(BASE, t3_7_answer=BUG_TRAIN_LOSS_AFTER),
                                       {"t3_7_tests": 1}, None, "4 wrong values"),
    # ---------------------------------------------------------- written after issue 8's gaps
    "ps3_loss_sum_einsum": bug(with_cell(BASE, t3_2_answer=BUG_LOSS_SUM_EINSUM),
                               {"t3_2_tests_loss": 1}, "missing_1_over_n", "4 missing 1/N",
                               "per-example losses summed, einsum style", cascade=True),
    "ps3_my_dz2_loop_no_n": bug(with_cell(BASE, t3_3_answer=BUG_MY_DZ2_LOOP_NO_N),
                                {"t3_3_tests_grad": 1}, "missing_1_over_n", "4 missing 1/N",
                                "rows of my_dZ2 in a loop, without the /4"),
    "ps3_loop_default_dict": bug(with_cell(BASE, t3_5_answer=BUG_LOOP_DEFAULT_ACC),
                                 {"t3_5_tests": 1}, "accumulates", "2 accumulation",
                                 "a mutable default argument as the accumulator"),
    "ps3_train_rebinds_callers_dict": bug(with_cell(BASE, t3_7_answer=BUG_TRAIN_REBINDS_CALLERS),
                                          {"t3_7_tests": 1}, "input_modified", "2 side effects",
                                          "new arrays put into the caller's params dict; the "
                                          "spirals cell must not pay again"),
    "ps3_backward_einsum_w2_not_t": bug(with_cell(BASE, t3_4_answer=BUG_EINSUM_W2_NOT_T), L34_HID,
                                        "w_not_transposed", "4 W not transposed",
                                        "einsum 'hc' for W2: a shape error unless C == H; the "
                                        "output-layer cell must not pay"),
    # ---------------------------------------------------------- blanks and partial work
    "ps3_blank": Submission(cells={}, lose=dict(AUTO), kind="blank"),
    "ps3_part_a_only": Submission(
        cells={k: BASE[k] for k in ("t3_1_answer", "t3_2_answer")},
        lose={g: p for g, p in AUTO.items() if not g.startswith(("t3_1", "t3_2"))},
        kind="partial"),
    "ps3_no_training": Submission(
        cells={k: v for k, v in BASE.items() if k != "t3_7_answer"},
        lose={"t3_7_tests": 1, "t3_7_tests_spirals": 1}, kind="partial"),
}
