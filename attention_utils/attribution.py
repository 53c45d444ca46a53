"""Gradient attributions through Captum, and the deletion curve that tests any map.

Sources:
    K. Simonyan, A. Vedaldi, A. Zisserman, "Deep inside convolutional networks", ICLR workshop
    2014, arXiv:1312.6034 (saliency); M. Sundararajan, A. Taly, Q. Yan, "Axiomatic attribution for
    deep networks", ICML 2017, arXiv:1703.01365 (integrated gradients); both computed by Captum
    (N. Kokhlikyan et al., "Captum: a unified and generic model interpretability library for
    PyTorch", 2020, arXiv:2009.07896).
    W. Samek et al., "Evaluating the visualization of what a deep neural network has learned",
    IEEE TNNLS 2017, arXiv:1509.06321 (deletion of the most relevant inputs first).

A map (attention, rollout, an attribution) ranks the inputs; :func:`deletion_curve` deletes them
in that order and the model's own prediction says whether the ranking was faithful, against the
control of :func:`random_ranking`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .checks import require_int, require_positive_int

__all__ = [
    "deletion_curve",
    "integrated_gradients",
    "random_ranking",
    "saliency",
]


def random_ranking(
    batch_size: int, num_features: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A random ranking per example, the control of a deletion curve: ``(batch_size, n)`` long.

    Raises:
        TypeError / ValueError: if a size is not a positive int.
    """
    batch_size = require_positive_int("batch_size", batch_size)
    num_features = require_positive_int("num_features", num_features)
    return torch.rand(batch_size, num_features, generator=generator).argsort(-1)


def deletion_curve(
    predict: Callable[[torch.Tensor], torch.Tensor], ranking: torch.Tensor, num_deleted: int
) -> torch.Tensor:
    """The prediction as the inputs a ranking puts first are deleted, one by one.

    Step k (0 to ``num_deleted``) deletes the first k inputs of each example's ranking and calls
    ``predict(keep)`` with ``keep`` a bool tensor ``(batch_size, num_features)`` (True = input
    kept); ``predict`` deletes the others its own way (a blank image cell, a zero embedding) and
    returns, per example, the quantity to watch, e.g. the probability of the class predicted on
    the full input. A faithful ranking makes the curve fall faster than a random one.

    Args:
        predict: ``keep (batch_size, num_features) -> (batch_size,)``.
        ranking: ``(batch_size, num_features)`` long, a permutation per row, most important first.
        num_deleted: how many steps, 0 to ``num_features``.

    Returns:
        ``(num_deleted + 1, batch_size)``: row k is the prediction with k inputs deleted.

    Raises:
        TypeError: if ``predict`` is not callable or ``ranking`` not a long tensor.
        ValueError: if a row of ``ranking`` is not a permutation, ``num_deleted`` is out of range,
            or ``predict`` returns another shape.

    Source: Samek et al. 2017, arXiv:1509.06321 (the "most relevant first" deletion curve).
    """
    if not callable(predict):
        raise TypeError(f"predict must be callable, got {type(predict).__name__}")
    if not isinstance(ranking, torch.Tensor) or ranking.dtype != torch.long or ranking.dim() != 2:
        raise TypeError("ranking must be a long tensor of shape (batch_size, num_features)")
    batch_size, num_features = ranking.shape
    expected = torch.arange(num_features, device=ranking.device).expand_as(ranking)
    if not torch.equal(ranking.sort(-1).values, expected):
        raise ValueError("each row of ranking must be a permutation of 0 .. num_features - 1")
    num_deleted = require_int("num_deleted", num_deleted, minimum=0)
    if num_deleted > num_features:
        raise ValueError(f"num_deleted must be at most num_features = {num_features}")
    keep = torch.ones(batch_size, num_features, dtype=torch.bool, device=ranking.device)
    rows = torch.arange(batch_size, device=ranking.device)
    curve = []
    for k in range(num_deleted + 1):
        if k:
            keep[rows, ranking[:, k - 1]] = False
        value = predict(keep.clone())
        if not isinstance(value, torch.Tensor) or value.shape != (batch_size,):
            raise ValueError(f"predict must return a tensor of shape ({batch_size},)")
        curve.append(value.detach())
    return torch.stack(curve)  # (num_deleted + 1, batch_size)


