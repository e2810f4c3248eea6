"""SymPy answers judged in the trusted process.

The isolated runner sends a SymPy answer as the text of ``sympy.srepr`` (for instance
``Mul(Integer(4), Symbol('r'))``). Here that text is parsed with ``ast`` and rebuilt from a
whitelist of SymPy classes: nothing of it is evaluated as Python, so a hostile answer can only be
a wrong expression. Symbols are matched BY NAME to the notebook's symbols, so an answer built
with ``sympy.sympify("2/a")`` or ``sympy.Symbol("a")`` (no assumptions) is judged by its value
like one built from the notebook's own symbols.

:func:`sympy_task` makes the ``TaskSpec`` of one SymPy answer.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Sequence
from typing import Any

from autograder.tasks import Probe, TaskSpec, Trial, Verdict

_CLASSES = (
    "Add", "Mul", "Pow", "Symbol", "Dummy", "Integer", "Rational", "Float", "exp", "log", "sin",
    "cos", "tan", "tanh", "sinh", "cosh", "sech", "csch", "coth", "Abs", "Max", "Min", "Heaviside",
    "sign",
)
_CONSTANTS = ("pi", "E", "I", "oo", "zoo", "nan")
_MAX_NODES = 2000


class ExpressionError(ValueError):
    """The text is not an expression built from the whitelisted SymPy classes."""


def from_srepr(text: str) -> Any:
    """Rebuild a SymPy expression from ``sympy.srepr`` text without evaluating Python."""
    import sympy

    if not isinstance(text, str) or len(text) > 20_000:
        raise ExpressionError("not the text of a SymPy expression")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError("not the text of a SymPy expression") from exc
    if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
        raise ExpressionError("the expression is too large")
    allowed = {name: getattr(sympy, name) for name in _CLASSES}

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -build(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in allowed:
                raise ExpressionError(f"{name} is not allowed in an answer")
            args = [build(a) for a in node.args]
            if name in ("Symbol", "Dummy"):
                if len(args) != 1 or not isinstance(args[0], str):
                    raise ExpressionError("a symbol needs a name")
                return sympy.Symbol(args[0])  # assumptions dropped: matched by name
            if name == "Float":
                return sympy.Float(str(args[0]) if args else "0")
            if name in ("Integer", "Rational"):
                if not all(isinstance(a, int) and abs(a) <= 10**12 for a in args):
                    raise ExpressionError(f"{name} needs integers of at most 12 digits")
                return getattr(sympy, name)(*args)
            if not args or any(isinstance(a, str) for a in args):
                raise ExpressionError(f"{name} needs expression arguments")
            if name == "Pow" and len(args) == 2 and getattr(args[1], "is_Number", False) and abs(
                    float(args[1])) > 64:
                raise ExpressionError("an exponent larger than 64 is not a plausible answer")
            return allowed[name](*args)
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return getattr(sympy, node.id)
        raise ExpressionError("unexpected syntax in the expression")

    return sympy.sympify(build(tree.body))


def as_expression(got: Any) -> Any:
    """The student's answer as a SymPy expression: the runner's srepr text (the only form that
    crosses from the sandbox), or an expression already (in-process tests)."""
    import sympy

    if isinstance(got, sympy.Basic):
        return got
    return from_srepr(got)


def by_name(expr: Any, symbols: Sequence[Any]) -> Any:
    """``expr`` with every symbol replaced by the one of ``symbols`` with the same name."""
    named = {s.name: s for s in symbols}
    return expr.xreplace({s: named[s.name] for s in expr.free_symbols if s.name in named})


def compare_expression(trials: Sequence[Trial], spec: TaskSpec) -> Verdict:
    """Judge a SymPy answer: the right function of the allowed symbols (by value)."""
    trial = trials[0]
    name = trial.probe.name
    symbols, expected = trial.want
    if trial.error is not None:
        return Verdict(0.0, spec.points, f"{name}: {trial.error}", "error")
    try:
        expr = by_name(as_expression(trial.got), symbols)
    except (ExpressionError, TypeError, ValueError) as exc:
        return Verdict(0.0, spec.points, f"{name}: {exc}", "not_an_expression")
    extra = sorted(str(s) for s in expr.free_symbols if s not in set(symbols))
    if extra:
        return Verdict(0.0, spec.points, f"{name} uses {', '.join(extra)}; use only "
                       f"{', '.join(str(s) for s in symbols)}", "wrong_symbols")
    ok, mistake, message = _diagnose(name, expr, expected, symbols)
    if ok:
        return Verdict(spec.points, spec.points, "correct", "")
    return Verdict(0.0, spec.points, message, mistake)


def _diagnose(name: str, expr: Any, expected: Any, symbols: Sequence[Any]) -> tuple[bool, str,
                                                                                    str]:
    """(ok, mistake id, message) from the one diagnosis engine when it knows expressions."""
    expression_diagnosis = None
    for module in ("coursekit.expressions", "coursekit.diagnose"):
        try:
            expression_diagnosis = getattr(importlib.import_module(module),
                                           "expression_diagnosis", None)
        except ImportError:
            continue
        if expression_diagnosis is not None:
            break
    if expression_diagnosis is not None:
        found = expression_diagnosis(name, expr, expected, list(symbols))
        return found.ok, found.mistake, found.message
    import sympy

    if sympy.simplify(expr - expected) == 0:
        return True, "correct", f"{name} is right."
    return False, "expression_wrong", f"{name} is not equal to the right expression."


def sympy_task(
    grade_id: str,
    name: str,
    symbols: Callable[[], Sequence[Any]],
    expected: Callable[[Sequence[Any]], Any],
    points: float = 1,
    compare: Callable[[Sequence[Trial], TaskSpec], Verdict] = compare_expression,
) -> TaskSpec:
    """A SymPy answer: the variable ``name`` must equal ``expected(symbols)`` as a function of
    ``symbols()`` (the notebook's symbols, with its assumptions), by value."""

    def reference(probe: Probe) -> tuple[Sequence[Any], Any]:
        syms = list(symbols())
        return syms, expected(syms)

    return TaskSpec(grade_id, points, (name,), lambda ctx: [Probe(name, call=False, sympy=True,
                                                                  label=name)],
                    reference, compare=compare)
