"""The Transformer's parts (chapter 04): positions, embedding, FFN, sub-layers, the encoder."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from attention_utils import (
    AddNorm,
    PositionalEncoding,
    PositionWiseFFN,
    SublayerConnection,
    TransformerEncoder,
    TransformerEncoderBlock,
    embed_tokens,
)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = TransformerEncoder(11, 8, 16, 2, 2, 0.1, bias=True)
    tokens = torch.randint(0, 11, (3, 5))
    model(tokens, torch.tensor([5, 3, 1])).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@given(seed=st.integers(0, 2**16), num_heads=st.sampled_from([1, 2, 4]))
def test_self_attention_is_permutation_equivariant(seed, num_heads):
    torch.manual_seed(seed)
    block = TransformerEncoderBlock(8, 16, num_heads, 0.0, need_weights=True).eval()
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
    model = TransformerEncoder(20, 8, 16, 2, 2, 0.0, need_weights=True).eval()
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
    with pytest.raises(TypeError, match="X must be an integer tensor of token ids"):
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


def test_two_host_syncs_per_encoder_call(monkeypatch):
    # The token range (embed_tokens) and the valid_lens range (the padding mask, built once for
    # every block) are each read back once per call, however many blocks there are.
    counts = {"n": 0}
    for method in ("__bool__", "__int__", "__float__", "item", "tolist"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, **kwargs):
            counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    model = TransformerEncoder(11, 8, 16, 2, 3, 0.0).eval()
    model(torch.randint(0, 11, (2, 5)), torch.tensor([5, 3]), causal=True)
    assert counts["n"] == 2


def test_need_weights_defaults_to_false_and_a_parent_sets_every_child():
    model = TransformerEncoder(11, 8, 16, 2, 2, 0.0).eval()
    assert model.need_weights is False
    model(torch.randint(0, 11, (2, 5)))
    assert model.attention_weights == [None, None]
    model.need_weights = True
    assert all(blk.need_weights and blk.attention.need_weights for blk in model.blks)
    model(torch.randint(0, 11, (2, 5)))
    assert all(w.shape == (2, 2, 5, 5) for w in model.attention_weights)
    assert model.blks[0].attention_weights is model.blks[0].attention.attention_weights
    with pytest.raises(TypeError, match="need_weights must be True or False"):
        model.need_weights = "False"


@pytest.mark.parametrize("norm_first", [False, True])
def test_sublayer_connection_is_post_or_pre_norm(norm_first):
    torch.manual_seed(2)
    sub = SublayerConnection(8, 0.0, norm_first=norm_first)
    with torch.no_grad():
        sub.ln.weight.normal_()
    X, f = torch.randn(2, 3, 8), torch.nn.Linear(8, 8)
    expected = X + f(sub.ln(X)) if norm_first else sub.ln(X + f(X))
    torch.testing.assert_close(sub(X, f), expected)
    if not norm_first:  # post-norm is chapter 04's Add & Norm
        add_norm = AddNorm(8, 0.0)
        add_norm.ln.load_state_dict(sub.ln.state_dict())
        torch.testing.assert_close(sub(X, f), add_norm(X, f(X)))
    with pytest.raises(TypeError, match="sublayer must be callable"):
        sub(X, "ffn")
    with pytest.raises(TypeError, match="norm_first must be True or False"):
        SublayerConnection(8, 0.0, norm_first="yes")


def test_embed_tokens_scales_and_adds_positions_from_an_offset():
    torch.manual_seed(3)
    embedding, pos = torch.nn.Embedding(7, 6), PositionalEncoding(6, 0.0, max_len=10)
    X = torch.randint(0, 7, (2, 4))
    expected = embedding(X) * 6**0.5 + pos.P[:, 3:7].float()
    torch.testing.assert_close(embed_tokens(embedding, pos, X, 3), expected)
    with pytest.raises(ValueError, match=r"src's token ids must lie in \[0, vocab_size\)"):
        embed_tokens(embedding, pos, torch.tensor([[7]]), name="src")
    with pytest.raises(ValueError, match="max_len = 10"):
        embed_tokens(embedding, pos, X, 7)


def test_empty_batch_gives_an_empty_output():
    model = TransformerEncoder(11, 8, 16, 2, 2, 0.0).eval()
    X = torch.zeros(0, 5, dtype=torch.long)
    assert model(X, torch.zeros(0, dtype=torch.long)).shape == (0, 5, 8)
    model.need_weights = True
    assert model(X).shape == (0, 5, 8)


def test_nan_in_padding_does_not_reach_the_real_positions():
    torch.manual_seed(4)
    block = TransformerEncoderBlock(8, 16, 2, 0.0).eval()
    X = torch.randn(2, 5, 8)
    clean = block(X, torch.tensor([3, 5]))
    X[0, 3:] = float("nan")
    torch.testing.assert_close(block(X, torch.tensor([3, 5]))[:, :3], clean[:, :3])
