"""Reference implementation of backpropagation at three levels (docs/conventions.md).

``scalar`` (explicit loops), ``vector`` (one example in columns) and ``batched`` (rows, batch
mean) share names and signatures; ``scalar_nets``/``vector_nets``/``batched_nets`` hold the
twin and skip networks of the notes, ``train`` gradient descent. Importing the package only
imports modules.
"""

from backprop_ref import (
    activations,
    batched,
    batched_nets,
    losses,
    scalar,
    scalar_nets,
    spec,
    train,
    vector,
    vector_nets,
)

__all__ = [
    "activations",
    "batched",
    "batched_nets",
    "losses",
    "scalar",
    "scalar_nets",
    "spec",
    "train",
    "vector",
    "vector_nets",
]
