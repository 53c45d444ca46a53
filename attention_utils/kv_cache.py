"""The key-value cache of incremental decoding (Part II, chapter 07).

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (the
    autoregressive decoder whose causal self-attention makes caching possible).
    R. Pope et al., "Efficiently scaling Transformer inference", MLSys 2023, arXiv:2211.05102
    (the KV cache and its memory cost).

A decoder generates one token at a time. With causal self-attention, the keys and values of the
positions already generated never change, so recomputing them at every step is wasted work. A
:class:`KVCache` keeps them: one cache per attention layer, holding tensors of shape
``(batch_size, num_heads, num_steps, head_dim)``, the layout the heads have inside
:class:`~attention_utils.multihead.MultiHeadAttention`. At each step that layer projects only the
new positions, appends their keys and values here, and attends with the new queries over
everything stored.

The interface, which multi-head attention (and any variant of it, e.g. grouped-query attention
with fewer key-value heads) uses, is small:

- ``cache.append(keys, values) -> (keys, values)``: store the new ``(batch_size, h, n, head_dim)``
  keys and values after the old ones along the step axis; return everything stored.
- ``cache.static``: a cache made with ``static=True`` is filled once and then read as it is (the
  cross-attention of a decoder, whose keys and values come from the encoder's fixed outputs);
  ``cache.is_filled`` says whether there is anything to read.
- ``cache.num_steps`` and ``cache.nbytes``: how many positions and how many bytes it holds.
"""

from __future__ import annotations

import torch

from .checks import require_bool, require_tensor

__all__ = ["KVCache"]


class KVCache:
    """Keys and values of the positions an attention layer has already seen.

    Memory: ``2 * batch_size * num_heads * num_steps * head_dim`` numbers, i.e.
    ``2 * num_hiddens`` per position and example for multi-head attention (keys and values).

    Args:
        static: False (default) for self-attention, where every step appends; True for
            cross-attention, where the first call stores the keys and values and later calls
            reuse them without projecting the encoder's outputs again.

    Attributes:
        keys: None before the first append, else ``(batch_size, num_heads, num_steps, head_dim)``.
        values: None before the first append, else ``(batch_size, num_heads, num_steps, head_dim)``.

    Raises:
        TypeError: if ``static`` is not a bool.
    """

    def __init__(self, static: bool = False) -> None:
        self.static = require_bool("static", static)
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None

    @property
    def is_filled(self) -> bool:
        """Whether the cache holds any keys and values yet."""
        return self.keys is not None

    @property
    def num_steps(self) -> int:
        """Number of positions stored (0 when empty)."""
        return 0 if self.keys is None else self.keys.shape[-2]

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored keys and values."""
        if self.keys is None:
            return 0
        return self.keys.element_size() * (self.keys.numel() + self.values.numel())

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store new keys and values after the old ones and return all of them.

        Args:
            keys: ``(batch_size, num_heads, num_new, head_dim)``.
            values: ``(batch_size, num_heads, num_new, head_dim_v)``.

        Returns:
            ``(keys, values)`` with ``num_steps + num_new`` positions each.

        Raises:
            TypeError: if an argument is not a tensor.
            ValueError: if the tensors are not 4-D, do not match each other or the stored ones
                outside the step axis, or the cache is static and already filled.
        """
        require_tensor("keys", keys)
        require_tensor("values", values)
        if keys.dim() != 4 or values.dim() != 4 or keys.shape[:3] != values.shape[:3]:
            raise ValueError(
                "keys and values must have shape (batch_size, num_heads, num_new, head_dim) with "
                f"the same first three sizes, got {tuple(keys.shape)} and {tuple(values.shape)}"
            )
        if self.keys is None:
            self.keys, self.values = keys, values
            return keys, values
        if self.static:
            raise ValueError("a static KVCache is filled once; read cache.keys and cache.values")
        if keys.shape[:2] != self.keys.shape[:2] or keys.shape[3] != self.keys.shape[3]:
            raise ValueError(
                f"keys must have shape (batch_size, num_heads, num_new, head_dim) = "
                f"({self.keys.shape[0]}, {self.keys.shape[1]}, num_new, {self.keys.shape[3]}) "
                f"like the cached ones, got {tuple(keys.shape)}"
            )
        self.keys = torch.cat(
            [self.keys, keys], dim=2
        )  # (batch_size, num_heads, num_steps, head_dim)
        self.values = torch.cat(
            [self.values, values], dim=2
        )  # (batch_size, num_heads, num_steps, head_dim_v)
        return self.keys, self.values

    def __repr__(self) -> str:
        shape = None if self.keys is None else tuple(self.keys.shape)
        return f"KVCache(static={self.static}, keys={shape})"
