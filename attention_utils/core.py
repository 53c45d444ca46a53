"""The attention core: masks, the masked softmax and the one function every attention calls.

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (scaled
    dot-product attention, sec. 3.2.1).
    D. Bahdanau, K. Cho, Y. Bengio, ICLR 2015, arXiv:1409.0473 (a softmax over precomputed,
    additive scores).
    Names follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.3,
    arXiv:2106.11342).

For queries q_i, keys k_j and values v_j every attention in this library computes

    output_i = sum_j softmax_j(a(q_i, k_j)) v_j

and differs only in the scoring function a. :func:`attention` is scaled dot-product attention as
a function, ``a(q, k) = q^T k / sqrt(d)``; :func:`attention_pool` is the same tail for scores
computed elsewhere (additive scoring, a learned query, outlook attention). They are the only
places in the library that take a softmax over keys, so the choice between the readable path
(which builds the weights) and PyTorch's fused kernel is made here only. The scoring layers of
chapter 03 are in ``scoring``, multi-head attention in ``multihead``.

Masks (``valid_lens``, ``causal``, ``attn_mask``) follow :func:`attention`'s rules. Masked
scores are filled with ``torch.finfo(dtype).min`` (finite in float16) and masked weights set to
exactly 0, so a query whose keys are all masked gets the zero vector on both paths, with no NaN
(``torch.nn.MultiheadAttention`` returns NaN there; this library differs on purpose).

Padding that holds NaN. A weight of exactly 0 does not protect the output from a NaN in a masked
value, because ``0 * NaN = NaN`` inside ``weights @ values``. So the keys that no query may see
(padding: a key masked for every query) have their values (and, on the fused path, their keys)
replaced by 0 before the product: whatever a padded position holds, it cannot reach the output.
A key that some query sees is used as it is, so a NaN there still shows up, where it belongs.

The weights switch is :class:`NeedWeightsMixin`, inherited by every module that holds attention.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .checks import (
    check_attn_mask,
    check_pool_inputs,
    check_qkv,
    check_same_d,
    check_valid_lens,
    require_bool,
    require_positive,
    require_positive_int,
    require_probability,
    require_tensor,
)

__all__ = [
    "NeedWeightsMixin",
    "attention",
    "attention_pool",
    "masked_softmax",
    "valid_lens_to_mask",
]


class NeedWeightsMixin:
    """The one ``need_weights`` switch of every module that holds attention.

    This is the one place that documents it, for every module of the library (sequence and
    self-attention layers, and the CNN gates of chapters 05 and 09 alike): ``need_weights`` is a
    keyword-only argument and a settable attribute, False by default. While False, attention runs
    PyTorch's fused kernel where one exists and keeps no weights (``attention_weights`` is None
    after the call). Set it to True (``need_weights=True``, or ``module.need_weights = True``
    later) to take the readable path and keep the weights of the last forward, detached: a tensor
    per layer, a list per stack. Setting it on a module sets it on every module inside that also
    holds attention, so ``transformer.need_weights = True`` switches every layer of the encoder
    and the decoder at once.

    Raises:
        TypeError: when set to anything but True or False (the string ``'False'`` included).
    """

    _need_weights: bool = False

    @property
    def need_weights(self) -> bool:
        """Whether this module keeps attention weights (readable path) or runs fused."""
        return self._need_weights

    @need_weights.setter
    def need_weights(self, value: bool) -> None:
        require_bool("need_weights", value)
        children = self.modules() if hasattr(self, "modules") else (self,)
        for module in children:
            if isinstance(module, NeedWeightsMixin):
                object.__setattr__(module, "_need_weights", value)


# --- masks ------------------------------------------------------------------------------------


def _valid_lens_mask(valid_lens: torch.Tensor, ndim: int, num_keys: int) -> torch.Tensor:
    """Bool mask (True = take part) that broadcasts to scores ``(batch_size, ..., nq, nk)``."""
    positions = torch.arange(num_keys, device=valid_lens.device)  # (num_keys,)
    if valid_lens.dim() == 1:
        lens = valid_lens.reshape(-1, *([1] * (ndim - 1)))  # (batch_size, 1, ..., 1)
    else:
        lens = valid_lens.reshape(valid_lens.shape[0], *([1] * (ndim - 3)), -1, 1)
        # (batch_size, 1, ..., num_queries, 1)
    return positions < lens  # (batch_size, 1, ..., num_queries or 1, num_keys)


def _causal_mask(num_queries: int, num_keys: int, device: torch.device) -> torch.Tensor:
    """``mask[i, j] = j <= i + num_keys - num_queries``: no query sees a later key."""
    ones = torch.ones(num_queries, num_keys, dtype=torch.bool, device=device)
    return ones.tril(num_keys - num_queries)  # (num_queries, num_keys)


def _key_mask(
    valid_lens: torch.Tensor | None,
    attn_mask: torch.Tensor | None,
    causal: bool,
    queries: torch.Tensor,
    num_keys: int,
) -> torch.Tensor | None:
    """All boolean masks combined (True = take part), or None when nothing is masked."""
    mask = None
    if valid_lens is not None:
        mask = _valid_lens_mask(valid_lens.to(queries.device), queries.dim(), num_keys)
    if causal and queries.shape[-2] > 1:  # one query, aligned at the last key, sees every key
        future = _causal_mask(
            queries.shape[-2], num_keys, queries.device
        )  # (num_queries, num_keys)
        mask = future if mask is None else mask & future
    if attn_mask is not None:
        mask = attn_mask if mask is None else mask & attn_mask
    return mask  # broadcasts to (..., num_queries, num_keys)


def _zero_padding(mask: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` ``(..., num_keys, size)`` with 0 at every key that no query may see."""
    seen = mask.any(dim=-2, keepdim=True).transpose(-2, -1)  # (..., num_keys, 1)
    zero = torch.zeros((), dtype=tensors[0].dtype, device=tensors[0].device)
    return tuple(torch.where(seen, t, zero) for t in tensors)


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis with masked entries filled by the dtype's minimum, then 0."""
    if mask is None:
        return F.softmax(scores, dim=-1)  # (..., num_queries, num_keys)
    weights = F.softmax(scores.masked_fill(~mask, torch.finfo(scores.dtype).min), dim=-1)
    return weights.masked_fill(~mask, 0.0)  # (..., num_queries, num_keys)


