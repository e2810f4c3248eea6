"""The fast full check (backprop_ref.gradcheck_fast: stacked perturbations, cached layers)
equals the slow per-entry loop and locates a wrong entry.

``fast_numerical_gradients`` takes shortcuts that must not change the numbers: it evaluates
the perturbed softmax + cross-entropy losses of the last hidden layer through expm1 and
exp(-x) = 1 / exp(x), skips examples whose ReLU provably stays off, and groups the entries of a
unit. These tests compare it entry by entry with ``numerical_gradient`` (two full forward passes
per entry) on instances that reach every branch: ReLU rows that are off, steps h * |theta| with
|theta| > 1 (so that the up and down steps differ in their last bit), non-ReLU hidden layers,
targets whose rows do not sum to 1, deeper networks and odd batch sizes.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_ref import batched
from backprop_ref.gradcheck import kink_free_instance, mlp_loss_fn
from backprop_ref.gradcheck_fast import (
    _MLPPerturbations,
    batched_numerical_gradient,
    fast_full_check,
    fast_numerical_gradients,
    perturbed_stack,
)
from backprop_ref.spec import MLPSpec
from coursekit.gradcheck import numerical_gradient, rel_error

CASES = {
    "relu_ce": (MLPSpec((12, 9, 5), "relu", "softmax", "cross_entropy"), "onehot"),
    "relu_ce_soft_targets": (MLPSpec((12, 9, 5), "relu", "softmax", "cross_entropy"), "soft"),
    "tanh_ce": (MLPSpec((12, 9, 5), "tanh", "softmax", "cross_entropy"), "onehot"),
    "sigmoid_ce": (MLPSpec((6, 4, 3), "sigmoid", "softmax", "cross_entropy"), "onehot"),
    "deep_relu_ce": (MLPSpec((10, 7, 8, 4), "relu", "softmax", "cross_entropy"), "onehot"),
    "logistic_ce": (MLPSpec((8, 3), "relu", "softmax", "cross_entropy"), "onehot"),
}


def _instance(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, dict, MLPSpec]:
    spec, targets = CASES[name]
    X, T, params = kink_free_instance(spec, 11, seed=seed, margin=5e-2)
    rng = np.random.default_rng(seed + 100)
    # Units with weights above 1 in magnitude (step h |theta|): scaling a row of W^(m) and b^(m)
    # by a positive factor keeps every ReLU sign and margin.
    first = params["W1"].shape[0] // 2
    params["W1"][:first] *= 6.0
    params["b1"][:first] *= 6.0
    # Powers of two: the down step lands in the binade below, so (theta + s) - theta and
    # theta - (theta - s) differ in the last bit and d_down != -d_up.
    params["W1"][1, :4] = [1.0, -2.0, 4.0, -0.5]
    if spec.depth > 1:
        params[f"W{spec.depth}"] *= 2.5
    if targets == "soft":
        T = rng.dirichlet(np.ones(spec.sizes[-1]), size=X.shape[0]) * rng.uniform(0.5, 2.0, (11, 1))
    return X, T, params, spec


@pytest.mark.parametrize("batch", [1, 5, 4096])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_numerical_gradients_equal_the_slow_loop(name, batch):
    X, T, params, spec = _instance(name, seed=7)
    f = mlp_loss_fn(X, T, params, spec)
    fast = fast_numerical_gradients(X, T, params, spec, batch=batch)
    _, cache = batched.mlp_loss(X, T, params, spec)
    ref = batched.mlp_backward(cache)
    for k in spec.param_names():
        slow = numerical_gradient(f, params[k])
        scale = np.max(np.abs(slow))
        assert np.max(np.abs(fast[k] - slow)) <= 1e-8 * scale, k
        assert rel_error(fast[k], slow) < 1e-9, k
        if CASES[name][1] == "onehot":  # the reference's softmax - t assumes sum_k t_k = 1
            assert rel_error(fast[k], ref[k]) < 1e-8, k


def test_instances_reach_the_special_branches():
    """The instances above contain ReLU units that are off, steps whose up and down parts
    differ, and units whose moving examples are a strict subset of the batch."""
    X, T, params, spec = _instance("relu_ce", seed=7)
    _, cache = batched.mlp_forward(X, params, spec)
    assert np.min(np.abs(cache["z1"])) > 1e-2
    W = params["W1"].reshape(-1)
    step = 1e-5 * np.maximum(1.0, np.abs(W))
    assert np.any((W + step) - W != W - (W - step))
    runner = _MLPPerturbations(X, T, params, spec)
    sizes = [runner._moving_rows(1, u, 1e-4).size for u in range(spec.sizes[1])]
    assert 0 < min(sizes) and max(sizes) <= X.shape[0] and min(sizes) < X.shape[0]


def test_weight_groups_need_not_be_contiguous():
    X, T, params, spec = _instance("relu_ce", seed=3)
    runner = _MLPPerturbations(X, T, params, spec)
    diff = runner.loss_diff("W1")
    W = params["W1"].reshape(-1)
    idx = np.array([5, 2, 9, 14, 13, 40, 41, 12 * 3 + 7])
    step = 1e-5 * np.maximum(1.0, np.abs(W[idx]))
    got = diff(idx, W[idx] + step, W[idx] - step)
    f = mlp_loss_fn(X, T, params, spec)
    for b, i in enumerate(idx):
        old = W[i]
        W[i] = old + step[b]
        up = f()
        W[i] = old - step[b]
        down = f()
        W[i] = old
        assert abs(got[b] - (up - down)) <= 1e-13 + 1e-8 * abs(up - down)


@pytest.mark.slow
def test_fast_check_of_784_256_10_equals_the_slow_loop_on_sampled_entries():
    spec = MLPSpec((784, 256, 10), "relu", "softmax", "cross_entropy")
    X, T, params = kink_free_instance(spec, 64, seed=0)
    fast = fast_numerical_gradients(X, T, params, spec)
    f = mlp_loss_fn(X, T, params, spec)
    rng = np.random.default_rng(5)
    for k, n in (("W1", 120), ("b1", 20), ("W2", 30), ("b2", 10)):
        flat = params[k].reshape(-1)
        idx = rng.choice(flat.size, size=n, replace=False)
        slow = np.empty(n)
        for b, i in enumerate(idx):
            old = flat[i]
            step = 1e-5 * max(1.0, abs(old))
            flat[i] = old + step
            hi, up = flat[i], f()
            flat[i] = old - step
            lo, down = flat[i], f()
            flat[i] = old
            slow[b] = (up - down) / (hi - lo)
        assert rel_error(fast[k].reshape(-1)[idx], slow) < 1e-8, k


def test_fast_full_check_of_784_256_10_locates_one_wrong_weight():
    spec = MLPSpec((784, 256, 10), "relu", "softmax", "cross_entropy")
    X, T, params = kink_free_instance(spec, 64, seed=1)
    _, cache = batched.mlp_loss(X, T, params, spec)
    ref = batched.mlp_backward(cache)
    grads = {k: ref[k].copy() for k in spec.param_names()}
    grads["W1"][17, 400] += 1e-3
    report = fast_full_check(X, T, params, spec, grads)
    assert report.failed == ["W1"]
    assert report.tensors["W1"].worst[0][0] == (17, 400)
    assert max(report.tensors[k].error for k in ("b1", "W2", "b2")) < 1e-8


def test_batched_numerical_gradient_with_stacked_copies():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    theta = rng.normal(size=(4, 2))

    def loss_of_stack(stack):
        return np.sum(np.tanh(A @ stack) ** 2, axis=(1, 2))

    def loss_diff(idx, plus, minus):
        return loss_of_stack(perturbed_stack(theta, idx, plus)) - loss_of_stack(
            perturbed_stack(theta, idx, minus))

    fast = batched_numerical_gradient(loss_diff, theta, batch=3)
    slow = numerical_gradient(lambda: float(np.sum(np.tanh(A @ theta) ** 2)), theta)
    assert np.allclose(fast, slow, rtol=0, atol=1e-12)
    assert perturbed_stack(theta, np.array([1]), np.array([9.0]))[0, 0, 1] == 9.0
