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

from .checks import (
    check_tokens,
    check_valid_lens,
    require_positive_int,
    require_probability,
    require_tensor,
)
from .core import NeedWeightsMixin, attention_pool
from .scoring import AdditiveAttention

__all__ = [
    "Seq2SeqAttentionDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
]


def check_lengths(name: str, valid_lens: object, batch_size: int, num_steps: int) -> torch.Tensor:
    """``valid_lens`` checked by the library's one rule (shape ``(batch_size,)``, ``0..num_steps``).

    :func:`~attention_utils.checks.check_valid_lens` with the message naming the caller's argument
    ``name`` (``src_valid_lens``, ``enc_valid_lens``); used here and in :mod:`.encoder_decoder`.
    """
    try:
        check_valid_lens(valid_lens, batch_size, 1, num_steps)
        if valid_lens.dim() != 1:
            raise ValueError(
                f"valid_lens must have shape (batch_size,) = ({batch_size},), "
                f"got {tuple(valid_lens.shape)}"
            )
    except (TypeError, ValueError) as error:
        message = str(error).replace("valid_lens", name, 1).replace("num_keys", "num_steps")
        raise type(error)(message) from None
    return valid_lens


def _sizes(module: nn.Module) -> tuple[int, int]:
    return module.rnn.num_layers, module.rnn.hidden_size


def _check_hidden_state(hidden_state: object, module: nn.Module, batch_size: int) -> None:
    num_layers, num_hiddens = _sizes(module)
    require_tensor("state's hidden_state", hidden_state)
    if tuple(hidden_state.shape) != (num_layers, batch_size, num_hiddens):
        raise ValueError(
            "state's hidden_state must have shape (num_layers, batch_size, num_hiddens) = "
            f"({num_layers}, {batch_size}, {num_hiddens}), got {tuple(hidden_state.shape)}; "
            "make the state with init_state from the encoder of this batch and this model"
        )


def _check_state(state: object, names: tuple[str, ...]) -> None:
    if not isinstance(state, (list, tuple)):
        raise TypeError(
            f"state must be the list [{', '.join(names)}] from init_state, "
            f"got {type(state).__name__}"
        )
    if len(state) != len(names):
        raise ValueError(
            f"state must be the list [{', '.join(names)}] from init_state, got {len(state)} items"
        )


def _check_enc_all_outputs(enc_all_outputs: object) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(enc_all_outputs, (list, tuple)) or len(enc_all_outputs) != 2:
        raise TypeError(
            "enc_all_outputs must be the encoder's pair (enc_outputs, hidden_state), got "
            f"{type(enc_all_outputs).__name__}"
        )
    enc_outputs, hidden_state = enc_all_outputs
    require_tensor("enc_outputs", enc_outputs)
    if enc_outputs.dim() != 3:
        raise ValueError(
            "enc_outputs must have shape (batch_size, num_src_steps, num_hiddens), got "
            f"{tuple(enc_outputs.shape)}"
        )
    return enc_outputs, hidden_state


def _gru(input_size: int, num_hiddens: int, num_layers: int, dropout: float) -> nn.GRU:
    # nn.GRU applies dropout between layers only, and warns when there is one layer
    return nn.GRU(
        input_size, num_hiddens, num_layers, dropout=dropout if num_layers > 1 else 0.0,
        batch_first=True,
    )  # fmt: skip


def _check_sizes(vocab_size, embed_size, num_hiddens, num_layers, dropout) -> float:
    for name, value in (
        ("vocab_size", vocab_size), ("embed_size", embed_size),
        ("num_hiddens", num_hiddens), ("num_layers", num_layers),
    ):  # fmt: skip
        require_positive_int(name, value)
    return require_probability("dropout", dropout)


