"""Explorer 2: finite-difference error against the step size h (the truncation / round-off V).

For a scalar test function f with known derivative f', plots on log-log axes the error
``|FD(h) - f'(x)|`` of the forward difference ``(f(x+h) - f(x)) / h`` and the central difference
``(f(x+h) - f(x-h)) / (2h)`` for h from 1e-16 to 1, in float64 and in float32 (x, h and the
values of f rounded to float32, the differences taken in float32). A slider picks the point x;
the default function has a ReLU kink at x = 0, where no step size gives the "derivative".

The default test function, ``exp(sin x) + relu(x)``, has a derivative that no exercise asks for.
Callers may pass other ``(f, f')`` pairs (the lab passes the reference's activations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import NullLocator

from coursekit.explorers._common import (
    TABLE_STYLE,
    Blitter,
    Explorer,
    escape,
    fmt,
    fmt_err,
    image_widget,
    new_figure,
    with_class,
)
from coursekit.gradcheck import DEFAULT_H

ScalarFn = Callable[[np.ndarray], np.ndarray]


class ProbeFunction(NamedTuple):
    """An elementwise ``f`` with its derivative ``df`` (both map an array to an array of the same
    shape) and the points where f is not differentiable."""

    f: ScalarFn
    df: ScalarFn
    kinks: tuple[float, ...] = ()


def exp_sin_relu(x: np.ndarray) -> np.ndarray:
    """f(x) = exp(sin x) + max(x, 0); keeps the dtype of ``x``."""
    x = np.asarray(x)
    return np.exp(np.sin(x)) + np.maximum(x, 0)


def exp_sin_relu_prime(x: np.ndarray) -> np.ndarray:
    """f'(x) = cos(x) exp(sin x) + [x > 0] (the ReLU part taken as 0 at the kink x = 0)."""
    x = np.asarray(x, dtype=np.float64)
    return np.cos(x) * np.exp(np.sin(x)) + (x > 0)


def default_functions() -> dict[str, ProbeFunction]:
    """The test functions available without the reference."""
    return {"exp(sin x) + relu(x)": ProbeFunction(exp_sin_relu, exp_sin_relu_prime, (0.0,))}


H_GRID = np.logspace(-16, 0, 97)
"""Step sizes plotted: 1e-16 to 1, six per decade."""

SCHEMES = ("forward", "central")
DTYPES = ("float64", "float32")
ERROR_FLOOR = 1e-18
"""Errors below this (including exact zeros) are drawn at the floor of the log axis."""


def fd_errors(
    fn: ProbeFunction, x: float, hs: np.ndarray = H_GRID
) -> dict[tuple[str, str], np.ndarray]:
    """``{(scheme, dtype): |FD(h) - f'(x)|}`` for every h in ``hs``, each of shape ``hs.shape``.

    The exact derivative is ``fn.df(x)`` in float64. In float32, x, h and every value of f are
    rounded to float32 and the differences and divisions are done in float32.
    """
    exact = float(np.asarray(fn.df(np.array([x], dtype=np.float64)))[0])
    out: dict[tuple[str, str], np.ndarray] = {}
    with np.errstate(all="ignore"):
        for dtype_name in DTYPES:
            dt = np.dtype(dtype_name)
            xd, hd = dt.type(x), hs.astype(dt)

            def f(v: np.ndarray, dt: np.dtype = dt) -> np.ndarray:
                return np.asarray(fn.f(v)).astype(dt)

            f0 = f(np.array([xd], dtype=dt))[0]
            fp, fm = f(xd + hd), f(xd - hd)
            forward = (fp - f0) / hd
            central = (fp - fm) / (dt.type(2) * hd)
            for scheme, est in (("forward", forward), ("central", central)):
                out[(scheme, dtype_name)] = np.abs(est.astype(np.float64) - exact)
    return out


AGREE_TOL = 1e-2
"""A scheme "finds" the derivative when its smallest error is below ``AGREE_TOL * max(1, |f'(x)|)``
(round-off and truncation leave far less at the bottom of the V, even in float32)."""


