"""Where a grading run's work runs: a local process pool or a Dask distributed cluster.

Both grade jobs, yielding ``(job, result)`` pairs as they finish (the coordinator consumes
them and is the only writer of the gradebook; a worker that crashes yields an error result for
its job instead of stopping the batch), and take the run's other per-student work, the
feedback pages, as plain function calls (``submit``), so that no step whose cost grows with
the class runs in the coordinator alone.

Local workers are forked from multiprocessing's fork server, which imports what every worker
imports (:func:`preload`: the worker, nbclient, the task registry) once, in a fresh
interpreter that never grades: a second worker then costs no second set of imports (about 1.5
CPU seconds each). A worker gets the coordinator's environment of the moment, as a spawned one
would, and starts its own sandbox fork server (:mod:`autograder.forkserver`).
"""

from __future__ import annotations

import multiprocessing
import os
import pkgutil
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from autograder.results import StudentResult
from autograder.worker import Job, failed_result, grade_job


def default_workers() -> int:
    """The number of CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def preload() -> list[str]:
    """The modules a worker needs for any job: this module (the worker), nbclient and every
    module of the task registry, which task files import."""
    from autograder import registry

    return [__name__, "nbclient",
            *(f"{registry.__name__}.{m.name}" for m in pkgutil.iter_modules(registry.__path__))]


def _context() -> multiprocessing.context.BaseContext:
    """multiprocessing's fork server with :func:`preload` (spawn where there is none)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(preload())  # used when the server starts: once per process
    return ctx


def _warm(environ: dict[str, str]) -> None:
    """Take the coordinator's environment, import what :func:`preload` lists (already there
    when forked from the fork server) and start this worker's sandbox fork server."""
    os.environ.clear()
    os.environ.update(environ)
    import importlib

    for name in preload():
        importlib.import_module(name)
    from autograder import forkserver

    forkserver.warm()


class LocalPool:
    """Worker processes on this machine: they grade jobs (:meth:`grade`) and run the other
    work of a grading run that scales with the class (:meth:`submit`: the feedback pages)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                         initializer=_warm, initargs=(dict(os.environ),))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` on the next free worker (after the jobs already queued)."""
        return self._pool.submit(fn, *args)

    def grade(self, jobs: list[Job]) -> Iterator[tuple[Job, StudentResult]]:
        """Grade ``jobs``, yielding results as they complete."""
        pending: dict[Future, Job] = {}
        queue = list(jobs)
        # keep a bounded number in flight so an interrupt loses little work
        while queue or pending:
            while queue and len(pending) < 2 * self.workers:
                job = queue.pop(0)
                pending[self._pool.submit(grade_job, job)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = pending.pop(fut)
                yield job, _result_or_error(fut, job)

    def close(self) -> None:
        """Drop queued work, let running work end (its workspaces are cleaned)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """The workers of a Dask distributed cluster reachable at ``scheduler`` (same methods)."""

    def __init__(self, scheduler: str) -> None:
        from distributed import Client

        self._client = Client(scheduler, set_as_default=True)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a worker of the cluster (a Dask future)."""
        return self._client.submit(fn, *args, pure=False)

    def grade(self, jobs: list[Job]) -> Iterator[tuple[Job, StudentResult]]:
        """Grade ``jobs``, yielding results as they complete."""
        from distributed import as_completed

        futures = {self._client.submit(grade_job, job, pure=False, retries=1): job
                   for job in jobs}
        for fut in as_completed(list(futures)):
            job = futures[fut]
            yield job, _result_or_error(fut, job)

    def close(self) -> None:
        self._client.close()


class _NoWork:
    """The pool of a run with no job to grade: it starts no worker and connects nowhere."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise RuntimeError("a run with no job to grade has no workers")

    def grade(self, jobs: list[Job]) -> Iterator[tuple[Job, StudentResult]]:
        if jobs:
            raise RuntimeError("a run with no job to grade has no workers")
        return iter(())

    def close(self) -> None:
        pass


@contextmanager
def open_pool(workers: int, scheduler: str | None = None, jobs: int | None = None
              ) -> Iterator[LocalPool | DaskPool | _NoWork]:
    """The workers of one grading run of ``jobs`` jobs: the Dask cluster at ``scheduler``,
    else ``workers`` local processes (no more than ``jobs``); closed at the end, also on an
    interrupt. With no job, nothing is started."""
    if jobs == 0:
        yield _NoWork()
        return
    pool = (DaskPool(scheduler) if scheduler
            else LocalPool(max(1, min(workers, jobs if jobs is not None else workers))))
    try:
        yield pool
    finally:
        pool.close()


def _result_or_error(fut: Any, job: Job) -> StudentResult:
    try:
        return fut.result()
    except Exception as exc:
        return failed_result(job, f"the grading worker failed: {type(exc).__name__}: {exc}",
                             flag=True)
