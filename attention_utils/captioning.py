"""Show, attend and tell: a captioner with soft, hard (REINFORCE) or frozen uniform attention.

Source: K. Xu, J. Ba, R. Kiros, K. Cho, A. Courville, R. Salakhutdinov, R. Zemel, Y. Bengio,
"Show, attend and tell: neural image caption generation with visual attention", ICML 2015,
arXiv:1502.03044. Hard attention's gradient is the score-function (REINFORCE) estimator of
R. J. Williams, "Simple statistical gradient-following algorithms for connectionist reinforcement
learning", Machine Learning 8, 1992, with the paper's moving-average baseline (sec. 4.1).

A small CNN (one patch per cell) turns an image into ``num_cells`` annotation vectors a_i, each
with a learned embedding of its cell added. At step t an LSTM decoder with state
h_{t-1} scores every cell, ``e_ti = w^T tanh(W_a a_i + W_h h_{t-1})`` (the paper's f_att), and
turns the scores into weights alpha_t = softmax(e_t) through the library's core
(:func:`attention_utils.scoring.attention_pool`). The context z_t is then

- ``"soft"``: the expectation sum_i alpha_ti a_i (deterministic, trained by backpropagation);
- ``"hard"``: one cell s_t ~ Categorical(alpha_t), z_t = a_{s_t} (in eval mode: the arg max);
  no gradient flows through the sample, so the scorer learns from the score-function estimator
  ``(log p(y | s) - b) grad log p(s)``;
- ``"uniform"``: weights frozen at 1 / num_cells, z_t the mean of the grid at every step: the
  decoder without attention (a global image vector, as in Show and tell), and Wiegreffe and
  Pinter's frozen-uniform baseline (arXiv:1908.04626).

The word distribution is p(y_t) = softmax(L_o [h_t, z_t, E y_{t-1}]) (the paper's deep output,
one layer here; the paper's gating scalar beta is left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .checks import require_choice, require_int, require_positive_int, require_real
from .reinforce import MovingAverageBaseline, reinforce_surrogate
from .scoring import attention_pool

__all__ = [
    "CaptionOutput",
    "ShowAttendTell",
    "caption_images",
    "caption_loss",
    "doubly_stochastic_penalty",
    "score_function_variance",
]

ATTENTION_KINDS = ("soft", "hard", "uniform")


@dataclass
class CaptionOutput:
    """What :class:`ShowAttendTell` returns for teacher-forced captions.

    Attributes:
        logits: ``(batch_size, num_steps, vocab_size)``.
        weights: ``(batch_size, num_steps, num_cells)``, the attention map of every word, in the
            autograd graph (for the doubly stochastic penalty).
        log_prob_cells: ``(batch_size, num_steps)``, log alpha_t[s_t] of the cells sampled by
            hard attention, in the graph; None for soft and uniform attention.
    """

    logits: torch.Tensor
    weights: torch.Tensor
    log_prob_cells: torch.Tensor | None = None


class ShowAttendTell(nn.Module):
    """CNN encoder to a grid of cells, LSTM decoder with attention over the grid.

    Args:
        vocab_size: number of words.
        attention: ``"soft"``, ``"hard"`` or ``"uniform"`` (see the module docstring).
        num_channels: width of the annotation vectors a_i.
        embed_size: width of the word embeddings.
        num_hiddens: width of the LSTM state.
        image_size: side of the square RGB input, divisible by ``patch_size``.
        patch_size: side of a cell: the encoder is a convolution with kernel and stride
            ``patch_size`` (one feature vector per cell, as in a ViT's patch embedding) and a
            1 x 1 convolution, so the grid has ``(image_size // patch_size) ** 2`` cells and each
            annotation vector sees its own cell only.
        soft_mix: hard attention in training only: the probability that a step uses the soft
            context instead of a sample (Xu et al. use 0.5, sec. 4.1); such a step adds no
            REINFORCE term (its ``log_prob_cells`` entry is 0).

    Shapes: ``forward(images (batch_size, 3, image_size, image_size), tokens (batch_size,
    num_steps))`` -> :class:`CaptionOutput`; ``tokens`` are the decoder inputs (``<bos>`` first).
    After each forward ``self.attention_weights`` holds the weights, detached.

    Raises:
        TypeError / ValueError: for a size that is not a positive int, an ``attention`` that is
            not one of the three, or an ``image_size`` not divisible by ``patch_size``.
    """

    def __init__(
        self,
        vocab_size: int,
        attention: str = "soft",
        num_channels: int = 32,
        embed_size: int = 16,
        num_hiddens: int = 64,
        image_size: int = 24,
        patch_size: int = 8,
        soft_mix: float = 0.0,
    ) -> None:
        super().__init__()
        self.attention = require_choice("attention", attention, ATTENTION_KINDS)
        for name, value in (("vocab_size", vocab_size), ("num_channels", num_channels),
                            ("embed_size", embed_size), ("num_hiddens", num_hiddens),
                            ("image_size", image_size), ("patch_size", patch_size)):
            require_positive_int(name, value)
        if image_size % patch_size:
            raise ValueError(f"image_size must be divisible by patch_size {patch_size}")
        if not 0 <= require_real("soft_mix", soft_mix) <= 1:
            raise ValueError(f"soft_mix must lie in [0, 1], got {soft_mix}")
        self.soft_mix = float(soft_mix)
        self.image_size, self.num_cells = image_size, (image_size // patch_size) ** 2
        self.encoder = nn.Sequential(  # one patch per cell, then a 1 x 1 convolution
            nn.Conv2d(3, 64, patch_size, stride=patch_size), nn.ReLU(),
            nn.Conv2d(64, num_channels, 1), nn.ReLU(),
        )
        self.cell_embedding = nn.Parameter(0.1 * torch.randn(self.num_cells, num_channels))
        self.init_state = nn.Linear(num_channels, 2 * num_hiddens)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.W_a = nn.Linear(num_channels, num_hiddens, bias=False)  # f_att, annotation part
        self.W_h = nn.Linear(num_hiddens, num_hiddens)  # f_att, state part
        self.w = nn.Linear(num_hiddens, 1, bias=False)
        self.rnn = nn.LSTMCell(embed_size + num_channels, num_hiddens)
        self.output = nn.Linear(num_hiddens + num_channels + embed_size, vocab_size)
        self.attention_weights: torch.Tensor | None = None

    def attention_parameters(self) -> list[nn.Parameter]:
        """The scorer's parameters (W_a, W_h, w): what only the attention's gradient reaches."""
        return [*self.W_a.parameters(), *self.W_h.parameters(), *self.w.parameters()]

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(batch_size, 3, s, s)`` -> annotation vectors ``(batch_size, num_cells, c)``."""
        if not isinstance(images, torch.Tensor) or not images.is_floating_point():
            raise TypeError("images must be a floating-point tensor")
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, self.image_size, self.image_size):
            raise ValueError(
                f"images must have shape (batch_size, 3, {self.image_size}, {self.image_size}), "
                f"got {tuple(images.shape)}"
            )
        grid = self.encoder(images)  # (batch_size, c, s / 8, s / 8)
        return grid.flatten(2).transpose(1, 2) + self.cell_embedding  # (batch_size, cells, c)

    def begin_state(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h_0, c_0 from the mean annotation vector (the paper's sec. 3.1.2), each ``(b, h)``."""
        return torch.tanh(self.init_state(features.mean(1))).chunk(2, dim=-1)

    def step(self, token: torch.Tensor, features: torch.Tensor, state: tuple, cell=None) -> tuple:
        """One word: ``(logits (b, vocab), weights (b, cells), cell (b,), new state)``.

        ``cell`` forces hard attention's choice (None: sample in training, arg max in eval).
        """
        h, c = state  # (batch_size, num_hiddens) each
        if self.attention == "uniform":
            scores = features.new_zeros(features.shape[0], 1, features.shape[1])  # (b, 1, cells)
        else:
            hidden = torch.tanh(self.W_a(features) + self.W_h(h)[:, None])  # (b, cells, h)
            scores = self.w(hidden).transpose(1, 2)  # (batch_size, 1, num_cells)
        context, weights = attention_pool(scores, features)  # (b, 1, c), (b, 1, cells)
        context, weights = context[:, 0], weights[:, 0]  # (b, c), (b, cells)
        if self.attention == "hard":
            if cell is None:
                cell = (torch.multinomial(weights.detach(), 1)[:, 0] if self.training
                        else weights.argmax(-1))  # (batch_size,)
            hard = features[torch.arange(features.shape[0]), cell]  # (batch_size, c)
            if self.training and self.soft_mix:
                mixed = torch.rand(cell.shape, device=cell.device) < self.soft_mix  # (b,)
                hard = torch.where(mixed[:, None], context, hard)
                cell = torch.where(mixed, -1, cell)  # -1: no sample at this step
            context = hard
        embedded = self.embedding(token)  # (batch_size, embed_size)
        h, c = self.rnn(torch.cat([embedded, context], -1), (h, c))
        logits = self.output(torch.cat([h, context, embedded], -1))  # (batch_size, vocab)
        if cell is None:
            cell = weights.detach().argmax(-1)
        return logits, weights, cell, (h, c)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> CaptionOutput:
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.long or tokens.dim() != 2:
            raise TypeError("tokens must be a long tensor of shape (batch_size, num_steps)")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.embedding.num_embeddings):
            raise ValueError(f"tokens must lie in [0, {self.embedding.num_embeddings})")
        features = self.encode(images)  # (batch_size, num_cells, c)
        if tokens.shape[0] != features.shape[0]:
            raise ValueError(f"tokens must have batch_size {features.shape[0]} rows")
        state = self.begin_state(features)
        all_logits, all_weights, log_prob = [], [], []
        for t in range(tokens.shape[1]):
            logits, weights, cell, state = self.step(tokens[:, t], features, state)
            all_logits.append(logits)
            all_weights.append(weights)
            if self.attention == "hard":
                picked = weights[torch.arange(weights.shape[0]), cell.clamp_min(0)]  # (b,)
                log_p = picked.clamp_min(torch.finfo(picked.dtype).tiny).log()
                log_prob.append(torch.where(cell >= 0, log_p, 0.0))
        weights = torch.stack(all_weights, 1)  # (batch_size, num_steps, num_cells)
        self.attention_weights = weights.detach()
        return CaptionOutput(torch.stack(all_logits, 1), weights,
                             torch.stack(log_prob, 1) if self.attention == "hard" else None)


def doubly_stochastic_penalty(weights: torch.Tensor) -> torch.Tensor:
    """Xu et al.'s regulariser ``sum_i (1 - sum_t alpha_ti)^2``, averaged over the batch.

    Each word's weights sum to 1 over the cells; the penalty asks every cell to receive about
    one unit of attention over the whole caption, so that no part of the image is ignored.

    Args:
        weights: ``(batch_size, num_steps, num_cells)``.

    Returns:
        A scalar tensor.

    Raises:
        TypeError / ValueError: if ``weights`` is not a floating-point tensor / not 3-D.

    Source: Xu et al. 2015, arXiv:1502.03044, eq. (14).
    """
    if not isinstance(weights, torch.Tensor) or not weights.is_floating_point():
        raise TypeError("weights must be a floating-point tensor")
    if weights.dim() != 3:
        raise ValueError(f"weights must be (batch_size, num_steps, num_cells), got {weights.shape}")
    return ((1 - weights.sum(1)) ** 2).sum(-1).mean()


def caption_loss(output: CaptionOutput, targets: torch.Tensor, penalty: float = 0.0,
                 baseline: MovingAverageBaseline | None = None,
                 entropy_weight: float = 0.0) -> torch.Tensor:
    """Cross-entropy of the words, plus the doubly stochastic penalty, plus REINFORCE for hard.

    For hard attention the reward of the cell chosen at step t is the log-likelihood of the words
    from t on (the reward to go: a choice cannot change the words before it, so leaving them out
    keeps the estimate unbiased and lowers its variance); the loss adds
    :func:`reinforce_surrogate` with the moving-average ``baseline`` (0 if None) and subtracts
    ``entropy_weight`` times the mean entropy of the weights (the paper's lambda_e).

    Args:
        output: from :class:`ShowAttendTell`.
        targets: ``(batch_size, num_steps)`` long, the words to predict.
        penalty: lambda of :func:`doubly_stochastic_penalty`, >= 0.
        baseline: a :class:`MovingAverageBaseline` (updated here), or None.
        entropy_weight: >= 0.

    Returns:
        A scalar tensor.

    Raises:
        TypeError / ValueError: for a wrong ``output`` or ``targets``, or a negative weight.
    """
    if not isinstance(output, CaptionOutput):
        raise TypeError(f"output must be a CaptionOutput, got {type(output).__name__}")
    if not isinstance(targets, torch.Tensor) or targets.dtype != torch.long:
        raise TypeError("targets must be a long tensor")
    if targets.shape != output.logits.shape[:2]:
        raise ValueError(f"targets must have shape {tuple(output.logits.shape[:2])}")
    for name, value in (("penalty", penalty), ("entropy_weight", entropy_weight)):
        if require_real(name, value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    nll = F.cross_entropy(output.logits.transpose(1, 2), targets, reduction="none")  # (b, steps)
    loss = nll.mean()
    if penalty:
        loss = loss + penalty * doubly_stochastic_penalty(output.weights)
    if output.log_prob_cells is not None:
        to_go = -nll.flip(1).cumsum(1).flip(1)  # (batch_size, num_steps), reward to go
        b = baseline.update(to_go) if baseline is not None else 0.0
        loss = loss + reinforce_surrogate(output.log_prob_cells, to_go, b)
        if entropy_weight:
            w = output.weights
            entropy = -(w * w.clamp_min(torch.finfo(w.dtype).tiny).log()).sum(-1).mean()
            loss = loss - entropy_weight * entropy
    return loss


@torch.no_grad()
def caption_images(net: ShowAttendTell, images: torch.Tensor, bos: int, num_steps: int) -> tuple:
    """Greedy captions and the map of every generated word (hard attention: the arg max cell).

    Args:
        net: a :class:`ShowAttendTell`; evaluated in eval mode, its mode restored.
        images: ``(batch_size, 3, s, s)``.
        bos: the token that starts every caption.
        num_steps: how many words to generate, >= 1.

    Returns:
        ``(tokens, weights)``: ``(batch_size, num_steps)`` long and
        ``(batch_size, num_steps, num_cells)``.

    Raises:
        TypeError / ValueError: for a wrong ``net``, ``bos`` outside the vocabulary or a
            ``num_steps`` that is not a positive int.
    """
    if not isinstance(net, ShowAttendTell):
        raise TypeError(f"net must be a ShowAttendTell, got {type(net).__name__}")
    bos = require_int("bos", bos, minimum=0)
    if bos >= net.embedding.num_embeddings:
        raise ValueError(f"bos must lie in [0, {net.embedding.num_embeddings}), got {bos}")
    num_steps = require_positive_int("num_steps", num_steps)
    was_training = net.training
    net.eval()
    features = net.encode(images)  # (batch_size, num_cells, c)
    state = net.begin_state(features)
    token = torch.full((features.shape[0],), bos, dtype=torch.long, device=features.device)
    tokens, maps = [], []
    for _ in range(num_steps):
        logits, weights, _, state = net.step(token, features, state)
        token = logits.argmax(-1)  # (batch_size,)
        tokens.append(token)
        maps.append(weights)
    net.train(was_training)
    return torch.stack(tokens, 1), torch.stack(maps, 1)


def score_function_variance(net: ShowAttendTell, images: torch.Tensor, captions: torch.Tensor,
                            baseline=0.0, num_samples: int = 50) -> tuple[torch.Tensor, float]:
    """Mean and total variance of the REINFORCE gradient on the scorer's parameters.

    Draws ``num_samples`` independent sets of cells for the same batch (``captions`` with
    ``<bos>`` first; the inputs are ``captions[:, :-1]``, the targets ``captions[:, 1:]``) and
    computes, each time, the gradient of :func:`reinforce_surrogate` with the given baseline on
    :meth:`ShowAttendTell.attention_parameters`. Any constant baseline leaves the mean unchanged;
    the variance is what it changes.

    Args:
        net: a :class:`ShowAttendTell` with ``attention="hard"``; its mode is restored.
        images: ``(batch_size, 3, s, s)``.
        captions: ``(batch_size, num_steps + 1)`` long.
        baseline: the constant b: a number, or ``(num_steps,)`` per step (rewards to go, as in
            :func:`caption_loss`).
        num_samples: >= 2.

    Returns:
        ``(mean, variance)``: the mean gradient, flattened, and the sum over coordinates of the
        sample variance (the trace of the covariance).

    Raises:
        TypeError / ValueError: if ``net`` is not a hard-attention captioner or
            ``num_samples < 2``.

    Source: Xu et al. 2015, arXiv:1502.03044, sec. 4.1 (the baseline "to reduce variance").
    """
    if not isinstance(net, ShowAttendTell):
        raise TypeError(f"net must be a ShowAttendTell, got {type(net).__name__}")
    if net.attention != "hard":
        raise ValueError(f"net must use hard attention, got attention={net.attention!r}")
    if not isinstance(baseline, torch.Tensor):
        baseline = require_real("baseline", baseline)
    num_samples = require_int("num_samples", num_samples, minimum=2)
    was_training, soft_mix = net.training, net.soft_mix
    net.train()
    net.soft_mix = 0.0  # every step samples: the pure score-function estimator
    params = net.attention_parameters()
    grads = []
    for _ in range(num_samples):
        out = net(images, captions[:, :-1])
        nll = F.cross_entropy(out.logits.transpose(1, 2), captions[:, 1:], reduction="none")
        to_go = -nll.flip(1).cumsum(1).flip(1)  # (batch_size, num_steps)
        surrogate = reinforce_surrogate(out.log_prob_cells, to_go, baseline)
        grads.append(torch.cat([g.flatten() for g in torch.autograd.grad(surrogate, params)]))
    net.train(was_training)
    net.soft_mix = soft_mix
    stacked = torch.stack(grads)  # (num_samples, num_parameters)
    return stacked.mean(0), float(stacked.var(0).sum())
