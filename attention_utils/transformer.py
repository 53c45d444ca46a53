"""The Transformer's parts around attention: positional encoding, FFN, Add & Norm, the encoder.

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762: the position-wise
    feed-forward network (sec. 3.3), sinusoidal positional encoding (sec. 3.5) and the encoder
    layer with residual connections and layer normalisation applied after each sub-layer,
    "post-norm" (sec. 3.1).
    J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer normalization", 2016, arXiv:1607.06450.
    K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016,
    arXiv:1512.03385 (residual connections).
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, secs.
    11.6-11.7, arXiv:2106.11342), with sizes passed explicitly instead of lazy layers.

Chapter 04 builds the encoder; Part II's decoder block and decoder join them here. The attention
inside every block is :class:`~attention_utils.multihead.MultiHeadAttention`, so the masking rules
and the ``need_weights`` idiom are the attention core's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import (
    check_valid_lens,
    raise_valid_lens_range,
    require_bool,
    require_dtype,
    require_positive_int,
    require_probability,
    require_tensor,
    valid_lens_out_of_range,
)
from .multihead import MultiHeadAttention

__all__ = [
    "AddNorm",
    "PositionWiseFFN",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerEncoderBlock",
]


def _require_sequence(name: str, X: object, width: int, width_name: str) -> torch.Tensor:
    """``X`` if it is a floating ``(batch_size, num_steps, width)`` tensor, else a clear error."""
    require_tensor(name, X)
    if X.dim() != 3 or X.shape[-1] != width:
        raise ValueError(
            f"{name} must have shape (batch_size, num_steps, {width_name}={width}), "
            f"got {tuple(X.shape)}"
        )
    return X


class PositionalEncoding(nn.Module):
    """Add sinusoidal positional encodings to a sequence, then dropout.

    ``P[t, 2j] = sin(t / 10000^(2j / d))`` and ``P[t, 2j + 1] = cos(t / 10000^(2j / d))`` for
    position ``t`` and ``d = num_hiddens``; the output is ``dropout(X + P[:num_steps])``.
    The table is computed and kept in float64 and cast to the input's dtype in ``forward``: a
    float32 input gets each entry rounded once (within 1e-6 of the formula for t < 1000), a
    float64 input gets float64 precision. (``module.to(dtype)`` casts the table too, like any
    floating buffer.)
    Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.5; D2L sec. 11.6.

    Args:
        num_hiddens: width ``d`` of the representations, even.
        dropout: dropout probability on the sum in training.
        max_len: the longest sequence it can encode.

    Attributes:
        P: the table of encodings, a float64 buffer of shape ``(1, max_len, num_hiddens)``.

    Raises:
        TypeError: if ``num_hiddens`` or ``max_len`` is not an int or ``dropout`` not a number.
        ValueError: if ``num_hiddens`` is odd or not positive, ``max_len < 1``, or ``dropout`` is
            not in [0, 1).
    """

    def __init__(self, num_hiddens: int, dropout: float, max_len: int = 1000) -> None:
        super().__init__()
        require_positive_int("num_hiddens", num_hiddens)
        require_positive_int("max_len", max_len)
        if num_hiddens % 2:
            raise ValueError(f"num_hiddens must be even (sin and cos in pairs), got {num_hiddens}")
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        positions = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
        exponents = torch.arange(0, num_hiddens, 2, dtype=torch.float64) / num_hiddens
        angles = positions / torch.pow(10000.0, exponents)  # (max_len, num_hiddens / 2)
        P = torch.zeros(1, max_len, num_hiddens, dtype=torch.float64)  # (1, max_len, num_hiddens)
        P[0, :, 0::2] = torch.sin(angles)
        P[0, :, 1::2] = torch.cos(angles)
        self.register_buffer("P", P, persistent=False)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``dropout(X + P[:num_steps])``.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)`` with ``num_steps <= max_len``.

        Returns:
            ``(batch_size, num_steps, num_hiddens)``, ``X``'s dtype.

        Raises:
            TypeError: if ``X`` is not a floating-point tensor.
            ValueError: if ``X`` is not 3-D, its width is not ``num_hiddens`` or it is longer
                than ``max_len``.
        """
        _, max_len, num_hiddens = self.P.shape
        _require_sequence("X", X, num_hiddens, "num_hiddens")
        if X.shape[1] > max_len:
            raise ValueError(f"X has num_steps = {X.shape[1]} > max_len = {max_len}")
        return self._forward(X)

    def _forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.dropout(
            X + self.P[:, : X.shape[1]].to(X.dtype)
        )  # (batch_size, num_steps, num_hiddens)


