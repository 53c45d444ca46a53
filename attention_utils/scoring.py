"""Attention scoring functions as layers (chapter 03): additive, scaled dot-product, bilinear.

Sources:
    D. Bahdanau, K. Cho, Y. Bengio, "Neural machine translation by jointly learning to align and
    translate", ICLR 2015, arXiv:1409.0473 (additive attention).
    M.-T. Luong, H. Pham, C. D. Manning, "Effective approaches to attention-based neural machine
    translation", EMNLP 2015, arXiv:1508.04025 (the dot and "general", i.e. bilinear, scores).
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (scaled
    dot-product attention).
    Names, argument order (``key_size`` before ``query_size``) and the ``attention_weights``
    attribute follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.3,
    arXiv:2106.11342), with sizes passed explicitly.

Every layer computes ``output_i = sum_j softmax_j(a(q_i, k_j)) v_j`` and differs only in the
scoring function ``a``. The softmax, the masks and the weighted sum are the attention core's
(:mod:`attention_utils.core`): :class:`DotProductAttention` calls :func:`attention`, the other
two compute their scores and call :func:`attention_pool`. ``need_weights`` (False by default, see
:class:`~attention_utils.core.NeedWeightsMixin`) decides whether a layer keeps the weights of its
last forward, detached, in ``attention_weights``.

The core's public functions are also importable from here (``from attention_utils.scoring import
attention``), where they lived before the core had a module of its own.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import (
    check_qkv,
    check_same_d,
    check_valid_lens,
    require_bool,
    require_dtype,
    require_positive_int,
    require_probability,
)
from .core import (  # noqa: F401  (re-exported: the core's old home)
    NeedWeightsMixin,
    attention,
    attention_pool,
    masked_softmax,
    valid_lens_to_mask,
)

__all__ = ["AdditiveAttention", "BilinearAttention", "DotProductAttention"]


class _ScoredAttention(NeedWeightsMixin, nn.Module):
    """Attention pooling with a scoring function: subclasses define ``scores`` only.

    ``forward`` checks the inputs, scores every query against every key, and hands the scores to
    the core's :func:`attention_pool` (masked softmax, dropout, weighted sum of the values).
    Sizes left as None (dot-product attention takes any ``d``) are not checked against the inputs.
    """

    def __init__(
        self,
        dropout: float,
        query_size: int | None = None,
        key_size: int | None = None,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self._sizes = tuple(
            None if size is None else require_positive_int(name, size)
            for name, size in (("query_size", query_size), ("key_size", key_size))
        )
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.need_weights = need_weights
        self.attention_weights: torch.Tensor | None = None

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``a(q, k)`` for every pair: ``(batch_size, ..., num_queries, num_keys)``."""
        raise NotImplementedError

    def _check_inputs(self, queries: object, keys: object, values: object) -> None:
        check_qkv(queries, keys, values, *self._sizes)
        require_dtype("queries", queries, self)

    def _dropout_p(self) -> float:
        return self.dropout.p if self.training else 0.0

    def _compute(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None,
        causal: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        scores = self.scores(queries, keys)  # (batch_size, ..., num_queries, num_keys)
        mask = valid_lens_to_mask(valid_lens, scores.shape[-2], scores.shape[-1], causal=causal)
        if mask is not None:
            mask = mask.to(scores.device)  # the causal mask alone is made on the CPU
        if valid_lens is not None:  # (batch_size, 1, ..., num_queries, num_keys): shared by heads
            mask = mask.reshape(mask.shape[0], *([1] * (scores.dim() - 3)), *mask.shape[1:])
        return attention_pool(scores, values, mask, self._dropout_p())

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None = None,
        *,
        causal: bool = False,
    ) -> torch.Tensor:
        """Attend from ``queries`` to ``keys`` and average ``values``.

        Args:
            queries: ``(batch_size, num_queries, query_size)``; more leading dimensions, as in
                ``(batch_size, num_heads, num_queries, query_size)``, are fine.
            keys: ``(batch_size, num_keys, key_size)``.
            values: ``(batch_size, num_keys, value_size)``.
            valid_lens: None, ``(batch_size,)`` or ``(batch_size, num_queries)``, as in
                :func:`masked_softmax`.
            causal: hide later keys from each query, as in :func:`attention`.

        Returns:
            ``(batch_size, num_queries, value_size)``; ``attention_weights`` is then
            ``(batch_size, num_queries, num_keys)`` if ``need_weights``, else None.

        Raises:
            TypeError, ValueError: for tensors of the wrong dtype (also against the layer's
                parameters), rank or sizes, and for bad ``valid_lens``.
        """
        self._check_inputs(queries, keys, values)
        require_bool("causal", causal)
        if valid_lens is not None:
            check_valid_lens(valid_lens, queries.shape[0], queries.shape[-2], keys.shape[-2])
        output, weights = self._compute(queries, keys, values, valid_lens, causal)
        keep = self.need_weights and weights is not None
        self.attention_weights = weights.detach() if keep else None
        return output  # (batch_size, ..., num_queries, value_size)


