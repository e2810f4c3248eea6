"""Hand-written submissions for each category of "grading you can trust", with the trusted
verdict each must get: ``CASES[name] = Case(assignment, answers, lost)``.

``answers`` maps answer-cell grade ids to the student's text (other answer cells hold the
instructor's solution); ``lost`` maps every grade cell that must lose points to
``(score, text the message must contain)``. Every other cell must keep full points: a bug costs
the task where it is, nothing else.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from tests.autograder.trusted_harness import solution_of


@dataclass(frozen=True)
class Case:
    assignment: str
    answers: dict[str, str]
    lost: dict[str, tuple[float, str]] = field(default_factory=dict)
    diagnosis: dict[str, str] = field(default_factory=dict)


def _edit(assignment: str, gid: str, *edits: tuple[str, str]) -> dict[str, str]:
    text = solution_of(assignment, gid)
    for old, new in edits:
        assert old in text, f"{gid}: {old!r} not in the solution"
        text = text.replace(old, new)
    return {gid: text}


def _plus(assignment: str, gid: str, extra: str) -> dict[str, str]:
    return {gid: solution_of(assignment, gid) + "\n\n" + textwrap.dedent(extra)}


TWIN_HEAD = '''
def _twin_intermediates(xa, xb, t, params):
    f = twin_forward(xa, xb, params)
    g = {"z": f["y"] - t}
    g["h"] = params["W2"].T @ g["z"]
    g["h_a"], g["h_b"] = g["h"] * f["h_b"], g["h"] * f["h_a"]
    g["m_a"], g["m_b"] = g["h_a"] * (f["m_a"] > 0), g["h_b"] * (f["m_b"] > 0)
    return g
'''

CASES: dict[str, Case] = {
    # ---- 2. probes are a superset of the hidden tests -------------------------------------
    "bce_one_branch_only": Case(
        "ps1",
        _edit("ps1", "t1_4_answer", ('g["y"] = g["L"] * (-t / y + (1.0 - t) / (1.0 - y))',
                                     'g["y"] = g["L"] * (-1.0 / y)')),
        {"t1_4_tests_backward": (0, "(binary_cross_entropy, t = 0): y is wrong")},
    ),
    "cross_entropy_one_hot_only": Case(
        "ps2",
        _edit("ps2", "t2_2_answer", ("return float(-(t.T @ np.log(a))[0, 0])",
                                     "return float(-np.log(a[int(np.argmax(t)), 0]))")),
        {"t2_2_tests_ce": (0, "C = 4, soft target: cross_entropy_col is wrong")},
    ),
    "w_not_transposed_named_despite_non_square_crash": Case(
        "ps2",
        _edit("ps2", "t2_3b_answer", ('g["a1"] = params["W2"].T @ g["z2"]',
                                      'g["a1"] = params["W2"] @ g["z2"]')),
        {"t2_3b_tests_public": (0, "D, H, C = (3, 3, 3)"),
         "t2_3b_tests_hidden": (0, "D, H, C = (3, 3, 3)")},
        {"t2_3b_tests_public": "w_not_transposed", "t2_3b_tests_hidden": "w_not_transposed"},
    ),
    "writes_into_target_read_only": Case(
        "ps2",
        _edit("ps2", "t2_3b_answer", ('    fw = forward_vec(x, params)\n',
                                      '    t[t < 0] = 0.0  # targets are never negative\n'
                                      '    fw = forward_vec(x, params)\n')),
        {"t2_3b_tests_public": (0, "backward_vec writes into its input arrays"),
         "t2_3b_tests_hidden": (0, "backward_vec writes into its input arrays")},
    ),
    # ---- 3. side effects fail the task that has them ---------------------------------------
    "backward_updates_params_in_place": Case(
        "ps3",
        _edit("ps3", "t3_4_answer", ("    return g\n",
                                     '    params["W1"] -= 0.1 * g["W1"]\n    return g\n')),
        {gid: (0, "batch_backward changed its argument params['W1'] in place")
         for gid in ("t3_4_tests_public", "t3_4_tests_output", "t3_4_tests_hidden_layer")},
        {"t3_4_tests_public": "input_modified"},
    ),
    "gradients_accumulate_across_calls": Case(
        "ps4",
        _edit("ps4", "t4_3_answer",
              ("def twin_backward(", "_TOTAL = {}\n\n\ndef twin_backward("),
              ("    return g\n", "    for k, v in g.items():\n"
                                   "        _TOTAL[k] = _TOTAL.get(k, 0.0) + v\n"
                                   "    return dict(_TOTAL)\n")),
        {gid: (0, "a second call on the same inputs gave a different result")
         for gid in ("t4_3_tests_public", "t4_3_tests_head", "t4_3_tests_shared")},
        {"t4_3_tests_head": "accumulates"},
    ),
    # ---- 4. analytic gradients only ---------------------------------------------------------
    "finite_differences_in_a_helper": Case(
        "ps2",
        {"t2_3b_answer": textwrap.dedent('''
            def _num(f, P, k, h=1e-5):
                g = np.zeros_like(P[k])
                for idx in np.ndindex(P[k].shape):
                    old = P[k][idx]
                    P[k][idx] = old + h
                    fp = f()
                    P[k][idx] = old - h
                    fm = f()
                    P[k][idx] = old
                    g[idx] = (fp - fm) / (2 * h)
                return g


            def backward_vec(x, t, params):
                P = {k: v.copy() for k, v in params.items()}
                fw = forward_vec(x, params)
                g = {"z2": fw["a2"] - t}
                g["a1"] = params["W2"].T @ g["z2"]
                g["z1"] = g["a1"] * (fw["z1"] > 0)
                for k in P:
                    g[k] = _num(lambda: loss_vec(x, t, P), P, k)
                return g
        ''')},
        {gid: (0, "backward_vec (through its helper _num) uses finite differences (a difference "
                  "quotient (f(x + h) - f(x - h)) / 2h): the task asks for analytic gradients")
         for gid in ("t2_3b_tests_public", "t2_3b_tests_hidden")},
    ),
    "coursekit_numerical_gradient": Case(
        "ps4",
        {"t4_3_answer": TWIN_HEAD + textwrap.dedent('''

            def twin_backward(xa, xb, t, params):
                g = _twin_intermediates(xa, xb, t, params)
                P = {k: v.copy() for k, v in params.items()}
                for k in ("W1", "b1", "W2", "b2"):
                    g[k] = check.numerical_gradient(lambda: twin_loss(xa, xb, t, P), P[k])
                return g
        ''')},
        {gid: (0, "twin_backward uses finite differences (calls numerical_gradient)")
         for gid in ("t4_3_tests_public", "t4_3_tests_head", "t4_3_tests_shared")},
    ),
    "notebook_fd_helper": Case(
        "ps4",
        _edit("ps4", "t4_6_answer", ("    return g\n",
                                     "    g.update(skip_fd(x, t, params))\n"
                                     "    return g\n")),
        {gid: (0, "skip_backward uses finite differences (calls skip_fd)")
         for gid in ("t4_6_tests_public", "t4_6_tests_upper", "t4_6_tests_lower",
                     "t4_6_tests_x")},
    ),
    # ---- 5. points where the mistake is -----------------------------------------------------
    "forward_bug_costs_the_forward_only": Case(
        "ps3",
        _edit("ps3", "t3_2_answer", ("a1 = act(z1, hidden)", 'a1 = act(z1, "relu")')),
        {"t3_2_tests_forward": (0, "")},
    ),
    "activation_grad_bug_costs_its_cell_only": Case(
        "ps2",
        _edit("ps2", "t2_4_answer", ("return da * s * (1.0 - s)", "return da * s")),
        {"t2_4_tests_activations": (0, "activation_grad sigmoid")},
    ),
    "one_branch_of_the_shared_weight": Case(
        "ps4",
        _edit("ps4", "t4_3_answer", ('g["W1"] = g["m_a"] @ xa.T + g["m_b"] @ xb.T',
                                     'g["W1"] = g["m_a"] @ xa.T')),
        {"t4_3_tests_public": (0, "dW1"), "t4_3_tests_shared": (0, "dW1")},
    ),
    "output_bias_averaged_twice": Case(
        "ps3",
        _edit("ps3", "t3_4_answer", ('g["b2"] = g["z2"].sum(axis=0, keepdims=True).T',
                                     'g["b2"] = g["z2"].sum(axis=0, keepdims=True).T / N')),
        {"t3_4_tests_public": (0, "b2"), "t3_4_tests_output": (0, "b2")},
    ),
    # ---- 6. fixes -----------------------------------------------------------------------------
    "ops_exact_count": Case("ps2", {"t2_5a_answer": "ops_backward = (M - 1) * H**2\n"}),
    "ops_leading_order_plain_symbols": Case(
        "ps2", {"t2_5a_answer": 'ops_backward = sp.sympify("M*H**2")\n'}),
    "ops_wrong_order": Case(
        "ps2", {"t2_5a_answer": "ops_backward = M * H\n"},
        {"t2_5a_tests": (0, "ops_backward = H*M is not the recursion's count to leading order "
                            "(it grows like 0 times (M - 1) H^2)")},
    ),
    "loop_over_result_keys_only": Case(
        "ps2",
        _edit("ps2", "t2_3b_answer", ("    return g\n",
                                      "    for k in g:\n"
                                      "        g[k] = np.asarray(g[k], dtype=np.float64)\n"
                                      "    return g\n")),
    ),
    "loop_moved_into_a_helper": Case(
        "ps2",
        _plus("ps2", "t2_3b_answer", '''
            def _down(W, dz):
                out = np.zeros((W.shape[1], 1))
                for j in range(W.shape[1]):
                    out[j, 0] = float(W[:, j] @ dz[:, 0])
                return out


            def backward_vec(x, t, params):
                fw = forward_vec(x, params)
                g = {"z2": fw["a2"] - t}
                g["W2"] = g["z2"] @ fw["a1"].T
                g["b2"] = g["z2"].copy()
                g["a1"] = _down(params["W2"], g["z2"])
                g["z1"] = g["a1"] * (fw["z1"] > 0)
                g["W1"] = g["z1"] @ x.T
                g["b1"] = g["z1"].copy()
                return g
        '''),
        {"t2_3b_tests_hidden": (0, "backward_vec (through its helper _down) uses Python loops "
                                   "(for): the task asks for vector and matrix operations")},
    ),
    "sympy_answers_without_assumptions": Case(
        "ps3", {"t3_6_answer": 'gd_next = sp.sympify("theta - eta*a*theta")\n'
                               'eta_max = sp.sympify("2/a")\n'}),
    "sympy_answer_off_by_a_factor": Case(
        "ps3", {"t3_6_answer": "gd_next = theta - eta * a * theta\neta_max = 1 / a\n"},
        {"t3_6_tests_eta_max": (0, "eta_max")},
    ),
    "sympy_symbols_of_ones_own": Case(
        "ps1",
        _edit("ps1", "t1_5_answer",
              ("sigmoid_prime_in_s = s * (1 - s)",
               'sigmoid_prime_in_s = sp.Symbol("s", positive=True) * (1 - sp.Symbol("s"))')),
    ),
    "sympy_wrong_tanh": Case(
        "ps1",
        _edit("ps1", "t1_5_answer", ("tanh_prime_in_r = 4 * r * (1 - r)",
                                     "tanh_prime_in_r = 2 * r * (1 - r)")),
        {"t1_5_tests_tanh_sym": (0, "tanh_prime_in_r")},
    ),
    "sympy_extra_symbol": Case(
        "ps4", {"t4_4_answer": "dy_dx = w2_s * (1 - sp.tanh(w1_s * x_s) ** 2) * w1_s + "
                               'ws_s + sp.Symbol("b")\n'},
        {"t4_4_tests": (0, "dy_dx uses b; use only x, w1, w2, ws")},
    ),
}
