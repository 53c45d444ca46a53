"""Show, attend and tell: shapes, weights, the penalty and the REINFORCE estimator."""

import math

import pytest
import torch
from torch.nn import functional as F

from attention_utils import (
    SCENE_WORDS,
    MovingAverageBaseline,
    ShowAttendTell,
    caption_images,
    caption_loss,
    doubly_stochastic_penalty,
    reinforce_surrogate,
    scene_data,
    score_function_variance,
)

DATA = scene_data(16, seed=5)
BOS = SCENE_WORDS.index("<bos>")


def _net(kind, seed=0, **sizes):
    torch.manual_seed(seed)
    sizes = {"num_channels": 8, "embed_size": 4, "num_hiddens": 8, **sizes}  # small: fast tests
    return ShowAttendTell(len(SCENE_WORDS), kind, **sizes)


@pytest.mark.parametrize("kind", ["soft", "hard", "uniform"])
def test_shapes_and_weights_sum_to_one(kind):
    net = _net(kind)
    out = net(DATA.images, DATA.captions[:, :-1])
    assert out.logits.shape == (16, 6, len(SCENE_WORDS))
    assert out.weights.shape == (16, 6, 9)
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(16, 6))
    assert torch.equal(net.attention_weights, out.weights.detach())
    assert (out.log_prob_cells is None) == (kind != "hard")
    if kind == "uniform":
        torch.testing.assert_close(out.weights, torch.full((16, 6, 9), 1 / 9))


def test_soft_weights_are_the_softmax_of_the_additive_scores():
    net = _net("soft").eval()
    features = net.encode(DATA.images)  # (16, 9, num_channels)
    h, c = net.begin_state(features)
    _, weights, _, _ = net.step(DATA.captions[:, 0], features, (h, c))
    scores = net.w(torch.tanh(net.W_a(features) + net.W_h(h)[:, None]))[..., 0]  # (16, 9)
    torch.testing.assert_close(weights, torch.softmax(scores, -1))


def test_hard_attention_samples_in_training_and_takes_the_arg_max_in_eval():
    net = _net("hard")
    torch.manual_seed(1)
    out = net.train()(DATA.images, DATA.captions[:, :-1])
    assert out.log_prob_cells.shape == (16, 6)
    assert torch.isfinite(out.log_prob_cells).all() and (out.log_prob_cells <= 0).all()
    features = net.encode(DATA.images)
    state = net.begin_state(features)
    net.eval()
    logits, weights, cell, _ = net.step(DATA.captions[:, 0], features, state)
    assert torch.equal(cell, weights.argmax(-1))
    forced = net.step(DATA.captions[:, 0], features, state, cell=cell)[0]
    torch.testing.assert_close(logits, forced)


