"""A learning-rate sweep for chapter 07's comparison: the Transformer against chapter 06's RNN.

Chapter 07 trains both models on chapter 06's toy translation for the same 300 updates (batches
of 64 sentences, the same batches in the same order, label-smoothed cross-entropy, Adam with
betas (0.9, 0.98), gradient clipping at 1). A comparison is fair only if neither model's settings
were tuned more than the other's, so this script gives each model three learning rates and the
Transformer also its other untuned choices, the warm-up (a sixth of the budget in the
chapter), dropout (0.1 as in Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 5.4, against
none) and weight tying (sec. 3.4, against separate matrices). Every configuration runs over the
same seeds; the table prints, per configuration and seed,
the mean training loss of the last 20 updates, exact match on the test set by source length
(greedy decoding), corpus BLEU by sacreBLEU (Post, WMT 2018, arXiv:1804.08771) and the CPU
seconds of training, then the mean and the spread (max - min) over seeds.

The Transformer: chapter 07's, 2 + 2 blocks, num_hiddens 64, 4 heads, FFN 128, biases in the
attention projections, dropout 0.1, separate target embedding and output projection unless
"tied", Vaswani et al.'s warm-up schedule (50 updates unless said) scaled to peak at the learning
rate given. The RNN: chapter 06's attention
model (embeddings 32, a GRU of 64 units, additive attention) at a constant learning rate.

Usage:
    python benchmarks/sweep_seq2seq.py               # 2 seeds, 10 configurations (~6 min idle)
    python benchmarks/sweep_seq2seq.py --seeds 0 1 2
    python benchmarks/sweep_seq2seq.py --quick       # 20 updates, one seed: a smoke run
    python benchmarks/sweep_seq2seq.py --only RNN    # the configurations named ...RNN...
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import sacrebleu
import torch
from torch import nn

from attention_utils import (
    EncoderDecoder,
    Seq2SeqAttentionDecoder,
    Seq2SeqEncoder,
    Transformer,
    decoder_inputs,
    greedy_decode,
    train,
    translation_data,
    warmup_scheduler,
)

D_MODEL, BATCH_SIZE = 64, 64
BUCKETS = [(4, 5), (6, 8), (9, 11), (12, 16)]  # [lo, hi], as bucketize(right=True) cuts them
# name: (model kind, peak learning rate, warm-up updates or None, dropout, tied weights)
CONFIGS = {
    "Transformer lr 1e-3": ("Transformer", 1e-3, 50, 0.1, False),
    "Transformer lr 3e-3": ("Transformer", 3e-3, 50, 0.1, False),
    "Transformer lr 1e-2": ("Transformer", 1e-2, 50, 0.1, False),
    "Transformer lr 3e-3, warm-up 15": ("Transformer", 3e-3, 15, 0.1, False),
    "Transformer lr 3e-3, dropout 0": ("Transformer", 3e-3, 50, 0.0, False),
    "Transformer lr 3e-3, tied": ("Transformer", 3e-3, 50, 0.1, True),
    "Transformer lr 3e-3, tied, dropout 0": ("Transformer", 3e-3, 50, 0.0, True),
    "RNN lr 2e-3": ("attention RNN", 2e-3, None, 0.0, False),
    "RNN lr 5e-3": ("attention RNN", 5e-3, None, 0.0, False),
    "RNN lr 1e-2": ("attention RNN", 1e-2, None, 0.0, False),
}


def make_model(kind: str, seed: int, dropout: float, tie: bool, src_size: int,
               tgt_size: int) -> nn.Module:
    torch.manual_seed(seed)
    if kind == "Transformer":
        net = Transformer(src_size, tgt_size, D_MODEL, 2 * D_MODEL, 4, 2, dropout, bias=True,
                          tie_weights=tie)
        net.need_weights = False  # fused attention while training
        return net
    return EncoderDecoder(Seq2SeqEncoder(src_size, 32, 64, 1),
                          Seq2SeqAttentionDecoder(tgt_size, 32, 64, 1))


def run(data, name: str, seed: int, num_updates: int) -> dict:
    kind, lr, warmup, dropout, tie = CONFIGS[name]
    src_vocab, tgt_vocab = data.src_vocab, data.tgt_vocab
    net = make_model(kind, seed, dropout, tie, len(src_vocab), len(tgt_vocab))
    base_lr = lr if warmup is None else lr * math.sqrt(D_MODEL * warmup)  # peak = lr
    optimizer = torch.optim.Adam(net.parameters(), lr=base_lr, betas=(0.9, 0.98), eps=1e-9)
    scheduler = None if warmup is None else warmup_scheduler(optimizer, D_MODEL, warmup)
    loss_fn = nn.CrossEntropyLoss(ignore_index=tgt_vocab.pad, label_smoothing=0.1)
    batches = [((src, decoder_inputs(tgt, tgt_vocab.bos), lens), tgt)
               for src, lens, tgt, _ in data.train.batches(BATCH_SIZE, seed=seed)]
    start = time.process_time()
    history = train(net, lambda logits, tgt: loss_fn(logits.transpose(1, 2), tgt), optimizer,
                    batches, progress=False, grad_clip=1.0, scheduler=scheduler,
                    max_steps=num_updates)
    seconds = time.process_time() - start
    net.eval()
    tokens, _ = greedy_decode(net, data.test.src, data.test.src_valid_lens, data.num_tgt_steps,
                              tgt_vocab.bos, tgt_vocab.eos)
    preds = [tgt_vocab.decode(row) for row in tokens]
    refs = [list(t) for _, t in data.test.sentences]
    right = torch.tensor([float(p == y) for p, y in zip(preds, refs)])
    bucket = torch.bucketize(data.test.lengths, torch.tensor([6, 9, 12]), right=True)
    match = [float(right[bucket == b].mean()) for b in range(len(BUCKETS))]
    bleu = sacrebleu.corpus_bleu([" ".join(p) for p in preds], [[" ".join(y) for y in refs]])
    losses = history.step_losses
    return {"loss": sum(losses[-20:]) / len(losses[-20:]), "match": match, "bleu": bleu.score,
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="20 updates, seed 0")
    parser.add_argument("--only", nargs="+", metavar="TEXT", default=None,
                        help="run only the configurations whose name contains one of these")
    args = parser.parse_args()
    names = [n for n in CONFIGS if args.only is None or any(t in n for t in args.only)]
    seeds, updates = ([0], 20) if args.quick else (args.seeds, args.updates)
    torch.set_num_threads(1)  # as the chapter
    data = translation_data(num_train=4000, num_test=260, max_len=16, seed=0)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, 1 thread; "
          f"{updates} updates of {BATCH_SIZE} sentences, seeds {seeds}")
    head = "exact match " + " ".join(f"{lo}-{hi}" for lo, hi in BUCKETS)
    print(f"{'configuration':<38} {'seed':>4} {'loss':>5} {head:>31} {'BLEU':>5} {'CPU s':>6}")
    for name in names:
        rows = []
        for seed in seeds:
            r = run(data, name, seed, updates)
            rows.append(r)
            match = " ".join(f"{m:5.2f}" for m in r["match"])
            print(f"{name:<38} {seed:>4} {r['loss']:5.2f} {match:>31} {r['bleu']:5.1f} "
                  f"{r['seconds']:6.1f}", flush=True)
        stats = (("mean", lambda v: sum(v) / len(v)), ("spread", lambda v: max(v) - min(v)))
        for label, agg in stats:
            match = " ".join(f"{agg([r['match'][b] for r in rows]):5.2f}" for b in range(4))
            print(f"{name:<38} {label:>6} {agg([r['loss'] for r in rows]):3.2f} {match:>31} "
                  f"{agg([r['bleu'] for r in rows]):5.1f} {agg([r['seconds'] for r in rows]):6.1f}")


if __name__ == "__main__":
    main()
