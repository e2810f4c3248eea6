"""The one checking helper of the course's tests: every failure message reads the same way.

Each function asserts (never prints). A failure raises ``AssertionError`` whose message names
the quantity, the error measure, the tolerance and, when a rule recognises it, the mistake
(transpose, sign, a constant factor such as N or 2, a wrong shape). Shapes follow
docs/conventions.md. Nothing here knows a gradient that a student is asked to write: expected
values come from the test (hidden tests compute them) or from finite differences of a forward
pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from coursekit.gradcheck import PASS_TOL, numerical_gradient, rel_error

__all__ = [
    "PASS_TOL",
    "array",
    "choice",
    "choice_is",
    "finite_number",
    "grad_fd",
    "grads_fd",
    "hint",
    "is_function",
    "keys",
    "number",
    "numerical_gradient",
    "rel_error",
    "shape",
    "sympy_equal",
    "sympy_expr",
]

FD_TOL = 1e-6
"""Tolerance of a gradient against a central difference (float64, kink-free instance)."""

NUMBER_RTOL = 1e-4
"""Relative tolerance of a number (typed or computed): 4 significant digits."""

_FACTORS = (-1.0, 2.0, 0.5, -2.0, -0.5, 3.0, 4.0, 5.0, 0.25, 0.2, 1.0 / 3.0)


def _fail(name: str, message: str, hint: str | None = None) -> None:
    """Raise the course's standard failure."""
    text = f"{name}: {message}"
    if hint:
        text += f"\n  Likely mistake: {hint}"
    raise AssertionError(text)


def _as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 ndarray; rejects None, strings, dicts and non-numeric objects."""
    if value is None:
        _fail(name, "got None; did the function forget to return its result?")
    if isinstance(value, (str, bytes, dict)):
        _fail(name, f"expected a NumPy array of numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(name, f"expected a NumPy array of numbers, got {type(value).__name__}")
    return arr


def _factor(value: np.ndarray, expected: np.ndarray) -> float | None:
    """The constant ``a`` with ``value == a * expected`` if one explains the difference."""
    denom = float(np.vdot(expected, expected))
    if denom == 0.0:
        return None
    a = float(np.vdot(value, expected)) / denom
    if rel_error(value, a * expected) > 1e-6:
        return None
    for f in _FACTORS:
        if abs(a - f) <= 1e-6 * max(1.0, abs(f)):
            return f
    if abs(a - round(a)) < 1e-6 and abs(a) > 1:
        return float(round(a))
    if abs(a) > 1e-12 and abs(1 / a - round(1 / a)) < 1e-6:
        return 1.0 / round(1 / a)
    return a


def hint(value: np.ndarray, expected: np.ndarray) -> str | None:
    """Name a common mistake that turns ``expected`` into ``value``, or None."""
    if value.shape != expected.shape:
        if value.ndim == 2 and value.shape == expected.T.shape:
            return (
                f"the shape {value.shape} is the transpose of {expected.shape}: check the order "
                "of the factors (output x input) or a missing .T"
            )
        if value.size == expected.size:
            if np.allclose(value.reshape(expected.shape), expected, rtol=1e-6, atol=1e-12):
                return (
                    f"the values are right but the shape should be {expected.shape}, "
                    f"not {value.shape}"
                )
            return f"{value.size} entries in the wrong layout: expected shape {expected.shape}"
        if (
            value.ndim == 2
            and value.shape[0] == value.shape[1]
            and expected.ndim == 2
            and (1 in expected.shape)
        ):
            return (
                f"a square {value.shape} result where a vector {expected.shape} was expected: a "
                "(K,) array was broadcast against a (K, 1) column, or an outer product was used "
                "instead of a matrix-vector product"
            )
        return f"expected shape {expected.shape}, got {value.shape}"
    if not np.any(value) and np.any(expected):
        return "every entry is 0"
    a = _factor(value, expected)
    if a is not None and abs(a - 1.0) > 1e-6:
        if a == -1.0:
            return "every entry has the wrong sign"
        if a > 0:
            return (
                f"every entry is exactly {a:g} times the correct value (a missing or extra "
                "constant factor such as 2, 1/2 or 1/N)"
            )
        return f"every entry is exactly {a:g} times the correct value (sign and a constant factor)"
    if value.ndim == 2 and value.shape[0] == value.shape[1] and value.shape[0] > 1:
        if rel_error(value, expected.T) <= 1e-6:
            return "the result is the transpose of the correct one"
    return None


def _describe(value: np.ndarray, expected: np.ndarray) -> str:
    """Cosine, norm ratio and worst entry, for failures that no rule names."""
    nv, ne = float(np.linalg.norm(value)), float(np.linalg.norm(expected))
    parts = []
    if nv > 0 and ne > 0:
        parts.append(f"cosine {float(np.vdot(value, expected)) / (nv * ne):.3f}")
        parts.append(f"norm ratio {nv / ne:.3f}")
    idx = np.unravel_index(int(np.argmax(np.abs(value - expected))), value.shape)
    parts.append(
        f"worst entry {tuple(int(i) for i in idx)}: got {value[idx]:.6g}, "
        f"expected {expected[idx]:.6g}"
    )
    return "; ".join(parts)


def _rules_diagnosis(candidate: Mapping[str, Any], trusted: Mapping[str, Any]) -> str | None:
    """The message of ``coursekit.diagnose.diagnose`` for a dict of tensors, if it names one."""
    try:
        from coursekit import diagnose as rules  # the catalogue of named mistakes
    except ImportError:
        return None
    try:
        found = rules.diagnose(candidate, trusted)
    except Exception:  # noqa: BLE001 - a diagnosis must never hide the failure itself
        return None
    if getattr(found, "ok", True) or getattr(found, "mistake", "") == "wrong_values":
        return None
    message = getattr(found, "message", None)
    return message if isinstance(message, str) and message else None


def _diagnose(name: str, value: np.ndarray, expected: np.ndarray) -> str | None:
    """Name the mistake: ``coursekit.diagnose``'s catalogue first, then the rules above."""
    return _rules_diagnosis({name: value}, {name: expected}) or hint(value, expected)


