"""The key-value cache of incremental decoding (Part II, chapters 07 and 10).

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (the
    autoregressive decoder whose causal self-attention makes caching possible).
    R. Pope et al., "Efficiently scaling Transformer inference", MLSys 2023, arXiv:2211.05102
    (the KV cache and its memory cost).
    W. Kwon et al., "Efficient memory management for large language model serving with
    PagedAttention", SOSP 2023, arXiv:2309.06180 (caches preallocated and written in place).
    A. Q. Jiang et al., "Mistral 7B", 2023, arXiv:2310.06825 (the rolling buffer cache of
    sliding-window attention).

A decoder generates one token at a time. With causal self-attention, the keys and values of the
positions already generated never change, so recomputing them at every step is wasted work. A
:class:`KVCache` keeps them: one cache per attention layer, holding tensors of shape
``(batch_size, num_heads, num_steps, head_dim)``, the layout the heads have inside
:class:`~attention_utils.multihead.MultiHeadAttention`. At each step that layer projects only the
new positions, appends their keys and values here, and attends with the new queries over
everything stored.

The cache is flat: it allocates buffers for many positions once and writes each step's keys and
values into them in place, so a step costs the same whatever the number of positions stored
(``torch.cat`` would copy the whole cache at every step, a cost that grows with the length).
Without ``max_steps`` the buffers double when full, as a Python list does, so the copying
amortises to a constant per step.

The interface, which multi-head attention (and any variant of it, e.g. grouped-query attention
with fewer key-value heads) uses, is small:

- ``cache.append(keys, values) -> (keys, values)``: store the new ``(batch_size, h, n, head_dim)``
  keys and values after the old ones along the step axis; return everything stored (views of the
  buffers, valid until the next append).
- ``cache.static``: a cache made with ``static=True`` is filled once and then read as it is (the
  cross-attention of a decoder, whose keys and values come from the encoder's fixed outputs);
  ``cache.is_filled`` says whether there is anything to read.
- ``cache.keys``, ``cache.values``, ``cache.num_steps`` and ``cache.nbytes``: what it holds, how
  many positions and how many bytes.
"""

from __future__ import annotations

import torch

from .checks import require_bool, require_positive_int, require_tensor

__all__ = ["KVCache"]


