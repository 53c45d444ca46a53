"""Tests for attention_utils.vision_self_attention: Non-local, GC, DNL and PSA (chapter 08).

The shape, gradient and bad-input tests also run criss-cross and outlook attention.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close
from torch.utils.flop_counter import FlopCounterMode

import attention_utils as au
from attention_utils.scoring import attention

MODULES = {
    "nonlocal": lambda c: au.NonLocalBlock(c),
    "nonlocal_gaussian_sub": lambda c: au.NonLocalBlock(c, mode="gaussian", sub_sample=True),
    "nonlocal_dot": lambda c: au.NonLocalBlock(c, mode="dot_product"),
    "nonlocal_concat": lambda c: au.NonLocalBlock(c, mode="concatenation", sub_sample=True),
    "gc": lambda c: au.GlobalContextBlock(c, reduction=4),
    "dnl": lambda c: au.DisentangledNonLocalBlock(c),
    "cc": lambda c: au.CrissCrossAttention(c, recurrence=2),
    "psa": lambda c: au.PolarizedSelfAttention(c),
    "outlook": lambda c: au.OutlookAttention(c, num_heads=2),
    "outlook_s2": lambda c: au.OutlookAttention(c, num_heads=2, stride=2),
}
IDENTITY_AT_INIT = [
    "nonlocal",
    "nonlocal_gaussian_sub",
    "nonlocal_dot",
    "nonlocal_concat",
    "gc",
    "dnl",
    "cc",
]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_shapes_and_gradients(name):
    torch.manual_seed(0)
    module = MODULES[name](16)
    x = torch.randn(2, 16, 6, 7, requires_grad=True)
    y = module(x)
    assert y.shape == x.shape
    for p in module.parameters():  # move zero-initialised parameters so gradients reach all
        p.data.add_(0.1 * torch.randn_like(p))
    module(x).square().sum().backward()
    for pname, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", IDENTITY_AT_INIT)
@pytest.mark.parametrize("train", [True, False])
def test_identity_at_initialisation(name, train):
    torch.manual_seed(1)
    module = MODULES[name](16).train(train)
    x = torch.randn(3, 16, 5, 6)
    assert_close(module(x), x)


def test_non_local_is_the_core_plus_projections():
    torch.manual_seed(2)
    block = au.NonLocalBlock(8).eval()
    for p in block.parameters():
        p.data.normal_()
    x = torch.randn(2, 8, 4, 5)
    tokens = lambda t: t.flatten(2).transpose(1, 2)  # noqa: E731
    q, k, v = tokens(block.theta(x)), tokens(block.phi(x)), tokens(block.g(x))
    y, _ = attention(q, k, v, scale=1.0)  # dot-product attention without 1/sqrt(d)
    expected = x + block.W_z(y.transpose(1, 2).reshape(2, 4, 4, 5))
    assert_close(block(x), expected)
    # and the same as the paper's formula written out: softmax_j(theta_i . phi_j) g_j
    w = torch.softmax(q @ k.transpose(1, 2), dim=-1)
    assert_close(block(x), x + block.W_z((w @ v).transpose(1, 2).reshape(2, 4, 4, 5)))


def test_non_local_weights_fused_and_readable_agree():
    torch.manual_seed(3)
    block = au.NonLocalBlock(8, sub_sample=True).eval()
    for p in block.parameters():
        p.data.normal_()
    x = torch.randn(2, 8, 6, 6)
    fused = block(x)
    block.need_weights = True
    assert_close(block(x), fused)
    w = block.attention_weights
    assert w.shape == (2, 36, 9)
    assert_close(w.sum(-1), torch.ones(2, 36))


def test_dot_product_and_concatenation_normalise_by_n():
    torch.manual_seed(4)
    block = au.NonLocalBlock(8, mode="dot_product", need_weights=True)
    x = torch.randn(1, 8, 3, 3)
    block(x)
    q = block.theta(x).flatten(2).transpose(1, 2)
    k = block.phi(x).flatten(2).transpose(1, 2)
    assert_close(block.attention_weights, (q @ k.transpose(1, 2)).detach() / 9)


def test_gc_context_is_a_softmax_pool():
    torch.manual_seed(5)
    block = au.GlobalContextBlock(16, reduction=4, need_weights=True)
    x = torch.randn(2, 16, 4, 4)
    block(x)
    logits = block.context_mask(x).flatten(1)  # (2, 16)
    assert_close(block.attention_weights.flatten(1), torch.softmax(logits, -1).detach())


def test_gc_parameter_count():
    c, r = 256, 16
    block = au.GlobalContextBlock(c, r)
    assert sum(p.numel() for p in block.parameters()) == 2 * c * c // r + 2 * c + 3 * (c // r)


def test_psa_matches_its_formula():
    torch.manual_seed(9)
    psa = au.PolarizedSelfAttention(8, need_weights=True)
    x = torch.randn(2, 8, 3, 4)
    y = psa(x)
    wq = torch.softmax(psa.ch_query(x).flatten(2), -1)  # (2, 1, 12)
    z = (psa.ch_value(x).flatten(2) * wq).sum(-1)[..., None, None]  # (2, 4, 1, 1)
    a_ch = torch.sigmoid(psa.ch_norm(psa.ch_up(z)))
    q = torch.softmax(psa.sp_query(x).mean((2, 3)), -1)  # (2, 4)
    a_sp = torch.sigmoid((q[..., None, None] * psa.sp_value(x)).sum(1, keepdim=True))
    assert_close(y, x * a_ch + x * a_sp)


# The overhead table of chapter 08: ResNet-50 (v1, stride on the first 1x1) at 224 x 224, each
# module where its paper puts it; exact parameter counts and multiply-adds (FlopCounterMode / 2).
RESNET50_OVERHEAD = {
    None: (25_557_032, 3_857_973_248),
    "nonlocal": (27_658_792, 4_308_353_024),
    "dnl": (27_659_816, 4_308_654_080),
    "gc": (28_078_760, 3_866_685_440),
    "criss_cross": (30_802_473, 4_374_936_576),
    "psa": (28_092_744, 4_169_643_008),
    "outlook": (25_613_390, 4_081_356_800),
}


def _cost(attention):
    net = au.resnet50(attention, stride_in_3x3=False).to("meta").eval()  # shapes only
    with FlopCounterMode(display=False) as counter:
        net(torch.empty(1, 3, 224, 224, device="meta"))
    return sum(p.numel() for p in net.parameters()), counter.get_total_flops() // 2


@pytest.mark.parametrize("attention", list(RESNET50_OVERHEAD))
def test_resnet50_overhead_table(attention):
    assert _cost(attention) == RESNET50_OVERHEAD[attention]


@pytest.mark.parametrize(
    "build, error",
    [
        (lambda: au.NonLocalBlock(8, mode="softmax"), ValueError),
        (lambda: au.NonLocalBlock(8, reduction=16), ValueError),
        (lambda: au.NonLocalBlock(8.0), TypeError),
        (lambda: au.NonLocalBlock(8, sub_sample=1), TypeError),
        (lambda: au.GlobalContextBlock(8, reduction=0), ValueError),
        (lambda: au.DisentangledNonLocalBlock(8, temperature=0), ValueError),
        (lambda: au.CrissCrossAttention(8, recurrence=0), ValueError),
        (lambda: au.CrissCrossAttention("8"), TypeError),
        (lambda: au.PolarizedSelfAttention(1), ValueError),
        (lambda: au.OutlookAttention(8, 3), ValueError),
        (lambda: au.OutlookAttention(8, 2, kernel_size=2), ValueError),
        (lambda: au.VisionTransformer(16, 5, 3, 10, 32, 4, 2, 64), ValueError),
        (lambda: au.VisionTransformer(16, 4, 3, 10, 30, 4, 2, 64), ValueError),
        (lambda: au.VisionTransformer(16, 4, 3, 10, 32, 4, 2, 64, dropout=1.5), ValueError),
        (lambda: au.register_attention("x_bad", au.SEBlock, blocks=3), TypeError),
    ],
)
def test_bad_arguments(build, error):
    with pytest.raises(error):
        build()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_bad_inputs(name):
    module = MODULES[name](16)
    with pytest.raises(ValueError, match=r"\(batch_size, 16, height, width\)"):
        module(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        module(torch.randn(16, 4, 4))
    with pytest.raises(TypeError):
        module(torch.ones(1, 16, 4, 4, dtype=torch.long))


def test_sub_sampling_needs_two_pixels():
    with pytest.raises(ValueError, match="sub_sample"):
        au.NonLocalBlock(8, sub_sample=True)(torch.randn(1, 8, 1, 5))