def array(
    name: str, value: Any, expected: Any, tol: float = PASS_TOL, against: str = "the expected value"
) -> None:
    """Assert ``value`` is a finite float array shaped like ``expected`` with rel_error <= tol."""
    v = _as_float_array(name, value)
    e = np.asarray(expected, dtype=np.float64)
    if v.shape != e.shape:
        _fail(name, f"shape {v.shape}, expected {e.shape}", _diagnose(name, v, e))
    if not np.all(np.isfinite(v)):
        _fail(name, "contains NaN or inf; use a numerically stable formula")
    err = rel_error(v, e)
    if not err <= tol:
        msg = f"rel_error against {against} = {err:.3g} > tolerance {tol:g}"
        found = _diagnose(name, v, e)
        _fail(name, msg, found if found else _describe(v, e))


def number(
    name: str, value: Any, expected: float, rtol: float = NUMBER_RTOL, atol: float = 1e-8
) -> None:
    """Assert ``value`` is a finite real number within ``atol + rtol |expected|`` of expected."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        _fail(name, f"expected a number (float), got {type(value).__name__}: {value!r}")
    v = float(value)
    if not math.isfinite(v):
        _fail(name, f"is {v}, not a finite number")
    if abs(v - expected) > atol + rtol * abs(expected):
        found = None
        if expected != 0 and abs(v / expected + 1) < rtol:
            found = "the sign is wrong"
        elif expected != 0 and v != 0:
            found = f"off by a factor {v / expected:.4g}"
        _fail(
            name,
            f"{v:.6g} is not within the tolerance (relative {rtol:g}) of the expected value",
            found,
        )


def finite_number(name: str, value: Any) -> None:
    """Assert ``value`` is a finite real number (the visible check of a per-student number)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        _fail(name, f"expected a finite number (float), got {type(value).__name__}: {value!r}")


def sympy_expr(name: str, expr: Any, symbols: Sequence[Any]) -> None:
    """Assert ``expr`` is a SymPy expression that uses only ``symbols``."""
    import sympy

    try:
        e = sympy.sympify(expr)
    except (sympy.SympifyError, TypeError):
        _fail(name, f"not a SymPy expression: {expr!r}")
    extra = e.free_symbols - set(symbols)
    if extra:
        _fail(name, f"uses symbols {sorted(map(str, extra))}; use only {[str(s) for s in symbols]}")


def grad_fd(
    name: str,
    value: Any,
    f: Callable[[], float],
    x: np.ndarray,
    tol: float = FD_TOL,
) -> None:
    """Assert ``value`` matches the central difference of the scalar ``f()`` w.r.t. array ``x``.

    ``x`` is perturbed in place and restored; ``f`` must read it on every call.
    """
    numeric = numerical_gradient(f, x)
    array(name, value, numeric, tol=tol, against="finite differences")


def grads_fd(
    grads: Mapping[str, Any],
    f: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    tol: float = FD_TOL,
    prefix: str = "d",
) -> None:
    """``grads[key]`` vs the central difference of ``f`` w.r.t. ``arrays[key]``, for every key.

    All tensors are compared before failing, so the message can say which layers are wrong
    (``coursekit.diagnose`` localises the mistake across the dict).
    """
    keys("the returned gradients", grads, list(arrays))
    numeric = {key: numerical_gradient(f, x) for key, x in arrays.items()}
    failures = []
    for key in arrays:
        try:
            array(f"{prefix}{key}", grads[key], numeric[key], tol=tol, against="finite differences")
        except AssertionError as exc:
            failures.append(str(exc))
    if failures:
        candidate = {k: np.asarray(grads[k], dtype=np.float64) for k in arrays}
        overall = _rules_diagnosis(candidate, numeric)
        text = failures[0]
        if overall and overall not in text:
            text += f"\n  Across all tensors: {overall}"
        raise AssertionError(text)


