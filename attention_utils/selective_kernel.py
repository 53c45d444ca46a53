"""Selective kernel (SK) convolution, and the ResNet-50 built from it (chapter 09).

Paper: Xiang Li, Wenhai Wang, Xiaolin Hu, Jian Yang, "Selective Kernel Networks", CVPR 2019,
arXiv:1903.06586.

SK is not an add-on after a convolution but a replacement of the bottleneck's 3x3 convolution,
a place the registry of :mod:`attention_utils.registry` does not have; :func:`sk_resnet50`
builds that network. The softmax here runs over the M branches, one weight per branch and
channel, not over keys. Same vocabulary as :mod:`attention_utils.vision`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_positive_int,
    require_reduction,
)
from .core import NeedWeightsMixin
from .resnet import Bottleneck, ResNet, resnet50

__all__ = ["SKConv", "sk_resnet50"]


class SKConv(NeedWeightsMixin, nn.Module):
    """Selective kernel convolution: branches with different receptive fields, mixed per channel.

    Split: ``U_m = ReLU(BN(conv_m(x)))`` for ``m = 1..M``, branch ``m`` a 3x3 (grouped)
    convolution with dilation ``m`` (receptive field ``1 + 2m``: 3x3, 5x5, ...). Fuse:
    ``s = avgpool(sum_m U_m)``, ``z = ReLU(BN(W_z s))`` with ``d = max(C / r, L)`` units.
    Select: ``a_m = softmax_m(A_m z)``, one weight per branch *and channel*, summing to 1 over
    the branches; ``V = sum_m a_m * U_m``.

    Args:
        channels: C, input and output channels.
        num_branches: M (2 in the paper: 3x3 and a dilated 3x3 standing for 5x5).
        reduction: r (16).
        groups: G of each branch's convolution (32 in SKNet-50); must divide ``channels``.
        stride: 1 or 2, applied by every branch.
        min_hidden: L, the smallest ``d`` (32).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output ``(batch_size, channels, ceil(H/stride),
        ceil(W/stride))``; ``attention_weights`` ``(batch_size, M, channels, 1, 1)``.

    Raises:
        TypeError: if a size is not an int.
        ValueError: if a size is < 1, ``num_branches < 2``, ``groups`` does not divide
            ``channels``; bad input as :class:`attention_utils.SEBlock`.

    Source: Li et al., "Selective Kernel Networks", CVPR 2019, arXiv:1903.06586, Sec. 3.1.
    """

    def __init__(
        self,
        channels: int,
        num_branches: int = 2,
        reduction: int = 16,
        groups: int = 32,
        stride: int = 1,
        min_hidden: int = 32,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        for name, value in [
            ("num_branches", num_branches),
            ("groups", groups),
            ("stride", stride),
            ("min_hidden", min_hidden),
        ]:
            require_positive_int(name, value)
        if num_branches < 2:
            raise ValueError(f"num_branches must be >= 2, got {num_branches}")
        if channels % groups:
            raise ValueError(f"groups ({groups}) must divide channels ({channels})")
        self.reduction = require_reduction(channels, reduction)
        self.num_branches, self.groups, self.stride = num_branches, groups, stride
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(
                    channels, channels, 3, stride, padding=m, dilation=m, groups=groups, bias=False
                ),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            )
            for m in range(1, num_branches + 1)
        )
        hidden = max(channels // reduction, min_hidden)
        self.fuse = nn.Sequential(
            nn.Linear(channels, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)
        )
        self.select = nn.Linear(hidden, num_branches * channels)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        require_batch_statistics(self, "x", x, x.shape[0])  # the fuse BN sees one value per image
        u = torch.stack([branch(x) for branch in self.branches], dim=1)  # (B, M, C, H', W')
        s = u.sum(dim=1).mean(dim=(2, 3))  # (B, C)
        logits = self.select(self.fuse(s))  # (B, M * C)
        logits = logits.view(-1, self.num_branches, self.channels, 1, 1)  # (B, M, C, 1, 1)
        a = torch.softmax(logits, dim=1)  # (B, M, C, 1, 1), sums to 1 over M
        self.attention_weights = a.detach() if self.need_weights else None
        return (a * u).sum(dim=1)  # (B, C, H', W')

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, num_branches={self.num_branches}, "
            f"reduction={self.reduction}, groups={self.groups}, stride={self.stride}"
        )


def sk_resnet50(num_classes: int = 1000, stride_in_3x3: bool = False, groups: int = 32) -> ResNet:
    """ResNet-50 whose bottlenecks' 3x3 convolutions (with BN, ReLU) are :class:`SKConv`s.

    SKNet-50 itself is built on ResNeXt-50 (32x4d, twice the bottleneck width); this puts SK
    units with ``groups`` groups into the plain ResNet-50 of chapter 05, so that it sits in the
    same table as the other modules. With the default ``groups=32`` the two grouped branches have
    fewer weights than the dense 3x3 convolution they replace.

    Raises:
        TypeError, ValueError: as :class:`attention_utils.ResNet` and :class:`SKConv`.

    Source: Li et al., CVPR 2019, arXiv:1903.06586, Table 1.
    """
    require_positive_int("groups", groups)
    net = resnet50(None, num_classes, stride_in_3x3)
    for block in net.modules():
        if isinstance(block, Bottleneck):
            planes, stride = block.conv2.in_channels, block.conv2.stride[0]
            block.conv2 = SKConv(planes, stride=stride, groups=math.gcd(groups, planes))
            block.bn2 = nn.Identity()  # SKConv's branches carry their own BN and ReLU
    return net
