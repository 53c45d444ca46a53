"""The ResNet backbone that chapter 05's attention modules plug into (chapters 05, 08, 09).

A bottleneck block has four places for an attention module
(:data:`attention_utils.registry.ATTENTION_PLACES`); which module goes where, in which blocks,
comes from the registry, :data:`attention_utils.registry.ATTENTION_MODULES`, so that
``resnet50("gc")`` puts GC where its paper does. The registry imports the modules; this file
imports the registry, and no attention module imports this file.

Source: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
CVPR 2016, arXiv:1512.03385 (the bottleneck block and ResNet-50); each module's place in
:mod:`attention_utils.registry`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .checks import (
    require_batch_statistics,
    require_bool,
    require_feature_map,
    require_positive_int,
)
from .registry import ATTENTION_PLACES, attention_entry

__all__ = [
    "Bottleneck",
    "ResNet",
    "resnet50",
]

# The attribute of Bottleneck that holds the module of each place.
_SLOTS = {
    "after_conv2": "attention_after_conv2",
    "before_add": "attention",
    "shortcut": "attention_shortcut",
    "after_add": "attention_after_add",
}
assert set(_SLOTS) == set(ATTENTION_PLACES)


class Bottleneck(nn.Module):
    """ResNet's bottleneck block with an optional attention module where its registry entry says.

    ``1x1 (in -> planes) -> 3x3 (planes -> planes) -> 1x1 (planes -> 4 planes)``, each followed
    by batch norm (and ReLU but the last), plus the shortcut (a strided 1x1 conv + BN when the
    shape changes), then ReLU. The stride sits on the 3x3 conv (ResNet v1.5, torchvision's) or,
    with ``stride_in_3x3=False``, on the first 1x1 conv (v1, the original paper's). Same
    parameters; v1.5 costs more FLOPs (the 3x3 conv runs at the higher resolution).

    Attention placement comes from ``ATTENTION_MODULES[attention].place``
    (:mod:`attention_utils.registry`): SE, CBAM and ECA act ``"before_add"``, SimAM
    ``"after_conv2"`` (see the registry's docstring for every place). Each
    place has its own attribute, ``nn.Identity()`` unless the module goes there:
    ``attention_after_conv2``, ``attention`` (before the addition), ``attention_shortcut`` and
    ``attention_after_add``.

    Args:
        in_channels: channels of the input.
        planes: width of the bottleneck; the output has ``4 * planes`` channels.
        stride: 1 or 2.
        attention: ``None`` or a name in ``ATTENTION_MODULES`` (``"se"``, ``"cbam"``,
            ``"eca"``, ``"simam"``, and any that a chapter registers).
        stride_in_3x3: v1.5 (True) or v1 (False).

    Shape:
        input ``(batch_size, in_channels, H, W)``; output
        ``(batch_size, 4 * planes, ceil(H / stride), ceil(W / stride))``.

    Raises:
        TypeError: if a size is not an int, ``attention`` not a str or None, or
            ``stride_in_3x3`` not a bool.
        ValueError: if ``attention`` is not a registered name (the message lists them) or a size
            is not positive; SimAM raises in the forward pass if the 3x3 conv's output is a
            single pixel.
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
        require_positive_int("in_channels", in_channels)
        require_positive_int("planes", planes)
        require_positive_int("stride", stride)
        require_bool("stride_in_3x3", stride_in_3x3)
        entry = attention_entry(attention)
        self.stride = stride
        out_channels = planes * self.expansion
        s1, s3 = (1, stride) if stride_in_3x3 else (stride, 1)
        self.conv1 = nn.Conv2d(in_channels, planes, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        for slot in _SLOTS.values():
            setattr(self, slot, nn.Identity())
        if entry is not None:
            channels = planes if entry.place == "after_conv2" else out_channels
            setattr(self, _SLOTS[entry.place], entry(channels))
        self.downsample: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.conv1.in_channels, self)
        positions = -(-x.shape[2] // self.stride) * -(-x.shape[3] // self.stride)
        require_batch_statistics(self, "x", x, x.shape[0] * positions)
        out = self.relu(self.bn1(self.conv1(x)))  # (batch_size, planes, H', W')
        out = self.attention_after_conv2(self.conv2(out))  # (batch_size, planes, H/s, W/s)
        out = self.relu(self.bn2(out))
        out = self.attention(self.bn3(self.conv3(out)))  # (batch_size, 4 planes, H/s, W/s)
        identity = self.attention_shortcut(self.downsample(x))  # (batch_size, 4 planes, H/s, W/s)
        return self.attention_after_add(self.relu(out + identity))


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
        TypeError: ``layers`` not four ints; the others as :class:`Bottleneck`.
        ValueError: unknown attention name; a stage with no block; input not
            ``(batch_size, 3, H, W)``.
    """

    def __init__(
        self,
        layers: Sequence[int] = (3, 4, 6, 3),
        attention: str | None = None,
        num_classes: int = 1000,
        stride_in_3x3: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(layers, Sequence) or len(layers) != 4:
            raise TypeError(
                f"layers must be a sequence of 4 ints (blocks per stage), got {layers!r}"
            )
        for i, blocks in enumerate(layers):
            require_positive_int(f"layers[{i}]", blocks)
        entry = attention_entry(attention)
        require_positive_int("num_classes", num_classes)
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
                here = attention if entry is None or entry.applies(i + 2, j, blocks) else None
                stage.append(Bottleneck(in_channels, planes, stride, here, stride_in_3x3))
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
        x = require_feature_map(x, 3, self)
        positions = -(-x.shape[2] // 32) * -(-x.shape[3] // 32)  # res5's map: ceil(H / 32)
        require_batch_statistics(self, "x", x, x.shape[0] * positions)
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
        attention: ``None`` or a name in ``ATTENTION_MODULES`` (``"se"``, ``"cbam"``,
            ``"eca"``, ``"simam"``, and any that a chapter registers).
        num_classes: outputs of the classifier (1000 for ImageNet).
        stride_in_3x3: True for ResNet v1.5 (stride on the 3x3 conv, torchvision's default),
            False for v1 (stride on the first 1x1 conv, as in He et al. 2016 and the SE, CBAM
            and ECA papers' FLOP counts).

    Raises:
        TypeError, ValueError: as :class:`ResNet`.

    Source: He et al., CVPR 2016, arXiv:1512.03385; attention papers in the module docstring.
    """
    return ResNet((3, 4, 6, 3), attention, num_classes, stride_in_3x3)
