"""Relative positions, RoPE and ALiBi: each depends on j - i only and agrees with its paper."""

import math

import pytest
import torch

import attention_utils as au

F64 = torch.float64


def _reference_alibi_slopes(n):
    """The authors' get_slopes (github.com/ofirpress/attention_with_linear_biases), verbatim."""

    def get_slopes_power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        ratio = start
        return [start * ratio**i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return (
        get_slopes_power_of_2(closest_power_of_2)
        + _reference_alibi_slopes(2 * closest_power_of_2)[0::2][: n - closest_power_of_2]
    )


def _is_toeplitz(matrix):
    """Every diagonal constant: ``matrix[..., i, j]`` depends on ``j - i`` only."""
    return torch.equal(matrix[..., 1:, 1:], matrix[..., :-1, :-1])


def test_relative_positions_align_queries_at_the_last_key():
    rel = au.relative_positions(2, 4)
    assert rel.tolist() == [[-2, -1, 0, 1], [-3, -2, -1, 0]]


def test_shaw_term_uses_the_clipped_offset_only():
    torch.manual_seed(0)
    shaw = au.ShawRelativePosition(head_dim=4, max_distance=2).double()
    index = shaw.indices(6, 6)
    assert _is_toeplitz(index)
    assert index.min() == 0 and index.max() == 4  # offsets beyond 2 share the end vectors
    q = torch.randn(3, 6, 4, dtype=F64)
    term = shaw(q, 6)  # (3, 6, 6)
    for i in range(6):
        for j in range(6):
            w = shaw.embedding.weight[min(max(j - i, -2), 2) + 2]
            torch.testing.assert_close(term[:, i, j], q[:, i] @ w / 2.0)


def test_shaw_term_through_the_core_adds_to_the_keys():
    torch.manual_seed(1)
    shaw = au.ShawRelativePosition(head_dim=4, max_distance=3).double()
    q, k, v = (torch.randn(2, 5, 4, dtype=F64) for _ in range(3))
    out, weights = au.attention(q, k, v, attn_mask=shaw(q, 5), need_weights=True)
    a = shaw.embedding(shaw.indices(5, 5))  # (5, 5, 4): a_ij of the paper
    scores = torch.einsum("bid,bijd->bij", q, k[:, None] + a[None]) / 2.0  # q_i (k_j + a_ij)
    torch.testing.assert_close(weights, scores.softmax(-1))
    torch.testing.assert_close(out, scores.softmax(-1) @ v)


@pytest.mark.parametrize(
    ("offset", "bucket"), [(0, 0), (-1, 1), (-7, 7), (-8, 8), (-12, 9), (-128, 15), (-999, 15),
                           (1, 17), (7, 23), (999, 31)]
)
def test_t5_buckets_match_the_released_rule(offset, bucket):
    rel = torch.tensor([offset])
    assert au.relative_position_bucket(rel).item() == bucket


def test_t5_buckets_are_exact_near_and_monotone_far():
    rel = -torch.arange(0, 300)
    buckets = au.relative_position_bucket(rel, bidirectional=False)
    assert buckets[:16].tolist() == list(range(16))
    assert (buckets.diff() >= 0).all() and buckets.max() == 31
    assert (au.relative_position_bucket(torch.arange(1, 9), bidirectional=False) == 0).all()


def test_t5_bias_depends_on_the_offset_only():
    torch.manual_seed(0)
    bias = au.T5RelativeBias(num_heads=3)(7, 9)
    assert bias.shape == (3, 7, 9)
    assert _is_toeplitz(bias)


def _score(q, k, m, n):
    """The dot product of q rotated to position m and k rotated to position n."""
    qm = au.apply_rotary(q[None], torch.tensor([m]))[0]
    kn = au.apply_rotary(k[None], torch.tensor([n]))[0]
    return qm @ kn


@pytest.mark.parametrize("shift", [1, 17, 1000])
def test_rope_score_depends_on_m_minus_n_only(shift):
    torch.manual_seed(0)
    q, k = torch.randn(2, 16, dtype=F64)
    for m, n in [(0, 0), (5, 2), (3, 9), (40, 0)]:
        torch.testing.assert_close(_score(q, k, m + shift, n + shift), _score(q, k, m, n),
                                   rtol=0, atol=1e-11)
    q32, k32 = q.float(), k.float()
    torch.testing.assert_close(_score(q32, k32, 5 + shift, 2 + shift), _score(q32, k32, 5, 2),
                               rtol=0, atol=1e-4)


def test_rope_equals_the_complex_form_of_the_paper():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 8, dtype=F64)  # (batch_size, num_heads, num_steps, head_dim)
    base = 500.0
    theta = base ** (-torch.arange(0, 8, 2, dtype=F64) / 8)  # (4,)
    m = torch.arange(7, dtype=F64)
    z = torch.view_as_complex(x.unflatten(-1, (4, 2)).contiguous())  # x_2p + i x_2p+1
    expected = torch.view_as_real(z * torch.polar(torch.ones(7, 4, dtype=F64), m[:, None] * theta))
    torch.testing.assert_close(au.apply_rotary(x, base=base), expected.flatten(-2))


