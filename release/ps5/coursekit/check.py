"""The one checking helper of the course's tests: every failure message reads the same way.

Each function asserts (never prints). A failure raises ``AssertionError`` whose message is the
diagnosis of ``coursekit.diagnose`` (the engine the trusted grader calls too): it names the
quantity, says what is wrong (shape, which entries, error size against the tolerance) and names
a mistake only when the evidence verifies it. Shapes follow docs/conventions.md. Nothing here
knows a gradient that a student is asked to write: expected values come from the test (hidden
tests compute them) or from finite differences of a forward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from coursekit import diagnose as engine
from coursekit import expressions
from coursekit.diagnose import mistake_text
from coursekit.gradcheck import (
    DEFAULT_H,
    NUMBER_ATOL,
    NUMBER_TOL,
    PASS_TOL,
    numerical_gradient,
    rel_error,
)

__all__ = [
    "NUMBER_TOL",
    "PASS_TOL",
    "array",
    "choice",
    "choice_is",
    "finite_number",
    "grad_fd",
    "grads",
    "grads_fd",
    "is_function",
    "keys",
    "mistake_text",
    "number",
    "numerical_gradient",
    "rel_error",
    "repeatable",
    "restore_all",
    "shape",
    "sympy_derivative",
    "sympy_equal",
    "sympy_expr",
    "unchanged",
    "using",
]


def _fail(name: str, message: str) -> None:
    """Raise the course's standard failure (the name is not repeated if the message has it)."""
    raise AssertionError(message if message.startswith(name) else f"{name}: {message}")


def _fail_with(what: str, found: engine.Diagnosis, against: str) -> None:
    """Raise the engine's message for ``found``, saying what it was compared with."""
    text = found.named()
    if not text.startswith(what):
        text = f"{what}: {text}"
    raise AssertionError(f"{text}\n  (compared with {against})")


def _as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 ndarray; rejects None, strings, dicts and non-numeric objects."""
    bad = engine.hygiene(name, name, value)
    if bad is not None and bad.mistake != "non_finite" and bad.mistake != "int_dtype":
        _fail(name, bad.named())
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(name, f"expected a NumPy array of numbers, got {type(value).__name__}")
        raise  # unreachable: _fail raises


def array(
    name: str,
    value: Any,
    expected: Any,
    tol: float = PASS_TOL,
    against: str = "the expected value",
    n: int | None = None,
    loss: str | None = None,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Assert ``value`` is a finite float array shaped like ``expected`` with rel_error <= tol.

    ``n`` (the batch size) and ``loss`` let the diagnosis name a missing 1/N or a factor 2;
    ``mistakes`` maps the description of a known mistake to the array it would give (named when
    ``value`` equals it).
    """
    _as_float_array(name, value)
    found = engine.tensor_diagnosis(name, value, expected, tol=tol, n=n, loss=loss)
    if not found.ok:
        for description, tensor in (mistakes or {}).items():
            if _matches_mistake({name: value}, {name: expected}, {name: tensor}):
                _fail(name, f"{name} is wrong: {description}.\n  (compared with {against})")
        _fail_with(name, found, against)


def number(
    name: str, value: Any, expected: float, rtol: float = NUMBER_TOL, atol: float = NUMBER_ATOL,
    mistakes: Mapping[str, float] | None = None,
) -> None:
    """Assert ``value`` is a finite real number with ``rel_error(value, expected) <= rtol``
    (or within ``atol`` of an expected value near 0). ``mistakes`` maps the description of a
    known mistake to the number it gives at these inputs (named when ``value`` equals it)."""
    found = engine.number_diagnosis(name, value, float(expected), tol=rtol, atol=atol)
    if not found.ok:
        for description, wrong in (mistakes or {}).items():
            if _matches_mistake({name: value}, {name: float(expected)}, {name: float(wrong)}):
                _fail(name, f"{name} is wrong: {description}.")
        _fail(name, found.named())


