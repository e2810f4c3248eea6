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
    fd_noise,
    fd_verdict,
    fmt,
    fmt_err,
    state_html,
    with_class,
)
from coursekit.gradcheck import DEFAULT_H, PASS_TOL, numerical_gradient
from coursekit.graphs import Parents, edges_of

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
    "w": (90, 40),
    "x": (90, 120),
    "b": (90, 200),
    "t": (90, 280),
    "z": (300, 120),
    "y": (500, 160),
    "L": (700, 220),
}

CHAR_WIDTH = 7.4
"""Width in pixels of one character of the 12 px DejaVu Sans labels (its widest digits and
symbols are 7.6 px, the average about 7): a box is sized from its longest line."""

MIN_BOX = 110


def box_width(lines: list[str]) -> int:
    """Width of a node box that holds every line of its label."""
    return max(MIN_BOX, int(math.ceil(CHAR_WIDTH * max((len(s) for s in lines), default=0))) + 14)


def layered_positions(
    nodes: list[str], edges: list[tuple[str, str]]
) -> dict[str, tuple[int, int]]:
    """Left-to-right positions: a node's column is the length of the longest path reaching it."""
    column = {n: 0 for n in nodes}
    for _ in nodes:  # longest-path layering of a small DAG (a cycle just stops after |nodes|)
        for a, c in edges:
            if a in column and c in column and column[c] < column[a] + 1:
                column[c] = column[a] + 1
    rows: dict[int, int] = {}
    pos = {}
    for n in nodes:
        k = column[n]
        pos[n] = (90 + 200 * k, 40 + 80 * rows.get(k, 0))
        rows[k] = rows.get(k, 0) + 1
    return pos


def graph_svg(
    labels: Mapping[str, list[str]],
    edges: list[tuple[str, str]],
    *,
    pos: Mapping[str, tuple[int, int]] | None = None,
    edge_colors: Mapping[tuple[str, str], str] | None = None,
    css_class: str = "bp-graph-svg",
) -> str:
    """An SVG drawing of a small computation graph.

    ``labels[node]`` are the lines written in the node's box (the first in bold), ``edges`` the
    (parent, child) arrows, ``pos`` the box centres (default: :func:`layered_positions`) and
    ``edge_colors`` an optional colour per edge (e.g. red for a wrong one). Boxes are as wide as
    their longest line, so no label overflows its box.
    """
    nodes = list(labels)
    pos = dict(pos) if pos is not None else layered_positions(nodes, edges)
    widths = {n: box_width(labels[n]) for n in nodes}
    heights = {n: 16 * len(labels[n]) + 8 for n in nodes}
    right = max(pos[n][0] + widths[n] / 2 for n in nodes) + 10
    bottom = max(pos[n][1] + heights[n] / 2 for n in nodes) + 10
    parts = [
        f'<svg class="{css_class}" width="{int(right)}" height="{int(bottom)}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="DejaVu Sans, sans-serif" font-size="12">'
        '<defs><marker id="bp-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="context-stroke"/></marker></defs>'
    ]
    for a, c in edges:
        if a not in pos or c not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[c]
        color = (edge_colors or {}).get((a, c), "#888")
        parts.append(
            f'<line data-edge="{escape(a)}-{escape(c)}" x1="{x1 + widths[a] / 2:g}" y1="{y1}" '
            f'x2="{x2 - widths[c] / 2:g}" y2="{y2}" stroke="{color}" stroke-width="1.5" '
            'marker-end="url(#bp-arrow)"/>'
        )
    for node in nodes:
        cx, cy = pos[node]
        w, h = widths[node], heights[node]
        parts.append(
            f'<g data-node="{escape(node)}"><rect x="{cx - w / 2:g}" y="{cy - h / 2:g}" '
            f'width="{w}" height="{h}" rx="8" fill="#f3f6fa" stroke="#446"/>'
        )
        for i, line in enumerate(labels[node]):
            y = cy - h / 2 + 17 + 16 * i
            style = ' font-weight="bold"' if i == 0 else (' fill="#a40"' if i == 2 else "")
            parts.append(
                f'<text x="{cx}" y="{y:g}" text-anchor="middle"{style}>{escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _svg(
    values: Mapping[str, float],
    analytic: Mapping[str, float | None],
    numeric: Mapping[str, float],
) -> str:
    """The Q1 graph, each node labelled with its value and partial.

    The analytic partial is shown where there is one, else the finite difference (with "~").
    """
    labels = {
        node: [node, f"= {fmt(values[node])}",
               f"\u2202L/\u2202{node} {_partial_label(analytic.get(node), numeric[node])}"]
        for node in _POS
    }  # fmt: skip
    return graph_svg(labels, list(_EDGES), pos=_POS)


def _partial_label(analytic: float | None, numeric: float) -> str:
    if analytic is not None:
        return f"= {fmt(analytic)}"
    return f"\u2248 {fmt(numeric)} (FD)"


class GraphExplorer(Explorer):
    """Sliders for w, x, b, t; a table of node values, analytic partials and finite differences.

    ``partials_fn`` is the student's, the reference's, or ``None`` (finite differences only).
    After each update, ``rows[node]`` holds ``{"value", "analytic", "numeric", "rel_error"}``
    (floats, ``None`` where unavailable), ``"state"`` (see :func:`fd_verdict`); ``table.value`` is
    the displayed HTML.
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
            err, state = None, None
            if a is not None:  # the FD's rounding noise bounds what the check can tell
                err, state = fd_verdict(
                    np.array([a]), np.array([numeric[node]]), fd_noise(values["L"], self.h, 1)
                )
            self.rows[node] = {
                "value": values[node],
                "analytic": a,
                "numeric": numeric[node],
                "rel_error": err,
                "state": state,
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
                f"<td>{state_html(row['state'])}</td></tr>"
            )
        return f'<table class="bp-table" style="{TABLE_STYLE}">{head}{"".join(body)}</table>'


def show_graph(parents: Parents, nodes: list[str] | None = None) -> widgets.HTML:
    """Draw a parents mapping with the explorers' graph drawing (inputs on the left)."""
    nodes = list(nodes or dict.fromkeys([n for e in edges_of(parents) for n in e]))
    html = graph_svg({n: [n] for n in nodes}, edges_of(parents), css_class="bp-drawn-svg")
    return with_class(widgets.HTML(html), "bp-graph-drawn")
