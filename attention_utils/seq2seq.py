"""Sequence to sequence with and without Bahdanau attention (chapter 06).

- The RNN encoder--decoder: Cho et al., *Learning Phrase Representations using RNN
  Encoder--Decoder for Statistical Machine Translation*, EMNLP 2014, arXiv:1406.1078, and
  Sutskever, Vinyals and Le, *Sequence to Sequence Learning with Neural Networks*, NeurIPS 2014,
  arXiv:1409.3215. The decoder sees the source only through one fixed vector, the encoder's last
  state: the bottleneck.
- Bahdanau, Cho and Bengio, *Neural Machine Translation by Jointly Learning to Align and
  Translate*, ICLR 2015, arXiv:1409.0473: at every step the decoder's previous state queries the
  encoder's states with additive attention, and the context ``c_t = sum_i alpha_{t,i} h_i`` feeds
  the step.

Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023,
arXiv:2106.11342, sections 10.7 and 11.4), batch first as everywhere in this library. Decoding
(greedy, beam search) and the scores (BLEU, exact match) are in :mod:`attention_utils.decoding`.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import require_positive_int, require_probability
from .scoring import AdditiveAttention, _key_mask, _pool

__all__ = [
    "EncoderDecoder",
    "MaskedSoftmaxCELoss",
    "Seq2SeqAttentionDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
]


def _check_tokens(name: str, X: object) -> torch.Tensor:
    """``X`` if it is a 2-D integer tensor of token indices, else a TypeError/ValueError."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of token indices, got {type(X).__name__}")
    if X.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{name} must hold integer token indices, got dtype {X.dtype}")
    if X.dim() != 2:
        raise ValueError(f"{name} must have shape (batch_size, num_steps), got {tuple(X.shape)}")
    return X


def _check_lens(name: str, valid_lens: object, batch_size: int, num_steps: int) -> torch.Tensor:
    """``valid_lens`` as a long tensor of shape ``(batch_size,)``, values in ``1..num_steps``."""
    if not isinstance(valid_lens, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(valid_lens).__name__}")
    if valid_lens.is_floating_point() or valid_lens.is_complex():
        raise TypeError(f"{name} must hold integers, got dtype {valid_lens.dtype}")
    if valid_lens.shape != (batch_size,):
        raise ValueError(f"{name} must have shape ({batch_size},), got {tuple(valid_lens.shape)}")
    if len(valid_lens) and (valid_lens.min() < 1 or valid_lens.max() > num_steps):
        raise ValueError(f"{name} must lie between 1 and num_steps = {num_steps}")
    return valid_lens.long()


def _gru(input_size: int, num_hiddens: int, num_layers: int, dropout: float) -> nn.GRU:
    # nn.GRU applies dropout between layers only, and warns when there is one layer
    return nn.GRU(
        input_size, num_hiddens, num_layers, dropout=dropout if num_layers > 1 else 0.0,
        batch_first=True,
    )  # fmt: skip


class Seq2SeqEncoder(nn.Module):
    """The RNN encoder: embed the source tokens and run a GRU over them.

    ``h_i = GRU(embed(x_i), h_{i-1})``. Padded positions are skipped (packed sequences), so the
    final state is the state after the last valid token and the outputs at padded positions are
    exactly 0: changing padded tokens changes nothing.

    Args:
        vocab_size: source vocabulary size.
        embed_size: length of a token embedding.
        num_hiddens: length of the GRU state.
        num_layers: stacked GRU layers.
        dropout: dropout between GRU layers (only with ``num_layers > 1``) and on the embeddings.

    Raises:
        TypeError, ValueError: for a size that is not a positive int or a bad ``dropout``.

    Source: Cho et al., EMNLP 2014, arXiv:1406.1078; D2L section 10.7 (``Seq2SeqEncoder``).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hiddens: int,
        num_layers: int,
        dropout: float = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size), ("embed_size", embed_size),
            ("num_hiddens", num_hiddens), ("num_layers", num_layers),
        ):  # fmt: skip
            require_positive_int(name, value)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.rnn = _gru(embed_size, num_hiddens, num_layers, dropout)

    def forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch of sources.

        Args:
            X: ``(batch_size, num_steps)`` source token indices.
            valid_lens: None (no padding) or ``(batch_size,)`` lengths, ``1..num_steps``.

        Returns:
            ``(outputs, state)``: the top layer's states ``(batch_size, num_steps, num_hiddens)``
            (0 at padded positions) and every layer's final state
            ``(num_layers, batch_size, num_hiddens)``.

        Raises:
            TypeError, ValueError: for ``X`` that is not a 2-D integer tensor or bad ``valid_lens``.
        """
        X = _check_tokens("X", X)
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        if valid_lens is None:
            return self.rnn(embs)
        valid_lens = _check_lens("valid_lens", valid_lens, X.shape[0], X.shape[1])
        packed = nn.utils.rnn.pack_padded_sequence(
            embs, valid_lens.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, state = self.rnn(packed)  # state: (num_layers, batch_size, num_hiddens)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(
            outputs, batch_first=True, total_length=X.shape[1]
        )  # (batch_size, num_steps, num_hiddens)
        return outputs, state


