"""Benchmark: reference backprop vs PyTorch eager autograd, and the cost of gradient checks.

Measures, alternating the contenders within each repeat in one process and reporting medians:

1. one batched forward + backward of a 784-1024-1024-10 ReLU MLP (softmax + mean cross-entropy),
   N = 512, with float64 and float32 inputs: ``backprop_ref.batched`` against PyTorch CPU eager
   autograd on the same weights (only when ``torch`` is importable: the optional extra
   ``backprop-course[torch]``). The reference always computes in float64 (docs/conventions.md),
   so its float32 row converts the inputs and computes in float64. The reference also returns
   dL/dX (the "a0" key of the conventions), so torch is timed with and without dL/dX;
2. the full gradient check of all parameters of 784-256-10 (N = 64) by the fast stacked method
   (``backprop_ref.gradcheck_fast.fast_full_check``) and by the directional method (K = 8
   directions per tensor, ``backprop_ref.gradcheck.directional_check``).

Usage: ``.venv/bin/python bench/bench_backprop.py [--repeats 7] [--threads 1]``. BLAS and torch
thread counts are set to ``--threads`` before numpy is imported, so both sides use the same
cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per contender")
    parser.add_argument("--check-repeats", type=int, default=3,
                        help="timed runs of each gradient check")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--batch", type=int, default=512, help="N for the forward+backward")
    return parser.parse_args()


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _alternate(contenders: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per contender; one warm-up each, then the contenders take turns."""
    for fn in contenders.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(_timed(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


def _reference_step(np, X, T, params, spec, input_grad=True):
    from backprop_ref import batched

    def step():
        _, cache = batched.mlp_loss(X, T, params, spec)
        return batched.mlp_backward(cache, input_grad=input_grad)

    return step


def _torch_step(torch, X, T, params, depth, dtype, input_grad):
    weights = []
    for m in range(1, depth + 1):
        W = torch.tensor(params[f"W{m}"], dtype=dtype, requires_grad=True)
        b = torch.tensor(params[f"b{m}"], dtype=dtype, requires_grad=True)
        weights.append((W, b))
    x = torch.tensor(X, dtype=dtype, requires_grad=input_grad)
    t = torch.tensor(T, dtype=dtype)

    def step():
        x.grad = None
        a = x
        for m, (W, b) in enumerate(weights, start=1):
            W.grad, b.grad = None, None
            z = a @ W.T + b.T
            a = torch.relu(z) if m < depth else z
        loss = torch.nn.functional.cross_entropy(a, t)
        loss.backward()
        return [(W.grad, b.grad) for W, b in weights]

    return step


def _forward_backward(args: argparse.Namespace, np) -> list[tuple[str, float]]:
    from backprop_ref.spec import MLPSpec, init_params

    try:
        import torch
    except ImportError:
        torch = None
    spec = MLPSpec((784, 1024, 1024, 10), "relu", "softmax", "cross_entropy")
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    X = rng.normal(size=(args.batch, 784))
    T = np.eye(10)[rng.integers(0, 10, size=args.batch)]
    contenders: dict[str, Callable[[], object]] = {}
    for dtype_name in ("float64", "float32"):
        dt = np.dtype(dtype_name)
        p = {k: v.astype(dt) for k, v in params.items()}
        contenders[f"reference {dtype_name}"] = _reference_step(np, X.astype(dt), T.astype(dt),
                                                                p, spec)
        contenders[f"reference {dtype_name} (no dX)"] = _reference_step(
            np, X.astype(dt), T.astype(dt), p, spec, input_grad=False)
        if torch is not None:
            torch.set_num_threads(args.threads)
            tdt = getattr(torch, dtype_name)
            contenders[f"torch {dtype_name} (+dX)"] = _torch_step(
                torch, X, T, params, spec.depth, tdt, True)
            contenders[f"torch {dtype_name} (no dX)"] = _torch_step(
                torch, X, T, params, spec.depth, tdt, False)
    if torch is not None:
        _agreement(np, contenders, spec)
    medians = _alternate(contenders, args.repeats)
    return list(medians.items())


def _agreement(np, contenders, spec) -> None:
    """Print the relative error between the reference and torch gradients (float64)."""
    from coursekit.gradcheck import rel_error

    ref = contenders["reference float64"]()
    tor = contenders["torch float64 (+dX)"]()
    errs = [rel_error(ref[f"W{m}"], tor[m - 1][0].numpy()) for m in range(1, spec.depth + 1)]
    print(f"reference vs torch float64 gradients: max relative error {max(errs):.1e}")


def _checks(args: argparse.Namespace, np) -> list[tuple[str, float]]:
    from backprop_ref import batched
    from backprop_ref.gradcheck import directional_check, kink_free_instance, mlp_loss_fn
    from backprop_ref.gradcheck_fast import fast_full_check
    from backprop_ref.spec import MLPSpec

    spec = MLPSpec((784, 256, 10), "relu", "softmax", "cross_entropy")
    X, T, params = kink_free_instance(spec, 64, seed=0)
    _, cache = batched.mlp_loss(X, T, params, spec)
    grads = {k: v for k, v in batched.mlp_backward(cache).items() if k in params}
    f = mlp_loss_fn(X, T, params, spec)
    reports = {}

    def fast():
        reports["fast"] = fast_full_check(X, T, params, spec, grads)

    def directional():
        reports["directional"] = directional_check(f, params, grads, k=8, seed=0)

    medians = _alternate({"fast full check": fast, "directional check K=8": directional},
                         args.check_repeats)
    n_params = sum(v.size for v in params.values())
    for name, report in reports.items():
        worst = max(t.error for t in report.tensors.values())
        print(f"{name}: ok={report.ok}, max relative error {worst:.1e} over {n_params} parameters")
    return list(medians.items())


def main() -> None:
    """Parse arguments, pin thread counts, run both benchmarks and print a table."""
    args = _parse()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np  # after the thread variables, which BLAS reads at load time

    print(f"numpy {np.__version__}, threads {args.threads}, repeats {args.repeats}")
    rows = [(f"784-1024-1024-10 N={args.batch} fwd+bwd: {name}", t)
            for name, t in _forward_backward(args, np)]
    rows += [("784-256-10 N=64 (203,530 params): " + name, t) for name, t in _checks(args, np)]
    width = max(len(name) for name, _ in rows)
    print(f"\n{'benchmark'.ljust(width)}  median")
    for name, seconds in rows:
        print(f"{name.ljust(width)}  {seconds * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
