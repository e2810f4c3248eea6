"""Explorer 3: per-layer weight gradients of an MLP, analytic against finite differences.

Controls: hidden activation, number of hidden layers, initial weight scale, and the layer whose
gradient is drawn. For the chosen layer m the explorer draws heatmaps of dW^(m) from a given
gradient function, of its central finite difference (:func:`coursekit.gradcheck.numerical_gradient`
on the given loss) and of their difference; for every layer it plots ||dW^(m)|| on a log axis,
which shows vanishing (sigmoid, deep, small scale) and exploding (ReLU, large scale) gradients.
The norm axis spans a fixed range (widened only when a norm leaves it) and the layer axis every
depth offered, so a change of depth or scale moves the curve instead of rescaling the axes (and
redraws only the data).

A layer passes when the relative error is at most the tolerance. When it is larger but the
difference is within the finite difference's own rounding noise (tiny gradients: the loss
differences are a few ulps), the check cannot tell and says so ("FD too noisy") instead of
calling a possibly correct gradient wrong. Finite differences are cached per (activation,
depth, scale): moving back to a setting, or changing only the layer, costs no loss evaluations.

Nothing here knows how to differentiate an MLP: the loss and the gradient are arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullLocator

from coursekit.explorers._common import (
    LABELS,
    TABLE_STYLE,
    Blitter,
    Explorer,
    error_html,
    escape,
    fd_noise,
    fd_verdict,
    fmt,
    fmt_err,
    image_widget,
    new_figure,
    note_html,
    state_html,
    with_class,
)
from coursekit.gradcheck import DEFAULT_H, PASS_TOL, numerical_gradient

Params = dict[str, np.ndarray]

NORM_RANGE = (1e-10, 1e4)
"""Default y range of the norm plot; widened (never narrowed) to show every norm."""

CACHE_SIZE = 64
"""Settings whose finite differences are kept."""


class LayerProblem(NamedTuple):
    """Parameters ``W1, b1, ..., WL, bL`` with the scalar ``loss_fn(params)`` and, optionally,
    ``grad_fn(params) -> grads`` (a dict with at least the keys ``W1 .. WL``)."""

    params: Params
    loss_fn: Callable[[Params], float]
    grad_fn: Callable[[Params], Mapping[str, np.ndarray]] | None


ProblemFactory = Callable[[str, int, float], LayerProblem]
"""``make_problem(hidden_activation, hidden_layers, scale) -> LayerProblem``."""


def scaled_init(sizes: tuple[int, ...], scale: float, seed: int = 0) -> Params:
    """Gaussian parameters: ``W{m}`` (D_m, D_{m-1}) with std ``scale / sqrt(D_{m-1})``, ``b{m}``
    (D_m, 1) with std 0.1. ``scale = 1`` keeps signal variance for linear layers, ``sqrt(2)``
    for ReLU (He)."""
    rng = np.random.default_rng(seed)
    params: Params = {}
    for m in range(1, len(sizes)):
        d_in, d_out = sizes[m - 1], sizes[m]
        params[f"W{m}"] = rng.normal(0.0, scale / np.sqrt(d_in), size=(d_out, d_in))
        params[f"b{m}"] = rng.normal(0.0, 0.1, size=(d_out, 1))
    return params


def depth_of(params: Mapping[str, np.ndarray]) -> int:
    """Number of weight layers L in a ``W1 .. WL`` parameter dict."""
    m = 0
    while f"W{m + 1}" in params:
        m += 1
    return m


def mlp_problem_factory(
    loss_fn: Callable[[np.ndarray, np.ndarray, Params, str], float],
    grad_fn: Callable[[np.ndarray, np.ndarray, Params, str], Mapping[str, np.ndarray]]
    | None = None,
    *,
    init_fn: Callable[[tuple[int, ...], float, int], Params] = scaled_init,
    n: int = 8,
    d: int = 4,
    width: int = 8,
    c: int = 3,
    seed: int = 0,
) -> ProblemFactory:
    """Build a :data:`ProblemFactory` from batch-level functions.

    ``loss_fn(X, T, params, hidden) -> float`` and ``grad_fn(X, T, params, hidden) -> grads`` take
    X (N, D), one-hot T (N, C) and the hidden activation name; layer widths are
    ``(D, width, ..., width, C)`` and ``init_fn(sizes, scale, seed)`` draws the parameters.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(n, d))
    T = np.eye(c)[rng.integers(0, c, size=n)]

    def make(hidden: str, hidden_layers: int, scale: float) -> LayerProblem:
        sizes = (d, *([width] * hidden_layers), c)
        params = init_fn(sizes, scale, seed)
        grad = None if grad_fn is None else (lambda p: grad_fn(X, T, p, hidden))
        return LayerProblem(params, lambda p: float(loss_fn(X, T, p, hidden)), grad)

    return make