def _captum_call(kind: str, forward: Callable, inputs: torch.Tensor, target: object, **kwargs):
    if not callable(forward):
        raise TypeError(f"forward must be callable, got {type(forward).__name__}")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        raise TypeError("inputs must be a floating-point tensor")
    if inputs.dim() < 2:
        raise ValueError(f"inputs must have shape (batch_size, ...), got {tuple(inputs.shape)}")
    if isinstance(target, torch.Tensor):
        if target.dtype != torch.long or target.shape != (inputs.shape[0],):
            raise ValueError(f"target must be a long tensor of shape ({inputs.shape[0]},)")
    else:
        target = require_int("target", target, minimum=0)
    from captum.attr import IntegratedGradients, Saliency  # imported on use: a slow import

    inputs = inputs.detach().clone().requires_grad_(True)  # Captum warns on a leaf without grad
    if kind == "saliency":
        return Saliency(forward).attribute(inputs, target=target, abs=kwargs["abs"])
    return IntegratedGradients(forward).attribute(
        inputs, baselines=kwargs["baselines"], target=target, n_steps=kwargs["n_steps"]
    )


def saliency(
    forward: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    target: int | torch.Tensor,
    abs: bool = True,
) -> torch.Tensor:
    """Saliency ``|d forward(inputs)[b, target_b] / d inputs[b]|``, computed by Captum.

    Args:
        forward: ``inputs -> (batch_size, num_classes)`` scores.
        inputs: ``(batch_size, ...)`` floating point (pixels, embeddings).
        target: the class whose score is differentiated: an int, or ``(batch_size,)`` long.
        abs: take the absolute value (Simonyan et al.'s map), as Captum does by default.

    Returns:
        The shape of ``inputs``.

    Raises:
        TypeError / ValueError: for a ``forward`` that is not callable, non-floating ``inputs``
            or a ``target`` of the wrong type or shape.

    Source: Simonyan et al. 2014, arXiv:1312.6034; Captum's ``Saliency``.
    """
    if not isinstance(abs, bool):
        raise TypeError(f"abs must be True or False, got {type(abs).__name__}")
    return _captum_call("saliency", forward, inputs, target, abs=abs)


def integrated_gradients(
    forward: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    target: int | torch.Tensor,
    baselines: torch.Tensor | None = None,
    n_steps: int = 32,
) -> torch.Tensor:
    """Integrated gradients ``(x - x') * integral_0^1 grad F(x' + a (x - x')) da``, by Captum.

    The attributions of an example sum to ``F(x) - F(x')`` (completeness), up to the error of
    Captum's Gauss-Legendre rule with ``n_steps`` points.

    Args:
        forward: ``inputs -> (batch_size, num_classes)`` scores.
        inputs: ``(batch_size, ...)`` floating point.
        target: an int, or ``(batch_size,)`` long.
        baselines: x', the shape of ``inputs`` or None (zeros).
        n_steps: points of the integral, >= 1.

    Returns:
        The shape of ``inputs``.

    Raises:
        TypeError / ValueError: as :func:`saliency`, and for ``baselines`` of another shape or a
            non-positive ``n_steps``.

    Source: Sundararajan et al. 2017, arXiv:1703.01365; Captum's ``IntegratedGradients``.
    """
    n_steps = require_positive_int("n_steps", n_steps)
    if baselines is not None and (
        not isinstance(baselines, torch.Tensor) or baselines.shape != getattr(inputs, "shape", None)
    ):
        raise ValueError("baselines must be None or a tensor of the shape of inputs")
    return _captum_call(
        "integrated_gradients", forward, inputs, target, baselines=baselines, n_steps=n_steps
    )
