"""Forward time of ResNet-50 with SE, CBAM, ECA and SimAM, relative to plain ResNet-50, on CPU.

Usage: ``python benchmarks/bench_vision.py`` (batch 8 at 224x224) or ``--quick`` (batch 2 at
112x112). Eval mode, ``torch.no_grad()``; each variant is timed with
``torch.utils.benchmark.Timer.blocked_autorange`` (warm-up, then blocks of runs for at least
``--min-run-time`` seconds; medians). Prints milliseconds per forward and the ratio to no
attention, side by side. Writes nothing.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.benchmark import Timer

from attention_utils import resnet50

ATTENTIONS = [None, "se", "cbam", "eca", "simam"]


def time_forwards(batch: int, size: int, min_run_time: float) -> dict[str | None, float]:
    """Median milliseconds per forward of each variant."""
    torch.manual_seed(0)
    x = torch.randn(batch, 3, size, size)
    medians = {}
    for attention in ATTENTIONS:
        net = resnet50(attention).eval()
        timer = Timer("net(x)", globals={"net": net, "x": x}, num_threads=torch.get_num_threads())
        with torch.no_grad():
            medians[attention] = 1e3 * timer.blocked_autorange(min_run_time=min_run_time).median
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 2 at 112x112")
    parser.add_argument("--min-run-time", type=float, default=None, help="seconds per variant")
    args = parser.parse_args()
    batch, size = (2, 112) if args.quick else (8, 224)
    min_run_time = args.min_run_time or (0.5 if args.quick else 5.0)
    print(f"ResNet-50 forward, batch {batch}, {size}x{size}, {torch.get_num_threads()} threads")
    medians = time_forwards(batch, size, min_run_time)
    base = medians[None]
    print(f"{'attention':<10} {'ms':>8} {'ratio':>6}")
    for attention, ms in medians.items():
        print(f"{str(attention):<10} {ms:8.1f} {ms / base:6.2f}")


if __name__ == "__main__":
    main()
