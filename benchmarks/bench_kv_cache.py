"""Time per generated token of greedy decoding: flat KV cache, concatenating cache, recomputation.

The decoder of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, generates one token at a time.
Three ways to decode greedily through ``Transformer.encode``/``decode`` (no early stop):

- ``flat``: ``use_cache=True`` with the library's ``KVCache``, which writes each step's keys and
  values into buffers allocated once (doubling when full) (Pope et al., MLSys 2023,
  arXiv:2211.05102; Kwon et al., SOSP 2023, arXiv:2309.06180);
- ``concat``: the same, with a cache that grows by ``torch.cat`` and so copies everything it holds
  at every step (what the library did before);
- ``recompute``: ``use_cache=False``, the decoder run over the whole prefix at every step
  (64 and 256 tokens only: at 1024 it takes minutes).

The ratio printed last is the flat cache's time per token at 1024 generated tokens over its time
at 64. Attention over the cache still grows with the number ``n`` of tokens: per layer, example and
token the step does about ``14 d^2`` multiply-adds that do not depend on ``n`` (``4 d^2`` for the
self-attention projections, ``2 d^2`` for the cross-attention's query and output projections, whose
keys and values are cached once, ``8 d^2`` for the feed-forward network of width ``4 d``) and
``2 n d`` that do (scores and weighted sum over the cache). The model size is chosen so that the
ratio tests the cache, not the arithmetic: with ``d = 512`` the arithmetic alone predicts
``(14 d + 2 * 1024) / (14 d + 2 * 64) = 1.26``; a cache that copies itself adds ``O(n d)``
bytes of traffic per step on top and shows up as a larger ratio (``concat``). With ``d = 128``
Python's per-call overhead would hide both; with ``d = 2048`` the run would take many minutes.

Model: 2 encoder and 2 decoder layers, d = 512, 8 heads, FFN 2048, vocabularies of 64 tokens,
float32, fused attention (``need_weights=False``), a batch of 4 sources of 16 tokens.

Usage:
    python benchmarks/bench_kv_cache.py              # 64, 256, 1024 tokens, 1 thread (about 13 min)
    python benchmarks/bench_kv_cache.py --quick      # 16 and 64 tokens: a smoke run
    python benchmarks/bench_kv_cache.py --threads 2

Each decode is one ``torch.utils.benchmark.Timer`` measurement; every configuration runs once to
warm up, then ``--repeats`` rounds run them all in a rotating order. A cell is the median
milliseconds per generated token and the spread (min to max) over the rounds. Writes nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch
from torch.utils import benchmark

from attention_utils import DecoderLayerCache, KVCache, Transformer

WIDTH, FFN, HEADS, LAYERS, VOCAB, BATCH, SOURCE = 512, 2048, 8, 2, 64, 4, 16


class ConcatCache(KVCache):
    """A cache that grows by ``torch.cat``: every step copies all it holds (the old way)."""

    def append(self, keys, values):
        if not self.is_filled:
            return super().append(keys, values)
        self._keys = torch.cat([self.keys, keys], dim=2)  # (batch, heads, num_steps + 1, head_dim)
        self._values = torch.cat([self.values, values], dim=2)
        self._start, self._end = 0, self._keys.shape[2]
        return self._keys, self._values


def concat_caches(model: Transformer) -> list[DecoderLayerCache]:
    return [DecoderLayerCache(ConcatCache(), KVCache(static=True)) for _ in model.decoder.blks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 and 64 tokens only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lengths = [16, 64] if args.quick else [64, 256, 1024]
    torch.manual_seed(0)
    model = Transformer(VOCAB, VOCAB, WIDTH, FFN, HEADS, LAYERS, 0.0, max_len=max(lengths) + 1)
    model.eval()
    model.need_weights = False
    src = torch.randint(0, VOCAB, (BATCH, SOURCE))
    lens = torch.tensor([16, 12, 9, 16])
    flat_init = model.decoder.init_cache

    @torch.no_grad()
    def decode(kind: str, n: int):
        model.decoder.init_cache = flat_init if kind != "concat" else lambda: concat_caches(model)
        state = model.encode(src, lens, use_cache=kind != "recompute")
        X = torch.ones(src.shape[0], 1, dtype=torch.long)  # <bos> = 1
        for _ in range(n):
            logits, state = model.decode(X, state)  # (batch_size, 1 or prefix, vocab_size)
            X = logits[:, -1].argmax(-1, keepdim=True)  # (batch_size, 1)

    configs = [(kind, n) for n in lengths for kind in ("flat", "concat", "recompute")
               if kind != "recompute" or n <= 256]
    timers = {
        c: benchmark.Timer(stmt="decode(*c)", globals=dict(decode=decode, c=c),
                           num_threads=args.threads)
        for c in configs
    }
    print(f"torch {torch.__version__}, {args.threads} thread(s), load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; batch {BATCH}, source {SOURCE} "
          f"tokens, d {WIDTH}, {HEADS} heads, FFN {FFN}, {LAYERS}+{LAYERS} layers, "
          f"{args.repeats} rounds")
    for timer in timers.values():
        timer.timeit(1)  # warm-up
    ms = {c: [] for c in configs}
    for round_ in range(args.repeats):
        shift = round_ % len(configs)
        for c in configs[shift:] + configs[:shift]:
            ms[c].append(timers[c].timeit(1).mean * 1e3 / c[1])
    print(f"{'tokens':>7} {'flat ms/token':>20} {'concat ms/token':>20} {'recompute ms/token':>20}")
    for n in lengths:
        cells = []
        for kind in ("flat", "concat", "recompute"):
            t = ms.get((kind, n))
            cells.append(f"{'-':>20}" if t is None else
                         f"{statistics.median(t):>8.2f} ({min(t):.2f}-{max(t):.2f})".rjust(20))
        print(f"{n:>7} {' '.join(cells)}")
    first, last = lengths[0], lengths[-1]
    for kind in ("flat", "concat"):
        ratios = [b / a for a, b in zip(ms[(kind, first)], ms[(kind, last)])]
        print(f"{kind} cache: time per token at {last} / at {first} = "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f} over rounds)")


if __name__ == "__main__":
    main()
