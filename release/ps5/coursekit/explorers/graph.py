"""Explorer 1: the scalar computation graph of problem 1.

    z = w x + b,   y = x + tanh(z),   L = (y - t)^2 / 2

Sliders set w, x, b, t. For every node the explorer shows its forward value, the partial
dL/d(node) returned by a pluggable ``partials_fn`` and a central finite difference of L with
respect to that node (computed by :func:`coursekit.gradcheck.numerical_gradient`, holding the
node's other inputs fixed), with their relative error.

The forward pass is given in the problem statement; no analytic partial lives in this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import numpy as np

from coursekit.explorers._common import (
    TABLE_STYLE,
    Explorer,
    error_html,
    escape,
    fmt,
    fmt_err,
    scalar_rel_error,
    verdict_html,
    with_class,
)
from coursekit.gradcheck import DEFAULT_H, PASS_TOL, numerical_gradient

PartialsFn = Callable[[float, float, float, float], Mapping[str, float]]
"""``partials_fn(w, x, b, t) -> {"L": dL/dL, "y": dL/dy, "z": dL/dz, "w", "b", "x": ...}``."""

NODES = ("L", "y", "z", "w", "x", "b", "t")
"""Display order of the graph's nodes (outputs first, as backpropagation visits them)."""

PARTIAL_KEYS = ("L", "y", "z", "w", "b", "x")
"""Keys a ``partials_fn`` returns; t is an input whose partial is not asked for."""

INPUTS = ("w", "x", "b", "t")


def q1_forward(w: float, x: float, b: float, t: float) -> dict[str, float]:
    """Forward values of every node: keys "w", "x", "b", "t", "z", "y", "L" (all ``float``)."""
    z = w * x + b
    y = x + math.tanh(z)
    loss = 0.5 * (y - t) ** 2
    return {"w": w, "x": x, "b": b, "t": t, "z": z, "y": y, "L": loss}


def _downstream(node: str, w: float, x: float, b: float, t: float) -> Callable[[float], float]:
    """L as a function of one node's value, every other input and node held at its value."""
    if node == "L":
        return lambda v: v
    if node == "y":
        return lambda v: 0.5 * (v - t) ** 2
    if node == "z":
        return lambda v: 0.5 * (x + math.tanh(v) - t) ** 2
    if node == "w":
        return lambda v: q1_forward(v, x, b, t)["L"]
    if node == "x":
        return lambda v: q1_forward(w, v, b, t)["L"]
    if node == "b":
        return lambda v: q1_forward(w, x, v, t)["L"]
    if node == "t":
        return lambda v: q1_forward(w, x, b, v)["L"]
    raise KeyError(node)


def numeric_partials(
    w: float, x: float, b: float, t: float, h: float = DEFAULT_H
) -> dict[str, float]:
    """Central-difference dL/d(node) for every node in :data:`NODES` (``float`` each)."""
    out: dict[str, float] = {}
    for node in NODES:
        g = _downstream(node, w, x, b, t)
        value = np.array([q1_forward(w, x, b, t)[node]], dtype=np.float64)
        out[node] = float(numerical_gradient(lambda g=g, value=value: g(value[0]), value, h)[0])
    return out


_EDGES = (("w", "z"), ("x", "z"), ("b", "z"), ("z", "y"), ("x", "y"), ("y", "L"), ("t", "L"))
_POS = {
    "w": (60, 40),
    "x": (60, 120),
    "b": (60, 200),
    "t": (60, 280),
    "z": (250, 120),
    "y": (430, 160),
    "L": (610, 220),
}


