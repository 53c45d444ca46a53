"""Tests for attention_utils.efficient: online softmax, tiled attention, linear attention."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from attention_utils import (
    attention,
    elu_feature_map,
    flash_attention,
    linear_attention,
    linear_attention_step,
    online_softmax,
)

SETTINGS = settings(max_examples=40, deadline=None)


def sdpa_reference(q, k, v, valid_lens=None, causal=False):
    """F.scaled_dot_product_attention with the library's masks; all-masked queries give 0."""
    nq, nk = q.shape[-2], k.shape[-2]
    mask = torch.ones(nq, nk, dtype=torch.bool)  # (nq, nk)
    if causal:
        mask = mask.tril(nk - nq)
    mask = mask.expand(q.shape[0], nq, nk).clone()  # (batch, nq, nk)
    if valid_lens is not None:
        lens = valid_lens if valid_lens.dim() == 2 else valid_lens[:, None].expand(-1, nq)
        mask &= torch.arange(nk) < lens[..., None]
    mask = mask.reshape(q.shape[0], *([1] * (q.dim() - 3)), nq, nk)  # broadcasts over heads
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.masked_fill(~mask.any(-1, keepdim=True), 0.0)


@st.composite
def attention_case(draw, with_grad=False):
    batch = draw(st.integers(1, 3))
    heads = draw(st.integers(1, 2))
    nq = draw(st.integers(1, 9 if with_grad else 40))
    nk = draw(st.integers(1, 9 if with_grad else 40))
    d = draw(st.integers(1, 6))
    dv = draw(st.integers(1, 5))
    block = draw(st.integers(1, 16))
    causal = draw(st.booleans())
    kind = draw(st.sampled_from(["none", "per_example", "per_query"]))
    seed = draw(st.integers(0, 2**16))
    gen = torch.Generator().manual_seed(seed)
    valid_lens = None
    if kind == "per_example":
        valid_lens = torch.randint(0, nk + 1, (batch,), generator=gen)
    elif kind == "per_query":
        valid_lens = torch.randint(0, nk + 1, (batch, nq), generator=gen)
    return batch, heads, nq, nk, d, dv, block, causal, valid_lens, gen


def make_qkv(batch, heads, nq, nk, d, dv, gen, dtype, requires_grad=False):
    shapes = ((batch, heads, nq, d), (batch, heads, nk, d), (batch, heads, nk, dv))
    return [
        torch.randn(s, generator=gen, dtype=dtype).requires_grad_(requires_grad) for s in shapes
    ]


# --- online softmax ---------------------------------------------------------------------------


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 6), min_size=0, max_size=2),
    n=st.integers(1, 50),
    block=st.integers(1, 20),
    spread=st.sampled_from([1.0, 30.0, 1000.0]),
)
def test_online_softmax_equals_torch_softmax(shape, n, block, spread):
    X = torch.randn(*shape, n, dtype=torch.float64) * spread
    torch.testing.assert_close(online_softmax(X, block_size=block), torch.softmax(X, dim=-1))


def test_online_softmax_is_finite_for_large_scores():
    X = torch.tensor([[1e4, 1e4 - 1.0, -1e4]])  # naive exp overflows float32
    torch.testing.assert_close(online_softmax(X, block_size=1), torch.softmax(X, dim=-1))


@pytest.mark.parametrize(
    "args, error",
    [
        ((torch.arange(3),), TypeError),
        (([1.0, 2.0],), TypeError),
        ((torch.randn(3), 0), ValueError),
        ((torch.randn(3), 2.0), TypeError),
        ((torch.tensor(1.0),), ValueError),
        ((torch.randn(2, 0),), ValueError),
    ],
)
def test_online_softmax_bad_inputs(args, error):
    with pytest.raises(error):
        online_softmax(*args)


# --- tiled attention ----------------------------------------------------------------------------


@SETTINGS
@given(case=attention_case())
def test_flash_equals_sdpa_float32(case):
    batch, heads, nq, nk, d, dv, block, causal, valid_lens, gen = case
    q, k, v = make_qkv(batch, heads, nq, nk, d, dv, gen, torch.float32)
    out = flash_attention(q, k, v, valid_lens, causal=causal, block_size=block)
    torch.testing.assert_close(
        out, sdpa_reference(q, k, v, valid_lens, causal), atol=1e-5, rtol=1e-5
    )


