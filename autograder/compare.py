"""Trusted comparison of student values with reference values, with a mistake diagnosis.

Triage follows docs (gradient-checking notes §4): hygiene (type, finiteness), shape rules
(transpose, one row per example, wrong axis, (K,) vs (K, 1)), pass, exact ratio (N, 1/N, -1, 2,
1/2, -N), square transpose, else cosine and norm ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Part:
    """The comparison of one tensor or number."""

    name: str
    ok: bool
    error: float | None
    message: str


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / max(||a|| + ||b||, 1e-300)`` in float64 (0 for two zero arrays)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / max(denom, 1e-300))


def compare_value(got: Any, want: Any, name: str, tol: float,
                  n_hint: int | None = None) -> list[Part]:
    """Compare a decoded student value with the reference; dicts are compared key by key."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [Part(name or "value", False, None,
                         f"{name or 'the result'} should be a dict with keys "
                         f"{sorted(want)}, got {type(got).__name__}")]
        parts: list[Part] = []
        for key in want:
            sub = f"{name}.{key}" if name else str(key)
            if key not in got:
                parts.append(Part(sub, False, None, f"key '{key}' is missing from the result"))
            else:
                parts.extend(compare_value(got[key], want[key], sub, tol, n_hint))
        return parts
    if isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            return [Part(name or "value", False, None,
                         f"{name or 'the result'} should be a sequence of {len(want)} items")]
        parts = []
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            parts.extend(compare_value(g, w, f"{name}[{i}]", tol, n_hint))
        return parts
    return [_compare_array(got, want, name or "value", tol, n_hint)]


def compare_shapes(got: Any, want: Any, name: str) -> list[Part]:
    """Like :func:`compare_value` but only keys, types and shapes are checked."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [Part(name or "value", False, None,
                         f"{name or 'the result'} should be a dict with keys {sorted(want)}")]
        parts: list[Part] = []
        for key in want:
            sub = f"{name}.{key}" if name else str(key)
            if key not in got:
                parts.append(Part(sub, False, None, f"key '{key}' is missing from the result"))
            else:
                parts.extend(compare_shapes(got[key], want[key], sub))
        return parts
    w = np.asarray(want)
    if got is None or isinstance(got, (str, dict, list, tuple)):
        return [Part(name or "value", False, None, f"{name or 'the result'} should be an array")]
    g = np.asarray(got)
    if g.shape != w.shape:
        return [Part(name or "value", False, None, _shape_message(
            g.astype(np.float64), w.astype(np.float64), name or "value"))]
    return [Part(name or "value", True, None, "shape correct")]


def _compare_array(got: Any, want: Any, name: str, tol: float, n_hint: int | None) -> Part:
    w = np.asarray(want, dtype=np.float64)
    if got is None or isinstance(got, (str, dict, list, tuple)):
        return Part(name, False, None, f"{name} should be a number or array, "
                    f"got {type(got).__name__}")
    g_raw = np.asarray(got)
    if g_raw.dtype.kind == "c":
        return Part(name, False, None, f"{name} is complex; expected real float64 values")
    g = g_raw.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return Part(name, False, None, f"{name} contains NaN or inf: gradients must be finite "
                    "floats (use a numerically stable formula)")
    if g.shape != w.shape:
        return Part(name, False, None, _shape_message(g, w, name))
    err = rel_error(g, w)
    if err <= tol:
        return Part(name, True, err, f"{name} correct (relative error {err:.1e})")
    return Part(name, False, err, _value_message(g, w, name, err, tol, n_hint))


def _shape_message(g: np.ndarray, w: np.ndarray, name: str) -> str:
    if g.ndim == 2 and w.ndim == 2 and g.shape == w.shape[::-1]:
        return (f"{name} has shape {g.shape}, the transpose of the expected {w.shape}: "
                "check the order of the matrix product (dW = dZ.T @ A_prev in the batch layout)")
    if g.size == w.size and np.allclose(g.reshape(w.shape), w, rtol=1e-6, atol=1e-12):
        return f"{name}: the values are right but the shape should be {w.shape}, not {g.shape}"
    if g.ndim == 2 and w.ndim == 2 and w.shape[1] == 1 and g.shape[1] == w.shape[0]:
        if np.allclose(g.sum(axis=0), w[:, 0], rtol=1e-6, atol=1e-12):
            return (f"{name} has one row per example {g.shape}: sum over the examples to get "
                    f"shape {w.shape}")
    if (g.ndim == 2 and w.ndim == 2 and w.shape[1] == 1 and g.shape[0] == w.shape[0]
            and np.allclose(g.sum(axis=1), w[:, 0], rtol=1e-6, atol=1e-12)):
        return (f"{name} has one column per example {g.shape}: sum over the examples to get "
                f"shape {w.shape}")
    if g.ndim == 1 and w.ndim == 2 and w.shape[1] == 1:
        return f"{name} has shape {g.shape}: summed over the wrong axis? expected {w.shape}"
    return f"{name} has shape {g.shape}, expected {w.shape}"


_RATIOS = ((-1.0, "has the wrong sign"), (2.0, "is exactly 2x too large"),
           (0.5, "is exactly half the correct value"))


def _value_message(g: np.ndarray, w: np.ndarray, name: str, err: float, tol: float,
                   n_hint: int | None) -> str:
    base = f"{name} is wrong (relative error {err:.2e})"
    ww = float(np.vdot(w, w))
    if ww > 0:
        a = float(np.vdot(g, w) / ww)
        candidates = list(_RATIOS)
        if n_hint and n_hint not in (1, 2):
            candidates += [(float(n_hint), f"is exactly N = {n_hint} times too large: the loss "
                            "is a mean, so divide by N"),
                           (1.0 / n_hint, "is 1/N of the correct value: N was divided out twice"),
                           (-float(n_hint), "has the wrong sign and misses the 1/N")]
        for ratio, text in candidates:
            if abs(a - ratio) <= 1e-6 * max(1.0, abs(ratio)) and rel_error(g, ratio * w) <= tol:
                return f"{base}: it {text}"
    if g.ndim == 2 and g.shape[0] == g.shape[1] and rel_error(g, w.T) <= tol:
        return f"{base}: it equals the transpose of the correct value"
    gn, wn = float(np.linalg.norm(g)), float(np.linalg.norm(w))
    if g.size == 1:
        return base
    if gn == 0.0:
        return f"{base}: it is all zeros"
    cos = float(np.vdot(g, w) / (gn * wn)) if wn > 0 else 0.0
    return f"{base}; cosine with the correct value {cos:.3f}, norm ratio {gn / max(wn, 1e-300):.3f}"