def _svg(
    values: Mapping[str, float],
    analytic: Mapping[str, float | None],
    numeric: Mapping[str, float],
) -> str:
    """A small SVG drawing of the graph, each node labelled with its value and partial.

    The analytic partial is shown where there is one, else the finite difference (with "~").
    """
    parts = [
        '<svg class="bp-graph-svg" width="700" height="320" xmlns="http://www.w3.org/2000/svg"'
        ' font-family="DejaVu Sans, sans-serif" font-size="12">'
    ]
    for a, c in _EDGES:
        (x1, y1), (x2, y2) = _POS[a], _POS[c]
        parts.append(f'<line x1="{x1 + 55}" y1="{y1}" x2="{x2 - 55}" y2="{y2}" stroke="#888"/>')
    for node, (cx, cy) in _POS.items():
        parts.append(
            f'<g data-node="{node}"><rect x="{cx - 55}" y="{cy - 28}" width="110" height="56" '
            f'rx="8" fill="#f3f6fa" stroke="#446"/>'
            f'<text x="{cx}" y="{cy - 10}" text-anchor="middle" font-weight="bold">{node}</text>'
            f'<text x="{cx}" y="{cy + 6}" text-anchor="middle">= {escape(fmt(values[node]))}</text>'
            f'<text x="{cx}" y="{cy + 21}" text-anchor="middle" fill="#a40">'
            f"\u2202L/\u2202{node} {_partial_label(analytic.get(node), numeric[node])}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _partial_label(analytic: float | None, numeric: float) -> str:
    if analytic is not None:
        return f"= {escape(fmt(analytic))}"
    return f"\u2248 {escape(fmt(numeric))} (FD)"


class GraphExplorer(Explorer):
    """Sliders for w, x, b, t; a table of node values, analytic partials and finite differences.

    ``partials_fn`` is the student's, the reference's, or ``None`` (finite differences only).
    After each update, ``rows[node]`` holds ``{"value", "analytic", "numeric", "rel_error"}``
    (floats, ``None`` where unavailable) and ``table.value`` the displayed HTML.
    """

    def __init__(
        self,
        partials_fn: PartialsFn | None = None,
        *,
        w: float = 0.5,
        x: float = 1.0,
        b: float = -0.2,
        t: float = 0.3,
        h: float = DEFAULT_H,
        label: str | None = None,
    ) -> None:
        self.partials_fn = partials_fn
        self.h = h
        self.label = label or (
            "finite differences only"
            if partials_fn is None
            else getattr(partials_fn, "__name__", "partials_fn")
        )
        self.sliders: dict[str, widgets.FloatSlider] = {}
        for name, value in zip(INPUTS, (w, x, b, t), strict=True):
            self.sliders[name] = with_class(
                widgets.FloatSlider(
                    value=value,
                    min=-3.0,
                    max=3.0,
                    step=0.1,
                    description=name,
                    readout_format=".2f",
                    continuous_update=True,
                ),
                "bp-graph-slider",
                f"bp-graph-{name}",
            )
        self.table = with_class(widgets.HTML(), "bp-graph-table")
        self.diagram = with_class(widgets.HTML(), "bp-graph-diagram")
        self.status = with_class(widgets.HTML(), "bp-graph-status")
        self.rows: dict[str, dict[str, float | None]] = {}
        self.widget = with_class(
            widgets.VBox(
                [
                    widgets.HBox(list(self.sliders.values())[:2]),
                    widgets.HBox(list(self.sliders.values())[2:]),
                    self.status,
                    self.table,
                    self.diagram,
                ]
            ),
            "bp-explorer",
            "bp-graph",
        )
        self._observe(*self.sliders.values())
        self.update()

    def values(self) -> tuple[float, float, float, float]:
        """The current (w, x, b, t) as floats."""
        w, x, b, t = (float(self.sliders[n].value) for n in INPUTS)
        return w, x, b, t

    def _analytic(self, w: float, x: float, b: float, t: float) -> dict[str, float | None]:
        if self.partials_fn is None:
            self.status.value = (
                '<div class="bp-note">No gradient function: showing finite differences only.</div>'
            )
            return {}
        try:
            raw = self.partials_fn(w, x, b, t)
        except Exception as exc:  # a student's unfinished function must not break the explorer
            self.status.value = error_html(f"{self.label}(w, x, b, t)", exc)
            return {}
        out: dict[str, float | None] = {}
        missing = []
        for key in PARTIAL_KEYS:
            try:
                out[key] = float(raw[key])
            except (KeyError, TypeError, ValueError):
                out[key] = None
                missing.append(key)
        note = f"Analytic partials from <code>{escape(self.label)}</code>."
        if missing:
            note += f" Missing or not a number: {escape(', '.join(missing))}."
        self.status.value = f'<div class="bp-note">{note}</div>'
        return out

    def _render(self) -> None:
        w, x, b, t = self.values()
        values = q1_forward(w, x, b, t)
        numeric = numeric_partials(w, x, b, t, self.h)
        analytic = self._analytic(w, x, b, t)
        self.rows = {}
        for node in NODES:
            a = analytic.get(node)
            err = None if a is None else scalar_rel_error(a, numeric[node])
            self.rows[node] = {
                "value": values[node],
                "analytic": a,
                "numeric": numeric[node],
                "rel_error": err,
            }
        self.table.value = self._table_html()
        self.diagram.value = _svg(values, analytic, numeric)

    def _table_html(self) -> str:
        head = (
            "<tr><th>node</th><th>value</th><th>\u2202L/\u2202node (analytic)</th>"
            f"<th>finite difference (h={self.h:g})</th><th>rel. error</th>"
            f"<th>\u2264 {PASS_TOL:g}?</th></tr>"
        )
        body = []
        for node, row in self.rows.items():
            body.append(
                f'<tr data-node="{node}"><td class="bp-node">{node}</td>'
                f'<td class="bp-value">{fmt(row["value"])}</td>'
                f'<td class="bp-analytic">{fmt(row["analytic"])}</td>'
                f'<td class="bp-numeric">{fmt(row["numeric"])}</td>'
                f'<td class="bp-relerr">{fmt_err(row["rel_error"])}</td>'
                f"<td>{verdict_html(row['rel_error'])}</td></tr>"
            )
        return f'<table class="bp-table" style="{TABLE_STYLE}">{head}{"".join(body)}</table>'
