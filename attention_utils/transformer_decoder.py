"""The Transformer's decoder and the whole encoder-decoder model (Part II, chapter 07).

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762: the decoder layer
    with masked self-attention and encoder-decoder attention (sec. 3.1, 3.2.3), the learning-rate
    schedule with warm-up (sec. 5.3) and label smoothing (sec. 5.4).
    R. Xiong et al., "On layer normalization in the Transformer architecture", ICML 2020,
    arXiv:2002.04745 (pre-norm, ``norm_first=True``, and why post-norm needs warm-up).
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.7,
    arXiv:2106.11342), with sizes passed explicitly and the decoder's state replaced by
    :class:`~attention_utils.kv_cache.KVCache` objects.

Every attention here is :class:`~attention_utils.multihead.MultiHeadAttention`, so every score
goes through the library's one attention core: the decoder's self-attention with ``causal=True``,
its cross-attention with the source's ``valid_lens``. :meth:`Transformer.as_torch` builds the
same model out of ``torch.nn.Transformer`` with copied weights; the tests prove the two agree.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from .checks import check_valid_lens, require_bool, require_positive_int
from .kv_cache import KVCache
from .multihead import MultiHeadAttention, as_torch_multihead
from .transformer import (
    AddNorm,
    PositionalEncoding,
    PositionWiseFFN,
    TransformerEncoder,
    _require_sequence,
)

__all__ = [
    "DecoderLayerCache",
    "TorchTransformer",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderBlock",
]


def _require_tokens(name: str, X: object, vocab_size: int) -> torch.Tensor:
    """``X`` if it is a 2-D integer tensor of tokens in ``[0, vocab_size)``, else a clear error."""
    if (
        not isinstance(X, torch.Tensor)
        or X.is_floating_point()
        or X.is_complex()
        or X.dtype == torch.bool
    ):
        raise TypeError(
            f"{name} must be an integer tensor of tokens, shape (batch_size, num_steps)"
        )
    if X.dim() != 2:
        raise ValueError(f"{name} must have shape (batch_size, num_steps), got {tuple(X.shape)}")
    if X.numel() and bool(((X < 0) | (X >= vocab_size)).any()):
        raise ValueError(f"{name}'s tokens must lie in [0, vocab_size) = [0, {vocab_size})")
    return X


class DecoderLayerCache(NamedTuple):
    """The two caches of one decoder block: self-attention grows, cross-attention is static."""

    self_attention: KVCache
    cross_attention: KVCache


class TransformerDecoderBlock(nn.Module):
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
        use_bias: biases in the attention projections (``torch.nn.Transformer`` has them).
        norm_first: pre-norm if True, post-norm if False.
        need_weights: keep both attentions' weights (readable path) or run them fused.

    Attributes:
        attention1: the causal self-attention; ``attention_weights`` ``(batch_size, num_heads,
            num_steps, num_steps)`` after a forward with ``need_weights``.
        attention2: the cross-attention; ``attention_weights`` ``(batch_size, num_heads,
            num_steps, num_src_steps)``.

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
        use_bias: bool = True,
        *,
        norm_first: bool = False,
        need_weights: bool = True,
    ) -> None:
        super().__init__()
        self.norm_first = require_bool("norm_first", norm_first)
        n = num_hiddens
        self.attention1 = MultiHeadAttention(n, n, n, n, num_heads, dropout, use_bias, need_weights)
        self.addnorm1 = AddNorm(n, dropout)
        self.attention2 = MultiHeadAttention(n, n, n, n, num_heads, dropout, use_bias, need_weights)
        self.addnorm2 = AddNorm(n, dropout)
        self.ffn = PositionWiseFFN(n, ffn_num_hiddens, n)
        self.addnorm3 = AddNorm(n, dropout)

    def _forward(
        self,
        X: torch.Tensor,
        enc_outputs: torch.Tensor,
        enc_valid_lens: torch.Tensor | None,
        cache: DecoderLayerCache | None = None,
    ) -> torch.Tensor:
        self_cache = None if cache is None else cache.self_attention
        cross_cache = None if cache is None else cache.cross_attention

        def self_attend(Z: torch.Tensor) -> torch.Tensor:
            return self.attention1._attend(Z, Z, Z, None, True, self_cache)

        def cross_attend(Z: torch.Tensor) -> torch.Tensor:
            return self.attention2._attend(
                Z, enc_outputs, enc_outputs, enc_valid_lens, False, cross_cache
            )

        if self.norm_first:
            X = X + self.addnorm1.dropout(
                self_attend(self.addnorm1.ln(X))
            )  # (batch_size, num_steps, num_hiddens)
            X = X + self.addnorm2.dropout(cross_attend(self.addnorm2.ln(X)))
            return X + self.addnorm3.dropout(self.ffn(self.addnorm3.ln(X)))
        Y = self.addnorm1(X, self_attend(X))  # (batch_size, num_steps, num_hiddens)
        Z = self.addnorm2(Y, cross_attend(Y))  # (batch_size, num_steps, num_hiddens)
        return self.addnorm3(Z, self.ffn(Z))  # (batch_size, num_steps, num_hiddens)

    def forward(
        self,
        X: torch.Tensor,
        enc_outputs: torch.Tensor,
        enc_valid_lens: torch.Tensor | None = None,
        cache: DecoderLayerCache | None = None,
    ) -> torch.Tensor:
        """Attend to the earlier target positions, then to the source, then transform.

        Args:
            X: target representations ``(batch_size, num_steps, num_hiddens)``.
            enc_outputs: the encoder's outputs ``(batch_size, num_src_steps, num_hiddens)``.
            enc_valid_lens: None or ``(batch_size,)`` integers: source positions ``j >=
                enc_valid_lens[b]`` are padding and get no cross-attention.
            cache: None, or this block's :class:`DecoderLayerCache` for incremental decoding:
                ``X`` then holds only the new positions, which follow the cached ones.

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype or shape, bad ``enc_valid_lens``
                or a ``cache`` that is not a :class:`DecoderLayerCache`.
        """
        n = self.attention1.W_o.out_features
        _require_sequence("X", X, n, "num_hiddens")
        _require_sequence("enc_outputs", enc_outputs, n, "num_hiddens")
        self.attention2._check_inputs(X, enc_outputs, enc_outputs)
        if enc_outputs.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and enc_outputs must have the same batch_size, got {X.shape[0]} and "
                f"{enc_outputs.shape[0]}"
            )
        if enc_valid_lens is not None:
            check_valid_lens(enc_valid_lens, X.shape[0], X.shape[1], enc_outputs.shape[1])
        if cache is not None and not isinstance(cache, DecoderLayerCache):
            raise TypeError(
                f"cache must be None or a DecoderLayerCache, got {type(cache).__name__}"
            )
        return self._forward(X, enc_outputs, enc_valid_lens, cache)


class TransformerDecoder(nn.Module):
    """Embedding, positional encoding, ``num_blks`` decoder blocks and the output layer.

    ``H_0 = PE(sqrt(d) Embedding(tokens))``, ``H_l = Block_l(H_{l-1}, E)``, logits
    ``= Dense(H_L)`` (with a final LN before ``Dense`` when ``norm_first``). Vaswani et al.,
    NeurIPS 2017, arXiv:1706.03762, sec. 3.1 and 3.4; D2L sec. 11.7.

    Args:
        vocab_size: number of target tokens.
        num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias, norm_first, need_weights: as
            :class:`TransformerDecoderBlock`.
        num_blks: number of blocks.
        max_len: the longest target sequence (positional encoding).

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
        use_bias: bool = True,
        *,
        norm_first: bool = False,
        need_weights: bool = True,
    ) -> None:
        super().__init__()
        require_positive_int("vocab_size", vocab_size)
        require_positive_int("num_blks", num_blks)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList(
            TransformerDecoderBlock(
                num_hiddens,
                ffn_num_hiddens,
                num_heads,
                dropout,
                use_bias,
                norm_first=norm_first,
                need_weights=need_weights,
            )
            for _ in range(num_blks)
        )
        self.norm = nn.LayerNorm(num_hiddens) if norm_first else None
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_cache(self) -> list[DecoderLayerCache]:
        """Empty caches, one :class:`DecoderLayerCache` per block, for incremental decoding."""
        return [DecoderLayerCache(KVCache(), KVCache(static=True)) for _ in self.blks]

    @property
    def self_attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last causal self-attention weights."""
        return [blk.attention1.attention_weights for blk in self.blks]

    @property
    def cross_attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last cross-attention weights.

        Shape ``(batch_size, num_heads, num_steps, num_src_steps)`` each.
        """
        return [blk.attention2.attention_weights for blk in self.blks]

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
        _require_tokens("X", X, self.embedding.num_embeddings)
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
        max_len = self.pos_encoding.P.shape[1]
        if start + X.shape[1] > max_len:
            raise ValueError(f"the target is longer than max_len = {max_len}")
        H = self.embedding(X) * math.sqrt(self.num_hiddens)  # (batch_size, num_steps, num_hiddens)
        P = self.pos_encoding.P[:, start : start + X.shape[1]].to(
            H.dtype
        )  # (1, num_steps, num_hiddens)
        H = self.pos_encoding.dropout(
            H + P
        )  # PositionalEncoding, shifted to the first new position
        _require_sequence("enc_outputs", enc_outputs, self.num_hiddens, "num_hiddens")
        self.blks[0].attention2._check_inputs(H, enc_outputs, enc_outputs)
        if enc_outputs.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and enc_outputs must have the same batch_size, got {X.shape[0]} and "
                f"{enc_outputs.shape[0]}"
            )
        if enc_valid_lens is not None:
            check_valid_lens(enc_valid_lens, X.shape[0], X.shape[1], enc_outputs.shape[1])
        for i, blk in enumerate(self.blks):
            H = blk._forward(H, enc_outputs, enc_valid_lens, None if caches is None else caches[i])
            # (batch_size, num_steps, num_hiddens)
        if self.norm is not None:
            H = self.norm(H)
        return self.dense(H)  # (batch_size, num_steps, vocab_size)


