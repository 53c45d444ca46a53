"""Shape checks for readers and argument checks for the library.

`check_shape` is D2L's helper (Zhang et al., *Dive into Deep Learning*, 2023, arXiv:2106.11342):
chapters call it after each step to state the shape they expect. The other helpers turn a bad
argument into an error message that names the expected shape, so that a reader sees
``keys must have shape (num_keys,) ...`` instead of a broadcasting error three calls deeper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["check_shape"]


def check_shape(tensor: torch.Tensor, shape: Sequence[int]) -> None:
    """Check that ``tensor`` has exactly ``shape``.

    Args:
        tensor: any tensor.
        shape: the expected shape, e.g. ``(batch_size, num_queries, num_keys)`` as integers.

    Raises:
        TypeError: if ``tensor`` is not a ``torch.Tensor``.
        ValueError: if the shapes differ; the message gives both.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(tensor).__name__}")
    expected = tuple(int(s) for s in shape)
    if tuple(tensor.shape) != expected:
        raise ValueError(f"expected shape {expected}, got {tuple(tensor.shape)}")


def _require_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _require_positive(name: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _require_positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1 (a size, a count), or a TypeError/ValueError naming ``name``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def _require_probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1) (a dropout rate), or a ValueError naming ``name``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)
