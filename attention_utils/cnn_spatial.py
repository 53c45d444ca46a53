"""Spatial, mixed and structural attention for CNNs (chapter 09).

STN, RAS, A²-Net and Residual Attention; BiSeNet's attention modules are in
:mod:`attention_utils.bisenet`.

Papers, in the order chapter 09 teaches them:

- STN: Max Jaderberg, Karen Simonyan, Andrew Zisserman, Koray Kavukcuoglu, "Spatial Transformer
  Networks", NeurIPS 2015, arXiv:1506.02025.
- RAS: Shuhan Chen, Xiuli Tan, Ben Wang, Xuelong Hu, "Reverse Attention for Salient Object
  Detection", ECCV 2018, arXiv:1807.09940.
- A²-Net: Yunpeng Chen, Yannis Kalantidis, Jianshu Li, Shuicheng Yan, Jiashi Feng, "A²-Nets:
  Double Attention Networks", NeurIPS 2018, arXiv:1810.11579.
- Residual Attention: Fei Wang, Mengqing Jiang, Chen Qian, Shuo Yang, Cheng Li, Honggang Zhang,
  Xiaogang Wang, Xiaoou Tang, "Residual Attention Network for Image Classification", CVPR 2017,
  arXiv:1704.06904.

Same vocabulary as :mod:`attention_utils.vision`: ``channels`` first, ``reduction`` where the
paper has one, the last weights (or transform) kept detached in ``attention_weights`` with
``need_weights=True`` (:class:`~attention_utils.core.NeedWeightsMixin`). Only
:class:`DoubleAttention` is a block-level add-on, registered (``"a2"``, after the addition) in
:mod:`attention_utils.registry`; the others are parts of whole architectures.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_int,
    require_positive_int,
    require_tensor,
)
from .core import NeedWeightsMixin
from .scoring import attention_pool

__all__ = [
    "DoubleAttention",
    "ResidualAttentionModule",
    "ReverseAttention",
    "SpatialTransformer",
    "affine_transform",
]


def affine_transform(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample ``x`` at ``theta @ (x_t, y_t, 1)``: grid generator and bilinear sampler.

    Coordinates are normalised to [-1, 1] (pixel centres, ``align_corners=False``); output pixel
    ``(x_t, y_t)`` takes the input's value at ``(x_s, y_s) = theta (x_t, y_t, 1)^T``, zero outside.

    Args:
        x: ``(batch_size, channels, H, W)``.
        theta: ``(batch_size, 2, 3)`` affine matrices.

    Returns:
        ``(batch_size, channels, H, W)``.

    Raises:
        ValueError: if ``theta`` is not ``(batch_size, 2, 3)``.
    """
    x = require_feature_map(x, None)
    theta = require_tensor("theta", theta)
    if theta.shape != (x.shape[0], 2, 3):
        raise ValueError(f"theta must have shape ({x.shape[0]}, 2, 3), got {tuple(theta.shape)}")
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, align_corners=False)  # (B, C, H, W)


