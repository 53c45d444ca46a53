"""Captum's saliency and integrated gradients against hand computations; the deletion curve."""

import pytest
import torch
from torch import nn

from attention_utils import deletion_curve, integrated_gradients, random_ranking, saliency


def _tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()


def test_saliency_is_the_absolute_gradient_computed_by_hand():
    net = _tiny_model()
    x = torch.randn(5, 4, dtype=torch.float64)
    W1, b1, W2 = net[0].weight, net[0].bias, net[2].weight  # (3, 4), (3,), (2, 3)
    target = torch.tensor([0, 1, 1, 0, 1])
    # d/dx W2[t] . tanh(W1 x + b1) = (W2[t] * (1 - tanh^2)) W1
    hidden = torch.tanh(x @ W1.T + b1)  # (5, 3)
    by_hand = (W2[target] * (1 - hidden**2)) @ W1  # (5, 4)
    torch.testing.assert_close(saliency(net, x, target), by_hand.abs().detach())
    torch.testing.assert_close(saliency(net, x, target, abs=False), by_hand.detach())


def test_integrated_gradients_of_a_linear_model_is_input_times_weight():
    torch.manual_seed(0)
    net = nn.Linear(4, 2).double()
    x, baseline = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    attributions = integrated_gradients(net, x, 1, baselines=baseline, n_steps=4)
    torch.testing.assert_close(attributions, ((x - baseline) * net.weight[1]).detach())


def test_integrated_gradients_is_complete_on_a_nonlinear_model():
    net = _tiny_model()
    x = torch.randn(5, 4, dtype=torch.float64)
    attributions = integrated_gradients(net, x, 0, n_steps=64)  # baseline: zeros
    gap = net(x)[:, 0] - net(torch.zeros_like(x))[:, 0]
    torch.testing.assert_close(attributions.sum(-1), gap.detach(), atol=1e-6, rtol=1e-6)


def test_deletion_curve_by_hand():
    w = torch.tensor([[3.0, 1.0, 2.0]])

    def predict(keep):  # the prediction is the sum of the kept inputs' weights
        return (w * keep).sum(-1)

    best = torch.tensor([[0, 2, 1]])
    curve = deletion_curve(predict, best, num_deleted=3)
    torch.testing.assert_close(curve[:, 0], torch.tensor([6.0, 3.0, 1.0, 0.0]))
    worst = deletion_curve(predict, torch.tensor([[1, 2, 0]]), num_deleted=2)
    torch.testing.assert_close(worst[:, 0], torch.tensor([6.0, 5.0, 3.0]))


def test_random_ranking_is_a_seeded_permutation():
    a = random_ranking(4, 6, torch.Generator().manual_seed(0))
    b = random_ranking(4, 6, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert torch.equal(a.sort(-1).values, torch.arange(6).expand(4, 6))


@pytest.mark.parametrize("method", [saliency, integrated_gradients])
def test_attributions_keep_the_input_shape(method):
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    x = torch.randn(2, 3, 4)
    assert method(net, x, 0).shape == (2, 3, 4)
