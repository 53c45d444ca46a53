"""Multi-head attention (chapter 04): h scaled dot-product attentions side by side.

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762, sec. 3.2.2.
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.5,
    arXiv:2106.11342), with sizes passed explicitly instead of lazy layers. D2L's ``transpose_qkv``
    and ``transpose_output`` are :func:`split_heads` and :func:`merge_heads` here; they keep the
    heads on an axis of their own, ``(batch_size, num_heads, num_steps, head_dim)``, and the heads
    stay 4-D all the way through the attention core.

Every head goes through :func:`~attention_utils.core.attention`, the book's one attention core
(chapter 03): a head is scaled dot-product attention between projected queries, keys and values,
and the masking rules (``valid_lens``, ``causal``, a fully masked query gives a zero vector) and
the ``need_weights`` switch (:class:`~attention_utils.core.NeedWeightsMixin`) are the core's. The
Transformer's other parts are in ``transformer_layers``, ``transformer`` and later modules.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import (
    check_qkv,
    check_valid_lens,
    require_bool,
    require_dtype,
    require_positive_int,
    require_probability,
)
from .core import NeedWeightsMixin, attention
from .kv_cache import KVCache

__all__ = ["MultiHeadAttention", "as_torch_multihead", "merge_heads", "split_heads"]


def _split_heads(X: torch.Tensor, num_heads: int) -> torch.Tensor:
    batch_size, num_steps, num_hiddens = X.shape
    X = X.reshape(batch_size, num_steps, num_heads, num_hiddens // num_heads)
    # (batch_size, num_steps, num_heads, head_dim)
    return X.transpose(1, 2)  # (batch_size, num_heads, num_steps, head_dim)


def _merge_heads(X: torch.Tensor) -> torch.Tensor:
    batch_size, num_heads, num_steps, head_dim = X.shape
    X = X.transpose(1, 2)  # (batch_size, num_steps, num_heads, head_dim)
    return X.reshape(
        batch_size, num_steps, num_heads * head_dim
    )  # (batch_size, num_steps, num_hiddens)


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
        TypeError: if ``X`` is not a tensor or ``num_heads`` is not an int.
        ValueError: if ``X`` is not 3-D or ``num_hiddens`` is not divisible by ``num_heads``.
    """
    require_positive_int("num_heads", num_heads)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
    if X.dim() != 3:
        raise ValueError(
            f"X must have shape (batch_size, num_steps, num_hiddens), got {tuple(X.shape)}"
        )
    if X.shape[-1] % num_heads:
        raise ValueError(f"num_hiddens = {X.shape[-1]} is not divisible by num_heads = {num_heads}")
    return _split_heads(X, num_heads)  # (batch_size, num_heads, num_steps, head_dim)


