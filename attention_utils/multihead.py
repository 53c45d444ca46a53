"""Multi-head attention, positional encoding and the Transformer encoder block (chapter 04).

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762: multi-head
    attention (sec. 3.2.2), the position-wise feed-forward network (sec. 3.3), sinusoidal positional
    encoding (sec. 3.5) and the encoder layer with residual connections and layer normalisation
    applied after each sub-layer, "post-norm" (sec. 3.1).
    J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer normalization", 2016, arXiv:1607.06450.
    K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition", CVPR 2016,
    arXiv:1512.03385 (residual connections).
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, secs.
    11.5-11.7, arXiv:2106.11342), with sizes passed explicitly instead of lazy layers. D2L's
    ``transpose_qkv`` and ``transpose_output`` are :func:`split_heads` and :func:`merge_heads` here;
    they keep the heads on an axis of their own, ``(batch_size, num_heads, num_steps, head_dim)``.

The scores themselves come from :class:`~attention_utils.scoring.DotProductAttention` (chapter 03):
a head is scaled dot-product attention between projected queries, keys and values, and the
masking rules (``valid_lens``, a fully masked query gives a zero output) are that layer's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import _require_positive_int, _require_probability, _require_tensor
from .scoring import (
    DotProductAttention,
    _check_qkv,
    _check_valid_lens,
    _fused_attention,
    valid_lens_to_mask,
)

__all__ = [
    "AddNorm",
    "MultiHeadAttention",
    "PositionWiseFFN",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    "as_torch_multihead",
    "merge_heads",
    "split_heads",
]




def split_heads(X: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Cut the last axis into ``num_heads`` slices and give the heads an axis of their own.

    ``X[b, t, j * head_dim : (j + 1) * head_dim]`` becomes ``output[b, j, t, :]`` with
    ``head_dim = num_hiddens // num_heads``. D2L calls this ``transpose_qkv`` (and also folds the
    heads into the batch axis).

    Args:
        X: shape ``(batch_size, num_steps, num_hiddens)``.
        num_heads: number of heads; must divide ``num_hiddens``.

    Returns:
        Shape ``(batch_size, num_heads, num_steps, head_dim)``.

    Raises:
        ValueError: if ``X`` is not 3-D or ``num_hiddens`` is not divisible by ``num_heads``.
    """
    _require_positive_int("num_heads", num_heads)
    if X.dim() != 3:
        raise ValueError(f"X must have shape (batch_size, num_steps, num_hiddens), got {tuple(X.shape)}")
    batch_size, num_steps, num_hiddens = X.shape
    if num_hiddens % num_heads:
        raise ValueError(f"num_hiddens = {num_hiddens} is not divisible by num_heads = {num_heads}")
    X = X.reshape(batch_size, num_steps, num_heads, num_hiddens // num_heads)  # (batch_size, num_steps, num_heads, head_dim)
    return X.transpose(1, 2)  # (batch_size, num_heads, num_steps, head_dim)


def merge_heads(X: torch.Tensor) -> torch.Tensor:
    """Undo :func:`split_heads`: concatenate the heads along the last axis.

    ``output[b, t, j * head_dim : (j + 1) * head_dim] = X[b, j, t, :]``, which is
    ``Concat(head_1, ..., head_h)`` of Vaswani et al. for every position. D2L: ``transpose_output``.

    Args:
        X: shape ``(batch_size, num_heads, num_steps, head_dim)``.

    Returns:
        Shape ``(batch_size, num_steps, num_heads * head_dim)``.

    Raises:
        ValueError: if ``X`` is not 4-D.
    """
    if X.dim() != 4:
        raise ValueError(
            f"X must have shape (batch_size, num_heads, num_steps, head_dim), got {tuple(X.shape)}"
        )
    batch_size, num_heads, num_steps, head_dim = X.shape
    X = X.transpose(1, 2)  # (batch_size, num_steps, num_heads, head_dim)
    return X.reshape(batch_size, num_steps, num_heads * head_dim)  # (batch_size, num_steps, num_hiddens)


class MultiHeadAttention(nn.Module):
    """Multi-head attention: ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O``.

    Each ``head_j = softmax(Q W_j^Q (K W_j^K)^T / sqrt(d)) V W_j^V`` with ``d = num_hiddens / h``.
    The ``h`` projections of the queries are stored side by side in one ``nn.Linear`` ``W_q``
    (rows ``j d`` to ``(j + 1) d`` of its weight are ``(W_j^Q)^T``), likewise ``W_k`` and ``W_v``;
    ``W_o`` is ``W^O``. Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.2; D2L sec. 11.5.

    Parameters: ``num_hiddens * (query_size + key_size + value_size + num_hiddens)`` weights, plus
    ``4 * num_hiddens`` biases when ``bias`` is True.

    Args:
        key_size: length of each key vector.
        query_size: length of each query vector.
        value_size: length of each value vector.
        num_hiddens: total width of the projections and of the output; ``num_hiddens / num_heads``
            is the width of each head.
        num_heads: number of heads ``h``.
        dropout: dropout probability on the attention weights in training.
        bias: whether the four linear layers have biases.
        need_weights: True (default) computes each head with the readable path and keeps the
            weights; False takes PyTorch's fused ``scaled_dot_product_attention`` and keeps none.

    Attributes:
        attention_weights: after a forward with ``need_weights`` True, the weights of every head,
            shape ``(batch_size, num_heads, num_queries, num_keys)``; None otherwise.

    Raises:
        TypeError: if a size is not an int.
        ValueError: if a size is not positive, ``num_hiddens`` is not divisible by ``num_heads``,
            or ``dropout`` is not in [0, 1).
    """

    def __init__(
        self,
        key_size: int,
        query_size: int,
        value_size: int,
        num_hiddens: int,
        num_heads: int,
        dropout: float,
        bias: bool = False,
        need_weights: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (
            ("key_size", key_size),
            ("query_size", query_size),
            ("value_size", value_size),
            ("num_hiddens", num_hiddens),
            ("num_heads", num_heads),
        ):
            _require_positive_int(name, value)
        if num_hiddens % num_heads:
            raise ValueError(
                f"num_hiddens = {num_hiddens} must be divisible by num_heads = {num_heads}: "
                "each head gets num_hiddens / num_heads features"
            )
        self.num_heads = num_heads
        self.attention = DotProductAttention(_require_probability("dropout", dropout), need_weights=need_weights)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.attention_weights: torch.Tensor | None = None

    @property
    def need_weights(self) -> bool:
        """Whether forward keeps the weights (readable path) or takes the fused path."""
        return self.attention.need_weights

    @need_weights.setter
    def need_weights(self, value: bool) -> None:
        self.attention.need_weights = bool(value)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Project, attend in every head, concatenate the heads and project again.

        Args:
            queries: ``(batch_size, num_queries, query_size)``.
            keys: ``(batch_size, num_keys, key_size)``.
            values: ``(batch_size, num_keys, value_size)``.
            valid_lens: None, ``(batch_size,)`` or ``(batch_size, num_queries)`` integer tensor:
                query i of example b sees the keys ``j < valid_lens[b]`` (or ``valid_lens[b, i]``);
                the same mask for every head. A query that sees no key gets the output
                ``W_o(0)`` (the zero vector without bias).

        Returns:
            ``(batch_size, num_queries, num_hiddens)``.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype, rank or sizes, and for bad
                ``valid_lens``; the message names the expected shape.
        """
        _check_qkv(queries, keys, values, self.W_q.in_features, self.W_k.in_features)
        if values.shape[-1] != self.W_v.in_features:
            raise ValueError(
                f"values must have shape (batch_size, num_keys, value_size={self.W_v.in_features}), "
                f"got {tuple(values.shape)}"
            )
        h = self.num_heads
        q = split_heads(self.W_q(queries), h)  # (batch_size, num_heads, num_queries, head_dim)
        k = split_heads(self.W_k(keys), h)  # (batch_size, num_heads, num_keys, head_dim)
        v = split_heads(self.W_v(values), h)  # (batch_size, num_heads, num_keys, head_dim)
        batch_size, _, num_queries, head_dim = q.shape
        num_keys = k.shape[2]
        if valid_lens is not None:
            _check_valid_lens(valid_lens, batch_size, num_queries, num_keys)
        if not self.need_weights:
            # Fused path: heads stay a dimension of their own, and one mask serves every head.
            mask = valid_lens_to_mask(valid_lens, num_queries, num_keys)  # (batch_size, num_queries, num_keys)
            mask = None if mask is None else mask.unsqueeze(1)  # (batch_size, 1, num_queries, num_keys)
            dropout_p = self.attention.dropout.p if self.training else 0.0
            output = _fused_attention(q, k, v, mask, dropout_p)  # (batch_size, num_heads, num_queries, head_dim)
            self.attention_weights = None
            return self.W_o(merge_heads(output))  # (batch_size, num_queries, num_hiddens)
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, h, dim=0)  # (batch_size * num_heads, ...)
        output = self.attention(
            q.reshape(batch_size * h, num_queries, head_dim),
            k.reshape(batch_size * h, num_keys, head_dim),
            v.reshape(batch_size * h, num_keys, head_dim),
            valid_lens,
        )  # (batch_size * num_heads, num_queries, head_dim)
        weights = self.attention.attention_weights
        self.attention_weights = (
            None if weights is None else weights.reshape(batch_size, h, num_queries, num_keys)
        )  # (batch_size, num_heads, num_queries, num_keys)
        output = output.reshape(batch_size, h, num_queries, head_dim)  # (batch_size, num_heads, num_queries, head_dim)
        return self.W_o(merge_heads(output))  # (batch_size, num_queries, num_hiddens)


def as_torch_multihead(mha: MultiHeadAttention) -> nn.MultiheadAttention:
    """A ``torch.nn.MultiheadAttention`` (batch first) holding copies of ``mha``'s weights.

    With the same inputs it computes the same outputs; pass ``average_attn_weights=False`` to get
    the weights of every head, and ``key_padding_mask = arange(num_keys) >= valid_lens[:, None]``
    (True where a key is masked) for 1-D ``valid_lens``. The copy is a new module: training one
    does not change the other.

    Args:
        mha: a :class:`MultiHeadAttention` with ``query_size == num_hiddens`` (PyTorch's layer
            takes queries of width ``embed_dim``).

    Returns:
        ``nn.MultiheadAttention(num_hiddens, num_heads, dropout, bias, kdim=key_size,
        vdim=value_size, batch_first=True)`` in ``mha``'s training mode.

    Raises:
        TypeError: if ``mha`` is not a :class:`MultiHeadAttention`.
        ValueError: if ``query_size != num_hiddens``.
    """
    if not isinstance(mha, MultiHeadAttention):
        raise TypeError(f"mha must be a MultiHeadAttention, got {type(mha).__name__}")
    num_hiddens = mha.W_o.out_features
    if mha.W_q.in_features != num_hiddens:
        raise ValueError(
            f"nn.MultiheadAttention needs query_size == num_hiddens, got query_size = "
            f"{mha.W_q.in_features} and num_hiddens = {num_hiddens}"
        )
    bias = mha.W_o.bias is not None
    torch_mha = nn.MultiheadAttention(
        num_hiddens,
        mha.num_heads,
        dropout=mha.attention.dropout.p,
        bias=bias,
        kdim=mha.W_k.in_features,
        vdim=mha.W_v.in_features,
        batch_first=True,
    )
    with torch.no_grad():
        if torch_mha._qkv_same_embed_dim:
            torch_mha.in_proj_weight.copy_(torch.cat([mha.W_q.weight, mha.W_k.weight, mha.W_v.weight]))
        else:
            torch_mha.q_proj_weight.copy_(mha.W_q.weight)
            torch_mha.k_proj_weight.copy_(mha.W_k.weight)
            torch_mha.v_proj_weight.copy_(mha.W_v.weight)
        torch_mha.out_proj.weight.copy_(mha.W_o.weight)
        if bias:
            torch_mha.in_proj_bias.copy_(torch.cat([mha.W_q.bias, mha.W_k.bias, mha.W_v.bias]))
            torch_mha.out_proj.bias.copy_(mha.W_o.bias)
    return torch_mha.train(mha.training)


class PositionalEncoding(nn.Module):
    """Add sinusoidal positional encodings to a sequence, then dropout.

    ``P[t, 2j] = sin(t / 10000^(2j / d))`` and ``P[t, 2j + 1] = cos(t / 10000^(2j / d))`` for
    position ``t`` and ``d = num_hiddens``; the output is ``dropout(X + P[:num_steps])``.
    Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.5; D2L sec. 11.6.

    Args:
        num_hiddens: width ``d`` of the representations, even.
        dropout: dropout probability on the sum in training.
        max_len: the longest sequence it can encode.

    Attributes:
        P: the table of encodings, a buffer of shape ``(1, max_len, num_hiddens)``.

    Raises:
        TypeError: if ``num_hiddens`` or ``max_len`` is not an int.
        ValueError: if ``num_hiddens`` is odd or not positive, ``max_len < 1``, or ``dropout`` is
            not in [0, 1).
    """

    def __init__(self, num_hiddens: int, dropout: float, max_len: int = 1000) -> None:
        super().__init__()
        _require_positive_int("num_hiddens", num_hiddens)
        _require_positive_int("max_len", max_len)
        if num_hiddens % 2:
            raise ValueError(f"num_hiddens must be even (sin and cos in pairs), got {num_hiddens}")
        self.dropout = nn.Dropout(_require_probability("dropout", dropout))
        positions = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
        frequencies = torch.pow(10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        angles = positions / frequencies  # (max_len, num_hiddens / 2)
        P = torch.zeros(1, max_len, num_hiddens)  # (1, max_len, num_hiddens)
        P[0, :, 0::2] = torch.sin(angles)
        P[0, :, 1::2] = torch.cos(angles)
        self.register_buffer("P", P, persistent=False)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``dropout(X + P[:num_steps])``.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)`` with ``num_steps <= max_len``.

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError: if ``X`` is not a floating-point tensor.
            ValueError: if ``X`` is not 3-D, its width is not ``num_hiddens`` or it is longer
                than ``max_len``.
        """
        _require_tensor("X", X)
        _, max_len, num_hiddens = self.P.shape
        if X.dim() != 3 or X.shape[-1] != num_hiddens:
            raise ValueError(
                f"X must have shape (batch_size, num_steps, num_hiddens={num_hiddens}), got {tuple(X.shape)}"
            )
        if X.shape[1] > max_len:
            raise ValueError(f"X has num_steps = {X.shape[1]} > max_len = {max_len}")
        return self.dropout(X + self.P[:, : X.shape[1]].to(X.dtype))  # (batch_size, num_steps, num_hiddens)


class PositionWiseFFN(nn.Module):
    """The position-wise feed-forward network ``FFN(x) = W_2 ReLU(W_1 x + b_1) + b_2``.

    The same two-layer MLP is applied to every position separately. Vaswani et al., NeurIPS 2017,
    arXiv:1706.03762, sec. 3.3; D2L sec. 11.7 (with explicit input width).

    Args:
        ffn_num_input: width of the input at each position.
        ffn_num_hiddens: width of the hidden layer (4x the input in Vaswani et al.).
        ffn_num_outputs: width of the output at each position.
    """

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int) -> None:
        super().__init__()
        for name, value in (
            ("ffn_num_input", ffn_num_input),
            ("ffn_num_hiddens", ffn_num_hiddens),
            ("ffn_num_outputs", ffn_num_outputs),
        ):
            _require_positive_int(name, value)
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_steps, ffn_num_input)`` -> ``(batch_size, num_steps, ffn_num_outputs)``."""
        return self.dense2(self.relu(self.dense1(X)))  # (batch_size, num_steps, ffn_num_outputs)


class AddNorm(nn.Module):
    """Residual connection followed by layer normalisation: ``LayerNorm(X + dropout(Y))``.

    "Add & Norm" of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1 (post-norm); layer
    normalisation of Ba et al., 2016, arXiv:1607.06450; D2L sec. 11.7.

    Args:
        norm_shape: the trailing shape to normalise over, e.g. ``num_hiddens``.
        dropout: dropout probability on ``Y`` in training.
    """

    def __init__(self, norm_shape: int | tuple[int, ...], dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(_require_probability("dropout", dropout))
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """``X`` and ``Y`` of the same shape ``(batch_size, num_steps, num_hiddens)`` -> that shape.

        Raises:
            ValueError: if ``X`` and ``Y`` have different shapes.
        """
        if X.shape != Y.shape:
            raise ValueError(f"X and Y must have the same shape, got {tuple(X.shape)} and {tuple(Y.shape)}")
        return self.ln(self.dropout(Y) + X)  # (batch_size, num_steps, num_hiddens)


def _causal_valid_lens(valid_lens: torch.Tensor | None, batch_size: int, num_steps: int, device: torch.device) -> torch.Tensor:
    """Per-query lengths ``min(i + 1, valid_lens[b])``: query i sees no key after position i."""
    steps = torch.arange(1, num_steps + 1, device=device).expand(batch_size, num_steps)  # (batch_size, num_steps)
    if valid_lens is None:
        return steps
    _check_valid_lens(valid_lens, batch_size, num_steps, num_steps)
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None]  # (batch_size, 1)
    return torch.minimum(steps, valid_lens.to(device))  # (batch_size, num_steps)


class TransformerEncoderBlock(nn.Module):
    """One Transformer encoder layer: self-attention and a feed-forward network, each with Add & Norm.

    ``Y = LayerNorm(X + MultiHead(X, X, X))`` then ``output = LayerNorm(Y + FFN(Y))`` (post-norm,
    as in Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1; D2L sec. 11.7).

    Args:
        num_hiddens: width of the representations at every position.
        ffn_num_hiddens: width of the hidden layer of the feed-forward network.
        num_heads: number of attention heads; must divide ``num_hiddens``.
        dropout: dropout probability (attention weights, residual branches).
        use_bias: whether the attention projections have biases.
        need_weights: passed to :class:`MultiHeadAttention`.

    Attributes:
        attention: the :class:`MultiHeadAttention`; its ``attention_weights`` after a forward have
            shape ``(batch_size, num_heads, num_steps, num_steps)``.

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
        need_weights: bool = True,
    ) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(
            num_hiddens, num_hiddens, num_hiddens, num_hiddens, num_heads, dropout, use_bias, need_weights
        )
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    def forward(
        self, X: torch.Tensor, valid_lens: torch.Tensor | None = None, causal: bool = False
    ) -> torch.Tensor:
        """Let every position attend to the sequence, then transform each position.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)``.
            valid_lens: None or an integer tensor ``(batch_size,)``: padding mask, position j is a
                key only if ``j < valid_lens[b]``; or ``(batch_size, num_steps)``, one length per query.
            causal: if True, position i also sees no position after i (combined with
                ``valid_lens`` by taking the smaller length).

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError, ValueError: for ``X`` of the wrong dtype or shape or bad ``valid_lens``.
        """
        _require_tensor("X", X)
        num_hiddens = self.attention.W_o.out_features
        if X.dim() != 3 or X.shape[-1] != num_hiddens:
            raise ValueError(
                f"X must have shape (batch_size, num_steps, num_hiddens={num_hiddens}), got {tuple(X.shape)}"
            )
        if causal:
            valid_lens = _causal_valid_lens(valid_lens, X.shape[0], X.shape[1], X.device)  # (batch_size, num_steps)
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))  # (batch_size, num_steps, num_hiddens)
        return self.addnorm2(Y, self.ffn(Y))  # (batch_size, num_steps, num_hiddens)


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

    Attributes:
        attention_weights: after a forward, one tensor per block of shape
            ``(batch_size, num_heads, num_steps, num_steps)`` (None for blocks on the fused path).
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
    ) -> None:
        super().__init__()
        _require_positive_int("vocab_size", vocab_size)
        _require_positive_int("num_blks", num_blks)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList(
            TransformerEncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias)
            for _ in range(num_blks)
        )
        self.attention_weights: list[torch.Tensor | None] = [None] * num_blks

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
            ValueError: if ``X`` is not 2-D or a token is out of range.
        """
        if not isinstance(X, torch.Tensor) or X.is_floating_point() or X.dtype == torch.bool:
            raise TypeError("X must be an integer tensor of tokens, shape (batch_size, num_steps)")
        if X.dim() != 2:
            raise ValueError(f"X must have shape (batch_size, num_steps), got {tuple(X.shape)}")
        vocab_size = self.embedding.num_embeddings
        if X.numel() and (int(X.min()) < 0 or int(X.max()) >= vocab_size):
            raise ValueError(f"tokens must lie in [0, vocab_size) = [0, {vocab_size})")
        H = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))  # (batch_size, num_steps, num_hiddens)
        for i, blk in enumerate(self.blks):
            H = blk(H, valid_lens, causal)  # (batch_size, num_steps, num_hiddens)
            self.attention_weights[i] = blk.attention.attention_weights
        return H
