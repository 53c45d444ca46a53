"""The ResNet backbone and the attention registry (chapter 05)."""

import pytest
import torch
from torch import nn

from attention_utils import (
    ATTENTION_MODULES,
    ATTENTION_PLACES,
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


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


RESNET_PARAMS = {
    None: 25_557_032,
    "se": 28_088_024,
    "cbam": 28_089_624,
    "eca": 25_557_118,
    "simam": 25_557_032,
}


@pytest.mark.parametrize("attention", list(RESNET_PARAMS))
def test_resnet50_parameter_counts(attention):
    assert n_params(resnet50(attention)) == RESNET_PARAMS[attention]
    assert n_params(resnet50(attention, stride_in_3x3=False)) == RESNET_PARAMS[attention]


@pytest.mark.parametrize("attention", list(RESNET_PARAMS))
def test_resnet50_forward_small_and_gradients(attention):
    torch.manual_seed(4)
    net = resnet50(attention, num_classes=5)
    out = net(torch.randn(2, 3, 48, 48))  # small: the last stage is 2x2
    assert out.shape == (2, 5)
    out.square().sum().backward()
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    assert missing == []


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


@pytest.mark.parametrize("place", ATTENTION_PLACES)
def test_a_registered_module_lands_at_its_place(place):
    seen = []

    class Probe(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.channels = channels

        def forward(self, x):
            seen.append(x.shape[1])
            return x

    name = f"probe_{place}"
    register_attention(name, Probe, place=place)
    try:
        block = Bottleneck(32, 8, stride=2, attention=name).eval()
        out = block(torch.randn(1, 32, 8, 8))
        assert out.shape == (1, 32, 4, 4)
        assert seen == [8 if place == "after_conv2" else 32]
        assert make_attention(name, 5).channels == 5
    finally:
        del ATTENTION_MODULES[name]


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
        assert n_params(resnet50("identity_for_test")) == RESNET_PARAMS[None]
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
