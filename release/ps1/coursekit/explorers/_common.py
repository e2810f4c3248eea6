"""Shared pieces of the gradient explorers: number formatting, figures rendered to PNG, timing.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, so no global state and no
dependence on the notebook's backend), rendered with Agg into an ``ipywidgets.Image``; while
nbgrader autogrades a notebook they are not rendered at all (:func:`rendering`).
"""

from __future__ import annotations

import html
import io
import math
import os
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit.gradcheck import PASS_TOL, rel_error

TABLE_STYLE = "font-family:monospace; border-spacing:14px 2px; margin-left:-14px"
"""Inline style of the explorers' tables."""

LABELS = {"description_width": "100px"}
"""Style of the explorers' controls: room for labels such as "learning rate"."""

DASH = "\u2014"
"""Shown in place of a number that is not available (e.g. no analytic gradient given)."""


def fmt(value: float | None) -> str:
    """Format a number for the explorers' tables: 6 significant digits, or a dash for None/NaN."""
    if value is None:
        return DASH
    value = float(value)
    if math.isnan(value):
        return DASH
    if value == 0.0:
        return "0"
    return f"{value:.6g}"


def fmt_err(value: float | None) -> str:
    """Format a relative error: 2 significant digits in scientific notation, or a dash."""
    if value is None or math.isnan(float(value)):
        return DASH
    return f"{float(value):.1e}"


def verdict_html(err: float | None, tol: float = PASS_TOL) -> str:
    """A pass/fail badge for a relative error against ``tol`` (a dash when there is none)."""
    if err is None:
        return state_html(None)
    return state_html("pass" if float(err) <= tol else "fail")  # NaN fails


FD_NOISE_ULPS = 32.0
"""Rounding error of one loss evaluation, in units of float64 eps times max(|L|, 1): generous on
purpose, so that a difference below the resulting bound is never called a failure."""


def fd_noise(loss_value: float, h: float, entries: int) -> float:
    """Bound on ``||FD - exact||`` from rounding alone for a central difference of step ``h``
    over ``entries`` entries: each entry is off by up to ``2 * FD_NOISE_ULPS * eps * max(|L|, 1)
    / (2 h)``; the norm over the entries grows like their square root."""
    per_entry = FD_NOISE_ULPS * np.finfo(np.float64).eps * max(abs(float(loss_value)), 1.0) / h
    return float(per_entry * np.sqrt(max(int(entries), 1)))


def fd_verdict(
    analytic: np.ndarray, numeric: np.ndarray, noise: float, tol: float = PASS_TOL
) -> tuple[float, str]:
    """``(rel_error, state)``: "pass" when ``rel_error <= tol``; "unreliable" when the two
    differ by no more than the finite difference's own rounding ``noise`` (the check cannot
    tell: neither pass nor fail); otherwise "fail" (also for NaN)."""
    err = rel_error(analytic, numeric)
    if err <= tol:
        return err, "pass"
    diff = float(np.linalg.norm(np.asarray(analytic) - np.asarray(numeric)))
    if np.isfinite(diff) and diff <= noise:
        return err, "unreliable"
    return err, "fail"


def state_html(state: str | None) -> str:
    """The badge of a :func:`fd_verdict` state (a dash for None)."""
    if state is None:
        return f'<span class="bp-verdict bp-none">{DASH}</span>'
    if state == "pass":
        return '<span class="bp-verdict bp-pass" style="color:#1a7f37">\u2713 pass</span>'
    if state == "unreliable":
        return (
            '<span class="bp-verdict bp-unreliable" style="color:#9a6700" title="the difference '
            'is within the rounding noise of the finite difference">? FD too noisy</span>'
        )
    return '<span class="bp-verdict bp-fail" style="color:#cf222e">\u2717 fail</span>'


def escape(text: object) -> str:
    """HTML-escape any object's ``str``."""
    return html.escape(str(text))


def new_figure(width: float, height: float, **adjust: float) -> Figure:
    """A pyplot-free figure of ``width`` x ``height`` inches at 80 dpi.

    Margins are fixed by ``adjust`` (``Figure.subplots_adjust`` keywords): a constrained layout
    would double the time of every redraw.
    """
    fig = Figure(figsize=(width, height), dpi=80)
    fig.subplots_adjust(**adjust)
    FigureCanvasAgg(fig)
    return fig


def rendering() -> bool:
    """False while nbgrader autogrades the notebook (``NBGRADER_EXECUTION=autograde``, set by
    nbgrader and by this course's grader): nobody sees a figure there, so the explorers compute
    and check everything as usual (your functions are called, their errors shown) but render no
    pixels, and their images stay empty."""
    return os.environ.get("NBGRADER_EXECUTION") != "autograde"


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` with Agg and return the PNG bytes (fast, light compression); empty bytes
    when not :func:`rendering`."""
    if not rendering():
        return b""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class Blitter:
    """Fast redraws of a figure whose axes, ticks and legend never change: the static part is
    rendered once, each redraw paints only ``artists`` (marked animated) over it and encodes the
    canvas as PNG, skipping the text layout that dominates a full ``savefig``."""

    def __init__(self, fig: Figure, artists: list[Any]) -> None:
        self.fig, self.artists = fig, artists
        for artist in artists:
            artist.set_animated(True)
        self.canvas = fig.canvas
        self.refresh()

    def refresh(self) -> None:
        """Render the static part again (after a change of limits, ticks or labels)."""
        if not rendering():
            return
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def png(self) -> bytes:
        """The figure with the artists' current data, as PNG bytes (empty when not
        :func:`rendering`)."""
        if not rendering():
            return b""
        from PIL import Image  # matplotlib's own dependency

        self.canvas.restore_region(self.background)
        for artist in self.artists:
            artist.axes.draw_artist(artist) if artist.axes else self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw")
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=1)
        return buf.getvalue()


def image_widget(css_class: str, fig: Figure) -> widgets.Image:
    """An empty PNG image for ``fig``, shown at its pixel size, with the CSS hook ``css_class``."""
    width = round(fig.get_figwidth() * fig.dpi)
    img = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px", max_width="100%"))
    img.add_class(css_class)
    return img


def with_class(widget: widgets.Widget, *css_classes: str) -> widgets.Widget:
    """Add CSS hooks to ``widget`` and return it (for compact construction)."""
    for css_class in css_classes:
        widget.add_class(css_class)
    return widget


def note_html(text: str) -> str:
    """An explanatory line under an explorer's controls (``text`` is escaped)."""
    return f'<div class="bp-note">{escape(text)}</div>'


def error_html(what: str, exc: BaseException) -> str:
    """A visible, non-fatal message for an exception raised by a user-supplied function."""
    return (
        '<div class="bp-error" style="color:#cf222e">'
        f"{escape(what)} raised {escape(type(exc).__name__)}: {escape(exc)}</div>"
    )


class Explorer:
    """Base class: holds the top-level ``widget`` and times every update.

    Displaying an explorer (last expression of a cell, or ``display(explorer)``) shows its widget.
    ``last_update_seconds`` is the wall time of the most recent :meth:`update`.
    """

    widget: widgets.Widget
    last_update_seconds: float = float("nan")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _render(self) -> None:
        raise NotImplementedError

    def update(self, *_: Any) -> None:
        """Recompute and redraw from the current control values."""
        start = time.perf_counter()
        self._render()
        self.last_update_seconds = time.perf_counter() - start

    def _observe(
        self, *controls: widgets.Widget, handler: Callable[..., None] | None = None
    ) -> None:
        for control in controls:
            control.observe(handler or self.update, names="value")