def finite_number(name: str, value: Any) -> None:
    """Assert ``value`` is a finite real number (the visible check of a per-student number)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        _fail(name, f"expected a finite number (float), got {type(value).__name__}: {value!r}")


def _expression(name: str, expr: Any, symbols: Sequence[Any]) -> Any:
    """``expr`` as a SymPy expression in the Symbol objects of ``symbols``.

    A symbol of the same name but other assumptions (``sympify("2/a")`` makes a plain ``a``)
    is replaced by the notebook's symbol; any other symbol is an error.
    """
    import sympy

    try:
        e = sympy.sympify(expr)
    except (sympy.SympifyError, TypeError, SyntaxError):
        _fail(name, f"not a SymPy expression: {expr!r}")
    if not isinstance(e, sympy.Basic):
        _fail(name, f"not a SymPy expression: {expr!r}")
    by_name = {str(s): s for s in symbols}
    swap = {s: by_name[str(s)] for s in e.free_symbols if str(s) in by_name and s not in symbols}
    e = e.xreplace(swap) if swap else e
    extra = e.free_symbols - set(symbols)
    if extra:
        _fail(name, f"uses symbols {sorted(map(str, extra))}; use only {[str(s) for s in symbols]}")
    return e


def sympy_expr(name: str, expr: Any, symbols: Sequence[Any]) -> None:
    """Assert ``expr`` is a SymPy expression that uses only ``symbols`` (by name)."""
    _expression(name, expr, symbols)


def sympy_equal(
    name: str, expr: Any, expected: Any, symbols: Sequence[Any], trials: int = 6
) -> None:
    """Assert the SymPy expression ``expr`` equals ``expected`` as a function of ``symbols``.

    Evaluates both at random points (fixed seed); a failure says how they differ (a constant
    factor, a missing or extra term, or the points where they disagree).
    """
    e = _expression(name, expr, symbols)
    found = expressions.expression_diagnosis(name, e, expected, symbols, trials=trials)
    if not found.ok:
        _fail(name, found.named())


def sympy_derivative(
    name: str,
    expr: Any,
    f: Callable[..., float],
    wrt: int,
    symbols: Sequence[Any],
    expr_symbols: Sequence[Any] | None = None,
    substitute: Callable[[dict[Any, float]], dict[Any, float]] | None = None,
    trials: int = 5,
) -> None:
    """Assert ``expr`` equals the derivative of the numeric function ``f`` with respect to its
    argument number ``wrt``, at random points (central differences; no expected expression).

    ``f(*values)`` takes one float per symbol of ``symbols``. ``expr`` is written in
    ``expr_symbols`` (default ``symbols``); ``substitute`` maps a random point (symbol -> value)
    to the values of ``expr_symbols`` (e.g. s = sigmoid(z)).
    """
    e = _expression(name, expr, symbols if expr_symbols is None else expr_symbols)
    for point in expressions.points(symbols, trials, seed=1):
        values = [point[s] for s in symbols]
        h = 1e-6 * max(1.0, abs(values[wrt]))
        up, down = list(values), list(values)
        up[wrt] += h
        down[wrt] -= h
        fd = (f(*up) - f(*down)) / (up[wrt] - down[wrt])
        at = point if substitute is None else substitute(point)
        try:
            got = complex(e.subs(at).evalf())
        except TypeError:
            _fail(name, f"does not evaluate to a number at {expressions.point_text(point)}")
        if not expressions.same_values(got, complex(fd), PASS_TOL):
            _fail(name, f"at {expressions.point_text(point)} it is {expressions.num(got)}, but the "
                  f"central difference of the function gives {fd:.6g} (tolerance {PASS_TOL:g} "
                  "relative)")


def grad_fd(
    name: str,
    value: Any,
    f: Callable[[], float],
    x: np.ndarray,
    tol: float = PASS_TOL,
    n: int | None = None,
    loss: str | None = None,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Assert ``value`` matches the central difference of the scalar ``f()`` w.r.t. array ``x``.

    ``x`` is perturbed in place and restored; ``f`` must read it on every call. ``n``,
    ``loss`` and ``mistakes`` as in :func:`array`.
    """
    numeric = numerical_gradient(f, x)
    if _within_fd_noise(value, numeric, f, x):
        return
    array(name, value, numeric, tol=tol, against="finite differences", n=n, loss=loss,
          mistakes=mistakes)