def best_step(hs: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """``(h, error)`` at the smallest finite error (the bottom of the V)."""
    finite = np.where(np.isfinite(err), err, np.inf)
    i = int(np.argmin(finite))
    return float(hs[i]), float(finite[i])


def agrees(best_error: float, derivative: float) -> bool:
    """Whether some step brings the difference close to the given derivative (see AGREE_TOL).

    When none does, the given derivative disagrees with every finite difference (a wrong
    derivative function, or a kink) and "best h" is an artefact of round-off: it is not shown.
    """
    return bool(best_error <= AGREE_TOL * max(1.0, abs(float(derivative))))


_STYLE = {
    ("forward", "float64"): ("tab:blue", "--"),
    ("central", "float64"): ("tab:blue", "-"),
    ("forward", "float32"): ("tab:red", "--"),
    ("central", "float32"): ("tab:red", "-"),
}


class StepSizeExplorer(Explorer):
    """A function dropdown and a slider for the point x; the V plot and a table of best steps.

    After each update, ``errors[(scheme, dtype)]`` holds the plotted errors (before flooring),
    ``lines[(scheme, dtype)]`` the matplotlib lines and ``summary[(scheme, dtype)]`` a dict with
    ``best_h`` (NaN when no step agrees with the given derivative, see :func:`agrees`),
    ``best_error`` and ``error_at_default_h`` (h = coursekit's default step).
    """

    def __init__(
        self,
        functions: Mapping[str, ProbeFunction] | None = None,
        *,
        x: float = 0.5,
        x_range: tuple[float, float] = (-2.0, 2.0),
        x_step: float = 0.25,
        variable: str = "x",
    ) -> None:
        self.variable = variable
        self.functions = dict(functions) if functions else default_functions()
        self.x_step = x_step
        self.function = with_class(
            widgets.Dropdown(options=list(self.functions), description="f"), "bp-step-function"
        )
        self.point = with_class(
            widgets.FloatSlider(
                value=x,
                min=x_range[0],
                max=x_range[1],
                step=x_step,
                description=variable,
                readout_format=".2f",
            ),
            "bp-step-x",
        )
        self.table = with_class(widgets.HTML(), "bp-step-table")
        self.note = with_class(widgets.HTML(), "bp-step-note")
        self.fig = new_figure(7.5, 4.5, left=0.11, right=0.98, bottom=0.11, top=0.93)
        self.image = image_widget("bp-step-plot", self.fig)
        self.ax = self.fig.add_subplot()
        self.lines = {}
        for key, (color, style) in _STYLE.items():
            (self.lines[key],) = self.ax.loglog(
                H_GRID,
                np.ones_like(H_GRID),
                color=color,
                linestyle=style,
                label=f"{key[0]}, {key[1]}",
            )
        self.ax.axvline(DEFAULT_H, color="0.6", linewidth=0.8)
        self.ax.xaxis.set_minor_locator(NullLocator())
        self.ax.yaxis.set_minor_locator(NullLocator())
        self.ax.set_xlabel("step h")
        self.ax.set_ylabel(f"|finite difference - f'({variable})|")
        self.ax.set_ylim(ERROR_FLOOR / 2, 1e2)
        self.ax.grid(True, which="major", alpha=0.3)
        self.ax.legend(loc="lower left", fontsize="small")
        self.title = self.ax.set_title(" ")
        # axes, ticks and legend are fixed: only the four lines and the title are redrawn
        self.blitter = Blitter(self.fig, [*self.lines.values(), self.title])
        self.errors: dict[tuple[str, str], np.ndarray] = {}
        self.summary: dict[tuple[str, str], dict[str, float]] = {}
        self.widget = with_class(
            widgets.VBox(
                [widgets.HBox([self.function, self.point]), self.note, self.image, self.table]
            ),
            "bp-explorer",
            "bp-step",
        )
        self._observe(self.function, self.point)
        self.update()

    def x(self) -> float:
        """The slider's point, snapped to the slider grid so that 0 is exactly 0.0."""
        k = round((float(self.point.value) - self.point.min) / self.x_step)
        return float(self.point.min + k * self.x_step) + 0.0

    def _render(self) -> None:
        name = self.function.value
        fn = self.functions[name]
        x = self.x()
        self.errors = fd_errors(fn, x)
        exact = float(np.asarray(fn.df(np.array([x], dtype=np.float64)))[0])
        i_default = int(np.argmin(np.abs(np.log(H_GRID / DEFAULT_H))))
        self.summary = {}
        for key, err in self.errors.items():
            self.lines[key].set_ydata(
                np.clip(np.nan_to_num(err, nan=1e2, posinf=1e2), ERROR_FLOOR, 1e2)
            )
            h, e = best_step(H_GRID, err)
            self.summary[key] = {
                "best_h": h if agrees(e, exact) else float("nan"),
                "best_error": e,
                "error_at_default_h": float(err[i_default]),
            }
        v = self.variable
        self.title.set_text(f"f = {name},  {v} = {x:g}")
        self.image.value = self.blitter.png()
        kink = any(abs(x - k) < 1e-12 for k in fn.kinks)
        near = [k for k in fn.kinks if 0 < abs(x - k) <= 1.0]
        if kink:
            text = (
                f"{v} = {x:g} is a kink: f is not differentiable here, so no step size "
                "recovers 'the' derivative: the exact value uses ReLU'(0) = 0, while the central "
                "difference tends to the mean of the two one-sided slopes."
            )
        elif near:
            text = (
                f"A kink at {near[0]:g} is {abs(x - near[0]):g} away: steps larger than that "
                "straddle it and the error jumps."
            )
        elif not any(np.isfinite(v["best_h"]) for v in self.summary.values()):
            worst = min(v["best_error"] for v in self.summary.values())
            text = (
                f"No step size brings the finite difference within {fmt_err(worst)} of the "
                f"derivative given at {v} = {x:g} (f'({v}) = {fmt(exact)} as given): they disagree "
                "at every h, so there is no best h (shown as a dash). Check the derivative."
            )
        else:
            text = "f is smooth here: truncation error falls with h, round-off grows as 1/h."
        self.note.value = f'<div class="bp-note">{escape(text)}</div>'
        self.table.value = self._table_html()

    def _table_html(self) -> str:
        rows = "".join(
            f'<tr data-scheme="{s}" data-dtype="{d}"><td>{s}</td><td>{d}</td>'
            f'<td class="bp-best-h">{fmt_err(v["best_h"])}</td>'
            f'<td class="bp-best-error">{fmt_err(v["best_error"])}</td>'
            f'<td class="bp-default-error">{fmt_err(v["error_at_default_h"])}</td></tr>'
            for (s, d), v in self.summary.items()
        )
        return (
            f'<table class="bp-table" style="{TABLE_STYLE}"><tr><th>scheme</th>'
            "<th>dtype</th><th>best h</th><th>error at best h</th>"
            f"<th>error at h = {fmt(DEFAULT_H)}</th></tr>{rows}</table>"
        )
