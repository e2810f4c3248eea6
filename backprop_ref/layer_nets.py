"""Networks composed from the batched layer API (``backprop_ref.batched``), as in ps5 Part B.

The twin network here has the shared first layer of the notes' twin (001) and a softmax head:

    M_a = X_a W1^T + 1_N b1^T,  H_a = ReLU(M_a),  M_b, H_b likewise with the SAME W1, b1,
    H = H_a * H_b (elementwise),  Z = H W2^T + 1_N b2^T,  L = mean cross-entropy of softmax(Z).

Shapes (docs/conventions.md): X_a, X_b (N, D); W1 (H, D), b1 (H, 1); W2 (C, H), b2 (C, 1);
T (N, C). The shared W1, b1 get the sum of the gradients of their two uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_ref import batched


def twin_loss(
    xa: np.ndarray, xb: np.ndarray, t: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, Any]]:
    """Forward pass and mean loss of the softmax twin; returns (loss, cache of layer caches)."""
    m_a, aff_a = batched.affine_forward(xa, params["W1"], params["b1"])
    h_a, act_a = batched.activation_forward(m_a, "relu")
    m_b, aff_b = batched.affine_forward(xb, params["W1"], params["b1"])
    h_b, act_b = batched.activation_forward(m_b, "relu")
    h = h_a * h_b
    z, aff_2 = batched.affine_forward(h, params["W2"], params["b2"])
    loss, loss_cache = batched.loss_forward(z, t, "softmax", "cross_entropy")
    cache = {"aff_a": aff_a, "act_a": act_a, "aff_b": aff_b, "act_b": act_b, "h_a": h_a,
             "h_b": h_b, "aff_2": aff_2, "loss": loss_cache}
    return loss, cache


def twin_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Gradients W1 (H, D), b1 (H, 1), W2 (C, H), b2 (C, 1) and z (N, C), h, h_a, h_b, m_a, m_b
    (N, H), xa, xb (N, D) of the mean loss; W1 and b1 sum the contributions of both branches."""
    dz = batched.loss_backward(cache["loss"])
    dh, dW2, db2 = batched.affine_backward(dz, cache["aff_2"])
    dh_a, dh_b = dh * cache["h_b"], dh * cache["h_a"]
    dm_a = batched.activation_backward(dh_a, cache["act_a"])
    dm_b = batched.activation_backward(dh_b, cache["act_b"])
    dxa, dW1_a, db1_a = batched.affine_backward(dm_a, cache["aff_a"])
    dxb, dW1_b, db1_b = batched.affine_backward(dm_b, cache["aff_b"])
    return {"W1": dW1_a + dW1_b, "b1": db1_a + db1_b, "W2": dW2, "b2": db2, "z": dz, "h": dh,
            "h_a": dh_a, "h_b": dh_b, "m_a": dm_a, "m_b": dm_b, "xa": dxa, "xb": dxb}


def twin_branch_grads(cache: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """The shared W1, b1's contribution of each branch alone: {"a": {...}, "b": {...}}."""
    dz = batched.loss_backward(cache["loss"])
    dh, _, _ = batched.affine_backward(dz, cache["aff_2"])
    out = {}
    for side, other in (("a", "b"), ("b", "a")):
        dm = batched.activation_backward(dh * cache[f"h_{other}"], cache[f"act_{side}"])
        _, dW1, db1 = batched.affine_backward(dm, cache[f"aff_{side}"])
        out[side] = {"W1": dW1, "b1": db1}
    return out