class Transformer(nn.Module):
    """The encoder-decoder Transformer of Vaswani et al., NeurIPS 2017, arXiv:1706.03762.

    ``logits = Decoder(tgt, Encoder(src, src_valid_lens), src_valid_lens)``: the encoder is
    chapter 04's :class:`~attention_utils.transformer.TransformerEncoder` (with biases, as in the
    paper and ``torch.nn.Transformer``), the decoder :class:`TransformerDecoder`.

    Args:
        src_vocab_size, tgt_vocab_size: sizes of the two vocabularies.
        num_hiddens: model width ``d_model``.
        ffn_num_hiddens: hidden width of every feed-forward network.
        num_heads: heads of every attention.
        num_layers: blocks in the encoder and in the decoder.
        dropout: dropout probability.
        norm_first: pre-norm (True; Xiong et al., ICML 2020, arXiv:2002.04745) or post-norm.
        max_len: the longest source or target sequence.

    Both token embeddings start from ``N(0, 1 / num_hiddens)`` (``nn.Embedding``'s default is
    ``N(0, 1)``), so that ``sqrt(num_hiddens) * embedding`` has entries of size about 1, like the
    positional encoding it is added to; with the default the words would drown the positions.

    Attributes:
        encoder, decoder: the two halves.
        need_weights: set it to False to run every attention fused (faster training).

    Raises:
        TypeError, ValueError: for sizes that are not positive ints, a ``dropout`` outside
            [0, 1), or ``num_hiddens`` not divisible by ``num_heads``.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        num_layers: int,
        dropout: float,
        norm_first: bool = False,
        max_len: int = 1000,
    ) -> None:
        super().__init__()
        require_bool("norm_first", norm_first)
        self.norm_first = norm_first
        self.encoder = TransformerEncoder(
            src_vocab_size,
            num_hiddens,
            ffn_num_hiddens,
            num_heads,
            num_layers,
            dropout,
            max_len,
            use_bias=True,
            norm_first=norm_first,
        )
        self.decoder = TransformerDecoder(
            tgt_vocab_size,
            num_hiddens,
            ffn_num_hiddens,
            num_heads,
            num_layers,
            dropout,
            max_len,
            use_bias=True,
            norm_first=norm_first,
        )
        for embedding in (self.encoder.embedding, self.decoder.embedding):
            nn.init.normal_(embedding.weight, std=num_hiddens**-0.5)

    @property
    def need_weights(self) -> bool:
        """Whether every attention keeps its weights; setting it sets all of them."""
        return all(m.need_weights for m in self.modules() if isinstance(m, MultiHeadAttention))

    @need_weights.setter
    def need_weights(self, value: bool) -> None:
        require_bool("need_weights", value)
        for m in self.modules():
            if isinstance(m, MultiHeadAttention):
                m.need_weights = value

    def _check(self, src: object, tgt: object, src_valid_lens: object) -> None:
        _require_tokens("src", src, self.encoder.embedding.num_embeddings)
        if tgt is not None:
            _require_tokens("tgt", tgt, self.decoder.embedding.num_embeddings)
            if tgt.shape[0] != src.shape[0]:
                raise ValueError(
                    "src and tgt must have the same batch_size, "
                    f"got {src.shape[0]} and {tgt.shape[0]}"
                )
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
            ValueError: for tokens out of range, mismatched batch sizes or bad lengths.
        """
        self._check(src, tgt, src_valid_lens)
        enc_outputs = self.encoder(src, src_valid_lens)  # (batch_size, num_src_steps, num_hiddens)
        return self.decoder(
            tgt, enc_outputs, src_valid_lens
        )  # (batch_size, num_tgt_steps, tgt_vocab_size)

    @torch.no_grad()
    def greedy_decode(
        self,
        src: torch.Tensor,
        src_valid_lens: torch.Tensor | None,
        bos_token: int,
        num_steps: int,
        use_cache: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate ``num_steps`` tokens, each the argmax of the logits given the ones before.

        With ``use_cache`` each step feeds the decoder only the newest token and each layer
        reads the earlier keys and values from its :class:`~attention_utils.kv_cache.KVCache`
        (cost per step linear in the length so far); without, each step runs the decoder over
        the whole prefix again (quadratic). Both give the same tokens and logits (to rounding).
        Runs in eval mode (no dropout) and restores the module's mode afterwards.

        Args:
            src: ``(batch_size, num_src_steps)`` source tokens.
            src_valid_lens: None or ``(batch_size,)``.
            bos_token: the token the decoder starts from.
            num_steps: how many tokens to generate (no early stop at an end token).
            use_cache: incremental decoding with KV caches (True) or full recomputation.

        Returns:
            ``(tokens, logits)``: ``(batch_size, num_steps)`` and
            ``(batch_size, num_steps, tgt_vocab_size)``.

        Raises:
            TypeError, ValueError: for bad ``src``/``src_valid_lens``, a ``bos_token`` outside the
                target vocabulary, a ``num_steps`` that is not a positive int or longer than
                ``max_len``, or a ``use_cache`` that is not a bool.
        """
        self._check(src, None, src_valid_lens)
        require_positive_int("num_steps", num_steps)
        require_bool("use_cache", use_cache)
        vocab_size = self.decoder.embedding.num_embeddings
        if isinstance(bos_token, bool) or not isinstance(bos_token, int):
            raise TypeError(f"bos_token must be an int, got {type(bos_token).__name__}")
        if not 0 <= bos_token < vocab_size:
            raise ValueError(
                f"bos_token must lie in [0, tgt_vocab_size) = [0, {vocab_size}), got {bos_token}"
            )
        was_training = self.training
        self.eval()
        try:
            enc_outputs = self.encoder(
                src, src_valid_lens
            )  # (batch_size, num_src_steps, num_hiddens)
            tokens = torch.full((src.shape[0], 1), bos_token, dtype=torch.long, device=src.device)
            caches = self.decoder.init_cache() if use_cache else None
            all_logits = []
            for _ in range(num_steps):
                dec_input = tokens[:, -1:] if use_cache else tokens  # (batch_size, 1 or t + 1)
                logits = self.decoder(dec_input, enc_outputs, src_valid_lens, caches)[:, -1]
                # (batch_size, tgt_vocab_size)
                all_logits.append(logits)
                tokens = torch.cat([tokens, logits.argmax(dim=-1, keepdim=True)], dim=1)
        finally:
            self.train(was_training)
        return tokens[:, 1:], torch.stack(all_logits, dim=1)  # (batch_size, num_steps[, vocab])

    def as_torch(self) -> TorchTransformer:
        """The same model built on ``torch.nn.Transformer``, with copies of this one's weights.

        Returns:
            a :class:`TorchTransformer` in this model's training mode, dtype and device; with the
            same inputs its ``forward`` returns the same logits (to rounding).
        """
        return TorchTransformer(self)


def _copy_mha(torch_mha: nn.MultiheadAttention, mha: MultiHeadAttention) -> None:
    torch_mha.load_state_dict(as_torch_multihead(mha).state_dict())


class TorchTransformer(nn.Module):
    """:class:`Transformer`'s twin made of ``torch.nn.Transformer`` (built by ``as_torch``).

    Embeddings, positional encoding and output layer are copies of the original's; the layers
    are ``nn.TransformerEncoderLayer``/``nn.TransformerDecoderLayer`` with the same
    ``norm_first``. ``nn.Transformer`` puts a LayerNorm after both stacks; here that final norm
    exists only for pre-norm, exactly as in :class:`Transformer` (a post-norm stack already ends
    in one). The padding mask goes in as ``src_key_padding_mask`` and
    ``memory_key_padding_mask`` (True = ignore, the opposite of the library's bool masks), the
    causal mask as ``tgt_mask`` with ``tgt_is_causal=True``.

    Args:
        model: the :class:`Transformer` to copy.

    Raises:
        TypeError: if ``model`` is not a :class:`Transformer`.
    """

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        if not isinstance(model, Transformer):
            raise TypeError(f"model must be a Transformer, got {type(model).__name__}")
        enc, dec = model.encoder, model.decoder
        blk = enc.blks[0]
        d, h = enc.num_hiddens, blk.attention.num_heads
        ffn, p = blk.ffn.dense1.out_features, blk.addnorm1.dropout.p
        weight = dec.dense.weight
        kw = dict(
            batch_first=True, norm_first=model.norm_first, device=weight.device, dtype=weight.dtype
        )
        encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, h, ffn, p, **kw),
            len(enc.blks),
            norm=None
            if enc.norm is None
            else nn.LayerNorm(d, device=weight.device, dtype=weight.dtype),
            enable_nested_tensor=False,
        )
        decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, h, ffn, p, **kw),
            len(dec.blks),
            norm=None
            if dec.norm is None
            else nn.LayerNorm(d, device=weight.device, dtype=weight.dtype),
        )
        self.num_hiddens = d
        self.transformer = nn.Transformer(
            d,
            h,
            dim_feedforward=ffn,
            dropout=p,
            custom_encoder=encoder,
            custom_decoder=decoder,
            **kw,
        )
        self.src_embedding = nn.Embedding.from_pretrained(
            enc.embedding.weight.detach().clone(), freeze=False
        )
        self.tgt_embedding = nn.Embedding.from_pretrained(
            dec.embedding.weight.detach().clone(), freeze=False
        )
        self.pos_encoding = PositionalEncoding(d, p, enc.pos_encoding.P.shape[1]).to(
            weight.device, weight.dtype
        )
        self.dense = nn.Linear(d, dec.dense.out_features, device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            self.dense.load_state_dict(dec.dense.state_dict())
            for ours, theirs in zip(enc.blks, encoder.layers):
                _copy_mha(theirs.self_attn, ours.attention)
                theirs.linear1.load_state_dict(ours.ffn.dense1.state_dict())
                theirs.linear2.load_state_dict(ours.ffn.dense2.state_dict())
                theirs.norm1.load_state_dict(ours.addnorm1.ln.state_dict())
                theirs.norm2.load_state_dict(ours.addnorm2.ln.state_dict())
            for ours, theirs in zip(dec.blks, decoder.layers):
                _copy_mha(theirs.self_attn, ours.attention1)
                _copy_mha(theirs.multihead_attn, ours.attention2)
                theirs.linear1.load_state_dict(ours.ffn.dense1.state_dict())
                theirs.linear2.load_state_dict(ours.ffn.dense2.state_dict())
                theirs.norm1.load_state_dict(ours.addnorm1.ln.state_dict())
                theirs.norm2.load_state_dict(ours.addnorm2.ln.state_dict())
                theirs.norm3.load_state_dict(ours.addnorm3.ln.state_dict())
            if enc.norm is not None:
                encoder.norm.load_state_dict(enc.norm.state_dict())
                decoder.norm.load_state_dict(dec.norm.state_dict())
        self.train(model.training)

    def forward(
        self, src: torch.Tensor, tgt: torch.Tensor, src_valid_lens: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Same arguments and result as :meth:`Transformer.forward`."""
        scale = math.sqrt(self.num_hiddens)
        X = self.pos_encoding(
            self.src_embedding(src) * scale
        )  # (batch_size, num_src_steps, num_hiddens)
        Y = self.pos_encoding(
            self.tgt_embedding(tgt) * scale
        )  # (batch_size, num_tgt_steps, num_hiddens)
        padding = None
        if src_valid_lens is not None:
            positions = torch.arange(src.shape[1], device=src.device)  # (num_src_steps,)
            padding = (
                positions[None, :] >= src_valid_lens[:, None]
            )  # (batch_size, num_src_steps), True = ignore
        causal = nn.Transformer.generate_square_subsequent_mask(
            tgt.shape[1], device=src.device, dtype=X.dtype
        )
        out = self.transformer(
            X,
            Y,
            tgt_mask=causal,
            src_key_padding_mask=padding,
            memory_key_padding_mask=padding,
            tgt_is_causal=True,
        )  # (batch_size, num_tgt_steps, num_hiddens)
        return self.dense(out)  # (batch_size, num_tgt_steps, tgt_vocab_size)
