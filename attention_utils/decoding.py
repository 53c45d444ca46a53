"""Decoding and scoring for sequence to sequence models (chapter 06): greedy, beam search, BLEU.

- Greedy decoding and beam search with length normalisation: D2L section 10.8 (Zhang et al.,
  *Dive into Deep Learning*, 2023, arXiv:2106.11342) describes both and implements greedy only;
  the normalised score ``log P(y) / L^alpha`` is its equation for beam search, after Wu et al.,
  *Google's Neural Machine Translation System*, 2016, arXiv:1609.08144.
- BLEU as D2L defines it (section 10.7), after Papineni, Roukos, Ward and Zhu, *BLEU: a Method for
  Automatic Evaluation of Machine Translation*, ACL 2002:
  ``exp(min(0, 1 - len_label / len_pred)) * prod_{n=1}^{k} p_n^{1/2^n}``.

The models are those of :mod:`attention_utils.seq2seq`: an ``EncoderDecoder`` whose decoder has
``init_state(enc_all_outputs, enc_valid_lens)``, ``forward(X, state) -> (logits, state)`` and, for
beam search, ``reorder_state(state, index)``.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import torch
from torch import nn

from .checks import require_positive_int, require_real

__all__ = ["beam_search", "bleu", "exact_match", "greedy_decode"]


def _check_net_and_source(net: object, src: object, src_valid_lens: object) -> None:
    if not isinstance(net, nn.Module) or not hasattr(net, "encoder"):
        raise TypeError(f"net must be an EncoderDecoder, got {type(net).__name__}")
    if not isinstance(src, torch.Tensor) or src.dtype != torch.long or src.dim() != 2:
        raise TypeError("src must be a long tensor of shape (batch_size, num_src_steps)")
    if not isinstance(src_valid_lens, torch.Tensor) or src_valid_lens.shape != src.shape[:1]:
        raise ValueError(f"src_valid_lens must be a tensor of shape ({src.shape[0]},)")


@torch.no_grad()
def greedy_decode(
    net: nn.Module,
    src: torch.Tensor,
    src_valid_lens: torch.Tensor,
    num_steps: int,
    bos: int = 1,
    eos: int = 2,
    save_attention_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Translate a batch, taking the most likely token at every step (the model's own predictions).

    Args:
        net: an ``EncoderDecoder``; put in eval mode here.
        src: ``(batch_size, num_src_steps)`` source tokens.
        src_valid_lens: ``(batch_size,)`` source lengths.
        num_steps: the most tokens to produce (``<eos>`` included).
        bos, eos: the target vocabulary's ``<bos>`` and ``<eos>`` indices.
        save_attention_weights: also return the decoder's attention weights of every step.

    Returns:
        ``(tokens, weights)``: ``(batch_size, num_steps)`` predicted tokens, with ``eos``
        repeated after the first ``eos`` (decode with ``Vocab.decode``, which stops there), and
        ``(batch_size, num_steps, num_src_steps)`` weights, or None.

    Raises:
        TypeError, ValueError: for a ``net`` that is not an encoder-decoder, bad tensors or a
            ``num_steps`` that is not a positive int.
    """
    _check_net_and_source(net, src, src_valid_lens)
    require_positive_int("num_steps", num_steps)
    net.eval()
    state = net.decoder.init_state(net.encoder(src, src_valid_lens), src_valid_lens)
    X = torch.full((src.shape[0], 1), bos, dtype=torch.long)  # (batch_size, 1)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    tokens, weights = [], []
    for _ in range(num_steps):
        logits, state = net.decoder(X, state)  # (batch_size, 1, vocab_size)
        X = logits.argmax(dim=-1)  # (batch_size, 1)
        X = X.masked_fill(done.unsqueeze(1), eos)
        done = done | (X.squeeze(1) == eos)
        tokens.append(X)
        if save_attention_weights:
            weights.append(net.decoder.attention_weights)  # (batch_size, 1, num_src_steps)
        if done.all():
            break
    out = torch.full((src.shape[0], num_steps), eos, dtype=torch.long)
    out[:, : len(tokens)] = torch.cat(tokens, dim=1)  # (batch_size, num_steps)
    if not save_attention_weights:
        return out, None
    attention = torch.zeros(src.shape[0], num_steps, src.shape[1])
    attention[:, : len(weights)] = torch.cat(
        weights, dim=1
    )  # (batch_size, num_steps, num_src_steps)
    return out, attention


