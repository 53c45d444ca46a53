"""The Transformer encoder (chapter 04): encoder blocks and the stack that embeds tokens.

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762, sec. 3.1:
    the encoder layer, self-attention and a feed-forward network, each with a residual connection
    and layer normalisation ("post-norm").
    R. Xiong et al., "On layer normalization in the Transformer architecture", ICML 2020,
    arXiv:2002.04745 (pre-norm, ``norm_first=True``).
    K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016,
    arXiv:1512.03385 (residual connections).
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec.
    11.7, arXiv:2106.11342), with sizes passed explicitly instead of lazy layers.

The parts around attention (positional encoding, :func:`embed_tokens`, the FFN, Add & Norm and
the :class:`SublayerConnection`) are in ``transformer_layers``; the decoder in
``transformer_decoder``. The attention inside every block is
:class:`~attention_utils.multihead.MultiHeadAttention`, so the masking rules and the
``need_weights`` switch are the attention core's.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_valid_lens, require_bool, require_positive_int, require_sequence
from .core import NeedWeightsMixin, valid_lens_to_mask
from .multihead import MultiHeadAttention
from .transformer_layers import (
    PositionalEncoding,
    PositionWiseFFN,
    SublayerConnection,
    embed_tokens,
)

__all__ = ["TransformerEncoder", "TransformerEncoderBlock"]


class TransformerEncoderBlock(NeedWeightsMixin, nn.Module):
    """One Transformer encoder layer: self-attention and a feed-forward network, each + Add & Norm.

    ``Y = LayerNorm(X + MultiHead(X, X, X))`` then ``output = LayerNorm(Y + FFN(Y))`` (post-norm,
    as in Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1; D2L sec. 11.7).

    Args:
        num_hiddens: width of the representations at every position.
        ffn_num_hiddens: width of the hidden layer of the feed-forward network.
        num_heads: number of attention heads; must divide ``num_hiddens``.
        dropout: dropout probability (attention weights, residual branches).
        bias: whether the attention projections have biases (False, as in the paper).
        norm_first: keyword only. False (default) is post-norm as above; True is pre-norm,
            ``Y = X + MultiHead(LN(X))`` and ``output = Y + FFN(LN(Y))`` (Xiong et al., ICML 2020,
            arXiv:2002.04745), chapter 07.
        need_weights: keyword only; see :class:`~attention_utils.core.NeedWeightsMixin`.

    Attributes:
        attention: the :class:`MultiHeadAttention`.
        addnorm1, addnorm2: the :class:`SublayerConnection` around the attention and the FFN.
        attention_weights: the last forward's weights ``(batch_size, num_heads, num_steps,
            num_steps)``, or None (fused path).

    Raises:
        TypeError, ValueError: as :class:`MultiHeadAttention` for bad sizes.
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
        self.attention = MultiHeadAttention(n, n, n, n, num_heads, dropout, bias)
        self.addnorm1 = SublayerConnection(n, dropout, norm_first=norm_first)
        self.ffn = PositionWiseFFN(n, ffn_num_hiddens, n)
        self.addnorm2 = SublayerConnection(n, dropout, norm_first=norm_first)
        self.need_weights = need_weights

    @property
    def attention_weights(self) -> torch.Tensor | None:
        """The self-attention's last weights, or None."""
        return self.attention.attention_weights

    def forward(
        self,
        X: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
        causal: bool = False,
        *,
        attn_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Let every position attend to the sequence, then transform each position.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)``.
            valid_lens: None or an integer tensor ``(batch_size,)``: padding mask, position j is a
                key only if ``j < valid_lens[b]``; or ``(batch_size, num_steps)``, one length per
                query.
            causal: if True, position i also sees no position after i (combined with
                ``valid_lens``: both must let a key through).
            attn_mask: keyword only; None or a mask for
                :meth:`MultiHeadAttention.forward` (the encoder passes its padding mask so,
                built once for all blocks).

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError, ValueError: for ``X`` of the wrong dtype or shape or bad ``valid_lens``.
        """
        require_sequence("X", X, self.attention.W_o.out_features, "num_hiddens")
        require_bool("causal", causal)
        if valid_lens is not None:
            check_valid_lens(valid_lens, X.shape[0], X.shape[1], X.shape[1], check_range=False)

        def attend(Z: torch.Tensor) -> torch.Tensor:
            return self.attention(Z, Z, Z, valid_lens, causal=causal, attn_mask=attn_mask)

        Y = self.addnorm1(X, attend)  # (batch_size, num_steps, num_hiddens)
        return self.addnorm2(Y, self.ffn)  # (batch_size, num_steps, num_hiddens)


class TransformerEncoder(NeedWeightsMixin, nn.Module):
    """Token embedding, positional encoding and ``num_blks`` :class:`TransformerEncoderBlock` s.

    ``H_0 = PositionalEncoding(sqrt(d) Embedding(tokens))`` (:func:`embed_tokens`),
    ``H_l = Block_l(H_{l-1})``; the embeddings are scaled by ``sqrt(num_hiddens)`` as in Vaswani
    et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.4, and D2L sec. 11.7.

    Args:
        vocab_size: number of distinct tokens.
        num_hiddens: width of the representations.
        ffn_num_hiddens: hidden width of each feed-forward network.
        num_heads: heads per block.
        num_blks: number of blocks.
        dropout: dropout probability.
        max_len: the longest sequence the positional encoding covers.
        bias: biases in the attention projections.
        norm_first: keyword only; pre-norm blocks (see :class:`TransformerEncoderBlock`) and a
            final LayerNorm ``norm`` after the last block, as pre-norm needs (chapter 07).
        need_weights: keyword only; setting it sets every block's.

    Attributes:
        norm: the final ``nn.LayerNorm`` when ``norm_first``, else None.
        attention_weights: after a forward, one tensor per block of shape
            ``(batch_size, num_heads, num_steps, num_steps)``, or None for each block when
            ``need_weights`` is False.

    Raises:
        TypeError, ValueError: as the blocks, and for a ``vocab_size`` or ``num_blks`` that is
            not a positive int.
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
            TransformerEncoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, bias, norm_first=norm_first
            )
            for _ in range(num_blks)
        )
        self.norm = nn.LayerNorm(num_hiddens) if norm_first else None
        self.need_weights = need_weights

    @property
    def attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last weights, ``(batch_size, num_heads, num_steps, num_steps)`` or None."""
        return [blk.attention_weights for blk in self.blks]

    def forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """Encode token sequences.

        Args:
            X: integer tokens ``(batch_size, num_steps)``, each in ``[0, vocab_size)``.
            valid_lens, causal: as in :meth:`TransformerEncoderBlock.forward`.

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError: if ``X`` is not an integer tensor.
            ValueError: if ``X`` is not 2-D, a token is out of range, or ``valid_lens`` is bad.
        """
        H = embed_tokens(self.embedding, self.pos_encoding, X)
        # (batch_size, num_steps, num_hiddens)
        mask = None  # the padding mask, checked and built once for every block
        if valid_lens is not None and X.shape[1]:
            mask = valid_lens_to_mask(valid_lens, X.shape[1], X.shape[1])[:, None].to(H.device)
            # (batch_size, 1, num_steps, num_steps): the same for every head
        for blk in self.blks:
            H = blk(H, None, causal, attn_mask=mask)  # (batch_size, num_steps, num_hiddens)
        return H if self.norm is None else self.norm(H)
