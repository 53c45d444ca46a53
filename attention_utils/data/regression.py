"""The regression data of chapter 02: y = 2 sin(x) + x^0.8 + eps.

The example that D2L uses for Nadaraya--Watson attention pooling (Zhang et al., *Dive into Deep
Learning*, 2023, sec. 11.2, arXiv:2106.11342), which the book's source notes follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import require_int, require_positive, require_positive_int, require_tensor

__all__ = ["kernel_regression_data", "regression_truth", "RegressionData"]


def regression_truth(x: torch.Tensor) -> torch.Tensor:
    """The noise-free function of chapter 02, ``f(x) = 2 sin(x) + x**0.8``.

    Args:
        x: inputs of any shape, all >= 0 (``x**0.8`` is not real for negative x).

    Returns:
        A tensor of the same shape as ``x``.

    Raises:
        TypeError: if ``x`` is not a floating-point tensor.
        ValueError: if any input is negative.
    """
    require_tensor("x", x)
    if (x < 0).any():
        raise ValueError("regression_truth is defined for x >= 0 (x**0.8 is not real below 0)")
    return 2 * torch.sin(x) + x**0.8


@dataclass(frozen=True)
class RegressionData:
    """Training pairs and a noise-free test grid for kernel regression.

    Attributes:
        x_train: sorted training inputs, shape ``(n_train,)``.
        y_train: noisy targets ``f(x_train) + eps``, shape ``(n_train,)``.
        x_test: test inputs ``0, 0.1, ..., 4.9``, shape ``(n_test,)`` with ``n_test = 50``.
        y_truth: noise-free ``f(x_test)``, shape ``(n_test,)``.
        noise_std: the standard deviation of ``eps``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_truth: torch.Tensor
    noise_std: float

    @property
    def n_train(self) -> int:
        return self.x_train.numel()

    @property
    def n_test(self) -> int:
        return self.x_test.numel()


def kernel_regression_data(
    n_train: int = 50, noise_std: float = 0.5, seed: int = 0
) -> RegressionData:
    """Make the synthetic dataset of chapter 02.

    ``n_train`` inputs are drawn uniformly from [0, 5) and sorted (sorting makes the heatmap of
    attention weights readable); targets are ``y = 2 sin(x) + x**0.8 + eps`` with
    ``eps ~ N(0, noise_std**2)``. Test inputs are ``0, 0.1, ..., 4.9`` with their noise-free truth.

    Args:
        n_train: number of training pairs, >= 1.
        noise_std: standard deviation of the noise, > 0 (0.5 in the source).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`RegressionData`; the same arguments always give the same tensors (float32).

    Raises:
        ValueError: if ``n_train < 1`` or ``noise_std <= 0``.
        TypeError: if ``n_train`` or ``seed`` is not an integer.
    """
    require_positive_int("n_train", n_train)
    require_int("seed", seed)
    noise_std = require_positive("noise_std", noise_std)
    generator = torch.Generator().manual_seed(seed)
    x_train, _ = torch.sort(torch.rand(n_train, generator=generator) * 5)  # (n_train,)
    noise = torch.randn(n_train, generator=generator) * noise_std  # (n_train,)
    y_train = regression_truth(x_train) + noise  # (n_train,)
    x_test = torch.arange(50, dtype=torch.float32) / 10  # (n_test,) = 0.0, 0.1, ..., 4.9
    return RegressionData(x_train, y_train, x_test, regression_truth(x_test), noise_std)