@SETTINGS
@given(case=attention_case())
def test_flash_equals_core_float64(case):
    batch, heads, nq, nk, d, dv, block, causal, valid_lens, gen = case
    q, k, v = make_qkv(batch, heads, nq, nk, d, dv, gen, torch.float64)
    out = flash_attention(q, k, v, valid_lens, causal=causal, block_size=block)
    for need_weights in (True, False):  # the library's readable and fused paths
        expected, _ = attention(q, k, v, valid_lens, need_weights=need_weights, causal=causal)
        torch.testing.assert_close(out, expected, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(
        out, sdpa_reference(q, k, v, valid_lens, causal), atol=1e-10, rtol=1e-10
    )


def test_flash_fully_masked_query_gives_zero_and_zero_grad():
    q, k, v = (torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    valid_lens = torch.tensor([0, 2])
    out = flash_attention(q, k, v, valid_lens, block_size=2)
    assert torch.equal(out[0], torch.zeros(5, 3, dtype=torch.float64))
    out.sum().backward()
    assert torch.equal(q.grad[0], torch.zeros(5, 3, dtype=torch.float64))
    assert torch.equal(k.grad[1, 2:], torch.zeros(3, 3, dtype=torch.float64))  # masked keys


def test_flash_causal_more_queries_than_keys():
    # aligned at the last key: the first num_queries - num_keys queries see nothing
    q, k, v = torch.randn(1, 6, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 2)
    out = flash_attention(q, k, v, causal=True, block_size=2)
    expected, _ = attention(q, k, v, causal=True, need_weights=True)
    torch.testing.assert_close(out, expected)
    assert torch.equal(out[0, :3], torch.zeros(3, 2))


def test_flash_accepts_3d_and_2d_inputs():
    q, k, v = torch.randn(7, 4), torch.randn(9, 4), torch.randn(9, 3)
    expected, _ = attention(q, k, v)
    torch.testing.assert_close(flash_attention(q, k, v, block_size=4), expected)


@settings(max_examples=15, deadline=None)
@given(case=attention_case(with_grad=True))
def test_flash_gradcheck(case):
    batch, heads, nq, nk, d, dv, block, causal, valid_lens, gen = case
    q, k, v = make_qkv(batch, heads, nq, nk, d, dv, gen, torch.float64, requires_grad=True)
    fn = lambda q, k, v: flash_attention(q, k, v, valid_lens, causal=causal, block_size=block)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (q, k, v))


def test_flash_gradients_equal_core_gradients():
    gen = torch.Generator().manual_seed(0)
    q, k, v = make_qkv(2, 2, 13, 11, 4, 3, gen, torch.float64, requires_grad=True)
    valid_lens = torch.tensor([11, 5])
    grad = torch.randn(2, 2, 13, 3, generator=gen, dtype=torch.float64)
    flash = torch.autograd.grad(
        flash_attention(q, k, v, valid_lens, causal=True, block_size=4), (q, k, v), grad
    )
    core_out, _ = attention(q, k, v, valid_lens, causal=True, need_weights=True)
    core = torch.autograd.grad(core_out, (q, k, v), grad)
    for a, b in zip(flash, core):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_flash_never_builds_an_l_by_l_tensor():
    # every tensor the forward creates is at most block_size x block_size per head
    seen = []

    class Spy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            if isinstance(result, torch.Tensor):
                seen.append(result.numel())
            return result

    q, k, v = (torch.randn(1, 256, 8) for _ in range(3))
    with Spy():
        flash_attention(q, k, v, causal=True, block_size=16, query_block_size=32)
    # the inputs, the output and the values with a column of ones: 256 x 9; a tile is 32 x 16;
    # the scores would be 256 x 256
    assert max(seen) <= 256 * 9


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(query_block_size=0), ValueError),
        (dict(queries=torch.randn(2, 3, 4).long()), TypeError),
        (dict(keys=torch.randn(2, 5, 3)), ValueError),
        (dict(values=torch.randn(2, 4, 4)), ValueError),
        (dict(values=torch.randn(2, 5, 4, dtype=torch.float64)), TypeError),
        (dict(valid_lens=torch.tensor([1.0, 2.0])), TypeError),
        (dict(valid_lens=torch.tensor([1, 6])), ValueError),
        (dict(valid_lens=torch.tensor([1, 2, 3])), ValueError),
        (dict(causal=1), TypeError),
        (dict(block_size=0), ValueError),
        (dict(block_size=2.5), TypeError),
        (dict(scale=-1.0), ValueError),
        (dict(scale="big"), TypeError),
    ],
)
def test_flash_bad_inputs(kwargs, error):
    args = dict(
        queries=torch.randn(2, 3, 4), keys=torch.randn(2, 5, 4), values=torch.randn(2, 5, 4)
    )
    args.update(kwargs)
    with pytest.raises(error):
        flash_attention(**args)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10),
                                        (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("lens_kind", ["none", "per_example", "per_query"])
@pytest.mark.parametrize("causal", [False, True])
def test_flash_equals_reference_in_each_dtype_with_masks(dtype, tol, lens_kind, causal):
    gen = torch.Generator().manual_seed(3)
    q, k, v = make_qkv(3, 2, 37, 45, 8, 5, gen, torch.float64)
    valid_lens = {
        "none": None,
        "per_example": torch.tensor([45, 17, 0]),
        "per_query": torch.randint(0, 46, (3, 37), generator=gen),
    }[lens_kind]
    expected = sdpa_reference(q, k, v, valid_lens, causal)  # float64
    for block, query_block in ((8, None), (16, 5), (64, 64)):
        out = flash_attention(
            q.to(dtype), k.to(dtype), v.to(dtype), valid_lens, causal=causal,
            block_size=block, query_block_size=query_block,
        )
        assert out.dtype == dtype
        torch.testing.assert_close(out.double(), expected, atol=tol, rtol=tol)


def test_flash_masked_nan_does_not_leak():
    q, k, v = torch.randn(2, 2, 5, 4), torch.randn(2, 2, 6, 4), torch.randn(2, 2, 6, 3)
    valid_lens = torch.tensor([6, 3])
    clean = flash_attention(q, k, v, valid_lens, block_size=2)
    k[1, :, 3:], v[1, :, 3:] = float("nan"), float("nan")  # padding of the second example
    k.requires_grad_(), v.requires_grad_()
    dirty = flash_attention(q, k, v, valid_lens, block_size=2)
    torch.testing.assert_close(dirty, clean)
    dirty.sum().backward()
    assert torch.isfinite(k.grad).all() and torch.isfinite(v.grad).all()


def test_online_softmax_with_leading_minus_inf_block():
    x = torch.tensor([[-torch.inf] * 4 + [1.0, 2.0, 3.0]])
    torch.testing.assert_close(online_softmax(x, block_size=2), torch.softmax(x, dim=-1))


# --- linear attention ---------------------------------------------------------------------------


def linear_reference(q, k, v, valid_lens=None, causal=False):
    """The quadratic form of linear attention: weights phi(q) . phi(k), normalised per row."""
    weights = elu_feature_map(q) @ elu_feature_map(k).transpose(-2, -1)  # (..., nq, nk)
    nq, nk = weights.shape[-2:]
    if causal:
        weights = weights.tril()
    if valid_lens is not None:
        keep = torch.arange(nk) < valid_lens.reshape(-1, *([1] * (q.dim() - 1)))
        weights = weights * keep
    total = weights.sum(-1, keepdim=True)
    return torch.where(total > 0, weights @ v / total.clamp_min(1e-300), 0.0)


@SETTINGS
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 40),
    nk=st.integers(1, 40),
    d=st.integers(1, 6),
    chunk=st.integers(1, 16),
    causal=st.booleans(),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_attention_equals_quadratic_form(batch, length, nk, d, chunk, causal, masked, seed):
    gen = torch.Generator().manual_seed(seed)
    nk = length if causal else nk
    q = torch.randn(batch, 2, length, d, generator=gen, dtype=torch.float64)
    k = torch.randn(batch, 2, nk, d, generator=gen, dtype=torch.float64)
    v = torch.randn(batch, 2, nk, 3, generator=gen, dtype=torch.float64)
    valid_lens = torch.randint(0, nk + 1, (batch,), generator=gen) if masked else None
    out = linear_attention(q, k, v, valid_lens, causal=causal, chunk_size=chunk)
    torch.testing.assert_close(out, linear_reference(q, k, v, valid_lens, causal))


