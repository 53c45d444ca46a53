"""Channel and spatial attention inside convolutional networks, and a ResNet-50 to put it in.

Papers, in the order chapter 05 teaches them:

- SE: Jie Hu, Li Shen, Samuel Albanie, Gang Sun, Enhua Wu, "Squeeze-and-Excitation Networks",
  CVPR 2018 / TPAMI 2020, arXiv:1709.01507.
- CBAM: Sanghyun Woo, Jongchan Park, Joon-Young Lee, In So Kweon, "CBAM: Convolutional Block
  Attention Module", ECCV 2018, arXiv:1807.06521.
- ECA: Qilong Wang, Banggu Wu, Pengfei Zhu, Peihua Li, Wangmeng Zuo, Qinghua Hu, "ECA-Net:
  Efficient Channel Attention for Deep Convolutional Neural Networks", CVPR 2020, arXiv:1910.03151.
- SimAM: Lingxiao Yang, Ru-Yuan Zhang, Lida Li, Xiaohua Xie, "SimAM: A Simple, Parameter-Free
  Attention Module for Convolutional Neural Networks", ICML 2021, PMLR 139:11863-11874.
- ResNet: Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun, "Deep Residual Learning for Image
  Recognition", CVPR 2016, arXiv:1512.03385.

One vocabulary for every module: the first argument is ``channels`` (the C of an input of shape
``(batch_size, channels, height, width)``), then the module's own knobs (``reduction`` r,
``kernel_size``, ``gamma`` and ``b``, ``e_lambda``). One idiom for the weights: every module
stores the weights of its last forward pass, detached, in ``self.attention_weights``, a tensor
that broadcasts against the input, and its output is exactly ``x * self.attention_weights``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .checks import _require_positive_int, _require_tensor

__all__ = [
    "CBAM",
    "ECA",
    "ATTENTION_MODULES",
    "Bottleneck",
    "ChannelAttention",
    "ResNet",
    "SEBlock",
    "SimAM",
    "SpatialAttention",
    "eca_kernel_size",
    "resnet50",
]


def _require_reduction(channels: int, reduction: object) -> int:
    if isinstance(reduction, bool) or not isinstance(reduction, int) or reduction < 1:
        raise ValueError(f"reduction must be an int >= 1, got {reduction!r}")
    if channels < reduction:
        raise ValueError(
            f"channels ({channels}) must be >= reduction ({reduction}): the bottleneck would "
            f"have channels // reduction = {channels // reduction} units"
        )
    return reduction


def _require_feature_map(x: object, channels: int | None) -> torch.Tensor:
    x = _require_tensor("x", x)
    if x.dim() != 4:
        raise ValueError(
            "x must have shape (batch_size, channels, height, width), "
            f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"x must have shape (batch_size, {channels}, height, width), got {tuple(x.shape)}"
        )
    return x


class SEBlock(nn.Module):
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

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` after a forward pass ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError: if ``channels`` is not an int, or the input is not a floating tensor.
        ValueError: if ``channels < reduction`` or ``reduction < 1``; if the input is not 4-D
            or has the wrong number of channels.

    Source: Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.channels = _require_positive_int("channels", channels)
        self.reduction = _require_reduction(channels, reduction)
        hidden = channels // reduction
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid()
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, self.channels)
        z = self.squeeze(x).flatten(1)  # (batch_size, channels)
        s = self.excitation(z)[:, :, None, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = s.detach()
        return x * s

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class ChannelAttention(nn.Module):
    """CBAM's channel half: one shared MLP over the average- and the max-pooled descriptor.

    ``M_c(x) = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))``, ``MLP(z) = W2 relu(W1 z)`` with
    ``W1: C -> C/r`` and ``W2: C/r -> C`` (with biases, as in the authors' code), shared by
    both descriptors; the output is ``x * M_c(x)``.

    Args:
        channels: C, the number of input channels.
        reduction: r, the reduction ratio of the shared MLP (16 in the paper).

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError, ValueError: as :class:`SEBlock`.

    Source: Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018,
    arXiv:1807.06521, eq. (2).
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.channels = _require_positive_int("channels", channels)
        self.reduction = _require_reduction(channels, reduction)
        hidden = channels // reduction
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels)
        )
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, self.channels)
        avg = self.mlp(x.mean(dim=(2, 3)))  # (batch_size, channels)
        mx = self.mlp(x.amax(dim=(2, 3)))  # (batch_size, channels)
        weights = torch.sigmoid(avg + mx)[:, :, None, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = weights.detach()
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class SpatialAttention(nn.Module):
    """CBAM's spatial half: a ``k x k`` convolution over the channel-wise mean and max maps.

    ``M_s(x) = sigmoid(BN(conv_k([mean_c(x); max_c(x)])))``: the two ``(B, 1, H, W)`` maps are
    stacked into 2 channels, convolved to 1 channel with 'same' padding (no bias, followed by a
    batch norm as in the authors' code), and the output is ``x * M_s(x)``.
    Parameters: ``2 k^2`` conv weights + 2 batch-norm affine parameters.

    Args:
        channels: C, the number of input channels (checked against the input; the module's
            parameters do not depend on it).
        kernel_size: k, odd (7 in the paper), so that 'same' padding ``k // 2`` keeps H and W.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, 1, height, width)``.

    Raises:
        ValueError: if ``kernel_size`` is even or < 1; bad input as :class:`SEBlock`.

    Source: Woo et al., "CBAM", ECCV 2018, arXiv:1807.06521, eq. (3).
    """

    def __init__(self, channels: int, kernel_size: int = 7) -> None:
        super().__init__()
        self.channels = _require_positive_int("channels", channels)
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd so that padding kernel_size // 2 keeps height and "
                f"width, got {kernel_size}"
            )
        self.kernel_size = kernel_size
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, self.channels)
        pooled = torch.cat(
            [x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1
        )  # (batch_size, 2, height, width)
        weights = torch.sigmoid(self.bn(self.conv(pooled)))  # (batch_size, 1, height, width)
        self.attention_weights = weights.detach()
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


class CBAM(nn.Module):
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

    Shape:
        input ``(batch_size, channels, height, width)``; output the same.

    Raises:
        TypeError, ValueError: as the two halves.

    Source: Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018,
    arXiv:1807.06521.
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction)
        self.spatial_attention = SpatialAttention(channels, kernel_size)

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
        ValueError: if ``channels < 1`` or ``gamma <= 0``.

    Source: Wang et al., "ECA-Net", CVPR 2020, arXiv:1910.03151, eq. (12).
    """
    _require_positive_int("channels", channels)
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma!r}")
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 == 1 else t + 1


class ECA(nn.Module):
    """Efficient channel attention: a 1-D convolution across neighbouring channels.

    ``w = sigmoid(conv1d_k(avgpool(x)))``: the ``(B, C)`` descriptor is read as a length-C
    sequence and convolved with one ``k``-tap kernel (no bias, 'same' padding), so each channel's
    weight depends on its ``k`` neighbours; no dimensionality reduction. Parameters: ``k``.

    Args:
        channels: C.
        gamma, b: the constants of :func:`eca_kernel_size` (2 and 1 in the paper).
        kernel_size: set k directly instead (odd); ``None`` chooses it from ``channels``.

    Shape:
        input ``(batch_size, channels, height, width)``; output the same;
        ``attention_weights`` ``(batch_size, channels, 1, 1)``.

    Raises:
        ValueError: if ``kernel_size`` is even or < 1, ``gamma <= 0``; bad input as
            :class:`SEBlock`.

    Source: Wang et al., "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural
    Networks", CVPR 2020, arXiv:1910.03151.
    """

    def __init__(
        self, channels: int, gamma: float = 2, b: float = 1, kernel_size: int | None = None
    ) -> None:
        super().__init__()
        self.channels = _require_positive_int("channels", channels)
        if kernel_size is None:
            kernel_size = eca_kernel_size(channels, gamma, b)
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, self.channels)
        z = x.mean(dim=(2, 3))[:, None, :]  # (batch_size, 1, channels)
        weights = torch.sigmoid(self.conv(z))  # (batch_size, 1, channels)
        weights = weights.transpose(1, 2)[:, :, :, None]  # (batch_size, channels, 1, 1)
        self.attention_weights = weights.detach()
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}"


class SimAM(nn.Module):
    """Parameter-free 3-D attention from the closed-form minimum of a neuron energy.

    For each channel with ``M = H W`` positions, mean ``mu`` and ``sigma^2 = sum (x - mu)^2 /
    (M - 1)``, the minimal energy of neuron ``t`` is ``e_t = 4 (sigma^2 + lambda) /
    ((t - mu)^2 + 2 sigma^2 + 2 lambda)``; a neuron that differs more from its neighbours has
    lower energy and matters more. The weights are ``sigmoid(1 / e_t)``, i.e.
    ``sigmoid((t - mu)^2 / (4 (sigma^2 + lambda)) + 1/2)``, one per element; no parameters.

    Args:
        channels: C, or ``None`` (default) for any number of channels; only checked.
        e_lambda: lambda, the regulariser of the energy (1e-4 in the paper), > 0.

    Shape:
        input ``(batch_size, channels, height, width)`` with ``height * width >= 2``; output
        and ``attention_weights`` the same shape.

    Raises:
        ValueError: if ``e_lambda <= 0``, the input is not 4-D, or ``height * width < 2``.

    Source: Yang et al., "SimAM: A Simple, Parameter-Free Attention Module for Convolutional
    Neural Networks", ICML 2021, PMLR 139:11863-11874, eqs. (5)-(6) and Fig. 3.
    """

    def __init__(self, channels: int | None = None, e_lambda: float = 1e-4) -> None:
        super().__init__()
        self.channels = None if channels is None else _require_positive_int("channels", channels)
        if not (isinstance(e_lambda, (int, float)) and math.isfinite(e_lambda) and e_lambda > 0):
            raise ValueError(f"e_lambda must be a positive finite number, got {e_lambda!r}")
        self.e_lambda = float(e_lambda)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, self.channels)
        n = x.shape[2] * x.shape[3] - 1
        if n < 1:
            raise ValueError(f"SimAM needs height * width >= 2, got shape {tuple(x.shape)}")
        d = (x - x.mean(dim=(2, 3), keepdim=True)) ** 2  # (batch_size, channels, height, width)
        variance = d.sum(dim=(2, 3), keepdim=True) / n  # (batch_size, channels, 1, 1)
        inverse_energy = d / (4 * (variance + self.e_lambda)) + 0.5
        weights = torch.sigmoid(inverse_energy)  # (batch_size, channels, height, width)
        self.attention_weights = weights.detach()
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, e_lambda={self.e_lambda}"


#: name -> constructor ``f(channels) -> module`` with each paper's defaults.
ATTENTION_MODULES: dict[str, Callable[[int], nn.Module]] = {
    "se": lambda c: SEBlock(c, reduction=16),
    "cbam": lambda c: CBAM(c, reduction=16, kernel_size=7),
    "eca": lambda c: ECA(c),
    "simam": lambda c: SimAM(c),
}


def _attention_factory(attention: str | None) -> Callable[[int], nn.Module] | None:
    if attention is None:
        return None
    if not isinstance(attention, str) or attention.lower() not in ATTENTION_MODULES:
        raise ValueError(
            f"unknown attention {attention!r}; choose None or one of {sorted(ATTENTION_MODULES)}"
        )
    return ATTENTION_MODULES[attention.lower()]


class Bottleneck(nn.Module):
    """ResNet's bottleneck block with an optional attention module where its paper puts it.

    ``1x1 (in -> planes) -> 3x3 (planes -> planes) -> 1x1 (planes -> 4 planes)``, each followed
    by batch norm (and ReLU but the last), plus the shortcut (a strided 1x1 conv + BN when the
    shape changes), then ReLU. The stride sits on the 3x3 conv (ResNet v1.5, torchvision's) or,
    with ``stride_in_3x3=False``, on the first 1x1 conv (v1, the original paper's). Same
    parameters; v1.5 costs more FLOPs (the 3x3 conv runs at the higher resolution).

    Attention placement: SE, CBAM and ECA act on the residual branch after the last BN, before
    the addition (as in their papers' figures and code); SimAM acts right after the 3x3 conv,
    before its BN (as in the SimAM authors' code).

    Args:
        in_channels: channels of the input.
        planes: width of the bottleneck; the output has ``4 * planes`` channels.
        stride: 1 or 2.
        attention: ``None`` or one of ``"se"``, ``"cbam"``, ``"eca"``, ``"simam"``.
        stride_in_3x3: v1.5 (True) or v1 (False).

    Shape:
        input ``(batch_size, in_channels, H, W)``; output
        ``(batch_size, 4 * planes, ceil(H / stride), ceil(W / stride))``.

    Raises:
        ValueError: if ``attention`` is not a known name (the message lists them); SimAM
            raises in the forward pass if the 3x3 conv's output is a single pixel.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        attention: str | None = None,
        stride_in_3x3: bool = True,
    ) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        factory = _attention_factory(attention)
        s1, s3 = (1, stride) if stride_in_3x3 else (stride, 1)
        self.conv1 = nn.Conv2d(in_channels, planes, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.attention_after_conv2 = nn.Identity()
        self.attention = nn.Identity()
        if factory is not None and attention.lower() == "simam":
            self.attention_after_conv2 = factory(planes)
        elif factory is not None:
            self.attention = factory(out_channels)
        self.downsample: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (batch_size, planes, H', W')
        out = self.attention_after_conv2(self.conv2(out))  # (batch_size, planes, H/s, W/s)
        out = self.relu(self.bn2(out))
        out = self.attention(self.bn3(self.conv3(out)))  # (batch_size, 4 planes, H/s, W/s)
        return self.relu(out + self.downsample(x))


class ResNet(nn.Module):
    """A bottleneck ResNet for ``(batch_size, 3, H, W)`` images (He et al. 2016).

    Stem ``7x7/2 conv -> BN -> ReLU -> 3x3/2 max pool``, four stages of :class:`Bottleneck`
    blocks with widths 64, 128, 256, 512 (strides 1, 2, 2, 2), global average pooling and a
    linear classifier. Convs get Kaiming-normal (fan-out) initialisation, BNs weight 1, bias 0.

    Args:
        layers: blocks per stage, ``(3, 4, 6, 3)`` for ResNet-50.
        attention: see :class:`Bottleneck`.
        num_classes: outputs of the classifier.
        stride_in_3x3: ResNet v1.5 (True, torchvision's) or v1 (False).

    Shape:
        input ``(batch_size, 3, H, W)``; output ``(batch_size, num_classes)``.

    Raises:
        ValueError: unknown attention name; input not ``(batch_size, 3, H, W)``.
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int] = (3, 4, 6, 3),
        attention: str | None = None,
        num_classes: int = 1000,
        stride_in_3x3: bool = True,
    ) -> None:
        super().__init__()
        _attention_factory(attention)
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages, in_channels = [], 64
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stage = []
            for j in range(blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                stage.append(Bottleneck(in_channels, planes, stride, attention, stride_in_3x3))
                in_channels = planes * Bottleneck.expansion
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _require_feature_map(x, 3)
        x = self.stem(x)  # (batch_size, 64, H/4, W/4)
        x = self.stages(x)  # (batch_size, 2048, H/32, W/32)
        return self.fc(self.pool(x).flatten(1))  # (batch_size, num_classes)


def resnet50(
    attention: str | None = None, num_classes: int = 1000, stride_in_3x3: bool = True
) -> ResNet:
    """ResNet-50 (blocks 3, 4, 6, 3) with ``attention`` in every bottleneck.

    Parameter counts at ``num_classes=1000``: none 25,557,032; ``"se"`` 28,088,024;
    ``"cbam"`` 28,089,624; ``"eca"`` 25,557,118; ``"simam"`` 25,557,032.

    Args:
        attention: ``None``, ``"se"``, ``"cbam"``, ``"eca"`` or ``"simam"``.
        num_classes: outputs of the classifier (1000 for ImageNet).
        stride_in_3x3: True for ResNet v1.5 (stride on the 3x3 conv, torchvision's default),
            False for v1 (stride on the first 1x1 conv, as in He et al. 2016 and the SE, CBAM
            and ECA papers' FLOP counts).

    Raises:
        ValueError: if ``attention`` is not one of the names above.

    Source: He et al., CVPR 2016, arXiv:1512.03385; attention papers in the module docstring.
    """
    return ResNet((3, 4, 6, 3), attention, num_classes, stride_in_3x3)
