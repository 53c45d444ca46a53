"""The Transformer's decoder (Part II, chapter 07): decoder blocks and the stack with its output.

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762: the decoder layer
    with masked self-attention and encoder-decoder attention (sec. 3.1, 3.2.3).
    R. Xiong et al., "On layer normalization in the Transformer architecture", ICML 2020,
    arXiv:2002.04745 (pre-norm, ``norm_first=True``).
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.7,
    arXiv:2106.11342), with sizes passed explicitly and the decoder's state replaced by
    :class:`~attention_utils.kv_cache.KVCache` objects.

Every attention here is :class:`~attention_utils.multihead.MultiHeadAttention`, so every score
goes through the library's one attention core: the self-attention with ``causal=True``, the
cross-attention with the source's ``valid_lens``. The whole encoder-decoder model is in
``transformer_model``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .checks import check_valid_lens, require_bool, require_positive_int, require_sequence
from .core import NeedWeightsMixin
from .kv_cache import KVCache
from .multihead import MultiHeadAttention
from .transformer_layers import (
    PositionalEncoding,
    PositionWiseFFN,
    SublayerConnection,
    embed_tokens,
)

__all__ = ["DecoderLayerCache", "TransformerDecoder", "TransformerDecoderBlock"]


class DecoderLayerCache(NamedTuple):
    """The two caches of one decoder block: self-attention grows, cross-attention is static."""

    self_attention: KVCache
    cross_attention: KVCache


def _check_memory(
    X: torch.Tensor, enc_outputs: object, enc_valid_lens: object, num_hiddens: int
) -> None:
    """The checks on the encoder's side that the block and the stack share."""
    require_sequence("enc_outputs", enc_outputs, num_hiddens, "num_hiddens")
    if enc_outputs.dtype != X.dtype:
        raise TypeError(
            f"enc_outputs must have the dtype of the decoder ({X.dtype}), got {enc_outputs.dtype}"
        )
    if enc_outputs.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and enc_outputs must have the same batch_size, got {X.shape[0]} and "
            f"{enc_outputs.shape[0]}"
        )
    if enc_valid_lens is not None:
        check_valid_lens(  # the range: checked in the core
            enc_valid_lens, X.shape[0], X.shape[1], enc_outputs.shape[1], check_range=False
        )


