"""Decoding and scoring for sequence to sequence models (chapters 06 and 07): greedy, beam, BLEU.

- Greedy decoding and beam search with length normalisation: D2L section 10.8 (Zhang et al.,
  *Dive into Deep Learning*, 2023, arXiv:2106.11342) describes both and implements greedy only;
  the normalised score ``log P(y) / L^alpha`` is D2L's equation for beam search. Wu et al.,
  *Google's Neural Machine Translation System*, 2016, arXiv:1609.08144, divide by
  ``((5 + L) / 6)^alpha`` instead.
- D2L's sentence score (section 10.7.6), after Papineni, Roukos, Ward and Zhu, *BLEU: a Method
  for Automatic Evaluation of Machine Translation*, ACL 2002:
  ``exp(min(0, 1 - len_label / len_pred)) * prod_{n=1}^{min(k, len_pred)} p_n^{1/2^n}``. It is
  not Papineni et al.'s BLEU (uniform weights 1/4, counts summed over a corpus, reported 0-100):
  for that, use sacreBLEU (Post, *A Call for Clarity in Reporting BLEU Scores*, WMT 2018,
  arXiv:1804.08771).

Both decoders work with any model that follows the library's decoder contract, the
``EncoderDecoder`` of chapter 06 and the ``Transformer`` of chapter 07 alike:

- ``net.encode(src, src_valid_lens) -> state``;
- ``net.decode(X, state) -> (logits, state)``: ``X`` ``(batch_size, num_steps)`` target tokens,
  logits ``(batch_size, num_steps, vocab_size)``, and the state the next call needs;
- ``net.reorder_state(state, index) -> state`` (beam search keeps the rows ``index``);
- ``net.cross_attention_weights``: after a ``decode`` call, the weights over source positions
  ``(batch_size, num_steps, num_src_steps)``, or None; ``net.need_weights``, where the model has
  it, switches them on.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import torch
from torch import nn

from .checks import (
    check_tokens,
    check_valid_lens,
    require_bool,
    require_int,
    require_positive_int,
    require_real,
)

__all__ = ["beam_search", "bleu", "exact_match", "greedy_decode"]

CONTRACT = ("encode", "decode")


def _check_net(net: object, methods: Sequence[str] = CONTRACT) -> None:
    if not isinstance(net, nn.Module):
        raise TypeError(
            f"net must be a torch.nn.Module with the decoder contract, got {type(net).__name__}"
        )
    for method in methods:
        if not callable(getattr(net, method, None)):
            raise TypeError(
                f"net must implement the decoder contract ({', '.join(methods)}); "
                f"{type(net).__name__} has no {method}()"
            )


def _check_source(src: object, src_valid_lens: object) -> torch.Tensor:
    src = check_tokens("src", src)
    if src_valid_lens is not None:
        try:
            check_valid_lens(src_valid_lens, src.shape[0], 1, src.shape[1])
            if src_valid_lens.dim() != 1:
                raise ValueError(
                    f"valid_lens must have shape (batch_size,) = ({src.shape[0]},), "
                    f"got {tuple(src_valid_lens.shape)}"
                )
        except (TypeError, ValueError) as error:
            message = str(error).replace("valid_lens", "src_valid_lens", 1)
            raise type(error)(message.replace("num_keys", "num_src_steps")) from None
    return src


def _check_ids(bos: object, eos: object, vocab_size: int | None) -> None:
    for name, value in (("bos", bos), ("eos", eos)):
        require_int(name, value, minimum=0)
        check_tokens(name, value, vocab_size)


def _first_step(net: nn.Module, X: torch.Tensor, state: object, bos: int, eos: int):
    """The first ``decode`` call; it also learns the vocabulary size and checks bos and eos."""
    logits, state = net.decode(X, state)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or logits.shape[:2] != X.shape:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"net.decode must return logits of shape (batch_size, num_steps, vocab_size) = "
            f"{tuple(X.shape)} + (vocab_size,), got {shape}"
        )
    _check_ids(bos, eos, logits.shape[-1])
    return logits, state


class _Mode:
    """Eval mode (and ``need_weights`` where asked) inside, the model's own settings after."""

    def __init__(self, net: nn.Module, need_weights: bool) -> None:
        self.net, self.need_weights = net, need_weights
        self.training = net.training
        self.switch = need_weights and hasattr(net, "need_weights")
        self.old = getattr(net, "need_weights", None)

    def __enter__(self) -> None:
        self.net.eval()
        if self.switch:
            self.net.need_weights = True

    def __exit__(self, *exc) -> None:
        self.net.train(self.training)
        if self.switch:
            self.net.need_weights = self.old


