"""Rollout, map agreement, the randomisation check and Jain and Wallace's adversarial attention."""

import math

import pytest
import torch
from torch import nn

from attention_utils import (
    MultiHeadAttention,
    TransformerEncoder,
    adversarial_attention,
    attention_rollout,
    js_divergence,
    map_agreement,
    randomized_copy,
    rank_correlation,
)


def test_rollout_equals_its_formula_on_a_hand_built_two_layer_example():
    # Layer 1: head 1 copies the previous token, head 2 attends uniformly; layer 2: one pattern.
    layer1 = torch.tensor([
        [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        [[1 / 3, 1 / 3, 1 / 3]] * 3,
    ])[None]  # (1, 2 heads, 3, 3)
    layer2 = torch.tensor([[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5]]] * 2)[None]
    # By hand, residual 0.5: Â = 0.5 I + 0.5 mean_h(A); rollout = Â_2 Â_1.
    a1 = 0.5 * torch.eye(3) + 0.5 * torch.tensor(
        [[2 / 3, 1 / 6, 1 / 6], [2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6]]
    )
    a2 = 0.5 * torch.eye(3) + 0.5 * layer2[0, 0]
    expected = (a2 @ a1)[None]
    rollout = attention_rollout([layer1, layer2], residual=0.5)
    torch.testing.assert_close(rollout, expected)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(1, 3))
    # one entry written out: row 0 of Â_2 is (0.75, 0.25, 0), column 0 of Â_1 (5/6, 1/3, 1/12)
    assert rollout[0, 0, 0].item() == pytest.approx(0.75 * 5 / 6 + 0.25 * 1 / 3)


def test_rollout_of_one_layer_without_residual_is_the_head_mean():
    weights = torch.softmax(torch.randn(2, 4, 5, 5), -1)
    torch.testing.assert_close(attention_rollout([weights], residual=0.0), weights.mean(1))


def test_rollout_of_a_trained_shape_encoder_sums_to_one():
    torch.manual_seed(0)
    encoder = TransformerEncoder(10, 8, 16, 2, 3, 0.0).eval()
    encoder.need_weights = True
    encoder(torch.randint(10, (2, 6)))
    rollout = attention_rollout(encoder.attention_weights)
    assert rollout.shape == (2, 6, 6)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(2, 6))


def test_js_divergence_bounds_and_symmetry():
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = torch.tensor([[0.0, 0.0, 1.0], [0.5, 0.3, 0.2]])
    assert js_divergence(p, p).abs().max() < 1e-7
    assert js_divergence(p, q)[0].item() == pytest.approx(math.log(2))
    torch.testing.assert_close(js_divergence(p, q), js_divergence(q, p))


def test_map_agreement_by_hand():
    weights = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [1 / 3, 1 / 3, 1 / 3]])
    mass, pointing = map_agreement(weights, torch.tensor([0, 1, -1]))
    assert mass == pytest.approx((0.7 + 0.3) / 2)
    assert pointing == pytest.approx(0.5)


def test_rank_correlation():
    a = torch.tensor([[0.1, 0.5, 0.3, 0.9]])
    assert rank_correlation(a, a).item() == pytest.approx(1.0)
    assert rank_correlation(a, -a).item() == pytest.approx(-1.0)
    assert rank_correlation(a, 2 * a + 1).item() == pytest.approx(1.0)
    ties = torch.tensor([[0.0, 0.0, 0.0, 5.0]])  # mid-ranks 1, 1, 1, 3 (from 0)
    other = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    # Pearson of (-0.5, -0.5, -0.5, 1.5) and (-1.5, -0.5, 0.5, 1.5): 3 / sqrt(3 * 5)
    assert rank_correlation(ties, other).item() == pytest.approx(3 / 15**0.5)
    assert rank_correlation(torch.ones(1, 4), other).item() == 0.0


def test_randomized_copy_changes_every_parameter_and_nothing_else():
    torch.manual_seed(0)
    model = nn.Sequential(MultiHeadAttention(4, 4, 4, 8, 2, 0.0), nn.Linear(8, 3))
    model.extra = nn.Parameter(torch.zeros(3))  # no reset_parameters: redrawn from N(0, 0.1^2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.get_rng_state()
    clone = randomized_copy(model, seed=1)
    assert torch.equal(torch.get_rng_state(), state), "the global random state is restored"
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), "the model is left unchanged"
        assert not torch.equal(clone.state_dict()[name], value), name
    again = randomized_copy(model, seed=1)
    for name, value in clone.state_dict().items():
        assert torch.equal(again.state_dict()[name], value), "the same seed, the same copy"


def test_adversarial_attention_moves_freely_when_the_output_ignores_the_weights():
    weights = torch.softmax(torch.randn(3, 5), -1)
    decode = lambda w: torch.softmax(torch.ones(w.shape[0], 2) + 0 * w[:, :2], -1)  # noqa: E731
    torch.manual_seed(0)
    adversarial, js, tvd = adversarial_attention(decode, weights, epsilon=0.01, steps=60, lr=0.5)
    assert (tvd <= 0.01).all()
    one_hots = torch.eye(5)[:, None].expand(5, 3, 5)  # (position, batch_size, n)
    best = js_divergence(one_hots, weights.expand(5, 3, 5)).max(0).values  # the best one-hot
    assert (js > 0.5 * best).all(), (js, best)
    torch.testing.assert_close(adversarial.sum(-1), torch.ones(3))


def test_adversarial_attention_respects_epsilon_when_the_output_depends_on_the_weights():
    torch.manual_seed(0)
    weights = torch.softmax(torch.randn(4, 6), -1)
    values = torch.randn(6, 3)

    def decode(w):
        return torch.softmax(5 * w @ values, -1)

    adversarial, js, tvd = adversarial_attention(decode, weights, epsilon=0.02, steps=60)
    assert (tvd <= 0.02 + 1e-6).all()
    assert (js >= 0).all() and (js <= math.log(2) + 1e-6).all()
    torch.testing.assert_close(js, js_divergence(adversarial, weights))
