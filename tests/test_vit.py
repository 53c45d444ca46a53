"""Tests for attention_utils.vit: outlook attention (VOLO) and the Vision Transformer (ch. 08)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F
from torch.testing import assert_close

import attention_utils as au


def test_outlook_matches_volo_written_out():
    torch.manual_seed(10)
    C, h, k = 8, 2, 3
    oa = au.OutlookAttention(C, h, k)
    x = torch.randn(2, C, 5, 4)
    xl = x.permute(0, 2, 3, 1)
    v = F.unfold(oa.v(xl).permute(0, 3, 1, 2), k, padding=1)  # (2, C k^2, 20)
    v = v.view(2, h, C // h, k * k, 20).permute(0, 1, 4, 3, 2)
    a = oa.attn(xl).view(2, 20, h, k * k, k * k).transpose(1, 2) / math.sqrt(C // h)
    y = (a.softmax(-1) @ v).permute(0, 1, 4, 3, 2).reshape(2, C * k * k, 20)
    y = F.fold(y, (5, 4), k, padding=1)
    assert_close(oa(x), oa.proj(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
    C = 8
    assert sum(p.numel() for p in oa.parameters()) == 2 * C * C + C + (C + 1) * k**4 * h


@settings(max_examples=15, deadline=None)
@given(
    patch=st.sampled_from([2, 4]),
    grid=st.integers(1, 4),
    channels=st.integers(1, 3),
    classes=st.integers(1, 5),
    heads=st.sampled_from([1, 2, 4]),
    width=st.integers(1, 3),
    layers=st.integers(1, 3),
    mlp=st.integers(1, 20),
)
def test_vit_parameter_count_formula(patch, grid, channels, classes, heads, width, layers, mlp):
    d = heads * 4 * width
    vit = au.VisionTransformer(patch * grid, patch, channels, classes, d, heads, layers, mlp)
    count = sum(p.numel() for p in vit.parameters())
    assert count == au.vit_num_parameters(patch * grid, patch, channels, classes, d, layers, mlp)


def test_vit_shapes_and_attention_weights():
    vit = au.VisionTransformer(16, 4, 3, 10, 32, 4, 2, 64, 0.0).eval()
    x = torch.randn(2, 3, 16, 16)
    assert vit(x).shape == (2, 10)
    assert vit.tokens(x).shape == (2, 17, 32)
    vit(x)
    assert vit.attention_weights == [None, None]  # the fused path by default
    vit.need_weights = True  # one switch, honoured by every block
    assert all(blk.need_weights for blk in vit.blks)
    vit(x)
    assert all(w.shape == (2, 4, 17, 17) for w in vit.attention_weights)
    for w in vit.attention_weights:
        assert_close(w.sum(-1), torch.ones(2, 4, 17))
    vit.need_weights = False
    vit(x)
    assert vit.attention_weights == [None, None]
    with pytest.raises(TypeError, match="need_weights must be True or False"):
        vit.need_weights = "False"


def test_vit_rejects_wrong_image_size():
    vit = au.VisionTransformer(16, 4, 3, 10, 32, 4, 2, 64)
    with pytest.raises(ValueError, match="16"):
        vit(torch.randn(1, 3, 12, 12))


def test_vit_is_the_papers_equations_written_out():
    """Eqs. (1)-(4) of Dosovitskiy et al.: pre-norm blocks, GELU MLP, a final layer norm."""
    torch.manual_seed(12)
    vit = au.VisionTransformer(8, 4, 3, 5, 8, 2, 2, 16).eval()
    for p in vit.parameters():
        p.data.normal_(0, 0.3)
    x = torch.randn(2, 3, 8, 8)
    z = vit.patch_embedding(x).flatten(2).transpose(1, 2)  # (2, 4, 8)
    z = torch.cat((vit.cls_token.expand(2, -1, -1), z), 1) + vit.pos_embedding  # eq. (1)
    for blk in vit.blks:
        q, k, v = (
            t.view(2, 5, 2, 4).transpose(1, 2) for t in blk.qkv(blk.ln1(z)).chunk(3, -1)
        )  # (2, heads, 5, 4)
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(4), -1)
        msa = blk.proj((a @ v).transpose(1, 2).reshape(2, 5, 8))
        z = z + msa  # eq. (2)
        lin1, lin2 = blk.mlp[0], blk.mlp[3]
        z = z + lin2(F.gelu(lin1(blk.ln2(z))))  # eq. (3)
    y = vit.norm(z[:, 0])  # eq. (4)
    assert_close(vit(x), vit.head(y))
    vit.need_weights = True  # the readable path gives the same numbers
    assert_close(vit(x), vit.head(y))


def test_vit_base_has_the_common_implementations_parameter_count():
    """ViT-B/16: 86,567,656 parameters, as in the reference implementations (86M in Table 1)."""
    shape = dict(
        image_size=224,
        patch_size=16,
        in_channels=3,
        num_classes=1000,
        num_hiddens=768,
        num_blks=12,
        ffn_num_hiddens=3072,
    )
    assert au.vit_num_parameters(**shape) == 86_567_656


def test_outlook_weights_follow_need_weights():
    torch.manual_seed(13)
    oa = au.OutlookAttention(8, 2)
    x = torch.randn(2, 8, 4, 5)
    oa(x)
    assert oa.attention_weights is None
    oa.need_weights = True
    oa(x)
    assert oa.attention_weights.shape == (2, 2, 20, 9, 9)
    assert_close(oa.attention_weights.sum(-1), torch.ones(2, 2, 20, 9))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vit_and_outlook_follow_the_dtype_of_their_parameters(dtype):
    torch.manual_seed(14)
    vit = au.VisionTransformer(8, 4, 3, 5, 8, 2, 1, 16, need_weights=True).to(dtype)
    assert vit(torch.randn(2, 3, 8, 8, dtype=dtype)).dtype == dtype
    assert vit.attention_weights[0].dtype == dtype
    oa = au.OutlookAttention(8, 2, stride=2).to(dtype)
    assert oa(torch.randn(1, 8, 5, 5, dtype=dtype)).dtype == dtype