def merge_heads(X: torch.Tensor) -> torch.Tensor:
    """Undo :func:`split_heads`: concatenate the heads along the last axis.

    ``output[b, t, j * head_dim : (j + 1) * head_dim] = X[b, j, t, :]``, which is
    ``Concat(head_1, ..., head_h)`` of Vaswani et al. for every position. D2L: ``transpose_output``.

    Args:
        X: shape ``(batch_size, num_heads, num_steps, head_dim)``.

    Returns:
        Shape ``(batch_size, num_steps, num_heads * head_dim)``.

    Raises:
        TypeError: if ``X`` is not a tensor.
        ValueError: if ``X`` is not 4-D.
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
    if X.dim() != 4:
        raise ValueError(
            f"X must have shape (batch_size, num_heads, num_steps, head_dim), got {tuple(X.shape)}"
        )
    return _merge_heads(X)  # (batch_size, num_steps, num_hiddens)


class MultiHeadAttention(NeedWeightsMixin, nn.Module):
    """Multi-head attention: ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O``.

    Each ``head_j = softmax(Q W_j^Q (K W_j^K)^T / sqrt(d)) V W_j^V`` with ``d = num_hiddens / h``.
    The ``h`` projections of the queries are stored side by side in one ``nn.Linear`` ``W_q``
    (rows ``j d`` to ``(j + 1) d`` of its weight are ``(W_j^Q)^T``), likewise ``W_k`` and ``W_v``;
    ``W_o`` is ``W^O``. Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.2; D2L sec. 11.5.

    Parameters: ``num_hiddens * (query_size + key_size + value_size + num_hiddens)`` weights, plus
    ``4 * num_hiddens`` biases when ``bias`` is True (with ``num_kv_heads = g < h``, ``W_k`` and
    ``W_v`` have ``g / h`` of those rows).

    Grouped-query attention (Ainslie et al., EMNLP 2023, arXiv:2305.13245): with
    ``num_kv_heads = g`` dividing ``h``, only ``g`` key and value heads are projected, and query
    head ``j`` attends with key-value head ``j // (h / g)``. ``g = 1`` is multi-query attention
    (Shazeer, 2019, arXiv:1911.02150); ``g = h`` (the default) is ordinary multi-head attention.
    A :class:`~attention_utils.kv_cache.KVCache` then stores ``g`` heads, ``g / h`` of the bytes.

    Args:
        key_size: length of each key vector.
        query_size: length of each query vector.
        value_size: length of each value vector.
        num_hiddens: total width of the projections and of the output; ``num_hiddens / num_heads``
            is the width of each head.
        num_heads: number of heads ``h``.
        dropout: dropout probability on the attention weights in training.
        bias: whether the four linear layers have biases.
        num_kv_heads: number of key-value heads ``g``, dividing ``num_heads``; None means
            ``num_heads``.
        need_weights: keyword only. False (default) takes PyTorch's fused
            ``scaled_dot_product_attention`` and keeps no weights; True takes the readable path
            and keeps them (:class:`~attention_utils.core.NeedWeightsMixin`).

    Attributes:
        dropout: the ``nn.Dropout`` whose ``p`` acts on the weights in training.
        attention_weights: after a forward with ``need_weights`` True, the weights of every head,
            detached, shape ``(batch_size, num_heads, num_queries, num_keys)``; None after a fused
            forward (and before the first).

    Raises:
        TypeError: if a size is not an int, ``dropout`` not a number, or a flag not a bool.
        ValueError: if a size is not positive, ``num_hiddens`` is not divisible by ``num_heads``,
            ``num_heads`` not by ``num_kv_heads``, or ``dropout`` is not in [0, 1).
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
        num_kv_heads: int | None = None,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("key_size", key_size),
            ("query_size", query_size),
            ("value_size", value_size),
            ("num_hiddens", num_hiddens),
            ("num_heads", num_heads),
        ):
            require_positive_int(name, value)
        if num_hiddens % num_heads:
            raise ValueError(
                f"num_hiddens = {num_hiddens} must be divisible by num_heads = {num_heads}: "
                "each head gets num_hiddens / num_heads features"
            )
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        require_positive_int("num_kv_heads", num_kv_heads)
        if num_heads % num_kv_heads:
            raise ValueError(
                f"num_heads = {num_heads} must be divisible by num_kv_heads = {num_kv_heads}: "
                "each key-value head serves num_heads / num_kv_heads query heads"
            )
        require_bool("bias", bias)
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        kv_hiddens = num_kv_heads * (num_hiddens // num_heads)  # the key-value heads' total width
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, kv_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, kv_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.need_weights = need_weights
        self.attention_weights: torch.Tensor | None = None

    def check_inputs(self, queries: object, keys: object, values: object) -> None:
        """Raise a clear TypeError/ValueError unless the three tensors fit this layer."""
        check_qkv(queries, keys, values, self.W_q.in_features, self.W_k.in_features)
        if queries.dim() != 3:
            raise ValueError(
                "queries, keys and values must be 3-D, (batch_size, num_queries, query_size) etc., "
                f"got {tuple(queries.shape)}"
            )
        if values.shape[-1] != self.W_v.in_features:
            raise ValueError(
                "values must have shape (batch_size, num_keys, "
                f"value_size={self.W_v.in_features}), "
                f"got {tuple(values.shape)}"
            )
        require_dtype("queries", queries, self)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
        *,
        causal: bool = False,
        attn_mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Project, attend in every head, concatenate the heads and project again.

        Args:
            queries: ``(batch_size, num_queries, query_size)``.
            keys: ``(batch_size, num_keys, key_size)``.
            values: ``(batch_size, num_keys, value_size)``.
            valid_lens: None, ``(batch_size,)`` or ``(batch_size, num_queries)`` integer tensor:
                query i of example b sees the keys ``j < valid_lens[b]`` (or ``valid_lens[b, i]``);
                the same mask for every head. A query that sees no key gets the output
                ``W_o(0)`` (the zero vector without bias; ``nn.MultiheadAttention`` gives NaN).
            causal: if True, query i also sees no key after position
                ``i + num_keys - num_queries`` (a decoder's self-attention).
            attn_mask: None, or a bool tensor (True = the key takes part) or a float bias that
                broadcasts to ``(batch_size, num_heads, num_queries, num_keys)``, as in
                :func:`~attention_utils.core.attention`; combined with the other masks.
            cache: None, or a :class:`~attention_utils.kv_cache.KVCache` for incremental
                decoding: the new ``keys`` and ``values`` are projected, appended to it and the
                queries attend over everything it holds (``num_keys`` then counts the cached
                positions too, for ``valid_lens`` and ``causal``); a static cache that is already
                filled is read and ``keys``/``values`` are not projected.

        Returns:
            ``(batch_size, num_queries, num_hiddens)``.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype (also against the parameters'),
                rank or sizes, and for bad ``valid_lens``; the message names the expected shape.
        """
        self.check_inputs(queries, keys, values)
        require_bool("causal", causal)
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be None or a KVCache, got {type(cache).__name__}")
        num_keys = keys.shape[1]
        if cache is not None:
            filled = cache.static and cache.is_filled
            num_keys = cache.num_steps if filled else num_keys + cache.num_steps
        if valid_lens is not None:
            check_valid_lens(  # the range: checked once, in the core
                valid_lens, queries.shape[0], queries.shape[1], num_keys, check_range=False
            )
        h = self.num_heads
        q = _split_heads(self.W_q(queries), h)  # (batch_size, num_heads, num_queries, head_dim)
        if cache is not None and cache.static and cache.is_filled:
            k, v = cache.keys, cache.values  # (batch_size, num_kv_heads, num_keys, head_dim)
        else:
            g = self.num_kv_heads
            k = _split_heads(self.W_k(keys), g)  # (batch_size, num_kv_heads, num_new, head_dim)
            v = _split_heads(self.W_v(values), g)  # (batch_size, num_kv_heads, num_new, head_dim)
            if cache is not None:
                k, v = cache.append(k, v)  # (batch_size, num_kv_heads, num_keys, head_dim)
        if self.num_kv_heads != h:  # grouped-query attention: query head j uses kv head j // (h/g)
            group = h // self.num_kv_heads
            k = k.repeat_interleave(group, dim=1)  # (batch_size, num_heads, num_keys, head_dim)
            v = v.repeat_interleave(group, dim=1)  # (batch_size, num_heads, num_keys, head_dim)
        dropout_p = self.dropout.p if self.training else 0.0
        output, weights = attention(
            q, k, v, valid_lens, attn_mask, dropout_p, self.need_weights, causal=causal
        )  # (batch_size, num_heads, num_queries, head_dim), weights or None
        self.attention_weights = None if weights is None else weights.detach()
        return self.W_o(_merge_heads(output))  # (batch_size, num_queries, num_hiddens)


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
        vdim=value_size, batch_first=True)`` in ``mha``'s training mode, dtype and device.

    Raises:
        TypeError: if ``mha`` is not a :class:`MultiHeadAttention`.
        ValueError: if ``query_size != num_hiddens`` or ``num_kv_heads != num_heads``.
    """
    if not isinstance(mha, MultiHeadAttention):
        raise TypeError(f"mha must be a MultiHeadAttention, got {type(mha).__name__}")
    num_hiddens = mha.W_o.out_features
    if mha.num_kv_heads != mha.num_heads:
        raise ValueError(
            "nn.MultiheadAttention has one key-value head per query head, got num_kv_heads = "
            f"{mha.num_kv_heads} < num_heads = {mha.num_heads}"
        )
    if mha.W_q.in_features != num_hiddens:
        raise ValueError(
            f"nn.MultiheadAttention needs query_size == num_hiddens, got query_size = "
            f"{mha.W_q.in_features} and num_hiddens = {num_hiddens}"
        )
    bias = mha.W_o.bias is not None
    torch_mha = nn.MultiheadAttention(
        num_hiddens,
        mha.num_heads,
        dropout=mha.dropout.p,
        bias=bias,
        kdim=mha.W_k.in_features,
        vdim=mha.W_v.in_features,
        batch_first=True,
        device=mha.W_o.weight.device,
        dtype=mha.W_o.weight.dtype,
    )
    with torch.no_grad():
        if torch_mha._qkv_same_embed_dim:
            torch_mha.in_proj_weight.copy_(
                torch.cat([mha.W_q.weight, mha.W_k.weight, mha.W_v.weight])
            )
        else:
            torch_mha.q_proj_weight.copy_(mha.W_q.weight)
            torch_mha.k_proj_weight.copy_(mha.W_k.weight)
            torch_mha.v_proj_weight.copy_(mha.W_v.weight)
        torch_mha.out_proj.weight.copy_(mha.W_o.weight)
        if bias:
            torch_mha.in_proj_bias.copy_(torch.cat([mha.W_q.bias, mha.W_k.bias, mha.W_v.bias]))
            torch_mha.out_proj.bias.copy_(mha.W_o.bias)
    return torch_mha.train(mha.training)
