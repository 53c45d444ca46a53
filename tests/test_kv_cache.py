"""The key-value cache: multi-head attention fed one step at a time equals the full causal pass."""

import pytest
import torch

from attention_utils import KVCache, MultiHeadAttention


def _mha(bias: bool = True) -> MultiHeadAttention:
    torch.manual_seed(0)
    return MultiHeadAttention(8, 8, 8, 8, 2, 0.0, bias=bias).eval()


@pytest.mark.parametrize("need_weights", [True, False])
def test_step_by_step_equals_full_causal(need_weights):
    mha = _mha()
    mha.need_weights = need_weights
    X = torch.randn(3, 6, 8, dtype=torch.float64)
    mha.double()
    full = mha(X, X, X, causal=True)  # (3, 6, 8)
    cache = KVCache()
    steps = [
        mha(X[:, t : t + 1], X[:, t : t + 1], X[:, t : t + 1], causal=True, cache=cache)
        for t in range(6)
    ]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=0, atol=1e-12)
    assert cache.num_steps == 6
    assert cache.keys.shape == (3, 2, 6, 4)
    assert cache.nbytes == 2 * 3 * 6 * 8 * 8  # keys and values, 8 bytes per float64


def test_prefix_then_steps():
    mha = _mha()
    X = torch.randn(2, 5, 8)
    full = mha(X, X, X, causal=True)
    cache = KVCache()
    head = mha(X[:, :3], X[:, :3], X[:, :3], causal=True, cache=cache)
    tail = mha(X[:, 3:], X[:, 3:], X[:, 3:], causal=True, cache=cache)
    torch.testing.assert_close(torch.cat([head, tail], dim=1), full, rtol=1e-5, atol=1e-6)


def test_static_cache_is_read_not_recomputed():
    mha = _mha()
    Q, M = torch.randn(2, 4, 8), torch.randn(2, 7, 8)
    lens = torch.tensor([7, 3])
    full = mha(Q, M, M, lens)
    cache = KVCache(static=True)
    first = mha(Q[:, :1], M, M, lens, cache=cache)
    # later calls ignore keys/values: pass garbage of the right shape
    rest = mha(Q[:, 1:], torch.zeros(2, 1, 8), torch.zeros(2, 1, 8), lens, cache=cache)
    torch.testing.assert_close(torch.cat([first, rest], dim=1), full, rtol=1e-5, atol=1e-6)
    assert cache.num_steps == 7


def test_bad_inputs():
    mha = _mha()
    X = torch.randn(2, 3, 8)
    with pytest.raises(TypeError, match="cache"):
        mha(X, X, X, cache=[])
    with pytest.raises(TypeError, match="static"):
        KVCache(static=1)
    cache = KVCache()
    with pytest.raises(TypeError, match="keys"):
        cache.append("k", torch.zeros(1, 1, 1, 1))
    with pytest.raises(ValueError, match="keys and values"):
        cache.append(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3))
    cache.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="like the cached"):
        cache.append(torch.zeros(1, 3, 1, 4), torch.zeros(1, 3, 1, 4))
    static = KVCache(static=True)
    static.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="static"):
        static.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))
    assert repr(static) == "KVCache(static=True, keys=(1, 2, 3, 4))"


def test_flat_cache_writes_in_place_and_grows_by_doubling():
    cache = KVCache()
    for t in range(40):
        keys, values = cache.append(torch.full((1, 2, 1, 4), float(t)), torch.zeros(1, 2, 1, 3))
    assert cache.num_steps == 40 and keys.shape == (1, 2, 40, 4) and values.shape == (1, 2, 40, 3)
    assert torch.equal(keys[0, 0, :, 0], torch.arange(40.0))
    assert cache.nbytes == 4 * 2 * 40 * (4 + 3)
    assert cache.allocated_nbytes == 4 * 2 * 64 * (4 + 3)  # 16 -> 32 -> 64 slots
    buffer = cache.keys.untyped_storage().data_ptr()
    cache.append(torch.zeros(1, 2, 1, 4), torch.zeros(1, 2, 1, 3))
    assert cache.keys.untyped_storage().data_ptr() == buffer  # written in place, no copy


def test_max_steps_preallocates_once():
    cache = KVCache(max_steps=5)
    cache.append(torch.zeros(1, 1, 2, 4), torch.zeros(1, 1, 2, 4))
    assert cache.allocated_nbytes == 4 * 5 * 8
    cache.append(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 3, 4))
    with pytest.raises(ValueError, match="max_steps = 5"):
        cache.append(torch.zeros(1, 1, 1, 4), torch.zeros(1, 1, 1, 4))


@pytest.mark.parametrize("window", [1, 3, 7])
def test_sliding_window_cache_equals_attention_restricted_to_the_window(window):
    mha = _mha().double()
    X = torch.randn(2, 12, 8, dtype=torch.float64)
    # reference: query i sees keys i - window ... i (itself and the window before it)
    pos = torch.arange(12)
    band = (pos[None, :] <= pos[:, None]) & (pos[None, :] >= pos[:, None] - window)
    q = mha.W_q(X).reshape(2, 12, 2, 4).transpose(1, 2)  # (2, heads, 12, 4)
    k = mha.W_k(X).reshape(2, 12, 2, 4).transpose(1, 2)
    v = mha.W_v(X).reshape(2, 12, 2, 4).transpose(1, 2)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=band)
    expected = mha.W_o(out.transpose(1, 2).reshape(2, 12, 8))  # (2, 12, 8)
    cache = KVCache(window=window)
    steps = []
    for t in range(12):
        x = X[:, t : t + 1]
        steps.append(mha(x, x, x, causal=True, cache=cache))
        assert cache.num_steps == min(t + 1, window)
    torch.testing.assert_close(torch.cat(steps, dim=1), expected, rtol=0, atol=1e-12)
    assert cache.allocated_nbytes <= 8 * 2 * 2 * max(16, 2 * window) * 8  # bounded, not 12 steps


def test_cache_under_autograd_keeps_gradients():
    mha = _mha()
    X = torch.randn(1, 4, 8, requires_grad=True)
    cache = KVCache()
    outs = [mha(X[:, t : t + 1], X[:, t : t + 1], X[:, t : t + 1], causal=True, cache=cache)
            for t in range(4)]
    torch.cat(outs, dim=1).sum().backward()
    full = X.detach().clone().requires_grad_()
    mha(full, full, full, causal=True).sum().backward()
    torch.testing.assert_close(X.grad, full.grad, rtol=1e-5, atol=1e-6)