class SpatialTransformer(NeedWeightsMixin, nn.Module):
    """Spatial transformer: a localisation net predicts an affine map, a sampler applies it.

    ``theta = f_loc(x)`` (two conv + max-pool + ReLU stages, then two linear layers giving 6
    numbers, shape ``(B, 2, 3)``); the grid generator maps each output pixel to
    ``theta (x_t, y_t, 1)^T`` and the sampler reads the input there bilinearly
    (:func:`affine_transform`). The last linear layer starts at zero weights with the bias of the
    identity ``[[1, 0, 0], [0, 1, 0]]``, so a fresh transformer returns its input.

    Args:
        channels: C of the input.
        hidden: units of the localisation net's hidden linear layer (32).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``, H, W >= 4; output the same;
        ``attention_weights`` is the last ``theta``, ``(batch_size, 2, 3)``.

    Raises:
        TypeError, ValueError: for bad sizes or inputs, as :class:`attention_utils.SEBlock`.

    Source: Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015, arXiv:1506.02025,
    Sec. 3.
    """

    def __init__(self, channels: int, hidden: int = 32, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        require_positive_int("hidden", hidden)
        self.localization = nn.Sequential(
            nn.Conv2d(channels, 8, 5, padding=2),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(3),
            nn.Flatten(),  # (B, 144)
            nn.Linear(16 * 9, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 6),
        )  # (B, 6)
        nn.init.zeros_(self.localization[-1].weight)
        with torch.no_grad():
            self.localization[-1].bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        theta = self.localization(x).view(-1, 2, 3)  # (B, 2, 3)
        self.attention_weights = theta.detach() if self.need_weights else None
        return affine_transform(x, theta)  # (B, C, H, W)


class ReverseAttention(NeedWeightsMixin, nn.Module):
    """Reverse attention: look where the deeper prediction is *not* yet confident.

    Given side features ``F`` of shape ``(B, C, H, W)`` and the deeper side output (saliency
    logits) ``S`` of shape ``(B, 1, h, w)``: ``A = 1 - sigmoid(up(S))``, ``(B, 1, H, W)``, erases
    what is already found, so the branch learns the missing parts and edges; a small convolution
    stack turns ``F * A`` into a residual ``R``, and the refined output is ``up(S) + R``.

    Args:
        channels: C of the side features.
        hidden: channels of the convolution stack (64).
        num_convs: 3x3 convolutions after the 1x1 reduction (3), then one 3x3 to 1 channel.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        ``forward(features, side)`` -> ``(batch_size, 1, H, W)``; ``attention_weights`` ``A``.

    Raises:
        ValueError: if ``side`` is not ``(batch_size, 1, h, w)`` with the features' batch size.

    Source: Chen et al., "Reverse Attention for Salient Object Detection", ECCV 2018,
    arXiv:1807.09940, Sec. 3.2.
    """

    def __init__(
        self, channels: int, hidden: int = 64, num_convs: int = 3, *, need_weights: bool = False
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        require_positive_int("hidden", hidden)
        require_positive_int("num_convs", num_convs)
        layers: list[nn.Module] = [nn.Conv2d(channels, hidden, 1)]
        for _ in range(num_convs):
            layers += [nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU()]
        self.residual = nn.Sequential(*layers, nn.Conv2d(hidden, 1, 3, padding=1))
        self.attention_weights: torch.Tensor | None = None

    def forward(self, features: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
        features = require_feature_map(features, self.channels, self, "features")
        side = require_feature_map(side, 1, self, "side")
        if side.shape[0] != features.shape[0]:
            raise ValueError(f"side must have batch size {features.shape[0]}, got {side.shape[0]}")
        up = F.interpolate(side, size=features.shape[-2:], mode="bilinear", align_corners=False)
        weights = 1 - torch.sigmoid(up)  # (B, 1, H, W)
        self.attention_weights = weights.detach() if self.need_weights else None
        return up + self.residual(features * weights)  # (B, 1, H, W)


class DoubleAttention(NeedWeightsMixin, nn.Module):
    """Double attention: gather global descriptors with one attention, distribute them with another.

    With ``A = conv_a(x)`` (``m`` channels), ``Bm = conv_b(x)`` and ``V = conv_v(x)`` (``n``
    channels), flattened over the ``HW`` positions:

    - gather: ``G = A softmax(Bm)^T``, ``(m, n)``; the softmax runs over positions, so each of
      the ``n`` descriptors is an attention-weighted average of ``A`` over the whole image;
    - distribute: ``Z_j = G softmax(V_j)``; the softmax runs over the ``n`` descriptors, so each
      position takes its own mix of them;
    - ``y = x + conv_z(Z)`` (1x1 back to C channels, a residual block).

    The two softmaxes are over logits, not query-key products: both pool through the core's
    :func:`attention_utils.scoring.attention_pool`. Everything is 1x1, so the block commutes with
    any permutation of positions.

    Args:
        channels: C.
        reduction: ``m = n = C / reduction`` (4).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output the same; ``attention_weights`` a pair
        (gather weights ``(B, n, HW)``, distribution weights ``(B, n, HW)``).

    Raises:
        ValueError: bad reduction or input, as :class:`attention_utils.SEBlock`.

    Source: Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018, arXiv:1810.11579,
    eqs. (3)-(5).
    """

    def __init__(self, channels: int, reduction: int = 4, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        require_positive_int("reduction", reduction)
        if channels < reduction:
            raise ValueError(f"channels ({channels}) must be >= reduction ({reduction})")
        self.reduction = reduction
        m = n = channels // reduction
        self.conv_a, self.conv_b, self.conv_v = (nn.Conv2d(channels, k, 1) for k in (m, n, n))
        self.conv_z = nn.Conv2d(m, channels, 1)
        self.attention_weights: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        b, _, h, w = x.shape
        a = self.conv_a(x).flatten(2).transpose(1, 2)  # (B, HW, m)
        # gather: n queries, each a softmax over the HW positions of conv_b's logits
        g, gather = attention_pool(self.conv_b(x).flatten(2), a)  # (B, n, m), (B, n, HW)
        # distribute: each position a query, a softmax over the n descriptors of conv_v's logits
        z, distribute = attention_pool(self.conv_v(x).flatten(2).transpose(1, 2), g)
        # z: (B, HW, m); distribute: (B, HW, n)
        z = z.transpose(1, 2).reshape(b, -1, h, w)  # (B, m, H, W)
        self.attention_weights = (
            (gather.detach(), distribute.detach().transpose(1, 2)) if self.need_weights else None
        )
        return x + self.conv_z(z)  # (B, C, H, W)


class _PreActUnit(nn.Module):
    """A pre-activation bottleneck residual unit with ``channels`` in and out."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        mid = max(channels // 4, 1)
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _Hourglass(nn.Module):
    """The mask branch's bottom-up, top-down path, ``depth`` max-pool levels with skips."""

    def __init__(self, channels: int, depth: int) -> None:
        super().__init__()
        self.down = _PreActUnit(channels)
        self.skip = _PreActUnit(channels) if depth > 1 else None
        self.inner = _Hourglass(channels, depth - 1) if depth > 1 else _PreActUnit(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.down(F.max_pool2d(x, 3, stride=2, padding=1))  # (B, C, H/2, W/2)
        out = self.inner(low)
        if self.skip is not None:
            out = out + self.skip(low)
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


class ResidualAttentionModule(NeedWeightsMixin, nn.Module):
    """Residual Attention Network's module: a trunk branch and a soft mask, ``(1 + M) * T``.

    ``p`` pre-activation residual units, then the trunk ``T(x)`` (``t`` units) and the mask
    ``M(x)`` in (0, 1): an hourglass of ``depth`` max-pool and upsampling levels (with skip
    connections), two 1x1 convolutions and a sigmoid, one weight per channel and position.
    Attention residual learning: ``H = (1 + M) * T``, so a mask near zero leaves the trunk's
    features instead of erasing them; then ``p`` more units.

    Args:
        channels: C.
        p, t: residual units before/after, and in the trunk (1 and 2 in the paper).
        depth: max-pool levels of the mask branch (1 to 3 in Attention-56 by stage).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output the same; ``attention_weights`` ``M``.

    Raises:
        TypeError, ValueError: for sizes that are not positive ints (``p`` may be 0); bad input
            as :class:`attention_utils.SEBlock`.

    Source: Wang et al., "Residual Attention Network for Image Classification", CVPR 2017,
    arXiv:1704.06904, eq. (3) and Fig. 3.
    """

    def __init__(
        self, channels: int, p: int = 1, t: int = 2, depth: int = 1, *, need_weights: bool = False
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        require_int("p", p, minimum=0)
        require_positive_int("t", t)
        self.depth = require_positive_int("depth", depth)
        self.pre = nn.Sequential(*(_PreActUnit(channels) for _ in range(p)))
        self.trunk = nn.Sequential(*(_PreActUnit(channels) for _ in range(t)))
        self.mask = nn.Sequential(
            _Hourglass(channels, depth),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1),
            nn.Sigmoid(),
        )
        self.post = nn.Sequential(*(_PreActUnit(channels) for _ in range(p)))
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        h, w = x.shape[-2:]
        for _ in range(self.depth):  # the hourglass's deepest level: ceil(H / 2^depth)
            h, w = -(-h // 2), -(-w // 2)
        require_batch_statistics(self, "x", x, x.shape[0] * h * w)
        x = self.pre(x)
        m = self.mask(x)  # (B, C, H, W), in (0, 1)
        self.attention_weights = m.detach() if self.need_weights else None
        return self.post((1 + m) * self.trunk(x))  # (B, C, H, W)
