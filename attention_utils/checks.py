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
        TypeError: if ``tensor`` is not a ``torch.Tensor`` or ``shape`` not a sequence of ints.
        ValueError: if the shapes differ; the message gives both.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if not isinstance(shape, (Sequence, torch.Size)) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape
    ):
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}")
    expected = tuple(int(s) for s in shape)
    if tuple(tensor.shape) != expected:
        raise ValueError(f"expected shape {expected}, got {tuple(tensor.shape)}")


def is_real(value: object) -> bool:
    """True for Python and NumPy real numbers, False for bools, strings, tensors and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def require_tensor(name: str, value: object) -> torch.Tensor:
    """``value`` if it is a floating-point tensor, else a TypeError naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def require_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool, else a TypeError naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return value


def require_positive(name: str, value: object) -> float:
    """``value`` as a positive finite float, or a TypeError/ValueError naming ``name``."""
    if not is_real(value):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def require_real(name: str, value: object) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``name``."""
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def require_positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1 (a size, a count), or a TypeError/ValueError naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def require_int(name: str, value: object, minimum: int | None = None) -> int:
    """``value`` as an int (>= ``minimum`` if given), or a TypeError/ValueError naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def require_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``choices``, else a TypeError/ValueError naming it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {list(choices)}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def require_probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1) (a dropout rate), else a TypeError/ValueError naming it."""
    if not is_real(value):
        raise TypeError(f"{name} must be a probability in [0, 1), got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


def require_dtype(name: str, tensor: torch.Tensor, module: torch.nn.Module) -> None:
    """A TypeError naming ``name`` unless ``tensor`` has the dtype of ``module``'s parameters."""
    parameter = next(module.parameters(), None)
    if parameter is not None and tensor.dtype != parameter.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the layer's parameters are {parameter.dtype}; "
            f"convert one of them, e.g. layer.to({tensor.dtype}) or {name}.to({parameter.dtype})"
        )


# --- tokens (the sequence models of chapters 06, 07 and 10, their decoding and losses) -----


def check_tokens(name: str, X: object, vocab_size: int | None = None) -> torch.Tensor | int:
    """``X`` if it holds token ids, else a TypeError/ValueError naming ``name``.

    The one token check of the library: encoders, decoders, losses and decoding call it before
    ``nn.Embedding`` or ``cross_entropy`` would raise ``IndexError: index out of range in self``.

    Args:
        name: the argument's name as the caller passed it (``src``, ``X``, ``bos``, ...).
        X: an integer tensor of shape ``(batch_size, num_steps)`` (empty allowed), or a Python
            int (one token, such as ``bos``).
        vocab_size: None, or the vocabulary size: every id must lie in ``[0, vocab_size)``.

    Returns:
        ``X`` unchanged (an int as a Python int).

    Raises:
        TypeError: if ``X`` is neither an int nor an integer (not bool) tensor.
        ValueError: if a tensor is not 2-D, or an id lies outside ``[0, vocab_size)`` (the
            message gives the range found).
    """
    if isinstance(X, numbers.Integral) and not isinstance(X, bool):
        if vocab_size is not None and not 0 <= X < vocab_size:
            raise ValueError(
                f"{name} must be a token id in [0, vocab_size) = [0, {vocab_size}), got {X}"
            )
        return int(X)
    if (
        not isinstance(X, torch.Tensor)
        or X.is_floating_point()
        or X.is_complex()
        or X.dtype == torch.bool
    ):
        kind = X.dtype if isinstance(X, torch.Tensor) else type(X).__name__
        raise TypeError(
            f"{name} must be an integer tensor of token ids, shape (batch_size, num_steps), "
            f"got {kind}"
        )
    if X.dim() != 2:
        raise ValueError(f"{name} must have shape (batch_size, num_steps), got {tuple(X.shape)}")
    if vocab_size is not None and X.numel() and bool(((X < 0) | (X >= vocab_size)).any()):
        raise ValueError(
            f"{name}'s token ids must lie in [0, vocab_size) = [0, {vocab_size}), got values "
            f"from {int(X.min())} to {int(X.max())}"
        )
    return X


def require_sequence(name: str, X: object, width: int, width_name: str) -> torch.Tensor:
    """``X`` if it is a floating ``(batch_size, num_steps, width)`` tensor, else a clear error."""
    require_tensor(name, X)
    if X.dim() != 3 or X.shape[-1] != width:
        raise ValueError(
            f"{name} must have shape (batch_size, num_steps, {width_name}={width}), "
            f"got {tuple(X.shape)}"
        )
    return X


# --- attention inputs (scoring, multihead, transformer and every later attention layer) ----