def fd_weight_grads(problem: LayerProblem, h: float = DEFAULT_H) -> dict[str, np.ndarray]:
    """Central-difference ``dW{m}`` for every layer, each of shape (D_m, D_{m-1})."""
    params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in problem.params.items()}
    return {
        f"W{m}": numerical_gradient(lambda: problem.loss_fn(params), params[f"W{m}"], h)
        for m in range(1, depth_of(params) + 1)
    }


class LayerGradientExplorer(Explorer):
    """Controls for activation, depth, scale and layer; heatmaps, norm plot and a per-layer table.

    After each update: ``analytic`` and ``numeric`` map ``"W{m}"`` to the arrays drawn (analytic
    is empty without a gradient function), ``norms[m] = (||dW analytic|| or None, ||dW FD||)``,
    ``rel_errors[m]`` the relative errors, ``states[m]`` "pass", "fail", "unreliable" (within the
    finite difference's rounding noise ``noise[m]``) or None, ``images`` the three heatmap arrays
    of the chosen layer, ``diff_scale`` the colour limit of the difference map and
    ``norm_lines`` the plotted norm lines.
    """

    def __init__(
        self,
        make_problem: ProblemFactory,
        *,
        activations: tuple[str, ...] = ("sigmoid", "tanh", "relu"),
        hidden_layers: int = 3,
        max_hidden_layers: int = 6,
        scale: float = 1.0,
        h: float = DEFAULT_H,
        label: str = "gradient function",
    ) -> None:
        self.make_problem, self.h, self.label = make_problem, h, label
        self.activation = with_class(
            widgets.Dropdown(options=list(activations), description="activation", style=LABELS),
            "bp-layers-act",
        )
        self.depth = with_class(
            widgets.IntSlider(
                value=hidden_layers,
                min=1,
                max=max_hidden_layers,
                description="hidden layers",
                style=LABELS,
                continuous_update=False,
            ),
            "bp-layers-depth",
        )
        self.scale = with_class(
            widgets.FloatLogSlider(
                value=scale,
                base=2,
                min=-3,
                max=3,
                step=0.25,
                description="init scale",
                style=LABELS,
                readout_format=".3g",
                continuous_update=False,
            ),
            "bp-layers-scale",
        )
        self.layer = with_class(
            widgets.IntSlider(
                value=1,
                min=1,
                max=hidden_layers + 1,
                description="layer",
                style=LABELS,
                continuous_update=False,
            ),
            "bp-layers-layer",
        )
        self.table = with_class(widgets.HTML(), "bp-layers-table")
        self.status = with_class(widgets.HTML(), "bp-layers-status")
        self.fig = new_figure(11.5, 3.4, left=0.07, right=0.97, bottom=0.2, top=0.84, wspace=0.3)
        self.image = image_widget("bp-layers-plot", self.fig)
        self.axes = self.fig.subplots(1, 4, width_ratios=[1.4, 1, 1, 1])
        self._key: tuple[str, int, float] | None = None
        self._cache: dict[tuple[str, int, float], tuple] = {}
        self.states: dict[int, str | None] = {}
        self.noise: dict[int, float] = {}
        self.diff_scale = float("nan")
        self.analytic: dict[str, np.ndarray] = {}
        self.numeric: dict[str, np.ndarray] = {}
        self.norms: dict[int, tuple[float | None, float]] = {}
        self.rel_errors: dict[int, float | None] = {}
        self.bad_shapes: dict[int, tuple[int, ...]] = {}
        self.images: list[np.ndarray | None] = []
        self.norm_lines: dict[str, Line2D] = {}
        self._setup_axes()
        self.widget = with_class(
            widgets.VBox(
                [
                    widgets.HBox([self.activation, self.depth]),
                    widgets.HBox([self.scale, self.layer]),
                    self.status,
                    self.image,
                    self.table,
                ]
            ),
            "bp-explorer",
            "bp-layers",
        )
        self._observe(self.activation, self.depth, self.scale, self.layer)
        self.update()

    def _compute(self) -> None:
        key = (self.activation.value, int(self.depth.value), float(self.scale.value))
        if key == self._key:
            return
        self._key = key
        if key not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self._evaluate(key)
        (self.numeric, self.analytic, self.status.value, self.norms, self.rel_errors,
         self.states, self.noise, self.bad_shapes) = self._cache[key]  # fmt: skip

    def _evaluate(self, key: tuple[str, int, float]) -> tuple:
        """Finite differences, the given gradient and their comparison for one setting."""
        problem = self.make_problem(*key)
        with np.errstate(all="ignore"):  # saturated softmax at large scales: no stderr noise
            numeric = fd_weight_grads(problem, self.h)
            loss0 = float(problem.loss_fn(problem.params))
        analytic: dict[str, np.ndarray] = {}
        if problem.grad_fn is None:
            status = note_html("No gradient function: finite differences only.")
        else:
            try:
                with np.errstate(all="ignore"):
                    grads = problem.grad_fn(problem.params)
                analytic = {k: np.asarray(grads[k], dtype=np.float64) for k in numeric}
                status = note_html(
                    f"Weight gradients from {self.label} against finite differences (h={self.h:g})."
                )
            except Exception as exc:  # a student's unfinished backward pass
                analytic = {}
                status = error_html(self.label, exc)
        norms, rel_errors, states, noise, bad_shapes = {}, {}, {}, {}, {}
        for m in range(1, len(numeric) + 1):
            num = numeric[f"W{m}"]
            ana = analytic.get(f"W{m}")
            ok = ana is not None and ana.shape == num.shape
            if ana is not None and not ok:
                bad_shapes[m] = ana.shape
            norms[m] = (float(np.linalg.norm(ana)) if ok else None, float(np.linalg.norm(num)))
            noise[m] = fd_noise(loss0, self.h, num.size)
            rel_errors[m], states[m] = fd_verdict(ana, num, noise[m]) if ok else (None, None)
            if m in bad_shapes:
                states[m] = "fail"
        return numeric, analytic, status, norms, rel_errors, states, noise, bad_shapes

    def _render(self) -> None:
        layers = int(self.depth.value) + 1
        if self.layer.max != layers:
            self.layer.unobserve(self.update, names="value")
            self.layer.max = layers  # clamps value
            self.layer.observe(self.update, names="value")
        self._compute()
        self._draw(int(self.layer.value))
        self.table.value = self._table_html()

    def _setup_axes(self) -> None:
        """Create every artist once; :meth:`_draw` only changes their data (fast redraws)."""
        ax_norm, *ax_maps = self.axes
        (self.norm_lines["numeric"],) = ax_norm.semilogy(
            [1], [1], "x--", color="tab:orange", label="finite difference"
        )
        (self.norm_lines["analytic"],) = ax_norm.semilogy(
            [1], [1], "o-", color="tab:blue", label=self.label, alpha=0.7
        )
        self._marker = ax_norm.axvline(1, color="0.7", linewidth=6, alpha=0.4)
        ax_norm.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
        ax_norm.yaxis.set_minor_locator(NullLocator())  # minor log ticks cost most of a redraw
        ax_norm.grid(True, axis="y", alpha=0.3)
        ax_norm.set_xlabel("layer m")
        # the layer axis spans the deepest network offered: a change of depth only redraws data
        ax_norm.set_xlim(0.5, self.depth.max + 1.5)
        ax_norm.set_xticks(np.arange(1, self.depth.max + 2))
        ax_norm.set_title(r"$\|dW^{(m)}\|$ (fixed axis)", fontsize="medium")
        ax_norm.legend(fontsize="small", loc="upper left")
        self._maps, self._titles = [], []
        for ax in ax_maps:
            ax.set_xticks([])
            ax.set_yticks([])
            # aspect "auto": the boxes keep their size for every layer, so only data is redrawn
            im = ax.imshow(np.zeros((1, 1)), cmap="RdBu_r", interpolation="nearest", aspect="auto")
            self._maps.append(im)
            self._titles.append(ax.set_title(" \n ", fontsize="small"))
        # one colour bar for the two gradient maps (they share the scale), one for the
        # difference; each runs from -scale to +scale, the scale is written in the map titles
        unit = ScalarMappable(norm=Normalize(-1.0, 1.0), cmap="RdBu_r")
        self.colorbars = [
            self.fig.colorbar(unit, ax=list(ax_maps[:2]), location="bottom", fraction=0.06,
                              pad=0.04, shrink=0.8),
            self.fig.colorbar(unit, ax=ax_maps[2], location="bottom", fraction=0.06, pad=0.04,
                              shrink=0.9),
        ]  # fmt: skip
        for bar in self.colorbars:
            bar.set_ticks([-1.0, 0.0, 1.0], labels=["\u2212scale", "0", "+scale"])
            bar.ax.tick_params(labelsize="x-small")
        # everything else is static between changes of depth or norm range: blit these only
        self.blitter = Blitter(
            self.fig, [self._marker, *self.norm_lines.values(), *self._maps, *self._titles]
        )
        self._static_key: tuple | None = None

    def _draw(self, m: int) -> None:
        ax_norm = self.axes[0]
        ms = np.arange(1, len(self.norms) + 1)
        fd = np.array([self.norms[k][1] for k in ms])
        an = np.array([np.nan if self.norms[k][0] is None else self.norms[k][0] for k in ms])
        self.norm_lines["numeric"].set_data(ms, fd)
        self.norm_lines["analytic"].set_data(ms, an)
        self.norm_lines["analytic"].set_visible(bool(self.analytic))
        self._marker.set_xdata([m, m])
        both = np.concatenate([fd, an[np.isfinite(an)]])
        both = both[both > 0]
        lo, hi = NORM_RANGE
        if both.size:
            lo = min(lo, 10.0 ** np.floor(np.log10(both.min())))
            hi = max(hi, 10.0 ** np.ceil(np.log10(both.max())))
        if (lo, hi) != self._static_key:  # new ticks: render the static part again
            self._static_key = (lo, hi)
            ax_norm.set_ylim(lo, hi)
            self.blitter.refresh()
        num = self.numeric[f"W{m}"]
        ana = self.analytic.get(f"W{m}")
        have = ana is not None and ana.shape == num.shape
        diff = ana - num if have else None
        self.images = [ana if have else None, num, diff]
        vmax = max(float(np.abs(num).max()), float(np.abs(ana).max()) if have else 0.0) or 1.0
        # the difference is drawn against what the pass rule allows, so rounding noise far below
        # the tolerance stays pale instead of being stretched to full colour
        budget = PASS_TOL * (np.linalg.norm(num) + (np.linalg.norm(ana) if have else 0.0))
        largest = float(np.abs(diff).max()) if have else 0.0
        self.diff_scale = max(largest, float(budget), self.noise[m]) or 1.0
        titles = (f"dW{m}: {self.label}", f"dW{m}: finite difference", "difference")
        for ax, im, text, data, title in zip(
            self.axes[1:], self._maps, self._titles, self.images, titles, strict=True
        ):
            if data is None:
                im.set_visible(False)
                text.set_text(f"{title}\n(not available)")
                continue
            lim = vmax if title != "difference" else self.diff_scale
            rows, cols = data.shape
            im.set_visible(True)
            im.set_data(data)
            im.set_clim(-lim, lim)
            im.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
            ax.set_xlim(-0.5, cols - 0.5)
            ax.set_ylim(rows - 0.5, -0.5)
            text.set_text(
                f"{title}\nmax |.| = {fmt(float(np.abs(data).max()))}, scale \u00b1{fmt_err(lim)}"
            )
        self.image.value = self.blitter.png()

    def _table_html(self) -> str:
        rows = []
        for m, (na, nn) in self.norms.items():
            shape = "\u00d7".join(str(s) for s in self.numeric[f"W{m}"].shape)
            given = fmt(na)
            if m in self.bad_shapes:
                given = f"shape {self.bad_shapes[m]}, not {self.numeric[f'W{m}'].shape}"
            rows.append(
                f'<tr data-layer="{m}"><td>{m}</td><td>{shape}</td>'
                f'<td class="bp-norm-analytic">{escape(given)}</td>'
                f'<td class="bp-norm-numeric">{fmt(nn)}</td>'
                f'<td class="bp-relerr">{fmt_err(self.rel_errors[m])}</td>'
                f"<td>{state_html(self.states[m])}</td></tr>"
            )
        norms = [n[0] if n[0] is not None else n[1] for n in self.norms.values()]
        ratio = ""
        if len(norms) > 1 and norms[-1] > 0:
            ratio = (
                f'<div class="bp-layers-ratio">||dW1|| / ||dW{len(norms)}|| = '
                f"{fmt_err(norms[0] / norms[-1])}</div>"
            )
        noisy = ""
        if "unreliable" in self.states.values():
            noisy = note_html(
                "? FD too noisy: the gradient and the finite difference differ by more than the "
                "tolerance allows, but by less than the finite difference's own rounding noise "
                "(the loss changes by only a few ulps when a tiny gradient is probed): this check "
                "cannot tell whether the gradient is right."
            )
        return (
            f'<table class="bp-table" style="{TABLE_STYLE}"><tr><th>layer</th>'
            f"<th>W shape</th><th>||dW|| ({escape(self.label)})</th><th>||dW|| (FD)</th>"
            f"<th>rel. error</th><th>\u2264 {PASS_TOL:g}?</th></tr>{''.join(rows)}</table>"
            f"{ratio}{noisy}"
        )
