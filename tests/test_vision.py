"""Channel and spatial attention (chapter 05): SE, CBAM, ECA, SimAM."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from attention_utils import (
    CBAM,
    ECA,
    ChannelAttention,
    SEBlock,
    SimAM,
    SpatialAttention,
    eca_kernel_size,
)

MODULES = {
    "se": lambda c: SEBlock(c, reduction=4, need_weights=True),
    "channel": lambda c: ChannelAttention(c, reduction=4, need_weights=True),
    "spatial": lambda c: SpatialAttention(c, kernel_size=3, need_weights=True),
    "cbam": lambda c: CBAM(c, reduction=4, kernel_size=3, need_weights=True),
    "eca": lambda c: ECA(c, need_weights=True),
    "simam": lambda c: SimAM(c, need_weights=True),
}


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", MODULES)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(4, 20),
    height=st.integers(2, 7),
    width=st.integers(2, 7),
)
def test_shape_preserved_and_output_is_input_times_weights(name, batch, channels, height, width):
    torch.manual_seed(0)
    module = MODULES[name](channels)
    x = torch.randn(batch, channels, height, width)
    y = module(x)
    assert y.shape == x.shape
    weights = module.attention_weights
    torch.testing.assert_close(y, x * weights, atol=1e-6, rtol=1e-6)


def test_weight_shapes():
    x = torch.randn(2, 8, 5, 6)
    for module, shape in [
        (SEBlock(8, 4), (2, 8, 1, 1)),
        (ChannelAttention(8, 4), (2, 8, 1, 1)),
        (SpatialAttention(8, 7), (2, 1, 5, 6)),
        (CBAM(8, 4), (2, 8, 5, 6)),
        (ECA(8), (2, 8, 1, 1)),
        (SimAM(8), (2, 8, 5, 6)),
    ]:
        assert module.need_weights is False  # the library's one default
        module(x)
        assert module.attention_weights is None
        module.need_weights = True  # asked for, as every chapter does
        module(x)
        assert tuple(module.attention_weights.shape) == shape


@pytest.mark.parametrize("name", ["se", "channel", "spatial", "cbam", "eca", "simam"])
def test_weights_in_open_unit_interval(name):
    torch.manual_seed(1)
    module = MODULES[name](16)
    module(torch.randn(4, 16, 6, 6) * 3)
    w = module.attention_weights
    assert (w > 0).all() and (w < 1).all()


@pytest.mark.parametrize("channels,reduction", [(16, 16), (64, 16), (256, 16), (48, 4), (10, 3)])
def test_se_parameter_count_formula(channels, reduction):
    hidden = channels // reduction
    expected = 2 * channels * hidden + hidden + channels  # two FC weight matrices + their biases
    assert n_params(SEBlock(channels, reduction)) == expected
    assert n_params(ChannelAttention(channels, reduction)) == expected


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
def test_spatial_and_cbam_parameter_count(kernel_size):
    spatial = 2 * kernel_size**2 + 2  # conv 2 -> 1 without bias, BN weight and bias
    assert n_params(SpatialAttention(32, kernel_size)) == spatial
    assert n_params(CBAM(32, 8, kernel_size)) == n_params(SEBlock(32, 8)) + spatial


@pytest.mark.parametrize(
    "channels,k", [(16, 3), (64, 3), (128, 5), (256, 5), (512, 5), (1024, 5), (2048, 7)]
)
def test_eca_kernel_size_and_parameters(channels, k):
    assert eca_kernel_size(channels) == k
    assert n_params(ECA(channels)) == k


def test_simam_has_no_parameters_and_matches_energy_formula():
    assert n_params(SimAM()) == 0
    torch.manual_seed(2)
    x = torch.randn(2, 3, 4, 5)
    lam = 1e-4
    SimAM(e_lambda=lam)(x)
    module = SimAM(e_lambda=lam, need_weights=True)
    module(x)
    mu = x.mean(dim=(2, 3), keepdim=True)
    sigma2 = ((x - mu) ** 2).sum(dim=(2, 3), keepdim=True) / (4 * 5 - 1)
    energy = 4 * (sigma2 + lam) / ((x - mu) ** 2 + 2 * sigma2 + 2 * lam)  # minimal energy e_t*
    torch.testing.assert_close(
        module.attention_weights, torch.sigmoid(1 / energy), atol=1e-6, rtol=1e-6
    )


def test_se_step_by_step():
    torch.manual_seed(3)
    se = SEBlock(8, reduction=2)
    x = torch.randn(3, 8, 4, 4)
    z = x.mean(dim=(2, 3))
    fc1, fc2 = se.excitation[0], se.excitation[2]
    s = torch.sigmoid(fc2(torch.relu(fc1(z))))
    torch.testing.assert_close(se(x), x * s[:, :, None, None], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", MODULES)
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(5)
    module = MODULES[name](8)
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    module(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
