"""Every explorer of ps1-ps4 in a real browser, opened from the solved notebooks in a JupyterLab
with the students' configuration (student-env/): run all, move one control of each explorer,
check the new picture by its text (tables, notes, readouts) and by its image being redrawn, and
check that nbgrader's instructor plugins are absent while the student ones are loaded.

Prints the time from each control move to the updated text (the browser's round trip).
Heavy on a shared machine: run it alone, with ``nice``.
"""

from __future__ import annotations

import math
import re
import time

import pytest

from coursekit.explorers._common import fmt
from tests.browser.test_lab_browser import q1_dL_dw

INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
STUDENT_PLUGINS = ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment")


NOTEBOOK_READY = """(path) => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    const ctx = panel && panel.sessionContext;
    const kernel = ctx && ctx.session && ctx.session.kernel;
    return !!kernel && panel.context && panel.context.path === path && ctx.isReady
        && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""


def _open_and_run(page, server, notebook: str) -> None:
    """Open ``notebook`` in a fresh workspace (?reset), wait for its own idle kernel, run all."""
    page.goto(server.lab_url(notebook) + "&reset", wait_until="domcontentloaded")
    page.wait_for_function(NOTEBOOK_READY, arg=notebook, timeout=120_000, polling=200)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _press(page, css: str, key: str = "ArrowRight") -> float:
    handle = page.locator(f"{css} .noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    start = time.monotonic()
    handle.press(key)
    return start


def _float(page, css: str) -> float:
    text = page.locator(css).text_content() or ""  # text_content: cells out of view count too
    return float(text.replace("\u2212", "-"))  # the readouts write minus as U+2212


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_every_explorer_reacts_in_the_students_lab(course_server, course_page) -> None:
    from playwright.sync_api import expect

    page, times = course_page, {}

    # ---- ps1: the graph explorer (student's q1_backward) and the step-size explorer
    _open_and_run(page, course_server, "ps1.ipynb")
    expect(page.locator(".bp-graph")).to_have_count(1, timeout=90_000)
    plugins = page.evaluate(
        "(ids) => ids.map(id => window.jupyterapp.hasPlugin(id))",
        list(INSTRUCTOR_PLUGINS + STUDENT_PLUGINS),
    )
    assert plugins == [False] * 3 + [True] * 2, plugins  # instructor plugins off, students' on
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Formgrader" not in " ".join(menus)
    for n in "wxbt":  # the readouts fill in after the widget appears
        expect(page.locator(f".bp-graph-{n} .widget-readout")).to_have_text(
            re.compile(r"\d"), timeout=30_000
        )
    w, x, b, t = (_float(page, f".bp-graph-{n} .widget-readout") for n in "wxbt")
    analytic = page.locator('.bp-graph-table tr[data-node="w"] .bp-analytic')
    expect(analytic).to_have_text(fmt(q1_dL_dw(w, x, b, t)), timeout=30_000)
    start = _press(page, ".bp-graph-w")
    new_w = round(w + 0.1, 10) if w < 3.0 else w
    expect(analytic).to_have_text(fmt(q1_dL_dw(new_w, x, b, t)), timeout=15_000)
    times["ps1 graph w"] = time.monotonic() - start
    node_w = page.locator('.bp-graph .bp-graph-svg g[data-node="w"]')
    expect(node_w).to_contain_text(f"= {fmt(new_w)}")
    expect(page.locator(".bp-graph-drawn .bp-drawn-svg line")).to_have_count(7)  # Task 1.0
    expect(page.locator('.bp-graph-table tr[data-node="w"] .bp-pass')).to_have_count(1)
    assert page.locator(".bp-graph-table .bp-fail").count() == 0

    plot = page.locator(".bp-step-plot")
    before = plot.get_attribute("src")
    start = _press(page, ".bp-step-x")
    expect(page.locator(".bp-step-x .widget-readout")).to_have_text("0.75", timeout=15_000)
    expect(plot).not_to_have_attribute("src", before or "", timeout=15_000)
    times["ps1 step x"] = time.monotonic() - start
    best = page.locator('.bp-step-table tr[data-scheme="central"][data-dtype="float64"] .bp-best-h')
    assert 1e-8 <= float(best.text_content()) <= 1e-2  # a correct derivative has a best step

    # ---- ps2: the layer explorer (student's mlp_forward / mlp_backward), one more layer
    _open_and_run(page, course_server, "ps2.ipynb")
    expect(page.locator(".bp-layers")).to_have_count(1, timeout=120_000)
    rows = page.locator(".bp-layers-table tr[data-layer]")
    expect(rows).to_have_count(4, timeout=30_000)
    plot = page.locator(".bp-layers-plot")
    before = plot.get_attribute("src")
    start = _press(page, ".bp-layers-depth")
    expect(rows).to_have_count(5, timeout=15_000)
    times["ps2 layers depth"] = time.monotonic() - start
    expect(plot).not_to_have_attribute("src", before or "", timeout=15_000)
    assert page.locator(".bp-layers-table .bp-fail").count() == 0
    for i in range(5):  # the plotted norms are the table's: the student's equal the FD's
        given = float(rows.nth(i).locator(".bp-norm-analytic").text_content())
        fd = float(rows.nth(i).locator(".bp-norm-numeric").text_content())
        assert math.isclose(given, fd, rel_tol=1e-4), (i, given, fd)
    expect(page.locator(".bp-layers-ratio")).to_contain_text("||dW1|| / ||dW5||")

    # ---- ps3: the descent explorer (student's batch functions), same start as spirals_problem
    _open_and_run(page, course_server, "ps3.ipynb")
    expect(page.locator(".bp-gd")).to_have_count(1, timeout=120_000)
    expect(page.locator(".bp-gd-nsteps")).to_have_text("0", timeout=30_000)
    plot = page.locator(".bp-gd-plot")
    before = plot.get_attribute("src")
    train = page.locator(".bp-gd-train")
    train.scroll_into_view_if_needed()
    start = time.monotonic()
    train.click()
    expect(page.locator(".bp-gd-nsteps")).to_have_text("300", timeout=120_000)
    times["ps3 descent train 300 steps"] = time.monotonic() - start
    expect(plot).not_to_have_attribute("src", before or "", timeout=15_000)
    assert _float(page, ".bp-gd-acc") >= 0.9
    assert 0 < _float(page, ".bp-gd-loss") < 1.0

    # ---- ps4: the step-size explorer on the slices (variable s), one step along s
    _open_and_run(page, course_server, "ps4.ipynb")
    expect(page.locator(".bp-step")).to_have_count(1, timeout=120_000)
    expect(page.locator(".bp-step-x .widget-label")).to_have_text("s", timeout=30_000)
    plot = page.locator(".bp-step-plot")
    before = plot.get_attribute("src")
    start = _press(page, ".bp-step-x")
    expect(page.locator(".bp-step-x .widget-readout")).to_have_text("0.25", timeout=15_000)
    expect(plot).not_to_have_attribute("src", before or "", timeout=15_000)
    times["ps4 step s"] = time.monotonic() - start
    assert "1e-16" not in page.locator(".bp-step-table").text_content()

    print("\n" + "; ".join(f"{k}: {v:.3f} s" for k, v in times.items()))
