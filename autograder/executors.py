"""Where grading jobs run: a local process pool or a Dask distributed cluster.

Both yield ``(job, result)`` pairs as jobs finish; the coordinator consumes them and is the only
writer of the gradebook. A worker that crashes yields an error result for its job instead of
stopping the batch.

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
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def run_local(jobs: list[Job], workers: int) -> Iterator[tuple[Job, StudentResult]]:
    """Grade ``jobs`` on ``workers`` worker processes, yielding results as they complete."""
    if not jobs:
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=_context(),
                               initializer=_warm, initargs=(dict(os.environ),))
    try:
        pending: dict[Future, Job] = {}
        queue = list(jobs)
        # keep a bounded number in flight so an interrupt loses little work
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                job = queue.pop(0)
                pending[pool.submit(grade_job, job)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = pending.pop(fut)
                yield job, _result_or_error(fut, job)
    finally:
        # on an interrupt: drop queued jobs, let running ones end (their workspaces are cleaned)
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(jobs: list[Job], scheduler: str) -> Iterator[tuple[Job, StudentResult]]:
    """Grade ``jobs`` on a Dask distributed cluster reachable at ``scheduler``."""
    from distributed import Client, as_completed

    if not jobs:
        return
    with Client(scheduler, set_as_default=True) as client:
        futures = {client.submit(grade_job, job, pure=False, retries=1): job for job in jobs}
        for fut in as_completed(list(futures)):
            job = futures[fut]
            yield job, _result_or_error(fut, job)


def _result_or_error(fut: Any, job: Job) -> StudentResult:
    try:
        return fut.result()
    except Exception as exc:
        return failed_result(job, f"the grading worker failed: {type(exc).__name__}: {exc}",
                             flag=True)