class Seq2SeqDecoder(nn.Module):
    """The decoder without attention: one fixed context, the encoder's final top-layer state.

    ``s_t = GRU([embed(y_{t-1}); c], s_{t-1})`` with ``c = h_T`` for every step and ``s_0`` the
    encoder's final state, then ``logits_t = W s_t``. The whole source must fit into ``c``.

    Args:
        vocab_size: target vocabulary size.
        embed_size, num_hiddens, num_layers, dropout: as in :class:`Seq2SeqEncoder` (the encoder
            must have the same ``num_hiddens`` and ``num_layers``).

    Source: Cho et al., EMNLP 2014, arXiv:1406.1078; D2L section 10.7 (``Seq2SeqDecoder``).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hiddens: int,
        num_layers: int,
        dropout: float = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size), ("embed_size", embed_size),
            ("num_hiddens", num_hiddens), ("num_layers", num_layers),
        ):  # fmt: skip
            require_positive_int(name, value)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(
        self, enc_all_outputs: tuple[torch.Tensor, torch.Tensor], enc_valid_lens=None
    ) -> list:
        """``[context, hidden_state]``: ``(batch_size, num_hiddens)``, the encoder's final state."""
        _, hidden_state = enc_all_outputs
        return [hidden_state[-1], hidden_state]

    def reorder_state(self, state: list, index: torch.Tensor) -> list:
        """Keep the batch rows ``index`` of ``state`` (beam search)."""
        context, hidden_state = state
        return [context[index], hidden_state[:, index]]

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """Decode ``num_steps`` tokens given the previous ones (teacher forcing) or one at a time.

        Args:
            X: ``(batch_size, num_steps)`` previous target tokens (``<bos>`` first).
            state: from :meth:`init_state` or the last call.

        Returns:
            ``(logits, state)``: ``(batch_size, num_steps, vocab_size)`` and the new state.
        """
        X = _check_tokens("X", X)
        context, hidden_state = state
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        context = context.unsqueeze(1).expand(
            -1, X.shape[1], -1
        )  # (batch_size, num_steps, num_hiddens)
        outputs, hidden_state = self.rnn(torch.cat([embs, context], dim=-1), hidden_state)
        return self.dense(outputs), [state[0], hidden_state]  # (batch_size, num_steps, vocab_size)


class Seq2SeqAttentionDecoder(nn.Module):
    """The decoder with Bahdanau attention over the encoder's states.

    At step ``t`` the query is the previous top-layer state ``s_{t-1}``, the keys and values are
    the encoder's outputs ``h_1..h_T``; additive attention gives ``alpha_{t,i}`` and the context
    ``c_t = sum_i alpha_{t,i} h_i``, then ``s_t = GRU([embed(y_{t-1}); c_t], s_{t-1})`` and
    ``logits_t = W s_t``. Padded source positions get weight exactly 0.

    Args:
        vocab_size, embed_size, num_hiddens, num_layers, dropout: as in :class:`Seq2SeqDecoder`;
            the attention's hidden layer has ``num_hiddens`` units and ``dropout`` on its weights.

    Attributes:
        attention: the :class:`~attention_utils.scoring.AdditiveAttention` layer.
        attention_weights: the weights of the last forward, detached,
            ``(batch_size, num_steps, num_src_steps)``; None before the first call.

    Source: Bahdanau, Cho and Bengio, ICLR 2015, arXiv:1409.0473; D2L section 11.4
    (``Seq2SeqAttentionDecoder``).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hiddens: int,
        num_layers: int,
        dropout: float = 0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size), ("embed_size", embed_size),
            ("num_hiddens", num_hiddens), ("num_layers", num_layers),
        ):  # fmt: skip
            require_positive_int(name, value)
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.attention_weights: torch.Tensor | None = None

    def init_state(
        self, enc_all_outputs: tuple[torch.Tensor, torch.Tensor], enc_valid_lens=None
    ) -> list:
        """``[enc_outputs, hidden_state, enc_valid_lens]`` for :meth:`forward`."""
        outputs, hidden_state = enc_all_outputs
        return [outputs, hidden_state, enc_valid_lens]

    def reorder_state(self, state: list, index: torch.Tensor) -> list:
        """Keep the batch rows ``index`` of ``state`` (beam search)."""
        outputs, hidden_state, valid_lens = state
        valid_lens = None if valid_lens is None else valid_lens[index]
        return [outputs[index], hidden_state[:, index], valid_lens]

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """Decode step by step; see :class:`Seq2SeqDecoder.forward` for the shapes.

        Also sets ``attention_weights`` to ``(batch_size, num_steps, num_src_steps)``.
        """
        X = _check_tokens("X", X)
        enc_outputs, hidden_state, enc_valid_lens = state
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        # Bahdanau et al.'s appendix A.1.2: W_k h_i does not depend on the step, so it is computed
        # once; each step adds W_q s_{t-1} and pools through the library's core (the masked
        # softmax of attention_utils.scoring), exactly as self.attention(query, keys, values).
        attention = self.attention
        keys = attention.W_k(enc_outputs).unsqueeze(
            1
        )  # (batch_size, 1, num_src_steps, num_hiddens)
        mask = _key_mask(enc_valid_lens, None, False, enc_outputs, enc_outputs.shape[1])
        outputs, weights = [], []
        for emb in embs.unbind(1):  # emb: (batch_size, embed_size)
            query = (
                attention.W_q(hidden_state[-1]).unsqueeze(1).unsqueeze(2)
            )  # (batch_size, 1, 1, num_hiddens)
            scores = attention.w_v(torch.tanh(query + keys)).squeeze(
                -1
            )  # (batch_size, 1, num_src_steps)
            context, alpha = _pool(scores, enc_outputs, mask, attention._dropout_p())
            # context: (batch_size, 1, num_hiddens); alpha: (batch_size, 1, num_src_steps)
            x = torch.cat(
                [emb.unsqueeze(1), context], dim=-1
            )  # (batch_size, 1, embed_size + num_hiddens)
            out, hidden_state = self.rnn(x, hidden_state)  # out: (batch_size, 1, num_hiddens)
            outputs.append(out)
            weights.append(alpha.detach())
        attention.attention_weights = weights[-1] if weights else None
        self.attention_weights = torch.cat(weights, dim=1)  # (batch_size, num_steps, num_src_steps)
        logits = self.dense(torch.cat(outputs, dim=1))  # (batch_size, num_steps, vocab_size)
        return logits, [enc_outputs, hidden_state, enc_valid_lens]


class EncoderDecoder(nn.Module):
    """An encoder and a decoder: ``decoder(dec_X, decoder.init_state(encoder(enc_X), *args))``.

    Args:
        encoder: e.g. :class:`Seq2SeqEncoder`.
        decoder: e.g. :class:`Seq2SeqDecoder` or :class:`Seq2SeqAttentionDecoder`, with
            ``init_state(enc_all_outputs, *args)`` and ``forward(X, state)``.

    Source: D2L section 10.6 (``EncoderDecoder``).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        for name, value in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(value, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X: torch.Tensor, dec_X: torch.Tensor, *args) -> torch.Tensor:
        """Logits ``(batch_size, num_steps, vocab_size)`` for the decoder inputs ``dec_X``.

        Args:
            enc_X: ``(batch_size, num_src_steps)`` source tokens.
            dec_X: ``(batch_size, num_steps)`` decoder inputs (``<bos>`` and the target shifted
                right, for teacher forcing).
            args: passed to the encoder and ``init_state``: the source ``valid_lens``.
        """
        enc_all_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_all_outputs, *args)
        return self.decoder(dec_X, dec_state)[0]