def test_linear_attention_rows_are_convex_combinations():
    q, k = torch.randn(1, 10, 4), torch.randn(1, 10, 4)
    v = torch.ones(1, 10, 1)
    torch.testing.assert_close(linear_attention(q, k, v, causal=True), torch.ones(1, 10, 1))


def test_elu_feature_map_is_positive_for_very_negative_inputs():
    x = torch.tensor([-17.0, -20.0, -100.0, -1e30, 0.0, 3.0])
    phi = elu_feature_map(x)
    assert (phi > 0).all()
    torch.testing.assert_close(phi[[0, 4, 5]], torch.tensor([torch.exp(torch.tensor(-17.0)), 1, 4]))
    torch.testing.assert_close(elu_feature_map(x.double())[:2], (F.elu(x.double()) + 1)[:2])


def test_linear_attention_query_far_below_zero_is_not_zero():
    q = torch.full((1, 1, 4), -30.0)  # elu(x) + 1 written naively is exactly 0 here
    k, v = torch.randn(1, 6, 4), torch.randn(1, 6, 2)
    assert linear_attention(q, k, v).abs().sum() > 0


def test_linear_attention_float16_accumulates_in_float32():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (3 + torch.randn(1, 2, 4096, 16, generator=gen) for _ in range(3))
    out = linear_attention(q.half(), k.half(), v.half())
    assert out.dtype == torch.float16 and torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), linear_attention(q, k, v), atol=1e-2, rtol=1e-2)


