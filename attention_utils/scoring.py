"""Attention scoring functions: masked softmax, additive, (scaled) dot-product and bilinear scores.

Sources:
    D. Bahdanau, K. Cho, Y. Bengio, "Neural machine translation by jointly learning to align and
    translate", ICLR 2015, arXiv:1409.0473 (additive attention).
    M.-T. Luong, H. Pham, C. D. Manning, "Effective approaches to attention-based neural machine
    translation", EMNLP 2015, arXiv:1508.04025 (the dot and "general", i.e. bilinear, scores).
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (scaled
    dot-product attention).
    Names, argument order and the ``attention_weights`` attribute follow D2L (Zhang et al.,
    *Dive into Deep Learning*, 2023, sec. 11.3, arXiv:2106.11342), with sizes passed explicitly.

Every layer here computes, for queries q_i, keys k_j and values v_j,

    output_i = sum_j softmax_j(a(q_i, k_j)) v_j

and differs only in the scoring function a. After a forward call each layer keeps the weights it
used in ``self.attention_weights``, shape ``(batch_size, num_queries, num_keys)``, for plotting.

Masks. ``valid_lens`` says how many keys each query may look at: key j takes part for query i of
example b exactly when ``j < valid_lens[b]`` (shape ``(batch_size,)``) or ``j < valid_lens[b, i]``
(shape ``(batch_size, num_queries)``); ``valid_lens[b, i] = i + 1`` is a causal mask. Masked scores
are filled with ``torch.finfo(dtype).min`` (finite in float16 and bfloat16) and masked weights are
set to exactly 0. A query whose keys are all masked (valid length 0) gets all-zero weights, so its
attention output is the zero vector: a defined result with no NaN.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .checks import _require_positive_int, _require_probability, _require_tensor

__all__ = [
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    "masked_softmax",
    "valid_lens_to_mask",
]


def _check_valid_lens(valid_lens: object, batch_size: int, num_queries: int, num_keys: int) -> torch.Tensor:
    """Raise a clear error unless ``valid_lens`` is an integer tensor of an accepted shape and range."""
    if not isinstance(valid_lens, torch.Tensor):
        raise TypeError(
            f"valid_lens must be None or an integer torch.Tensor, got {type(valid_lens).__name__}"
        )
    if valid_lens.is_floating_point() or valid_lens.is_complex() or valid_lens.dtype == torch.bool:
        raise TypeError(
            f"valid_lens must have an integer dtype (e.g. torch.long), got {valid_lens.dtype}; "
            "a count of keys is a whole number"
        )
    if tuple(valid_lens.shape) not in ((batch_size,), (batch_size, num_queries)):
        raise ValueError(
            f"valid_lens must have shape (batch_size,) = ({batch_size},) or "
            f"(batch_size, num_queries) = ({batch_size}, {num_queries}), got {tuple(valid_lens.shape)}"
        )
    if valid_lens.numel() and (bool((valid_lens < 0).any()) or bool((valid_lens > num_keys).any())):
        raise ValueError(
            f"valid_lens must lie in [0, num_keys] = [0, {num_keys}], got values from "
            f"{int(valid_lens.min())} to {int(valid_lens.max())}"
        )
    return valid_lens


def valid_lens_to_mask(
    valid_lens: torch.Tensor | None, num_queries: int, num_keys: int
) -> torch.Tensor | None:
    """The boolean key mask that ``valid_lens`` describes (True = the key takes part).

    ``mask[b, i, j] = j < valid_lens[b]`` for 1-D ``valid_lens``, and ``j < valid_lens[b, i]`` for
    2-D ones. This is the convention of the boolean ``attn_mask`` of
    ``torch.nn.functional.scaled_dot_product_attention``, so the mask can be passed to it as is.

    Args:
        valid_lens: None, or an integer tensor of shape ``(batch_size,)`` or
            ``(batch_size, num_queries)`` with entries in ``[0, num_keys]``.
        num_queries: number of queries per example.
        num_keys: number of keys per example.

    Returns:
        None when ``valid_lens`` is None (nothing is masked), else a bool tensor of shape
        ``(batch_size, num_queries, num_keys)`` on ``valid_lens``'s device.

    Raises:
        TypeError: if ``valid_lens`` is not an integer tensor.
        ValueError: if its shape is neither ``(batch_size,)`` nor ``(batch_size, num_queries)``,
            or an entry is negative or larger than ``num_keys``.
    """
    if valid_lens is None:
        return None
    batch_size = valid_lens.shape[0] if isinstance(valid_lens, torch.Tensor) and valid_lens.dim() else -1
    _check_valid_lens(valid_lens, batch_size, num_queries, num_keys)
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None].expand(-1, num_queries)  # (batch_size, num_queries)
    positions = torch.arange(num_keys, device=valid_lens.device)  # (num_keys,)
    return positions < valid_lens[:, :, None]  # (batch_size, num_queries, num_keys)


def masked_softmax(X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis of ``X``, ignoring the keys that ``valid_lens`` masks out.

    ``weights[b, i, j] = exp(X[b, i, j]) / sum_{j' < L} exp(X[b, i, j'])`` for ``j < L`` and 0
    otherwise, where ``L`` is ``valid_lens[b]`` or ``valid_lens[b, i]``. Masked scores are filled
    with ``torch.finfo(X.dtype).min`` before the softmax, and masked weights are then set to exactly
    0. A row with ``L = 0`` (every key masked) is all zeros: it does not sum to 1, but it is defined
    and gives an attention output of 0.

    Args:
        X: scores, floating point, shape ``(batch_size, num_queries, num_keys)``.
        valid_lens: None (no mask), or an integer tensor of shape ``(batch_size,)`` (one length per
            example) or ``(batch_size, num_queries)`` (one per query; ``i + 1`` is a causal mask),
            entries in ``[0, num_keys]``.

    Returns:
        Weights of shape ``(batch_size, num_queries, num_keys)``, ``X``'s dtype.

    Raises:
        TypeError: if ``X`` is not a floating-point tensor or ``valid_lens`` is not an integer tensor.
        ValueError: if ``X`` is not 3-D, ``valid_lens`` has the wrong shape, or an entry of
            ``valid_lens`` is negative or larger than ``num_keys``.

    Source: D2L sec. 11.3 (arXiv:2106.11342), which fills with -1e6; the dtype's minimum here keeps
    float16 finite, and the explicit zeroing defines the all-masked row.
    """
    _require_tensor("X", X)
    if X.dim() != 3:
        raise ValueError(
            f"X must have shape (batch_size, num_queries, num_keys), got {tuple(X.shape)}"
        )
    if valid_lens is None:
        return F.softmax(X, dim=-1)  # (batch_size, num_queries, num_keys)
    batch_size, num_queries, num_keys = X.shape
    _check_valid_lens(valid_lens, batch_size, num_queries, num_keys)
    mask = valid_lens_to_mask(valid_lens.to(X.device), num_queries, num_keys)  # (batch_size, num_queries, num_keys)
    scores = X.masked_fill(~mask, torch.finfo(X.dtype).min)
    weights = F.softmax(scores, dim=-1)  # (batch_size, num_queries, num_keys)
    return weights.masked_fill(~mask, 0.0)