class TransformerDecoderBlock(NeedWeightsMixin, nn.Module):
    """One Transformer decoder layer: masked self-attention, cross-attention, feed-forward network.

    Post-norm (Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1)::

        Y = LN(X + MultiHead_causal(X, X, X))
        Z = LN(Y + MultiHead(Y, E, E))          # E: the encoder's outputs, padding masked
        output = LN(Z + FFN(Z))

    Pre-norm (``norm_first=True``; Xiong et al., ICML 2020, arXiv:2002.04745) moves each LN to
    the sub-layer's input: ``Y = X + MultiHead_causal(LN(X), ...)`` and so on.

    Args:
        num_hiddens: width of the representations.
        ffn_num_hiddens: hidden width of the feed-forward network.
        num_heads: heads of both attentions; must divide ``num_hiddens``.
        dropout: dropout probability (attention weights, residual branches).
        bias: biases in the attention projections (False, as in the paper;
            ``torch.nn.Transformer`` has them).
        norm_first: keyword only; pre-norm if True, post-norm if False.
        need_weights: keyword only; see :class:`~attention_utils.core.NeedWeightsMixin`.

    Attributes:
        attention1: the self-attention; attention2: the cross-attention.
        addnorm1, addnorm2, addnorm3: the :class:`SublayerConnection` around each sub-layer.
        self_attention_weights: ``(batch_size, num_heads, num_steps, num_steps)`` after a forward
            with ``need_weights``, else None.
        cross_attention_weights: ``(batch_size, num_heads, num_steps, num_src_steps)`` or None.

    Raises:
        TypeError, ValueError: as :class:`MultiHeadAttention` for bad sizes; TypeError if a flag
            is not a bool.
    """

    def __init__(
        self,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        dropout: float,
        bias: bool = False,
        *,
        norm_first: bool = False,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        n = num_hiddens
        self.norm_first = require_bool("norm_first", norm_first)
        self.attention1 = MultiHeadAttention(n, n, n, n, num_heads, dropout, bias)
        self.addnorm1 = SublayerConnection(n, dropout, norm_first=norm_first)
        self.attention2 = MultiHeadAttention(n, n, n, n, num_heads, dropout, bias)
        self.addnorm2 = SublayerConnection(n, dropout, norm_first=norm_first)
        self.ffn = PositionWiseFFN(n, ffn_num_hiddens, n)
        self.addnorm3 = SublayerConnection(n, dropout, norm_first=norm_first)
        self.need_weights = need_weights

    @property
    def self_attention_weights(self) -> torch.Tensor | None:
        """The self-attention's last weights, or None."""
        return self.attention1.attention_weights

    @property
    def cross_attention_weights(self) -> torch.Tensor | None:
        """The cross-attention's last weights, or None."""
        return self.attention2.attention_weights

    def forward(
        self,
        X: torch.Tensor,
        enc_outputs: torch.Tensor,
        enc_valid_lens: torch.Tensor | None = None,
        cache: DecoderLayerCache | None = None,
        *,
        causal: bool = True,
    ) -> torch.Tensor:
        """Attend to the earlier target positions, then to the source, then transform.

        Args:
            X: target representations ``(batch_size, num_steps, num_hiddens)``.
            enc_outputs: the encoder's outputs ``(batch_size, num_src_steps, num_hiddens)``.
            enc_valid_lens: None or ``(batch_size,)`` integers: source positions ``j >=
                enc_valid_lens[b]`` are padding and get no cross-attention.
            cache: None, or this block's :class:`DecoderLayerCache` for incremental decoding:
                ``X`` then holds only the new positions, which follow the cached ones.
            causal: keyword only; True (the decoder's rule) hides the later target positions
                from each one; False lets every position see the whole target.

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype or shape, bad ``enc_valid_lens``
                or a ``cache`` that is not a :class:`DecoderLayerCache`.
        """
        n = self.attention1.W_o.out_features
        require_sequence("X", X, n, "num_hiddens")
        _check_memory(X, enc_outputs, enc_valid_lens, n)
        require_bool("causal", causal)
        if cache is not None and not isinstance(cache, DecoderLayerCache):
            raise TypeError(
                f"cache must be None or a DecoderLayerCache, got {type(cache).__name__}"
            )
        self_cache = None if cache is None else cache.self_attention
        cross_cache = None if cache is None else cache.cross_attention

        def self_attend(Z: torch.Tensor) -> torch.Tensor:
            return self.attention1(Z, Z, Z, causal=causal, cache=self_cache)

        def cross_attend(Z: torch.Tensor) -> torch.Tensor:
            E = enc_outputs
            return self.attention2(Z, E, E, enc_valid_lens, cache=cross_cache)

        X = self.addnorm1(X, self_attend)  # (batch_size, num_steps, num_hiddens)
        X = self.addnorm2(X, cross_attend)  # (batch_size, num_steps, num_hiddens)
        return self.addnorm3(X, self.ffn)  # (batch_size, num_steps, num_hiddens)


class TransformerDecoder(NeedWeightsMixin, nn.Module):
    """Embedding, positional encoding, ``num_blks`` decoder blocks and the output layer.

    ``H_0 = PE(sqrt(d) Embedding(tokens))`` (:func:`embed_tokens`), ``H_l = Block_l(H_{l-1},
    E)``, logits ``= Dense(H_L)`` (with a final LN before ``Dense`` when ``norm_first``).
    Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1 and 3.4; D2L sec. 11.7.

    Args:
        vocab_size: number of target tokens.
        num_hiddens, ffn_num_hiddens, num_heads, dropout: as :class:`TransformerDecoderBlock`.
        num_blks: number of blocks.
        max_len: the longest target sequence (positional encoding).
        bias, norm_first, need_weights: as :class:`TransformerDecoderBlock` (the last two
            keyword only).

    Attributes:
        self_attention_weights, cross_attention_weights: one tensor (or None) per block, the
            last forward's weights ``(batch_size, num_heads, num_steps, num_keys)``.

    Raises:
        TypeError, ValueError: as the blocks, and if ``vocab_size`` or ``num_blks`` is not a
            positive int.
    """

    def __init__(
        self,
        vocab_size: int,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        num_blks: int,
        dropout: float,
        max_len: int = 1000,
        bias: bool = False,
        *,
        norm_first: bool = False,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        require_positive_int("vocab_size", vocab_size)
        require_positive_int("num_blks", num_blks)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList(
            TransformerDecoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, bias, norm_first=norm_first
            )
            for _ in range(num_blks)
        )
        self.norm = nn.LayerNorm(num_hiddens) if norm_first else None
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.need_weights = need_weights

    def init_cache(self) -> list[DecoderLayerCache]:
        """Empty caches, one :class:`DecoderLayerCache` per block, for incremental decoding."""
        return [DecoderLayerCache(KVCache(), KVCache(static=True)) for _ in self.blks]

    @property
    def self_attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last causal self-attention weights."""
        return [blk.self_attention_weights for blk in self.blks]

    @property
    def cross_attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last cross-attention weights.

        Shape ``(batch_size, num_heads, num_steps, num_src_steps)`` each.
        """
        return [blk.cross_attention_weights for blk in self.blks]

    def forward(
        self,
        X: torch.Tensor,
        enc_outputs: torch.Tensor,
        enc_valid_lens: torch.Tensor | None = None,
        caches: list[DecoderLayerCache] | None = None,
    ) -> torch.Tensor:
        """Logits for the next token at every target position.

        Args:
            X: target tokens ``(batch_size, num_steps)`` (shifted right: position t holds token
                t - 1, position 0 the beginning-of-sequence token).
            enc_outputs: ``(batch_size, num_src_steps, num_hiddens)``.
            enc_valid_lens: None or ``(batch_size,)``, as in :class:`TransformerDecoderBlock`.
            caches: None, or :meth:`init_cache`'s list: ``X`` then holds only the new tokens,
                placed after the ``caches[0].self_attention.num_steps`` tokens already seen.

        Returns:
            logits ``(batch_size, num_steps, vocab_size)``.

        Raises:
            TypeError, ValueError: for bad tokens, shapes or lengths, or caches of the wrong kind
                or number.
        """
        start = 0
        if caches is not None:
            if (
                not isinstance(caches, list)
                or len(caches) != len(self.blks)
                or not all(isinstance(c, DecoderLayerCache) for c in caches)
            ):
                raise TypeError(
                    f"caches must be None or a list of {len(self.blks)} DecoderLayerCache "
                    "(TransformerDecoder.init_cache())"
                )
            start = caches[0].self_attention.num_steps
        H = embed_tokens(self.embedding, self.pos_encoding, X, start)
        # (batch_size, num_steps, num_hiddens), positions start, start + 1, ...
        _check_memory(H, enc_outputs, enc_valid_lens, self.num_hiddens)
        for i, blk in enumerate(self.blks):
            H = blk(H, enc_outputs, enc_valid_lens, None if caches is None else caches[i])
            # (batch_size, num_steps, num_hiddens)
        if self.norm is not None:
            H = self.norm(H)
        return self.dense(H)  # (batch_size, num_steps, vocab_size)
