"""Time the readable path of the attention core against PyTorch's fused kernel on CPU.

The readable path is ``attention(..., need_weights=True)`` (scale, matmul, masked softmax,
matmul: it materialises the ``(..., num_queries, num_keys)`` weights); the fused path is
``need_weights=False``, i.e. ``torch.nn.functional.scaled_dot_product_attention`` (Vaswani et al.,
NeurIPS 2017, arXiv:1706.03762, for the formula). Self-attention shapes: batch 1, 8 heads, head
size 64, forward only, no mask, float32. The inputs are 3-D, ``(num_heads, num_steps, head_size)``,
as ``DotProductAttention`` gets them: the core hands them to PyTorch as 4-D, which selects its
fused CPU kernel (3-D inputs go to the slow math kernel in PyTorch 2.13; the last column shows
the 3-D call for comparison).

Usage:
    python benchmarks/bench_scoring.py           # lengths 512, 2048, 4096
    python benchmarks/bench_scoring.py --quick   # lengths 128, 512: a smoke run

Times come from ``torch.utils.benchmark.Timer.blocked_autorange`` (medians). Writes nothing.
"""

from __future__ import annotations

import argparse

import torch
from torch.nn import functional as F
from torch.utils.benchmark import Timer

from attention_utils import attention

NUM_HEADS, HEAD_SIZE = 8, 64


def median_ms(statement: str, min_run_time: float, **names: object) -> float:
    timer = Timer(statement, globals=names, num_threads=torch.get_num_threads())
    with torch.inference_mode():
        return 1e3 * timer.blocked_autorange(min_run_time=min_run_time).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--min-run-time", type=float, default=None, help="seconds per measurement")
    args = parser.parse_args()
    lengths = (128, 512) if args.quick else (512, 2048, 4096)
    min_run_time = args.min_run_time or (0.3 if args.quick else 2.0)

    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, forward only, "
        f"batch 1 x {NUM_HEADS} heads, head size {HEAD_SIZE}"
    )
    print(
        f"{'seq_len':>8} {'readable (ms)':>14} {'fused (ms)':>11} {'readable/fused':>15} "
        f"{'sdpa 3-D (ms)':>14}"
    )
    for length in lengths:
        # (num_heads, num_steps, head_size)
        q, k, v = (torch.randn(NUM_HEADS, length, HEAD_SIZE) for _ in range(3))
        names = {"attention": attention, "F": F, "q": q, "k": k, "v": v}
        t_readable = median_ms("attention(q, k, v, need_weights=True)", min_run_time, **names)
        t_fused = median_ms("attention(q, k, v)", min_run_time, **names)
        t_3d = median_ms("F.scaled_dot_product_attention(q, k, v)", min_run_time, **names)
        print(
            f"{length:>8} {t_readable:>14.2f} {t_fused:>11.2f} {t_readable / t_fused:>15.2f} "
            f"{t_3d:>14.2f}"
        )


if __name__ == "__main__":
    main()