class KVCache:
    """Keys and values of the positions an attention layer has already seen.

    Memory: ``2 * batch_size * num_heads * num_steps * head_dim`` numbers, i.e.
    ``2 * num_hiddens`` per position and example for multi-head attention (keys and values);
    the buffers hold up to twice that (``allocated_nbytes``).

    With ``window = W`` the cache is a rolling buffer: it keeps only the last ``W`` positions, so
    a new position attends to itself and the ``W`` before it (sliding-window attention) and the
    memory stays at ``W`` positions however long the output. The keys an append returns are the
    ``W`` kept positions followed by the new ones; with one new position per call this is
    exactly attention restricted to the window. A call that appends several positions at once
    returns all of them after the ``W`` kept ones, and the band mask that restricts each of them
    to its own window is then the caller's.

    Args:
        static: False (default) for self-attention, where every step appends; True for
            cross-attention, where the first call stores the keys and values and later calls
            reuse them without projecting the encoder's outputs again.
        max_steps: None (default): the buffers grow by doubling; an int: buffers for that many
            positions are allocated at the first append and appending more raises.
        window: None (default): keep every position; an int ``W``: keep the last ``W``.

    Attributes:
        keys: None before the first append, else ``(batch_size, num_heads, num_steps, head_dim)``.
        values: None before the first append, else
            ``(batch_size, num_heads, num_steps, head_dim_v)``.

    Raises:
        TypeError: if ``static`` is not a bool or ``max_steps`` or ``window`` not an int.
        ValueError: if ``max_steps`` or ``window`` is below 1, both are given, or a static cache
            is given either.
    """

    def __init__(
        self, static: bool = False, max_steps: int | None = None, window: int | None = None
    ) -> None:
        self.static = require_bool("static", static)
        self.max_steps = None if max_steps is None else require_positive_int("max_steps", max_steps)
        self.window = None if window is None else require_positive_int("window", window)
        if max_steps is not None and window is not None:
            raise ValueError("give max_steps or window, not both: a window needs 2 * window slots")
        if static and (max_steps is not None or window is not None):
            raise ValueError("a static cache stores the keys and values it is given, as they are")
        self._keys: torch.Tensor | None = None  # (batch_size, num_heads, capacity, head_dim)
        self._values: torch.Tensor | None = None  # (batch_size, num_heads, capacity, head_dim_v)
        self._start = 0  # first stored position in the buffers
        self._end = 0  # one past the last stored position

    @property
    def keys(self) -> torch.Tensor | None:
        """``(batch_size, num_heads, num_steps, head_dim)``, a view of the buffer, or None."""
        return None if self._keys is None else self._keys[:, :, self._start : self._end]

    @property
    def values(self) -> torch.Tensor | None:
        """``(batch_size, num_heads, num_steps, head_dim_v)``, a view of the buffer, or None."""
        return None if self._values is None else self._values[:, :, self._start : self._end]

    @property
    def is_filled(self) -> bool:
        """Whether the cache holds any keys and values yet."""
        return self._keys is not None

    @property
    def num_steps(self) -> int:
        """Number of positions stored (0 when empty; at most ``window`` with a window)."""
        return self._end - self._start

    @property
    def nbytes(self) -> int:
        """Bytes of the stored keys and values (``num_steps`` positions)."""
        if self._keys is None:
            return 0
        per_step = self._keys.shape[0] * self._keys.shape[1]
        per_step *= self._keys.shape[3] + self._values.shape[3]
        return self._keys.element_size() * per_step * self.num_steps

    @property
    def allocated_nbytes(self) -> int:
        """Bytes of the buffers, stored positions and free slots together."""
        if self._keys is None:
            return 0
        return self._keys.element_size() * (self._keys.numel() + self._values.numel())

    def _check(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Clear errors for new keys and values that do not fit each other or the cache."""
        require_tensor("keys", keys)
        require_tensor("values", values)
        if keys.dim() != 4 or values.dim() != 4 or keys.shape[:3] != values.shape[:3]:
            raise ValueError(
                "keys and values must have shape (batch_size, num_heads, num_new, head_dim) with "
                f"the same first three sizes, got {tuple(keys.shape)} and {tuple(values.shape)}"
            )
        if keys.dtype != values.dtype:
            raise TypeError(
                f"keys and values must share a dtype, got {keys.dtype} and {values.dtype}"
            )
        if self._keys is None:
            return
        if self.static:
            raise ValueError("a static KVCache is filled once; read cache.keys and cache.values")
        cached_k, cached_v = self._keys, self._values
        if keys.shape[:2] != cached_k.shape[:2] or keys.shape[3] != cached_k.shape[3]:
            raise ValueError(
                f"keys must have shape (batch_size, num_heads, num_new, head_dim) = "
                f"({cached_k.shape[0]}, {cached_k.shape[1]}, num_new, {cached_k.shape[3]}) "
                f"like the cached ones, got {tuple(keys.shape)}"
            )
        if values.shape[3] != cached_v.shape[3]:
            raise ValueError(
                f"values must have head_dim_v = {cached_v.shape[3]} like the cached ones, got "
                f"shape {tuple(values.shape)}"
            )
        if keys.dtype != cached_k.dtype:
            raise TypeError(
                f"keys and values must have the cache's dtype {cached_k.dtype}, got {keys.dtype} "
                "(the cache does not convert; convert the model or the inputs)"
            )
        if keys.device != cached_k.device:
            raise ValueError(
                f"keys must be on the cache's device {cached_k.device}, got {keys.device}"
            )

    def _reserve(self, num_new: int) -> None:
        """Make room for ``num_new`` positions after the stored ones (move or grow the buffers)."""
        capacity = self._keys.shape[2]
        if self._end + num_new <= capacity:
            return
        keep = self.num_steps
        if self.max_steps is not None:
            raise ValueError(
                f"the cache holds {keep} positions and was made for max_steps = {self.max_steps}; "
                f"it cannot take {num_new} more"
            )
        if self.window is None or keep + num_new > capacity:  # grow: double, or fit the new ones
            capacity = max(2 * capacity, keep + num_new)
        new_k = self._keys.new_empty(*self._keys.shape[:2], capacity, self._keys.shape[3])
        new_v = self._values.new_empty(*self._values.shape[:2], capacity, self._values.shape[3])
        # (batch_size, num_heads, capacity, head_dim): the kept positions go to the front
        new_k[:, :, :keep] = self._keys[:, :, self._start : self._end]
        new_v[:, :, :keep] = self._values[:, :, self._start : self._end]
        self._keys, self._values, self._start, self._end = new_k, new_v, 0, keep

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store new keys and values after the old ones and return all of them.

        The new positions are written into the buffers in place. (Under autograd, with inputs
        that require gradients, the buffers are rebuilt with ``torch.cat`` instead, so that
        gradients flow through earlier steps.)

        Args:
            keys: ``(batch_size, num_heads, num_new, head_dim)``.
            values: ``(batch_size, num_heads, num_new, head_dim_v)``.

        Returns:
            ``(keys, values)`` with ``num_steps + num_new`` positions each (with a window, the
            ``min(num_steps, window)`` kept positions and the new ones).

        Raises:
            TypeError: if an argument is not a floating-point tensor, keys and values have
                different dtypes, or the dtype differs from the cached one.
            ValueError: if the tensors are not 4-D, do not match each other or the stored ones
                outside the step axis, are on another device, exceed ``max_steps``, or the cache
                is static and already filled.
        """
        self._check(keys, values)
        num_new = keys.shape[2]
        if self._keys is None and self.static:
            self._keys, self._values, self._end = keys, values, num_new
            return keys, values
        if self._keys is None:
            if self.max_steps is not None and num_new > self.max_steps:
                raise ValueError(f"{num_new} positions exceed max_steps = {self.max_steps}")
            capacity = self.max_steps or max(2 * (self.window or 0), 16, num_new)
            self._keys = keys.new_empty(*keys.shape[:2], capacity, keys.shape[3])
            self._values = values.new_empty(*values.shape[:2], capacity, values.shape[3])
            # (batch_size, num_heads, capacity, head_dim)
        if torch.is_grad_enabled() and (keys.requires_grad or values.requires_grad):
            self._keys = torch.cat([self._keys[:, :, : self._end], keys], dim=2)
            self._values = torch.cat([self._values[:, :, : self._end], values], dim=2)
        else:
            self._reserve(num_new)
            self._keys[:, :, self._end : self._end + num_new] = keys  # in place
            self._values[:, :, self._end : self._end + num_new] = values
        start = self._start
        self._end += num_new
        if self.window is not None:
            self._start = max(self._start, self._end - self.window)
        return (
            self._keys[:, :, start : self._end],  # (batch_size, num_heads, kept + new, head_dim)
            self._values[:, :, start : self._end],  # (batch_size, num_heads, kept + new, dv)
        )

    def __repr__(self) -> str:
        shape = None if self._keys is None else tuple(self.keys.shape)
        extra = "" if self.window is None else f", window={self.window}"
        return f"KVCache(static={self.static}, keys={shape}{extra})"