def test_rope_keeps_norms_and_accepts_per_example_positions():
    torch.manual_seed(0)
    x = torch.randn(2, 2, 5, 6)
    positions = torch.tensor([[0, 1, 2, 3, 4], [10, 11, 12, 13, 14]])[:, None]  # (2, 1, 5)
    y = au.apply_rotary(x, positions)
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
    torch.testing.assert_close(y[0], au.apply_rotary(x[0]))
    torch.testing.assert_close(y[1], au.apply_rotary(x[1], torch.arange(10, 15)))
    assert y.dtype == x.dtype


def test_rope_rejects_an_odd_head_dim():
    with pytest.raises(ValueError, match="head_dim must be even"):
        au.apply_rotary(torch.randn(2, 5, 7))


@pytest.mark.parametrize("num_heads", [1, 2, 3, 5, 6, 8, 12, 16, 20, 24])
def test_alibi_slopes_equal_the_authors_get_slopes(num_heads):
    expected = torch.tensor(_reference_alibi_slopes(num_heads), dtype=F64)
    torch.testing.assert_close(au.alibi_slopes(num_heads), expected, rtol=1e-14, atol=0)


def test_alibi_slopes_for_eight_and_twelve_heads():
    assert au.alibi_slopes(8).tolist() == [2.0**-h for h in range(1, 9)]
    twelve = au.alibi_slopes(12)
    torch.testing.assert_close(twelve[:8], au.alibi_slopes(8))
    torch.testing.assert_close(twelve[8:], au.alibi_slopes(16)[0::2][:4])


def test_alibi_bias_is_the_papers_linear_penalty():
    bias = au.alibi_bias(4, 3, 5, dtype=F64)
    slopes = au.alibi_slopes(4)
    assert bias.shape == (4, 3, 5)
    assert _is_toeplitz(bias.abs())
    distance = torch.tensor([4.0, 3, 2, 1, 0], dtype=F64)  # of the keys from the last query
    torch.testing.assert_close(bias[:, 2], -slopes[:, None] * distance)
    assert bias.dtype == F64 and au.alibi_bias(2, 2, 2).dtype == torch.float32


@pytest.mark.parametrize("need_weights", [True, False])
def test_alibi_through_the_core_with_a_causal_mask(need_weights):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 6, 8, dtype=F64) for _ in range(3))
    bias = au.alibi_bias(4, 6, 6, dtype=F64)
    out, _ = au.attention(q, k, v, attn_mask=bias, causal=True, need_weights=need_weights)
    scores = q @ k.transpose(-1, -2) / math.sqrt(8) + bias
    scores = scores.masked_fill(torch.ones(6, 6, dtype=torch.bool).triu(1), -math.inf)
    torch.testing.assert_close(out, scores.softmax(-1) @ v)
