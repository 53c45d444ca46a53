"""Time the book's MultiHeadAttention against torch.nn.MultiheadAttention on CPU.

Multi-head attention of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.2. Three
contestants with the same weights (copied with ``as_torch_multihead``), self-attention, float32:

- ``ours (weights)``: ``MultiHeadAttention(need_weights=True)``, the readable path that keeps the
  ``(batch_size, num_heads, num_queries, num_keys)`` weights for plotting;
- ``ours (fused)``: ``need_weights=False``, which calls ``scaled_dot_product_attention``;
- ``torch``: ``nn.MultiheadAttention`` with ``need_weights=False`` (its fast path).

Each is timed for the forward pass alone (``torch.no_grad``) and for forward plus backward of
``output.sum()`` in training mode with dropout 0.

Usage:
    python benchmarks/bench_multihead.py           # batch 8, length 512, 512 hidden, 8 heads; 5 repeats
    python benchmarks/bench_multihead.py --quick   # batch 2, length 128; 3 repeats: a smoke run

Prints median times in milliseconds and the ratio ours / torch side by side. Writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from attention_utils import MultiHeadAttention, as_torch_multihead


def median_ms(step: Callable[[], None], repeats: int) -> float:
    """Median wall time of ``step()`` in milliseconds over ``repeats`` runs, after one warm-up."""
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def forward_step(layer: nn.Module, X: torch.Tensor, is_torch: bool) -> Callable[[], None]:
    def step() -> None:
        with torch.no_grad():
            if is_torch:
                layer(X, X, X, need_weights=False)
            else:
                layer(X, X, X)

    return step


def backward_step(layer: nn.Module, X: torch.Tensor, is_torch: bool) -> Callable[[], None]:
    def step() -> None:
        layer.zero_grad(set_to_none=True)
        output = layer(X, X, X, need_weights=False)[0] if is_torch else layer(X, X, X)
        output.sum().backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement")
    args = parser.parse_args()
    batch_size, num_steps = (2, 128) if args.quick else (8, 512)
    num_hiddens, num_heads = 512, 8
    repeats = args.repeats or (3 if args.quick else 5)

    torch.manual_seed(0)
    ours = MultiHeadAttention(num_hiddens, num_hiddens, num_hiddens, num_hiddens, num_heads, 0.0)
    theirs = as_torch_multihead(ours)
    X = torch.randn(batch_size, num_steps, num_hiddens)  # (batch_size, num_steps, num_hiddens)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, batch {batch_size}, "
        f"length {num_steps}, {num_hiddens} hidden, {num_heads} heads, median of {repeats}"
    )
    print(f"{'pass':<18} {'ours weights':>13} {'ours fused':>11} {'torch':>8} {'weights/torch':>14} {'fused/torch':>12}")
    for name, make_step, training in (("forward", forward_step, False), ("forward+backward", backward_step, True)):
        ours.train(training)
        theirs.train(training)
        ours.need_weights = True
        t_weights = median_ms(make_step(ours, X, False), repeats)
        ours.need_weights = False
        t_fused = median_ms(make_step(ours, X, False), repeats)
        t_torch = median_ms(make_step(theirs, X, True), repeats)
        print(
            f"{name:<18} {t_weights:>10.1f} ms {t_fused:>8.1f} ms {t_torch:>5.1f} ms "
            f"{t_weights / t_torch:>14.2f} {t_fused / t_torch:>12.2f}"
        )


if __name__ == "__main__":
    main()
