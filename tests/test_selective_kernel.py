"""Tests for attention_utils.selective_kernel: SK convolution and SK ResNet-50 (chapter 09)."""

from __future__ import annotations

import pytest
import torch

from attention_utils import SKConv, sk_resnet50


def test_sk_branch_weights_sum_to_one_per_channel():
    torch.manual_seed(0)
    sk = SKConv(64, num_branches=3, groups=8, need_weights=True).eval()
    out = sk(torch.randn(2, 64, 9, 9))
    assert out.shape == (2, 64, 9, 9)
    a = sk.attention_weights
    assert a.shape == (2, 3, 64, 1, 1)
    torch.testing.assert_close(a.sum(dim=1), torch.ones(2, 64, 1, 1))


def test_sk_output_is_the_weighted_sum_of_its_branches_and_strides():
    torch.manual_seed(1)
    sk = SKConv(32, groups=4, stride=2, need_weights=True).eval()
    x = torch.randn(2, 32, 8, 8)
    out = sk(x)
    assert out.shape == (2, 32, 4, 4)
    branches = torch.stack([b(x) for b in sk.branches], dim=1)  # (2, 2, 32, 4, 4)
    torch.testing.assert_close(out, (sk.attention_weights * branches).sum(dim=1))


def test_sk_errors():
    with pytest.raises(ValueError, match="groups"):
        SKConv(30, groups=32)
    with pytest.raises(ValueError, match="num_branches"):
        SKConv(32, num_branches=1)
    with pytest.raises(TypeError):
        SKConv(32.0)


def test_sk_resnet50_replaces_every_3x3_conv():
    net = sk_resnet50(num_classes=5)
    assert sum(isinstance(m, SKConv) for m in net.modules()) == 16
    out = net(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 5)
