"""The images of chapter 05: the class lives in one channel among noisy and cluttered ones.

Channel attention has to find *which* channel and spatial attention *where* the small cross is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import require_int, require_positive, require_positive_int

__all__ = ["channel_shapes_data", "ChannelShapesData"]


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
        TypeError: if a size or ``seed`` is not an int, or ``noise_std`` not a number.
        ValueError: for sizes out of range or a non-positive ``noise_std``.
    """
    require_positive_int("n_train", n_train)
    require_positive_int("n_test", n_test)
    require_int("num_classes", num_classes, minimum=2)
    require_positive_int("channels", channels)
    require_int("size", size, minimum=4)
    require_positive("noise_std", noise_std)
    require_int("seed", seed)
    if num_classes > channels:
        raise ValueError(
            f"num_classes must be <= channels (one class per channel), got num_classes = "
            f"{num_classes} and channels = {channels}"
        )
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
    return ChannelShapesData(
        x[:n_train], labels[:n_train], x[n_train:], labels[n_train:], positions
    )
