"""The isolated runner: executes a student's code cells and calls their functions on given inputs.

This source is passed to ``python -I -c`` inside a sandbox workspace (see ``autograder.sandbox``);
it is never imported by the grader and imports nothing from the course but the release-side
files that sit in the workspace. Nothing of the job is on disk: the grader talks to it over a pipe
pair (stdin, stdout), one frame per message, in strict turns (see ``autograder.transport``):

1. grader -> runner: ``{"cells": [source, ...], "step_seconds", "probes": n}``; the runner moves
   the pipes to private descriptors (0 and 1 become ``/dev/null``), keeps only the cells and the
   step time, executes the cells and answers ``{"cells": [null or error string per cell]}``;
2. for each of the n probes, grader -> runner: ``{"name", "call", "args", "kwargs", "repeat",
   "readonly", "sympy", "inject"}`` plus the ``.npz`` of its arrays; the runner answers the
   probe's result (JSON plus ``.npz``). The grader sends probe k only after it has read the
   result of probe k-1, so student code never holds a later probe's data (its reference sources)
   while an earlier result can still change.

A call probe calls the function ``repeat`` times, each time on fresh copies of the inputs; the
calls after the first get read-only arrays when ``readonly`` is set. Its value is
``{"calls": [value per call], "errors": [null or error per later call], "mutated": [what the
first call changed in its arguments]}``. ``inject`` maps labels to source code (the reference's
version of the functions the probed one builds on): it is executed into the namespace for the
probe only, and the whole namespace is restored afterwards. ``sympy`` turns the value into the
text of ``sympy.srepr`` (the trusted side rebuilds the expression from a whitelist, never by
eval). A variable probe (``call`` false) gets no arguments.

Encoding: JSON null/bool/int/str; floats as numbers or ``{"$f": "nan"|"inf"|"-inf"}``; arrays
``{"$a": key}``; lists ``{"$l": [...]}``, tuples ``{"$t": [...]}``, dicts ``{"$d": [[k, v], ...]}``.
"""

import builtins
import io
import json
import math
import os
import signal
import struct
import sys

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
    except Exception:
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
        except Exception as exc:
            errors.append(_err(exc))
    return {"calls": calls, "errors": errors, "mutated": mutated}


def _srepr(value: object) -> str:
    import sympy

    text = sympy.srepr(sympy.sympify(value))
    if len(text) > 2000:
        raise ValueError("the expression is too long (more than 2000 characters); simplify it")
    return text


def _err(exc: BaseException) -> str:
    name = type(exc).__name__
    msg = str(exc)
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"{name}: {msg}" if msg else name


_MAGIC = b"bpc1"


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the grader closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int) -> tuple:
    magic, n_json, n_npz = struct.unpack(">4sII", _read_exact(fd, 12))
    if magic != _MAGIC:
        raise ValueError("bad frame from the grader")
    return json.loads(_read_exact(fd, n_json).decode("utf-8")), _read_exact(fd, n_npz)


def _send(fd: int, obj: object, npz: bytes = b"") -> None:
    data = json.dumps(obj).encode("utf-8")
    view = memoryview(struct.pack(">4sII", _MAGIC, len(data), len(npz)) + data + npz)
    while view:
        view = view[os.write(fd, view):]


def _run_cells(cells: list, ns: dict, step: float) -> list:
    errors = []
    for i, src in enumerate(cells):
        try:
            signal.setitimer(signal.ITIMER_REAL, step)
            exec(compile(_strip_magics(src), f"<cell {i}>", "exec"), ns)
            errors.append(None)
        except BaseException as exc:
            errors.append(_err(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return errors


def _probe(probe: dict, npz: bytes, ns: dict, np: object, step: float) -> tuple:
    """One probe: (result record, .npz bytes of its arrays). The fresh definitions and the
    injected reference sources live in the namespace only during the call; the whole namespace
    is restored afterwards."""
    enc = _Encoder(np)
    try:
        arrays = {}
        if npz:
            with np.load(io.BytesIO(npz), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        name = probe["name"]
        if name not in ns:
            raise NameError(f"name '{name}' is not defined")
        saved = dict(ns)
        signal.setitimer(signal.ITIMER_REAL, step)
        try:
            # the student's own definitions again (the probe meets the functions as their cell
            # makes them), then the lent reference sources, which win
            for i, src in enumerate(probe.get("fresh") or []):
                exec(compile(src, f"<fresh definitions {i}>", "exec"), ns)
            for label, src in (probe.get("inject") or {}).items():
                exec(compile(src, f"<reference {label}>", "exec"), ns)
            target = ns[name]
            if probe["call"]:
                if not callable(target):
                    raise TypeError(f"'{name}' is not a function")
                value = _call(target, probe, arrays, np)
            else:
                value = target
            if probe.get("sympy"):
                value = _srepr(value)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            ns.clear()
            ns.update(saved)
        result = {"error": None, "value": enc.enc(value)}
    except BaseException as exc:
        result = {"error": _err(exc)}
        enc.arrays = {}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        buf = io.BytesIO()
        np.savez(buf, **enc.arrays)
        return result, buf.getvalue()
    except BaseException as exc:
        return {"error": "could not save: " + _err(exc)}, b""


def main() -> None:
    ws = os.getcwd()
    sys.path.insert(0, ws)
    # the pipes move to private descriptors: student prints and os.write(1) reach /dev/null
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    head, _ = _recv(rfd)
    cells, step, count = list(head["cells"]), float(head.get("step_seconds", 10.0)), int(
        head["probes"])
    del head
    import numpy as np

    sink = _Sink()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    ns = {"__name__": "__main__", "__builtins__": builtins}
    signal.signal(signal.SIGALRM, _alarm)
    _send(wfd, {"cells": _run_cells(cells, ns, step)})
    del cells
    for _ in range(count):
        probe, npz = _recv(rfd)
        _send(wfd, *_probe(probe, npz, ns, np, step))
        del probe, npz
    sys.stdout, sys.stderr = real_out, real_err


main()
