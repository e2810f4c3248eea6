"""Explorer 4: gradient descent on 2-D toy data (moons or spirals).

Controls: data set, learning rate, hidden width and the number k of steps to train per click.
"Train k steps" runs k full-batch steps ``theta <- step_fn(theta, grad, lr)`` with a progress bar;
the plot shows the loss curve so far and the decision boundary of the current network.

The loss, its gradient and the prediction are arguments: the lab passes the reference's, the
problem sets the student's own (or ``grad_fn=None``: central finite differences of the loss).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from coursekit.data import make_moons, make_spirals, one_hot
from coursekit.explorers._common import (
    LABELS,
    Blitter,
    Explorer,
    error_html,
    fmt,
    image_widget,
    new_figure,
    note_html,
    with_class,
)
from coursekit.explorers.layers import scaled_init
from coursekit.gradcheck import DEFAULT_H, numerical_gradient

Params = dict[str, np.ndarray]
LossFn = Callable[[np.ndarray, np.ndarray, Params], float]
"""``loss_fn(X, T, params) -> float``: mean loss of inputs X (N, D) against targets T (N, C)."""
GradFn = Callable[[np.ndarray, np.ndarray, Params], Mapping[str, np.ndarray]]
"""``grad_fn(X, T, params) -> grads`` with (at least) the keys of ``params``."""
PredictFn = Callable[[np.ndarray, Params], np.ndarray]
"""``predict_fn(X, params)``: scores (N, C) (argmax is taken) or labels (N,)."""

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def load_data(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X (N, 2) and integer labels y (N,) of the named toy set: "moons" or "spirals"."""
    if name == "moons":
        return make_moons(200, noise=0.15, seed=seed)
    if name == "spirals":
        return make_spirals(70, n_classes=3, noise=0.15, seed=seed)  # as ps3's spirals_problem
    raise ValueError(f"unknown data set {name!r}; use 'moons' or 'spirals'")


def gd_step(params: Params, grads: Mapping[str, np.ndarray], lr: float) -> Params:
    """Plain gradient descent: a new dict with ``p - lr * grads[k]`` for every parameter."""
    return {k: v - lr * np.asarray(grads[k], dtype=np.float64) for k, v in params.items()}


def fd_grad_fn(loss_fn: LossFn, h: float = DEFAULT_H) -> GradFn:
    """A ``grad_fn`` that takes central finite differences of ``loss_fn`` for every parameter."""

    def grad(X: np.ndarray, T: np.ndarray, params: Params) -> dict[str, np.ndarray]:
        p = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
        return {k: numerical_gradient(lambda: loss_fn(X, T, p), p[k], h) for k in p}

    return grad


