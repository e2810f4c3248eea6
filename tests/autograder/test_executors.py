"""Local workers come from multiprocessing's fork server with the worker's imports done once,
and still start as a spawned worker would: with the coordinator's environment of the moment."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

from autograder import executors


def _seen() -> tuple[str | None, list[str]]:
    return os.environ.get("BPC_TEST_EXECUTORS"), [m for m in executors.preload()
                                                   if m not in sys.modules]


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=executors._context(),
                               initializer=executors._warm, initargs=(dict(os.environ),))


def test_preload_names_the_worker_and_every_registry_module():
    names = executors.preload()
    assert names[:2] == ["autograder.executors", "nbclient"]
    assert {"autograder.registry.common", "autograder.registry.ps1",
            "autograder.registry.ps5"} <= set(names)


def test_workers_get_the_environment_of_the_moment_and_the_imports_done(monkeypatch):
    monkeypatch.setenv("BPC_TEST_EXECUTORS", "first")
    with _pool() as pool:  # starts the fork server (if not yet) with this environment
        assert pool.submit(_seen).result(timeout=120) == ("first", [])
    monkeypatch.setenv("BPC_TEST_EXECUTORS", "second")
    with _pool() as pool:  # the server is warm now; the worker still sees today's variable
        assert pool.submit(_seen).result(timeout=120) == ("second", [])
    monkeypatch.delenv("BPC_TEST_EXECUTORS")
    with _pool() as pool:
        assert pool.submit(_seen).result(timeout=120) == (None, [])


def test_the_task_registry_needs_no_widgets_or_plots():
    import subprocess

    code = ("import sys\nfrom autograder import executors\nimport importlib\n"
            "[importlib.import_module(m) for m in executors.preload()]\n"
            "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'coursekit.explorers')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
