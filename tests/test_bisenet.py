"""Tests for attention_utils.bisenet: BiSeNet's ARM and FFM (chapter 09)."""

from __future__ import annotations

import pytest
import torch

from attention_utils import AttentionRefinementModule, FeatureFusionModule


def test_arm_weights_depend_only_on_channel_means():
    torch.manual_seed(0)
    arm = AttentionRefinementModule(6, need_weights=True).eval()
    x = torch.randn(2, 6, 5, 5)
    out = arm(x)
    w = arm.attention_weights
    torch.testing.assert_close(out, x * w)
    shuffled = x.flatten(2)[:, :, torch.randperm(25)].view(2, 6, 5, 5)
    arm(shuffled)
    torch.testing.assert_close(arm.attention_weights, w)


def test_ffm_is_fused_features_times_one_plus_gate():
    torch.manual_seed(0)
    ffm = FeatureFusionModule(4, 6, 8, reduction=2, need_weights=True).eval()
    xs, xc = torch.randn(2, 4, 5, 5), torch.randn(2, 6, 5, 5)
    out = ffm(xs, xc)
    f = ffm.fuse(torch.cat([xs, xc], dim=1))
    torch.testing.assert_close(out, f * (1 + ffm.attention_weights))
    assert out.shape == (2, 8, 5, 5)
    with pytest.raises(ValueError, match="same batch size"):
        ffm(xs, torch.randn(2, 6, 4, 4))
