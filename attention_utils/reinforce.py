"""The score-function (REINFORCE) estimator and its moving-average baseline, for hard attention.

Sources: R. J. Williams, "Simple statistical gradient-following algorithms for connectionist
reinforcement learning", Machine Learning 8, 1992 (the estimator); K. Xu et al., "Show, attend
and tell", ICML 2015, arXiv:1502.03044, sec. 4.1 (its use for hard attention, with a
moving-average baseline).

A sample s ~ p_theta has no gradient with respect to theta, but the expectation of a reward does:
``grad E[f(s)] = E[f(s) grad log p_theta(s)]``. :func:`reinforce_surrogate` turns that identity
into a loss; :class:`MovingAverageBaseline` is the baseline that lowers its variance.
"""

from __future__ import annotations

import torch

from .checks import require_real

__all__ = ["MovingAverageBaseline", "reinforce_surrogate"]


def reinforce_surrogate(log_prob: torch.Tensor, reward: torch.Tensor, baseline=0.0):
    """A loss whose gradient is the score-function (REINFORCE) estimate of ``-grad E[reward]``.

    ``-mean((reward - baseline) * log_prob)`` with the reward detached: for samples s_b of
    p_theta, its gradient ``-mean_b (f(s_b) - b) grad log p_theta(s_b)`` is an unbiased estimate
    of ``-grad_theta E[f(s)]`` for any b that does not depend on the sample (since
    ``E[grad log p] = 0``); a b close to ``E[f]`` lowers its variance.

    Args:
        log_prob: ``(batch_size, ...)``, log p_theta(s) of each sample (per step), in the graph.
        reward: the same shape, f(s) (detached here).
        baseline: the constant b, a number or a tensor that broadcasts to ``reward``.

    Returns:
        A scalar tensor.

    Raises:
        TypeError / ValueError: for a non-floating tensor / shapes that differ; for a
            ``baseline`` that is not a finite real number.

    Source: Williams 1992; Xu et al. 2015, arXiv:1502.03044, eq. (10)-(12).
    """
    for name, value in (("log_prob", log_prob), ("reward", reward)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor")
    if log_prob.shape != reward.shape:
        raise ValueError(f"reward must have the shape of log_prob {tuple(log_prob.shape)}")
    if isinstance(baseline, torch.Tensor):
        try:
            fits = torch.broadcast_shapes(baseline.shape, reward.shape) == reward.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"baseline must broadcast to reward's shape {tuple(reward.shape)}")
        baseline = baseline.detach()
    else:
        baseline = require_real("baseline", baseline)
    return -((reward.detach() - baseline) * log_prob).mean()


class MovingAverageBaseline:
    """The baseline ``b <- decay * b + (1 - decay) * mean(reward)`` (Xu et al. 2015, sec. 4.1).

    ``decay`` lies in [0, 1); the mean is over the batch (dimension 0), so rewards of shape
    ``(batch_size, num_steps)`` get one baseline per step. The first update sets b to the first
    mean reward; ``value`` is b (0.0 before any update, then a tensor).
    """

    def __init__(self, decay: float = 0.9) -> None:
        decay = require_real("decay", decay)
        if not 0 <= decay < 1:
            raise ValueError(f"decay must lie in [0, 1), got {decay}")
        self.decay, self.value, self.started = decay, 0.0, False

    def update(self, reward: torch.Tensor):
        """Fold in a batch of rewards; returns the value before the update (the one to use)."""
        before, mean = self.value, reward.detach().mean(0)
        self.value = mean if not self.started else self.decay * before + (1 - self.decay) * mean
        self.started = True
        return before
