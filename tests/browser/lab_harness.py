"""A JupyterLab 4 server on 127.0.0.1 and Debian's chromium driven by Playwright (nothing is
downloaded), for the browser tests (``tests/browser/conftest.py``'s fixtures) and the browser
benchmark (``bench/bench_explorers_browser.py``).

Follows /work/shared/notes/browser-testing.md: --no-sandbox and no background networking,
outside requests blocked in the page, the announcements toast disabled, the server stopped by
its PID (its whole process group, i.e. the kernels it started) when it is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LAB_SOURCE = REPO / "lab" / "lab.ipynb"
ARTIFACTS = REPO / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class LabServer:
    """A running JupyterLab: base URL, token, the served folder and the process."""

    url: str
    token: str
    root: Path
    proc: subprocess.Popen

    def lab_url(self, notebook: str) -> str:
        """URL that opens ``notebook`` (relative to the served folder) in JupyterLab."""
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started (SIGTERM to its process group, then SIGKILL if needed)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def _pids_mentioning(marker: str) -> list[int]:
    """PIDs of live processes whose command line contains ``marker`` (our temporary folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


def _stop_leftovers(marker: str) -> list[int]:
    """Stop kernels our server started that outlived it (by PID); returns their PIDs."""
    pids = _pids_mentioning(marker)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


@contextlib.contextmanager
def serve(
    tmp_path: Path, root: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LabServer]:
    """JupyterLab 4 on 127.0.0.1 serving ``root``; stopped (with its kernels) on exit."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `./dev test` (installs Debian's chromium "
                           "as root)")
    config = tmp_path / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
        MPLBACKEND="Agg",
    )
    env.update(extra_env or {})
    token, port = secrets.token_hex(16), _free_port()
    log = (tmp_path / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--allow-root", f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {proc.returncode}:\n"
                    + (tmp_path / "jupyter.log").read_text(errors="replace")[-3000:]
                )
            req = urllib.request.Request(
                f"{url}/api/status", headers={"Authorization": f"token {token}"}
            )
            try:
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("jupyter lab did not answer /api/status within 90 s")
            time.sleep(0.25)
        yield LabServer(url, token, root, proc)
    finally:
        _stop(proc)
        log.close()
        leftovers = _stop_leftovers(str(tmp_path))
        assert not leftovers, f"processes outlived the lab server: {leftovers}"


STUDENT_ENV = REPO / "student-env" / "jupyter"
"""The students' Jupyter configuration (hides nbgrader's instructor plugins), see its README."""

STUDENT = {"JUPYTER_CONFIG_PATH": str(STUDENT_ENV), "BPC_STUDENT_ID": "browser-student"}
"""The environment of a student's lab: their configuration and a student id."""


def course_notebooks(root: Path) -> Path:
    """``root`` filled with the *solved* ps1-ps5 notebooks (the source notebooks as the
    instructor has them) and coursekit next to them; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for ps in ("ps1", "ps2", "ps3", "ps4", "ps5"):
        shutil.copyfile(REPO / "source" / ps / f"{ps}.ipynb", root / f"{ps}.ipynb")
    shutil.copytree(REPO / "coursekit", root / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return root


@contextlib.contextmanager
def open_page(server: LabServer) -> Iterator[object]:
    """A Playwright page in Debian's headless chromium that can reach only ``server``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 2400})
            page = context.new_page()
            allowed = (server.url, "data:", "blob:", "about:")
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(allowed) else route.abort()
                ),
            )
            yield page
        finally:
            browser.close()
