"""BiSeNet's attention modules: the attention refinement and feature fusion modules (chapter 09).

Paper: Changqian Yu, Jingbo Wang, Chao Peng, Changxin Gao, Gang Yu, Nong Sang, "BiSeNet:
Bilateral Segmentation Network for Real-time Semantic Segmentation", ECCV 2018, arXiv:1808.00897.

Both are channel gates inside a two-path segmentation network, not add-ons for a ResNet block,
so neither is registered. Same vocabulary and weights switch as :mod:`attention_utils.vision`.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_positive_int,
)
from .core import NeedWeightsMixin

__all__ = ["AttentionRefinementModule", "FeatureFusionModule"]


class AttentionRefinementModule(NeedWeightsMixin, nn.Module):
    """BiSeNet's attention refinement module: a global-context channel gate without a bottleneck.

    ``w = sigmoid(BN(W avgpool(x)))`` with a full ``C x C`` 1x1 convolution ``W``; ``y = x * w``.
    The weights depend on the image only through its channel means.

    Args:
        channels: C.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output the same; ``attention_weights``
        ``(batch_size, channels, 1, 1)``. Train with batch size > 1 (the BN sees one value per
        image and channel).

    Raises:
        TypeError, ValueError: bad sizes or input, as :class:`attention_utils.SEBlock`.

    Source: Yu et al., "BiSeNet", ECCV 2018, arXiv:1808.00897, Sec. 3.2 and Fig. 2(b).
    """

    def __init__(self, channels: int, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.Sigmoid(),
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        require_batch_statistics(self, "x", x, x.shape[0])  # the BN sees one value per image
        weights = self.gate(x)  # (B, C, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights


class FeatureFusionModule(NeedWeightsMixin, nn.Module):
    """BiSeNet's feature fusion module: concatenate two paths, then reweight channels SE-style.

    ``f = ReLU(BN(conv1x1([x_spatial; x_context])))``, ``w = sigmoid(W2 ReLU(W1 avgpool(f)))``
    and ``y = f + f * w = f (1 + w)``: the low-level (spatial path) and high-level (context path)
    features live at different scales, and the gate chooses between them per channel.

    Args:
        spatial_channels, context_channels: channels of the two inputs.
        out_channels: channels of the fused output.
        reduction: r of the gate (1, no bottleneck, as in the authors' code).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        ``forward(x_spatial, x_context)`` with ``(B, C_s, H, W)`` and ``(B, C_c, H, W)`` ->
        ``(B, out_channels, H, W)``; ``attention_weights`` ``(B, out_channels, 1, 1)``.

    Raises:
        ValueError: if the two inputs differ in batch size or spatial size; bad sizes.

    Source: Yu et al., "BiSeNet", ECCV 2018, arXiv:1808.00897, Sec. 3.3 and Fig. 2(c).
    """

    def __init__(
        self,
        spatial_channels: int,
        context_channels: int,
        out_channels: int,
        reduction: int = 1,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.spatial_channels = require_positive_int("spatial_channels", spatial_channels)
        self.context_channels = require_positive_int("context_channels", context_channels)
        require_positive_int("out_channels", out_channels)
        require_positive_int("reduction", reduction)
        hidden = max(out_channels // reduction, 1)
        self.fuse = nn.Sequential(
            nn.Conv2d(spatial_channels + context_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(out_channels, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, out_channels, 1),
            nn.Sigmoid(),
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x_spatial: torch.Tensor, x_context: torch.Tensor) -> torch.Tensor:
        x_spatial = require_feature_map(x_spatial, self.spatial_channels, self, "x_spatial")
        x_context = require_feature_map(x_context, self.context_channels, self, "x_context")
        if x_spatial.shape[0] != x_context.shape[0] or x_spatial.shape[-2:] != x_context.shape[-2:]:
            raise ValueError(
                "x_spatial and x_context must have the same batch size, height and "
                f"width, got {tuple(x_spatial.shape)} and {tuple(x_context.shape)}"
            )
        require_batch_statistics(self, "x_spatial", x_spatial, x_spatial[:, 0].numel())
        f = self.fuse(torch.cat([x_spatial, x_context], dim=1))  # (B, out_channels, H, W)
        weights = self.gate(f)  # (B, out_channels, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return f * (1 + weights)
