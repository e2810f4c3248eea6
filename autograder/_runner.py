"""The isolated runner: executes a student's code cells and calls their functions on given inputs.

This source is passed to ``python -I -c`` inside a sandbox workspace (see ``autograder.sandbox``);
it is never imported by the grader and imports nothing from the course but the release-side
files that sit in the workspace. Protocol (all paths relative to the workspace):

- ``.job/job.json``: ``{"cells": [source, ...], "probes": [{"name", "call", "args", "kwargs",
  "repeat", "readonly", "sympy", "inject"}, ...]}`` where args use the plain-data encoding
  below;
- ``.job/inputs.npz``: the arrays referenced by the encoding (``{"$a": key}``);
- output ``.job/out/cells.json`` (one entry per cell: null or an error string) and, per probe k,
  ``.job/out/p{k}.json`` plus ``.job/out/p{k}.npz``, written as soon as the probe finishes.

A call probe calls the function ``repeat`` times, each time on fresh copies of the inputs; the
calls after the first get read-only arrays when ``readonly`` is set. Its value is
``{"calls": [value per call], "errors": [null or error per later call], "mutated": [what the
first call changed in its arguments]}``. ``inject`` maps names to source code (the reference's
version of a function the probed one builds on): it is executed into the namespace for the
probe and the previous bindings are restored afterwards. ``sympy`` turns the value into the text
of ``sympy.srepr`` (the trusted side rebuilds the expression from a whitelist, never by eval).

Encoding: JSON null/bool/int/str; floats as numbers or ``{"$f": "nan"|"inf"|"-inf"}``; arrays
``{"$a": key}``; lists ``{"$l": [...]}``, tuples ``{"$t": [...]}``, dicts ``{"$d": [[k, v], ...]}``.
"""

import builtins
import json
import math
import os
import signal
import sys
import time

_MAX_ITEMS = 10_000
_MAX_ARRAYS = 1_000


class _Sink:
    """A bounded text sink for the student's prints (keeps the first 20 kB)."""

    def __init__(self) -> None:
        self.parts = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < 20_000:
            self.parts.append(str(text)[: 20_000 - self.size])
            self.size += len(self.parts[-1])
        return len(text)

    def flush(self) -> None:
        pass


class _OvertimeError(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _OvertimeError("the time limit for this cell or call was exceeded")


def _strip_magics(src: str) -> str:
    lines = []
    for line in src.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines)


def _decode(obj: object, arrays: dict, readonly: bool) -> object:
    if isinstance(obj, dict):
        if "$a" in obj:
            arr = arrays[obj["$a"]].copy()
            if readonly:
                arr.flags.writeable = False
            return arr
        if "$f" in obj:
            return float(obj["$f"])
        if "$l" in obj:
            return [_decode(v, arrays, readonly) for v in obj["$l"]]
        if "$t" in obj:
            return tuple(_decode(v, arrays, readonly) for v in obj["$t"])
        if "$d" in obj:
            return {k: _decode(v, arrays, readonly) for k, v in obj["$d"]}
        raise ValueError("bad encoding")
    return obj


