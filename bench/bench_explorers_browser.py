"""Benchmark: update time of every explorer control of ps1-ps5, in a real browser.

Serves the solved source notebooks in JupyterLab with the students' configuration (the set-up of
``tests/browser``: Debian's chromium driven by Playwright, only the local server reachable), runs
each notebook, finds every explorer (``.bp-explorer``) and every control in it (sliders, drop-down
lists, the step buttons of the engine explorer; not the training button, which runs many steps
on purpose), and moves each control ``--moves`` times. One move is timed from the key press (or
the selection) to the moment the explorer's output in the page has changed (its images, tables,
notes and readouts drawn by the kernel; the slider's own label is not counted, the browser
updates it at once): what a student waits for. Prints the median and the maximum per control,
then the worst median against the goal of 200 ms.

Usage: ``python -m bench.bench_explorers_browser [--moves 5] [ps1 ps2 ...]`` (root: the
checkout; needs chromium, which ``./dev test`` installs). The kernel's share of each update is
measured by ``bench/bench_explorers.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.browser.lab_harness import STUDENT, course_notebooks, open_page, serve

SETS = ("ps1", "ps2", "ps3", "ps4", "ps5")
CHANGE_TIMEOUT_MS = 10_000

SIGNATURE = """(root) => Array.from(root.querySelectorAll(
        'img, .widget-html-content, .bp-graph-svg, .bp-engine-graph'))
    .map(n => n.tagName === 'IMG' ? n.getAttribute('src') : n.innerHTML).join('|')"""
"""What the kernel drew in an explorer: its images and HTML panes (not the controls)."""

CONTROLS = """(root) => {
    const out = [];
    root.querySelectorAll('.widget-slider, .widget-dropdown, .widget-button').forEach((w, i) => {
        const label = (w.querySelector('.widget-label') || {}).textContent || w.textContent || '';
        const kind = w.classList.contains('widget-slider') ? 'slider'
            : w.classList.contains('widget-dropdown') ? 'dropdown' : 'button';
        w.setAttribute('data-bench-control', String(i));
        out.push({index: i, kind: kind, label: label.trim().slice(0, 20),
                  classes: w.className});
    });
    return out;
}"""


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=5, help="moves per control")
    parser.add_argument("sets", nargs="*", default=list(SETS), help="problem sets to run")
    return parser.parse_args()


def _wait_for_explorers(page, timeout_s: float = 180.0) -> int:
    """Wait until the notebook's explorers are drawn and the kernel is idle; their number."""
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        count = page.locator(".bp-explorer").count()
        idle = page.evaluate("() => { const p = window.jupyterapp.shell.currentWidget;"
                             " const k = p && p.sessionContext.session &&"
                             " p.sessionContext.session.kernel; return !!k &&"
                             " k.status === 'idle'; }")
        if count and idle:
            time.sleep(2.0)  # the last cells' outputs settle
            if page.evaluate("() => window.jupyterapp.shell.currentWidget"
                             ".sessionContext.session.kernel.status") == "idle":
                return page.locator(".bp-explorer").count()
        time.sleep(0.5)
    return count


def _move(page, root, control: dict, step: int) -> None:
    """Move one control once (a slider one step right, or back to its start when at its end;
    the next option of a list; a click of a button)."""
    widget = root.locator(f"[data-bench-control='{control['index']}']")
    if control["kind"] == "slider":
        handle = widget.locator(".noUi-handle")
        handle.focus()
        now = handle.get_attribute("aria-valuenow")
        handle.press("ArrowRight")
        if handle.get_attribute("aria-valuenow") == now:  # at the end of its range
            handle.press("Home")
    elif control["kind"] == "dropdown":
        select = widget.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % max(1, len(options)))
    elif not widget.is_disabled():  # a step button (ipywidgets renders it as the button)
        widget.click()


def _time_control(page, root, control: dict, moves: int) -> list[float | None]:
    """Seconds from each move to the explorer's redrawn output (None: nothing changed)."""
    times: list[float | None] = []
    for step in range(moves):
        before = root.evaluate(SIGNATURE)
        start = time.monotonic()
        _move(page, root, control, step)
        try:
            root.evaluate_handle(  # waits in the page, polling each animation frame
                "(root, args) => new Promise((done, fail) => {"
                " const sig = " + SIGNATURE + ";"
                " const until = performance.now() + args.timeout;"
                " const poll = () => sig(root) !== args.before ? done(true)"
                " : performance.now() > until ? fail('unchanged') : requestAnimationFrame(poll);"
                " poll(); })",
                {"before": before, "timeout": CHANGE_TIMEOUT_MS})
            times.append(time.monotonic() - start)
        except Exception:
            times.append(None)
        time.sleep(0.3)  # let trailing messages of this move arrive before the next
    return times


def main() -> None:
    args = _parse()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"# load average {load} on {os.cpu_count()} cores (times scale with it)")
    print(f"{'set':5} {'explorer':10} {'control':20} {'median ms':>10} {'max ms':>8}  moves")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="bpc-bench-browser-") as tmp:
        tmp_path = Path(tmp)
        root = course_notebooks(tmp_path / "notebooks")
        with serve(tmp_path, root, STUDENT) as server, open_page(server) as page:
            for ps in args.sets:
                page.goto(server.lab_url(f"{ps}.ipynb") + "&reset",
                          wait_until="domcontentloaded")
                page.wait_for_function("() => { const p = window.jupyterapp &&"
                                       " window.jupyterapp.shell.currentWidget; return !!p &&"
                                       " !!p.sessionContext && p.sessionContext.isReady; }",
                                       timeout=120_000, polling=200)
                page.evaluate("() => window.jupyterapp.commands.execute("
                              "'notebook:run-all-cells')")
                found = _wait_for_explorers(page)
                print(f"# {ps}: {found} explorer(s)")
                for k in range(found):
                    explorer = page.locator(".bp-explorer").nth(k)
                    explorer.scroll_into_view_if_needed()
                    name = (explorer.get_attribute("class") or "").split()
                    name = next((c[3:] for c in name if c.startswith("bp-")
                                 and c != "bp-explorer"), "explorer")
                    controls = explorer.evaluate(CONTROLS)
                    # "back" only once "next" has stepped forward (at step 0 it is disabled)
                    controls.sort(key=lambda c: "back" in c["label"])
                    for control in controls:
                        if control["kind"] == "button" and "next" not in control["label"] \
                                and "back" not in control["label"]:
                            continue  # train / reset: many steps on purpose, not an update
                        times = _time_control(page, explorer, control, args.moves)
                        seen = [t for t in times if t is not None]
                        missed = len(times) - len(seen)
                        if not seen:
                            print(f"{ps:5} {name:10} {control['label']:20} {'-':>10} {'-':>8}"
                                  f"  {len(times)} (no redraw within "
                                  f"{CHANGE_TIMEOUT_MS / 1e3:.0f} s)")
                            continue
                        med, mx = statistics.median(seen) * 1e3, max(seen) * 1e3
                        worst = max(worst, med)
                        extra = f" ({missed} without a redraw)" if missed else ""
                        print(f"{ps:5} {name:10} {control['label']:20} {med:10.0f} {mx:8.0f}"
                              f"  {len(times)}{extra}")
    print(f"# worst median update in the browser: {worst:.0f} ms (goal: < 200 ms)")


if __name__ == "__main__":
    main()
