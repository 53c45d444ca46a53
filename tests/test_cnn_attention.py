"""Tests for attention_utils.cnn_attention: GCT, GSoP and FcaNet (chapter 09)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import (
    ATTENTION_MODULES,
    GCT,
    FcaLayer,
    GSoP,
    SEBlock,
    dct_filters,
    fca_frequencies,
    resnet50,
)
from attention_utils.cnn_attention import covariance


def test_gct_is_the_identity_at_initialisation():
    x = torch.randn(3, 16, 5, 5)
    gct = GCT(16)
    torch.testing.assert_close(gct(x), x)
    assert sum(p.numel() for p in gct.parameters()) == 3 * 16


@settings(deadline=None, max_examples=20)
@given(st.integers(1, 32), st.integers(0, 2**16))
def test_gct_normalisation_has_unit_mean_square_and_gate_in_0_2(channels, seed):
    torch.manual_seed(seed)
    gct = GCT(channels, need_weights=True)
    with torch.no_grad():
        gct.gamma.normal_(0, 3)
        gct.beta.normal_()
    x = torch.randn(2, channels, 4, 4, dtype=torch.float64)
    gct.double()(x)
    gate = gct.attention_weights
    assert ((gate > 0) & (gate < 2)).all()
    s = (x.square().sum(dim=(2, 3)) + gct.eps).sqrt()  # alpha = 1
    s_hat = s / (s.square().mean(dim=1, keepdim=True) + gct.eps).sqrt()
    # exactly 1 without eps; eps (1e-5) in the root shifts it by at most about eps / mean square
    torch.testing.assert_close(
        s_hat.square().mean(dim=1), torch.ones(2, dtype=torch.float64), atol=1e-4, rtol=0
    )


def test_gct_positive_gamma_makes_channels_compete():
    gct = GCT(2, need_weights=True)
    with torch.no_grad():
        gct.gamma.fill_(1.0)
    x = torch.ones(1, 2, 3, 3)
    x[:, 1] *= 3  # channel 1 has the larger norm
    gct(x)
    gate = gct.attention_weights.flatten()
    assert gate[1] > gate[0] > 1  # the larger channel is favoured
    with torch.no_grad():
        gct.gamma.fill_(-1.0)  # cooperation: the larger channel is damped
    gct(x)
    gate = gct.attention_weights.flatten()
    assert gate[1] < gate[0] < 1


def test_gsop_covariance_and_shapes():
    x = torch.randn(2, 5, 4, 3, dtype=torch.float64)
    flat = x.flatten(2)
    expected = torch.stack([torch.cov(f, correction=0) for f in flat])
    torch.testing.assert_close(covariance(x), expected)
    gsop = GSoP(64, hidden=16, need_weights=True).eval()
    out = gsop(torch.randn(2, 64, 6, 6))
    assert out.shape == (2, 64, 6, 6) and gsop.attention_weights.shape == (2, 64, 1, 1)


def test_gsop_ignores_the_channel_means():
    """Second order: shifting every channel by a constant leaves the covariance, so the weights."""
    torch.manual_seed(0)
    gsop = GSoP(8, hidden=4, need_weights=True).eval()
    with torch.no_grad():
        gsop.reduce[1].weight.copy_(torch.eye(4, 8)[:, :, None, None])  # no mixing: ReLU sees x
    x = torch.rand(2, 8, 5, 5) + 1.0  # positive, so the ReLU after reduce is linear
    gsop(x)
    first = gsop.attention_weights
    gsop(x + 0.5)
    torch.testing.assert_close(gsop.attention_weights, first)


def test_dct_basis_is_orthonormal():
    freqs = [(u, v) for u in range(7) for v in range(7)]
    basis = dct_filters(7, freqs).double().flatten(1)  # (49, 49)
    torch.testing.assert_close(
        basis @ basis.T, torch.eye(49, dtype=torch.float64), atol=1e-6, rtol=0
    )


def test_fca_lowest_frequency_is_global_average_pooling_times_sqrt_hw():
    x = torch.randn(2, 32, 7, 7)
    fca = FcaLayer(32, reduction=4, dct_size=7, frequencies=[(0, 0)])
    z = fca.squeeze(x)
    torch.testing.assert_close(z, math.sqrt(49) * x.mean(dim=(2, 3)))
    # with the same excitation weights and the constant folded into W1, it is SE without biases
    se = SEBlock(32, reduction=4)
    with torch.no_grad():
        se.excitation[0].weight.copy_(fca.excitation[0].weight * 7)
        se.excitation[2].weight.copy_(fca.excitation[2].weight)
        se.excitation[0].bias.zero_()
        se.excitation[2].bias.zero_()
    torch.testing.assert_close(fca(x), se(x))


def test_fca_frequency_selection_and_errors():
    top16 = fca_frequencies(16, 7)
    assert top16[:4] == [(0, 0), (0, 1), (6, 0), (0, 5)] and len(set(top16)) == 16
    assert fca_frequencies(2, 14) == [(0, 0), (0, 2)]
    fca = FcaLayer(64, dct_size=14)
    assert fca.dct_weight.shape == (64, 14, 14)
    assert sum(p.numel() for p in fca.parameters()) == 2 * 64 * 4
    out = fca(torch.randn(2, 64, 28, 28))  # pooled to 14x14 first
    assert out.shape == (2, 64, 28, 28)
    with pytest.raises(ValueError, match="multiple"):
        FcaLayer(40, reduction=4)
    with pytest.raises(ValueError, match="num_freq"):
        fca_frequencies(3)
    with pytest.raises(ValueError, match="frequencies"):
        FcaLayer(32, reduction=4, frequencies=[(7, 0)])


@pytest.mark.parametrize(
    ("name", "place"), [("gct", "after_conv2"), ("gsop", "before_add"), ("fca", "before_add")]
)
def test_registered_with_their_place(name, place):
    assert ATTENTION_MODULES[name].place == place
    net = resnet50(name, num_classes=3).eval()
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 3)


def test_fca_resnet50_has_the_papers_parameter_count():
    """FcaNet-50: 28.07M parameters (Qin et al. 2021, Table 3)."""
    params = sum(p.numel() for p in resnet50("fca").parameters())
    assert round(params / 1e6, 2) == 28.07
    assert isinstance(resnet50("gct").stages[0][0].attention_after_conv2, GCT)
    gsop = resnet50("gsop").stages[0][2].attention
    assert isinstance(gsop, GSoP) and gsop.stride == 2


def test_gsop_net1_places_one_block_at_the_end_of_each_stage():
    """As the authors' code (main.py: att_position, the last block of each of the 4 stages)."""
    net = resnet50("gsop")
    found = [n for n, m in net.named_modules() if isinstance(m, GSoP)]
    assert found == [f"stages.{s}.{i}.attention" for s, i in ((0, 2), (1, 3), (2, 5), (3, 2))]
    params = sum(p.numel() for p in net.parameters())
    assert params == 25_557_032 + sum(641 * c + 66_688 for c in (256, 512, 1024, 2048))
