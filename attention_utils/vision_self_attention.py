"""Self-attention over the positions of a feature map: Non-local and its successors (chapter 08).

Papers, in the order chapter 08 teaches them:

- Non-local: Xiaolong Wang, Ross Girshick, Abhinav Gupta, Kaiming He, "Non-local Neural
  Networks", CVPR 2018, arXiv:1711.07971.
- GC: Yue Cao, Jiarui Xu, Stephen Lin, Fangyun Wei, Han Hu, "GCNet: Non-local Networks Meet
  Squeeze-Excitation Networks and Beyond", ICCV Workshops 2019, arXiv:1904.11492.
- DNL: Minghao Yin, Zhuliang Yao, Yue Cao, Xiu Li, Zheng Zhang, Stephen Lin, Han Hu,
  "Disentangled Non-Local Neural Networks", ECCV 2020, arXiv:2006.06668.
- PSA: Huajun Liu, Fuqiang Liu, Xinyi Fan, Dong Huang, "Polarized Self-Attention: Towards
  High-quality Pixel-wise Regression", arXiv:2107.00782, 2021.

Every softmax-weighted sum here goes through the book's one core: query-key products through
:func:`attention_utils.scoring.attention`, and a learned vector that scores every position (GC's
context mask, DNL's unary term, PSA's channel query) through
:func:`attention_utils.scoring.attention_pool` with those scores. Criss-cross attention, the
sparse successor, is in :mod:`attention_utils.criss_cross`. Each module
maps ``(batch_size, channels, height, width)`` to the same shape. Modules with a softmax over
positions keep the last weights, detached, in ``attention_weights`` when ``need_weights`` is
True (the readable path of the core), and None on the fused path; the switch is keyword-only
and False by default (:class:`~attention_utils.core.NeedWeightsMixin`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_positive,
    require_positive_int,
    require_reduction,
)
from .core import NeedWeightsMixin
from .scoring import attention, attention_pool

__all__ = [
    "NON_LOCAL_MODES",
    "DisentangledNonLocalBlock",
    "GlobalContextBlock",
    "NonLocalBlock",
    "PolarizedSelfAttention",
]

#: The pairwise functions f of Wang et al. (2018), sec. 3.2.
NON_LOCAL_MODES = ("embedded_gaussian", "gaussian", "dot_product", "concatenation")


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, H W, C)``: one row per position, in row-major order."""
    return x.flatten(2).transpose(1, 2)  # (batch_size, H * W, channels)


def _zero_bn(channels: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels)
    nn.init.zeros_(bn.weight)  # the block starts as the identity (Wang et al. 2018, sec. 4.1)
    return bn


