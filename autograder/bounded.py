"""Run one trusted step (e.g. rendering feedback) in a forked child with a time and memory bound.

Submissions control how much work the trusted side does on them (a notebook of thousands of
markdown cells, deeply nested HTML). :func:`call` runs ``fn(*args)`` in a child process made with
``os.fork`` (so nothing is re-imported), under ``RLIMIT_AS`` and ``RLIMIT_CPU``, and gets the
pickled result back through a pipe; past ``seconds`` of wall time the child is killed and
:class:`StepLimitError` is raised, as it is for an error or a memory failure in the child.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any


class StepLimitError(RuntimeError):
    """The step failed, ran out of memory or ran past its time (the message says which)."""


def call(fn: Callable[..., Any], *args: Any, seconds: float = 60.0,
         memory_bytes: int = 2 * 1024**3) -> Any:
    """``fn(*args)`` computed in a bounded child process (see the module docstring)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running any cleanup of the parent
        os.close(read_fd)
        status = 1
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
            cpu = math.ceil(seconds) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            try:
                payload = pickle.dumps(("ok", fn(*args)))
            except MemoryError:
                payload = pickle.dumps(("error", f"out of memory ({memory_bytes >> 20} MB)"))
            except BaseException as exc:
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {str(exc)[:300]}"))
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    poller = select.poll()  # not select(), which fails for a descriptor past 1024
    poller.register(read_fd, select.POLLIN)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepLimitError(f"the step ran past its time limit of {seconds:.0f} s")
            if poller.poll(min(left, 1.0) * 1000):
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(pid, 0)
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception as exc:
        raise StepLimitError(f"the step ended without a result ({type(exc).__name__}; memory "
                             f"limit {memory_bytes >> 20} MB or CPU limit)") from None
    if kind != "ok":
        raise StepLimitError(value)
    return value
