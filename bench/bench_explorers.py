"""Benchmark: update time of every explorer control of ps1-ps4 (and the lab), in the kernel.

Runs each problem set's source notebook (``source/<ps>/<ps>.ipynb``, or ``lab/lab.ipynb``;
solutions included and test cells left out, so the explorers receive solved student functions)
in this process with the explorer factories of ``coursekit.explorers`` wrapped to record every
explorer built. Then, for every control of every explorer, moves it ``--moves`` times through
values of its own range and reports the median and the maximum wall time of the widget's update
(the time from setting ``control.value`` until the observer has redrawn: the kernel's share of
what a student waits for in the browser). The whole wait in a browser, round trip and PNG
transfer included, is measured by ``bench/bench_explorers_browser.py``.

Usage: ``.venv/bin/python bench/bench_explorers.py [--moves 7] [ps1 ps2 ...]`` (the project is
installed editable in ``.venv``, so the notebooks import ``coursekit`` and ``backprop_ref``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("ps1", "ps2", "ps3", "ps4")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=7, help="moves per control")
    parser.add_argument("sets", nargs="*", default=list(SETS), help="problem sets to run")
    return parser.parse_args()


def _record_explorers(store: list) -> None:
    """Wrap the public factories so that every explorer a notebook builds lands in ``store``."""
    import coursekit.explorers as ex

    for name in ("graph_explorer", "step_size_explorer", "layer_gradients_explorer",
                 "descent_explorer"):
        original = getattr(ex, name)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            explorer = _original(*args, **kwargs)
            store.append((_name, explorer))
            return explorer

        setattr(ex, name, wrapped)


def _run_source(ps: str) -> None:
    """Execute the problem set's source notebook (solutions in) in one namespace, test cells
    left out: the explorers need the solved functions, not the checks."""
    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    path = ROOT / "lab" / "lab.ipynb" if ps == "lab" else ROOT / "source" / ps / f"{ps}.ipynb"
    namespace = {"__name__": "__main__", "display": lambda *a, **k: None}
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        lines = [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile("\n".join(lines), f"{ps} cell {i}", "exec"), namespace)


def _moves(control, n: int) -> list:
    """``n`` values for ``control``: alternating through its options or its range."""
    options = getattr(control, "options", None)
    if options:
        labels = [o[1] if isinstance(o, tuple) else o for o in options]
        return [labels[(i + 1) % len(labels)] for i in range(n)]
    lo, hi = control.min, control.max
    values, v = [], control.value
    step = getattr(control, "step", 1) or 1
    for _ in range(n):
        v = v + step if v + step <= hi else lo
        values.append(v)
    return values


def _controls(explorer) -> dict:
    """The value controls of an explorer, by description."""
    import ipywidgets as widgets

    found, stack = {}, [explorer.widget]
    while stack:
        w = stack.pop()
        if isinstance(w, widgets.Box):
            stack.extend(reversed(w.children))
        elif isinstance(w, (widgets.Dropdown, widgets.IntSlider, widgets.FloatSlider,
                            widgets.FloatLogSlider)):
            found[w.description or type(w).__name__] = w
    return found


def main() -> None:
    args = _parse()
    os.chdir(ROOT)
    os.environ.setdefault("BPC_STUDENT_ID", "bench-student")
    explorers: list = []
    _record_explorers(explorers)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"# load average {load} on {os.cpu_count()} cores (times scale with it)")
    print(f"{'set':5} {'explorer':26} {'control':16} {'median ms':>10} {'max ms':>8}  moves")
    worst = 0.0
    for ps in args.sets:
        explorers.clear()
        start = time.perf_counter()
        _run_source(ps)
        print(f"# {ps}: source ran in {time.perf_counter() - start:.1f} s, "
              f"{len(explorers)} explorer(s)")
        for name, explorer in explorers:
            if explorer is None:
                continue
            for label, control in _controls(explorer).items():
                times = []
                for value in _moves(control, args.moves):
                    t0 = time.perf_counter()
                    control.value = value
                    times.append(time.perf_counter() - t0)
                med, mx = statistics.median(times) * 1e3, max(times) * 1e3
                worst = max(worst, med)
                print(f"{ps:5} {name:26} {label:16} {med:10.1f} {mx:8.1f}  {len(times)}")
            train = getattr(explorer, "train_button", None)
            if train is not None:
                t0 = time.perf_counter()
                train.click()
                print(f"{ps:5} {name:26} {'train (k steps)':16} "
                      f"{(time.perf_counter() - t0) * 1e3:10.1f} {'':8}  1")
    print(f"# worst median update: {worst:.1f} ms (goal: < 200 ms in the browser)")


if __name__ == "__main__":
    main()