# --- public mask helpers ------------------------------------------------------------------------


def valid_lens_to_mask(
    valid_lens: torch.Tensor | None, num_queries: int, num_keys: int, *, causal: bool = False
) -> torch.Tensor | None:
    """The boolean key mask that ``valid_lens`` describes (True = the key takes part).

    ``mask[b, i, j] = j < valid_lens[b]`` for 1-D ``valid_lens``, and ``j < valid_lens[b, i]`` for
    2-D ones; with ``causal`` also ``j <= i + num_keys - num_queries``. This is the convention of
    the boolean ``attn_mask`` of ``torch.nn.functional.scaled_dot_product_attention`` and of
    :func:`attention`.

    Args:
        valid_lens: None, or an integer tensor of shape ``(batch_size,)`` or
            ``(batch_size, num_queries)`` with entries in ``[0, num_keys]``.
        num_queries: number of queries per example.
        num_keys: number of keys per example.
        causal: also hide the later keys from each query, as in :func:`attention`.

    Returns:
        None when ``valid_lens`` is None and ``causal`` False (nothing is masked); the causal
        mask ``(num_queries, num_keys)`` when only ``causal``; else a bool tensor of shape
        ``(batch_size, num_queries, num_keys)`` on ``valid_lens``'s device.

    Raises:
        TypeError: if ``valid_lens`` is not an integer tensor or a size is not an int.
        ValueError: if its shape is neither ``(batch_size,)`` nor ``(batch_size, num_queries)``,
            or an entry is negative or larger than ``num_keys``.
    """
    require_positive_int("num_queries", num_queries)
    require_positive_int("num_keys", num_keys)
    require_bool("causal", causal)
    if valid_lens is None:
        if not causal:
            return None
        return _causal_mask(num_queries, num_keys, None)  # (num_queries, num_keys)
    batch_size = (
        valid_lens.shape[0] if isinstance(valid_lens, torch.Tensor) and valid_lens.dim() else -1
    )
    check_valid_lens(valid_lens, batch_size, num_queries, num_keys)
    mask = _valid_lens_mask(valid_lens, 3, num_keys)  # (batch_size, 1 or num_queries, num_keys)
    if causal:
        mask = mask & _causal_mask(num_queries, num_keys, valid_lens.device)
    return mask.expand(batch_size, num_queries, num_keys)  # (batch_size, num_queries, num_keys)


