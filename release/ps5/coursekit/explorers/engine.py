"""Explorer 5: the backward pass of a scalar reverse-mode engine, replayed node by node (ps5).

The explorer takes a root node of the student's own engine and the student's ``backward``. A node
is anything with ``data``, ``grad``, ``parents`` (nodes) and ``local`` (one local derivative
d(node)/d(parent) per parent, stored by the forward pass), plus optional ``label`` and ``op``.
It calls ``backward(root)`` once, which returns the nodes in the order it visited them, and
replays that order: at step k the k-th visited node adds ``local[i] * grad`` to each parent
``i``, where ``grad`` is what the node had received by then. The final replayed gradients are
compared with the ``grad`` the student's backward left on every node, so a backward that assigns
instead of adding, or visits a node before all its consumers, shows where it differs.

No derivative is computed here: every number comes from the student's nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from coursekit.explorers._common import (
    TABLE_STYLE,
    Explorer,
    error_html,
    escape,
    figure_png,
    fmt,
    image_widget,
    new_figure,
    note_html,
    with_class,
)

BackwardFn = Callable[[Any], Sequence[Any]]
"""``backward(root) -> the nodes in the order visited`` (it sets every node's ``grad``)."""


def graph_nodes(root: Any) -> list[Any]:
    """Every node reachable from ``root`` through ``parents``, each once, ``root`` first."""
    out, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(reversed(tuple(node.parents)))
    return out


def node_names(nodes: Sequence[Any]) -> dict[int, str]:
    """id(node) -> its label, or ``op#k`` (``input#k`` for a node without parents)."""
    names = {}
    for k, node in enumerate(nodes):
        label = str(getattr(node, "label", "") or "")
        kind = getattr(node, "op", "") or ("input" if not node.parents else "node")
        names[id(node)] = label or f"{kind}#{k}"
    return names


def depths(nodes: Sequence[Any]) -> dict[int, int]:
    """id(node) -> length of the longest path from the node to the root (the root has 0)."""
    depth = {id(nodes[0]): 0}
    changed = True
    while changed:  # graphs of an explorer are small: relax until stable
        changed = False
        for node in nodes:
            if id(node) not in depth:
                continue
            for parent in node.parents:
                if depth.get(id(parent), -1) < depth[id(node)] + 1:
                    depth[id(parent)] = depth[id(node)] + 1
                    changed = True
    return depth


class EngineExplorer(Explorer):
    """Step through ``backward(root)``: the visited node, its contributions, the grads so far."""

    def __init__(self, root: Any, backward_fn: BackwardFn, label: str | None = None) -> None:
        self.root = root
        self.label = label or getattr(backward_fn, "__name__", "backward")
        self.nodes = graph_nodes(root)
        self.names = node_names(self.nodes)
        self.depth = depths(self.nodes)
        self.visited: list[Any] = []
        self.final: dict[int, float] = {}
        self.status = with_class(widgets.HTML(), "bp-engine-status")
        try:
            visited = backward_fn(root)
            self.visited = list(visited) if visited is not None else []
            self.final = {id(n): float(n.grad) for n in self.nodes}
            if not self.visited:
                self.status.value = note_html(
                    f"{self.label}(root) returned no visiting order: return the list of nodes in "
                    "the order your backward pass visits them.")
        except Exception as exc:  # an unfinished student function must not break the explorer
            self.status.value = error_html(f"{self.label}(root)", exc)
        self.step = with_class(
            widgets.IntSlider(value=0, min=0, max=len(self.visited), description="step",
                              continuous_update=True), "bp-engine-step")
        self.play = widgets.Play(value=0, min=0, max=len(self.visited), interval=900)
        widgets.jslink((self.play, "value"), (self.step, "value"))
        self.back = with_class(widgets.Button(description="\u25c0 back"), "bp-engine-back")
        self.next = with_class(widgets.Button(description="next \u25b6"), "bp-engine-next")
        self.back.on_click(lambda _: self._move(-1))
        self.next.on_click(lambda _: self._move(+1))
        self.table = with_class(widgets.HTML(), "bp-engine-table")
        self.summary = with_class(widgets.HTML(), "bp-engine-summary")
        self.figure = new_figure(7.5, 3.6, left=0.02, right=0.98, top=0.9, bottom=0.04)
        self.image = image_widget("bp-engine-graph", self.figure)
        self.rows: list[dict[str, Any]] = []
        self.widget = with_class(
            widgets.VBox([widgets.HBox([self.play, self.back, self.next, self.step]), self.status,
                          self.image, self.table, self.summary]),
            "bp-explorer", "bp-engine")
        self._observe(self.step)
        self.update()

    def _move(self, delta: int) -> None:
        self.step.value = min(max(self.step.value + delta, 0), self.step.max)

    def replay(self, steps: int) -> tuple[dict[int, float], list[dict[str, Any]]]:
        """Gradients after the first ``steps`` visits, and what each of those visits added."""
        grads = {id(n): 0.0 for n in self.nodes}
        grads[id(self.root)] = 1.0
        log = []
        for node in self.visited[:steps]:
            g = grads.get(id(node), 0.0)
            adds = []
            for parent, d in zip(tuple(node.parents), tuple(node.local), strict=False):
                amount = float(d) * g
                grads[id(parent)] = grads.get(id(parent), 0.0) + amount
                adds.append((self.names.get(id(parent), "?"), float(d), g, amount))
            log.append({"node": self.names.get(id(node), "?"), "grad": g, "adds": adds})
        return grads, log

    def _render(self) -> None:
        k = int(self.step.value)
        grads, log = self.replay(k)
        self.rows = log
        body = []
        for i, row in enumerate(log):
            adds = "<br>".join(f"{escape(p)}.grad += {fmt(d)} \u00d7 {fmt(g)} = {fmt(a)}"
                               for p, d, g, a in row["adds"]) or "(an input: nothing to pass on)"
            css = ' class="bp-current"' if i == k - 1 else ""
            body.append(f'<tr{css} data-step="{i + 1}"><td>{i + 1}</td>'
                        f'<td class="bp-node">{escape(row["node"])}</td>'
                        f'<td class="bp-grad">{fmt(row["grad"])}</td>'
                        f'<td class="bp-adds">{adds}</td></tr>')
        head = ("<tr><th>step</th><th>node visited</th><th>its grad then</th>"
                "<th>what it adds to each parent (local derivative \u00d7 grad)</th></tr>")
        self.table.value = (f'<table class="bp-table" style="{TABLE_STYLE}">{head}'
                            f'{"".join(body)}</table>')
        self.summary.value = self._summary(grads, k)
        self._draw(grads, k)
        self.image.value = figure_png(self.figure)

    def _summary(self, grads: dict[int, float], k: int) -> str:
        if k < len(self.visited) or not self.visited:
            return note_html(f"{k} of {len(self.visited)} nodes visited.")
        differ = [
            f"{self.names[id(n)]}: your backward left {fmt(self.final[id(n)])}, the replay gives "
            f"{fmt(grads[id(n)])}"
            for n in self.nodes
            if not math.isclose(self.final[id(n)], grads[id(n)], rel_tol=1e-9, abs_tol=1e-12)
        ]
        missing = [self.names[id(n)] for n in self.nodes
                   if id(n) not in {id(v) for v in self.visited}]
        text = "All nodes visited."
        if missing:
            text += f" Never visited: {', '.join(missing)}."
        if differ:
            text += (" The grads your backward left differ from adding local \u00d7 grad in your"
                     " visiting order: " + "; ".join(differ) + ".")
        else:
            text += " The grads your backward left equal the replay."
        return f'<div class="bp-note bp-engine-verdict">{escape(text)}</div>'

    def _positions(self) -> dict[int, tuple[float, float]]:
        layers: dict[int, list[Any]] = {}
        for node in self.nodes:
            layers.setdefault(self.depth.get(id(node), 0), []).append(node)
        pos = {}
        for d, members in layers.items():
            for j, node in enumerate(members):
                pos[id(node)] = (-float(d), (len(members) - 1) / 2.0 - j)
        return pos

    def _draw(self, grads: dict[int, float], k: int) -> None:
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        pos = self._positions()
        current = self.visited[k - 1] if k else None
        for node in self.nodes:
            x1, y1 = pos[id(node)]
            for parent in node.parents:
                x0, y0 = pos[id(parent)]
                hot = node is current
                ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                            arrowprops={"arrowstyle": "->", "color": "#cf222e" if hot else "#999",
                                        "lw": 2 if hot else 1, "shrinkA": 14, "shrinkB": 14})
        done = {id(v) for v in self.visited[:k]}
        for node in self.nodes:
            x, y = pos[id(node)]
            color = "#fb8500" if node is current else ("#8ecae6" if id(node) in done else "#eee")
            ax.scatter([x], [y], s=900, color=color, edgecolors="k", zorder=3)
            ax.text(x, y + 0.05, self.names[id(node)], ha="center", va="bottom", fontsize=8,
                    zorder=4)
            ax.text(x, y - 0.05, f"{fmt(node.data)}\ng={fmt(grads[id(node)])}", ha="center",
                    va="top", fontsize=7, zorder=4)
        ax.set_title(f"{self.label}: step {k} of {len(self.visited)} (orange: visited now; blue:"
                     " done; red: the edges it passes its gradient along)", fontsize=8)
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.axis("off")