def valid_lens_out_of_range(valid_lens: torch.Tensor, num_keys: int) -> torch.Tensor:
    """A 0-d bool tensor, True if an entry lies outside ``[0, num_keys]`` (no host sync yet)."""
    return ((valid_lens < 0) | (valid_lens > num_keys)).any()


def raise_valid_lens_range(valid_lens: torch.Tensor, num_keys: int) -> None:
    raise ValueError(
        f"valid_lens must lie in [0, num_keys] = [0, {num_keys}], got values from "
        f"{int(valid_lens.min())} to {int(valid_lens.max())}"
    )


def check_valid_lens(
    valid_lens: object,
    batch_size: int,
    num_queries: int,
    num_keys: int,
    check_range: bool = True,
) -> torch.Tensor:
    """Raise a clear error unless ``valid_lens`` is an integer tensor of a good shape and range.

    The range check is the only host synchronisation a public call makes; a caller that has
    another check to make on the device passes ``check_range=False`` and combines the two flags
    (see ``TransformerEncoder.forward``).
    """
    if not isinstance(valid_lens, torch.Tensor):
        raise TypeError(
            f"valid_lens must be None or an integer torch.Tensor, got {type(valid_lens).__name__}"
        )
    if valid_lens.is_floating_point() or valid_lens.is_complex() or valid_lens.dtype == torch.bool:
        raise TypeError(
            f"valid_lens must have an integer dtype (e.g. torch.long), got {valid_lens.dtype}; "
            "a count of keys is a whole number"
        )
    if tuple(valid_lens.shape) not in ((batch_size,), (batch_size, num_queries)):
        raise ValueError(
            f"valid_lens must have shape (batch_size,) = ({batch_size},) or "
            f"(batch_size, num_queries) = ({batch_size}, {num_queries}), "
            f"got {tuple(valid_lens.shape)}"
        )
    if check_range and valid_lens.numel() and bool(valid_lens_out_of_range(valid_lens, num_keys)):
        raise_valid_lens_range(valid_lens, num_keys)
    return valid_lens


def check_qkv(
    queries: object,
    keys: object,
    values: object,
    query_size: int | None = None,
    key_size: int | None = None,
    min_dim: int = 3,
) -> None:
    """Raise a clear error unless queries, keys and values have compatible shapes and one dtype.

    Shapes ``(*batch, num_queries, query_size)``, ``(*batch, num_keys, key_size)`` and
    ``(*batch, num_keys, value_size)`` with the same leading dimensions ``batch`` (at least
    ``min_dim - 2`` of them). Grouped-query attention (keys with fewer heads than queries) will
    relax the equality of the leading dimensions here.
    """
    lead = "(batch_size, " if min_dim >= 3 else "(..., "
    expected = {
        "queries": f"{lead}num_queries, query_size)",
        "keys": f"{lead}num_keys, key_size)",
        "values": f"{lead}num_keys, value_size)",
    }
    for name, tensor in (("queries", queries), ("keys", keys), ("values", values)):
        require_tensor(name, tensor)
        if tensor.dim() < min_dim:
            raise ValueError(f"{name} must have shape {expected[name]}, got {tuple(tensor.shape)}")
    if not queries.dtype == keys.dtype == values.dtype:
        raise TypeError(
            "queries, keys and values must share a dtype, got "
            f"{queries.dtype}, {keys.dtype}, {values.dtype}"
        )
    if not queries.shape[:-2] == keys.shape[:-2] == values.shape[:-2]:
        raise ValueError(
            "queries, keys and values must have the same batch_size (the same leading dimensions), "
            "got shapes "
            f"{tuple(queries.shape)}, {tuple(keys.shape)}, {tuple(values.shape)}"
        )
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(
            "keys and values must have the same num_keys (one value per key), got "
            f"{tuple(keys.shape)} and {tuple(values.shape)}"
        )
    if keys.shape[-2] == 0:
        raise ValueError(
            f"keys must hold at least one key (num_keys >= 1), got {tuple(keys.shape)}"
        )
    if query_size is not None and queries.shape[-1] != query_size:
        raise ValueError(
            f"queries must have shape {lead}num_queries, query_size={query_size}), "
            f"got {tuple(queries.shape)}"
        )
    if key_size is not None and keys.shape[-1] != key_size:
        raise ValueError(
            f"keys must have shape {lead}num_keys, key_size={key_size}), got {tuple(keys.shape)}"
        )


