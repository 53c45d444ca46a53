"""Scoring functions and the attention core: properties, gradients, fused vs readable paths."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn import functional as F

from attention_utils import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
    attention,
    masked_softmax,
    valid_lens_to_mask,
)

SIZE = 4  # query_size = key_size = d, so every layer accepts the same inputs


def _layers(dtype=torch.float64):
    """One layer of each scoring function, eval mode (no dropout), in ``dtype``."""
    torch.manual_seed(0)
    layers = {
        "additive": AdditiveAttention(SIZE, SIZE, 8, dropout=0.5, need_weights=True),
        "dot": DotProductAttention(dropout=0.5, need_weights=True),
        "bilinear": BilinearAttention(SIZE, SIZE, dropout=0.5, need_weights=True),
    }
    return {name: layer.to(dtype).eval() for name, layer in layers.items()}


LAYER_NAMES = ["additive", "dot", "bilinear"]


@st.composite
def attention_inputs(draw, dtype=torch.float64):
    """Random queries, keys, values and valid_lens (None, 1-D or 2-D), all from one seed."""
    batch_size = draw(st.integers(1, 3))
    num_queries = draw(st.integers(1, 4))
    num_keys = draw(st.integers(1, 6))
    value_size = draw(st.integers(1, 3))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0]))
    queries = scale * torch.randn(batch_size, num_queries, SIZE, generator=generator, dtype=dtype)
    keys = scale * torch.randn(batch_size, num_keys, SIZE, generator=generator, dtype=dtype)
    values = torch.randn(batch_size, num_keys, value_size, generator=generator, dtype=dtype)
    kind = draw(st.sampled_from(["none", "1d", "2d"]))
    if kind == "none":
        valid_lens = None
    else:
        shape = (batch_size,) if kind == "1d" else (batch_size, num_queries)
        valid_lens = torch.randint(1, num_keys + 1, shape, generator=generator)
    return queries, keys, values, valid_lens


def _key_mask(valid_lens, batch_size, num_queries, num_keys):
    if valid_lens is None:
        return torch.ones(batch_size, num_queries, num_keys, dtype=torch.bool)
    return valid_lens_to_mask(valid_lens, num_queries, num_keys)


# ---------------------------------------------------------------- masked_softmax


@given(inputs=attention_inputs())
def test_masked_softmax_rows_sum_to_one_and_masked_keys_get_zero(inputs):
    queries, keys, _, valid_lens = inputs
    scores = torch.bmm(queries, keys.transpose(1, 2))
    weights = masked_softmax(scores, valid_lens)
    mask = _key_mask(valid_lens, *scores.shape)
    assert weights.shape == scores.shape
    assert (weights[~mask] == 0).all()
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(scores.shape[:2], dtype=scores.dtype))


def test_masked_softmax_small_example_by_hand():
    X = torch.zeros(2, 2, 4)
    weights = masked_softmax(X, torch.tensor([2, 3]))
    expected = torch.tensor([[0.5, 0.5, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    torch.testing.assert_close(weights, expected[:, None, :].expand(2, 2, 4))


def test_masked_softmax_2d_valid_lens_i_plus_one_is_causal():
    torch.manual_seed(0)
    X = torch.randn(2, 5, 5)
    causal = torch.arange(1, 6).expand(2, 5)
    weights = masked_softmax(X, causal)
    upper = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    assert (weights[:, upper] == 0).all()
    assert (weights[:, ~upper] > 0).all()
    reference = F.softmax(X.masked_fill(upper, float("-inf")), dim=-1)
    torch.testing.assert_close(weights, reference)


def test_all_masked_row_is_zero_without_nan():
    X = torch.randn(2, 3, 4)
    weights = masked_softmax(X, torch.tensor([[0, 2, 4], [0, 0, 1]]))
    assert not weights.isnan().any()
    assert (weights[0, 0] == 0).all() and (weights[1, :2] == 0).all()
    torch.testing.assert_close(weights[0, 1:].sum(-1), torch.ones(2))


def test_valid_lens_to_mask_matches_sdpa_convention():
    mask = valid_lens_to_mask(torch.tensor([1, 3]), num_queries=2, num_keys=3)
    expected = torch.tensor([[True, False, False], [True, True, True]])
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected[:, None, :].expand(2, 2, 3))
    assert valid_lens_to_mask(None, 2, 3) is None


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@given(inputs=attention_inputs(dtype=torch.float32))
def test_half_precision_gives_no_nan_or_inf(dtype, inputs):
    queries, keys, values, valid_lens = (
        x if x is None or not x.is_floating_point() else x.to(dtype) for x in inputs
    )
    # large but finite scores (up to 1e4 in size), and a fully masked row when valid_lens is given
    scores = torch.bmm(queries.float(), keys.float().transpose(1, 2))
    scores = (1e4 * scores / scores.abs().amax().clamp(min=1e-6)).to(dtype)
    if valid_lens is not None:
        valid_lens = valid_lens.clone()
        valid_lens.view(-1)[0] = 0
    weights = masked_softmax(scores, valid_lens)
    assert torch.isfinite(weights).all()
    for name, layer in _layers(dtype).items():
        output = layer(queries, keys, values, valid_lens)
        assert torch.isfinite(output).all(), name


# ---------------------------------------------------------------- the three layers


@pytest.mark.parametrize("name", LAYER_NAMES)
@given(inputs=attention_inputs())
def test_output_is_a_convex_combination_of_valid_values(name, inputs):
    layer = _layers()[name]
    queries, keys, values, valid_lens = inputs
    output = layer(queries, keys, values, valid_lens)
    batch_size, num_queries, num_keys = queries.shape[0], queries.shape[1], keys.shape[1]
    assert output.shape == (batch_size, num_queries, values.shape[-1])
    assert layer.attention_weights.shape == (batch_size, num_queries, num_keys)
    mask = _key_mask(valid_lens, batch_size, num_queries, num_keys)
    big = torch.finfo(values.dtype).max
    low = (
        values[:, None].masked_fill(~mask[..., None], big).amin(2)
    )  # smallest valid value per query
    high = values[:, None].masked_fill(~mask[..., None], -big).amax(2)
    assert (output >= low - 1e-9).all() and (output <= high + 1e-9).all()


@pytest.mark.parametrize("name", LAYER_NAMES)
@given(inputs=attention_inputs())
def test_masked_keys_and_values_do_not_change_the_output(name, inputs):
    layer = _layers()[name]
    queries, keys, values, valid_lens = inputs
    if valid_lens is None:
        valid_lens = torch.full((queries.shape[0],), keys.shape[1])
    output = layer(queries, keys, values, valid_lens)
    key_mask = valid_lens_to_mask(valid_lens, queries.shape[1], keys.shape[1]).any(
        1
    )  # (batch_size, num_keys)
    noise_k = 1e3 * torch.randn_like(keys)
    noise_v = 1e3 * torch.randn_like(values)
    keys2 = torch.where(key_mask[..., None], keys, noise_k)
    values2 = torch.where(key_mask[..., None], values, noise_v)
    torch.testing.assert_close(layer(queries, keys2, values2, valid_lens), output)


@pytest.mark.parametrize("name", LAYER_NAMES)
@given(inputs=attention_inputs(), seed=st.integers(0, 1000))
def test_permuting_keys_and_values_together_leaves_output_unchanged(name, inputs, seed):
    layer = _layers()[name]
    queries, keys, values, _ = inputs  # no mask: a permutation would move the valid keys
    permutation = torch.randperm(keys.shape[1], generator=torch.Generator().manual_seed(seed))
    output = layer(queries, keys, values)
    torch.testing.assert_close(layer(queries, keys[:, permutation], values[:, permutation]), output)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_all_masked_query_gives_zero_output(name):
    layer = _layers()[name]
    torch.manual_seed(1)
    queries, keys, values = (torch.randn(2, 3, SIZE, dtype=torch.float64) for _ in range(3))
    output = layer(queries, keys, values, torch.tensor([[0, 1, 3], [2, 0, 3]]))
    assert (output[0, 0] == 0).all() and (output[1, 1] == 0).all()
    assert (output[0, 1:].abs() > 0).any() and not output.isnan().any()


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_gradcheck_float64(name):
    layer = _layers(torch.float64)[name]
    torch.manual_seed(2)
    queries = torch.randn(2, 3, SIZE, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(2, 4, SIZE, dtype=torch.float64, requires_grad=True)
    values = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    valid_lens = torch.tensor([2, 4])
    assert torch.autograd.gradcheck(
        lambda q, k, v: layer(q, k, v, valid_lens), (queries, keys, values)
    )
    # and gradients reach every parameter
    layer(queries, keys, values, valid_lens).sum().backward()
    for parameter_name, parameter in layer.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name


def test_gradcheck_masked_softmax():
    X = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x: masked_softmax(x, torch.tensor([[1, 2, 0], [4, 3, 2]])), (X,)
    )


def test_dot_product_matches_formula_and_sdpa():
    torch.manual_seed(3)
    queries, keys = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    values = torch.randn(2, 5, 6)
    layer = DotProductAttention(dropout=0.0, need_weights=True)
    weights = F.softmax(queries @ keys.transpose(1, 2) / math.sqrt(8), dim=-1)
    torch.testing.assert_close(layer(queries, keys, values), weights @ values)
    torch.testing.assert_close(layer.attention_weights, weights)
    torch.testing.assert_close(
        layer(queries, keys, values), F.scaled_dot_product_attention(queries, keys, values)
    )


@pytest.mark.parametrize("valid_lens", [None, "1d", "2d", "with_zero", "causal"])
def test_readable_and_fused_paths_agree(valid_lens):
    torch.manual_seed(4)
    queries, keys, values = torch.randn(3, 5, 16), torch.randn(3, 5, 16), torch.randn(3, 5, 7)
    valid_lens = {
        None: None,
        "1d": torch.tensor([1, 3, 5]),
        "2d": torch.randint(1, 6, (3, 5)),
        "with_zero": torch.tensor([[0, 1, 2, 3, 4], [5, 0, 5, 0, 5], [2, 2, 2, 2, 0]]),
        "causal": torch.arange(1, 6).expand(3, 5),
    }[valid_lens]
    readable = DotProductAttention(dropout=0.1, need_weights=True).eval()
    fused = DotProductAttention(dropout=0.1, need_weights=False).eval()
    expected = readable(queries, keys, values, valid_lens)
    actual = fused(queries, keys, values, valid_lens)
    assert fused.attention_weights is None and readable.attention_weights is not None
    assert not actual.isnan().any()
    torch.testing.assert_close(actual, expected, atol=1e-6, rtol=1e-6)
    readable.need_weights = False  # the switch is also an attribute
    torch.testing.assert_close(readable(queries, keys, values, valid_lens), actual)


def test_dropout_only_in_training():
    torch.manual_seed(5)
    queries, keys, values = torch.randn(2, 4, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 3)
    for need_weights in (True, False):
        layer = DotProductAttention(dropout=0.5, need_weights=need_weights)
        layer.eval()
        torch.testing.assert_close(layer(queries, keys, values), layer(queries, keys, values))
        layer.train()
        with pytest.raises(AssertionError):  # two dropout masks: two different outputs
            torch.testing.assert_close(layer(queries, keys, values), layer(queries, keys, values))


def test_bilinear_with_identity_is_unscaled_dot_product_and_can_be_asymmetric():
    torch.manual_seed(6)
    layer = BilinearAttention(SIZE, SIZE, dropout=0.0, need_weights=True)
    x, y = torch.randn(1, 1, SIZE), torch.randn(1, 1, SIZE)
    values = torch.randn(1, 1, 2)
    with torch.no_grad():
        layer.W.weight.copy_(torch.eye(SIZE))
    layer(x, torch.cat([x, y], 1), torch.randn(1, 2, 2))
    expected = F.softmax(torch.cat([x, y], 1) @ x.transpose(1, 2), dim=1).transpose(1, 2)
    torch.testing.assert_close(layer.attention_weights, expected)
    with torch.no_grad():
        layer.W.weight.copy_(torch.randn(SIZE, SIZE))
    score_xy = (x @ layer.W.weight @ y.transpose(1, 2)).item()
    score_yx = (y @ layer.W.weight @ x.transpose(1, 2)).item()
    assert abs(score_xy - score_yx) > 1e-3
    assert layer(x, y, values).shape == (1, 1, 2)


def test_different_query_and_key_sizes():
    queries, keys, values = torch.randn(2, 3, 5), torch.randn(2, 4, 7), torch.randn(2, 4, 2)
    assert AdditiveAttention(7, 5, 6, 0.0)(queries, keys, values).shape == (2, 3, 2)
    assert BilinearAttention(7, 5, 0.0)(queries, keys, values).shape == (2, 3, 2)


# ---------------------------------------------------------------- the core: attention()

# Tolerances for "the two paths agree" per dtype: a few units in the last place of each format.
TOLERANCES = {
    torch.float16: dict(atol=2e-3, rtol=2e-3),
    torch.bfloat16: dict(atol=2e-2, rtol=2e-2),
    torch.float32: dict(atol=1e-5, rtol=1e-5),
    torch.float64: dict(atol=1e-12, rtol=1e-12),
}


def _masks(kind, batch_size, num_queries, num_keys):
    """valid_lens, attn_mask and causal for one kind of mask."""
    g = torch.Generator().manual_seed(7)
    valid_lens, attn_mask, causal = None, None, False
    if kind == "1d":
        valid_lens = torch.randint(1, num_keys + 1, (batch_size,), generator=g)
    elif kind == "2d_with_zero":
        valid_lens = torch.randint(0, num_keys + 1, (batch_size, num_queries), generator=g)
        valid_lens[0, 0] = 0
    elif kind == "causal":
        causal = True
    elif kind == "causal_and_1d":
        valid_lens, causal = torch.randint(1, num_keys + 1, (batch_size,), generator=g), True
    elif kind == "bool_mask":
        attn_mask = torch.rand(num_queries, num_keys, generator=g) > 0.3
    return valid_lens, attn_mask, causal


@pytest.mark.parametrize("dtype", list(TOLERANCES))
@pytest.mark.parametrize("shape", [(3, 5, 6), (2, 4, 5, 6)], ids=["3d", "4d"])
@pytest.mark.parametrize(
    "kind", ["none", "1d", "2d_with_zero", "causal", "causal_and_1d", "bool_mask"]
)
def test_core_readable_and_fused_paths_agree_in_every_dtype(dtype, shape, kind):
    torch.manual_seed(8)
    *lead, num_queries, num_keys = shape
    queries = torch.randn(*lead, num_queries, 16, dtype=torch.float64)
    keys = torch.randn(*lead, num_keys, 16, dtype=torch.float64)
    values = torch.randn(*lead, num_keys, 7, dtype=torch.float64)
    valid_lens, attn_mask, causal = _masks(kind, lead[0], num_queries, num_keys)
    args = (valid_lens, attn_mask, 0.0)
    q, k, v = (t.to(dtype) for t in (queries, keys, values))
    readable, weights = attention(q, k, v, *args, need_weights=True, causal=causal)
    fused, none = attention(q, k, v, *args, need_weights=False, causal=causal)
    assert none is None and weights.shape == (*lead, num_queries, num_keys)
    assert readable.dtype == fused.dtype == dtype
    assert torch.isfinite(readable).all() and torch.isfinite(fused).all()
    torch.testing.assert_close(fused, readable, **TOLERANCES[dtype])
    # and both are close to the float64 result
    exact, _ = attention(queries, keys, values, *args, need_weights=True, causal=causal)
    torch.testing.assert_close(
        readable.double(), exact, **{k: 10 * t for k, t in TOLERANCES[dtype].items()}
    )


@pytest.mark.parametrize("need_weights", [True, False])
def test_float16_overflow_case_is_finite_on_both_paths(need_weights):
    # q . k = 32 * 32 * 64 = 65536 overflows float16 (max 65504) if the scale comes after the
    # matmul; scaling the queries first keeps every score at 8192.
    queries = torch.full((1, 2, 64), 32.0, dtype=torch.float16)
    keys = torch.full((1, 3, 64), 32.0, dtype=torch.float16)
    values = torch.randn(1, 3, 4).half()
    output, _ = attention(queries, keys, values, need_weights=need_weights)
    assert torch.isfinite(output).all()
    torch.testing.assert_close(
        output, values.mean(1, keepdim=True).expand(1, 2, 4), atol=2e-3, rtol=2e-3
    )
    layer = DotProductAttention(0.0, need_weights=need_weights)
    torch.testing.assert_close(layer(queries, keys, values), output)


def test_masked_softmax_broadcasts_valid_lens_over_heads():
    torch.manual_seed(9)
    X = torch.randn(2, 3, 4, 5)  # (batch_size, num_heads, num_queries, num_keys)
    for valid_lens in (torch.tensor([2, 5]), torch.tensor([[1, 2, 0, 5], [5, 4, 3, 2]])):
        weights = masked_softmax(X, valid_lens)
        for h in range(3):
            torch.testing.assert_close(weights[:, h], masked_softmax(X[:, h], valid_lens))


def test_causal_is_the_lower_triangle_and_aligned_at_the_last_key():
    torch.manual_seed(10)
    queries, keys, values = torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    _, weights = attention(queries, keys, values, need_weights=True, causal=True)
    _, by_lens = attention(
        queries, keys, values, torch.arange(1, 6).expand(2, 5), need_weights=True
    )
    torch.testing.assert_close(weights, by_lens)
    # three new queries against five keys (two cached): query i sees keys j <= i + 2
    _, weights = attention(queries[:, 2:], keys, values, need_weights=True, causal=True)
    expected_visible = torch.ones(3, 5, dtype=torch.bool).tril(2)
    assert torch.equal(weights[0] > 0, expected_visible)
    fused, _ = attention(queries[:, 2:], keys, values, causal=True)
    readable, _ = attention(queries[:, 2:], keys, values, need_weights=True, causal=True)
    torch.testing.assert_close(fused, readable)


def test_float_attn_mask_is_added_to_the_scores():
    torch.manual_seed(11)
    queries, keys, values = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    bias = torch.randn(3, 5)
    scores = queries @ keys.transpose(1, 2) / 2 + bias
    expected = F.softmax(scores, dim=-1) @ values
    for need_weights in (True, False):
        output, _ = attention(queries, keys, values, attn_mask=bias, need_weights=need_weights)
        torch.testing.assert_close(output, expected)


def test_scale_argument():
    torch.manual_seed(12)
    queries, keys, values = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    expected = F.softmax(0.3 * queries @ keys.transpose(1, 2), dim=-1) @ values
    for need_weights in (True, False):
        output, _ = attention(queries, keys, values, scale=0.3, need_weights=need_weights)
        torch.testing.assert_close(output, expected)


@pytest.mark.parametrize("need_weights", [True, False])
def test_all_masked_query_gives_zero_vector_on_both_paths(need_weights):
    torch.manual_seed(13)
    queries, keys, values = (
        torch.randn(2, 2, 3, 4),
        torch.randn(2, 2, 5, 4),
        torch.randn(2, 2, 5, 3),
    )
    valid_lens = torch.tensor([[0, 2, 5], [3, 0, 1]])
    output, _ = attention(queries, keys, values, valid_lens, need_weights=need_weights)
    assert (output[0, :, 0] == 0).all() and (output[1, :, 1] == 0).all()
    assert not output.isnan().any()


def test_core_gradients_agree_between_paths():
    torch.manual_seed(14)
    inputs = [torch.randn(2, 2, 4, 8, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    valid_lens = torch.tensor([3, 4])
    grads = []
    for need_weights in (True, False):
        output, _ = attention(*inputs, valid_lens, need_weights=need_weights)
        grads.append(torch.autograd.grad(output.square().sum(), inputs))
    for readable, fused in zip(*grads):
        torch.testing.assert_close(fused, readable)


def test_weights_rule_detached_and_none_after_a_fused_call():
    torch.manual_seed(15)
    queries = torch.randn(2, 3, 4, requires_grad=True)
    keys, values = torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    for layer in (
        DotProductAttention(0.0, need_weights=True),
        AdditiveAttention(4, 4, 8, 0.0, need_weights=True),
        BilinearAttention(4, 4, 0.0, need_weights=True),
    ):
        layer(queries, keys, values)
        assert layer.attention_weights is not None and not layer.attention_weights.requires_grad
    layer = DotProductAttention(0.0, need_weights=True)
    layer(queries, keys, values)
    layer.need_weights = False
    layer(queries, keys, values)
    assert layer.attention_weights is None  # no stale weights from the readable call
    _, weights = attention(queries, keys, values, need_weights=True)
    assert weights.requires_grad  # the function returns them in the graph, for who wants that


def test_dropout_in_the_core_keeps_the_expectation():
    torch.manual_seed(16)
    queries, keys, values = torch.randn(1, 1, 4), torch.randn(1, 8, 4), torch.randn(1, 8, 3)
    exact, _ = attention(queries, keys, values)
    for need_weights in (True, False):
        runs = torch.stack(
            [
                attention(queries, keys, values, dropout_p=0.5, need_weights=need_weights)[0]
                for _ in range(4000)
            ]
        )
        torch.testing.assert_close(runs.mean(0), exact, atol=0.1, rtol=0.0)


# ---------------------------------------------------------------- errors a reader can make


def test_masked_softmax_errors():
    X = torch.randn(2, 3, 4)
    with pytest.raises(
        ValueError, match=r"X must have shape \(batch_size, \.\.\., num_queries, num_keys\)"
    ):
        masked_softmax(torch.randn(4), None)
    with pytest.raises(
        ValueError, match=r"valid_lens of shape \(batch_size, num_queries\) needs X"
    ):
        masked_softmax(torch.randn(2, 4), torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="floating-point"):
        masked_softmax(torch.ones(2, 3, 4, dtype=torch.long), None)
    with pytest.raises(TypeError, match="integer dtype"):
        masked_softmax(X, torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="integer dtype"):
        masked_softmax(X, torch.tensor([True, False]))
    with pytest.raises(TypeError, match="integer torch.Tensor"):
        masked_softmax(X, [1, 2])
    with pytest.raises(ValueError, match=r"\(batch_size,\) = \(2,\) or"):
        masked_softmax(X, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"\(batch_size, num_queries\) = \(2, 3\)"):
        masked_softmax(X, torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, num_keys\] = \[0, 4\]"):
        masked_softmax(X, torch.tensor([-1, 2]))
    with pytest.raises(ValueError, match=r"\[0, num_keys\] = \[0, 4\]"):
        masked_softmax(X, torch.tensor([5, 2]))


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_errors(name):
    layer = _layers(torch.float32)[name]
    q, k, v = torch.randn(2, 3, SIZE), torch.randn(2, 4, SIZE), torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match=r"queries must have shape \(batch_size, num_queries"):
        layer(q[0], k, v)
    with pytest.raises(ValueError, match=r"keys must have shape \(batch_size, num_keys"):
        layer(q, k[0], v)
    with pytest.raises(ValueError, match="same batch_size"):
        layer(q, k[None], v)
    with pytest.raises(
        ValueError, match=r"values must have shape \(batch_size, num_keys, value_size\)"
    ):
        layer(q, k, v[0])
    with pytest.raises(ValueError, match="same batch_size"):
        layer(q, k[:1], v[:1])
    with pytest.raises(ValueError, match="same num_keys"):
        layer(q, k, v[:, :3])
    with pytest.raises(ValueError, match=r"\(batch_size, num_keys, key_size|same d"):
        layer(q, torch.randn(2, 4, SIZE + 1), v)
    with pytest.raises(TypeError, match="share a dtype"):
        layer(q, k, v.double())
    with pytest.raises(TypeError, match="floating-point"):
        layer(q, k, torch.ones(2, 4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, num_keys\]"):
        layer(q, k, v, torch.tensor([5, 1]))
    with pytest.raises(TypeError, match="integer dtype"):
        layer(q, k, v, torch.tensor([2.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(batch_size,\) = \(2,\)"):
        layer(q, k, v, torch.tensor([[1, 2]]))


def test_sized_layers_name_the_expected_size():
    q, k, v = torch.randn(2, 3, 5), torch.randn(2, 4, 7), torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match="query_size=6"):
        AdditiveAttention(7, 6, 8, 0.0)(q, k, v)
    with pytest.raises(ValueError, match="key_size=8"):
        BilinearAttention(8, 5, 0.0)(q, k, v)


def test_fused_path_errors_like_the_readable_path():
    layer = DotProductAttention(0.0, need_weights=False)
    q, k, v = torch.randn(2, 3, SIZE), torch.randn(2, 4, SIZE), torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match=r"\[0, num_keys\] = \[0, 4\]"):
        layer(q, k, v, torch.tensor([5, 1]))
    with pytest.raises(ValueError, match=r"\(batch_size, num_queries\) = \(2, 3\)"):
        layer(q, k, v, torch.ones(2, 2, dtype=torch.long))


def test_attention_pool_with_dot_product_scores_equals_attention():
    """attention_pool on (Q / sqrt(d)) K^T with a key mask reproduces the core, weights included."""
    import attention_utils as au

    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 4)
    valid_lens = torch.tensor([2, 5])
    expected, expected_weights = au.attention(q, k, v, valid_lens, need_weights=True)
    mask = au.valid_lens_to_mask(valid_lens, 3, 5)
    output, weights = au.attention_pool(q @ k.transpose(1, 2) / 8**0.5, v, mask)
    assert torch.allclose(output, expected, atol=1e-6)
    assert torch.allclose(weights, expected_weights, atol=1e-6)


# ---------------------------------------------------------------- NaN in padding, the switch


@pytest.mark.parametrize("need_weights", [True, False])
def test_nan_in_padded_keys_and_values_does_not_leak(need_weights):
    """Padding (a key no query sees) may hold anything: 0 * NaN must not reach the output."""
    torch.manual_seed(20)
    queries, keys, values = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    valid_lens = torch.tensor([2, 5])
    clean, _ = attention(queries, keys, values, valid_lens, need_weights=need_weights)
    keys[0, 2:], values[0, 2:] = float("nan"), float("nan")
    output, _ = attention(queries, keys, values, valid_lens, need_weights=need_weights)
    torch.testing.assert_close(output, clean)
    layer = DotProductAttention(0.0, need_weights=need_weights)
    torch.testing.assert_close(layer(queries, keys, values, valid_lens), clean)
    additive = AdditiveAttention(4, 4, 8, 0.0, need_weights=need_weights)
    assert not additive(queries, keys, values, valid_lens).isnan().any()


def test_nan_in_a_visible_value_still_shows():
    queries, keys, values = torch.randn(1, 2, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 2)
    values[0, 0] = float("nan")
    output, _ = attention(queries, keys, values, torch.tensor([2]), need_weights=True)
    assert output.isnan().all()


def test_need_weights_defaults_to_false_and_rejects_strings():
    layers = [
        DotProductAttention(0.0), AdditiveAttention(4, 4, 8, 0.0), BilinearAttention(4, 4, 0.0)
    ]
    queries, keys, values = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    for layer in layers:
        assert layer.need_weights is False
        layer(queries, keys, values)
        assert layer.attention_weights is None
        with pytest.raises(TypeError, match="need_weights must be True or False"):
            layer.need_weights = "False"


def test_valid_lens_to_mask_causal():
    mask = valid_lens_to_mask(torch.tensor([2, 3]), 3, 3, causal=True)
    expected = torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 0]], dtype=torch.bool)
    assert torch.equal(mask[0], expected)
    assert torch.equal(valid_lens_to_mask(None, 2, 3, causal=True), torch.ones(2, 3).tril(1).bool())
    assert valid_lens_to_mask(None, 2, 3) is None
