"""coursekit.check (the uniform checking helper) and coursekit.seeds (per-student numbers)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from coursekit import check, seeds


def test_student_seed_is_deterministic_and_separates_students() -> None:
    a = seeds.student_seed("backprop-course", "ps1", "alice")
    assert a == seeds.student_seed("backprop-course", "ps1", " Alice ")
    assert a != seeds.student_seed("backprop-course", "ps1", "bob")
    assert a != seeds.student_seed("backprop-course", "ps2", "alice")
    assert a != seeds.student_seed("other-course", "ps1", "alice")
    assert 0 <= a < 2**63


def test_numbers_are_rounded_away_from_zero_and_per_student() -> None:
    mine = seeds.numbers("ps1", "alice", "t1_1", ["w", "x", "b", "t"])
    assert list(mine) == ["w", "x", "b", "t"]
    assert all(abs(v) >= 0.3 and round(v, 1) == v and -2 <= v <= 2 for v in mine.values())
    assert mine == seeds.numbers("ps1", "alice", "t1_1", ["w", "x", "b", "t"])
    assert mine != seeds.numbers("ps1", "bob", "t1_1", ["w", "x", "b", "t"])
    m = seeds.matrix("ps1", "alice", "t1_3_W1", (3, 2))
    assert m.shape == (3, 2) and m.dtype == np.float64 and np.all(np.abs(m) >= 0.2)


def test_student_id_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var in ("BPC_STUDENT_ID", "JUPYTERHUB_USER", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="type your student id"):
        seeds.student_id("")
    assert seeds.student_id(" typed ") == "typed"
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    assert seeds.student_id("typed") == "hubuser"
    folder = tmp_path / "autograded" / "carol" / "ps1"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    assert seeds.student_id("typed") == "hubuser"  # not autograding
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert seeds.student_id("typed") == "carol"
    monkeypatch.setenv("BPC_STUDENT_ID", "dave")
    assert seeds.student_id("typed") == "dave"


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_array_passes_and_names_quantity_measure_and_tolerance() -> None:
    ref = np.arange(1.0, 7.0).reshape(2, 3)
    check.array("dW2", ref * (1 + 1e-9), ref)
    msg = _message(check.array, "dW2", ref + np.array([[0, 0, 0], [0, 0, 0.5]]), ref)
    assert msg.startswith("dW2 is wrong (relative error 0.0258, tolerance 1e-06")
    assert "only 1 of 6 entries is wrong: (1, 2)" in msg
    assert msg.endswith("(compared with the expected value)")


@pytest.mark.parametrize(
    ("candidate", "words"),
    [
        (lambda r: r.T, "transpose"),
        (lambda r: -r, "wrong sign"),
        (lambda r: r.reshape(-1), "shape"),
        (lambda r: None, "is None"),
        (lambda r: np.zeros_like(r), "0"),
    ],
)
def test_array_names_common_mistakes(candidate, words: str) -> None:
    ref = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]])
    assert words in _message(check.array, "dW2", candidate(ref), ref)


def test_factors_are_named_only_with_the_evidence_for_them() -> None:
    ref = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]])
    assert "N=5" in _message(check.array, "dW2", 5 * ref, ref, n=5)
    assert "times" not in _message(check.array, "dW2", 5 * ref, ref)  # N unknown
    assert "half" in _message(check.array, "dW2", 0.5 * ref, ref, loss="squared_error")
    assert "half" not in _message(check.array, "dW2", 0.5 * ref, ref, loss="cross_entropy")


def test_square_transpose_is_named() -> None:
    ref = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transpose" in _message(check.array, "dW2", ref.T, ref)


def test_numbers_choices_and_sympy() -> None:
    check.number("dL_dw", 0.123456, 0.1234567)
    assert "not the expected value" in _message(check.number, "dL_dw", 0.13, 0.1234567)
    assert "sign" not in _message(check.number, "dL_dw", -0.1234567, 0.1234567)  # one number
    check.number("dL_db", 1e-17, 0.0)  # an expected 0 has an absolute slack
    assert "number" in _message(check.number, "dL_dw", "0.12", 0.12)
    check.finite_number("x", np.float64(2.0))
    assert "finite" in _message(check.finite_number, "x", float("nan"))
    check.choice("mc", " c ", "ABCD")
    assert "one of" in _message(check.choice, "mc", "F", "ABCD")
    check.choice_is("mc", "c", "C")
    assert "not the right option" in _message(check.choice_is, "mc", "A", "C")
    s = sp.Symbol("s")
    check.sympy_equal("d", s - s**2, s * (1 - s), [s])
    assert "differs" in _message(check.sympy_equal, "d", s * (1 + s) + 1 / (1 + s), s * (1 - s),
                                 [s])
    assert "wrong sign" in _message(check.sympy_equal, "d", s * (1 + s), s * (1 - s), [s])
    assert "uses symbols" in _message(check.sympy_expr, "d", sp.Symbol("z") * s, [s])


def test_finite_difference_checks() -> None:
    W = np.array([[0.5, -1.0], [2.0, 0.3]])
    x = np.array([[1.0], [-2.0]])

    def loss() -> float:
        return float(np.sum(np.tanh(W @ x)))

    good = (1 - np.tanh(W @ x) ** 2) @ x.T
    check.grad_fd("dW", good, loss, W)
    check.grads_fd({"W": good}, loss, {"W": W})
    assert "finite differences" in _message(check.grad_fd, "dW", 2 * good, loss, W)
    msg = _message(check.grads_fd, {"W": good.T}, loss, {"W": W})
    assert msg.startswith("dW has the right shape but holds the transpose")
    assert "missing keys" in _message(check.grads_fd, {}, loss, {"W": W})