def check_pool_inputs(scores: object, values: object, mask: object) -> None:
    """Scores ``(..., nq, nk)``, values ``(..., nk, value_size)`` of one dtype, a bool mask."""
    require_tensor("scores", scores)
    require_tensor("values", values)
    if scores.dim() < 2 or values.dim() < 2:
        raise ValueError(
            "scores must have shape (..., num_queries, num_keys) and values "
            f"(..., num_keys, value_size), got {tuple(scores.shape)} and {tuple(values.shape)}"
        )
    if values.dtype != scores.dtype:
        raise TypeError(
            f"values must have the dtype of scores ({scores.dtype}), got {values.dtype}"
        )
    if values.shape[-2] != scores.shape[-1]:
        raise ValueError(
            f"values must have num_keys = {scores.shape[-1]} rows (scores' last dimension), got "
            f"shape {tuple(values.shape)}"
        )
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"mask must be a bool tensor or None, got {type(mask).__name__}")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(
                f"mask of shape {tuple(mask.shape)} does not broadcast to scores of shape "
                f"{tuple(scores.shape)}"
            ) from None


def check_same_d(queries: torch.Tensor, keys: torch.Tensor) -> None:
    """Dot-product scores need queries and keys of one length ``d >= 1``."""
    if keys.shape[-1] != queries.shape[-1]:
        raise ValueError(
            "dot-product attention needs queries (..., num_queries, d) and keys "
            f"(..., num_keys, d) of the same d, got {tuple(queries.shape)} and "
            f"{tuple(keys.shape)}; use AdditiveAttention or BilinearAttention for different sizes"
        )
    if queries.shape[-1] == 0:
        raise ValueError(
            "queries and keys must have d >= 1 features: with d = 0 every score is 0 / sqrt(0), "
            f"got shapes {tuple(queries.shape)} and {tuple(keys.shape)}"
        )


def check_attn_mask(attn_mask: object, dtype: torch.dtype, scores_shape: torch.Size) -> None:
    """A boolean mask (True = take part) or a float bias that broadcasts to the scores."""
    if not isinstance(attn_mask, torch.Tensor):
        raise TypeError(f"attn_mask must be None or a torch.Tensor, got {type(attn_mask).__name__}")
    if attn_mask.dtype != torch.bool and attn_mask.dtype != dtype:
        raise TypeError(
            f"attn_mask must be a bool tensor (True = the key takes part) or a float tensor of "
            f"the queries' dtype {dtype} (added to the scores), got {attn_mask.dtype}"
        )
    try:
        broadcast = torch.broadcast_shapes(attn_mask.shape, scores_shape)
    except RuntimeError:
        broadcast = None
    if broadcast != scores_shape:
        raise ValueError(
            f"attn_mask must broadcast to the scores' shape (..., num_queries, num_keys) = "
            f"{tuple(scores_shape)}, got {tuple(attn_mask.shape)}"
        )


def require_reduction(channels: int, reduction: object) -> int:
    require_int("reduction", reduction, minimum=1)
    if channels < reduction:
        raise ValueError(
            f"channels ({channels}) must be >= reduction ({reduction}): the bottleneck would "
            f"have channels // reduction = {channels // reduction} units"
        )
    return reduction


def require_odd_kernel_size(kernel_size: object) -> int:
    require_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd so that padding kernel_size // 2 keeps the size, "
            f"got {kernel_size}"
        )
    return kernel_size


def require_feature_map(
    x: object, channels: int | None, module: torch.nn.Module | None = None, name: str = "x"
) -> torch.Tensor:
    """``x`` if it is a floating ``(batch_size, channels, height, width)`` tensor.

    With ``module``, also check that ``x`` has the dtype of the module's parameters. ``name`` is
    the argument's name in the caller's signature, used in the messages.
    """
    x = require_tensor(name, x)
    if x.dim() != 4:
        raise ValueError(
            f"{name} must have shape (batch_size, channels, height, width), "
            f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{name} must have shape (batch_size, {channels}, height, width), got {tuple(x.shape)}"
        )
    if module is not None:
        require_dtype(name, x, module)
    return x


def require_batch_statistics(
    module: torch.nn.Module, name: str, x: torch.Tensor, values_per_channel: int
) -> None:
    """Fail before BatchNorm does: in training mode it needs more than one value per channel.

    ``values_per_channel`` is what the module's smallest batch norm would see for input ``x``
    (batch size times the positions of its map). The message names the module and the reason.
    """
    if module.training and values_per_channel < 2:
        raise ValueError(
            f"{type(module).__name__} in training mode needs more than one value per channel for "
            f"its batch norm, but {name} of shape {tuple(x.shape)} gives it one (batch size 1 and "
            "a 1 x 1 map there): use a batch of at least 2 or call .eval()"
        )
