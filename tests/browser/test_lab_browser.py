"""The lab notebook in a real browser: JupyterLab 4 + Debian's chromium via Playwright.

Opens the lab, runs all cells, moves the w slider of the computation-graph explorer one step
with the keyboard and checks that the displayed dL/dw becomes the value at the new w; moves the
step-size explorer's x slider and checks that its plot is redrawn; trains the gradient-descent
explorer with its button. Saves screenshots of the explorers into artifacts/.
"""

from __future__ import annotations

import math
import re
import time

import pytest

from coursekit.explorers._common import fmt
from tests.browser.lab_harness import ARTIFACTS

KERNEL_READY = """() => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    const ctx = panel && panel.sessionContext;
    const kernel = ctx && ctx.session && ctx.session.kernel;
    return !!kernel && ctx.isReady && kernel.status === 'idle'
        && kernel.connectionStatus === 'connected';
}"""


def q1_dL_dw(w: float, x: float, b: float, t: float) -> float:
    """dL/dw of z = w x + b, y = x + tanh z, L = (y - t)^2 / 2, written out for the test."""
    z = w * x + b
    y = x + math.tanh(z)
    return (y - t) * (1.0 - math.tanh(z) ** 2) * x


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_lab_slider_updates_gradient(lab_server, browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    t0 = time.monotonic()
    page.goto(lab_server.lab_url("lab.ipynb"), wait_until="domcontentloaded")
    page.wait_for_function(KERNEL_READY, timeout=120_000, polling=200)
    t_ready = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    t_ran = time.monotonic()

    for explorer in ("bp-graph", "bp-step", "bp-layers", "bp-gd"):
        expect(page.locator(f".{explorer}")).to_have_count(1, timeout=60_000)
    analytic = page.locator('.bp-graph-table tr[data-node="w"] .bp-analytic')
    numeric = page.locator('.bp-graph-table tr[data-node="w"] .bp-numeric')
    readout = page.locator(".bp-graph-w .widget-readout")
    # starting point of the lab: w=0.5, x=1.0, b=-0.2, t=0.3 (GraphExplorer defaults)
    expect(readout).to_have_text("0.50", timeout=30_000)
    expect(analytic).to_have_text(fmt(q1_dL_dw(0.5, 1.0, -0.2, 0.3)), timeout=30_000)

    handle = page.locator(".bp-graph-w .noUi-handle")
    handle.focus()
    t_move = time.monotonic()
    handle.press("ArrowRight")
    expected = fmt(q1_dL_dw(0.6, 1.0, -0.2, 0.3))
    assert expected != fmt(q1_dL_dw(0.5, 1.0, -0.2, 0.3))
    expect(analytic).to_have_text(expected, timeout=15_000)
    t_updated = time.monotonic()
    expect(readout).to_have_text("0.60")
    assert abs(float(numeric.inner_text()) - float(expected)) <= 1e-5 * abs(float(expected))
    expect(page.locator('.bp-graph-table tr[data-node="w"] .bp-pass')).to_have_count(1)

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".bp-graph").screenshot(path=str(ARTIFACTS / "lab-graph-explorer.png"))

    # the step-size plot is redrawn when its point moves (0.5 -> 0.75)
    plot = page.locator(".bp-step-plot")
    plot.scroll_into_view_if_needed()
    before = plot.get_attribute("src")
    step_handle = page.locator(".bp-step-x .noUi-handle")
    step_handle.focus()
    t_move2 = time.monotonic()
    step_handle.press("ArrowRight")
    expect(plot).not_to_have_attribute("src", before or "", timeout=15_000)
    t_plot = time.monotonic()
    expect(page.locator(".bp-step-x .widget-readout")).to_have_text("0.75", timeout=15_000)
    expect(page.locator(".bp-step-note")).to_contain_text("0.75 away")
    page.locator(".bp-step").screenshot(path=str(ARTIFACTS / "lab-step-explorer.png"))

    # gradient descent: one click trains k = 200 steps; the progress bar and the status follow
    train = page.locator(".bp-gd-train")
    train.scroll_into_view_if_needed()
    expect(page.locator(".bp-gd-nsteps")).to_have_text("0", timeout=15_000)
    train.click()
    expect(page.locator(".bp-gd-nsteps")).to_have_text("200", timeout=60_000)
    expect(page.locator(".bp-gd-progress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width:\s*100%"), timeout=15_000
    )
    assert float(page.locator(".bp-gd-acc").inner_text()) > 0.8
    page.locator(".bp-layers").screenshot(path=str(ARTIFACTS / "lab-layers-explorer.png"))
    page.locator(".bp-gd").screenshot(path=str(ARTIFACTS / "lab-descent-explorer.png"))

    print(
        f"\nlab open to idle kernel {t_ready - t0:.2f} s, run-all {t_ran - t_ready:.2f} s, "
        f"slider move to updated dL/dw {t_updated - t_move:.3f} s, "
        f"to redrawn step-size plot {t_plot - t_move2:.3f} s"
    )