@torch.no_grad()
def greedy_decode(
    net: nn.Module,
    src: torch.Tensor,
    src_valid_lens: torch.Tensor | None,
    num_steps: int,
    bos: int = 1,
    eos: int = 2,
    save_attention_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Translate a batch, taking the most likely token at every step (the model's own predictions).

    ``y_t = argmax_v p(v | y_{<t}, x)``, fed back as the next input, from ``y_0 = <bos>``; a
    sentence that has produced ``eos`` gets ``eos`` from then on, and decoding stops when every
    sentence has. Works with any model that follows the decoder contract (module docstring), in
    eval mode and without gradients; the model's train/eval mode (and ``need_weights``) are
    restored on return. Every tensor is made on ``src.device``.

    Args:
        net: a model with ``encode``, ``decode`` (and ``cross_attention_weights`` for the
            weights), e.g. ``EncoderDecoder`` or ``Transformer``.
        src: ``(batch_size, num_src_steps)`` source token ids.
        src_valid_lens: ``(batch_size,)`` source lengths, or None (no padding).
        num_steps: the most tokens to produce (``eos`` included).
        bos, eos: the target vocabulary's ``<bos>`` and ``<eos>`` ids.
        save_attention_weights: also return the weights over the source at every step.

    Returns:
        ``(tokens, weights)``: ``(batch_size, num_steps)`` long predicted tokens, with ``eos``
        repeated after the first ``eos`` (decode with ``Vocab.decode``, which stops there), and
        ``(batch_size, num_steps, num_src_steps)`` weights (0 after the end), or None.

    Raises:
        TypeError: for a ``net`` without the contract, a non-integer ``src``, ``src_valid_lens``,
            ``bos`` or ``eos``, a ``num_steps`` that is not an int, or a non-bool flag.
        ValueError: for a ``src`` that is not 2-D, ``src_valid_lens`` of another shape or outside
            ``0..num_src_steps``, ``num_steps < 1``, or ``bos``/``eos`` outside the vocabulary.
    """
    _check_net(net)
    src = _check_source(src, src_valid_lens)
    require_positive_int("num_steps", num_steps)
    require_int("bos", bos, minimum=0)
    require_int("eos", eos, minimum=0)
    require_bool("save_attention_weights", save_attention_weights)
    _check_ids(bos, eos, getattr(net, "tgt_vocab_size", None))
    batch_size, device = src.shape[0], src.device
    with _Mode(net, save_attention_weights):
        state = net.encode(src, src_valid_lens)
        X = torch.full((batch_size, 1), bos, dtype=torch.long, device=device)  # (batch_size, 1)
        done = torch.zeros(batch_size, dtype=torch.bool, device=device)
        tokens, weights = [], []
        for step in range(num_steps):
            if step == 0:
                logits, state = _first_step(net, X, state, bos, eos)
            else:
                logits, state = net.decode(X, state)  # (batch_size, 1, vocab_size)
            X = logits.argmax(dim=-1).masked_fill(done.unsqueeze(1), eos)  # (batch_size, 1)
            done = done | (X.squeeze(1) == eos)
            tokens.append(X)
            if save_attention_weights:
                weights.append(_step_weights(net, batch_size, src.shape[1], logits.dtype, device))
            if bool(done.all()):
                break
    out = torch.full((batch_size, num_steps), eos, dtype=torch.long, device=device)
    out[:, : len(tokens)] = torch.cat(tokens, dim=1)  # (batch_size, num_steps)
    if not save_attention_weights:
        return out, None
    attention = torch.zeros(
        batch_size, num_steps, src.shape[1], dtype=weights[0].dtype, device=device
    )
    attention[:, : len(weights)] = torch.cat(weights, dim=1)
    return out, attention  # (batch_size, num_steps, num_src_steps)


def _step_weights(net, batch_size, num_src_steps, dtype, device) -> torch.Tensor:
    """The last step's weights over the source, ``(batch_size, 1, num_src_steps)``."""
    weights = getattr(net, "cross_attention_weights", None)
    if weights is None:
        raise ValueError(
            "save_attention_weights=True needs a model whose cross_attention_weights are set "
            f"by decode; {type(net).__name__} gave None (a model without attention?)"
        )
    if tuple(weights.shape) != (batch_size, 1, num_src_steps):
        raise ValueError(
            "net.cross_attention_weights must have shape (batch_size, num_steps, num_src_steps) "
            f"= ({batch_size}, 1, {num_src_steps}) after one step, got {tuple(weights.shape)}"
        )
    return weights.to(device=device)


@torch.no_grad()
def beam_search(
    net: nn.Module,
    src: torch.Tensor,
    src_valid_len: int | torch.Tensor | None,
    num_steps: int,
    beam_size: int,
    alpha: float = 0.75,
    bos: int = 1,
    eos: int = 2,
) -> tuple[list[int], float]:
    """Beam search for one source sentence, ranking hypotheses by ``log P(y) / L^alpha``.

    Keeps the ``beam_size`` most probable unfinished prefixes; at each step every one is extended
    by every token, and of the ``2 * beam_size`` best extensions those ending in ``eos`` within
    the first ``beam_size`` ranks are finished, the best ``beam_size`` others go on (the model's
    state is reordered with ``net.reorder_state``). It stops when ``beam_size`` hypotheses are
    finished or after ``num_steps`` tokens; the finished (or, if none, the unfinished) hypothesis
    with the best normalised score wins, where ``L`` counts its tokens with ``eos``. With
    ``beam_size=1`` this is greedy decoding. The length penalty ``L^alpha`` is D2L's; Wu et al.
    (2016) use ``((5 + L) / 6)^alpha``. Same contract, device and mode rules as
    :func:`greedy_decode`.

    Args:
        net: a model with ``encode``, ``decode`` and ``reorder_state``.
        src: ``(num_src_steps,)`` or ``(1, num_src_steps)`` source token ids.
        src_valid_len: the source length (an int or a ``(1,)`` tensor), or None (no padding).
        num_steps: the most tokens to produce (``eos`` included).
        beam_size: ``k``, the number of prefixes kept.
        alpha: the length normalisation exponent (0: plain log-probability).
        bos, eos: the target vocabulary's ``<bos>`` and ``<eos>`` ids.

    Returns:
        ``(tokens, score)``: the winner's tokens (a list of ints), ending in ``eos`` if it
        finished, and its normalised score.

    Raises:
        TypeError: for a ``net`` without the contract, non-integer tokens or lengths, or a size
            that is not an int.
        ValueError: for a ``src`` that is not one sentence, a length outside
            ``0..num_src_steps``, a size < 1, a non-finite ``alpha``, or ``bos``/``eos`` outside
            the vocabulary.
    """
    _check_net(net, CONTRACT + ("reorder_state",))
    if isinstance(src, torch.Tensor) and src.dim() == 1:
        src = src.unsqueeze(0)  # (1, num_src_steps)
    src = check_tokens("src", src)
    if src.shape[0] != 1:
        raise ValueError(f"src must hold one sentence, got a batch of {src.shape[0]}")
    valid = src_valid_len
    if isinstance(src_valid_len, int) and not isinstance(src_valid_len, bool):
        valid = torch.tensor([src_valid_len], device=src.device)
    elif isinstance(src_valid_len, torch.Tensor) and src_valid_len.dim() == 0:
        valid = src_valid_len.reshape(1)
    _check_source(src, valid)
    require_positive_int("num_steps", num_steps)
    k = require_positive_int("beam_size", beam_size)
    alpha = require_real("alpha", alpha)
    require_int("bos", bos, minimum=0)
    require_int("eos", eos, minimum=0)
    _check_ids(bos, eos, getattr(net, "tgt_vocab_size", None))
    device = src.device
    with _Mode(net, False):
        state = net.encode(src, valid)
        beams: list[list[int]] = [[]]
        scores = torch.zeros(1, dtype=torch.float64, device=device)  # log P of each live prefix
        finished: list[tuple[float, list[int]]] = []
        for step in range(1, num_steps + 1):
            last = torch.tensor([[beam[-1] if beam else bos] for beam in beams], device=device)
            if step == 1:
                logits, state = _first_step(net, last, state, bos, eos)
            else:
                logits, state = net.decode(last, state)  # (live, 1, vocab_size)
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
            beams = keep_beams
            scores = torch.tensor(keep_scores, dtype=torch.float64, device=device)
            state = net.reorder_state(state, torch.tensor(keep_rows, device=device))
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
    """D2L's sentence score after BLEU: one prediction against one reference.

    ``exp(min(0, 1 - len_label / len_pred)) * prod_{n=1}^{min(k, len_pred)} p_n^{1/2^n}``, where
    ``p_n`` is the fraction of the prediction's n-grams found in the label (each label n-gram
    matched at most as often as it occurs); the product stops at the prediction's length, where
    there are no longer n-grams. Since ``p_n <= 1``, the smaller exponent ``1/2^n`` pulls
    ``p_n^{1/2^n}`` towards 1: a miss on long n-grams costs *less* than one on short n-grams
    (``p = 0.75`` gives 0.87 as a unigram factor, 0.98 as a 4-gram factor). The first factor
    penalises short predictions. An empty prediction scores 0. This is not Papineni et al.'s
    corpus BLEU (uniform weights, counts summed over all sentences, 0-100); sacreBLEU computes
    that one.

    Args:
        pred_seq, label_seq: strings of space-separated tokens, or lists of tokens.
        k: the longest n-gram.

    Returns:
        A float in [0, 1]; 1 exactly when the two are equal.

    Raises:
        TypeError: for a sequence that is neither a string nor a list of strings, or ``k`` not
            an int. ValueError: for ``k < 1``.

    Source: D2L section 10.7.6, after Papineni et al., ACL 2002.
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