def _check_qkv(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    query_size: int | None = None,
    key_size: int | None = None,
) -> None:
    """Raise a clear error unless queries, keys and values have compatible 3-D shapes."""
    expected = {
        "queries": "(batch_size, num_queries, query_size)",
        "keys": "(batch_size, num_keys, key_size)",
        "values": "(batch_size, num_keys, value_size)",
    }
    for name, tensor in (("queries", queries), ("keys", keys), ("values", values)):
        _require_tensor(name, tensor)
        if tensor.dim() != 3:
            raise ValueError(f"{name} must have shape {expected[name]}, got {tuple(tensor.shape)}")
    if not queries.dtype == keys.dtype == values.dtype:
        raise TypeError(
            f"queries, keys and values must share a dtype, got {queries.dtype}, {keys.dtype}, {values.dtype}"
        )
    if not queries.shape[0] == keys.shape[0] == values.shape[0]:
        raise ValueError(
            "queries, keys and values must have the same batch_size, got shapes "
            f"{tuple(queries.shape)}, {tuple(keys.shape)}, {tuple(values.shape)}"
        )
    if keys.shape[1] != values.shape[1]:
        raise ValueError(
            "keys (batch_size, num_keys, key_size) and values (batch_size, num_keys, value_size) "
            f"must have the same num_keys, got {tuple(keys.shape)} and {tuple(values.shape)}"
        )
    if query_size is not None and queries.shape[-1] != query_size:
        raise ValueError(
            f"queries must have shape (batch_size, num_queries, query_size={query_size}), "
            f"got {tuple(queries.shape)}"
        )
    if key_size is not None and keys.shape[-1] != key_size:
        raise ValueError(
            f"keys must have shape (batch_size, num_keys, key_size={key_size}), got {tuple(keys.shape)}"
        )


