"""Multi-head attention, positional encoding, the encoder block and the "it" sentences (chapter 04)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from attention_utils import (
    AGENT_ADJECTIVES,
    AGENTS,
    PLACE_ADJECTIVES,
    PLACES,
    MultiHeadAttention,
    PositionalEncoding,
    TransformerEncoder,
    TransformerEncoderBlock,
    as_torch_multihead,
    coreference_data,
    make_sentence,
    merge_heads,
    split_heads,
)


def _inputs(batch_size=2, num_queries=4, num_keys=6, query_size=8, key_size=8, value_size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch_size, num_queries, query_size, generator=g),
        torch.randn(batch_size, num_keys, key_size, generator=g),
        torch.randn(batch_size, num_keys, value_size, generator=g),
    )


# --- split and merge -------------------------------------------------------------------------


@given(
    batch_size=st.integers(1, 3),
    num_steps=st.integers(1, 5),
    num_heads=st.integers(1, 4),
    head_dim=st.integers(1, 4),
)
def test_split_heads_slices_and_merge_undoes_it(batch_size, num_steps, num_heads, head_dim):
    X = torch.randn(batch_size, num_steps, num_heads * head_dim)
    heads = split_heads(X, num_heads)
    assert heads.shape == (batch_size, num_heads, num_steps, head_dim)
    for j in range(num_heads):
        assert torch.equal(heads[:, j], X[..., j * head_dim : (j + 1) * head_dim])
    assert torch.equal(merge_heads(heads), X)


def test_split_and_merge_reject_bad_shapes():
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        split_heads(torch.zeros(1, 2, 10), 4)
    with pytest.raises(ValueError, match=r"\(batch_size, num_steps, num_hiddens\)"):
        split_heads(torch.zeros(2, 10), 2)
    with pytest.raises(ValueError, match=r"\(batch_size, num_heads, num_steps, head_dim\)"):
        merge_heads(torch.zeros(2, 3, 4))


# --- MultiHeadAttention ----------------------------------------------------------------------


def test_shapes_and_per_head_weights():
    mha = MultiHeadAttention(5, 3, 7, 12, 4, 0.0).eval()
    queries, keys, values = _inputs(2, 4, 6, 3, 5, 7)
    out = mha(queries, keys, values, torch.tensor([3, 6]))
    assert out.shape == (2, 4, 12)
    weights = mha.attention_weights
    assert weights.shape == (2, 4, 4, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 4))
    assert (weights[0, :, :, 3:] == 0).all(), "masked keys get exactly zero weight in every head"


def test_parameter_count_formula():
    for bias in (False, True):
        mha = MultiHeadAttention(5, 3, 7, 12, 4, 0.0, bias=bias)
        expected = 12 * (3 + 5 + 7 + 12) + (4 * 12 if bias else 0)
        assert sum(p.numel() for p in mha.parameters()) == expected


def test_fused_path_matches_readable_path():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, bias=True).eval()
    queries, keys, values = _inputs()
    for valid_lens in (None, torch.tensor([2, 5]), torch.tensor([[1, 2, 3, 4], [6, 5, 0, 1]])):
        mha.need_weights = True
        readable = mha(queries, keys, values, valid_lens)
        mha.need_weights = False
        fused = mha(queries, keys, values, valid_lens)
        assert mha.attention_weights is None
        torch.testing.assert_close(fused, readable, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("num_heads", [1, 2, 4, 8])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [(8, 8), (5, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_agrees_with_torch_multihead_attention(num_heads, bias, sizes, masked):
    torch.manual_seed(num_heads)
    key_size, value_size = sizes
    mha = MultiHeadAttention(key_size, 8, value_size, 8, num_heads, 0.0, bias=bias).eval()
    if bias:  # nn.MultiheadAttention starts its biases at 0; make them matter
        with torch.no_grad():
            for layer in (mha.W_q, mha.W_k, mha.W_v, mha.W_o):
                layer.bias.normal_()
    torch_mha = as_torch_multihead(mha).eval()
    queries, keys, values = _inputs(3, 4, 6, 8, key_size, value_size, seed=num_heads)
    valid_lens = torch.tensor([2, 6, 4]) if masked else None
    padding = torch.arange(6) >= valid_lens[:, None] if masked else None  # True = masked
    ours = mha(queries, keys, values, valid_lens)
    theirs, their_weights = torch_mha(
        queries, keys, values, key_padding_mask=padding, average_attn_weights=False
    )
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(mha.attention_weights, their_weights, atol=1e-5, rtol=1e-5)


def test_agrees_with_torch_for_per_query_masks():
    torch.manual_seed(1)
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0).eval()
    torch_mha = as_torch_multihead(mha).eval()
    queries, keys, values = _inputs(2, 4, 6)
    valid_lens = torch.tensor([[1, 2, 3, 4], [6, 5, 4, 3]])
    blocked = torch.arange(6) >= valid_lens[:, :, None]  # (batch_size, num_queries, num_keys), True = masked
    theirs, _ = torch_mha(queries, keys, values, attn_mask=blocked.repeat_interleave(2, dim=0))
    torch.testing.assert_close(mha(queries, keys, values, valid_lens), theirs, atol=1e-5, rtol=1e-5)


def test_fully_masked_query_gives_zero_before_the_output_projection():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0).eval()
    out = mha(*_inputs(), torch.tensor([[0, 1, 2, 3], [6, 6, 6, 6]]))
    assert torch.isfinite(out).all()
    assert torch.equal(out[0, 0], torch.zeros(8))


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = TransformerEncoder(11, 8, 16, 2, 2, 0.1, use_bias=True)
    tokens = torch.randint(0, 11, (3, 5))
    model(tokens, torch.tensor([5, 3, 1])).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((8, 8, 8, 10, 4, 0.0), ValueError, "num_hiddens = 10 must be divisible by num_heads = 4"),
        ((8, 8, 8, 8, 0, 0.0), ValueError, "num_heads must be a positive int"),
        ((8, 8, 8, 8.0, 2, 0.0), TypeError, "num_hiddens must be a positive int"),
        ((8, 8, 8, 8, 2, 1.5), ValueError, r"dropout must be a probability in \[0, 1\)"),
    ],
)
def test_bad_constructor_arguments(args, error, message):
    with pytest.raises(error, match=message):
        MultiHeadAttention(*args)


def test_bad_forward_inputs():
    mha = MultiHeadAttention(5, 3, 7, 12, 4, 0.0)
    queries, keys, values = _inputs(2, 4, 6, 3, 5, 7)
    with pytest.raises(ValueError, match=r"queries must have shape \(batch_size, num_queries, query_size\)"):
        mha(queries[0], keys, values)
    with pytest.raises(ValueError, match="query_size=3"):
        mha(keys, keys, values)
    with pytest.raises(ValueError, match="value_size=7"):
        mha(queries, keys, keys)
    with pytest.raises(ValueError, match="same num_keys"):
        mha(queries, keys, values[:, :5])
    with pytest.raises(ValueError, match="same batch_size"):
        mha(queries[:1], keys, values)
    with pytest.raises(ValueError, match=r"valid_lens must have shape \(batch_size,\)"):
        mha(queries, keys, values, torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="valid_lens must have an integer dtype"):
        mha(queries, keys, values, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="query_size == num_hiddens"):
        as_torch_multihead(mha)


# --- self-attention: order, causality --------------------------------------------------------


@given(seed=st.integers(0, 2**16), num_heads=st.sampled_from([1, 2, 4]))
def test_self_attention_is_permutation_equivariant(seed, num_heads):
    torch.manual_seed(seed)
    block = TransformerEncoderBlock(8, 16, num_heads, 0.0).eval()
    X = torch.randn(2, 5, 8)
    perm = torch.randperm(5)
    torch.testing.assert_close(block(X)[:, perm], block(X[:, perm]), atol=1e-5, rtol=1e-5)
    weights = block.attention.attention_weights  # of the permuted input
    block(X)
    torch.testing.assert_close(weights, block.attention.attention_weights[:, :, perm][:, :, :, perm])


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
    assert pos.P[0, t, 2 * j].item() == pytest.approx(torch.sin(torch.tensor(t / 10000 ** (2 * j / 6))).item())
    assert pos.P[0, t, 2 * j + 1].item() == pytest.approx(torch.cos(torch.tensor(t / 10000 ** (2 * j / 6))).item())
    torch.testing.assert_close(pos(torch.zeros(2, 4, 6)), pos.P[:, :4].expand(2, 4, 6))
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


# --- the "it" sentences ----------------------------------------------------------------------


def test_sentences_are_deterministic_and_the_global_rng_untouched():
    torch.manual_seed(3)
    before = torch.get_rng_state()
    a, b = coreference_data(seed=1), coreference_data(seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    for name in ("train_tokens", "train_referents", "test_tokens", "test_referents"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert a.held_out == b.held_out
    assert a.held_out != coreference_data(seed=2).held_out


@pytest.mark.parametrize("heldout_per_noun", [1, 2, 5])
def test_held_out_pairs_never_appear_in_training(heldout_per_noun):
    data = coreference_data(heldout_per_noun=heldout_per_noun)
    assert len(data.held_out) == heldout_per_noun * (len(AGENTS) + len(PLACES))
    train = {frozenset(data.decode(s)) for s in data.train_tokens}
    for noun, adjective in data.held_out:
        assert not any(noun in words and adjective in words for words in train), (noun, adjective)
    for sentence in data.test_tokens:
        words = set(data.decode(sentence))
        assert any(noun in words and adjective in words for noun, adjective in data.held_out)
    total = len(AGENTS) * len(PLACES) * 6 * (len(AGENT_ADJECTIVES) + len(PLACE_ADJECTIVES))
    assert len(data.train_tokens) + len(data.test_tokens) == total
    assert len(data.test_tokens) == total * heldout_per_noun // len(AGENT_ADJECTIVES)


def test_labels_follow_the_adjective():
    data = coreference_data()
    for tokens, referent, second in zip(data.test_tokens, data.test_referents, data.test_second):
        words = data.decode(tokens)
        assert words[data.it_position] == "it"
        adjective = words[data.adjective_position]
        assert bool(second) == (adjective in PLACE_ADJECTIVES)
        assert data.vocab[referent] == words[data.noun_positions[int(second)]]
    assert data.decode(data.encode(make_sentence("dog", "cross", "river", "wide"))) == make_sentence(
        "dog", "cross", "river", "wide"
    )


def test_sentence_errors():
    with pytest.raises(ValueError, match="agent must be one of"):
        make_sentence("street", "cross", "river", "wide")
    with pytest.raises(ValueError, match="heldout_per_noun must be between 1 and 5"):
        coreference_data(heldout_per_noun=6)
    with pytest.raises(TypeError, match="seed must be an int"):
        coreference_data(seed=1.0)
    with pytest.raises(ValueError, match="unknown words"):
        coreference_data().encode(["the", "zebra"])


def test_torch_multihead_is_a_copy():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0)
    torch_mha = as_torch_multihead(mha)
    assert isinstance(torch_mha, nn.MultiheadAttention)
    with torch.no_grad():
        torch_mha.out_proj.weight.zero_()
    assert mha.W_o.weight.abs().sum() > 0