class _Encoder:
    def __init__(self, np: object) -> None:
        self.np = np
        self.arrays = {}
        self.items = 0

    def enc(self, value: object, depth: int = 0) -> object:
        np = self.np
        self.items += 1
        if self.items > _MAX_ITEMS or depth > 20:
            raise ValueError("the result is too large or too deeply nested")
        if value is None or isinstance(value, (bool, str)):
            if isinstance(value, str) and len(value) > 2000:
                raise ValueError("a string in the result is longer than 2000 characters")
            return value if not isinstance(value, str) else str.__str__(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return int.__int__(value) if abs(value) < 2**62 else float(value)
        if isinstance(value, float):
            v = float.__float__(value)
            return v if math.isfinite(v) else {"$f": repr(v)}
        if isinstance(value, (np.ndarray, np.generic)):
            arr = np.array(value, copy=True)
            if arr.dtype.kind not in "biufc":
                raise TypeError(f"an array of dtype {arr.dtype} is not numeric")
            if len(self.arrays) >= _MAX_ARRAYS:
                raise ValueError("too many arrays in the result")
            key = f"a{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(arr)
            return {"$a": key}
        if isinstance(value, dict):
            out = []
            for k, v in list(value.items()):
                if not isinstance(k, str):
                    raise TypeError(f"dictionary key {k!r} is not a string")
                out.append([str.__str__(k), self.enc(v, depth + 1)])
            return {"$d": out}
        if isinstance(value, tuple):
            return {"$t": [self.enc(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return {"$l": [self.enc(v, depth + 1) for v in value]}
        raise TypeError(f"a value of type {type(value).__name__} is not a number or an array")


def _changes(before: object, after: object, where: str, np: object, out: list) -> None:
    """Append to ``out`` the places where ``after`` differs from its copy ``before``."""
    if len(out) >= 5:
        return
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape or not np.array_equal(
            before, after, equal_nan=True
        ):
            out.append(where)
    elif isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            out.append(where + " (keys added or removed)")
            return
        for k in before:
            _changes(before[k], after[k], f"{where}[{k!r}]", np, out)
    elif isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            out.append(where + " (items added or removed)")
            return
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _changes(b, a, f"{where}[{i}]", np, out)


def _arg_names(target: object, n: int) -> list:
    try:
        import inspect

        names = [
            p.name
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def _snapshot(value: object) -> object:
    """A copy of a call's result as it is now: a function that returns the same global dict on
    every call (state kept between calls) must not rewrite its first result."""
    import copy

    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is encoded as it is
        return value


def _call(target: object, probe: dict, arrays: dict, np: object) -> dict:
    """Call ``target`` ``repeat`` times on fresh inputs; record later errors and mutations."""
    calls, errors, mutated = [], [], []
    for i in range(max(1, int(probe.get("repeat", 1)))):
        readonly = bool(probe.get("readonly", False)) and i > 0
        args = _decode(probe["args"], arrays, readonly)
        kwargs = _decode(probe["kwargs"], arrays, readonly)
        if i == 0:
            value = target(*args, **kwargs)
            names = _arg_names(target, len(args))
            fresh = _decode(probe["args"], arrays, False)
            for name, b, a in zip(names, fresh, args, strict=True):
                _changes(b, a, name, np, mutated)
            fresh_kw = _decode(probe["kwargs"], arrays, False)
            for k in fresh_kw:
                _changes(fresh_kw[k], kwargs[k], k, np, mutated)
            calls.append(_snapshot(value))
            continue
        try:
            calls.append(_snapshot(target(*args, **kwargs)))
            errors.append(None)
        except _OvertimeError:
            raise
        except Exception as exc:  # noqa: BLE001 - student code may raise anything
            errors.append(_err(exc))
    return {"calls": calls, "errors": errors, "mutated": mutated}


def _srepr(value: object) -> str:
    import sympy

    text = sympy.srepr(sympy.sympify(value))
    if len(text) > 2000:
        raise ValueError("the expression is too long (more than 2000 characters); simplify it")
    return text


def _injected(ns: dict, sources: dict) -> dict:
    """Execute the reference sources into ``ns``; return the bindings they replaced."""
    saved = {name: ns.get(name) for name in sources}
    for name, src in sources.items():
        exec(compile(src, f"<reference {name}>", "exec"), ns)
    return saved


def _restore(ns: dict, saved: dict) -> None:
    for name, old in saved.items():
        if old is None:
            ns.pop(name, None)
        else:
            ns[name] = old


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _err(exc: BaseException) -> str:
    name = type(exc).__name__
    msg = str(exc)
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"{name}: {msg}" if msg else name


def main() -> None:
    ws = os.getcwd()
    sys.path.insert(0, ws)
    with open(".job/job.json", encoding="utf-8") as fh:
        job = json.load(fh)
    import numpy as np

    with np.load(".job/inputs.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    os.makedirs(".job/out", exist_ok=True)
    sink = _Sink()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    ns = {"__name__": "__main__", "__builtins__": builtins}
    step = float(job.get("step_seconds", 10.0))
    signal.signal(signal.SIGALRM, _alarm)
    cell_errors = []
    for i, src in enumerate(job["cells"]):
        try:
            signal.setitimer(signal.ITIMER_REAL, step)
            exec(compile(_strip_magics(src), f"<cell {i}>", "exec"), ns)
            cell_errors.append(None)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            cell_errors.append(_err(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    _write(".job/out/cells.json", json.dumps(cell_errors))
    for k, probe in enumerate(job["probes"]):
        start = time.perf_counter()
        result = {"error": None}
        enc = _Encoder(np)
        try:
            name = probe["name"]
            if name not in ns:
                raise NameError(f"name '{name}' is not defined")
            signal.setitimer(signal.ITIMER_REAL, step)
            saved = _injected(ns, probe.get("inject") or {})
            try:
                target = ns[name]  # after the injection: a freshly defined function
                if probe["call"]:
                    if not callable(target):
                        raise TypeError(f"'{name}' is not a function")
                    value = _call(target, probe, arrays, np)
                else:
                    value = target
                if probe.get("sympy"):
                    value = _srepr(value)
            finally:
                _restore(ns, saved)
            result["value"] = enc.enc(value)
        except BaseException as exc:  # noqa: BLE001
            result = {"error": _err(exc)}
            enc.arrays = {}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        result["seconds"] = time.perf_counter() - start
        try:
            np.savez(f".job/out/p{k}.npz", **enc.arrays)
            _write(f".job/out/p{k}.json", json.dumps(result))
        except BaseException as exc:  # noqa: BLE001
            _write(f".job/out/p{k}.json", json.dumps({"error": "could not save: " + _err(exc)}))
    sys.stdout, sys.stderr = real_out, real_err
    _write(".job/out/done.json", "true")


main()
