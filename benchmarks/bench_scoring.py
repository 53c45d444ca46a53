"""Time readable scaled dot-product attention against PyTorch's fused kernel on CPU.

The readable path is ``DotProductAttention(need_weights=True)`` (bmm, masked softmax, bmm: it
materialises the ``(batch_size, num_queries, num_keys)`` weights); the fused path is
``DotProductAttention(need_weights=False)``, i.e. ``torch.nn.functional.scaled_dot_product_attention``
(Vaswani et al., NeurIPS 2017, arXiv:1706.03762, for the formula). Self-attention shapes: batch 1,
8 heads folded into the batch dimension, head size 64, forward only, no mask, float32, eval mode.

Usage:
    python benchmarks/bench_scoring.py           # lengths 512, 2048, 4096; 5 repeats each
    python benchmarks/bench_scoring.py --quick   # lengths 128, 512; 3 repeats: a smoke run

Prints the median time of each path and the ratio readable / fused. Writes nothing to disk.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from attention_utils import DotProductAttention

NUM_HEADS, HEAD_SIZE = 8, 64


def median_seconds(layer: DotProductAttention, inputs: tuple[torch.Tensor, ...], repeats: int) -> float:
    """Median wall time of ``layer(*inputs)`` over ``repeats`` runs, after one warm-up run."""
    times = []
    with torch.inference_mode():
        layer(*inputs)
        for _ in range(repeats):
            start = time.perf_counter()
            layer(*inputs)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement")
    args = parser.parse_args()
    lengths = (128, 512) if args.quick else (512, 2048, 4096)
    repeats = args.repeats or (3 if args.quick else 5)

    torch.manual_seed(0)
    readable = DotProductAttention(dropout=0.0, need_weights=True).eval()
    fused = DotProductAttention(dropout=0.0, need_weights=False).eval()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, forward only, "
          f"batch 1 x {NUM_HEADS} heads, head size {HEAD_SIZE}, median of {repeats}")
    print(f"{'seq_len':>8} {'readable (ms)':>14} {'fused (ms)':>11} {'readable/fused':>15}")
    for length in lengths:
        # (batch_size * num_heads, num_steps, head_size)
        queries, keys, values = (torch.randn(NUM_HEADS, length, HEAD_SIZE) for _ in range(3))
        t_readable = median_seconds(readable, (queries, keys, values), repeats)
        t_fused = median_seconds(fused, (queries, keys, values), repeats)
        print(f"{length:>8} {1e3 * t_readable:>14.2f} {1e3 * t_fused:>11.2f} {t_readable / t_fused:>15.2f}")


if __name__ == "__main__":
    main()
