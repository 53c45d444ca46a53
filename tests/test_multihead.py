"""Multi-head attention (chapter 04): heads, nn.MultiheadAttention agreement, masks, weights."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from attention_utils import MultiHeadAttention, as_torch_multihead, merge_heads, split_heads


def _inputs(
    batch_size=2, num_queries=4, num_keys=6, query_size=8, key_size=8, value_size=8, seed=0
):
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
    mha = MultiHeadAttention(5, 3, 7, 12, 4, 0.0, need_weights=True).eval()
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


@pytest.mark.parametrize("num_heads", [1, 2, 4, 8])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [(8, 8), (5, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_agrees_with_torch_multihead_attention(num_heads, bias, sizes, masked):
    torch.manual_seed(num_heads)
    key_size, value_size = sizes
    mha = MultiHeadAttention(
        key_size, 8, value_size, 8, num_heads, 0.0, bias=bias, need_weights=True
    ).eval()
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
    blocked = (
        torch.arange(6) >= valid_lens[:, :, None]
    )  # (batch_size, num_queries, num_keys), True = masked
    theirs, _ = torch_mha(queries, keys, values, attn_mask=blocked.repeat_interleave(2, dim=0))
    torch.testing.assert_close(mha(queries, keys, values, valid_lens), theirs, atol=1e-5, rtol=1e-5)


def test_fully_masked_query_gives_zero_before_the_output_projection():
    # A documented difference: nn.MultiheadAttention gives NaN for such a query.
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0).eval()
    out = mha(*_inputs(), torch.tensor([[0, 1, 2, 3], [6, 6, 6, 6]]))
    assert torch.isfinite(out).all()
    assert torch.equal(out[0, 0], torch.zeros(8))


def test_bad_forward_inputs():
    mha = MultiHeadAttention(5, 3, 7, 12, 4, 0.0)
    queries, keys, values = _inputs(2, 4, 6, 3, 5, 7)
    with pytest.raises(
        ValueError, match=r"queries must have shape \(batch_size, num_queries, query_size\)"
    ):
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


def test_torch_multihead_is_a_copy():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0)
    torch_mha = as_torch_multihead(mha)
    assert isinstance(torch_mha, nn.MultiheadAttention)
    with torch.no_grad():
        torch_mha.out_proj.weight.zero_()
    assert mha.W_o.weight.abs().sum() > 0


# --- one core, one weights rule ------------------------------------------------------------


def test_fused_call_leaves_no_stale_weights_anywhere():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, need_weights=True).eval()
    queries, keys, values = _inputs()
    mha(queries, keys, values)
    assert mha.attention_weights is not None and not mha.attention_weights.requires_grad
    mha.need_weights = False
    mha(queries, keys, values)
    assert mha.attention_weights is None


def test_heads_stay_a_dimension_of_their_own():
    # Each head's weights equal the core on that head's slice of the projections.
    torch.manual_seed(2)
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, need_weights=True).eval()
    queries, keys, values = _inputs()
    valid_lens = torch.tensor([[1, 2, 3, 4], [6, 5, 4, 3]])
    mha(queries, keys, values, valid_lens)
    q = split_heads(mha.W_q(queries), 2)  # (batch_size, num_heads, num_queries, head_dim)
    k = split_heads(mha.W_k(keys), 2)
    for h in range(2):
        scores = q[:, h] @ k[:, h].transpose(1, 2) / 2.0  # head_dim = 4
        blocked = torch.arange(6) >= valid_lens[:, :, None]
        expected = scores.masked_fill(blocked, float("-inf")).softmax(-1)
        torch.testing.assert_close(mha.attention_weights[:, h], expected)


VALID_LENS = {
    "none": None,
    "1d": torch.tensor([2, 5]),
    "2d_with_zero": torch.tensor([[1, 2, 0, 4], [6, 5, 4, 3]]),
}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("kind", list(VALID_LENS))
def test_fused_and_readable_multihead_agree_in_every_dtype(dtype, kind):
    torch.manual_seed(3)
    mha = MultiHeadAttention(8, 8, 8, 16, 4, 0.0, bias=True, need_weights=True).to(dtype).eval()
    queries, keys, values = (t.to(dtype) for t in _inputs(value_size=8, key_size=8, query_size=8))
    valid_lens = VALID_LENS[kind]
    readable = mha(queries, keys, values, valid_lens)
    mha.need_weights = False
    fused = mha(queries, keys, values, valid_lens)
    assert mha.attention_weights is None
    tolerance = {
        torch.float16: 2e-3,
        torch.bfloat16: 2e-2,
        torch.float32: 1e-5,
        torch.float64: 1e-12,
    }[dtype]
    torch.testing.assert_close(fused, readable, atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_agrees_with_torch_multihead_attention(need_weights):
    torch.manual_seed(4)
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, bias=True, need_weights=need_weights).eval()
    torch_mha = as_torch_multihead(mha).eval()
    X = torch.randn(2, 5, 8)
    future = torch.ones(5, 5, dtype=torch.bool).triu(1)  # True = masked, PyTorch's convention
    theirs, _ = torch_mha(X, X, X, attn_mask=future)
    torch.testing.assert_close(mha(X, X, X, causal=True), theirs, atol=1e-5, rtol=1e-5)


def test_dtype_mismatch_with_the_parameters_is_a_clear_error():
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0)
    with pytest.raises(
        TypeError,
        match=r"queries has dtype torch.float64 but the layer's parameters are torch.float32",
    ):
        mha(*(t.double() for t in _inputs()))


@pytest.fixture
def count_host_syncs(monkeypatch):
    """Count the ways Python code reads a tensor's value back to the host."""
    counts = {"n": 0}
    for method in ("__bool__", "__int__", "__float__", "item", "tolist"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, **kwargs):
            counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    return counts


@pytest.mark.parametrize("need_weights", [True, False])
def test_one_host_sync_per_public_call(count_host_syncs, need_weights):
    # Regression (issue 10): one readable forward checked valid_lens three times.
    mha = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, need_weights=need_weights).eval()
    queries, keys, values = _inputs()
    mha(queries, keys, values)
    assert count_host_syncs["n"] == 0
    mha(queries, keys, values, torch.tensor([[1, 2, 3, 4], [6, 5, 4, 3]]))
    assert count_host_syncs["n"] == 1
