"""Every automatically graded cell gives a signal before grading, or says what it checks and why
it cannot check more; no visible part contains a value its hidden part uses as the answer; the
new visible signals pass right answers and fail wrong ones."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
import sympy as sp

from coursekit import check
from tests.course.course_helpers import REPO

ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4")
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
VALUE_CHECK = re.compile(
    r"check\.(grads|grad_fd|grads_fd|array|number|sympy_derivative|sympy_equal)\(|check_one\("
    r"|_check_\w+\(|^\s*assert ", re.M)


def _test_cells(assignment: str) -> list[tuple[str, str]]:
    nb = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", 4)
    return [(c.metadata["nbgrader"]["grade_id"], c.source) for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_cell_gives_a_signal_or_says_why_not(assignment: str) -> None:
    cells = _test_cells(assignment)
    assert cells
    silent = [gid for gid, src in cells
              if not VALUE_CHECK.search(HIDDEN.sub("", src)) and "Visible part:" not in src]
    assert not silent, f"{assignment}: visible tests with no signal and no explanation: {silent}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_parts_hold_no_hidden_answer(assignment: str) -> None:
    for gid, src in _test_cells(assignment):
        hidden = "".join(HIDDEN.findall(src))
        visible = HIDDEN.sub("", src)
        for call in re.findall(r"check\.(?:choice_is|sympy_equal)\([^\n]*", hidden):
            assert call not in visible, (gid, call)
        for letter in re.findall(r'check\.choice_is\([^,]+,[^,]+,\s*"([A-E])"\)', hidden):
            assert f'"{letter}")' not in visible.replace('"ABCD")', "").replace('"ABCDE")', ""), gid


def _visible(assignment: str, gid: str) -> str:
    return HIDDEN.sub("", dict(_test_cells(assignment))[gid])


def _run(src: str, ns: dict) -> None:
    exec(compile(src, "<visible test>", "exec"), ns)


def test_sympy_visible_checks_use_finite_differences_only():
    s, r, zsym = sp.symbols("s r z")
    base = {"check": check, "sp": sp, "np": np, "math": __import__("math"), "s": s, "r": r,
            "zsym": zsym}
    src = _visible("ps1", "t1_5_tests_sigmoid_sym")
    _run(src, dict(base, sigmoid_prime_in_s=s * (1 - s)))
    with pytest.raises(AssertionError, match="central difference"):
        _run(src, dict(base, sigmoid_prime_in_s=s * (1 + s)))
    src = _visible("ps1", "t1_5_tests_tanh_sym")
    _run(src, dict(base, tanh_prime_in_r=4 * r * (1 - r)))
    with pytest.raises(AssertionError):
        _run(src, dict(base, tanh_prime_in_r=2 * r * (1 - r)))
    x, w1, w2, ws = sp.symbols("x w1 w2 ws")
    base4 = {"check": check, "sp": sp, "np": np, "x_s": x, "w1_s": w1, "w2_s": w2, "ws_s": ws}
    src = _visible("ps4", "t4_4_tests")
    sig = 1 / (1 + sp.exp(-w1 * x))
    _run(src, dict(base4, dy_dx=w2 * sig * (1 - sig) * w1 + ws))
    with pytest.raises(AssertionError):
        _run(src, dict(base4, dy_dx=w2 * sig * (1 - sig) * w1))  # the skip path is missing


def test_gradient_descent_visible_checks():
    eta, a, theta = sp.symbols("eta a theta", positive=True)
    base = {"check": check, "sp": sp, "np": np, "eta": eta, "a": a, "theta": theta}
    step = _visible("ps3", "t3_6_tests_step")
    _run(step, dict(base, gd_next=theta - eta * a * theta))
    with pytest.raises(AssertionError):
        _run(step, dict(base, gd_next=theta - eta * a * theta / 2))
    top = _visible("ps3", "t3_6_tests_eta_max")
    assert "2 / a" not in top
    _run(top, dict(base, eta_max=2 / a))
    _run(top, dict(base, eta_max=sp.sympify("2/a")))  # a plain Symbol a
    for wrong in (1 / a, 4 / a, 2 * a):
        with pytest.raises(AssertionError, match="eta_max"):
            _run(top, dict(base, eta_max=wrong))


def test_student_number_visible_checks():
    rng = np.random.default_rng(0)
    Z, T = rng.normal(size=(4, 3)), np.eye(3)[[0, 1, 2, 1]]
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    src = _visible("ps3", "t3_3_tests_grad")
    _run(src, {"check": check, "np": np, "my_dZ2": (P - T) / 4})
    for wrong in (P - T, (T - P) * 4, P / 4):
        with pytest.raises(AssertionError, match="my_dZ2"):
            _run(src, {"check": check, "np": np, "my_dZ2": wrong})
    src = _visible("ps4", "t4_2_tests_dz")
    _run(src, {"check": check, "my_dz": -0.3, "t_mine": 1.0})
    _run(src, {"check": check, "my_dz": 0.8, "t_mine": 0.0})
    for dz, t in ((0.3, 1.0), (-0.2, 0.0), (1.4, 0.0)):
        with pytest.raises(AssertionError, match="my_dz"):
            _run(src, {"check": check, "my_dz": dz, "t_mine": t})


def test_shapes_visible_check_wants_2d_shapes():
    src = _visible("ps4", "t4_1_tests_shapes")
    right = {"z": (1, 1), "W2": (1, 3), "b2": (1, 1), "h": (3, 1), "h_a": (3, 1), "m_a": (3, 1),
             "W1": (3, 4), "b1": (3, 1)}
    _run(src, {"check": check, "twin_shapes": right})
    with pytest.raises(AssertionError, match="2-D"):
        _run(src, {"check": check, "twin_shapes": dict(right, h=(3,))})