class Seq2SeqEncoder(nn.Module):
    """The RNN encoder: embed the source tokens and run a GRU over them.

    ``h_i = GRU(embed(x_i), h_{i-1})``. Padded positions are skipped (packed sequences), so the
    final state is the state after the last valid token and the outputs at padded positions are
    exactly 0: changing padded tokens changes nothing. A sentence of length 0 (and a batch with
    ``num_steps = 0``) gets zero outputs and the initial state, zeros; an empty batch gives empty
    outputs.

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
        dropout = _check_sizes(vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size, num_hiddens, num_layers, dropout)

    def forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch of sources.

        Args:
            X: ``(batch_size, num_steps)`` source token ids in ``[0, vocab_size)``.
            valid_lens: None (no padding) or ``(batch_size,)`` lengths in ``0..num_steps``.

        Returns:
            ``(outputs, state)``: the top layer's states ``(batch_size, num_steps, num_hiddens)``
            (0 at padded positions) and every layer's final state
            ``(num_layers, batch_size, num_hiddens)``.

        Raises:
            TypeError, ValueError: for ``X`` that is not a 2-D integer tensor of ids in the
                vocabulary, or bad ``valid_lens``.
        """
        return self._encode(X, valid_lens, "X", "valid_lens")

    def _encode(self, X, valid_lens, x_name: str, lens_name: str):
        X = check_tokens(x_name, X, self.embedding.num_embeddings).long()
        batch_size, num_steps = X.shape
        if valid_lens is not None:
            valid_lens = check_lengths(lens_name, valid_lens, batch_size, num_steps).long()
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        num_layers, num_hiddens = _sizes(self)
        if num_steps == 0 or batch_size == 0:  # nn.GRU rejects empty sequences: no step is run
            return embs.new_zeros(batch_size, num_steps, num_hiddens), embs.new_zeros(
                num_layers, batch_size, num_hiddens
            )
        if valid_lens is None:
            return self.rnn(embs)
        packed = nn.utils.rnn.pack_padded_sequence(
            embs, valid_lens.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, state = self.rnn(packed)  # state: (num_layers, batch_size, num_hiddens)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(
            outputs, batch_first=True, total_length=num_steps
        )  # (batch_size, num_steps, num_hiddens)
        empty = valid_lens == 0  # (batch_size,): sentences of length 0 ran one step above
        if bool(empty.any()):
            outputs = outputs.masked_fill(empty.view(-1, 1, 1), 0.0)
            state = state.masked_fill(empty.view(1, -1, 1), 0.0)
        return outputs, state