class PositionWiseFFN(nn.Module):
    """The position-wise feed-forward network ``FFN(x) = W_2 ReLU(W_1 x + b_1) + b_2``.

    The same two-layer MLP is applied to every position separately. Vaswani et al., NeurIPS 2017,
    arXiv:1706.03762, sec. 3.3; D2L sec. 11.7 (with explicit input width).

    Args:
        ffn_num_input: width of the input at each position.
        ffn_num_hiddens: width of the hidden layer (4x the input in Vaswani et al.).
        ffn_num_outputs: width of the output at each position.

    Raises:
        TypeError: if a width is not an int.
        ValueError: if a width is not positive.
    """

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int) -> None:
        super().__init__()
        for name, value in (
            ("ffn_num_input", ffn_num_input),
            ("ffn_num_hiddens", ffn_num_hiddens),
            ("ffn_num_outputs", ffn_num_outputs),
        ):
            require_positive_int(name, value)
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_steps, ffn_num_input)`` -> ``(..., ffn_num_outputs)``.

        Any leading dimensions work; only the last one is transformed.

        Raises:
            TypeError: if ``X`` is not a floating tensor of the parameters' dtype.
            ValueError: if ``X``'s last dimension is not ``ffn_num_input``.
        """
        require_tensor("X", X)
        if X.dim() == 0 or X.shape[-1] != self.dense1.in_features:
            raise ValueError(
                f"X must have shape (..., ffn_num_input={self.dense1.in_features}), "
                f"got {tuple(X.shape)}"
            )
        require_dtype("X", X, self)
        return self._forward(X)

    def _forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.dense2(self.relu(self.dense1(X)))  # (batch_size, num_steps, ffn_num_outputs)


class AddNorm(nn.Module):
    """Residual connection followed by layer normalisation: ``LayerNorm(X + dropout(Y))``.

    "Add & Norm" of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1 (post-norm); layer
    normalisation of Ba et al., 2016, arXiv:1607.06450; D2L sec. 11.7.

    Args:
        norm_shape: the trailing shape to normalise over, e.g. ``num_hiddens``.
        dropout: dropout probability on ``Y`` in training.

    Raises:
        TypeError: if ``norm_shape`` is not an int or a tuple of ints, or ``dropout`` not a number.
        ValueError: if a size in ``norm_shape`` is not positive or ``dropout`` not in [0, 1).
    """

    def __init__(self, norm_shape: int | tuple[int, ...], dropout: float) -> None:
        super().__init__()
        sizes = norm_shape if isinstance(norm_shape, (tuple, list, torch.Size)) else (norm_shape,)
        if not isinstance(norm_shape, (tuple, list, torch.Size)) and not isinstance(
            norm_shape, int
        ):
            raise TypeError(
                f"norm_shape must be an int or a tuple of ints, got {type(norm_shape).__name__}"
            )
        for size in sizes:
            require_positive_int("norm_shape", size)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """``X`` and ``Y`` of the same shape ``(batch_size, num_steps, num_hiddens)`` -> that shape.

        Raises:
            TypeError: if ``X`` or ``Y`` is not a floating tensor of the parameters' dtype.
            ValueError: if ``X`` and ``Y`` have different shapes, or their trailing shape is not
                ``norm_shape``.
        """
        require_tensor("X", X)
        require_tensor("Y", Y)
        if X.shape != Y.shape:
            raise ValueError(
                f"X and Y must have the same shape, got {tuple(X.shape)} and {tuple(Y.shape)}"
            )
        norm_shape = tuple(self.ln.normalized_shape)
        if tuple(X.shape[X.dim() - len(norm_shape) :]) != norm_shape:
            raise ValueError(f"X and Y must end in norm_shape = {norm_shape}, got {tuple(X.shape)}")
        require_dtype("X", X, self)
        return self._forward(X, Y)

    def _forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return self.ln(self.dropout(Y) + X)  # (batch_size, num_steps, num_hiddens)


class TransformerEncoderBlock(nn.Module):
    """One Transformer encoder layer: self-attention and a feed-forward network, each + Add & Norm.

    ``Y = LayerNorm(X + MultiHead(X, X, X))`` then ``output = LayerNorm(Y + FFN(Y))`` (post-norm,
    as in Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1; D2L sec. 11.7).

    Args:
        num_hiddens: width of the representations at every position.
        ffn_num_hiddens: width of the hidden layer of the feed-forward network.
        num_heads: number of attention heads; must divide ``num_hiddens``.
        dropout: dropout probability (attention weights, residual branches).
        use_bias: whether the attention projections have biases.
        need_weights: passed to :class:`MultiHeadAttention`; also an attribute.
        norm_first: False (default) is post-norm as above; True is pre-norm,
            ``Y = X + MultiHead(LN(X))`` and ``output = Y + FFN(LN(Y))`` (Xiong et al., ICML 2020,
            arXiv:2002.04745), with each ``AddNorm``'s LayerNorm and dropout (chapter 07).

    Attributes:
        attention: the :class:`MultiHeadAttention`; its ``attention_weights`` after a forward have
            shape ``(batch_size, num_heads, num_steps, num_steps)`` (None on the fused path).

    Raises:
        TypeError, ValueError: as :class:`MultiHeadAttention` for bad sizes.
    """

    def __init__(
        self,
        num_hiddens: int,
        ffn_num_hiddens: int,
        num_heads: int,
        dropout: float,
        use_bias: bool = False,
        *,
        need_weights: bool = True,
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.norm_first = require_bool("norm_first", norm_first)
        self.attention = MultiHeadAttention(
            num_hiddens,
            num_hiddens,
            num_hiddens,
            num_hiddens,
            num_heads,
            dropout,
            use_bias,
            need_weights,
        )
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    @property
    def need_weights(self) -> bool:
        """Whether the self-attention keeps its weights (readable path) or runs fused."""
        return self.attention.need_weights

    @need_weights.setter
    def need_weights(self, value: bool) -> None:
        self.attention.need_weights = value

    def _check(self, X: object, valid_lens: object, causal: object) -> None:
        _require_sequence("X", X, self.attention.W_o.out_features, "num_hiddens")
        self.attention._check_inputs(X, X, X)
        require_bool("causal", causal)
        if valid_lens is not None:
            check_valid_lens(valid_lens, X.shape[0], X.shape[1], X.shape[1])

    def _forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None, causal: bool
    ) -> torch.Tensor:
        # Internal calls: the arguments were checked once, in the public forward.
        if self.norm_first:
            Z = self.addnorm1.ln(X)  # (batch_size, num_steps, num_hiddens)
            Y = X + self.addnorm1.dropout(self.attention._attend(Z, Z, Z, valid_lens, causal))
            return Y + self.addnorm2.dropout(self.ffn._forward(self.addnorm2.ln(Y)))
        Y = self.addnorm1._forward(X, self.attention._attend(X, X, X, valid_lens, causal))
        # (batch_size, num_steps, num_hiddens)
        return self.addnorm2._forward(
            Y, self.ffn._forward(Y)
        )  # (batch_size, num_steps, num_hiddens)

    def forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """Let every position attend to the sequence, then transform each position.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)``.
            valid_lens: None or an integer tensor ``(batch_size,)``: padding mask, position j is a
                key only if ``j < valid_lens[b]``; or ``(batch_size, num_steps)``, one length per
                query.
            causal: if True, position i also sees no position after i (combined with
                ``valid_lens``: both must let a key through).

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError, ValueError: for ``X`` of the wrong dtype or shape or bad ``valid_lens``.
        """
        self._check(X, valid_lens, causal)
        return self._forward(X, valid_lens, causal)


class TransformerEncoder(nn.Module):
    """Token embedding, positional encoding and ``num_blks`` :class:`TransformerEncoderBlock` s.

    ``H_0 = PositionalEncoding(sqrt(d) Embedding(tokens))``, ``H_l = Block_l(H_{l-1})``; the
    embeddings are scaled by ``sqrt(num_hiddens)`` as in Vaswani et al., NeurIPS 2017,
    arXiv:1706.03762, sec. 3.4, and D2L sec. 11.7.

    Args:
        vocab_size: number of distinct tokens.
        num_hiddens: width of the representations.
        ffn_num_hiddens: hidden width of each feed-forward network.
        num_heads: heads per block.
        num_blks: number of blocks.
        dropout: dropout probability.
        max_len: the longest sequence the positional encoding covers.
        use_bias: biases in the attention projections.
        need_weights: True keeps every block's weights (readable path); False runs every block's
            attention fused. An attribute: setting it sets every block's.
        norm_first: pre-norm blocks (see :class:`TransformerEncoderBlock`) and a final
            LayerNorm ``norm`` after the last block, as pre-norm needs (chapter 07).

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
        use_bias: bool = False,
        *,
        need_weights: bool = True,
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        require_positive_int("vocab_size", vocab_size)
        require_positive_int("num_blks", num_blks)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList(
            TransformerEncoderBlock(
                num_hiddens,
                ffn_num_hiddens,
                num_heads,
                dropout,
                use_bias,
                need_weights=need_weights,
                norm_first=norm_first,
            )
            for _ in range(num_blks)
        )
        self.norm = nn.LayerNorm(num_hiddens) if norm_first else None

    @property
    def need_weights(self) -> bool:
        """Whether the blocks keep their attention weights; setting it sets every block's."""
        return all(blk.need_weights for blk in self.blks)

    @need_weights.setter
    def need_weights(self, value: bool) -> None:
        require_bool("need_weights", value)
        for blk in self.blks:
            blk.need_weights = value

    @property
    def attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last weights, ``(batch_size, num_heads, num_steps, num_steps)`` or None."""
        return [blk.attention.attention_weights for blk in self.blks]

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
        if not isinstance(X, torch.Tensor) or X.is_floating_point() or X.dtype == torch.bool:
            raise TypeError("X must be an integer tensor of tokens, shape (batch_size, num_steps)")
        if X.dim() != 2:
            raise ValueError(f"X must have shape (batch_size, num_steps), got {tuple(X.shape)}")
        require_bool("causal", causal)
        vocab_size, num_steps = self.embedding.num_embeddings, X.shape[1]
        flags = [((X < 0) | (X >= vocab_size)).any()]  # a token out of range
        if valid_lens is not None:
            check_valid_lens(valid_lens, X.shape[0], num_steps, num_steps, check_range=False)
            flags.append(valid_lens_out_of_range(valid_lens.to(X.device), num_steps))
        bad = torch.stack(flags).tolist() if X.numel() else [False] * len(flags)  # one host sync
        if bad[0]:
            raise ValueError(f"tokens must lie in [0, vocab_size) = [0, {vocab_size})")
        if len(bad) > 1 and bad[1]:
            raise_valid_lens_range(valid_lens, num_steps)
        H = self.embedding(X) * math.sqrt(self.num_hiddens)  # (batch_size, num_steps, num_hiddens)
        if num_steps > self.pos_encoding.P.shape[1]:
            raise ValueError(
                f"X has num_steps = {num_steps} > max_len = {self.pos_encoding.P.shape[1]}"
            )
        H = self.pos_encoding._forward(H)  # (batch_size, num_steps, num_hiddens)
        for blk in self.blks:
            H = blk._forward(H, valid_lens, causal)  # (batch_size, num_steps, num_hiddens)
        return H if self.norm is None else self.norm(H)