def test_linear_attention_masked_nan_does_not_leak():
    q, k, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4), torch.randn(2, 6, 3)
    valid_lens = torch.tensor([6, 3])
    clean = linear_attention(q, k, v, valid_lens)
    k[1, 3:], v[1, 3:] = float("nan"), float("nan")
    torch.testing.assert_close(linear_attention(q, k, v, valid_lens), clean)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10),
                                        (torch.bfloat16, 2e-2)])
def test_recurrent_linear_attention_equals_parallel_causal_form(dtype, tol):
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 50, 8, generator=gen, dtype=torch.float64) for _ in range(3))
    parallel = linear_attention(q, k, v, causal=True, chunk_size=16)  # float64 reference
    state, steps = None, []
    for t in range(50):
        out, state = linear_attention_step(
            q[:, :, t].to(dtype), k[:, :, t].to(dtype), v[:, :, t].to(dtype), state
        )
        steps.append(out)
    recurrent = torch.stack(steps, dim=2)  # (2, 3, 50, 8)
    assert recurrent.dtype == dtype and state[0].shape == (2, 3, 8, 8)
    torch.testing.assert_close(recurrent.double(), parallel, atol=tol, rtol=tol)
    torch.testing.assert_close(
        linear_attention(q.to(dtype), k.to(dtype), v.to(dtype), causal=True).double(),
        parallel, atol=tol, rtol=tol,
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(causal=True), ValueError),  # 3 queries, 5 keys
        (dict(valid_lens=torch.tensor([[1, 2, 3], [1, 2, 3]])), ValueError),
        (dict(valid_lens=torch.tensor([1, 9])), ValueError),
        (dict(chunk_size=0), ValueError),
        (dict(keys=torch.randn(2, 5, 2)), ValueError),
        (dict(queries=torch.ones(2, 3, 4, dtype=torch.long)), TypeError),
    ],
)
def test_linear_attention_bad_inputs(kwargs, error):
    args = dict(
        queries=torch.randn(2, 3, 4), keys=torch.randn(2, 5, 4), values=torch.randn(2, 5, 4)
    )
    args.update(kwargs)
    with pytest.raises(error):
        linear_attention(**args)


# --- grouped-query and multi-query attention (MultiHeadAttention's num_kv_heads) -----------------


from attention_utils import KVCache, MultiHeadAttention, as_torch_multihead  # noqa: E402


