"""Channel and spatial attention for convolutional networks: SE, CBAM, ECA and SimAM (chapter 05).

Papers, in the order chapter 05 teaches them:

- SE: Jie Hu, Li Shen, Samuel Albanie, Gang Sun, Enhua Wu, "Squeeze-and-Excitation Networks",
  CVPR 2018 / TPAMI 2020, arXiv:1709.01507.
- CBAM: Sanghyun Woo, Jongchan Park, Joon-Young Lee, In So Kweon, "CBAM: Convolutional Block
  Attention Module", ECCV 2018, arXiv:1807.06521.
- ECA: Qilong Wang, Banggu Wu, Pengfei Zhu, Peihua Li, Wangmeng Zuo, Qinghua Hu, "ECA-Net:
  Efficient Channel Attention for Deep Convolutional Neural Networks", CVPR 2020, arXiv:1910.03151.
- SimAM: Lingxiao Yang, Ru-Yuan Zhang, Lida Li, Xiaohua Xie, "SimAM: A Simple, Parameter-Free
  Attention Module for Convolutional Neural Networks", ICML 2021, PMLR 139:11863-11874.

One vocabulary for every module: the first argument is ``channels`` (the C of an input of shape
``(batch_size, channels, height, width)``), then the module's own knobs (``reduction`` r,
``kernel_size``, ``gamma`` and ``b``, ``e_lambda``).

One idiom for the weights, the library's (:class:`~attention_utils.core.NeedWeightsMixin`, False
by default): with ``need_weights=True`` a module keeps the weights of its last forward pass,
detached, in ``self.attention_weights``; else they are None. Here the weights are a tensor that
broadcasts against the input, and the output is exactly ``x * self.attention_weights``.

The ResNet backbone these modules plug into is in ``resnet``; the registry that says where each
one goes in a bottleneck block is in ``registry``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_odd_kernel_size,
    require_positive,
    require_positive_int,
    require_real,
    require_reduction,
)
from .core import NeedWeightsMixin

__all__ = [
    "CBAM",
    "ECA",
    "ChannelAttention",
    "SEBlock",
    "SimAM",
    "SpatialAttention",
    "eca_kernel_size",
]


class SEBlock(NeedWeightsMixin, nn.Module):
    """Squeeze-and-excitation: reweight each channel by a gate computed from all channels.

    With ``x`` of shape ``(B, C, H, W)``:

    - squeeze: ``z = mean over (h, w) of x``, shape ``(B, C)`` (global average pooling);
    - excitation: ``s = sigmoid(W2 relu(W1 z + b1) + b2)`` with ``W1`` of shape ``(C/r, C)``
      and ``W2`` of shape ``(C, C/r)``, shape ``(B, C)``;
    - scale: ``y = x * s``, each channel multiplied by its weight in (0, 1).

    Parameters: ``2 C^2 / r`` weights plus ``C/r + C`` biases (with ``C/r`` rounded down).

    Args:
        channels: C, the number of input channels.
        reduction: r, the reduction ratio of the bottleneck (16 in the paper).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` after a forward pass ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError: if ``channels`` or ``reduction`` is not an int, or the input is not a
            floating tensor of the parameters' dtype.
        ValueError: if ``channels < reduction`` or ``reduction < 1``; if the input is not 4-D
            or has the wrong number of channels.

    Source: Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507.
    """

    def __init__(self, channels: int, reduction: int = 16, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        hidden = channels // reduction
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid()
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        z = self.squeeze(x).flatten(1)  # (batch_size, channels)
        s = self.excitation(z)[:, :, None, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = s.detach() if self.need_weights else None
        return x * s

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class ChannelAttention(NeedWeightsMixin, nn.Module):
    """CBAM's channel half: one shared MLP over the average- and the max-pooled descriptor.

    ``M_c(x) = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))``, ``MLP(z) = W2 relu(W1 z)`` with
    ``W1: C -> C/r`` and ``W2: C/r -> C`` (with biases, as in the authors' code), shared by
    both descriptors; the output is ``x * M_c(x)``.

    Args:
        channels: C, the number of input channels.
        reduction: r, the reduction ratio of the shared MLP (16 in the paper).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError, ValueError: as :class:`SEBlock`.

    Source: Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018,
    arXiv:1807.06521, eq. (2).
    """

    def __init__(self, channels: int, reduction: int = 16, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        hidden = channels // reduction
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels)
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        avg = self.mlp(x.mean(dim=(2, 3)))  # (batch_size, channels)
        mx = self.mlp(x.amax(dim=(2, 3)))  # (batch_size, channels)
        weights = torch.sigmoid(avg + mx)[:, :, None, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class SpatialAttention(NeedWeightsMixin, nn.Module):
    """CBAM's spatial half: a ``k x k`` convolution over the channel-wise mean and max maps.

    ``M_s(x) = sigmoid(BN(conv_k([mean_c(x); max_c(x)])))``: the two ``(B, 1, H, W)`` maps are
    stacked into 2 channels, convolved to 1 channel with 'same' padding (no bias, followed by a
    batch norm as in the authors' code), and the output is ``x * M_s(x)``.
    Parameters: ``2 k^2`` conv weights + 2 batch-norm affine parameters.

    Args:
        channels: C, the number of input channels (checked against the input; the module's
            parameters do not depend on it).
        kernel_size: k, odd (7 in the paper), so that 'same' padding ``k // 2`` keeps H and W.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, 1, height, width)``.

    Raises:
        TypeError: if ``channels`` or ``kernel_size`` is not an int; bad input as :class:`SEBlock`.
        ValueError: if ``kernel_size`` is even or < 1; bad input as :class:`SEBlock`.

    Source: Woo et al., "CBAM", ECCV 2018, arXiv:1807.06521, eq. (3).
    """

    def __init__(self, channels: int, kernel_size: int = 7, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.kernel_size = require_odd_kernel_size(kernel_size)
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        require_batch_statistics(self, "x", x, x.shape[0] * x.shape[2] * x.shape[3])
        pooled = torch.cat(
            [x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1
        )  # (batch_size, 2, height, width)
        weights = torch.sigmoid(self.bn(self.conv(pooled)))  # (batch_size, 1, height, width)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


class CBAM(NeedWeightsMixin, nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    ``x' = x * M_c(x)``, ``y = x' * M_s(x')`` (sequential, channel first: the order the paper
    found best). The halves are :class:`ChannelAttention` and :class:`SpatialAttention`,
    available as ``self.channel_attention`` and ``self.spatial_attention``, each with its own
    ``attention_weights``; ``self.attention_weights`` is their product
    ``M_c * M_s``, shape ``(batch_size, channels, height, width)``, so that ``y = x *
    attention_weights`` as for every module here.

    Args:
        channels: C.
        reduction: r of the channel MLP (16).
        kernel_size: k of the spatial convolution (7, odd).
        need_weights: both halves keep their last weights (a settable attribute that sets both).

    Shape:
        input ``(batch_size, channels, height, width)``; output the same.

    Raises:
        TypeError, ValueError: as the two halves.

    Source: Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018,
    arXiv:1807.06521.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        kernel_size: int = 7,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction)
        self.spatial_attention = SpatialAttention(channels, kernel_size)
        self.need_weights = need_weights  # NeedWeightsMixin: sets both halves

    @property
    def attention_weights(self) -> torch.Tensor | None:
        channel = self.channel_attention.attention_weights
        spatial = self.spatial_attention.attention_weights
        if channel is None or spatial is None:
            return None
        return channel * spatial  # (batch_size, channels, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_attention(self.channel_attention(x))


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """ECA's adaptive kernel size ``k = psi(C) = |log2(C) / gamma + b / gamma|_odd``.

    ``|t|_odd`` is implemented as in the authors' code: ``t`` truncated to an int, plus one if
    that is even (so 4.5 -> 5, 5.5 -> 5, 6 -> 7; C = 64, 256, 512, 1024, 2048 give 3, 5, 5, 5, 7).

    Raises:
        TypeError: if ``channels`` is not an int or ``gamma``, ``b`` are not numbers.
        ValueError: if ``channels < 1``, ``gamma <= 0`` or a number is not finite.

    Source: Wang et al., "ECA-Net", CVPR 2020, arXiv:1910.03151, eq. (12).
    """
    require_positive_int("channels", channels)
    gamma = require_positive("gamma", gamma)
    b = require_real("b", b)
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 == 1 else t + 1


class ECA(NeedWeightsMixin, nn.Module):
    """Efficient channel attention: a 1-D convolution across neighbouring channels.

    ``w = sigmoid(conv1d_k(avgpool(x)))``: the ``(B, C)`` descriptor is read as a length-C
    sequence and convolved with one ``k``-tap kernel (no bias, 'same' padding), so each channel's
    weight depends on its ``k`` neighbours; no dimensionality reduction. Parameters: ``k``.

    Args:
        channels: C.
        gamma, b: the constants of :func:`eca_kernel_size` (2 and 1 in the paper).
        kernel_size: set k directly instead (odd); ``None`` chooses it from ``channels``.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError: if ``channels`` or ``kernel_size`` is not an int, ``gamma`` or ``b`` not a
            number; bad input as :class:`SEBlock`.
        ValueError: if ``kernel_size`` is even or < 1, ``gamma <= 0``; bad input as
            :class:`SEBlock`.

    Source: Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural
    Networks", CVPR 2020, arXiv:1910.03151.
    """

    def __init__(
        self,
        channels: int,
        gamma: float = 2,
        b: float = 1,
        kernel_size: int | None = None,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        if kernel_size is None:
            kernel_size = eca_kernel_size(channels, gamma, b)
        self.kernel_size = require_odd_kernel_size(kernel_size)
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        z = x.mean(dim=(2, 3))[:, None, :]  # (batch_size, 1, channels)
        weights = torch.sigmoid(self.conv(z))  # (batch_size, 1, channels)
        weights = weights.transpose(1, 2)[:, :, :, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


class SimAM(NeedWeightsMixin, nn.Module):
    """Parameter-free 3-D attention from the closed-form minimum of a neuron energy.

    For each channel with ``M = H W`` positions, mean ``mu`` and ``sigma^2 = sum (x - mu)^2 /
    (M - 1)``, the minimal energy of neuron ``t`` is ``e_t = 4 (sigma^2 + lambda) /
    ((t - mu)^2 + 2 sigma^2 + 2 lambda)``; a neuron that differs more from its neighbours has
    lower energy and matters more. The weights are ``sigmoid(1 / e_t)``, i.e.
    ``sigmoid((t - mu)^2 / (4 (sigma^2 + lambda)) + 1/2)``, one per element; no parameters.

    Args:
        channels: C, or ``None`` (default) for any number of channels; only checked.
        e_lambda: lambda, the regulariser of the energy (1e-4 in the paper), > 0.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, height, width)`` with ``height * width >= 2``; output
        and ``attention_weights`` the same shape.

    Raises:
        TypeError: if ``channels`` is not an int or None, ``e_lambda`` not a number, or the
            input not a floating tensor.
        ValueError: if ``e_lambda <= 0``, the input is not 4-D, or ``height * width < 2``.

    Source: Yang et al., "SimAM: A Simple, Parameter-Free Attention Module for Convolutional
    Neural Networks", ICML 2021, PMLR 139:11863-11874, eqs. (5)-(6) and Fig. 3.
    """

    def __init__(
        self, channels: int | None = None, e_lambda: float = 1e-4, *, need_weights: bool = False
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = None if channels is None else require_positive_int("channels", channels)
        self.e_lambda = require_positive("e_lambda", e_lambda)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels)
        n = x.shape[2] * x.shape[3] - 1
        if n < 1:
            raise ValueError(f"SimAM needs height * width >= 2, got shape {tuple(x.shape)}")
        d = (x - x.mean(dim=(2, 3), keepdim=True)) ** 2  # (batch_size, channels, height, width)
        variance = d.sum(dim=(2, 3), keepdim=True) / n  # (batch_size, channels, 1, 1)
        inverse_energy = d / (4 * (variance + self.e_lambda)) + 0.5
        weights = torch.sigmoid(inverse_energy)  # (batch_size, channels, height, width)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, e_lambda={self.e_lambda}"
