"""The registry of attention modules for CNNs: a name, a factory and the place its paper gives it.

The registry imports the modules and records where each paper puts its module in a bottleneck
ResNet, in one table at the end of this file (timm's ``create_attn.py`` pattern). The modules
themselves know nothing of the registry or of ResNet, and :mod:`attention_utils.resnet` builds
networks from the registry by name.

``ATTENTION_MODULES`` maps a name to an :class:`AttentionEntry`: a factory
``factory(channels, **kwargs) -> nn.Module`` and the place in a bottleneck block where the
module goes (one of :data:`ATTENTION_PLACES`):

- ``"after_conv2"``: on the ``planes`` channels right after the 3x3 convolution, before its BN;
- ``"before_add"``: on the residual branch after the last BN, before the shortcut is added;
- ``"shortcut"``: on the identity (shortcut) path, before the addition;
- ``"after_add"``: on the block's output, after the addition and the ReLU.

A module that the paper puts only in some blocks (Non-local in one block of res4, GC in
res3-res5) is registered with ``blocks=``, a predicate ``blocks(stage, index, num_blocks)``
where ``stage`` is 2..5 as in the papers' res2..res5 (c2..c5), ``index`` the block's position in
its stage and ``num_blocks`` the stage's length; :class:`attention_utils.ResNet` puts the module
only where it returns True (None, the default, means every block).

A reader adds a module with one call, and every builder can then use it by name::

    register_attention("my_gc", GlobalContextBlock, place="before_add")
    net = resnet50("my_gc")

``make_attention(name, channels, **kwargs)`` builds a registered module by name (``None`` gives
``nn.Identity()``), for a network of one's own.

Sources for the places: SE (Hu et al., CVPR 2018, arXiv:1709.01507, fig. 3), CBAM (Woo et al.,
ECCV 2018, arXiv:1807.06521, fig. 3) and ECA (Wang et al., CVPR 2020, arXiv:1910.03151) at the
end of the residual branch; SimAM (Yang et al., ICML 2021) after the 3x3 convolution, as in its
authors' code; the Part II modules as commented at each entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn

from .checks import require_bool, require_positive_int
from .cnn_attention import GCT, FcaLayer, GSoP
from .cnn_spatial import DoubleAttention
from .criss_cross import CrissCrossAttention
from .vision import CBAM, ECA, SEBlock, SimAM
from .vision_self_attention import (
    DisentangledNonLocalBlock,
    GlobalContextBlock,
    NonLocalBlock,
    PolarizedSelfAttention,
)
from .vit import OutlookAttention

__all__ = [
    "ATTENTION_MODULES",
    "ATTENTION_PLACES",
    "AttentionEntry",
    "attention_entry",
    "make_attention",
    "register_attention",
]

#: The places in a :class:`Bottleneck` an attention module can go, in the order data meets them.
ATTENTION_PLACES = ("after_conv2", "before_add", "shortcut", "after_add")


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


def attention_entry(attention: str | None) -> AttentionEntry | None:
    """The registry entry for ``attention`` (None for None), or a clear error.

    Args:
        attention: a name in :data:`ATTENTION_MODULES` (case-insensitive), or None.

    Returns:
        The :class:`AttentionEntry`, or None for None.

    Raises:
        TypeError: if ``attention`` is neither a str nor None.
        ValueError: if ``attention`` is not registered (the message lists the names).
    """
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
    entry = attention_entry(attention)
    require_positive_int("channels", channels)
    return nn.Identity() if entry is None else entry(channels, **kwargs)


# --- the book's modules, each where its paper puts it ---------------------------------------

# Chapter 05: at the end of the residual branch, before the addition; SimAM after the 3x3 conv.
register_attention("se", SEBlock)
register_attention("cbam", CBAM)
register_attention("eca", ECA)
register_attention("simam", SimAM, place="after_conv2")

# Chapter 08.
register_attention(  # one block in res4, right before its last residual block (sec. 4.1, 5)
    "nonlocal", NonLocalBlock, place="after_add", blocks=lambda s, i, n: s == 4 and i == n - 2
)
register_attention(  # after the last 1x1 conv of every block in c3-c5 (authors' configs)
    "gc", GlobalContextBlock, place="before_add", blocks=lambda s, i, n: s >= 3
)
register_attention(  # where Non-local goes
    "dnl",
    DisentangledNonLocalBlock,
    place="after_add",
    blocks=lambda s, i, n: s == 4 and i == n - 2,
)
register_attention(  # on the backbone's output (CCNet's head), R = 2
    "criss_cross",
    partial(CrissCrossAttention, recurrence=2),
    place="after_add",
    blocks=lambda s, i, n: s == 5 and i == n - 1,
)
register_attention("psa", PolarizedSelfAttention, place="after_conv2")  # after each 3x3 conv
# VOLO uses outlookers only in its first, finest stage; in a ResNet that is res2, where the
# module works on the 3x3 conv's output.
register_attention(
    "outlook",
    lambda c: OutlookAttention(c, num_heads=max(1, c // 32)),
    place="after_conv2",
    blocks=lambda s, i, n: s == 2,
)

# Chapter 09.
# FcaNet-50 sizes the DCT to the stage's map at 224x224: 56, 28, 14, 7 for C = 256 .. 2048.
_FCA_SIZE = {256: 56, 512: 28, 1024: 14, 2048: 7}


def _fca_for_resnet(channels: int, **kwargs: object) -> FcaLayer:
    return FcaLayer(channels, dct_size=_FCA_SIZE.get(channels, 7), **kwargs)


def _gsop_for_resnet(channels: int, **kwargs: object) -> GSoP:
    """GSoP-Net1's block: the reduction is strided in the first stage (C = 256)."""
    return GSoP(channels, stride=2 if channels == 256 else 1, **kwargs)


register_attention("gct", GCT, place="after_conv2")
register_attention(  # GSoP-Net1: the last block of each stage, before the addition (authors' code)
    "gsop", _gsop_for_resnet, place="before_add", blocks=lambda s, i, n: i == n - 1
)
register_attention("fca", _fca_for_resnet, place="before_add")
# A²-Net adds five double attention blocks to its ResNet-50 (33.0M, 6.50 GFLOPs). Placed as
# Non-local places its five, after every other block of res3 (2) and res4 (3), with
# m = n = C / 2, the widths of the candidates tried that come closest to the paper's figures
# (32.91M, 6.43 GMACs in ResNet-50 v1; chapter 09 compares the candidates).
register_attention(
    "a2",
    partial(DoubleAttention, reduction=2),
    place="after_add",
    blocks=lambda s, i, n: s in (3, 4) and i % 2 == 1,
)
