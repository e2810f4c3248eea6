"""The diagnosis engine's rules for symbolic (SymPy) answers.

``expression_diagnosis(label, expr, expected, symbols)`` evaluates both expressions at random
points (fixed seed) and says how they differ: a constant factor (or the sign) at every point,
one term of the right sum missing, one extra term, one term with the wrong sign, or the points
where they disagree. It returns a ``coursekit.diagnose.Diagnosis``; ``coursekit.check`` turns a
failed one into the test's message. SymPy is imported only when a function here is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from coursekit.diagnose import Diagnosis


def points(
    symbols: Sequence[Any], trials: int, seed: int, low: float = 0.3, high: float = 1.7
) -> list[dict[Any, float]]:
    """Random points with every symbol in +-[low, high] (positive symbols stay positive)."""
    gen = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        point = {}
        for s in symbols:
            x = float(gen.uniform(low, high))
            if not getattr(s, "is_positive", False) and not getattr(s, "is_nonnegative", False):
                x *= float(gen.choice([-1.0, 1.0]))
            point[s] = x
        out.append(point)
    return out


def _evaluate(f: Any, symbols: Sequence[Any], point: Mapping[Any, float]) -> complex:
    with np.errstate(all="ignore"):
        try:
            return complex(f(*[point[s] for s in symbols]))
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            return complex(np.nan)


def same_values(a: complex, b: complex, tol: float = 1e-9) -> bool:
    """Two evaluations agree (relative to their size, absolute near 0)."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def expression_diagnosis(
    label: str,
    expr: Any,
    expected: Any,
    symbols: Sequence[Any],
    *,
    trials: int = 6,
    seed: int = 0,
) -> Diagnosis:
    """Compare a SymPy expression with the expected one as functions of ``symbols``.

    ``expr`` must already use the Symbol objects of ``symbols`` (see ``coursekit.check``).
    Both are evaluated at ``trials`` random points; equal values everywhere (or
    ``simplify(expr - expected) == 0``) pass. Otherwise: a constant ratio over every point
    (an off-by-a-factor answer), one term of the expected sum missing or one extra term, or
    the points where the two differ.
    """
    import sympy  # imported here: only a few notebooks need it

    symbols = list(symbols)
    e, x = sympy.sympify(expr), sympy.sympify(expected)
    f = sympy.lambdify(symbols, e, "numpy")
    g = sympy.lambdify(symbols, x, "numpy")
    pts = [p for p in points(symbols, 4 * trials, seed)
           if np.isfinite(_evaluate(g, symbols, p))][:trials]
    got = [_evaluate(f, symbols, p) for p in pts]
    want = [_evaluate(g, symbols, p) for p in pts]
    if all(same_values(a, b) for a, b in zip(got, want, strict=True)):
        return Diagnosis(True, "correct", None, f"{label} is right.")
    if sympy.simplify(e - x) == 0:
        return Diagnosis(True, "correct", None, f"{label} is right.")
    if any(not np.isfinite(a) for a in got):
        bad = next(p for p, a in zip(pts, got, strict=True) if not np.isfinite(a))
        return Diagnosis(False, "expression_wrong", label,
                         f"{label} is not defined (division by zero or overflow) at "
                         f"{point_text(bad)}, where the right expression is.")
    ratios = [a / b for a, b in zip(got, want, strict=True) if abs(b) > 1e-12]
    if (len(ratios) >= 3 and all(same_values(q, ratios[0], 1e-7) for q in ratios)
            and not same_values(ratios[0], 1.0, 1e-7) and abs(ratios[0]) > 1e-12):
        q = ratios[0].real
        how = "the wrong sign" if abs(q + 1) < 1e-7 else f"a constant factor {_nice(q)}"
        return Diagnosis(False, "expression_factor", label,
                         f"{label} is off by {how}: at every test point it is {_nice(q)} times "
                         "the right value.")
    term = _term_mistake(e, x, symbols, pts)
    if term is not None:
        mistake, text = term
        return Diagnosis(False, mistake, label, f"{label} {text}.")
    where = [(p, a, b) for p, a, b in zip(pts, got, want, strict=True) if not same_values(a, b)]
    p, a, b = where[0]
    return Diagnosis(False, "expression_wrong", label,
                     f"{label} differs from the right expression at {len(where)} of {len(pts)} "
                     f"test points; e.g. at {point_text(p)} it is {num(a)}, not {num(b)}.")


def _term_mistake(e: Any, x: Any, symbols: Sequence[Any], pts: Sequence[Mapping]
                  ) -> tuple[str, str] | None:
    """(mistake id, text) when one term of the right sum is missing, one term is extra or one
    term has the wrong sign, each checked numerically at ``pts``."""
    import sympy

    def equal(u: Any, v: Any) -> bool:
        fu = sympy.lambdify(symbols, u, "numpy")
        fv = sympy.lambdify(symbols, v, "numpy")
        return all(same_values(_evaluate(fu, symbols, p), _evaluate(fv, symbols, p))
                   for p in pts)

    x_terms = sympy.Add.make_args(sympy.expand(x))
    e_terms = sympy.Add.make_args(sympy.expand(e))
    if len(x_terms) > 1 and any(equal(e, x - t) for t in x_terms):
        return ("expression_missing_term",
                "misses one term of the right expression (the rest is right)")
    if len(e_terms) > 1 and any(equal(e - t, x) for t in e_terms):
        return "expression_extra_term", "has one term too many (without it, it would be right)"
    if len(x_terms) > 1 and any(equal(e, x - 2 * t) for t in x_terms):
        return ("expression_wrong_term",
                "has one term of the right expression with the wrong sign (the rest is right)")
    return _term_factor(e, x, equal)


def _term_factor(e: Any, x: Any, equal: Any) -> tuple[str, str] | None:
    """One term of the right sum (as written, not expanded) is off by a factor, every other
    term is right: e = x - t + q t for a term t of x and a factor q (a number or a product of
    symbols, at most a power of one of them per symbol), verified numerically."""
    import sympy

    x_terms = sympy.Add.make_args(x)
    e_terms = sympy.Add.make_args(e)
    if len(x_terms) < 2 or len(e_terms) != len(x_terms):
        return None
    for t in x_terms:
        for u in e_terms:
            q = sympy.simplify(u / t)
            if q == 1 or q.free_symbols - t.free_symbols:
                continue
            if not (q.is_number or _monomial(q)):
                continue
            if equal(e, x - t + q * t):
                return ("expression_term_factor",
                        f"has one term off by a factor {q} and every other term right")
    return None


def _monomial(q: Any) -> bool:
    """A product of powers of symbols (times a number): 1/w, 2 w, w^2 / v."""
    import sympy

    return all(f.is_number or f.is_Symbol or (f.is_Pow and f.base.is_Symbol and f.exp.is_number)
               for f in sympy.Mul.make_args(q))


def _nice(q: float) -> str:
    from fractions import Fraction

    frac = Fraction(q).limit_denominator(12)
    if abs(float(frac) - q) < 1e-9:
        return str(frac)
    return f"{q:.4g}"


def num(z: complex) -> str:
    return f"{z.real:.6g}" if abs(z.imag) < 1e-12 else f"{z:.4g}"


def point_text(point: Mapping[Any, float]) -> str:
    return ", ".join(f"{s} = {v:.3f}" for s, v in point.items())