def masked_softmax(X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis of ``X``, ignoring the keys that ``valid_lens`` masks out.

    ``weights[b, ..., i, j] = exp(X[b, ..., i, j]) / sum_{j' < L} exp(X[b, ..., i, j'])`` for
    ``j < L`` and 0 otherwise, where ``L`` is ``valid_lens[b]`` or ``valid_lens[b, i]``, shared by
    every middle dimension (e.g. the heads). Masked scores are filled with
    ``torch.finfo(X.dtype).min`` before the softmax, and masked weights are then set to exactly 0.
    A row with ``L = 0`` (every key masked) is all zeros: it does not sum to 1, but it is defined
    and gives an attention output of 0.

    Args:
        X: scores, floating point, shape ``(batch_size, ..., num_queries, num_keys)``; D2L's
            ``(batch_size, num_queries, num_keys)`` and multi-head
            ``(batch_size, num_heads, num_queries, num_keys)`` are both fine.
        valid_lens: None (no mask), or an integer tensor of shape ``(batch_size,)`` (one length per
            example) or ``(batch_size, num_queries)`` (one per query; ``i + 1`` is a causal mask),
            entries in ``[0, num_keys]``.

    Returns:
        Weights of ``X``'s shape and dtype.

    Raises:
        TypeError: if ``X`` is not a floating-point tensor or ``valid_lens`` is not an integer
            tensor.
        ValueError: if ``X`` has fewer than 2 dimensions (3 with per-query lengths),
            ``valid_lens`` has the wrong shape, or an entry of ``valid_lens`` is negative or larger
            than ``num_keys``.

    Source: D2L sec. 11.3 (arXiv:2106.11342), which fills with -1e6; the dtype's minimum here keeps
    float16 finite, and the explicit zeroing defines the all-masked row.
    """
    require_tensor("X", X)
    if X.dim() < 2:
        raise ValueError(
            f"X must have shape (batch_size, ..., num_queries, num_keys), got {tuple(X.shape)}"
        )
    if valid_lens is None:
        return F.softmax(X, dim=-1)  # (batch_size, ..., num_queries, num_keys)
    per_query = isinstance(valid_lens, torch.Tensor) and valid_lens.dim() == 2
    if per_query and X.dim() < 3:
        raise ValueError(
            "valid_lens of shape (batch_size, num_queries) needs X of shape "
            f"(batch_size, ..., num_queries, num_keys), got {tuple(X.shape)}"
        )
    num_queries = X.shape[-2] if X.dim() >= 3 else 1
    check_valid_lens(valid_lens, X.shape[0], num_queries, X.shape[-1])
    mask = _valid_lens_mask(valid_lens.to(X.device), X.dim(), X.shape[-1])
    return _masked_softmax(X, mask)  # (batch_size, ..., num_queries, num_keys)


# --- the core -----------------------------------------------------------------------------------


def _pool(
    scores: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None, dropout_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The readable tail shared by every score: masked softmax, dropout, weighted sum of values."""
    weights = _masked_softmax(scores, mask)  # (..., num_queries, num_keys)
    if mask is not None:
        (values,) = _zero_padding(mask, values)  # 0 * NaN would leak a padded NaN
    dropped = F.dropout(weights, dropout_p) if dropout_p > 0 else weights
    return dropped @ values, weights  # (..., num_queries, value_size), (..., nq, nk)


