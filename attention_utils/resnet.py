"""The ResNet backbone that chapter 05's attention modules plug into, and the registry of them.

Sources:
    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
    arXiv:1512.03385 (the bottleneck block and ResNet-50).
    Where each attention module goes follows its own paper and code: SE (Hu et al., CVPR 2018,
    arXiv:1709.01507, fig. 3), CBAM (Woo et al., ECCV 2018, arXiv:1807.06521, fig. 3) and ECA
    (Wang et al., CVPR 2020, arXiv:1910.03151) at the end of the residual branch, before the
    addition; SimAM (Yang et al., ICML 2021, PMLR 139:11863-11874) after the 3x3 convolution, as
    in its authors' code.

The registry. ``ATTENTION_MODULES`` maps a name to an :class:`AttentionEntry`: a factory
``factory(channels, **kwargs) -> nn.Module`` and the place in a :class:`Bottleneck` where the
module goes (one of :data:`ATTENTION_PLACES`):

- ``"after_conv2"``: on the ``planes`` channels right after the 3x3 convolution, before its BN;
- ``"before_add"``: on the residual branch after the last BN, before the shortcut is added;
- ``"shortcut"``: on the identity (shortcut) path, before the addition;
- ``"after_add"``: on the block's output, after the addition and the ReLU.

A module that the paper puts only in some blocks (Non-local in one block of res4, GC in
res3-res5) is registered with ``blocks=``, a predicate ``blocks(stage, index, num_blocks)``
where ``stage`` is 2..5 as in the papers' res2..res5 (c2..c5), ``index`` the block's position in
its stage and ``num_blocks`` the stage's length; :class:`ResNet` puts the module only where it
returns True (None, the default, means every block).

A Part II chapter adds a module with one call, and every builder here can then use it by name::

    register_attention("gc", GlobalContextBlock, place="before_add")
    net = resnet50("gc")

``make_attention(name, channels, **kwargs)`` builds a registered module by name (``None`` gives
``nn.Identity()``), for a network of one's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .checks import require_bool, require_feature_map, require_positive_int
from .vision import CBAM, ECA, SEBlock, SimAM

__all__ = [
    "ATTENTION_MODULES",
    "ATTENTION_PLACES",
    "AttentionEntry",
    "Bottleneck",
    "ResNet",
    "make_attention",
    "register_attention",
    "resnet50",
]

#: The places in a :class:`Bottleneck` an attention module can go, in the order data meets them.
ATTENTION_PLACES = ("after_conv2", "before_add", "shortcut", "after_add")

# The attribute of Bottleneck that holds the module of each place.
_SLOTS = {
    "after_conv2": "attention_after_conv2",
    "before_add": "attention",
    "shortcut": "attention_shortcut",
    "after_add": "attention_after_add",
}


@dataclass(frozen=True)
class AttentionEntry:
    """A registered attention module: how to build it and where it goes in a bottleneck block.

    Attributes:
        factory: ``factory(channels, **kwargs) -> nn.Module``, e.g. the class itself; the module
            must map ``(batch_size, channels, H, W)`` to the same shape.
        place: one of :data:`ATTENTION_PLACES`.
        blocks: None (every block) or ``blocks(stage, index, num_blocks) -> bool`` with
            ``stage`` in 2..5 (res2..res5), as described in the module docstring.
    """

    factory: Callable[..., nn.Module]
    place: str
    blocks: Callable[[int, int, int], bool] | None = None

    def applies(self, stage: int, index: int, num_blocks: int) -> bool:
        """Whether the module goes into block ``index`` of stage ``stage`` (2..5)."""
        return self.blocks is None or bool(self.blocks(stage, index, num_blocks))

    def __call__(self, channels: int, **kwargs: object) -> nn.Module:
        """Build the module for ``channels`` channels (keyword arguments go to the factory)."""
        return self.factory(channels, **kwargs)


#: name -> :class:`AttentionEntry`; fill it with :func:`register_attention`.
ATTENTION_MODULES: dict[str, AttentionEntry] = {}


def register_attention(
    name: str,
    factory: Callable[..., nn.Module] | None = None,
    *,
    place: str = "before_add",
    replace: bool = False,
    blocks: Callable[[int, int, int], bool] | None = None,
) -> Callable:
    """Add an attention module to :data:`ATTENTION_MODULES` under ``name``.

    Call it directly, ``register_attention("se", SEBlock)``, or use it as a class decorator,
    ``@register_attention("gc", place="before_add")``. The factory is called as
    ``factory(channels)`` by the builders here, so each paper's defaults apply.

    Args:
        name: the name the builders accept, case-insensitive (stored in lower case).
        factory: ``factory(channels, **kwargs) -> nn.Module``; omit it to get a decorator.
        place: where the module goes in a :class:`Bottleneck`, one of :data:`ATTENTION_PLACES`.
        replace: allow replacing a module registered under the same name.
        blocks: None (every block of a :class:`ResNet`) or a predicate
            ``blocks(stage, index, num_blocks)``, ``stage`` in 2..5 (res2..res5).

    Returns:
        The factory (so the decorator form leaves the class as it was).

    Raises:
        TypeError: if ``name`` is not a string, ``factory`` or ``blocks`` not callable or
            ``replace`` not a bool.
        ValueError: if ``name`` is empty, ``place`` is not one of :data:`ATTENTION_PLACES`, or
            ``name`` is taken and ``replace`` is False.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("name must not be empty")
    if place not in ATTENTION_PLACES:
        raise ValueError(f"place must be one of {ATTENTION_PLACES}, got {place!r}")
    require_bool("replace", replace)
    if blocks is not None and not callable(blocks):
        raise TypeError(f"blocks must be None or callable, got {type(blocks).__name__}")
    key = name.lower()
    if key in ATTENTION_MODULES and not replace:
        raise ValueError(
            f"an attention module is already registered as {key!r}; pass replace=True to replace it"
        )

    def add(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if not callable(factory):
            raise TypeError(f"factory must be callable, got {type(factory).__name__}")
        ATTENTION_MODULES[key] = AttentionEntry(factory, place, blocks)
        return factory

    return add if factory is None else add(factory)


register_attention("se", SEBlock)
register_attention("cbam", CBAM)
register_attention("eca", ECA)
register_attention("simam", SimAM, place="after_conv2")


def _entry(attention: object) -> AttentionEntry | None:
    """The registry entry for ``attention`` (None for None), or a clear error."""
    if attention is None:
        return None
    if not isinstance(attention, str):
        raise TypeError(f"attention must be None or a str, got {type(attention).__name__}")
    if attention.lower() not in ATTENTION_MODULES:
        raise ValueError(
            f"unknown attention {attention!r}; choose None or one of {sorted(ATTENTION_MODULES)}"
        )
    return ATTENTION_MODULES[attention.lower()]


def make_attention(attention: str | None, channels: int, **kwargs: object) -> nn.Module:
    """Build the registered attention module ``attention`` for ``channels`` channels.

    Args:
        attention: a name in :data:`ATTENTION_MODULES` (case-insensitive), or None.
        channels: C of the ``(batch_size, C, H, W)`` input.
        **kwargs: passed to the factory, e.g. ``reduction=4`` for SE and CBAM; ignored for None.

    Returns:
        The module, or ``nn.Identity()`` for None.

    Raises:
        TypeError: if ``attention`` is not a str or None, or ``channels`` not an int.
        ValueError: if ``attention`` is not registered (the message lists the names) or
            ``channels < 1``; the factory's own errors for bad ``kwargs``.
    """
    entry = _entry(attention)
    require_positive_int("channels", channels)
    return nn.Identity() if entry is None else entry(channels, **kwargs)


class Bottleneck(nn.Module):
    """ResNet's bottleneck block with an optional attention module where its registry entry says.

    ``1x1 (in -> planes) -> 3x3 (planes -> planes) -> 1x1 (planes -> 4 planes)``, each followed
    by batch norm (and ReLU but the last), plus the shortcut (a strided 1x1 conv + BN when the
    shape changes), then ReLU. The stride sits on the 3x3 conv (ResNet v1.5, torchvision's) or,
    with ``stride_in_3x3=False``, on the first 1x1 conv (v1, the original paper's). Same
    parameters; v1.5 costs more FLOPs (the 3x3 conv runs at the higher resolution).

    Attention placement comes from ``ATTENTION_MODULES[attention].place``: SE, CBAM and ECA act
    ``"before_add"``, SimAM ``"after_conv2"`` (see the module docstring for every place). Each
    place has its own attribute, ``nn.Identity()`` unless the module goes there:
    ``attention_after_conv2``, ``attention`` (before the addition), ``attention_shortcut`` and
    ``attention_after_add``.

    Args:
        in_channels: channels of the input.
        planes: width of the bottleneck; the output has ``4 * planes`` channels.
        stride: 1 or 2.
        attention: ``None`` or a name in :data:`ATTENTION_MODULES` (``"se"``, ``"cbam"``,
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
        entry = _entry(attention)
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
        entry = _entry(attention)
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
        x = require_feature_map(x, 3)
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
        attention: ``None`` or a name in :data:`ATTENTION_MODULES` (``"se"``, ``"cbam"``,
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
