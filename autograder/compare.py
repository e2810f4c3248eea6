"""Trusted comparison of student values with reference values: thin calls into the course's one
diagnosis engine (``coursekit.diagnose``), so the feedback says what the notebook's tests say.

``compare_value(got, want, name, tol, n_hint)`` walks dicts and sequences and compares every
leaf with ``coursekit.diagnose.tensor_diagnosis`` (numbers and arrays alike);
``compare_shapes`` checks keys, types and shapes only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit import diagnose as engine


@dataclass(frozen=True)
class Part:
    """The comparison of one tensor or number."""

    name: str
    ok: bool
    error: float | None
    message: str


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
    return [_compare_leaf(got, want, name or "value", tol, n_hint)]


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
    label = name or "value"
    if got is None or isinstance(got, (str, dict, list, tuple)):
        return [Part(label, False, None, f"{name or 'the result'} should be an array")]
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape:
        found = engine.tensor_diagnosis(label, np.zeros(g.shape), np.ones(w.shape))
        return [Part(label, False, None, found.named())]
    return [Part(label, True, None, "shape correct")]


def _compare_leaf(got: Any, want: Any, name: str, tol: float, n_hint: int | None) -> Part:
    if got is None or isinstance(got, (str, dict, list, tuple)):
        return Part(name, False, None, f"{name} should be a number or array, "
                    f"got {type(got).__name__}")
    try:
        raw = np.asarray(got)
    except (TypeError, ValueError):
        return Part(name, False, None, f"{name} should be a number or array, "
                    f"got {type(got).__name__}")
    if raw.dtype.kind in "biu":  # counts, shapes, indices: integers are right here
        got = raw.astype(np.float64)
    found = engine.tensor_diagnosis(name, got, want, tol=tol, n=n_hint or batch_size_of(
        name, raw))
    error = found.errors.get(name)
    if found.ok:
        return Part(name, True, error, f"{name} correct (relative error {error:.1e})")
    return Part(name, False, error, found.named())



_BATCH_NODE = re.compile(r"d[ZA]\d*$")


def batch_size_of(name: str, value: Any) -> int | None:
    """N for a batched node gradient named like ``my_dZ2`` or ``dA1`` (N, D_m): its rows are
    the examples (docs/conventions.md), so its first axis is the batch size; a column (D_m, 1)
    is a vector-level gradient, whose N is 1: None."""
    shape = np.shape(value)
    if _BATCH_NODE.search(name) and len(shape) == 2 and min(shape) > 1:
        return int(shape[0])
    return None
