"""Does attention explain? Rollout, agreement with the truth, randomisation and adversaries.

Sources:
    S. Abnar, W. Zuidema, "Quantifying attention flow in Transformers", ACL 2020,
    arXiv:2005.00928 (attention rollout).
    J. Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018, arXiv:1810.03292.
    S. Jain, B. C. Wallace, "Attention is not explanation", NAACL 2019, arXiv:1902.10186;
    S. Wiegreffe, Y. Pinter, "Attention is not not explanation", EMNLP 2019, arXiv:1908.04626.

Every function takes plain tensors or a callable, so the same measurement runs on any model of
the book. Gradient attributions and the deletion curve that tests any map are in
:mod:`attention_utils.attribution`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .checks import require_int, require_positive_int, require_probability, require_real

__all__ = [
    "adversarial_attention",
    "attention_rollout",
    "js_divergence",
    "map_agreement",
    "randomized_copy",
    "rank_correlation",
]


def _require_rows_sum_to_one(name: str, weights: torch.Tensor, atol: float = 1e-4) -> None:
    sums = weights.sum(-1)
    if weights.numel() and not torch.allclose(sums, torch.ones_like(sums), atol=atol):
        worst = (sums - 1).abs().max().item()
        raise ValueError(f"every row of {name} must sum to 1 (off by up to {worst:.3g})")
    if weights.numel() and weights.min() < 0:
        raise ValueError(f"{name} must be non-negative")


def attention_rollout(attentions: Sequence[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout: how much each output token draws on each input token through all layers.

    For layer l with weights A_l of shape ``(batch_size, num_heads, n, n)``: average the heads,
    add the residual path, ``Â_l = residual * I + (1 - residual) * mean_h A_l``, renormalise its
    rows (they already sum to 1 when A's do), and multiply from the first layer to the last,
    ``R = Â_L ... Â_2 Â_1``. Row i of R is a distribution over the input tokens.

    Args:
        attentions: a non-empty list of per-layer weights, each
            ``(batch_size, num_heads, num_tokens, num_tokens)`` with rows that sum to 1, first
            layer first (``TransformerEncoder.attention_weights``).
        residual: weight of the identity, in [0, 1); Abnar and Zuidema use 0.5.

    Returns:
        ``(batch_size, num_tokens, num_tokens)``, rows summing to 1.

    Raises:
        TypeError: if ``attentions`` is not a list or tuple of floating tensors, or ``residual``
            not a number.
        ValueError: if it is empty, a layer is not 4-D and square, the layers' shapes differ, a
            row does not sum to 1, or ``residual`` is outside [0, 1).

    Source: Abnar and Zuidema 2020, arXiv:2005.00928, sec. 3.
    """
    if not isinstance(attentions, (list, tuple)):
        raise TypeError(f"attentions must be a list of tensors, got {type(attentions).__name__}")
    if not attentions:
        raise ValueError("attentions must hold at least one layer")
    residual = require_probability("residual", residual)
    for layer, weights in enumerate(attentions):
        if not isinstance(weights, torch.Tensor) or not weights.is_floating_point():
            raise TypeError(f"attentions[{layer}] must be a floating-point tensor")
        if weights.dim() != 4 or weights.shape[-1] != weights.shape[-2]:
            raise ValueError(
                f"attentions[{layer}] must have shape (batch_size, num_heads, num_tokens, "
                f"num_tokens), got {tuple(weights.shape)}"
            )
        first = attentions[0].shape
        if weights.shape[0] != first[0] or weights.shape[-1] != first[-1]:
            raise ValueError(
                f"attentions[{layer}] has shape {tuple(weights.shape)}, which does not match "
                f"attentions[0] {tuple(attentions[0].shape)} in batch_size and num_tokens"
            )
        _require_rows_sum_to_one(f"attentions[{layer}]", weights)
    n = attentions[0].shape[-1]
    eye = torch.eye(n, dtype=attentions[0].dtype, device=attentions[0].device)  # (n, n)
    rollout = None
    for weights in attentions:
        mixed = residual * eye + (1 - residual) * weights.mean(1)  # (batch_size, n, n)
        mixed = mixed / mixed.sum(-1, keepdim=True)
        rollout = mixed if rollout is None else mixed @ rollout  # (batch_size, n, n)
    return rollout


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence ``(KL(p || m) + KL(q || m)) / 2`` with ``m = (p + q) / 2``.

    In nats, between 0 (equal) and ln 2 (disjoint supports), over the last dimension.

    Args:
        p, q: distributions of the same shape ``(..., n)``, rows summing to 1.

    Returns:
        ``(...)``.

    Raises:
        TypeError: if an argument is not a floating tensor.
        ValueError: if the shapes differ or a row does not sum to 1.
    """
    for name, value in (("p", p), ("q", q)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor")
        _require_rows_sum_to_one(name, value)
    if p.shape != q.shape:
        raise ValueError(f"q must have the shape of p {tuple(p.shape)}, got {tuple(q.shape)}")
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:
        return torch.where(a > 0, a * (a.clamp_min(1e-30).log() - m.clamp_min(1e-30).log()), 0.0)

    return (kl(p) + kl(q)).sum(-1) / 2


def map_agreement(weights: torch.Tensor, true_index: torch.Tensor) -> tuple[float, float]:
    """How well maps agree with where the thing really is: mass on it, and pointing accuracy.

    Args:
        weights: ``(..., n)``, rows summing to 1 (one map per row).
        true_index: ``(...)`` long, the true position of each row's object; rows with -1 are
            skipped (words that name no object).

    Returns:
        ``(mass, pointing)``: the mean weight on the true position, and the fraction of rows
        whose largest weight is there (chance: 1 / n for both under uniform maps).

    Raises:
        TypeError / ValueError: for wrong types, shapes that do not match, or no row to score.
    """
    if not isinstance(weights, torch.Tensor) or not weights.is_floating_point():
        raise TypeError("weights must be a floating-point tensor")
    if not isinstance(true_index, torch.Tensor) or true_index.dtype != torch.long:
        raise TypeError("true_index must be a long tensor")
    if true_index.shape != weights.shape[:-1]:
        raise ValueError(
            f"true_index must have shape {tuple(weights.shape[:-1])}, got {tuple(true_index.shape)}"
        )
    keep = true_index >= 0
    if not keep.any():
        raise ValueError("true_index marks no row to score (all -1)")
    if (true_index >= weights.shape[-1]).any():
        raise ValueError(f"true_index must lie in [-1, {weights.shape[-1]})")
    rows, index = weights[keep], true_index[keep]  # (k, n), (k,)
    mass = rows.gather(-1, index[:, None]).mean().item()
    pointing = (rows.argmax(-1) == index).float().mean().item()
    return mass, pointing


def _mid_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks along the last dimension, tied entries sharing the mean of their ranks."""
    less = (x[..., None, :] < x[..., :, None]).sum(-1)  # (..., n): entries below each one
    equal = (x[..., None, :] == x[..., :, None]).sum(-1)  # (..., n): itself and its ties
    return less.double() + (equal.double() - 1) / 2


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman's rank correlation of ``a`` and ``b`` along the last dimension, ``(...)``.

    The Pearson correlation of the ranks, tied entries getting the mean of their ranks: 1 for the
    same order, -1 for the reverse, about 0 for unrelated maps; 0 where a row is constant.

    Raises:
        TypeError / ValueError: for non-tensors, different shapes or fewer than 2 entries.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, got {type(value).__name__}")
    if a.shape != b.shape or a.dim() == 0 or a.shape[-1] < 2:
        raise ValueError(
            f"a and b must have the same shape with at least 2 entries in the last dimension, got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    ra, rb = _mid_ranks(a.detach()), _mid_ranks(b.detach())
    ra, rb = ra - ra.mean(-1, keepdim=True), rb - rb.mean(-1, keepdim=True)
    norm = ra.norm(dim=-1) * rb.norm(dim=-1)
    return torch.where(norm > 0, (ra * rb).sum(-1) / norm.clamp_min(1e-300), 0.0)


def randomized_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """A deep copy of ``model`` with every parameter re-drawn: the model-randomisation check.

    Each submodule with ``reset_parameters`` is reset (PyTorch's own initialisation); any other
    parameter is redrawn from N(0, 0.1^2). The global random state is restored afterwards.

    Args:
        model: any module; left unchanged.
        seed: seed of the redraw.

    Returns:
        The randomised copy, in the mode of ``model``.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module`` or ``seed`` not an int.

    Source: Adebayo et al. 2018, arXiv:1810.03292, sec. 3 (model parameter randomisation).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seed = require_int("seed", seed)
    clone = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        reset = set()
        for module in clone.modules():
            if hasattr(module, "reset_parameters") and module is not clone:
                module.reset_parameters()
                reset.update(id(p) for p in module.parameters(recurse=False))
        with torch.no_grad():
            for parameter in clone.parameters():
                if id(parameter) not in reset:
                    parameter.normal_(0.0, 0.1)
    return clone


def adversarial_attention(
    decode: Callable[[torch.Tensor], torch.Tensor],
    weights: torch.Tensor,
    epsilon: float = 0.01,
    steps: int = 200,
    lr: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Jain and Wallace's search: weights far from the model's that leave its output unchanged.

    Maximises ``JSD(weights', weights)`` over distributions ``weights' = softmax(z)`` subject to
    ``TVD(decode(weights'), decode(weights)) <= epsilon`` (total variation distance between the
    output distributions), by Adam on ``-JSD + 100 * relu(TVD - epsilon)``; for each example it
    keeps the feasible iterate with the largest JSD (the model's own weights if none is).

    Args:
        decode: ``weights (batch_size, n) -> probabilities (batch_size, num_classes)``, the model
            with its attention replaced by the given weights and everything else fixed.
        weights: ``(batch_size, n)``, the model's own weights, rows summing to 1.
        epsilon: the largest change of the output allowed, > 0.
        steps: optimisation steps, >= 1.
        lr: Adam's learning rate, > 0.

    Returns:
        ``(adversarial, js, tvd)``: ``(batch_size, n)`` weights, their JSD from ``weights`` and
        the TVD of the output, each ``(batch_size,)``.

    Raises:
        TypeError / ValueError: for a ``decode`` that is not callable, weights that are not
            distributions, or a non-positive ``epsilon``, ``steps`` or ``lr``.

    Source: Jain and Wallace 2019, arXiv:1902.10186, sec. 4.2 (adversarial attention).
    """
    if not callable(decode):
        raise TypeError(f"decode must be callable, got {type(decode).__name__}")
    if not isinstance(weights, torch.Tensor) or not weights.is_floating_point():
        raise TypeError("weights must be a floating-point tensor")
    if weights.dim() != 2:
        raise ValueError(f"weights must have shape (batch_size, n), got {tuple(weights.shape)}")
    _require_rows_sum_to_one("weights", weights)
    epsilon = require_real("epsilon", epsilon)
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    steps = require_positive_int("steps", steps)
    lr = require_real("lr", lr)
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    weights = weights.detach()
    with torch.no_grad():
        reference = decode(weights)  # (batch_size, num_classes)
    z = (weights.clamp_min(1e-6).log() + 0.5 * torch.randn_like(weights)).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    best = weights.clone()
    best_js = torch.zeros(weights.shape[0], dtype=weights.dtype, device=weights.device)
    for _ in range(steps):
        candidate = torch.softmax(z, -1)  # (batch_size, n)
        tvd = (decode(candidate) - reference).abs().sum(-1) / 2  # (batch_size,)
        js = js_divergence(candidate, weights)  # (batch_size,)
        with torch.no_grad():
            better = (tvd <= epsilon) & (js > best_js)
            best[better], best_js[better] = candidate[better], js[better]
        loss = (-js + 100 * torch.relu(tvd - epsilon)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        tvd = (decode(best) - reference).abs().sum(-1) / 2
    return best, best_js, tvd
