"""Sliding windows, the rolling cache and attention sinks, against full attention with a mask."""

import pytest
import torch

import attention_utils as au

F64 = torch.float64


def _qkv(num_queries=11, num_keys=11, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(2, 3, num_queries, d, generator=g, dtype=F64),
        torch.randn(2, 3, num_keys, d, generator=g, dtype=F64),
        torch.randn(2, 3, num_keys, 5, generator=g, dtype=F64),
    )


def test_the_band_mask_by_hand():
    mask = au.sliding_window_mask(4, 4, window=2).int().tolist()
    assert mask == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    both = au.sliding_window_mask(4, 4, window=2, causal=False).int().tolist()
    assert both == [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]
    sinks = au.sliding_window_mask(2, 5, window=2, num_sinks=1).int().tolist()
    assert sinks == [[1, 0, 1, 1, 0], [1, 0, 0, 1, 1]]


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("window", [1, 2, 3, 5, 20])
@pytest.mark.parametrize("num_sinks", [0, 2])
@pytest.mark.parametrize("num_queries", [11, 4])
def test_chunked_window_equals_full_attention_with_the_band(causal, window, num_sinks, num_queries):
    q, k, v = _qkv(num_queries=num_queries)
    mask = au.sliding_window_mask(num_queries, 11, window, causal=causal, num_sinks=num_sinks)
    expected, _ = au.attention(q, k, v, attn_mask=mask, need_weights=True)
    out = au.sliding_window_attention(q, k, v, window, causal=causal, num_sinks=num_sinks)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_a_window_as_long_as_the_text_is_full_causal_attention():
    q, k, v = _qkv()
    expected, _ = au.attention(q, k, v, causal=True)
    torch.testing.assert_close(au.sliding_window_attention(q, k, v, 11), expected)


@pytest.mark.parametrize("num_sinks", [0, 1, 3])
def test_rolling_cache_step_by_step_equals_windowed_attention(num_sinks):
    q, k, v = _qkv(num_queries=13, num_keys=13)
    window = 4
    mask = au.sliding_window_mask(13, 13, window, num_sinks=num_sinks)
    expected, _ = au.attention(q, k, v, attn_mask=mask)
    cache = au.RollingKVCache(window, num_sinks=num_sinks)
    steps = []
    for t in range(13):
        keys, values = cache.append(k[..., t : t + 1, :], v[..., t : t + 1, :])
        assert cache.num_cached <= window - 1 + num_sinks
        assert cache.returned_positions.tolist() == mask[t].nonzero().squeeze(1).tolist()
        steps.append(au.attention(q[..., t : t + 1, :], keys, values)[0])
    torch.testing.assert_close(torch.cat(steps, dim=-2), expected, rtol=0, atol=1e-12)
    assert cache.keys.shape == (2, 3, window - 1 + num_sinks, 4)
    assert cache.num_seen == 13


def test_rolling_cache_prefill_then_steps_with_its_mask():
    q, k, v = _qkv(num_queries=12, num_keys=12)
    mask = au.sliding_window_mask(12, 12, 3, num_sinks=2)
    expected, _ = au.attention(q, k, v, attn_mask=mask)
    cache = au.RollingKVCache(3, num_sinks=2)
    outputs = []
    for start, stop in [(0, 7), (7, 8), (8, 12)]:
        keys, values = cache.append(k[..., start:stop, :], v[..., start:stop, :])
        outputs.append(au.attention(q[..., start:stop, :], keys, values,
                                    attn_mask=cache.attn_mask())[0])
    torch.testing.assert_close(torch.cat(outputs, dim=-2), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_receptive_field_grows_by_window_minus_one_per_layer(num_layers):
    window, n = 3, 16
    x = torch.randn(1, n, 4, dtype=F64, requires_grad=True)
    torch.manual_seed(0)
    weights = [torch.randn(4, 4, dtype=F64) for _ in range(num_layers)]
    h = x
    for w in weights:
        h = h + au.sliding_window_attention(h @ w, h @ w, h, window)
    h[0, -1].sum().backward()
    reached = (x.grad[0].abs().sum(-1) > 0).nonzero().squeeze(1).tolist()
    assert reached == list(range(n - 1 - num_layers * (window - 1), n))
