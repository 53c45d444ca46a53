"""The encoder-decoder Transformer (Part II, chapter 07) and its decoding interface.

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (sec. 3).
    The split into ``encode`` and ``decode`` is the Annotated Transformer's (Rush, 2018;
    Huang et al., 2022); the incremental decoder keeps one
    :class:`~attention_utils.kv_cache.KVCache` per attention (Pope et al., MLSys 2023,
    arXiv:2211.05102).

The decoding interface, which chapter 06's attention RNN follows too, so that
:func:`~attention_utils.decoding.greedy_decode` and :func:`~attention_utils.decoding.beam_search`
decode both models unchanged:

- ``state = net.encode(src, src_valid_lens)``;
- ``logits, state = net.decode(X, state)``: ``X`` ``(batch_size, num_steps)`` target tokens (one
  step during decoding), logits ``(batch_size, num_steps, vocab_size)``;
- ``net.reorder_state(state, index)``: keep, repeat or reorder batch rows (beam search);
- ``net.cross_attention_weights``: after a ``decode`` with ``need_weights``, the weights over the
  source of that call, ``(batch_size, num_steps, num_src_steps)``, else None.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .checks import check_tokens, check_valid_lens, require_bool
from .core import NeedWeightsMixin
from .kv_cache import KVCache
from .transformer import TransformerEncoder
from .transformer_decoder import DecoderLayerCache, TransformerDecoder

__all__ = ["Transformer", "TransformerState"]


@dataclasses.dataclass
class TransformerState:
    """What :meth:`Transformer.decode` needs from one call to the next.

    Attributes:
        enc_outputs: the encoder's outputs ``(batch_size, num_src_steps, num_hiddens)``.
        enc_valid_lens: None or ``(batch_size,)``, the source lengths.
        caches: one :class:`~attention_utils.transformer_decoder.DecoderLayerCache` per decoder
            block (incremental decoding), or None (every call runs the decoder over the whole
            prefix again).
        prefix: the target tokens fed so far ``(batch_size, offset)``, kept only without caches.
        offset: how many target tokens were fed so far (the next one's position).
    """

    enc_outputs: torch.Tensor
    enc_valid_lens: torch.Tensor | None
    caches: list[DecoderLayerCache] | None
    prefix: torch.Tensor | None
    offset: int = 0


class Transformer(NeedWeightsMixin, nn.Module):
    """The encoder-decoder Transformer of Vaswani et al., NeurIPS 2017, arXiv:1706.03762.

    ``logits = Decoder(tgt, Encoder(src, src_valid_lens), src_valid_lens)``: the encoder is
    chapter 04's :class:`~attention_utils.transformer.TransformerEncoder`, the decoder
    :class:`~attention_utils.transformer_decoder.TransformerDecoder`.

    Args:
        src_vocab_size, tgt_vocab_size: sizes of the two vocabularies.
        num_hiddens: model width ``d_model``.
        ffn_num_hiddens: hidden width of every feed-forward network.
        num_heads: heads of every attention.
        num_blks: blocks in the encoder and in the decoder.
        dropout: dropout probability.
        max_len: the longest source or target sequence.
        bias: biases in the attention projections ``W_q, W_k, W_v, W_o``. The paper's
            ``W^Q, W^K, W^V, W^O`` have none (the default); ``torch.nn.Transformer`` has them.
        norm_first: keyword only; pre-norm (True; Xiong et al., ICML 2020, arXiv:2002.04745)
            or post-norm.
        tie_weights: keyword only; True makes the target embedding and the output projection
            (the pre-softmax linear layer) one matrix ``E`` of shape ``(tgt_vocab_size,
            num_hiddens)``: the decoder embeds with ``sqrt(num_hiddens) E[y]`` and its logits are
            ``H E^T + b`` (Vaswani et al. sec. 3.4, after Press and Wolf, EACL 2017,
            arXiv:1608.05859). The paper shares one matrix among all three because its
            source and target share one subword vocabulary; with two vocabularies only the
            target side can be tied, as in the Annotated Transformer, and the source embedding
            stays its own. False (default): separate matrices.
        need_weights: keyword only; see :class:`~attention_utils.core.NeedWeightsMixin`.

    Both token embeddings start from ``N(0, 1 / num_hiddens)`` (``nn.Embedding``'s default is
    ``N(0, 1)``), so that ``sqrt(num_hiddens) * embedding`` has entries of size about 1, like the
    positional encoding it is added to; with the default the words would drown the positions.

    Attributes:
        encoder, decoder: the two halves.
        use_cache: True (default): :meth:`encode` starts incremental decoding with KV caches;
            set it to False to make every decoding (``greedy_decode``, ``beam_search``)
            recompute the whole prefix at each step instead.
        cross_attention_weights: after a ``forward`` or ``decode`` with ``need_weights``, the
            last decoder block's cross-attention averaged over heads, ``(batch_size, num_steps,
            num_src_steps)``; None otherwise.

    Raises:
        TypeError, ValueError: for sizes that are not positive ints, a ``dropout`` outside
            [0, 1), or ``num_hiddens`` not divisible by ``num_heads``; TypeError if
            ``norm_first`` or ``tie_weights`` is not a bool.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        num_blks: int,
        dropout: float,
        max_len: int = 1000,
        bias: bool = False,
        *,
        norm_first: bool = False,
        tie_weights: bool = False,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.norm_first = require_bool("norm_first", norm_first)
        self.tie_weights = require_bool("tie_weights", tie_weights)
        args = (num_hiddens, ffn_num_hiddens, num_heads, num_blks, dropout, max_len, bias)
        self.encoder = TransformerEncoder(src_vocab_size, *args, norm_first=norm_first)
        self.decoder = TransformerDecoder(tgt_vocab_size, *args, norm_first=norm_first)
        for embedding in (self.encoder.embedding, self.decoder.embedding):
            nn.init.normal_(embedding.weight, std=num_hiddens**-0.5)
        if tie_weights:  # one Parameter, (tgt_vocab_size, num_hiddens), in two places
            self.decoder.dense.weight = self.decoder.embedding.weight
        self.need_weights = need_weights
        self.use_cache = True
        self.cross_attention_weights: torch.Tensor | None = None

    @property
    def src_vocab_size(self) -> int:
        """The number of source tokens."""
        return self.encoder.embedding.num_embeddings

    @property
    def tgt_vocab_size(self) -> int:
        """The number of target tokens (decoding checks ``bos`` and ``eos`` against it)."""
        return self.decoder.embedding.num_embeddings

    def _keep_cross_weights(self, num_steps: int) -> None:
        weights = self.decoder.cross_attention_weights[-1]
        # (batch_size, num_heads, num_steps, num_src_steps) or None
        self.cross_attention_weights = (
            None if weights is None else weights[:, :, weights.shape[2] - num_steps :].mean(1)
        )  # (batch_size, num_steps, num_src_steps)

    def _check_source(self, src: object, src_valid_lens: object) -> None:
        check_tokens("src", src, self.encoder.embedding.num_embeddings)
        if src_valid_lens is not None:
            check_valid_lens(src_valid_lens, src.shape[0], src.shape[1], src.shape[1])
            if src_valid_lens.dim() != 1:
                raise ValueError(
                    "src_valid_lens must have shape (batch_size,), "
                    f"got {tuple(src_valid_lens.shape)}"
                )

    def forward(
        self, src: torch.Tensor, tgt: torch.Tensor, src_valid_lens: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits for every target position (teacher forcing).

        Args:
            src: source tokens ``(batch_size, num_src_steps)``.
            tgt: decoder inputs ``(batch_size, num_tgt_steps)``: beginning-of-sequence, then the
                target shifted right.
            src_valid_lens: None or ``(batch_size,)``: source positions at or after it are padding,
                ignored by the encoder's self-attention and the decoder's cross-attention.

        Returns:
            ``(batch_size, num_tgt_steps, tgt_vocab_size)``.

        Raises:
            TypeError: if tokens or lengths are not integer tensors.
            ValueError: for tokens out of range (the message names ``src`` or ``tgt``),
                mismatched batch sizes or bad lengths.
        """
        self._check_source(src, src_valid_lens)
        check_tokens("tgt", tgt, self.decoder.embedding.num_embeddings)
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(
                f"src and tgt must have the same batch_size, got {src.shape[0]} and {tgt.shape[0]}"
            )
        enc_outputs = self.encoder(src, src_valid_lens)  # (batch_size, num_src_steps, num_hiddens)
        logits = self.decoder(tgt, enc_outputs, src_valid_lens)
        # (batch_size, num_tgt_steps, tgt_vocab_size)
        self._keep_cross_weights(tgt.shape[1])
        return logits

    def encode(
        self,
        src: torch.Tensor,
        src_valid_lens: torch.Tensor | None = None,
        *,
        use_cache: bool | None = None,
    ) -> TransformerState:
        """Encode the source once; the state that :meth:`decode` starts from.

        Args:
            src: source tokens ``(batch_size, num_src_steps)``.
            src_valid_lens: None or ``(batch_size,)``.
            use_cache: keyword only; True keeps a KV cache per attention, so each ``decode``
                call feeds the decoder only the new tokens (cost per step linear in the length
                so far); False runs the decoder over the whole prefix at every call (quadratic).
                Both give the same logits, to rounding. None (default) takes the attribute
                ``use_cache``.

        Returns:
            a :class:`TransformerState` with no target token yet.

        Raises:
            TypeError, ValueError: as :meth:`forward` for ``src`` and ``src_valid_lens``;
                TypeError if ``use_cache`` is not a bool.
        """
        self._check_source(src, src_valid_lens)
        use_cache = require_bool("use_cache", self.use_cache if use_cache is None else use_cache)
        enc_outputs = self.encoder(src, src_valid_lens)  # (batch_size, num_src_steps, num_hiddens)
        caches = self.decoder.init_cache() if use_cache else None
        prefix = None if use_cache else src.new_zeros((src.shape[0], 0))  # (batch_size, 0)
        return TransformerState(enc_outputs, src_valid_lens, caches, prefix, 0)

    def decode(
        self, X: torch.Tensor, state: TransformerState
    ) -> tuple[torch.Tensor, TransformerState]:
        """Logits for the tokens ``X`` that follow the ones already fed through ``state``.

        Args:
            X: target tokens ``(batch_size, num_steps)`` (during decoding one step: the last
                token chosen, or beginning-of-sequence first).
            state: from :meth:`encode` or an earlier ``decode``; its caches grow in place.

        Returns:
            ``(logits, state)``: ``(batch_size, num_steps, tgt_vocab_size)`` and the state for
            the next call. ``cross_attention_weights`` holds this call's weights over the
            source when ``need_weights`` is True.

        Raises:
            TypeError: if ``X`` is not an integer tensor or ``state`` not a
                :class:`TransformerState`.
            ValueError: for tokens outside the target vocabulary (the message names ``X``), a
                batch size other than the state's, or a target longer than ``max_len``.
        """
        if not isinstance(state, TransformerState):
            raise TypeError(f"state must be a TransformerState, got {type(state).__name__}")
        check_tokens("X", X, self.decoder.embedding.num_embeddings)
        batch_size = state.enc_outputs.shape[0]
        if X.shape[0] != batch_size:
            raise ValueError(
                f"X must have the state's batch_size {batch_size}, got shape {tuple(X.shape)}"
            )
        num_steps = X.shape[1]
        if state.caches is not None:
            logits = self.decoder(X, state.enc_outputs, state.enc_valid_lens, state.caches)
            prefix = None
        else:
            prefix = torch.cat([state.prefix, X.to(state.prefix.device)], dim=1)
            # (batch_size, offset + num_steps)
            logits = self.decoder(prefix, state.enc_outputs, state.enc_valid_lens)
            logits = logits[:, logits.shape[1] - num_steps :]  # (batch_size, num_steps, vocab)
        self._keep_cross_weights(num_steps)
        new_state = dataclasses.replace(state, prefix=prefix, offset=state.offset + num_steps)
        return logits, new_state

    @staticmethod
    def reorder_state(state: TransformerState, index: torch.Tensor) -> TransformerState:
        """The state of the batch rows ``index`` (kept, repeated or reordered: beam search).

        Args:
            state: a :class:`TransformerState`.
            index: integer tensor ``(new_batch_size,)`` of rows of ``state``.

        Returns:
            a new :class:`TransformerState` whose row ``i`` is row ``index[i]`` of ``state``,
            caches included (copied: decoding from it leaves ``state`` unchanged).

        Raises:
            TypeError: if ``state`` is not a :class:`TransformerState` or ``index`` not an
                integer tensor.
            ValueError: if ``index`` is not 1-D or names a row outside the batch.
        """
        if not isinstance(state, TransformerState):
            raise TypeError(f"state must be a TransformerState, got {type(state).__name__}")
        if not isinstance(index, torch.Tensor) or index.is_floating_point() or (
            index.dtype == torch.bool
        ):
            raise TypeError("index must be an integer tensor of batch rows")
        batch_size = state.enc_outputs.shape[0]
        if index.dim() != 1:
            raise ValueError(f"index must have shape (new_batch_size,), got {tuple(index.shape)}")
        if index.numel() and bool(((index < 0) | (index >= batch_size)).any()):
            raise ValueError(f"index must name rows in [0, batch_size) = [0, {batch_size})")
        index = index.to(state.enc_outputs.device)

        def pick(cache: KVCache) -> KVCache:
            new = KVCache(static=cache.static)
            if cache.is_filled:
                new.append(cache.keys[index], cache.values[index])
            return new

        caches = None
        if state.caches is not None:
            caches = [
                DecoderLayerCache(pick(c.self_attention), pick(c.cross_attention))
                for c in state.caches
            ]
        return TransformerState(
            state.enc_outputs[index],
            None if state.enc_valid_lens is None else state.enc_valid_lens[index],
            caches,
            None if state.prefix is None else state.prefix[index],
            state.offset,
        )

    def as_torch(self) -> nn.Module:
        """The same model built on ``torch.nn.Transformer``, with copies of this one's weights.

        Returns:
            a :class:`~attention_utils.transformer_torch.TorchTransformer` in this model's
            training mode, dtype and device; with the same inputs its ``forward`` returns the
            same logits (to rounding).
        """
        from .transformer_torch import TorchTransformer  # it imports this module

        return TorchTransformer(self)
