"""CPU latency of every attention module of the book in ResNet-50, relative to plain ResNet-50.

Usage: ``python benchmarks/bench_zoo.py`` (224x224, batch 1 and 8) or ``--quick`` (112x112, batch 1
and 2, for a smoke test). Every module registered in ``attention_utils.ATTENTION_MODULES``
(``attention_utils.registry`` imports and places each one) plus SK (which replaces the 3x3
convolution, ``sk_resnet50``), all in ResNet-50 v1 (the papers' layout). Eval mode,
``torch.no_grad()``, ``torch.utils.benchmark.Timer``; each round times every model once
(round-robin, so that load from other processes hits all alike) and the table gives the median over
rounds, in milliseconds, and the ratio to plain ResNet-50 measured in the same run. Prints a
Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import platform
import statistics

import torch
from torch.utils import benchmark

import attention_utils as au


def zoo_names() -> list[str | None]:
    """None (plain ResNet-50), every registered module, and SK."""
    return [None, *sorted(au.ATTENTION_MODULES), "sk"]


def build(name: str | None) -> torch.nn.Module:
    """ResNet-50 v1 with ``name`` where the registry places it (every bottleneck, the paper's blocks
    for GSoP and A²-Net; SK replacing the 3x3 convolution)."""
    if name == "sk":
        return au.sk_resnet50(stride_in_3x3=False)
    return au.resnet50(name, stride_in_3x3=False)


def measure(names, batch: int, size: int, rounds: int, threads: int) -> dict:
    """Median seconds per forward of each model over ``rounds`` round-robin rounds."""
    torch.manual_seed(0)
    nets = {name: build(name).eval() for name in names}
    x = torch.randn(batch, 3, size, size)
    timers = {
        name: benchmark.Timer("net(x)", globals={"net": net, "x": x}, num_threads=threads)
        for name, net in nets.items()
    }
    times: dict = {name: [] for name in names}
    with torch.no_grad():
        for timer in timers.values():
            timer.timeit(1)  # warm-up
        for _ in range(rounds):
            for name, timer in timers.items():
                times[name].append(timer.timeit(1).median)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="112x112, batch 1 and 2, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    size, batches = (112, (1, 2)) if args.quick else (224, (1, 8))
    rounds = args.rounds or (2 if args.quick else 7)
    names = zoo_names()
    print(
        f"ResNet-50 v1 forward at {size}x{size}, {args.threads} CPU threads, torch "
        f"{torch.__version__}, {platform.processor() or platform.machine()}, "
        f"median of {rounds} round-robin rounds"
    )
    results = {batch: measure(names, batch, size, rounds, args.threads) for batch in batches}
    b1, b8 = batches
    print(f"| module | ms, batch {b1} | ratio | ms, batch {b8} | ratio |")
    print("|---|---|---|---|---|")
    for name in names:
        t1, t8 = results[b1][name], results[b8][name]
        print(
            f"| {name or 'none'} | {1e3 * t1:.1f} | {t1 / results[b1][None]:.2f} | "
            f"{1e3 * t8:.1f} | {t8 / results[b8][None]:.2f} |"
        )


if __name__ == "__main__":
    main()
