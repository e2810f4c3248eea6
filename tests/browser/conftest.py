"""Fixtures for the real-browser tests: a JupyterLab 4 server serving a temporary copy of the
lab notebook or of the solved problem sets, and a page in Debian's chromium that can reach only
that server (the server and the browser: ``tests/browser/lab_harness.py``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.lab_harness import (
    CHROMIUM,
    LAB_SOURCE,
    STUDENT,
    LabServer,
    course_notebooks,
    open_page,
    serve,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests only when chromium is missing and we cannot install it (not root)."""
    if CHROMIUM.exists() or os.geteuid() == 0:
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing and we are not root, so `./dev test` could not install "
        "Debian's chromium (apt-get install chromium fonts-dejavu-core)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab 4 on 127.0.0.1 serving a copy of the lab notebook; stopped after the test."""
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copyfile(LAB_SOURCE, root / "lab.ipynb")
    with serve(tmp_path, root) as server:
        yield server


@pytest.fixture
def course_server(tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab with the students' configuration serving the *solved* ps1-ps5 notebooks
    (the source notebooks as the instructor has them, with coursekit next to them)."""
    with serve(tmp_path, course_notebooks(tmp_path / "notebooks"), STUDENT) as server:
        yield server


@pytest.fixture
def browser_page(lab_server: LabServer) -> Iterator[object]:
    """A page for the lab notebook's server."""
    with open_page(lab_server) as page:
        yield page


@pytest.fixture
def course_page(course_server: LabServer) -> Iterator[object]:
    """A page for the problem sets' server (students' configuration)."""
    with open_page(course_server) as page:
        yield page
