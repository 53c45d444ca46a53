"""Time greedy decoding with a KV cache against full recomputation, per generated token.

The decoder of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, generates one token at a time.
``Transformer.encode(use_cache=False)`` makes every ``decode`` run the decoder over the whole
prefix (work per step grows with the length, quadratic in total); ``use_cache=True`` feeds only the
newest token and reads earlier keys and values from each layer's ``KVCache`` (Pope et al., MLSys
2023, arXiv:2211.05102). Both give the same tokens (tests/test_transformer_model.py).

Model: 2 encoder and 2 decoder layers, 128 wide, 4 heads, FFN 512, vocabularies of 64 tokens,
float32, fused attention (``need_weights=False``), a batch of 4 sources of 16 tokens, one thread.

Usage:
    python benchmarks/bench_kv_cache.py            # 64, 256, 1024 generated tokens
    python benchmarks/bench_kv_cache.py --quick    # 16 and 64 tokens: a smoke run

Times each decode with ``torch.utils.benchmark.Timer`` (``blocked_autorange``, median) and prints
milliseconds per generated token with and without the cache and their ratio, side by side.
Writes nothing.
"""

from __future__ import annotations

import argparse
import platform

import torch
from torch.utils import benchmark

from attention_utils import Transformer


@torch.no_grad()
def greedy(model: Transformer, src: torch.Tensor, lens: torch.Tensor, n: int, use_cache: bool):
    """``n`` greedy steps through the decoding contract (no early stop at an end token)."""
    state = model.encode(src, lens, use_cache=use_cache)
    X = torch.ones(src.shape[0], 1, dtype=torch.long)
    for _ in range(n):
        logits, state = model.decode(X, state)
        X = logits[:, -1].argmax(-1, keepdim=True)
    return X


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 and 64 tokens only")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lengths = [16, 64] if args.quick else [64, 256, 1024]
    torch.manual_seed(0)
    model = Transformer(64, 64, 128, 512, 4, 2, 0.0, max_len=max(lengths) + 1).eval()
    model.need_weights = False
    src = torch.randint(0, 64, (4, 16))
    lens = torch.tensor([16, 12, 9, 16])
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} thread(s), batch 4, source 16 tokens, d_model 128, 2+2 layers"
    )
    print(
        f"{'tokens':>7} {'cache ms/token':>15} {'recompute ms/token':>19} {'recompute/cache':>16}"
    )
    for n in lengths:
        ms = {}
        for use_cache in (True, False):
            timer = benchmark.Timer(
                stmt="greedy(model, src, lens, n, use_cache)",
                globals=dict(
                    greedy=greedy, model=model, src=src, lens=lens, n=n, use_cache=use_cache
                ),
                num_threads=torch.get_num_threads(),
            )
            ms[use_cache] = timer.blocked_autorange(min_run_time=1.0).median * 1e3 / n
        print(f"{n:>7} {ms[True]:>15.3f} {ms[False]:>19.3f} {ms[False] / ms[True]:>15.1f}x")


if __name__ == "__main__":
    main()
