"""Tests for attention_utils.registry: which attention module goes where (chapters 05, 08, 09)."""

from __future__ import annotations

import ast
import pathlib

import pytest
import torch
from torch import nn

import attention_utils as au
from attention_utils import (
    ATTENTION_MODULES,
    CBAM,
    ECA,
    AttentionEntry,
    Bottleneck,
    ResNet,
    SEBlock,
    SimAM,
    make_attention,
    register_attention,
    resnet50,
)


def test_registry_places_follow_the_papers():
    net = au.resnet50("nonlocal")
    found = [n for n, m in net.named_modules() if isinstance(m, au.NonLocalBlock)]
    assert found == ["stages.2.4.attention_after_add"]  # res4, before its last block
    net = au.resnet50("gc")
    found = {
        n.split(".")[1] for n, m in net.named_modules() if isinstance(m, au.GlobalContextBlock)
    }
    assert found == {"1", "2", "3"}  # c3-c5
    net = au.resnet50("criss_cross")
    found = [n for n, m in net.named_modules() if isinstance(m, au.CrissCrossAttention)]
    assert found == ["stages.3.2.attention_after_add"]


def test_registry_records_where_each_module_goes():
    places = {name: entry.place for name, entry in ATTENTION_MODULES.items()}
    expected = {
        "se": "before_add",
        "cbam": "before_add",
        "eca": "before_add",
        "simam": "after_conv2",
    }
    assert places.items() >= expected.items()
    block = Bottleneck(64, 16, attention="simam")
    assert isinstance(block.attention_after_conv2, SimAM) and isinstance(
        block.attention, nn.Identity
    )
    block = Bottleneck(64, 16, attention="SE")  # names are case-insensitive
    assert isinstance(block.attention, SEBlock) and block.attention.channels == 64


def test_register_as_decorator_and_replace_rule():
    @register_attention("identity_for_test", place="after_add")
    class Nothing(nn.Identity):
        def __init__(self, channels):
            super().__init__()

    try:
        assert ATTENTION_MODULES["identity_for_test"] == AttentionEntry(Nothing, "after_add")
        with pytest.raises(ValueError, match="already registered"):
            register_attention("identity_for_test", Nothing)
        register_attention("identity_for_test", Nothing, place="shortcut", replace=True)
        assert ATTENTION_MODULES["identity_for_test"].place == "shortcut"
        assert sum(p.numel() for p in resnet50("identity_for_test").parameters()) == 25_557_032
    finally:
        del ATTENTION_MODULES["identity_for_test"]
    with pytest.raises(ValueError, match="place must be one of"):
        register_attention("x", nn.Identity, place="middle")
    with pytest.raises(TypeError, match="factory must be callable"):
        register_attention("x", 3)


def test_make_attention_builds_by_name():
    assert isinstance(make_attention(None, 8), nn.Identity)
    se = make_attention("se", 16, reduction=4)
    assert isinstance(se, SEBlock) and se.reduction == 4
    assert isinstance(make_attention("cbam", 32), CBAM) and isinstance(
        make_attention("eca", 32), ECA
    )
    with pytest.raises(ValueError, match="unknown attention 'bam'"):
        make_attention("bam", 8)
    with pytest.raises(ValueError, match="unknown attention"):
        resnet50("bam")
    with pytest.raises(TypeError, match="attention must be None or a str"):
        resnet50(3)
    assert ResNet((1, 1, 1, 1), num_classes=3).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 3)


VISION_MODULES = [
    "vision",
    "bisenet",
    "cnn_attention",
    "cnn_spatial",
    "criss_cross",
    "selective_kernel",
    "vision_self_attention",
    "vit",
]


@pytest.mark.parametrize("module", VISION_MODULES)
def test_attention_modules_import_neither_registry_nor_resnet_nor_private_names(module):
    """The registry imports the modules (timm's create_attn.py), never the other way round."""
    root = pathlib.Path(au.__file__).parent
    tree = ast.parse((root / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            assert node.module not in ("registry", "resnet") or module == "selective_kernel"
            assert not any(alias.name.startswith("_") for alias in node.names), node.module


def test_attention_entry_looks_up_by_name():
    assert au.attention_entry(None) is None
    assert au.attention_entry("GC") is ATTENTION_MODULES["gc"]
    with pytest.raises(ValueError, match="unknown attention 'bam'"):
        au.attention_entry("bam")
    with pytest.raises(TypeError, match="attention must be None or a str"):
        au.attention_entry(3)
