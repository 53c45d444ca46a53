"""The images of chapter 09: scikit-learn's bundled 8x8 digits, rotated, scaled and shifted.

scikit-learn ships the 1,797 digits (UCI optical recognition of handwritten digits) inside its
wheel, so nothing is downloaded; it is imported inside :func:`distorted_digits_data`, not when
``attention_utils`` is imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..checks import require_int, require_positive_int, require_real

__all__ = ["DistortedDigitsData", "distorted_digits_data"]


@dataclass(frozen=True)
class DistortedDigitsData:
    """Digits on a ``size x size`` canvas, distorted by a random affine map each.

    Attributes:
        x_train, x_test: distorted images in [0, 1], ``(n, 1, size, size)``.
        y_train, y_test: labels 0-9, ``(n,)``.
        clean_test: the held-out digits before distortion, ``(n_test, 1, size, size)``.
        theta_test: the affine maps that made ``x_test`` from ``clean_test`` (output-to-input
            coordinates, as ``F.affine_grid`` takes them), ``(n_test, 2, 3)``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    clean_test: torch.Tensor
    theta_test: torch.Tensor


def distorted_digits_data(
    n_test: int = 497,
    size: int = 24,
    max_angle: float = 60.0,
    scale_range: tuple[float, float] = (0.7, 1.2),
    max_shift: float = 0.25,
    seed: int = 0,
) -> DistortedDigitsData:
    """Make the distorted-digits task: each digit is rotated, scaled and translated at random.

    Each 8x8 digit (values 0..16, divided by 16) is enlarged bilinearly to ``size // 2`` pixels
    and centred on a blank ``size x size`` canvas; then a random angle in ``[-max_angle,
    max_angle]`` degrees, a scale factor drawn log-uniformly from ``scale_range`` (> 1 enlarges)
    and a shift in ``[-max_shift, max_shift]`` (in units of half the canvas) on each axis are
    applied with bilinear sampling, zeros outside.

    Args:
        n_test: held-out images, 1 <= n_test < 1797; the rest train.
        size: canvas side in pixels, >= 8.
        max_angle: largest rotation in degrees, >= 0.
        scale_range: (smallest, largest) scale factor, 0 < smallest <= largest.
        max_shift: largest shift per axis, >= 0.
        seed: seed of the split and of the distortions.

    Returns:
        A :class:`DistortedDigitsData`.

    Raises:
        TypeError: for a size or ``seed`` that is not an int, or a number that is not real.
        ValueError: for a value out of range.
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    require_positive_int("n_test", n_test)
    require_positive_int("size", size)
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    for name, value in [("max_angle", max_angle), ("max_shift", max_shift)]:
        if require_real(name, value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    require_int("seed", seed)
    if not isinstance(scale_range, (tuple, list)) or len(scale_range) != 2:
        raise TypeError(f"scale_range must be a (low, high) pair, got {scale_range!r}")
    for value in scale_range:
        require_real("scale_range", value)
    low, high = scale_range
    if not 0 < low <= high:
        raise ValueError(
            f"scale_range must be (low, high) with 0 < low <= high, got {scale_range!r}"
        )
    digits = load_digits()
    n = len(digits.target)
    if not n_test < n:
        raise ValueError(f"n_test must be < {n}, got {n_test}")
    generator = torch.Generator().manual_seed(seed)
    images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16  # (n, 1, 8, 8)
    labels = torch.tensor(digits.target, dtype=torch.long)  # (n,)
    small = F.interpolate(images, size=size // 2, mode="bilinear", align_corners=False)
    pad = (size - size // 2) // 2
    clean = F.pad(
        small, (pad, size - size // 2 - pad, pad, size - size // 2 - pad)
    )  # (n, 1, size, size)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_angle)  # (n,)
    log_scale = torch.rand(n, generator=generator) * math.log(high / low) + math.log(low)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift  # (n, 2)
    # affine_grid maps output to input coordinates: the inverse of "rotate, scale, then shift".
    inv = torch.exp(-log_scale)
    cos, sin = torch.cos(angle) * inv, torch.sin(angle) * inv
    rot = torch.stack([torch.stack([cos, sin], 1), torch.stack([-sin, cos], 1)], 1)  # (n, 2, 2)
    theta = torch.cat([rot, -(rot @ shift[:, :, None])], dim=2)  # (n, 2, 3)
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    distorted = F.grid_sample(clean, grid, align_corners=False).clamp(0, 1)  # (n, 1, size, size)
    order = torch.randperm(n, generator=generator)
    train, test = order[n_test:], order[:n_test]
    return DistortedDigitsData(
        distorted[train], labels[train], distorted[test], labels[test], clean[test], theta[test]
    )