def keys(name: str, d: Any, required: Iterable[str]) -> None:
    """Assert ``d`` is a dict holding every key of ``required``."""
    if not isinstance(d, Mapping):
        _fail(name, f"expected a dict, got {type(d).__name__}")
    missing = [k for k in required if k not in d]
    if missing:
        _fail(name, f"missing keys {missing}; it has {sorted(d)}")


def shape(name: str, value: Any, expected_shape: tuple[int, ...]) -> None:
    """Assert ``value`` is an array of shape ``expected_shape``."""
    v = _as_float_array(name, value)
    if v.shape != tuple(expected_shape):
        _fail(name, f"shape {v.shape}, expected {tuple(expected_shape)}")


def is_function(name: str, obj: Any) -> None:
    """Assert ``obj`` is callable (the answer cell defines the function)."""
    if not callable(obj):
        _fail(name, f"expected a function, got {type(obj).__name__}")


def choice(name: str, answer: Any, options: Sequence[str]) -> None:
    """Assert ``answer`` is one of ``options`` (a letter such as "A")."""
    if not isinstance(answer, str) or answer.strip().upper() not in options:
        _fail(name, f"answer with one of {list(options)} as a string, got {answer!r}")


def choice_is(name: str, answer: Any, correct: str) -> None:
    """Assert the multiple-choice ``answer`` is ``correct`` (case and spaces ignored)."""
    if not isinstance(answer, str) or answer.strip().upper() != correct:
        _fail(name, f"{answer!r} is not the right option")


def sympy_equal(
    name: str, expr: Any, expected: Any, symbols: Sequence[Any], trials: int = 5
) -> None:
    """Assert the SymPy expression ``expr`` equals ``expected`` as a function of ``symbols``.

    Tries ``simplify(expr - expected) == 0`` and, when that is inconclusive, compares the two
    at random points in [-1.5, 1.5].
    """
    import sympy  # imported here: only a few notebooks need it

    sympy_expr(name, expr, symbols)
    e = sympy.sympify(expr)
    if sympy.simplify(e - expected) == 0:
        return
    f = sympy.lambdify(symbols, e - expected, "numpy")
    gen = np.random.default_rng()
    for _ in range(trials):
        point = gen.uniform(-1.5, 1.5, size=len(symbols))
        with np.errstate(all="ignore"):
            diff = complex(f(*point))
        if not abs(diff) <= 1e-9:
            _fail(
                name, f"differs from the correct expression (difference {abs(diff):.3g} at {point})"
            )


def grads(
    what: str,
    got: Mapping[str, Any],
    want: Mapping[str, Any],
    n: int | None = None,
    against: str = "the expected value",
    mistakes: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Assert ``got[k]`` matches ``want[k]`` (rel_error <= PASS_TOL) for every key of ``want``.

    ``n`` is the batch size N (1 for one example; None lets the rules infer it). ``mistakes``
    maps the description of a known mistake to the tensors that mistake would give; when ``got``
    equals one of them, the message names it. Otherwise ``coursekit.diagnose`` names what it
    recognises (a missing 1/N, a bias not summed over the batch, a transpose, ...). The message
    names the first wrong tensor, the error measure against ``against`` and the tolerance.
    """
    from coursekit import diagnose as rules

    keys(what, got, list(want))
    found = rules.diagnose({k: got[k] for k in want}, want, n=n)
    if found.ok:
        return
    key = found.tensor if found.tensor in want else next(iter(want))
    hint_text = found.message
    for text, tensors in (mistakes or {}).items():
        differs = [k for k, v in tensors.items() if k in want and rel_error(v, want[k]) > PASS_TOL]
        if differs and all(
            k in want and np.shape(got[k]) == np.shape(v) and rel_error(got[k], v) <= PASS_TOL
            for k, v in tensors.items()
        ):
            key, hint_text = differs[0], text
            break
    if np.shape(got[key]) == np.shape(want[key]):
        measure = (
            f"rel_error against {against} = {rel_error(got[key], want[key]):.3g}"
            f" > tolerance {PASS_TOL:g}"
        )
    else:
        measure = f"shape {np.shape(got[key])}, expected {np.shape(want[key])}"
    raise AssertionError(f"{what}: {rules.grad_name(key)} {measure}\n  Likely mistake: {hint_text}")