class _ScoredAttention(nn.Module):
    """Attention pooling with a scoring function: subclasses define ``scores`` only.

    ``forward`` checks the inputs, scores every query against every key, applies the masked
    softmax and averages the values; the weights stay in ``self.attention_weights``. Sizes left
    as None (dot-product attention takes any ``d``) are not checked against the inputs.
    """

    def __init__(self, dropout: float, query_size: int | None = None, key_size: int | None = None) -> None:
        super().__init__()
        self._sizes = tuple(
            None if size is None else _require_positive_int(name, size)
            for name, size in (("query_size", query_size), ("key_size", key_size))
        )
        self.dropout = nn.Dropout(_require_probability("dropout", dropout))
        self.attention_weights: torch.Tensor | None = None

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``a(q, k)`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        raise NotImplementedError

    def _check_inputs(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> None:
        _check_qkv(queries, keys, values, *self._sizes)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend from ``queries`` to ``keys`` and average ``values``.

        Args:
            queries: ``(batch_size, num_queries, query_size)``.
            keys: ``(batch_size, num_keys, key_size)``.
            values: ``(batch_size, num_keys, value_size)``.
            valid_lens: None, ``(batch_size,)`` or ``(batch_size, num_queries)``, as in
                :func:`masked_softmax`.

        Returns:
            ``(batch_size, num_queries, value_size)``.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype, rank or sizes, and for bad
                ``valid_lens`` (see :func:`masked_softmax`).
        """
        self._check_inputs(queries, keys, values)
        scores = self.scores(queries, keys)  # (batch_size, num_queries, num_keys)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)  # (batch_size, num_queries, value_size)


class AdditiveAttention(_ScoredAttention):
    """Additive attention: ``a(q, k) = w_v^T tanh(W_q q + W_k k)``.

    Works for queries and keys of different lengths: both are projected to ``num_hiddens``.
    Bahdanau, Cho, Bengio, ICLR 2015, arXiv:1409.0473 (eq. 6 of their appendix).

    Args:
        key_size: length of each key vector.
        query_size: length of each query vector.
        num_hiddens: width of the hidden layer, the rows of ``W_q`` and ``W_k``.
        dropout: dropout probability applied to the attention weights in training.

    Attributes:
        W_k, W_q, w_v: the ``nn.Linear`` layers (no bias), weights of shapes
            ``(num_hiddens, key_size)``, ``(num_hiddens, query_size)``, ``(1, num_hiddens)``.
        attention_weights: the weights of the last forward, ``(batch_size, num_queries, num_keys)``.
    """

    def __init__(self, key_size: int, query_size: int, num_hiddens: int, dropout: float) -> None:
        super().__init__(dropout, query_size, key_size)
        _require_positive_int("num_hiddens", num_hiddens)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``w_v^T tanh(W_q q + W_k k)`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        queries, keys = self.W_q(queries), self.W_k(keys)  # (batch_size, num_queries or num_keys, num_hiddens)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)  # (batch_size, num_queries, num_keys, num_hiddens)
        return self.w_v(torch.tanh(features)).squeeze(-1)  # (batch_size, num_queries, num_keys)