def _within_fd_noise(value: Any, numeric: np.ndarray, f: Callable[[], float],
                     x: np.ndarray) -> bool:
    """Every entry of ``value`` is within the finite difference's own error of ``numeric``.

    The error is estimated twice and the larger taken: rounding, about 10 eps |f| / h (the
    central difference divides the rounding error of f by the step), and the change of the
    difference when the step is doubled. A gradient of size ~1e-5 (a saturated softmax) is
    otherwise failed for noise the difference adds, not for a mistake; a mistake smaller than
    this is beyond what finite differences can see (the trusted check compares exactly).
    """
    try:
        got = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if got.shape != numeric.shape or not np.all(np.isfinite(got)):
        return False
    f0 = abs(float(f()))
    rounding = 10 * np.finfo(np.float64).eps * max(1.0, f0) / DEFAULT_H
    coarse = numerical_gradient(f, x, 2 * DEFAULT_H)
    slack = max(rounding, 4 * float(np.max(np.abs(coarse - numeric), initial=0.0)))
    return bool(np.all(np.abs(got - numeric) <= slack))


def grads_fd(
    grads: Mapping[str, Any],
    f: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    tol: float = PASS_TOL,
    n: int | None = None,
    loss: str | None = None,
) -> None:
    """``grads[key]`` vs the central difference of ``f`` w.r.t. ``arrays[key]``, for every key,
    diagnosed together (the first wrong tensor from the output end is named)."""
    keys("the returned gradients", grads, list(arrays))
    numeric = {key: numerical_gradient(f, x) for key, x in arrays.items()}
    if all(_within_fd_noise(grads[k], numeric[k], f, x) for k, x in arrays.items()):
        return
    found = engine.diagnose({k: grads[k] for k in arrays}, numeric, n=n, tol=tol, loss=loss)
    if not found.ok:
        raise AssertionError(f"{found.named()}\n  (compared with finite differences)")


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


def _changes(before: Any, after: Any, where: str, out: list[str]) -> None:
    """Append to ``out`` where ``after`` differs from its earlier copy ``before``."""
    if len(out) >= 3:
        return
    if isinstance(before, np.ndarray):
        if (not isinstance(after, np.ndarray) or after.shape != before.shape
                or not np.array_equal(before, after, equal_nan=True)):
            out.append(where)
    elif isinstance(before, Mapping):
        if not isinstance(after, Mapping) or set(after) != set(before):
            out.append(f"{where} (keys added or removed)")
            return
        for k in before:
            _changes(before[k], after[k], f"{where}[{k!r}]", out)
    elif isinstance(before, list | tuple):
        if not isinstance(after, list | tuple) or len(after) != len(before):
            out.append(f"{where} (items added or removed)")
            return
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _changes(b, a, f"{where}[{i}]", out)


def unchanged(name: str, value: Any, before: Any, by: str) -> None:
    """Assert ``value`` (arrays, possibly in dicts and lists) still equals ``before``, a deep copy
    taken before ``by`` ran: ``by`` must not write into what it is given."""
    changed: list[str] = []
    _changes(before, value, name, changed)
    if changed:
        what = "the cache it reads" if "cache" in name else "its inputs"
        raise AssertionError(
            f"{by} changed {', '.join(changed)} in place: a function must not modify {what} "
            "(copy before changing, build new arrays): "
            + ("cache_modified" if "cache" in name else "input_modified"))


def repeatable(name: str, again: Any, first: Any) -> None:
    """Assert a second call on the same inputs (``again``) gave the first call's result: a
    function that keeps state between calls (``+=`` into a global, a default argument or the
    cache) is named, whatever its first result was."""
    changed: list[str] = []
    _changes(_copy_of(first), _copy_of(again), name, changed)
    if changed:
        raise AssertionError(
            f"{name}: a second call on the same inputs gave a different result "
            f"({', '.join(changed)}): the function keeps state between calls (e.g. += into a "
            "global, a default argument or the cache); compute fresh each call: accumulates")