def attention_pool(
    scores: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention pooling with precomputed scores: ``softmax(scores, masked) @ values``.

    The tail that every scoring function shares, public for the layers whose scores are not a
    scaled dot product (additive scoring, a learned query, outlook attention, a precomputed bias):
    ``weights = masked_softmax(scores)`` under ``mask``, dropout on the weights, then
    ``output = weights @ values``. Masked scores are filled with the dtype's most negative finite
    value and masked weights are set to exactly 0, so a query whose keys are all masked gets the
    zero vector, as in :func:`attention`.

    Args:
        scores: floating point, ``(..., num_queries, num_keys)``.
        values: ``(..., num_keys, value_size)``, the same dtype; leading dimensions broadcast.
        mask: None, or a bool tensor that broadcasts to ``scores`` (True = the key takes part).
        dropout_p: dropout probability on the weights, in [0, 1).

    Returns:
        ``(output, weights)``: ``(..., num_queries, value_size)`` and the weights before dropout,
        ``(..., num_queries, num_keys)``, still in the autograd graph.

    Raises:
        TypeError: if ``scores`` or ``values`` is not a floating tensor, their dtypes differ, or
            ``mask`` is not a bool tensor.
        ValueError: if ``values`` does not have ``num_keys`` rows, the mask does not broadcast to
            the scores, or ``dropout_p`` is outside [0, 1).

    Source: D2L sec. 11.3 (arXiv:2106.11342), attention pooling; Bahdanau et al. 2015,
    arXiv:1409.0473, for the softmax over precomputed (additive) scores.
    """
    check_pool_inputs(scores, values, mask)
    dropout_p = require_probability("dropout_p", dropout_p)
    return _pool(scores, values, mask, dropout_p)


def _fused(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None,
    dropout_p: float,
    scale: float,
    is_causal: bool,
) -> torch.Tensor:
    """``F.scaled_dot_product_attention`` with 4-D inputs and zero output for all-masked rows."""
    if queries.dim() < 4:
        # PyTorch 2.13's CPU dispatcher sends 3-D inputs to its slow math kernel and 4-D ones to
        # the fused kernel (3-4x faster, benchmarks/bench_scoring.py): add leading dimensions.
        # The mask broadcasts from the right, so it needs none.
        extra = 4 - queries.dim()
        queries, keys, values = (t[(None,) * extra] for t in (queries, keys, values))
        output = _fused(queries, keys, values, mask, dropout_p, scale, is_causal)
        return output[(0,) * extra]  # (..., num_queries, value_size)
    output = F.scaled_dot_product_attention(
        queries, keys, values, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale
    )  # (..., num_queries, value_size)
    if mask is not None and mask.dtype == torch.bool:
        output = output.masked_fill(~mask.any(-1, keepdim=True), 0.0)  # all-masked rows -> 0
    return output


def _attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    need_weights: bool = False,
    scale: float | None = None,
    causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`attention` without the argument checks: for callers that checked already."""
    num_queries, num_keys = queries.shape[-2], keys.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(queries.shape[-1])
    bias = None
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        bias, attn_mask = attn_mask, None  # a float mask is added to the scores
    if not need_weights:  # the fused path
        is_causal = causal and valid_lens is None and attn_mask is None and bias is None
        is_causal = is_causal and num_queries == num_keys  # PyTorch's own mask is top-left aligned
        mask = None if is_causal else _key_mask(valid_lens, attn_mask, causal, queries, num_keys)
        if bias is not None and mask is not None:
            bias = bias.masked_fill(~mask, torch.finfo(bias.dtype).min)
        if mask is not None:
            keys, values = _zero_padding(mask, keys, values)  # no NaN from padding
        output = _fused(
            queries, keys, values, mask if bias is None else bias, dropout_p, scale, is_causal
        )  # (..., num_queries, value_size)
        if bias is not None and mask is not None:
            output = output.masked_fill(~mask.any(-1, keepdim=True), 0.0)  # all-masked rows -> 0
        return output, None
    # The readable path. Scaling the queries before the matmul (not the scores after it) keeps
    # q . k / sqrt(d) finite in float16 wherever the fused kernel's result is finite.
    scores = (queries * scale) @ keys.transpose(-2, -1)  # (..., num_queries, num_keys)
    if bias is not None:
        scores = scores + bias
    mask = _key_mask(valid_lens, attn_mask, causal, queries, num_keys)
    return _pool(scores, values, mask, dropout_p)


def attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    need_weights: bool = False,
    scale: float | None = None,
    causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scaled dot-product attention ``softmax(Q K^T / sqrt(d) + masks) V``, the book's one core.

    Two paths compute the same numbers (up to rounding, in every floating dtype):

    - ``need_weights=True``, the readable path: ``scores = (Q * scale) K^T``, a masked softmax
      (:func:`masked_softmax`'s rules), dropout, ``weights V``; it returns the weights.
    - ``need_weights=False``, the fused path: PyTorch's ``F.scaled_dot_product_attention``
      (inputs given 4-D, which selects its fast CPU kernel); it returns no weights.

    A query whose keys are all masked gets the zero vector on both paths;
    ``torch.nn.MultiheadAttention`` gives NaN there.

    Args:
        queries: ``(..., num_queries, d)``, floating point; with ``valid_lens`` the first
            dimension is ``batch_size``, e.g. ``(batch_size, num_heads, num_queries, d)``.
        keys: ``(..., num_keys, d)``, the same leading dimensions and dtype.
        values: ``(..., num_keys, value_size)``.
        valid_lens: None, or integer lengths ``(batch_size,)`` or ``(batch_size, num_queries)``:
            key j takes part for query i of example b when ``j < valid_lens[b]`` (or
            ``valid_lens[b, i]``), shared by every middle dimension (the heads).
        attn_mask: None; a bool tensor that broadcasts to ``(..., num_queries, num_keys)``, True
            where the key takes part (``scaled_dot_product_attention``'s convention); or a float
            tensor of the queries' dtype added to the scores (an all ``-inf`` row of it gives NaN,
            as in PyTorch; use a bool mask for the zero-row rule).
        dropout_p: dropout probability on the weights, in [0, 1); pass 0 in evaluation.
        need_weights: which path to take (see above).
        scale: the factor on ``q . k``; None means ``1 / sqrt(d)``.
        causal: if True, query i sees no key j with ``j > i + num_keys - num_queries`` (aligned
            at the last key; for ``num_queries == num_keys`` the usual ``j <= i``).

    Returns:
        ``(output, weights)``: ``output`` of shape ``(..., num_queries, value_size)``; ``weights``
        of shape ``(..., num_queries, num_keys)`` (before dropout, still in the autograd graph)
        on the readable path, None on the fused path.

    Raises:
        TypeError: if a tensor is not floating point, the dtypes differ, ``valid_lens`` is not an
            integer tensor, ``attn_mask`` is neither bool nor the queries' dtype, or a flag or
            number has the wrong type.
        ValueError: for shapes that do not fit (the message names the expected shape), ``d = 0``,
            no keys, ``valid_lens`` out of ``[0, num_keys]``, ``dropout_p`` outside [0, 1) or a
            non-positive ``scale``.

    Source: Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762,
    sec. 3.2.1, eq. (1).
    """
    check_qkv(queries, keys, values, min_dim=3 if valid_lens is not None else 2)
    check_same_d(queries, keys)
    dropout_p = require_probability("dropout_p", dropout_p)
    require_bool("need_weights", need_weights)
    require_bool("causal", causal)
    if scale is not None:
        scale = require_positive("scale", scale)
    if valid_lens is not None:
        check_valid_lens(valid_lens, queries.shape[0], queries.shape[-2], keys.shape[-2])
    if attn_mask is not None:
        scores_shape = torch.Size((*queries.shape[:-1], keys.shape[-2]))
        check_attn_mask(attn_mask, queries.dtype, scores_shape)
    return _attention(
        queries, keys, values, valid_lens, attn_mask, dropout_p, need_weights, scale, causal
    )