def test_doubly_stochastic_penalty_by_hand():
    weights = torch.tensor([[[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]])  # (1, 2 steps, 3 cells)
    # column sums 0.5, 1.0, 0.5 -> (0.5)^2 + 0 + (0.5)^2
    assert doubly_stochastic_penalty(weights).item() == pytest.approx(0.5)


def test_moving_average_baseline():
    b = MovingAverageBaseline(decay=0.9)
    assert b.update(torch.tensor([2.0, 4.0])) == 0.0
    assert float(b.value) == 3.0
    assert float(b.update(torch.tensor([13.0]))) == 3.0
    assert float(b.value) == pytest.approx(0.9 * 3 + 0.1 * 13)
    per_step = MovingAverageBaseline(decay=0.5)
    per_step.update(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))  # (batch_size, num_steps)
    per_step.update(torch.tensor([[0.0, 0.0]]))
    torch.testing.assert_close(per_step.value, torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("baseline", [0.0, 1.7])
def test_reinforce_is_unbiased_on_a_categorical_with_known_gradient(baseline):
    """grad_theta E_{s ~ softmax(theta)}[f(s)] = p * (f - E f); the estimator agrees to MC error."""
    theta = torch.tensor([0.3, -1.0, 0.8, 0.0], requires_grad=True)
    f = torch.tensor([1.0, 3.0, -2.0, 0.5])
    p = torch.softmax(theta, 0).detach()
    exact = p * (f - (p * f).sum())
    g = torch.Generator().manual_seed(0)
    n = 40000
    s = torch.multinomial(p, n, replacement=True, generator=g)  # (n,)
    log_prob = torch.log_softmax(theta, 0)[s]  # (n,)
    (estimate,) = torch.autograd.grad(-reinforce_surrogate(log_prob, f[s], baseline), theta)
    one_hot = F.one_hot(s, 4).float()  # grad log p(s) = one_hot(s) - p
    samples = (f[s] - baseline)[:, None] * (one_hot - p)  # (n, 4)
    torch.testing.assert_close(samples.mean(0), estimate, atol=1e-5, rtol=1e-4)
    error = samples.std(0) / math.sqrt(n)
    assert ((estimate - exact).abs() < 4 * error).all(), (estimate, exact, error)


def test_a_baseline_near_the_mean_reward_lowers_the_variance_not_the_mean():
    theta = torch.tensor([0.3, -1.0, 0.8, 0.0], requires_grad=True)
    f = torch.tensor([11.0, 13.0, 8.0, 10.5])  # large rewards: b = 0 is a poor baseline
    p = torch.softmax(theta, 0).detach()
    s = torch.multinomial(p, 20000, replacement=True, generator=torch.Generator().manual_seed(1))
    one_hot = F.one_hot(s, 4).float()
    mean_reward = (p * f).sum().item()
    var = {b: ((f[s] - b)[:, None] * (one_hot - p)).var(0).sum() for b in (0.0, mean_reward)}
    assert var[mean_reward] < var[0.0] / 20


def test_caption_loss_gradients():
    soft, hard = _net("soft"), _net("hard")
    out = soft(DATA.images, DATA.captions[:, :-1])
    caption_loss(out, DATA.captions[:, 1:], penalty=1.0).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in soft.parameters())
    baseline = MovingAverageBaseline()
    out = hard.train()(DATA.images, DATA.captions[:, :-1])
    caption_loss(out, DATA.captions[:, 1:], baseline=baseline, entropy_weight=0.01).backward()
    assert baseline.started
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in hard.attention_parameters())


def test_score_function_variance_falls_with_the_baseline():
    net = _net("hard")
    with torch.no_grad():
        out = net.train()(DATA.images, DATA.captions[:, :-1])
        nll = F.cross_entropy(out.logits.transpose(1, 2), DATA.captions[:, 1:], reduction="none")
    reward = -nll.flip(1).cumsum(1).flip(1).mean(0)  # (6,), the mean reward to go per step
    torch.manual_seed(0)
    mean0, var0 = score_function_variance(net, DATA.images, DATA.captions, 0.0, 8)
    torch.manual_seed(0)
    mean1, var1 = score_function_variance(net, DATA.images, DATA.captions, reward, 8)
    assert mean0.shape == mean1.shape and math.isfinite(var0)
    assert var1 < var0 / 10
    assert net.training


def test_soft_mix_uses_the_soft_context_on_some_steps_and_drops_their_reinforce_terms():
    torch.manual_seed(0)
    net = _net("hard", soft_mix=0.5).train()
    out = net(DATA.images, DATA.captions[:, :-1])
    zero = out.log_prob_cells == 0
    assert 0.3 < zero.float().mean() < 0.7, "about half of the steps are soft"
    net.soft_mix = 1.0
    soft = _net("soft")
    soft.load_state_dict(net.state_dict())
    torch.testing.assert_close(net(DATA.images, DATA.captions[:, :-1]).logits,
                               soft(DATA.images, DATA.captions[:, :-1]).logits)


def test_caption_images_shapes_and_mode_restored():
    net = _net("soft").train()
    tokens, weights = caption_images(net, DATA.images, BOS, 6)
    assert tokens.shape == (16, 6) and tokens.dtype == torch.long
    torch.testing.assert_close(weights.sum(-1), torch.ones(16, 6))
    assert net.training


def test_soft_attention_learns_a_few_captions():
    data = scene_data(32, seed=0)
    net = _net("soft", num_hiddens=16)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-2)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        loss = caption_loss(net(data.images, data.captions[:, :-1]), data.captions[:, 1:])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 3