class DotProductAttention(_ScoredAttention):
    """Scaled dot-product attention: ``a(q, k) = q^T k / sqrt(d)``.

    Queries and keys must have the same length ``d``. In matrix form,
    ``softmax(Q K^T / sqrt(d)) V``. Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.1.

    Two paths compute the same numbers:

    - ``need_weights=True`` (default): the readable path, which builds the weights with
      :func:`masked_softmax` and keeps them in ``self.attention_weights``.
    - ``need_weights=False``: PyTorch's fused ``torch.nn.functional.scaled_dot_product_attention``
      with a boolean ``attn_mask`` from :func:`valid_lens_to_mask` and dropout only in training;
      ``self.attention_weights`` is set to None. For a query whose keys are all masked, recent
      PyTorch (2.5 on) returns 0 and older versions return NaN; this layer sets that output to 0
      either way, matching the readable path.

    Args:
        dropout: dropout probability applied to the attention weights in training.
        need_weights: which path to take; an attribute that can also be set later.
    """

    def __init__(self, dropout: float, need_weights: bool = True) -> None:
        super().__init__(dropout)
        self.need_weights = need_weights

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``q^T k / sqrt(d)`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        return torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(queries.shape[-1])

    def _check_inputs(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> None:
        _check_qkv(queries, keys, values)
        if keys.shape[-1] != queries.shape[-1]:
            raise ValueError(
                "dot-product attention needs queries (batch_size, num_queries, d) and keys "
                f"(batch_size, num_keys, d) of the same d, got {tuple(queries.shape)} and "
                f"{tuple(keys.shape)}; use AdditiveAttention or BilinearAttention for different sizes"
            )

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """As for the other scoring layers, with ``query_size = key_size = d``.

        Returns ``(batch_size, num_queries, value_size)``; raises TypeError or ValueError for bad
        tensors (including queries and keys of different lengths ``d``) and bad ``valid_lens``.
        With ``need_weights`` False it takes the fused path and keeps no weights.
        """
        if self.need_weights:
            return super().forward(queries, keys, values, valid_lens)  # the readable path
        self._check_inputs(queries, keys, values)
        self.attention_weights = None
        num_queries, num_keys = queries.shape[1], keys.shape[1]
        if valid_lens is not None:
            _check_valid_lens(valid_lens, queries.shape[0], num_queries, num_keys)
            valid_lens = valid_lens.to(queries.device)
        mask = valid_lens_to_mask(valid_lens, num_queries, num_keys)  # (batch_size, num_queries, num_keys)
        dropout_p = self.dropout.p if self.training else 0.0
        return _fused_attention(queries, keys, values, mask, dropout_p)  # (batch_size, num_queries, value_size)


def _fused_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None,
    dropout_p: float,
) -> torch.Tensor:
    """PyTorch's fused scaled dot-product attention with this module's convention for empty rows.

    Shapes ``(..., num_queries, d)``, ``(..., num_keys, d)``, ``(..., num_keys, value_size)`` with
    the same leading dimensions; ``mask`` (True = attend) broadcasts against
    ``(..., num_queries, num_keys)``. Multi-head attention calls it with the heads as a dimension of
    their own, ``(batch_size, num_heads, ...)``, which PyTorch's CPU kernels handle much faster than
    heads folded into the batch. A query whose keys are all masked gets a zero output, as on the
    readable path (PyTorch before 2.5 returns NaN there).
    """
    if queries.dim() == 3:
        # PyTorch 2.13's CPU dispatcher sends 3-D inputs to its slow math kernel and 4-D ones to
        # the fused kernel (3-4x faster, benchmarks/bench_scoring.py): add a leading dimension.
        mask = None if mask is None else mask.unsqueeze(0)  # (1, batch_size, num_queries, num_keys)
        return _fused_attention(queries[None], keys[None], values[None], mask, dropout_p)[0]
    output = F.scaled_dot_product_attention(queries, keys, values, attn_mask=mask, dropout_p=dropout_p)
    if mask is not None:
        output = output.masked_fill(~mask.any(-1, keepdim=True), 0.0)  # all-masked rows -> 0
    return output  # (..., num_queries, value_size)


class BilinearAttention(_ScoredAttention):
    """Bilinear ("general") attention: ``a(q, k) = q^T W k``.

    A dot product through a learned matrix ``W`` of shape ``(query_size, key_size)``: it works for
    queries and keys of different lengths, and unlike ``q^T k`` it need not be symmetric
    (``a(x, y) != a(y, x)`` in general). ``W`` = identity gives the plain dot product. Luong, Pham,
    Manning, EMNLP 2015, arXiv:1508.04025, eq. 8 ("general"); unscaled, as there.

    Args:
        query_size: length of each query vector.
        key_size: length of each key vector.
        dropout: dropout probability applied to the attention weights in training.

    Attributes:
        W: ``nn.Linear(key_size, query_size, bias=False)``; its weight is the matrix ``W``.
        attention_weights: the weights of the last forward, ``(batch_size, num_queries, num_keys)``.
    """

    def __init__(self, query_size: int, key_size: int, dropout: float) -> None:
        super().__init__(dropout, query_size, key_size)
        self.W = nn.Linear(key_size, query_size, bias=False)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``q^T W k`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        projected = self.W(keys)  # (batch_size, num_keys, query_size)
        return torch.bmm(queries, projected.transpose(1, 2))  # (batch_size, num_queries, num_keys)