def labels_of(out: np.ndarray) -> np.ndarray:
    """Class labels (N,) from scores (N, C), a single probability column (N, 1) or labels (N,)."""
    out = np.asarray(out)
    if out.ndim == 1:
        return out.astype(np.int64)
    if out.shape[1] == 1:
        return (out[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(out, axis=1).astype(np.int64)


class DescentExplorer(Explorer):
    """Train an MLP D -> H -> C on toy data and watch the loss and the decision boundary.

    State after each action: ``params``, ``losses`` (one float per step taken, before its update),
    ``accuracy`` on the training set, ``grid_labels`` (G, G) the predicted classes drawn as the
    boundary, ``loss_line`` the plotted loss curve.
    """

    def __init__(
        self,
        loss_fn: LossFn,
        predict_fn: PredictFn,
        grad_fn: GradFn | None = None,
        *,
        init_fn: Callable[[tuple[int, ...], int], Params] | None = None,
        step_fn: Callable[[Params, Mapping[str, np.ndarray], float], Params] = gd_step,
        dataset: str = "moons",
        lr: float = 1.0,
        hidden: int = 16,
        steps: int = 200,
        seed: int = 0,
        grid: int = 100,
    ) -> None:
        self.loss_fn, self.predict_fn = loss_fn, predict_fn
        self.grad_fn = grad_fn if grad_fn is not None else fd_grad_fn(loss_fn)
        self.numeric_only = grad_fn is None
        self.init_fn = init_fn or (lambda sizes, s: scaled_init(sizes, 1.0, s))
        self.step_fn, self.seed, self.grid = step_fn, seed, grid
        self.dataset = with_class(
            widgets.Dropdown(
                options=["moons", "spirals"], value=dataset, description="data", style=LABELS
            ),
            "bp-gd-data",
        )
        self.lr = with_class(
            widgets.FloatLogSlider(
                value=lr,
                base=10,
                min=-3,
                max=1,
                step=0.25,
                description="learning rate",
                style=LABELS,
                readout_format=".3g",
            ),
            "bp-gd-lr",
        )
        self.hidden = with_class(
            widgets.IntSlider(
                value=hidden,
                min=2,
                max=64,
                description="hidden H",
                style=LABELS,
                continuous_update=False,
            ),
            "bp-gd-hidden",
        )
        self.steps = with_class(
            widgets.IntSlider(
                value=steps,
                min=10,
                max=2000,
                step=10,
                description="k steps",
                style=LABELS,
                continuous_update=False,
            ),
            "bp-gd-steps",
        )
        self.train_button = with_class(
            widgets.Button(description="Train k steps", button_style="primary"), "bp-gd-train"
        )
        self.reset_button = with_class(widgets.Button(description="Reset"), "bp-gd-reset")
        self.progress = with_class(
            widgets.IntProgress(value=0, min=0, max=steps, description="progress", style=LABELS),
            "bp-gd-progress",
        )
        self.status = with_class(widgets.HTML(), "bp-gd-status")
        self.fig = new_figure(10.0, 4.0, left=0.09, right=0.98, bottom=0.12, top=0.9, wspace=0.2)
        self.image = image_widget("bp-gd-plot", self.fig)
        self.ax_loss, self.ax_map = self.fig.subplots(1, 2)
        self.losses: list[float] = []
        self.accuracy = float("nan")
        self.grid_labels = np.zeros((grid, grid), dtype=np.int64)
        self.widget = with_class(
            widgets.VBox(
                [
                    widgets.HBox([self.dataset, self.lr]),
                    widgets.HBox([self.hidden, self.steps]),
                    widgets.HBox([self.train_button, self.reset_button, self.progress]),
                    self.status,
                    self.image,
                ]
            ),
            "bp-explorer",
            "bp-gd",
        )
        self.train_button.on_click(lambda _: self.train())
        self.reset_button.on_click(lambda _: self.reset())
        self._observe(self.dataset, self.hidden, handler=lambda *_: self.reset())
        self._observe(self.lr, self.steps, handler=lambda *_: self._show_status())
        self.reset()

    def reset(self) -> None:
        """New data (for the chosen set), fresh parameters, empty loss history; redraw."""
        self.X, self.y = load_data(self.dataset.value, self.seed)
        self.C = int(self.y.max()) + 1
        self.T = one_hot(self.y, self.C)
        sizes = (self.X.shape[1], int(self.hidden.value), self.C)
        self.params = self.init_fn(sizes, self.seed)
        self.losses = []
        self.progress.value = 0
        self._message = ""
        self.update()

    def train(self, k: int | None = None) -> None:
        """Take ``k`` (default: the slider's) gradient-descent steps, updating the progress bar."""
        k = int(self.steps.value) if k is None else int(k)
        lr = float(self.lr.value)
        self.progress.max, self.progress.value = k, 0
        every = max(1, k // 50)
        self.train_button.disabled = True
        self._message = ""
        try:
            with np.errstate(all="ignore"):
                for i in range(k):
                    loss = float(self.loss_fn(self.X, self.T, self.params))
                    if not np.isfinite(loss):
                        self._message = note_html(
                            f"The loss became {loss} after "
                            f"{len(self.losses)} steps: lr is too large."
                        )
                        break
                    grads = self.grad_fn(self.X, self.T, self.params)
                    self.losses.append(loss)
                    self.params = self.step_fn(self.params, grads, lr)
                    if (i + 1) % every == 0 or i + 1 == k:
                        self.progress.value = i + 1
        except Exception as exc:  # a student's unfinished function
            self._message = error_html("training", exc)
        finally:
            self.train_button.disabled = False
        self.update()

    def _show_status(self) -> None:
        source = "finite differences of the loss" if self.numeric_only else "the gradient function"
        last = fmt(self.losses[-1]) if self.losses else fmt(None)
        self.status.value = (
            f'<div class="bp-note">{self._message}Steps taken: <span class="bp-gd-nsteps">'
            f'{len(self.losses)}</span>; last loss: <span class="bp-gd-loss">{last}</span>; '
            f'training accuracy: <span class="bp-gd-acc">{fmt(self.accuracy)}</span>; '
            f"gradients from {source}; next: {int(self.steps.value)} steps at "
            f"lr = {fmt(float(self.lr.value))}.</div>"
        )

    def _predict_labels(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return labels_of(self.predict_fn(X, self.params))

    def _render(self) -> None:
        lo, hi = self.X.min(axis=0) - 0.4, self.X.max(axis=0) + 0.4
        self.extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        try:
            self.accuracy = float(np.mean(self._predict_labels(self.X) == self.y))
            gx, gy = np.meshgrid(
                np.linspace(lo[0], hi[0], self.grid), np.linspace(lo[1], hi[1], self.grid)
            )
            self.grid_labels = self._predict_labels(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
        except Exception as exc:
            self.accuracy = float("nan")
            self._message = error_html("predict_fn", exc)
            self.grid_labels = np.full((self.grid, self.grid), -1, dtype=np.int64)
        self._show_status()
        self._draw()

    def _new_artists(self) -> None:
        """Create the plot's artists once; every redraw only changes their data."""
        ax = self.ax_loss
        (self.loss_line,) = ax.plot([], [], color="k")
        ax.set_yscale("log")
        # ticks at 1, 2 and 5 per decade, labelled as plain numbers, so that losses below 1
        # (most of training) can be read; no minor ticks (they cost most of a redraw)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xlabel("step")
        ax.set_ylabel("mean loss")
        ax.set_title("training loss", fontsize="medium")
        self.loss_hint = ax.text(
            0.5, 0.5, "no steps yet:\npress \u201cTrain k steps\u201d", transform=ax.transAxes,
            ha="center", va="center", color="0.4",
        )  # fmt: skip
        ax = self.ax_map
        self.boundary = ax.imshow(
            self.grid_labels, origin="lower", extent=self.extent, alpha=0.25,
            interpolation="nearest", aspect="auto",
        )  # fmt: skip
        self.points = ax.scatter(
            self.X[:, 0], self.X[:, 1], s=12, edgecolors="k", linewidths=0.3
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_autoscale_on(False)
        ax.set_title(" ", fontsize="medium")
        # what changes is drawn over a static background (axes, ticks, labels), in this order:
        # the boundary under the points; the background is rendered again only for new limits
        self.blitter = Blitter(
            self.fig, [self.loss_line, self.loss_hint, self.boundary, self.points, ax.title]
        )
        self._static_limits: tuple | None = None
        self._colors_for: int | None = None

    def _draw(self) -> None:
        if getattr(self, "blitter", None) is None:
            self._new_artists()
        if self._colors_for != self.C:  # moons have two classes, spirals three
            self._colors_for = self.C
            cmap = ListedColormap(_COLORS[: self.C]).with_extremes(under="white")
            for artist in (self.boundary, self.points):
                artist.set_cmap(cmap)
                artist.set_clim(-0.5, self.C - 0.5)
        self.points.set_offsets(self.X)
        self.points.set_array(self.y)
        losses = np.asarray(self.losses, dtype=np.float64)
        self.loss_line.set_data(np.arange(1, losses.size + 1), losses)
        self.loss_hint.set_visible(not losses.size)
        positive = losses[losses > 0]
        lo, hi = (positive.min(), positive.max()) if positive.size else (0.1, 2.0)
        # before training: the axis of the steps about to be taken, not matplotlib's -0.04..0.04
        limits = ((0, max(losses.size or int(self.steps.value), 2) + 1), (lo / 1.5, hi * 1.5))
        if limits != self._static_limits:  # new ticks: render the static part again
            self._static_limits = limits
            self.ax_loss.set_xlim(*limits[0])
            self.ax_loss.set_ylim(*limits[1])
            self.blitter.refresh()
        self.boundary.set_data(self.grid_labels)
        self.boundary.set_extent(self.extent)
        self.ax_map.set_xlim(*self.extent[:2])  # the map's axes have no ticks: no new background
        self.ax_map.set_ylim(*self.extent[2:])
        self.ax_map.set_title(
            f"decision boundary (accuracy {fmt(self.accuracy)})", fontsize="medium"
        )
        self.image.value = self.blitter.png()
