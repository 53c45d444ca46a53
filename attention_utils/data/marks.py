"""Two marks far apart: is the other mark the same colour as this one? (chapter 08).

Each image has three colour channels and ``size x size`` pixels, with two 3 x 3 marks, each in
one of the three colours (channel c is 1 on a mark of colour c), on a dark background with a
little noise in every channel. Mark A's centre is where the answer is read; mark B sits at a
chosen Chebyshev distance from it (``max(|di|, |dj|)`` between the centres). The label is 1 when
the two colours are the same (half the examples). A network whose output at A depends only on a
neighbourhood of radius r can do no better than chance once the distance exceeds ``r + 1``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch

from ..checks import require_int, require_positive_int, require_real

__all__ = ["NUM_MARK_COLOURS", "TwoMarksData", "two_marks_data"]

#: The number of colours (and of image channels).
NUM_MARK_COLOURS = 3


class TwoMarksData(NamedTuple):
    """``images (N, 3, size, size)``, ``labels (N,)`` (1: same colour), ``query (N, 2)`` (row,
    column of A's centre), ``distance (N,)`` (Chebyshev distance between the centres)."""

    images: torch.Tensor
    labels: torch.Tensor
    query: torch.Tensor
    distance: torch.Tensor


def two_marks_data(
    num_examples: int,
    size: int = 16,
    distances: tuple[int, ...] | None = None,
    noise: float = 0.1,
    seed: int = 0,
) -> TwoMarksData:
    """Make the two-marks dataset, deterministic given ``seed``.

    Args:
        num_examples: N.
        size: the side of the square image (at least 6).
        distances: the Chebyshev distances between the centres to draw from, uniformly; None
            means every distance from 3 (marks never overlap) to ``size - 3``.
        noise: standard deviation of the Gaussian pixel noise.
        seed: the random seed.

    Returns:
        A :class:`TwoMarksData`.

    Raises:
        TypeError: if a size, a distance or ``seed`` is not an int, or ``noise`` not a real
            number.
        ValueError: if ``size < 6``, a distance is outside ``[3, size - 3]`` or ``noise < 0``.
    """
    require_positive_int("num_examples", num_examples)
    require_positive_int("size", size)
    require_int("seed", seed)
    if require_real("noise", noise) < 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise!r}")
    if size < 6:
        raise ValueError(f"size must be at least 6, got {size}")
    distances = tuple(range(3, size - 2)) if distances is None else tuple(distances)
    if any(not isinstance(d, numbers.Integral) or isinstance(d, bool) for d in distances):
        # a distance of 3.5 cannot be drawn on a pixel grid: int() would report 3.5, draw 3
        raise TypeError(f"distances must be ints (pixels between the centres), got {distances}")
    if not distances or any(not 3 <= d <= size - 3 for d in distances):
        raise ValueError(f"distances must lie in [3, size - 3] = [3, {size - 3}], got {distances}")
    g = torch.Generator().manual_seed(seed)
    images = noise * torch.randn(num_examples, NUM_MARK_COLOURS, size, size, generator=g)
    labels = torch.randint(0, 2, (num_examples,), generator=g)
    colour_a = torch.randint(0, NUM_MARK_COLOURS, (num_examples,), generator=g)
    offset = torch.randint(1, NUM_MARK_COLOURS, (num_examples,), generator=g)
    colour_b = torch.where(labels == 1, colour_a, (colour_a + offset) % NUM_MARK_COLOURS)
    dist = torch.tensor(distances)[torch.randint(0, len(distances), (num_examples,), generator=g)]
    query = torch.empty(num_examples, 2, dtype=torch.long)
    for n in range(num_examples):
        d = int(dist[n])
        while True:  # centres in [1, size - 2]; one coordinate differs by exactly d
            a = torch.randint(1, size - 1, (2,), generator=g)
            step = torch.randint(-d, d + 1, (2,), generator=g)
            step[int(torch.randint(0, 2, (1,), generator=g))] = d * (
                1 if torch.rand(1, generator=g) < 0.5 else -1
            )
            b = a + step
            if bool(((b >= 1) & (b <= size - 2)).all()):
                break
        for (i, j), c in ((a, colour_a[n]), (b, colour_b[n])):
            images[n, c, i - 1 : i + 2, j - 1 : j + 2] += 1.0
        query[n] = a
    return TwoMarksData(images, labels, query, dist)
