"""The pickle-free plain-data encoding shared with the isolated runner (``sandboxed/runner.py``).

Only JSON and ``.npz`` files (loaded with ``allow_pickle=False``) cross the sandbox boundary, and
decoding on the trusted side is strict: unknown tags, non-numeric arrays, oversized files and
deep nesting are rejected with :class:`PlainDataError`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

MAX_FILE_BYTES = 64 * 1024**2
MAX_DEPTH = 20


class PlainDataError(ValueError):
    """A runner output that is not valid plain data."""


class Encoder:
    """Encode instructor-made inputs; arrays are collected for one ``.npz`` file."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def enc(self, value: Any) -> Any:
        """Encode ``value`` (arrays, numbers, strings, None, lists, tuples, str-keyed dicts)."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            v = float(value)
            return v if math.isfinite(v) else {"$f": repr(v)}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                raise TypeError(f"input arrays must be numeric, got {value.dtype}")
            key = f"i{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(value)
            return {"$a": key}
        if isinstance(value, dict):
            return {"$d": [[str(k), self.enc(v)] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {"$t": [self.enc(v) for v in value]}
        if isinstance(value, list):
            return {"$l": [self.enc(v) for v in value]}
        raise TypeError(f"cannot pass a {type(value).__name__} to student code")


def decode(obj: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """Decode a runner value; raise :class:`PlainDataError` on anything unexpected."""
    if depth > MAX_DEPTH:
        raise PlainDataError("result nested too deeply")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict) and len(obj) == 1:
        tag, val = next(iter(obj.items()))
        if tag == "$a" and isinstance(val, str) and val in arrays:
            return arrays[val]
        if tag == "$f" and val in ("nan", "inf", "-inf"):
            return float(val)
        if tag in ("$l", "$t") and isinstance(val, list):
            items = [decode(v, arrays, depth + 1) for v in val]
            return items if tag == "$l" else tuple(items)
        if tag == "$d" and isinstance(val, list):
            out = {}
            for pair in val:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise PlainDataError("bad dict entry")
                out[pair[0]] = decode(pair[1], arrays, depth + 1)
            return out
    raise PlainDataError("unexpected value in the runner output")


def load_json(path: Path) -> Any:
    """Read a small JSON file written by untrusted code (size-checked)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PlainDataError(f"{path.name} is too large")
    return json.loads(path.read_text(encoding="utf-8"))


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Load numeric arrays from an ``.npz`` written by untrusted code, never unpickling."""
    if not path.exists():
        return {}
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PlainDataError(f"{path.name} is too large")
    with np.load(path, allow_pickle=False) as data:
        out = {}
        for key in data.files:
            arr = data[key]
            if arr.dtype.kind not in "biufc":
                raise PlainDataError(f"array {key} has non-numeric dtype {arr.dtype}")
            out[key] = arr
    return out
