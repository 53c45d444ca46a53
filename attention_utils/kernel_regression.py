"""Nadaraya--Watson kernel regression, the oldest attention pooling.

Sources:
    E. A. Nadaraya, "On estimating regression", Theory Probab. Appl. 9(1), 141-142, 1964,
    doi:10.1137/1109020.
    G. S. Watson, "Smooth regression analysis", Sankhya A 26(4), 359-372, 1964.
    The parametric version with one learnable ``w`` follows D2L (Zhang et al., *Dive into Deep
    Learning*, 2023, sec. 11.2, arXiv:2106.11342), where it is called ``NWKernelRegression``.

For a query x, keys x_i and values y_i, the estimate is

    f(x) = sum_i K((x - x_i) / h) y_i / sum_j K((x - x_j) / h)

a weighted average of the values whose weights alpha(x, x_i) = K(.) / sum K(.) are non-negative and
sum to 1: attention weights. For the Gaussian kernel the weights are exactly
softmax_i(-((x - x_i) / h)**2 / 2); the normalising constant 1 / sqrt(2 pi) of the kernel cancels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .checks import (
    require_choice,
    require_dtype,
    require_positive,
    require_real,
    require_tensor,
)
from .core import masked_softmax

__all__ = [
    "KERNELS",
    "NWKernelRegression",
    "boxcar_kernel",
    "epanechnikov_kernel",
    "gaussian_kernel",
    "leave_one_out",
    "nadaraya_watson",
]


def gaussian_kernel(u: torch.Tensor) -> torch.Tensor:
    """The standard normal density ``K(u) = exp(-u**2 / 2) / sqrt(2 pi)``, any shape.

    Raises:
        TypeError: if ``u`` is not a floating-point tensor.
    """
    require_tensor("u", u)
    return torch.exp(-(u**2) / 2) / math.sqrt(2 * math.pi)


def boxcar_kernel(u: torch.Tensor) -> torch.Tensor:
    """The uniform kernel ``K(u) = 1/2`` for ``|u| <= 1`` and 0 elsewhere, any shape.

    Raises:
        TypeError: if ``u`` is not a floating-point tensor.
    """
    require_tensor("u", u)
    return (u.abs() <= 1).to(u.dtype) / 2


def epanechnikov_kernel(u: torch.Tensor) -> torch.Tensor:
    """The Epanechnikov kernel ``K(u) = 3/4 (1 - u**2)`` for ``|u| <= 1`` and 0 elsewhere.

    Raises:
        TypeError: if ``u`` is not a floating-point tensor.
    """
    require_tensor("u", u)
    return 0.75 * torch.clamp(1 - u**2, min=0)


#: The kernels :func:`nadaraya_watson` accepts, by name. Each integrates to 1 over the real line.
KERNELS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gaussian": gaussian_kernel,
    "boxcar": boxcar_kernel,
    "epanechnikov": epanechnikov_kernel,
}


def _check_queries_keys_values(
    queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor
) -> None:
    """Raise a clear error unless the three tensors have shapes the estimator accepts."""
    for name, tensor in (("queries", queries), ("keys", keys), ("values", values)):
        require_tensor(name, tensor)
    if not queries.dtype == keys.dtype == values.dtype:
        raise TypeError(
            "queries, keys and values must share a dtype, got "
            f"{queries.dtype}, {keys.dtype}, {values.dtype}"
        )
    if queries.dim() != 1:
        raise ValueError(
            f"queries must have shape (num_queries,), got {tuple(queries.shape)}; "
            "a single query x is written torch.tensor([x])"
        )
    num_queries = queries.shape[0]
    if keys.dim() == 2 and keys.shape[0] != num_queries:
        raise ValueError(
            f"keys of shape (num_queries, num_keys) need num_queries = {num_queries} rows "
            f"(one per query), got {tuple(keys.shape)}"
        )
    if keys.dim() not in (1, 2):
        raise ValueError(
            f"keys must have shape (num_keys,) or (num_queries, num_keys) = ({num_queries}, "
            f"num_keys), got {tuple(keys.shape)}"
        )
    if keys.shape[-1] == 0:
        raise ValueError("keys must hold at least one key (num_keys >= 1)")
    if values.shape != keys.shape:
        raise ValueError(
            f"values must have the same shape as keys {tuple(keys.shape)} (one value per key), "
            f"got {tuple(values.shape)}"
        )


def _gaussian_scores(queries: torch.Tensor, keys: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """``-(d**2 - d_min**2) / (2 h**2)`` per query and key, finite or -inf, 0 at the nearest key."""
    d = (queries.unsqueeze(-1) - keys).abs()  # (num_queries, num_keys)
    d_min = d.amin(dim=-1, keepdim=True)  # (num_queries, 1)
    big = torch.finfo(d.dtype).max
    gap = ((d - d_min) / bandwidth).clamp(max=big)  # (d - d_min) / h, >= 0
    mid = ((d / 2 + d_min / 2) / bandwidth).clamp(max=big)  # (d + d_min) / (2 h), >= 0
    return torch.where(d == d_min, 0.0, -(gap * mid))  # (num_queries, num_keys)


def nadaraya_watson(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    bandwidth: float = 1.0,
    kernel: str = "gaussian",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nadaraya--Watson estimate at each query, and the attention weights behind it.

    ``weights[q, i] = K((queries[q] - keys[i]) / h) / sum_j K((queries[q] - keys[j]) / h)``
    with ``h = bandwidth``
    and ``predictions[q] = sum_i weights[q, i] * values[i]``. The Gaussian kernel is computed as a
    softmax of ``-(d_i**2 - d_min**2) / (2 h**2)``, with ``d_i = |x - x_i|`` and ``d_min`` the
    distance to the nearest key: the same weights (a softmax ignores a shift), written as
    ``(d_i - d_min) (d_i + d_min)`` so that nothing squares a huge ``d / h``. The nearest key's
    score is exactly 0, so the weights stay finite for any positive bandwidth (``h = 1e-20``
    gives the nearest key's value, or the mean of the tied nearest keys, rather than 0 / 0).

    Args:
        queries: shape ``(num_queries,)``, the inputs x to predict at.
        keys: shape ``(num_keys,)``, shared by every query, or ``(num_queries, num_keys)``, a row
            of keys per query (as in leave-one-out training); same units as the queries.
        values: the targets y_i, the same shape as ``keys``.
        bandwidth: h > 0, in the units of the queries: the kernel's width.
        kernel: ``"gaussian"``, ``"boxcar"`` or ``"epanechnikov"`` (see :data:`KERNELS`).

    Returns:
        ``(predictions, weights)`` of shapes ``(num_queries,)`` and ``(num_queries, num_keys)``.
        Each row of ``weights`` is non-negative and sums to 1. With a compact kernel (boxcar,
        Epanechnikov) a query farther than ``bandwidth`` from every key has no neighbour: the
        estimator is undefined there, and its row of weights and its prediction are NaN.

    Raises:
        TypeError: if an input is not a floating-point tensor, the dtypes differ, ``bandwidth``
            is not a number or ``kernel`` is not a string.
        ValueError: for wrong or mismatched shapes, an empty set of keys, a non-positive or
            infinite ``bandwidth``, or an unknown ``kernel`` (the message lists the known ones).
    """
    _check_queries_keys_values(queries, keys, values)
    bandwidth = require_positive("bandwidth", bandwidth)
    require_choice("kernel", kernel, sorted(KERNELS))
    if kernel == "gaussian":
        weights = masked_softmax(_gaussian_scores(queries, keys, bandwidth), None)
        # (num_queries, num_keys)
    else:
        u = (queries.unsqueeze(-1) - keys) / bandwidth  # (num_queries, num_keys)
        k = KERNELS[kernel](u)  # (num_queries, num_keys)
        total = k.sum(dim=-1, keepdim=True)  # (num_queries, 1)
        weights = torch.where(total > 0, k / total, torch.nan)  # (num_queries, num_keys)
    predictions = (weights * values).sum(dim=-1)  # (num_queries,)
    return predictions, weights