class AdditiveAttention(_ScoredAttention):
    """Additive attention: ``a(q, k) = w_v^T tanh(W_q q + W_k k)``.

    Works for queries and keys of different lengths: both are projected to ``num_hiddens``.
    Bahdanau, Cho, Bengio, ICLR 2015, arXiv:1409.0473 (eq. 6 of their appendix). Always the
    readable path (no fused kernel exists for this score); ``need_weights`` decides only whether
    the weights are kept.

    Args:
        key_size: length of each key vector.
        query_size: length of each query vector.
        num_hiddens: width of the hidden layer, the rows of ``W_q`` and ``W_k``.
        dropout: dropout probability applied to the attention weights in training.
        need_weights: keep the last forward's weights (keyword only; see
            :class:`~attention_utils.core.NeedWeightsMixin`).

    Attributes:
        W_k, W_q, w_v: the ``nn.Linear`` layers (no bias), weights of shapes
            ``(num_hiddens, key_size)``, ``(num_hiddens, query_size)``, ``(1, num_hiddens)``.
        attention_weights: the weights of the last forward, detached,
            ``(batch_size, num_queries, num_keys)``, or None without ``need_weights``.

    Raises:
        TypeError: if a size is not an int, ``dropout`` is not a number or a flag not a bool.
        ValueError: if a size is not positive or ``dropout`` is not in [0, 1).
    """

    def __init__(
        self,
        key_size: int,
        query_size: int,
        num_hiddens: int,
        dropout: float,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__(dropout, query_size, key_size, need_weights)
        require_positive_int("num_hiddens", num_hiddens)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``w_v^T tanh(W_q q + W_k k)`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        queries = self.W_q(queries)  # (..., num_queries, num_hiddens)
        keys = self.W_k(keys)  # (..., num_keys, num_hiddens)
        features = queries.unsqueeze(-2) + keys.unsqueeze(-3)
        # (..., num_queries, num_keys, num_hiddens)
        return self.w_v(torch.tanh(features)).squeeze(-1)  # (..., num_queries, num_keys)


class DotProductAttention(_ScoredAttention):
    """Scaled dot-product attention ``a(q, k) = q^T k / sqrt(d)``: a layer around :func:`attention`.

    Queries and keys must have the same length ``d``. In matrix form,
    ``softmax(Q K^T / sqrt(d)) V``. Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.2.1.

    ``need_weights`` picks :func:`attention`'s path: True, the readable one, keeps the weights in
    ``self.attention_weights``; False (the default), PyTorch's fused kernel, sets it to None.
    Dropout acts only in training. A query whose keys are all masked gets the zero vector on both
    paths.

    Args:
        dropout: dropout probability applied to the attention weights in training.
        need_weights: which path to take (keyword only); an attribute that can be set later.

    Raises:
        TypeError: if ``dropout`` is not a number or ``need_weights`` not a bool.
        ValueError: if ``dropout`` is not in [0, 1).
    """

    def __init__(self, dropout: float, *, need_weights: bool = False) -> None:
        super().__init__(dropout, need_weights=need_weights)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``q^T k / sqrt(d)`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        scale = 1.0 / math.sqrt(queries.shape[-1])
        return (queries * scale) @ keys.transpose(-2, -1)  # (..., num_queries, num_keys)

    def _check_inputs(self, queries: object, keys: object, values: object) -> None:
        check_qkv(queries, keys, values)
        check_same_d(queries, keys)

    def _compute(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        valid_lens: torch.Tensor | None,
        causal: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return attention(
            queries, keys, values, valid_lens, None, self._dropout_p(), self.need_weights,
            causal=causal,
        )  # (batch_size, ..., num_queries, value_size), weights or None


class BilinearAttention(_ScoredAttention):
    """Bilinear ("general") attention: ``a(q, k) = q^T W k``.

    A dot product through a learned matrix ``W`` of shape ``(query_size, key_size)``: it works for
    queries and keys of different lengths, and unlike ``q^T k`` it need not be symmetric
    (``a(x, y) != a(y, x)`` in general). ``W`` = identity gives the plain dot product. Luong, Pham,
    Manning, EMNLP 2015, arXiv:1508.04025, eq. 8 ("general"); unscaled, as there.

    Args:
        key_size: length of each key vector (first, as in :class:`AdditiveAttention` and D2L).
        query_size: length of each query vector.
        dropout: dropout probability applied to the attention weights in training.
        need_weights: keep the last forward's weights (keyword only).

    Attributes:
        W: ``nn.Linear(key_size, query_size, bias=False)``; its weight is the matrix ``W``.
        attention_weights: the weights of the last forward, detached,
            ``(batch_size, num_queries, num_keys)``, or None without ``need_weights``.

    Raises:
        TypeError: if a size is not an int, ``dropout`` is not a number or a flag not a bool.
        ValueError: if a size is not positive or ``dropout`` is not in [0, 1).
    """

    def __init__(
        self, key_size: int, query_size: int, dropout: float, *, need_weights: bool = False
    ) -> None:
        super().__init__(dropout, query_size, key_size, need_weights)
        self.W = nn.Linear(key_size, query_size, bias=False)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``q^T W k`` for every pair: ``(batch_size, num_queries, num_keys)``."""
        projected = self.W(keys)  # (..., num_keys, query_size)
        return queries @ projected.transpose(-2, -1)  # (..., num_queries, num_keys)