def full_twin(gqa: MultiHeadAttention) -> MultiHeadAttention:
    """A full multi-head layer whose key-value heads are gqa's, repeated for every query head."""
    h, g = gqa.num_heads, gqa.num_kv_heads
    num_hiddens = gqa.W_o.out_features
    full = MultiHeadAttention(
        gqa.W_k.in_features,
        gqa.W_q.in_features,
        gqa.W_v.in_features,
        num_hiddens,
        h,
        0.0,
        need_weights=gqa.need_weights,
    ).double()
    with torch.no_grad():
        full.W_q.weight.copy_(gqa.W_q.weight)
        full.W_o.weight.copy_(gqa.W_o.weight)
        for name in ("W_k", "W_v"):
            weight = getattr(gqa, name).weight  # (g * head_dim, size)
            heads = weight.reshape(g, num_hiddens // h, -1)  # (g, head_dim, size)
            getattr(full, name).weight.copy_(
                heads.repeat_interleave(h // g, 0).reshape(num_hiddens, -1)
            )
    return full


@pytest.mark.parametrize("num_kv_heads", [1, 2, 4])
@pytest.mark.parametrize("need_weights", [True, False])
def test_grouped_query_equals_multihead_with_repeated_heads(num_kv_heads, need_weights):
    torch.manual_seed(0)
    gqa = MultiHeadAttention(
        6, 5, 7, 16, 4, 0.0, need_weights=need_weights, num_kv_heads=num_kv_heads
    ).double()
    assert gqa.W_k.out_features == gqa.W_v.out_features == 4 * num_kv_heads
    q, k, v = (
        torch.randn(2, 3, 5).double(),
        torch.randn(2, 9, 6).double(),
        torch.randn(2, 9, 7).double(),
    )
    valid_lens = torch.tensor([9, 4])
    torch.testing.assert_close(gqa(q, k, v, valid_lens), full_twin(gqa)(q, k, v, valid_lens))


def test_num_kv_heads_default_is_unchanged_multihead():
    torch.manual_seed(0)
    default = MultiHeadAttention(8, 8, 8, 8, 2, 0.0)
    torch.manual_seed(0)
    explicit = MultiHeadAttention(8, 8, 8, 8, 2, 0.0, num_kv_heads=2)
    x = torch.randn(1, 5, 8)
    assert default.num_kv_heads == 2
    torch.testing.assert_close(default(x, x, x), explicit(x, x, x), rtol=0, atol=0)


@pytest.mark.parametrize("num_kv_heads", [1, 2])
def test_grouped_query_cache_stores_fewer_heads_and_decodes_like_the_full_pass(num_kv_heads):
    torch.manual_seed(0)
    layer = MultiHeadAttention(8, 8, 8, 16, 4, 0.0, num_kv_heads=num_kv_heads).eval()
    x = torch.randn(2, 6, 8)
    full = layer(x, x, x, causal=True)  # (2, 6, 16)
    cache, steps = KVCache(), []
    for t in range(6):
        step = x[:, t : t + 1]  # (2, 1, 8)
        steps.append(layer(step, step, step, causal=True, cache=cache))
    torch.testing.assert_close(torch.cat(steps, dim=1), full)
    assert cache.keys.shape == (2, num_kv_heads, 6, 4)
    assert cache.nbytes == 2 * 2 * num_kv_heads * 6 * 4 * 4  # keys and values, float32


@pytest.mark.parametrize(
    "num_kv_heads, error", [(3, ValueError), (0, ValueError), (2.0, TypeError)]
)
def test_bad_num_kv_heads(num_kv_heads, error):
    with pytest.raises(error, match="num_kv_heads"):
        MultiHeadAttention(8, 8, 8, 16, 4, 0.0, num_kv_heads=num_kv_heads)


def test_as_torch_multihead_refuses_grouped_query():
    with pytest.raises(ValueError, match="num_kv_heads"):
        as_torch_multihead(MultiHeadAttention(16, 16, 16, 16, 4, 0.0, num_kv_heads=2))


@pytest.mark.parametrize("num_kv_heads", [1, 2, 4])
def test_sdpa_enable_gqa_equals_repeat_interleave(num_kv_heads):
    gen = torch.Generator().manual_seed(2)
    q = torch.randn(2, 4, 7, 8, generator=gen)
    k, v = (torch.randn(2, num_kv_heads, 9, 8, generator=gen) for _ in range(2))
    group = 4 // num_kv_heads
    explicit = F.scaled_dot_product_attention(
        q, k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1), is_causal=True
    )
    shared = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    torch.testing.assert_close(shared, explicit)
