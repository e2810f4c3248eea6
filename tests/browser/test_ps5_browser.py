"""ps5's engine explorer in a real browser, opened from the solved notebook in a JupyterLab with
the students' configuration (student-env/): run all, press "next" once, check the visited node
and what it added to each parent's gradient, and that the graph image was redrawn; then jump to
the last step and check that x received its two contributions and the verdict.

The expected numbers are worked out here by hand from the student's numbers the notebook prints
(the practice graph z = w x + b, y = x + tanh z, L = (y - t)^2 / 2), not by the explorer's code.
Prints the time from the click to the updated table (the browser's round trip).
Heavy on a shared machine: run it alone, with ``nice``.
"""

from __future__ import annotations

import ast
import math
import re
import time

import pytest

from tests.browser.test_explorers_browser import _open_and_run, _press

NODES = 14
"""Nodes of the practice graph as the notebook builds it: w, x, b, t, w*x, z, tanh z, y, the
constant -1 and -t, y - t, its square, the constant 0.5 and L."""

ADD = re.compile(r"^(.+)\.grad \+= (\S+) \u00d7 (\S+) = (\S+)$")
"""One line of the table's "what it adds" column: parent.grad += local × grad = amount."""


def _num(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def _adds(cell_text: str) -> list[tuple[str, float, float, float]]:
    """(parent, local derivative, grad, amount) of every line of an "adds" cell."""
    out = []
    for line in cell_text.split("\n"):
        match = ADD.match(line.strip())
        assert match, f"not a contribution: {line!r} in {cell_text!r}"
        parent, d, g, a = match.groups()
        out.append((parent, _num(d), _num(g), _num(a)))
    return out


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)  # the table shows 6 digits


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_engine_explorer_steps_in_the_students_lab(course_server, course_page) -> None:
    from playwright.sync_api import expect

    page, times = course_page, {}
    _open_and_run(page, course_server, "ps5.ipynb")
    explorer = page.locator(".bp-engine")
    expect(explorer).to_have_count(1, timeout=120_000)
    summary = page.locator(".bp-engine-summary")
    expect(summary).to_have_text(f"0 of {NODES} nodes visited.", timeout=30_000)
    rows = page.locator(".bp-engine-table tr[data-step]")
    expect(rows).to_have_count(0)
    assert page.locator(".bp-engine .bp-error").count() == 0

    printed = page.locator(".jp-OutputArea-output", has_text="Your numbers (as in Problem set 1):")
    expect(printed).to_have_count(1)
    q1 = ast.literal_eval(printed.text_content().split(":", 1)[1].strip())
    w, x, b, t = (float(q1[k]) for k in "wxbt")
    th = math.tanh(w * x + b)
    r = x + th - t  # y - t, which is dL/dy
    dz = r * (1.0 - th * th)

    # ---- one click on "next": L is visited and passes its gradient 1 to its two parents
    image = page.locator(".bp-engine-graph")
    before = image.get_attribute("src")
    nxt = page.locator(".bp-engine-next")
    nxt.scroll_into_view_if_needed()
    start = time.monotonic()
    nxt.click()
    expect(rows).to_have_count(1, timeout=15_000)
    times["ps5 engine next"] = time.monotonic() - start
    expect(image).not_to_have_attribute("src", before or "", timeout=15_000)
    expect(summary).to_have_text(f"1 of {NODES} nodes visited.")
    expect(page.locator(".bp-engine-step .widget-readout")).to_have_text("1")
    first = rows.nth(0)
    expect(first.locator(".bp-node")).to_have_text("L")
    expect(first.locator(".bp-grad")).to_have_text("1")
    expect(first).to_have_class(re.compile(r"\bbp-current\b"))
    adds = sorted(_adds(first.locator(".bp-adds").inner_text()), key=lambda a: a[1])
    # L = 0.5 * (y - t)^2 is a product: d/d(0.5) = (y - t)^2, d/d((y - t)^2) = 0.5
    want = sorted([(r * r, 1.0, r * r), (0.5, 1.0, 0.5)])
    assert len(adds) == 2, adds
    for (parent, *got), expected in zip(adds, want, strict=True):
        assert parent not in ("w", "x", "b", "t", "z", "y", "L"), adds
        assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (adds, want)

    # ---- the last step: every node visited, x got one term from y and one from w * x
    before = image.get_attribute("src")
    start = _press(page, ".bp-engine-step", "End")
    expect(rows).to_have_count(NODES, timeout=15_000)
    times["ps5 engine step to the end"] = time.monotonic() - start
    expect(image).not_to_have_attribute("src", before or "", timeout=15_000)
    expect(page.locator(".bp-engine-verdict")).to_have_text(
        "All nodes visited. The grads your backward left equal the replay."
    )
    expect(rows.nth(0).locator(".bp-node")).to_have_text("L")  # starts at the root
    visited = [rows.nth(i).locator(".bp-node").inner_text() for i in range(NODES)]
    assert sorted(n for n in visited if len(n) == 1) == sorted("Lbtwxyz")
    assert visited.index("y") < visited.index("z") < visited.index("w"), visited
    assert visited.index("z") < visited.index("x"), visited  # x after both of its consumers
    to_x = []
    for i in range(NODES):
        cell = rows.nth(i).locator(".bp-adds").inner_text()
        if "nothing to pass on" not in cell:
            to_x += [a[1:] for a in _adds(cell) if a[0] == "x"]
    # from y = x + tanh z: 1 x dL/dy; from w * x: w x dL/dz
    want = sorted([(1.0, r, r), (w, dz, w * dz)])
    assert len(to_x) == 2, to_x
    for got, expected in zip(sorted(to_x), want, strict=True):
        assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (to_x, want)
    row_x = rows.nth(visited.index("x"))
    expect(row_x.locator(".bp-adds")).to_have_text("(an input: nothing to pass on)")
    assert _close(_num(row_x.locator(".bp-grad").inner_text()), r + w * dz)
    expect(image).to_be_visible()

    print("\n" + "; ".join(f"{k}: {v:.3f} s" for k, v in times.items()))
