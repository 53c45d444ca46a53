"""The ResNet backbone and the attention registry (chapter 05)."""

import pytest
import torch
from torch import nn

from attention_utils import (
    ATTENTION_MODULES,
    ATTENTION_PLACES,
    Bottleneck,
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