class NonLocalBlock(NeedWeightsMixin, nn.Module):
    """Non-local block: every position is updated with a weighted sum over all positions.

    ``y_i = (1 / C(x)) sum_j f(x_i, x_j) g(x_j)`` and ``z_i = BN(W_z y_i) + x_i``, with 1x1
    convolutions ``theta, phi, g`` to ``channels // reduction`` channels and ``W_z`` back. The
    pairwise function f (``mode``):

    - ``"embedded_gaussian"``: ``softmax_j(theta(x_i)^T phi(x_j))``, i.e. dot-product attention
      with queries theta, keys phi, values g and *no* ``1/sqrt(d)`` scale;
    - ``"gaussian"``: ``softmax_j(x_i^T x_j)`` (no theta, phi);
    - ``"dot_product"``: ``theta(x_i)^T phi(x_j) / N`` (no softmax; N = number of keys);
    - ``"concatenation"``: ``ReLU(w^T [theta(x_i); phi(x_j)]) / N``.

    With ``sub_sample`` a 2x2 max pooling after phi and g quarters the keys. The batch norm's
    scale starts at zero, so the block is the identity at initialisation.

    Args:
        channels: C of the input.
        reduction: ``channels // reduction`` inner channels (2 in the paper).
        mode: one of :data:`NON_LOCAL_MODES`.
        sub_sample: pool keys and values 2x2 (the paper's sub-sampling trick).
        need_weights: keep the weights of the last forward in ``attention_weights``.

    Shape:
        input and output ``(batch_size, channels, H, W)``; ``attention_weights``
        ``(batch_size, H W, N)`` with ``N = H W`` (or ``(H // 2)(W // 2)`` with sub-sampling).

    Raises:
        TypeError: if ``channels`` is not an int, a flag not a bool, or the input not floating.
        ValueError: for ``reduction`` outside ``[1, channels]``, an unknown ``mode``, or an input
            that is not ``(batch_size, channels, H, W)`` (with sub-sampling: ``H, W >= 2``).

    Source: Wang et al., "Non-local Neural Networks", CVPR 2018, arXiv:1711.07971, eq. (1)-(6).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        mode: str = "embedded_gaussian",
        sub_sample: bool = False,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        if mode not in NON_LOCAL_MODES:
            raise ValueError(f"mode must be one of {NON_LOCAL_MODES}, got {mode!r}")
        self.mode, self.sub_sample = mode, require_bool("sub_sample", sub_sample)
        self.need_weights = require_bool("need_weights", need_weights)
        inner = channels // reduction
        self.g = nn.Conv2d(channels, inner, 1)
        if mode != "gaussian":
            self.theta = nn.Conv2d(channels, inner, 1)
            self.phi = nn.Conv2d(channels, inner, 1)
        if mode == "concatenation":
            self.concat_project = nn.Linear(2 * inner, 1, bias=False)
        self.W_z = nn.Sequential(nn.Conv2d(inner, channels, 1), _zero_bn(channels))
        self.pool = nn.MaxPool2d(2) if sub_sample else nn.Identity()
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        if self.sub_sample and min(x.shape[-2:]) < 2:
            raise ValueError(f"sub_sample needs H, W >= 2, got x of shape {tuple(x.shape)}")
        require_batch_statistics(self, "x", x, x[:, 0].numel())  # W_z's BN, one value per pixel
        batch_size, _, height, width = x.shape
        values = _tokens(self.pool(self.g(x)))  # (batch_size, N, inner)
        if self.mode == "gaussian":
            queries, keys = _tokens(x), _tokens(self.pool(x))  # (batch_size, H W | N, channels)
        else:
            queries = _tokens(self.theta(x))  # (batch_size, H W, inner)
            keys = _tokens(self.pool(self.phi(x)))  # (batch_size, N, inner)
        if self.mode in ("embedded_gaussian", "gaussian"):
            y, weights = attention(queries, keys, values, need_weights=self.need_weights, scale=1.0)
        else:  # f / N: a normalisation, not a softmax
            if self.mode == "dot_product":
                f = queries @ keys.transpose(1, 2)  # (batch_size, H W, N)
            else:
                w_q, w_k = self.concat_project.weight.chunk(2, dim=1)  # (1, inner) each
                f = F.relu(queries @ w_q.T + (keys @ w_k.T).transpose(1, 2))  # (batch_size, H W, N)
            weights = f / keys.shape[1]
            y = weights @ values  # (batch_size, H W, inner)
        self.attention_weights = weights.detach() if self.need_weights else None
        y = y.transpose(1, 2).reshape(batch_size, -1, height, width)  # (batch_size, inner, H, W)
        return x + self.W_z(y)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, reduction={self.reduction}, mode={self.mode!r}, "
            f"sub_sample={self.sub_sample}"
        )


def _learned_query_pool(
    mask: nn.Conv2d, x: torch.Tensor, values: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``sum_j softmax_j(w^T x_j + b) v_j``: attention with one learned query ``w`` (b cancels).

    ``mask`` is a 1x1 conv ``C -> 1`` without bias; ``x`` is ``(B, C, H, W)``;
    ``values`` is ``(B, H W, d_v)``. The scores ``w^T x_j`` are the 1x1 conv's output, pooled by
    the core's :func:`attention_pool`. Returns ``(B, 1, d_v)`` and the weights ``(B, 1, H W)``.
    """
    scores = mask(x).flatten(2)  # (batch_size, 1, H W): one learned query scores every position
    return attention_pool(scores, values)


