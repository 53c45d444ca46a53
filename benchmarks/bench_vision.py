"""Forward time of ResNet-50 with SE, CBAM, ECA and SimAM, relative to plain ResNet-50, on CPU.

Usage: ``python benchmarks/bench_vision.py`` (batch 8 at 224x224) or ``--quick`` (batch 2 at
112x112). Eval mode, ``torch.no_grad()``, one warm-up pass each, then ``--repeats`` rounds
that time every variant once (round-robin, so that load from other processes hits all alike);
medians. Prints seconds per forward and the ratio to no attention, side by side. Writes
nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from attention_utils import resnet50

ATTENTIONS = [None, "se", "cbam", "eca", "simam"]


def time_forwards(batch: int, size: int, repeats: int) -> dict[str | None, float]:
    """Median seconds per forward of each variant, timed round-robin so drift hits all alike."""
    torch.manual_seed(0)
    nets = {attention: resnet50(attention).eval() for attention in ATTENTIONS}
    x = torch.randn(batch, 3, size, size)
    times: dict[str | None, list[float]] = {attention: [] for attention in ATTENTIONS}
    with torch.no_grad():
        for net in nets.values():
            net(x)  # warm-up
        for _ in range(repeats):
            for attention, net in nets.items():
                start = time.perf_counter()
                net(x)
                times[attention].append(time.perf_counter() - start)
    return {attention: statistics.median(values) for attention, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 2 at 112x112, 3 repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    batch, size = (2, 112) if args.quick else (8, 224)
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"ResNet-50 forward, batch {batch}, {size}x{size}, CPU threads "
          f"{torch.get_num_threads()}, median of {repeats}")
    medians = time_forwards(batch, size, repeats)
    base = medians[None]
    print(f"{'attention':<10} {'seconds':>8} {'ratio':>6}")
    for attention, seconds in medians.items():
        print(f"{str(attention):<10} {seconds:8.4f} {seconds / base:6.2f}")

if __name__ == "__main__":
    main()