def leave_one_out(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys and values for leave-one-out training: row i holds every pair except pair i.

    Training a kernel regression on its own training inputs lets each point see itself, and the
    best bandwidth is then 0 (every point predicts its own target). Removing pair i from the keys
    and values of query i is what makes the training loss honest.

    Args:
        x: training inputs, shape ``(n,)`` with n >= 2.
        y: training targets, shape ``(n,)``.

    Returns:
        ``(keys, values)``, each of shape ``(n, n - 1)``.

    Raises:
        TypeError: if ``x`` or ``y`` is not a floating-point tensor.
        ValueError: if ``x`` and ``y`` are not 1-D of the same length n >= 2.
    """
    require_tensor("x", x)
    require_tensor("y", y)
    if x.dim() != 1 or y.shape != x.shape:
        raise ValueError(
            f"x and y must both have shape (n,), got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"leave-one-out needs n >= 2 pairs, got {n}")
    keep = ~torch.eye(n, dtype=torch.bool)  # (n, n), False on the diagonal
    keys = x.expand(n, n)[keep].reshape(n, n - 1)  # (n, n - 1)
    values = y.expand(n, n)[keep].reshape(n, n - 1)  # (n, n - 1)
    return keys, values


class NWKernelRegression(nn.Module):
    """Parametric Nadaraya--Watson attention pooling with one learnable scalar ``w``.

    ``f(x) = sum_i softmax_i(-((x - x_i) w)**2 / 2) y_i``: the Gaussian estimator with bandwidth
    ``h = 1 / |w|``, so ``w`` is an inverse bandwidth (the Gaussian's standard deviation is
    ``1 / |w|``, not ``w``). D2L's name and forward signature (Zhang et al., 2023, sec. 11.2).

    Args:
        w: the initial value of ``w``; the default 1.0 starts training from the nonparametric
            estimator with bandwidth 1.

    Attributes:
        w: ``nn.Parameter`` of shape ``(1,)``.
        attention_weights: the weights of the last forward pass, detached, shape
            ``(num_queries, num_keys)`` (for plotting; ``None`` before the first call).

    Raises:
        TypeError: if ``w`` is not a number.
        ValueError: if ``w`` is not finite.
    """

    def __init__(self, w: float = 1.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([require_real("w", w)]))
        self.attention_weights: torch.Tensor | None = None

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor
    ) -> torch.Tensor:
        """Predict at each query.

        Args:
            queries: shape ``(num_queries,)``.
            keys: shape ``(num_keys,)`` or ``(num_queries, num_keys)``.
            values: the same shape as ``keys``.

        Returns:
            Predictions of shape ``(num_queries,)``.

        Raises:
            TypeError, ValueError: as :func:`nadaraya_watson` for bad inputs.
        """
        _check_queries_keys_values(queries, keys, values)
        require_dtype("queries", queries, self)
        scores = -(((queries.unsqueeze(-1) - keys) * self.w) ** 2) / 2  # (num_queries, num_keys)
        weights = masked_softmax(scores, None)  # (num_queries, num_keys)
        self.attention_weights = weights.detach()
        values = values.expand_as(weights).unsqueeze(-1)  # (num_queries, num_keys, 1)
        return torch.bmm(weights.unsqueeze(1), values).reshape(-1)  # (num_queries,)