@torch.no_grad()
def beam_search(
    net: nn.Module,
    src: torch.Tensor,
    src_valid_len: int,
    num_steps: int,
    beam_size: int,
    alpha: float = 0.75,
    bos: int = 1,
    eos: int = 2,
) -> tuple[list[int], float]:
    """Beam search for one source sentence, ranking hypotheses by ``log P(y) / L^alpha``.

    Keeps the ``beam_size`` most probable unfinished prefixes; at each step every one is extended
    by every token, and of the ``2 * beam_size`` best extensions those ending in ``eos`` within
    the first ``beam_size`` ranks are finished, the best ``beam_size`` others go on. It stops when
    ``beam_size`` hypotheses are finished or after ``num_steps`` tokens; the finished (or, if none,
    the unfinished) hypothesis with the best normalised score wins, where ``L`` counts its tokens
    with ``eos``. With ``beam_size=1`` this is greedy decoding.

    Args:
        net: an ``EncoderDecoder`` whose decoder has ``reorder_state``; put in eval mode here.
        src: ``(num_src_steps,)`` or ``(1, num_src_steps)`` source tokens.
        src_valid_len: the source length.
        num_steps: the most tokens to produce (``eos`` included).
        beam_size: ``k``, the number of prefixes kept.
        alpha: the length normalisation exponent (0: plain log-probability).
        bos, eos: the target vocabulary's ``<bos>`` and ``<eos>`` indices.

    Returns:
        ``(tokens, score)``: the winner's tokens, ending in ``eos`` if it finished, and its
        normalised score.

    Raises:
        TypeError, ValueError: for bad tensors, a size that is not a positive int or a
            non-finite ``alpha``.
    """
    if isinstance(src, torch.Tensor) and src.dim() == 1:
        src = src.unsqueeze(0)  # (1, num_src_steps)
    if isinstance(src, torch.Tensor) and src.dim() == 2 and src.shape[0] != 1:
        raise ValueError(f"src must hold one sentence, got a batch of {src.shape[0]}")
    valid = torch.tensor([src_valid_len]) if isinstance(src_valid_len, int) else src_valid_len
    _check_net_and_source(net, src, valid)
    require_positive_int("num_steps", num_steps)
    k = require_positive_int("beam_size", beam_size)
    alpha = require_real("alpha", alpha)
    net.eval()
    state = net.decoder.init_state(net.encoder(src, valid), valid)
    beams: list[list[int]] = [[]]
    scores = torch.zeros(1, dtype=torch.float64)  # log P of each live prefix
    finished: list[tuple[float, list[int]]] = []
    for step in range(1, num_steps + 1):
        last = [beam[-1] if beam else bos for beam in beams]
        logits, state = net.decoder(torch.tensor(last).unsqueeze(1), state)  # (live, 1, vocab_size)
        log_p = torch.log_softmax(logits.squeeze(1).double(), dim=-1)  # (live, vocab_size)
        candidates = (scores.unsqueeze(1) + log_p).flatten()  # (live * vocab_size,)
        top = candidates.topk(min(2 * k, candidates.numel()))
        vocab_size = log_p.shape[1]
        keep_rows, keep_beams, keep_scores = [], [], []
        for rank, (score, index) in enumerate(zip(top.values.tolist(), top.indices.tolist())):
            row, token = divmod(index, vocab_size)
            if token == eos:
                if rank < k:
                    finished.append((score / step**alpha, beams[row] + [token]))
            elif len(keep_beams) < k:
                keep_rows.append(row)
                keep_beams.append(beams[row] + [token])
                keep_scores.append(score)
        if len(finished) >= k or not keep_beams:
            break
        beams, scores = keep_beams, torch.tensor(keep_scores, dtype=torch.float64)
        state = net.decoder.reorder_state(state, torch.tensor(keep_rows))
    if not finished:
        finished = [(s / len(b) ** alpha, b) for s, b in zip(scores.tolist(), beams)]
    best_score, best = max(finished, key=lambda pair: pair[0])
    return best, best_score


def _tokens(name: str, seq: object) -> list[str]:
    if isinstance(seq, str):
        return seq.split()
    if isinstance(seq, Sequence) and all(isinstance(t, str) for t in seq):
        return list(seq)
    raise TypeError(f"{name} must be a string or a list of tokens, got {type(seq).__name__}")


def bleu(pred_seq: str | Sequence[str], label_seq: str | Sequence[str], k: int = 4) -> float:
    """BLEU of one prediction against one reference, as D2L defines it.

    ``exp(min(0, 1 - len_label / len_pred)) * prod_{n=1}^{min(k, len_pred)} p_n^{1/2^n}``, where
    ``p_n`` is the fraction of the prediction's n-grams found in the label (each label n-gram
    matched at most as often as it occurs). Longer n-grams weigh more (``1/2^n`` is smaller, and
    ``p_n <= 1``); the first factor penalises short predictions. An empty prediction scores 0.

    Args:
        pred_seq, label_seq: strings of space-separated tokens, or lists of tokens.
        k: the longest n-gram.

    Returns:
        A float in [0, 1]; 1 exactly when the two are equal.

    Raises:
        TypeError: for a sequence that is neither a string nor a list of strings, or ``k`` not
            an int. ValueError: for ``k < 1``.

    Source: Papineni et al., ACL 2002; D2L section 10.7.6.
    """
    pred_tokens, label_tokens = _tokens("pred_seq", pred_seq), _tokens("label_seq", label_seq)
    k = require_positive_int("k", k)
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        label_ngrams = collections.Counter(
            tuple(label_tokens[i : i + n]) for i in range(len_label - n + 1)
        )
        num_matches = 0
        for i in range(len_pred - n + 1):
            ngram = tuple(pred_tokens[i : i + n])
            if label_ngrams[ngram] > 0:
                num_matches += 1
                label_ngrams[ngram] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def exact_match(preds: Sequence[Sequence[str]], labels: Sequence[Sequence[str]]) -> float:
    """The fraction of predictions equal to their label, token for token.

    Args:
        preds, labels: equally long lists of token lists (or strings).

    Returns:
        A float in [0, 1].

    Raises:
        TypeError: if ``preds`` or ``labels`` is not a list (a sequence other than a string),
            or an item is not a string or list of strings. ValueError: for lists of different
            or zero length.
    """
    for name, value in (("preds", preds), ("labels", labels)):
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise TypeError(f"{name} must be a list of token lists, got {type(value).__name__}")
    if len(preds) != len(labels) or not len(preds):
        raise ValueError(
            "preds and labels must be non-empty and equally long, "
            f"got {len(preds)} and {len(labels)}"
        )
    pairs = zip(preds, labels)
    return sum(_tokens("preds", p) == _tokens("labels", y) for p, y in pairs) / len(preds)
