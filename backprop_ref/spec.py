"""Description of an L-layer MLP: layer sizes, activations and the output/loss pair.

Shapes follow docs/conventions.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HIDDEN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = (*HIDDEN_ACTIVATIONS, "softmax")
LOSSES = ("half_squared_error", "squared_error", "cross_entropy", "binary_cross_entropy")
_REQUIRED_OUTPUT = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}


@dataclass(frozen=True)
class MLPSpec:
    """An MLP with layer widths ``sizes = (D_0, ..., D_L)``.

    ``hidden`` is one activation name for every hidden layer or a tuple with one name per hidden
    layer; ``output`` is the output activation and ``loss`` the loss name.
    """

    sizes: tuple[int, ...]
    hidden: str | tuple[str, ...] = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"

    def __post_init__(self) -> None:
        sizes = tuple(int(s) for s in self.sizes)
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"sizes must hold at least two positive widths, got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        hidden = (self.hidden,) * (len(sizes) - 2) if isinstance(self.hidden, str) else tuple(
            self.hidden
        )
        if len(hidden) != len(sizes) - 2:
            raise ValueError(
                f"{len(sizes) - 2} hidden layers need {len(sizes) - 2} activations, "
                f"got {len(hidden)}: {self.hidden!r}"
            )
        for name in hidden:
            if name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"unknown hidden activation {name!r}; use one of {HIDDEN_ACTIVATIONS}"
                )
        object.__setattr__(self, "hidden", hidden)
        if self.output not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"unknown output {self.output!r}; use one of {OUTPUT_ACTIVATIONS}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; use one of {LOSSES}")
        needed = _REQUIRED_OUTPUT.get(self.loss)
        if needed is not None and self.output != needed:
            raise ValueError(f"loss {self.loss!r} needs output {needed!r}, got {self.output!r}")
        if self.output == "softmax" and self.loss == "binary_cross_entropy":
            raise ValueError("binary_cross_entropy needs a sigmoid output")

    @property
    def depth(self) -> int:
        """Number of weight layers L."""
        return len(self.sizes) - 1

    def activation(self, m: int) -> str:
        """Activation of layer m (1-based): a hidden activation, or the output for m = L."""
        if not 1 <= m <= self.depth:
            raise IndexError(f"layer {m} is outside 1..{self.depth}")
        return self.output if m == self.depth else self.hidden[m - 1]

    def param_names(self) -> list[str]:
        """``["W1", "b1", ..., "WL", "bL"]``."""
        return [f"{k}{m}" for m in range(1, self.depth + 1) for k in ("W", "b")]


def init_params(
    spec: MLPSpec, rng: np.random.Generator | int = 0, scale: float | None = None
) -> dict[str, np.ndarray]:
    """Random float64 parameters: ``W{m}`` (D_m, D_{m-1}), ``b{m}`` (D_m, 1).

    With ``scale=None`` weights are drawn with standard deviation ``sqrt(2 / D_{m-1})`` (He);
    otherwise with standard deviation ``scale``. Biases are small random numbers, not zeros, so
    that bias gradients are exercised by tests.
    """
    rng = np.random.default_rng(rng)
    params: dict[str, np.ndarray] = {}
    for m in range(1, spec.depth + 1):
        d_in, d_out = spec.sizes[m - 1], spec.sizes[m]
        std = np.sqrt(2.0 / d_in) if scale is None else float(scale)
        params[f"W{m}"] = rng.normal(0.0, std, size=(d_out, d_in))
        params[f"b{m}"] = rng.normal(0.0, 0.1, size=(d_out, 1))
    return params