def _copy_of(value: Any) -> Any:
    """Numbers as float arrays, dicts and lists kept (what :func:`_changes` compares)."""
    if isinstance(value, Mapping):
        return {k: _copy_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_of(v) for v in value]
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value


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


def grads(
    what: str,
    got: Mapping[str, Any],
    want: Mapping[str, Any],
    n: int | None = None,
    against: str = "the expected value",
    mistakes: Mapping[str, Mapping[str, Any]] | None = None,
    loss: str | None = None,
    order: Sequence[str] | None = None,
) -> None:
    """Assert ``got[k]`` matches ``want[k]`` (rel_error <= PASS_TOL) for every key of ``want``.

    ``n`` is the batch size N (1 for one example; None lets the rules infer it from the
    intermediates), ``loss`` the network's loss, ``order`` the keys from the output end back
    (default: by layer number, else the order of ``want``). ``mistakes`` maps the description
    of a known mistake to the tensors that mistake would give; when ``got`` equals one of them,
    the message names it (a description that ends with "." is the whole message, e.g. one made
    by ``mistake_text``). Otherwise the engine's diagnosis is the message.
    """
    keys(what, got, list(want))
    found = engine.diagnose({k: got[k] for k in want}, want, n=n, loss=loss, order=order)
    if found.ok:
        return
    text = found.named()
    for description, tensors in (mistakes or {}).items():
        if _matches_mistake(got, want, tensors):
            differs = [k for k, v in tensors.items() if rel_error(v, want[k]) > PASS_TOL]
            text = (description if description.endswith(".")
                    else f"{engine.grad_name(differs[0])} is wrong: {description}.")
            break
    raise AssertionError(f"{what}: {text}\n  (compared with {against})")


def _matches_mistake(
    got: Mapping[str, Any], want: Mapping[str, Any], tensors: Mapping[str, Any]
) -> bool:
    """``got`` equals the mistake's tensors, which differ from the right ones."""
    if not all(k in want for k in tensors):
        return False
    if not any(np.shape(v) == np.shape(want[k]) and rel_error(v, want[k]) > PASS_TOL
               for k, v in tensors.items()):
        return False
    for k, v in tensors.items():
        try:
            arr = np.asarray(got[k], dtype=np.float64)
        except (TypeError, ValueError, KeyError):
            return False
        if arr.shape != np.shape(v) or not rel_error(arr, v) <= PASS_TOL:
            return False
    return True


class using:  # noqa: N801 - read as a verb: ``with check.using(globals(), f=ref): ...``
    """Put given functions in place of the student's for one check, then restore the student's.

    ``with check.using(globals(), batch_forward=ref):`` swaps for the block;
    ``check.using(globals(), batch_forward=ref).for_this_cell()`` swaps until the running cell
    ends (an IPython ``post_run_cell`` hook restores the bindings even when the cell fails; where
    no IPython shell runs, the caller ends the cell with ``check.restore_all()``). Hidden tests use
    it so that a task is judged with correct versions of the earlier functions it builds on.
    """

    _active: list[using] = []

    def __init__(self, namespace: dict[str, Any], **functions: Callable[..., Any]) -> None:
        self.namespace, self.functions = namespace, functions
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> using:
        missing = object()
        self.saved = {k: self.namespace.get(k, missing) for k in self.functions}
        self._missing = missing
        self.namespace.update(self.functions)
        using._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            if value is self._missing:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value
        if self in using._active:
            using._active.remove(self)

    def for_this_cell(self) -> None:
        """Swap now; restore when the running cell ends."""
        self.__enter__()
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - the course always runs in IPython
            return
        shell = get_ipython()
        if shell is None:
            return

        def _restore(*_args: object) -> None:
            self.__exit__()
            shell.events.unregister("post_run_cell", _restore)

        shell.events.register("post_run_cell", _restore)


def restore_all() -> None:
    """Undo every swap of ``using`` still in force (newest first)."""
    for swap in reversed(list(using._active)):
        swap.__exit__()