class Seq2SeqDecoder(nn.Module):
    """The decoder without attention: one fixed context, the encoder's final top-layer state.

    ``s_t = GRU([embed(y_{t-1}); c], s_{t-1})`` with ``c = h_T`` for every step and ``s_0`` the
    encoder's final state, then ``logits_t = W s_t``. The whole source must fit into ``c``.

    Args:
        vocab_size: target vocabulary size.
        embed_size, num_hiddens, num_layers, dropout: as in :class:`Seq2SeqEncoder` (the encoder
            must have the same ``num_hiddens`` and ``num_layers``).

    Attributes:
        attention_weights: always None (no attention), so code written for both decoders runs.

    Source: Cho et al., EMNLP 2014, arXiv:1406.1078; D2L section 10.7 (``Seq2SeqDecoder``).
    """

    attention_weights = None

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hiddens: int,
        num_layers: int,
        dropout: float = 0,
    ) -> None:
        super().__init__()
        dropout = _check_sizes(vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(
        self, enc_all_outputs: tuple[torch.Tensor, torch.Tensor], enc_valid_lens=None
    ) -> list:
        """``[context, hidden_state]``: ``(batch_size, num_hiddens)``, the encoder's final state.

        Raises:
            TypeError, ValueError: if ``enc_all_outputs`` is not the encoder's pair, or its state
                does not have this decoder's ``(num_layers, batch_size, num_hiddens)``.
        """
        enc_outputs, hidden_state = _check_enc_all_outputs(enc_all_outputs)
        _check_hidden_state(hidden_state, self, enc_outputs.shape[0])
        return [hidden_state[-1], hidden_state]

    def reorder_state(self, state: list, index: torch.Tensor) -> list:
        """Keep the batch rows ``index`` of ``state`` (beam search)."""
        _check_state(state, ("context", "hidden_state"))
        context, hidden_state = state
        return [context[index], hidden_state[:, index]]

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """Decode ``num_steps`` tokens given the previous ones (teacher forcing) or one at a time.

        Args:
            X: ``(batch_size, num_steps)`` previous target tokens (``<bos>`` first), ids in
                ``[0, vocab_size)``; ``num_steps = 0`` gives empty logits and the same state.
            state: from :meth:`init_state` or the last call.

        Returns:
            ``(logits, state)``: ``(batch_size, num_steps, vocab_size)`` and the new state.

        Raises:
            TypeError, ValueError: for bad token ids, or a state that is not this decoder's
                ``[context, hidden_state]`` for a batch of ``batch_size``.
        """
        X = check_tokens("X", X, self.embedding.num_embeddings).long()
        _check_state(state, ("context", "hidden_state"))
        context, hidden_state = state
        _check_hidden_state(hidden_state, self, X.shape[0])
        require_tensor("state's context", context)
        if tuple(context.shape) != tuple(hidden_state.shape[1:]):
            raise ValueError(
                "state's context must have shape (batch_size, num_hiddens) = "
                f"{tuple(hidden_state.shape[1:])}, got {tuple(context.shape)}"
            )
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        if X.shape[1] == 0:
            return self.dense(embs.new_zeros(*X.shape, context.shape[-1])), [context, hidden_state]
        context = context.unsqueeze(1).expand(
            -1, X.shape[1], -1
        )  # (batch_size, num_steps, num_hiddens)
        outputs, hidden_state = self.rnn(torch.cat([embs, context], dim=-1), hidden_state)
        return self.dense(outputs), [state[0], hidden_state]  # (batch_size, num_steps, vocab_size)


class Seq2SeqAttentionDecoder(NeedWeightsMixin, nn.Module):
    """The decoder with Bahdanau attention over the encoder's states.

    At step ``t`` the query is the previous top-layer state ``s_{t-1}``, the keys and values are
    the encoder's outputs ``h_1..h_T``; the additive score
    ``e_{t,i} = w_v^T tanh(W_q s_{t-1} + W_k h_i)`` pooled by the core's :func:`attention_pool`
    gives ``alpha_{t,i}`` and the context ``c_t = sum_i alpha_{t,i} h_i``, then
    ``s_t = GRU([embed(y_{t-1}); c_t], s_{t-1})`` and ``logits_t = W s_t``. Padded source
    positions get weight exactly 0; a source of length 0 gives zero weights and a zero context.

    This is D2L's simplification of Bahdanau et al.'s decoder: their encoder is bidirectional,
    their ``s_0 = tanh(W_s h<-_1)`` comes from the backward encoder, and their output layer is a
    maxout over ``y_{t-1}``, ``c_t`` and ``s_t``; here the encoder runs left to right, ``s_0`` is
    its final state and the logits are a linear map of ``s_t``.

    Args:
        vocab_size, embed_size, num_hiddens, num_layers, dropout: as in :class:`Seq2SeqDecoder`;
            the attention's hidden layer has ``num_hiddens`` units and ``dropout`` on its weights.
        need_weights: keep the weights of the last forward in ``attention_weights`` (True) or
            not (False, the library's default: ``attention_weights`` is None); the library's one
            switch (:class:`~attention_utils.core.NeedWeightsMixin`), also an attribute.

    Attributes:
        attention: the :class:`~attention_utils.scoring.AdditiveAttention` layer that holds
            ``W_q``, ``W_k``, ``w_v`` and the dropout; the decoder computes the scores with them
            (``W_k h_i`` once per source, as in Bahdanau et al.'s appendix A.1.2).
        attention_weights: the weights of the last forward, detached,
            ``(batch_size, num_steps, num_src_steps)``; None before the first call or with
            ``need_weights`` False.

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
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        dropout = _check_sizes(vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.attention_weights: torch.Tensor | None = None
        self.need_weights = need_weights

    def init_state(
        self, enc_all_outputs: tuple[torch.Tensor, torch.Tensor], enc_valid_lens=None
    ) -> list:
        """``[enc_outputs, hidden_state, enc_valid_lens]`` for :meth:`forward`.

        Raises:
            TypeError, ValueError: if ``enc_all_outputs`` is not the encoder's pair with this
                decoder's sizes, or ``enc_valid_lens`` is not None or integer lengths
                ``(batch_size,)`` in ``0..num_src_steps`` (the encoder's rule).
        """
        enc_outputs, hidden_state = _check_enc_all_outputs(enc_all_outputs)
        self._check_enc_outputs(enc_outputs)
        _check_hidden_state(hidden_state, self, enc_outputs.shape[0])
        if enc_valid_lens is not None:
            check_lengths("enc_valid_lens", enc_valid_lens, *enc_outputs.shape[:2])
        return [enc_outputs, hidden_state, enc_valid_lens]

    def _check_enc_outputs(self, enc_outputs: torch.Tensor) -> None:
        num_hiddens = self.rnn.hidden_size
        if enc_outputs.dim() != 3 or enc_outputs.shape[-1] != num_hiddens:
            raise ValueError(
                "enc_outputs must have shape (batch_size, num_src_steps, num_hiddens) with the "
                f"decoder's num_hiddens = {num_hiddens}, got {tuple(enc_outputs.shape)}"
            )

    def reorder_state(self, state: list, index: torch.Tensor) -> list:
        """Keep the batch rows ``index`` of ``state`` (beam search)."""
        _check_state(state, ("enc_outputs", "hidden_state", "enc_valid_lens"))
        outputs, hidden_state, valid_lens = state
        valid_lens = None if valid_lens is None else valid_lens[index]
        return [outputs[index], hidden_state[:, index], valid_lens]

    def forward(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """Decode step by step; see :class:`Seq2SeqDecoder.forward` for the shapes.

        Also sets ``attention_weights`` to ``(batch_size, num_steps, num_src_steps)`` when
        ``need_weights`` is True.

        Raises:
            TypeError, ValueError: for bad token ids, or a state that is not this decoder's
                ``[enc_outputs, hidden_state, enc_valid_lens]`` for a batch of ``batch_size``.
        """
        X = check_tokens("X", X, self.embedding.num_embeddings).long()
        _check_state(state, ("enc_outputs", "hidden_state", "enc_valid_lens"))
        enc_outputs, hidden_state, enc_valid_lens = state
        require_tensor("enc_outputs", enc_outputs)
        self._check_enc_outputs(enc_outputs)
        batch_size, num_src_steps = enc_outputs.shape[:2]
        if X.shape[0] != batch_size:
            raise ValueError(
                f"X has batch_size {X.shape[0]} but the state's enc_outputs {batch_size}; make "
                "the state with init_state from the encoder of this batch"
            )
        _check_hidden_state(hidden_state, self, batch_size)
        mask = None  # (batch_size, 1, num_src_steps): True where a source position is real
        if enc_valid_lens is not None:
            check_valid_lens(enc_valid_lens, batch_size, 1, num_src_steps, check_range=False)
            if bool((enc_valid_lens < num_src_steps).any()):  # no padding: no mask, same result
                positions = torch.arange(num_src_steps, device=enc_outputs.device)
                mask = positions < enc_valid_lens.reshape(batch_size, 1, 1)
        embs = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        attention = self.attention
        dropout_p = attention.dropout.p if self.training else 0.0
        # W_k h_i does not depend on the step (Bahdanau et al.'s appendix A.1.2): computed once
        keys = attention.W_k(enc_outputs).unsqueeze(1)
        # keys: (batch_size, 1, num_src_steps, num_hiddens)
        outputs, weights = [], []
        for emb in embs.unbind(1):  # emb: (batch_size, embed_size)
            query = attention.W_q(hidden_state[-1])[:, None, None, :]
            # query: (batch_size, 1, 1, num_hiddens)
            scores = attention.w_v(torch.tanh(query + keys)).squeeze(-1)
            # scores: (batch_size, 1, num_src_steps)
            context, alpha = attention_pool(scores, enc_outputs, mask, dropout_p)
            # context: (batch_size, 1, num_hiddens); alpha: (batch_size, 1, num_src_steps)
            x = torch.cat([emb, context.squeeze(1)], dim=-1)
            # x: (batch_size, embed_size + num_hiddens)
            hidden_state = self._gru_step(x, hidden_state)  # (num_layers, batch_size, num_hiddens)
            outputs.append(hidden_state[-1])
            if self.need_weights:
                weights.append(alpha.detach())
        if not outputs:  # no step: empty logits and weights, the state unchanged
            outputs = embs.new_zeros(batch_size, 0, self.rnn.hidden_size)
            weights = [embs.new_zeros(batch_size, 0, num_src_steps)]
        else:
            outputs = torch.stack(outputs, dim=1)  # (batch_size, num_steps, num_hiddens)
        self.attention_weights = torch.cat(weights, dim=1) if self.need_weights else None
        # attention_weights: (batch_size, num_steps, num_src_steps)
        logits = self.dense(outputs)  # (batch_size, num_steps, vocab_size)
        return logits, [enc_outputs, hidden_state, enc_valid_lens]

    def _gru_step(self, x: torch.Tensor, hidden_state: torch.Tensor) -> torch.Tensor:
        """One step of ``self.rnn``, layer by layer with ``torch.gru_cell``: the same arithmetic
        as the ``nn.GRU`` on a sequence of length 1, without its per-call overhead."""
        rnn, new_state = self.rnn, []
        for layer in range(rnn.num_layers):
            if layer > 0:  # nn.GRU's dropout between layers, in training only
                x = nn.functional.dropout(x, rnn.dropout, self.training)
            weights = [getattr(rnn, f"{name}_l{layer}") for name in
                       ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            x = torch.gru_cell(x, hidden_state[layer], *weights)  # (batch_size, num_hiddens)
            new_state.append(x)
        return torch.stack(new_state)  # (num_layers, batch_size, num_hiddens)
