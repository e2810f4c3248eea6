"""Shared pieces of the gradient explorers: number formatting, figures rendered to PNG, timing.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, so no global state and no
dependence on the notebook's backend), rendered with Agg into an ``ipywidgets.Image``.
"""

from __future__ import annotations

import html
import io
import math
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


def scalar_rel_error(a: float, b: float) -> float:
    """``|a - b| / (|a| + |b|)`` computed by :func:`coursekit.gradcheck.rel_error`."""
    return rel_error(np.array([a], dtype=np.float64), np.array([b], dtype=np.float64))


def verdict_html(err: float | None, tol: float = PASS_TOL) -> str:
    """A pass/fail badge for a relative error against ``tol`` (a dash when there is none)."""
    if err is None:
        return f'<span class="bp-verdict bp-none">{DASH}</span>'
    if float(err) <= tol:  # NaN fails
        return '<span class="bp-verdict bp-pass" style="color:#1a7f37">\u2713 pass</span>'
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


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` with Agg and return the PNG bytes (fast, light compression)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
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
