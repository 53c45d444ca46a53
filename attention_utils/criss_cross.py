"""Criss-cross attention (CCNet): each position attends to its own row and column (chapter 08).

Paper: Zilong Huang, Xinggang Wang, Lichao Huang, Chang Huang, Yunchao Wei, Wenyu Liu, "CCNet:
Criss-Cross Attention for Semantic Segmentation", ICCV 2019, arXiv:1811.11721.

The softmax over each position's cross goes through the book's core,
:func:`attention_utils.scoring.attention`, with a bool mask that removes the centre from its
column (it is counted once, in its row). Same conventions as
:mod:`attention_utils.vision_self_attention`.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import require_bool, require_feature_map, require_positive_int, require_reduction
from .core import NeedWeightsMixin
from .scoring import attention

__all__ = ["CrissCrossAttention"]


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, H W, C)``: one row per position, in row-major order."""
    return x.flatten(2).transpose(1, 2)  # (batch_size, H * W, channels)


def _cross(t: torch.Tensor) -> torch.Tensor:
    """``(B, H, W, d)`` -> ``(B, H, W, H + W, d)``: for each position its column, then its row."""
    B, H, W, d = t.shape
    column = t.transpose(1, 2).unsqueeze(1).expand(B, H, W, H, d)  # [b, i, j, k] = t[b, k, j]
    row = t.unsqueeze(2).expand(B, H, W, W, d)  # [b, i, j, k] = t[b, i, k]
    return torch.cat((column, row), dim=3)  # (B, H, W, H + W, d)


class CrissCrossAttention(NeedWeightsMixin, nn.Module):
    """Criss-cross attention: each position attends to its own row and column only.

    For position u = (i, j), the keys are the H + W - 1 positions of row i and column j (u
    itself once): ``A_u = softmax(q_u^T k_v)`` over them, ``x'_u = x_u + gamma sum_v A_u(v) V_v``
    with 1x1 convs ``q, k: C -> C/8`` and ``v: C -> C`` and a scalar ``gamma`` that starts at 0
    (identity at initialisation). One pass costs ``O(H W (H + W))``; applied ``recurrence = 2``
    times with shared weights (CCNet's RCCA), every position reaches every other through a
    corner: (i, j) -> (i, j') -> (i', j').

    Args:
        channels: C.
        reduction: q and k get ``channels // reduction`` channels (8 in the paper).
        recurrence: R, how many times the same module is applied (1: one criss-cross).
        need_weights: keep ``attention_weights`` of the last pass.
        dense: compute the same function as dense attention over all H W keys with a
            cross-shaped mask. It costs ``O((H W)^2)`` multiply-adds instead of
            ``O(H W (H + W))``, but on a CPU one large matrix product is faster than H W tiny
            ones for small maps (chapter 08 trains on 12 x 12 maps this way).

    Shape:
        input and output ``(batch_size, channels, H, W)``; ``attention_weights``
        ``(batch_size, H, W, H + W)``: first the column (k = 0..H-1, with k = i masked, weight 0),
        then the row (W entries).

    Raises:
        TypeError, ValueError: as :class:`NonLocalBlock` for ``channels``, ``reduction``, input;
            ``recurrence`` must be a positive int.

    Source: Huang et al., "CCNet: Criss-Cross Attention for Semantic Segmentation", ICCV 2019,
    arXiv:1811.11721, sec. 3.2-3.3 (no 1/sqrt(d) scale, as in the paper).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 8,
        recurrence: int = 1,
        *,
        need_weights: bool = False,
        dense: bool = False,
    ) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        self.recurrence = require_positive_int("recurrence", recurrence)
        self.need_weights = require_bool("need_weights", need_weights)
        self.dense = require_bool("dense", dense)
        self.query = nn.Conv2d(channels, channels // reduction, 1)
        self.key = nn.Conv2d(channels, channels // reduction, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.attention_weights: torch.Tensor | None = None

    def _dense_pass(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        rows = torch.arange(H, device=x.device).repeat_interleave(W)  # (H W,)
        cols = torch.arange(W, device=x.device).repeat(H)  # (H W,)
        keep = (rows[:, None] == rows) | (cols[:, None] == cols)  # (H W, H W): the cross
        q, k, v = (_tokens(f(x)) for f in (self.query, self.key, self.value))  # (B, H W, .)
        out, weights = attention(q, k, v, attn_mask=keep, need_weights=self.need_weights, scale=1.0)
        if weights is not None:  # to the sparse layout: column (centre at 0), then row
            w = weights.detach().view(B, H, W, H, W)
            column = w.diagonal(0, 2, 4).permute(0, 1, 3, 2).clone()  # (B, H, W, H): keys (k, j)
            i, j = torch.arange(H, device=x.device)[:, None], torch.arange(W, device=x.device)
            column[:, i, j, i] = 0.0  # the centre is counted in the row
            row = w.diagonal(0, 1, 3).permute(0, 3, 1, 2)  # (B, H, W, W): keys (i, l)
            self.attention_weights = torch.cat((column, row), dim=-1)  # (B, H, W, H + W)
        else:
            self.attention_weights = None
        out = out.transpose(1, 2).reshape(B, -1, H, W)  # (B, C, H, W)
        return x + self.gamma * out

    def _one_pass(self, x: torch.Tensor) -> torch.Tensor:
        if self.dense:
            return self._dense_pass(x)
        B, _, H, W = x.shape
        q = self.query(x).permute(0, 2, 3, 1).unsqueeze(3)  # (B, H, W, 1, C/r)
        k = _cross(self.key(x).permute(0, 2, 3, 1))  # (B, H, W, H + W, C/r)
        v = _cross(self.value(x).permute(0, 2, 3, 1))  # (B, H, W, H + W, C)
        rows = torch.arange(H, device=x.device)
        keep = torch.ones(H, 1, 1, H + W, dtype=torch.bool, device=x.device)
        keep[rows, 0, 0, rows] = False  # u itself is in its row; drop it from its column
        out, weights = attention(q, k, v, attn_mask=keep, need_weights=self.need_weights, scale=1.0)
        # out: (B, H, W, 1, C)
        self.attention_weights = None if weights is None else weights.detach().squeeze(3)
        return x + self.gamma * out.squeeze(3).permute(0, 3, 1, 2)  # (B, C, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        for _ in range(self.recurrence):
            x = self._one_pass(x)
        return x

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}, recurrence={self.recurrence}"
