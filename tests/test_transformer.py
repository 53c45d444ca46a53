"""The Transformer's parts (chapter 04): positional encoding, FFN, Add & Norm, the encoder."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from attention_utils import (
    AddNorm,
    PositionalEncoding,
    PositionWiseFFN,
    TransformerEncoder,
    TransformerEncoderBlock,
)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = TransformerEncoder(11, 8, 16, 2, 2, 0.1, use_bias=True)
    tokens = torch.randint(0, 11, (3, 5))
    model(tokens, torch.tensor([5, 3, 1])).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@given(seed=st.integers(0, 2**16), num_heads=st.sampled_from([1, 2, 4]))
def test_self_attention_is_permutation_equivariant(seed, num_heads):
    torch.manual_seed(seed)
    block = TransformerEncoderBlock(8, 16, num_heads, 0.0).eval()
    X = torch.randn(2, 5, 8)
    perm = torch.randperm(5)
    torch.testing.assert_close(block(X)[:, perm], block(X[:, perm]), atol=1e-5, rtol=1e-5)
    weights = block.attention.attention_weights  # of the permuted input
    block(X)
    torch.testing.assert_close(
        weights, block.attention.attention_weights[:, :, perm][:, :, :, perm]
    )


def test_positional_encoding_breaks_permutation_equivariance():
    torch.manual_seed(0)
    block, pos = TransformerEncoderBlock(8, 16, 2, 0.0).eval(), PositionalEncoding(8, 0.0).eval()
    X, perm = torch.randn(1, 5, 8), torch.tensor([4, 3, 2, 1, 0])
    difference = block(pos(X))[:, perm] - block(pos(X[:, perm]))
    assert difference.abs().max() > 1e-2


def test_causal_mask_hides_the_future():
    torch.manual_seed(0)
    model = TransformerEncoder(20, 8, 16, 2, 2, 0.0).eval()
    tokens = torch.randint(0, 20, (2, 7))
    changed = tokens.clone()
    changed[:, 4] = (changed[:, 4] + 1) % 20
    before, after = model(tokens, causal=True), model(changed, causal=True)
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert (before[:, 4:] - after[:, 4:]).abs().max() > 1e-3
    for weights in model.attention_weights:
        assert (torch.triu(weights, diagonal=1) == 0).all()
    with_padding = model(tokens, torch.tensor([3, 7]), causal=True)
    assert torch.isfinite(with_padding).all()
    assert (model.attention_weights[0][0, :, :, 3:] == 0).all(), "causal and padding masks combine"


def test_positional_encoding_values_and_errors():
    pos = PositionalEncoding(6, 0.0, max_len=10)
    t, j = 3, 1
    assert pos.P.shape == (1, 10, 6)
    angle = torch.tensor(t / 10000 ** (2 * j / 6), dtype=torch.float64)
    torch.testing.assert_close(pos.P[0, t, 2 * j], torch.sin(angle))
    torch.testing.assert_close(pos.P[0, t, 2 * j + 1], torch.cos(angle))
    torch.testing.assert_close(pos(torch.zeros(2, 4, 6)), pos.P[:, :4].float().expand(2, 4, 6))
    with pytest.raises(ValueError, match="num_hiddens must be even"):
        PositionalEncoding(5, 0.0)
    with pytest.raises(ValueError, match="max_len = 10"):
        pos(torch.zeros(1, 11, 6))
    with pytest.raises(ValueError, match="num_hiddens=6"):
        pos(torch.zeros(1, 4, 5))


def test_block_and_encoder_reject_bad_input():
    block = TransformerEncoderBlock(8, 16, 2, 0.0)
    with pytest.raises(ValueError, match="num_hiddens=8"):
        block(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="must be divisible by num_heads"):
        TransformerEncoderBlock(8, 16, 3, 0.0)
    model = TransformerEncoder(5, 8, 16, 2, 1, 0.0)
    with pytest.raises(TypeError, match="integer tensor of tokens"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        model(torch.tensor([[1, 5]]))


def test_need_weights_passes_through_the_encoder():
    torch.manual_seed(1)
    model = TransformerEncoder(11, 8, 16, 2, 3, 0.0, need_weights=False).eval()
    tokens = torch.randint(0, 11, (2, 5))
    fused = model(tokens, torch.tensor([5, 3]))
    assert model.attention_weights == [None, None, None]
    assert not model.need_weights and not any(blk.attention.need_weights for blk in model.blks)
    model.need_weights = True
    readable = model(tokens, torch.tensor([5, 3]))
    assert all(w.shape == (2, 2, 5, 5) and not w.requires_grad for w in model.attention_weights)
    torch.testing.assert_close(fused, readable, atol=1e-5, rtol=1e-5)
    model.need_weights = False
    model(tokens)
    assert model.attention_weights == [None, None, None], "no stale weights after a fused call"
    block = TransformerEncoderBlock(8, 16, 2, 0.0, need_weights=False)
    assert block.need_weights is False and block.attention.need_weights is False


def test_positional_encoding_table_is_computed_in_float64_then_rounded():
    pos = PositionalEncoding(64, 0.0, max_len=1000)
    t = torch.arange(1000, dtype=torch.float64)[:, None]
    i = torch.arange(0, 64, 2, dtype=torch.float64)
    angles = t / 10000 ** (i / 64)
    out32 = pos(torch.zeros(1, 1000, 64))
    assert out32.dtype == torch.float32
    assert (out32[0, :, 0::2].double() - torch.sin(angles)).abs().max() < 1e-6
    assert (out32[0, :, 1::2].double() - torch.cos(angles)).abs().max() < 1e-6
    # float64 users get float64 precision (the old float32 table was off by 2.8e-5 at t ~ 1000)
    assert pos.P.dtype == torch.float64
    out64 = pos(torch.zeros(1, 1000, 64, dtype=torch.float64))
    torch.testing.assert_close(out64[0, :, 0::2], torch.sin(angles), atol=1e-12, rtol=0)
    torch.testing.assert_close(out64[0, :, 1::2], torch.cos(angles), atol=1e-12, rtol=0)


def test_ffn_and_addnorm_shapes():
    ffn = PositionWiseFFN(8, 32, 6)
    assert ffn(torch.randn(2, 3, 8)).shape == (2, 3, 6)
    add_norm = AddNorm(8, 0.0)
    out = add_norm(torch.randn(2, 3, 8), torch.randn(2, 3, 8))
    torch.testing.assert_close(out.mean(-1), torch.zeros(2, 3), atol=1e-6, rtol=0)


def test_one_host_sync_per_encoder_call(monkeypatch):
    # Token range and valid_lens range are checked together: one read-back per call.
    counts = {"n": 0}
    for method in ("__bool__", "__int__", "__float__", "item", "tolist"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, **kwargs):
            counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    model = TransformerEncoder(11, 8, 16, 2, 3, 0.0).eval()
    model(torch.randint(0, 11, (2, 5)), torch.tensor([5, 3]), causal=True)
    assert counts["n"] == 1