class GlobalContextBlock(NeedWeightsMixin, nn.Module):
    """Global context (GC) block: one query-independent context, an SE-like transform, addition.

    ``z_i = x_i + W_v2 ReLU(LN(W_v1 sum_j softmax_j(W_k x_j) x_j))``: the softmax over positions
    of a 1x1 conv ``W_k`` (C -> 1) pools the map into one context vector (the same for every
    query), a bottleneck ``C -> C/r -> C`` with layer norm transforms it, and it is added to
    every position. ``W_v2`` starts at zero (as in the authors' code), so the block is the
    identity at initialisation. Parameters: ``2 C^2 / r + 2 C + 3 C / r`` (``C/r`` rounded down;
    the authors' ``W_k`` also has a bias, which cancels in the softmax: we leave it out).

    Args:
        channels: C.
        reduction: r of the bottleneck (16 in the paper).
        need_weights: keep the context weights in ``attention_weights``.

    Shape:
        input and output ``(batch_size, channels, H, W)``; ``attention_weights``
        ``(batch_size, 1, H, W)``.

    Raises:
        TypeError, ValueError: as :class:`NonLocalBlock` for ``channels``, ``reduction``, input.

    Source: Cao et al., "GCNet", ICCV Workshops 2019, arXiv:1904.11492, sec. 4.2, fig. 4(d).
    """

    def __init__(self, channels: int, reduction: int = 16, *, need_weights: bool = False) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        self.need_weights = require_bool("need_weights", need_weights)
        hidden = channels // reduction
        self.context_mask = nn.Conv2d(channels, 1, 1, bias=False)  # a bias cancels in the softmax
        self.transform = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.LayerNorm([hidden, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        context, weights = _learned_query_pool(self.context_mask, x, _tokens(x))
        # context: (batch_size, 1, channels); weights: (batch_size, 1, H W)
        self.attention_weights = (
            weights.detach().view(x.shape[0], 1, *x.shape[-2:]) if self.need_weights else None
        )
        context = context.transpose(1, 2)[..., None]  # (batch_size, channels, 1, 1)
        return x + self.transform(context)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class DisentangledNonLocalBlock(NeedWeightsMixin, nn.Module):
    """Disentangled Non-local (DNL): a whitened pairwise term plus a unary term.

    ``y_i = sum_j [softmax_j((q_i - mu_q)^T (k_j - mu_k) / (sqrt(d) T))
    + softmax_j(w_m^T x_j)] g(x_j)``
    and ``z_i = x_i + BN(W_z y_i)``: subtracting the means over positions from queries and keys
    removes what every query shares, and the query-independent part (which pixels are salient
    for everyone) gets its own unary softmax, as in GC. Zero-initialised BN: identity at init.

    Args:
        channels: C.
        reduction: ``channels // reduction`` inner channels (2).
        temperature: T, divides the pairwise logits (0.05 in the authors' segmentation setting).
        need_weights: keep ``attention_weights`` (pairwise, ``(B, H W, H W)``) and
            ``unary_weights`` (``(B, 1, H W)``).

    Shape:
        input and output ``(batch_size, channels, H, W)``.

    Raises:
        TypeError, ValueError: as :class:`NonLocalBlock`; ``temperature`` must be positive.

    Source: Yin et al., "Disentangled Non-Local Neural Networks", ECCV 2020, arXiv:2006.06668.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        temperature: float = 0.05,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        self.temperature = require_positive("temperature", temperature)
        self.need_weights = require_bool("need_weights", need_weights)
        inner = channels // reduction
        self.theta, self.phi, self.g = (nn.Conv2d(channels, inner, 1) for _ in range(3))
        self.unary_mask = nn.Conv2d(channels, 1, 1, bias=False)
        self.W_z = nn.Sequential(nn.Conv2d(inner, channels, 1), _zero_bn(channels))
        self.attention_weights: torch.Tensor | None = None
        self.unary_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        require_batch_statistics(self, "x", x, x[:, 0].numel())  # W_z's BN, one value per pixel
        queries, keys = _tokens(self.theta(x)), _tokens(self.phi(x))  # (batch_size, H W, inner)
        queries = queries - queries.mean(1, keepdim=True)  # whitening: remove the shared part
        keys = keys - keys.mean(1, keepdim=True)
        values = _tokens(self.g(x))  # (batch_size, H W, inner)
        scale = 1.0 / (queries.shape[-1] ** 0.5 * self.temperature)
        pair, pair_w = attention(queries, keys, values, need_weights=self.need_weights, scale=scale)
        unary, unary_w = _learned_query_pool(self.unary_mask, x, values)
        # pair: (batch_size, H W, inner); unary: (batch_size, 1, inner), the same for every i
        self.attention_weights = None if pair_w is None else pair_w.detach()
        self.unary_weights = unary_w.detach() if self.need_weights else None
        y = (
            (pair + unary).transpose(1, 2).reshape(x.shape[0], -1, *x.shape[-2:])
        )  # (B, inner, H, W)
        return x + self.W_z(y)


class PolarizedSelfAttention(NeedWeightsMixin, nn.Module):
    """Polarized self-attention (PSA), parallel layout: a channel and a spatial branch, summed.

    Channel branch (keeps C/2 channels, collapses space with a softmax over the H W positions):
    ``A_ch = sigmoid(LN(W_z sum_j softmax_j(W_q x_j) W_v x_j))``, shape ``(B, C, 1, 1)``.
    Spatial branch (keeps H x W, collapses channels with a softmax over C/2 channels):
    ``A_sp = sigmoid(sum_c softmax_c(GAP(W_q' x))_c (W_v' x)_c)``, shape ``(B, 1, H, W)``.
    Output ``x * A_ch + x * A_sp``.

    Args:
        channels: C (even).
        need_weights: keep ``attention_weights = (A_ch, A_sp)``.

    Shape:
        input and output ``(batch_size, channels, H, W)``.

    Raises:
        TypeError, ValueError: as :class:`NonLocalBlock`; ``channels`` must be at least 2.

    Source: Liu et al., "Polarized Self-Attention", arXiv:2107.00782, 2021, sec. 3, eq. (1)-(4).
    """

    def __init__(self, channels: int, *, need_weights: bool = False) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        require_reduction(channels, 2)
        self.need_weights = require_bool("need_weights", need_weights)
        half = channels // 2
        self.ch_query = nn.Conv2d(channels, 1, 1, bias=False)  # a bias cancels in the softmax
        self.ch_value = nn.Conv2d(channels, half, 1)
        self.ch_up = nn.Conv2d(half, channels, 1)
        self.ch_norm = nn.LayerNorm([channels, 1, 1])
        self.sp_query, self.sp_value = nn.Conv2d(channels, half, 1), nn.Conv2d(channels, half, 1)
        self.attention_weights: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        B, _, H, W = x.shape
        z, _ = _learned_query_pool(self.ch_query, x, _tokens(self.ch_value(x)))  # (B, 1, C/2)
        a_ch = torch.sigmoid(self.ch_norm(self.ch_up(z.transpose(1, 2)[..., None])))  # (B, C, 1, 1)
        scores = self.sp_query(x).mean((2, 3))[:, None, :]  # (B, 1, C/2): one score per channel
        s, _ = attention_pool(scores, self.sp_value(x).flatten(2))  # (B, 1, H W)
        a_sp = torch.sigmoid(s.view(B, 1, H, W))  # (B, 1, H, W)
        self.attention_weights = (a_ch.detach(), a_sp.detach()) if self.need_weights else None
        return x * a_ch + x * a_sp