class MaskedSoftmaxCELoss(nn.Module):
    """Cross-entropy over the valid target tokens only: padding contributes nothing.

    ``loss = sum_{b,t valid} -log p(y_{b,t}) / (number of valid tokens)``. Unlike D2L's class of
    the same name, which returns one loss per sequence, this returns the mean over valid tokens
    (``reduction="mean"``) or the per-token losses with 0 at padding (``"none"``).

    Args:
        pad: the padding index; where no ``valid_len`` is given, tokens equal to it are masked.
        reduction: ``"mean"`` or ``"none"``.

    Source: D2L section 10.7 (``MaskedSoftmaxCELoss``).
    """

    def __init__(self, pad: int = 0, reduction: str = "mean") -> None:
        super().__init__()
        if not isinstance(pad, int) or isinstance(pad, bool):
            raise TypeError(f"pad must be an int, got {type(pad).__name__}")
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
        self.pad, self.reduction = pad, reduction

    def forward(
        self, pred: torch.Tensor, label: torch.Tensor, valid_len: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The loss.

        Args:
            pred: ``(batch_size, num_steps, vocab_size)`` logits.
            label: ``(batch_size, num_steps)`` target indices.
            valid_len: None (mask ``label == pad``) or ``(batch_size,)`` valid lengths.

        Returns:
            A scalar (``"mean"``) or ``(batch_size, num_steps)`` (``"none"``).

        Raises:
            TypeError, ValueError: for tensors of the wrong kind or shape.
        """
        if not isinstance(pred, torch.Tensor) or not pred.is_floating_point():
            raise TypeError("pred must be a floating-point tensor of logits")
        label = _check_tokens("label", label)
        if pred.dim() != 3 or pred.shape[:2] != label.shape:
            raise ValueError(
                f"pred must have shape (batch_size, num_steps, vocab_size) = "
                f"{tuple(label.shape)} + (vocab_size,), got {tuple(pred.shape)}"
            )
        if valid_len is None:
            mask = label != self.pad  # (batch_size, num_steps)
        else:
            valid_len = _check_lens("valid_len", valid_len, *label.shape)
            mask = torch.arange(label.shape[1], device=label.device) < valid_len.unsqueeze(1)
        losses = nn.functional.cross_entropy(
            pred.transpose(1, 2), label, reduction="none"
        )  # (batch_size, num_steps)
        losses = losses * mask
        if self.reduction == "none":
            return losses
        return losses.sum() / mask.sum().clamp(min=1)
