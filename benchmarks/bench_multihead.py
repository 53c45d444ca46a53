"""Time the book's MultiHeadAttention against torch.nn.MultiheadAttention on CPU.

Multi-head attention of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.2. Three
contestants with the same weights (copied with ``as_torch_multihead``), self-attention, float32:

- ``ours (weights)``: ``MultiHeadAttention(need_weights=True)``, the readable path that keeps the
  ``(batch_size, num_heads, num_queries, num_keys)`` weights for plotting;
- ``ours (fused)``: ``need_weights=False``, which calls ``scaled_dot_product_attention``;
- ``torch``: ``nn.MultiheadAttention`` with ``need_weights=False`` (its fast path).

Each is timed for the forward pass alone (``torch.no_grad``) and for forward plus backward of
``output.sum()`` in training mode with dropout 0, with ``torch.utils.benchmark.Timer``: the three
take turns (``--rounds`` of them, each ``blocked_autorange`` for ``--min-run-time`` seconds), so
that load from other processes hits all alike, and the median over the turns is reported.

Usage:
    python benchmarks/bench_multihead.py           # batch 8, length 512, 512 hidden, 8 heads
    python benchmarks/bench_multihead.py --quick   # batch 2, length 128: a smoke run

Prints median times in milliseconds and the ratios ours / torch. Writes nothing.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch import nn
from torch.utils.benchmark import Timer

from attention_utils import MultiHeadAttention, as_torch_multihead


def forward(layer: nn.Module, X: torch.Tensor, is_torch: bool) -> None:
    with torch.no_grad():
        if is_torch:
            layer(X, X, X, need_weights=False)
        else:
            layer(X, X, X)


def forward_backward(layer: nn.Module, X: torch.Tensor, is_torch: bool) -> None:
    layer.zero_grad(set_to_none=True)
    output = layer(X, X, X, need_weights=False)[0] if is_torch else layer(X, X, X)
    output.sum().backward()


def make_timer(step, layer: nn.Module, X: torch.Tensor, is_torch: bool) -> Timer:
    return Timer(
        "step(layer, X, is_torch)",
        globals={"step": step, "layer": layer, "X": X, "is_torch": is_torch},
        num_threads=torch.get_num_threads(),
    )


def round_robin_ms(timers: dict[str, Timer], rounds: int, min_run_time: float) -> dict[str, float]:
    """Median ms per call of each timer, measured in turns so that load drift hits all alike."""
    for timer in timers.values():
        timer.timeit(1)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            samples[name].append(timer.blocked_autorange(min_run_time=min_run_time).median)
    return {name: 1e3 * statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="turns of the round robin")
    parser.add_argument("--min-run-time", type=float, default=None, help="seconds per turn")
    args = parser.parse_args()
    batch_size, num_steps = (2, 128) if args.quick else (8, 512)
    num_hiddens, num_heads = 512, 8
    rounds = args.rounds or (3 if args.quick else 7)
    min_run_time = args.min_run_time or (0.2 if args.quick else 1.0)

    torch.manual_seed(0)
    ours = MultiHeadAttention(
        num_hiddens, num_hiddens, num_hiddens, num_hiddens, num_heads, 0.0, need_weights=True
    )
    theirs = as_torch_multihead(ours)
    X = torch.randn(batch_size, num_steps, num_hiddens)  # (batch_size, num_steps, num_hiddens)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, "
        f"batch {batch_size}, length {num_steps}, {num_hiddens} hidden, {num_heads} heads, "
        f"torch.utils.benchmark, median of {rounds} round-robin turns of >= {min_run_time} s"
    )
    print(
        f"{'pass':<18} {'ours weights':>13} {'ours fused':>11} {'torch':>9} "
        f"{'weights/torch':>14} {'fused/torch':>12}"
    )
    for name, step, training in (
        ("forward", forward, False),
        ("forward+backward", forward_backward, True),
    ):
        ours.train(training)
        theirs.train(training)
        fused = MultiHeadAttention(*(num_hiddens,) * 4, num_heads, 0.0)
        fused.load_state_dict(ours.state_dict())
        fused.train(training).need_weights = False
        ms = round_robin_ms(
            {
                "weights": make_timer(step, ours, X, False),
                "fused": make_timer(step, fused, X, False),
                "torch": make_timer(step, theirs, X, True),
            },
            rounds,
            min_run_time,
        )
        t_weights, t_fused, t_torch = ms["weights"], ms["fused"], ms["torch"]
        print(
            f"{name:<18} {t_weights:>10.2f} ms {t_fused:>8.2f} ms {t_torch:>6.2f} ms "
            f"{t_weights / t_torch:>14.2f} {t_fused / t_torch:>12.2f}"
        )


if __name__ == "__main__":
    main()
