"""Shape checks for readers and argument checks for the library.

`check_shape` is D2L's helper (Zhang et al., *Dive into Deep Learning*, 2023, arXiv:2106.11342):
chapters call it after each step to state the shape they expect.

The private helpers below are the library's one rule for bad arguments, applied once at each
public boundary (a public function, a constructor, a ``forward``) and never again inside:

- ``TypeError`` when an argument has the wrong type (a float where an int is needed, a string
  where a number is needed, an integer tensor where a floating one is needed);
- ``ValueError`` when it has the right type but a wrong value (a negative size, a wrong shape);
- the message names the argument and says what was expected, so a reader sees
  ``keys must have shape (batch_size, num_keys, key_size) ...`` instead of a broadcasting error
  three calls deeper.
"""

from __future__ import annotations

import math
import numbers
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
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    expected = tuple(int(s) for s in shape)
    if tuple(tensor.shape) != expected:
        raise ValueError(f"expected shape {expected}, got {tuple(tensor.shape)}")


def _is_real(value: object) -> bool:
    """True for Python and NumPy real numbers, False for bools, strings, tensors and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _require_tensor(name: str, value: object) -> torch.Tensor:
    """``value`` if it is a floating-point tensor, else a TypeError naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _require_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool, else a TypeError naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return value


def _require_positive(name: str, value: object) -> float:
    """``value`` as a positive finite float, or a TypeError/ValueError naming ``name``."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _require_real(name: str, value: object) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``name``."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _require_positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1 (a size, a count), or a TypeError/ValueError naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def _require_probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1) (a dropout rate), or a TypeError/ValueError naming ``name``."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a probability in [0, 1), got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def _require_dtype(name: str, tensor: torch.Tensor, module: torch.nn.Module) -> None:
    """A TypeError naming ``name`` unless ``tensor`` has the dtype of ``module``'s parameters."""
    parameter = next(module.parameters(), None)
    if parameter is not None and tensor.dtype != parameter.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the layer's parameters are {parameter.dtype}; "
            f"convert one of them, e.g. layer.to({tensor.dtype}) or {name}.to({parameter.dtype})"
        )
