"""Every dataset the book uses: synthetic, made on the spot, deterministic given a seed.

The regression data of chapter 02 is the example that D2L uses for Nadaraya--Watson attention
pooling (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.2, arXiv:2106.11342), which the
book's source notes follow: y = 2 sin(x) + x^0.8 + eps with Gaussian noise. The images of
chapter 05 hide their class in one channel among noisy and cluttered ones, so that channel and
spatial attention have something to do. Nothing here downloads anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import _require_positive

__all__ = [
    "ChannelShapesData",
    "RegressionData",
    "channel_shapes_data",
    "kernel_regression_data",
    "regression_truth",
]


def regression_truth(x: torch.Tensor) -> torch.Tensor:
    """The noise-free function of chapter 02, ``f(x) = 2 sin(x) + x**0.8``.

    Args:
        x: inputs of any shape, all >= 0 (``x**0.8`` is not real for negative x).

    Returns:
        A tensor of the same shape as ``x``.

    Raises:
        ValueError: if any input is negative.
    """
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
    if not isinstance(n_train, int) or isinstance(n_train, bool):
        raise TypeError(f"n_train must be an int, got {type(n_train).__name__}")
    if n_train < 1:
        raise ValueError(f"n_train must be >= 1, got {n_train}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    noise_std = _require_positive("noise_std", noise_std)
    generator = torch.Generator().manual_seed(seed)
    x_train, _ = torch.sort(torch.rand(n_train, generator=generator) * 5)  # (n_train,)
    noise = torch.randn(n_train, generator=generator) * noise_std  # (n_train,)
    y_train = regression_truth(x_train) + noise  # (n_train,)
    x_test = torch.arange(50, dtype=torch.float32) / 10  # (n_test,) = 0.0, 0.1, ..., 4.9
    return RegressionData(x_train, y_train, x_test, regression_truth(x_test), noise_std)


# --- chapter 05: images whose class lives in one channel among many -----------------------------


@dataclass(frozen=True)
class ChannelShapesData:
    """Images for chapter 05: which of a few channels holds a small cross decides the class.

    Attributes:
        x_train: images, shape ``(n_train, channels, size, size)``.
        y_train: labels in ``0 .. num_classes - 1``, shape ``(n_train,)``.
        x_test: held-out images, shape ``(n_test, channels, size, size)``.
        y_test: held-out labels, shape ``(n_test,)``.
        positions: ``(row, col)`` of the centre of the class cross, shape ``(n_test, 2)``
            for the held-out images (for plotting where the signal is).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    positions: torch.Tensor


def _cross(size: int, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """A 3x3 plus sign centred at (rows[i], cols[i]) in each of ``len(rows)`` blank images."""
    grid = torch.arange(size)
    dr = (grid[None, :, None] - rows[:, None, None]).abs()  # (n, size, 1)
    dc = (grid[None, None, :] - cols[:, None, None]).abs()  # (n, 1, size)
    return (((dr == 0) & (dc <= 1)) | ((dc == 0) & (dr <= 1))).float()  # (n, size, size)


def channel_shapes_data(
    n_train: int = 1024,
    n_test: int = 512,
    num_classes: int = 4,
    channels: int = 8,
    size: int = 16,
    noise_std: float = 1.0,
    seed: int = 0,
) -> ChannelShapesData:
    """Make the cluttered-channels classification task of chapter 05 (no download).

    Every image has ``channels`` channels of Gaussian noise (std ``noise_std``). An image of
    class ``c`` has a 3x3 cross of amplitude 1 at a random position in channel ``c``; each of the
    ``channels - num_classes`` clutter channels holds a 2x2 square of amplitude 1 at a random
    position, so something bright is in several channels and only the channel of the cross
    tells the class: the task asks *what* to look at (which channels) and *where* (the small
    cross among noise, which global average pooling dilutes).

    Args:
        n_train, n_test: numbers of training and held-out images, >= 1.
        num_classes: number of classes, 2 <= num_classes <= channels.
        channels: number of channels.
        size: height and width, >= 4.
        noise_std: standard deviation of the background noise, > 0.
        seed: the seed of the torch generator; the same seed gives the same data.

    Returns:
        A :class:`ChannelShapesData`, images of shape ``(n, channels, size, size)``.

    Raises:
        ValueError: for sizes out of range or a non-positive ``noise_std``.
    """
    _require_positive("noise_std", noise_std)
    if not 2 <= num_classes <= channels:
        raise ValueError(f"need 2 <= num_classes <= channels, got {num_classes}, {channels}")
    if size < 4 or n_train < 1 or n_test < 1:
        raise ValueError(f"need size >= 4, n_train >= 1, n_test >= 1, got {size, n_train, n_test}")
    generator = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    labels = torch.randint(num_classes, (n,), generator=generator)  # (n,)
    x = torch.randn(n, channels, size, size, generator=generator) * noise_std
    rows = torch.randint(1, size - 1, (n,), generator=generator)  # (n,)
    cols = torch.randint(1, size - 1, (n,), generator=generator)  # (n,)
    x[torch.arange(n), labels] += _cross(size, rows, cols)  # (n, size, size)
    for channel in range(num_classes, channels):
        r = torch.randint(0, size - 1, (n,), generator=generator)  # (n,)
        c = torch.randint(0, size - 1, (n,), generator=generator)  # (n,)
        dr = torch.arange(size)[None, :, None] - r[:, None, None]  # (n, size, 1)
        dc = torch.arange(size)[None, None, :] - c[:, None, None]  # (n, 1, size)
        square = ((dr >= 0) & (dr <= 1) & (dc >= 0) & (dc <= 1)).float()  # (n, size, size)
        x[:, channel] += square
    positions = torch.stack([rows, cols], dim=1)[n_train:]  # (n_test, 2)
    return ChannelShapesData(x[:n_train], labels[:n_train], x[n_train:], labels[n_train:], positions)
