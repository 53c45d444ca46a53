"""Tests for attention_utils.cnn_spatial: STN, RAS, A²-Net and Residual Attention (chapter 09)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attention_utils import (
    ATTENTION_MODULES,
    DoubleAttention,
    ResidualAttentionModule,
    ReverseAttention,
    SpatialTransformer,
    affine_transform,
    resnet50,
)


def test_stn_is_the_identity_at_initialisation():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 12, 10)
    stn = SpatialTransformer(2, need_weights=True)
    torch.testing.assert_close(stn(x), x)
    identity = torch.tensor([[1.0, 0, 0], [0, 1, 0]]).expand(3, 2, 3)
    torch.testing.assert_close(stn.attention_weights, identity)


def test_a_known_affine_matrix_moves_a_known_pixel():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 5] = 1.0  # row 3, column 5
    # output pixel (x_t, y_t) reads the input at (x_t + 2 * 2/8, y_t - 1 * 2/8): two columns right,
    # one row up, so the bright pixel moves 2 columns left and 1 row down.
    theta = torch.tensor([[[1.0, 0, 0.5], [0, 1, -0.25]]])
    out = affine_transform(x, theta)
    expected = torch.zeros(1, 1, 8, 8)
    expected[0, 0, 4, 3] = 1.0
    torch.testing.assert_close(out, expected)
    # a quarter turn: output (x_t, y_t) reads the input at (-y_t, x_t); the pixel at normalised
    # (x, y) = (0.375, -0.125) lands at (-0.125, -0.375), i.e. row 2, column 3
    rot = torch.tensor([[[0.0, -1, 0], [1, 0, 0]]])
    out = affine_transform(x, rot)
    expected = torch.zeros(1, 1, 8, 8)
    expected[0, 0, 2, 3] = 1.0
    torch.testing.assert_close(out, expected)


def test_stn_errors():
    with pytest.raises(ValueError, match="theta"):
        affine_transform(torch.zeros(2, 1, 4, 4), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError):
        SpatialTransformer(3)(torch.zeros(1, 2, 8, 8))


def test_reverse_attention_erases_what_the_deeper_output_found():
    torch.manual_seed(0)
    ra = ReverseAttention(4, hidden=8, num_convs=1, need_weights=True)
    features = torch.randn(1, 4, 8, 8)
    side = torch.full((1, 1, 4, 4), -30.0)
    side[..., :2, :] = 30.0  # top half confidently salient
    out = ra(features, side)
    assert out.shape == (1, 1, 8, 8)
    a = ra.attention_weights
    torch.testing.assert_close(
        a,
        1
        - torch.sigmoid(
            nn.functional.interpolate(side, size=(8, 8), mode="bilinear", align_corners=False)
        ),
    )
    changed = features.clone()
    changed[..., :3, :] += 100.0  # change the features only where the object was found
    torch.testing.assert_close(ra(changed, side), out)
    with pytest.raises(ValueError, match="batch size"):
        ra(features, side.expand(2, 1, 4, 4))


def test_double_attention_weights_and_permutation_equivariance():
    torch.manual_seed(0)
    a2 = DoubleAttention(16, reduction=4, need_weights=True)
    x = torch.randn(2, 16, 5, 6)
    out = a2(x)
    gather, distribute = a2.attention_weights
    assert gather.shape == distribute.shape == (2, 4, 30)
    torch.testing.assert_close(gather.sum(dim=2), torch.ones(2, 4))  # over positions
    torch.testing.assert_close(distribute.sum(dim=1), torch.ones(2, 30))  # over descriptors
    flipped = a2(x.flip(-1).flip(-2))
    torch.testing.assert_close(flipped, out.flip(-1).flip(-2))
    with torch.no_grad():
        a2.conv_z.weight.zero_()
        a2.conv_z.bias.zero_()
    torch.testing.assert_close(a2(x), x)  # a residual block: zero output conv is the identity


def test_double_attention_is_registered_after_the_addition():
    assert ATTENTION_MODULES["a2"].place == "after_add"
    net = resnet50("a2", num_classes=2)
    assert isinstance(net.stages[1][1].attention_after_add, DoubleAttention)


def test_a2_resnet50_has_five_blocks_in_res3_and_res4():
    """After every other block of res3 (2) and res4 (3), m = n = C / 2: 32.91M (paper: 33.0M)."""
    net = resnet50("a2")
    found = [n for n, m in net.named_modules() if isinstance(m, DoubleAttention)]
    places = ((1, 1), (1, 3), (2, 1), (2, 3), (2, 5))
    assert found == [f"stages.{s}.{i}.attention_after_add" for s, i in places]
    assert all(m.reduction == 2 for m in net.modules() if isinstance(m, DoubleAttention))
    per_block = {c: 2 * c * c + 5 * c // 2 for c in (512, 1024)}  # 3 convs C -> C/2, 1 back
    params = sum(p.numel() for p in net.parameters())
    assert params == 25_557_032 + 2 * per_block[512] + 3 * per_block[1024]
    assert round(params / 1e6, 1) == 32.9  # the paper's 33.0M is not reproduced exactly


def test_residual_attention_is_one_plus_mask_times_trunk():
    torch.manual_seed(0)
    ram = ResidualAttentionModule(8, p=0, t=1, depth=2, need_weights=True).eval()
    x = torch.randn(2, 8, 12, 12)
    out = ram(x)
    m = ram.attention_weights
    assert ((m > 0) & (m < 1)).all() and m.shape == x.shape
    torch.testing.assert_close(out, (1 + m) * ram.trunk(x))
    with torch.no_grad():  # mask logits forced to 0: M = 1/2 everywhere
        ram.mask[-2].weight.zero_()
        ram.mask[-2].bias.zero_()
    torch.testing.assert_close(ram(x), 1.5 * ram.trunk(x))
    assert ResidualAttentionModule(8, p=1)(torch.randn(2, 8, 7, 7)).shape == (2, 8, 7, 7)
    with pytest.raises(ValueError, match="p must be"):
        ResidualAttentionModule(8, p=-1)
