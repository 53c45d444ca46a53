"""Local attention: sliding windows, a rolling key-value cache and attention sinks (chapter 12).

Sources:
    I. Beltagy, M. E. Peters, A. Cohan, "Longformer: the long-document transformer", 2020,
    arXiv:2004.05150 (sliding-window attention).
    A. Q. Jiang et al., "Mistral 7B", 2023, arXiv:2310.06825 (the rolling buffer cache).
    G. Xiao, Y. Tian, B. Chen, S. Han, M. Lewis, "Efficient streaming language models with
    attention sinks", ICLR 2024, arXiv:2309.17453 (keep the first tokens in the window).

Full attention lets every query see every key: ``n^2`` scores and a cache that grows with the
text. A sliding window lets query i see only the ``window`` keys ``i - window < j <= i`` (causal)
or ``|i - j| < window`` (both sides): ``n * window`` scores, and at generation a cache that never
holds more than ``window`` steps. Stacked, L windowed layers still reach ``L * (window - 1)`` steps
back, as a stack of convolutions does. Xiao et al. found that language models put much of their
attention on the first tokens whatever they say; a window that evicts them breaks the model, and
keeping a few of them ("sinks") beside the window restores it. Everything here goes through the
core :func:`~attention_utils.scoring.attention` with a bool ``attn_mask`` (True = the key takes
part).
"""

from __future__ import annotations

import torch

from .checks import check_qkv, check_same_d, require_bool, require_int, require_positive_int
from .scoring import attention

__all__ = ["RollingKVCache", "sliding_window_attention", "sliding_window_mask"]


def _band(
    query_pos: torch.Tensor, key_pos: torch.Tensor, window: int, causal: bool, num_sinks: int
) -> torch.Tensor:
    """``mask[i, j]`` for queries and keys at the given positions (True = the key takes part)."""
    rel = key_pos[None, :] - query_pos[:, None]  # (num_queries, num_keys), j - i
    near = (rel > -window) & (rel <= 0) if causal else rel.abs() < window
    if num_sinks:
        sink = key_pos[None, :] < num_sinks  # (1, num_keys)
        near = near | (sink & (rel <= 0) if causal else sink)
    return near  # (num_queries, num_keys)


def _check_window(window: int, causal: bool, num_sinks: int) -> None:
    require_positive_int("window", window)
    require_bool("causal", causal)
    require_int("num_sinks", num_sinks, minimum=0)


def sliding_window_mask(
    num_queries: int,
    num_keys: int,
    window: int,
    causal: bool = True,
    num_sinks: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The band mask of sliding-window attention, optionally with attention sinks.

    Query i sits at position ``i' = i + num_keys - num_queries`` (aligned at the last key).
    ``mask[i, j]`` is True when ``i' - window < j <= i'`` (causal: the query and the
    ``window - 1`` keys before it) or ``|i' - j| < window`` (not causal), or when ``j`` is one of
    the first ``num_sinks`` keys (and, if causal, ``j <= i'``).

    Args:
        num_queries: number of queries (``<= num_keys``).
        num_keys: number of keys.
        window: keys per side that a query sees, itself included (>= 1).
        causal: whether keys after the query are hidden.
        num_sinks: how many first keys every query also sees (0: none).
        device: where to create the mask.

    Returns:
        A bool tensor ``(num_queries, num_keys)`` for ``attention(..., attn_mask=mask)``.

    Raises:
        TypeError: if a size is not an int or ``causal`` not a bool.
        ValueError: if ``window`` or a size is not positive, ``num_sinks`` is negative or
            ``num_queries > num_keys``.

    Source: Beltagy et al. 2020, arXiv:2004.05150, sec. 3.1 (fig. 2b); Xiao et al. 2024,
    arXiv:2309.17453, sec. 3.3 (the sinks).
    """
    require_positive_int("num_queries", num_queries)
    require_positive_int("num_keys", num_keys)
    _check_window(window, causal, num_sinks)
    if num_queries > num_keys:
        raise ValueError(f"num_queries ({num_queries}) must be <= num_keys ({num_keys})")
    query_pos = torch.arange(num_queries, device=device) + (num_keys - num_queries)
    return _band(query_pos, torch.arange(num_keys, device=device), window, causal, num_sinks)


def sliding_window_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    window: int,
    causal: bool = True,
    num_sinks: int = 0,
) -> torch.Tensor:
    """Sliding-window attention computed in chunks: ``n * window`` scores instead of ``n^2``.

    Equal to ``attention(queries, keys, values, attn_mask=sliding_window_mask(...))[0]``, but the
    queries are cut into chunks of ``window`` and each chunk attends, through the core, only to
    the keys its band can reach (at most ``2 * window - 1`` causal, ``3 * window - 2`` not, plus
    the sinks). Memory and time grow linearly with the sequence.

    Args:
        queries: ``(..., num_queries, d)``.
        keys: ``(..., num_keys, d)`` with ``num_keys >= num_queries``.
        values: ``(..., num_keys, value_size)``.
        window, causal, num_sinks: as :func:`sliding_window_mask`.

    Returns:
        ``(..., num_queries, value_size)``.

    Raises:
        TypeError / ValueError: as :func:`~attention_utils.scoring.attention` for the tensors, and
            as :func:`sliding_window_mask` for the rest.

    Source: Beltagy et al., "Longformer", 2020, arXiv:2004.05150, sec. 3.1 and 4 (their banded
    kernel; this is the chunked variant written with dense blocks).
    """
    check_qkv(queries, keys, values, min_dim=2)
    check_same_d(queries, keys)
    _check_window(window, causal, num_sinks)
    num_queries, num_keys = queries.shape[-2], keys.shape[-2]
    if num_queries > num_keys:
        raise ValueError(f"queries ({num_queries} steps) must not outnumber keys ({num_keys})")
    offset, device = num_keys - num_queries, queries.device
    outputs = []
    for start in range(0, num_queries, window):
        stop = min(start + window, num_queries)
        low = max(start + offset - window + 1, 0)
        high = stop + offset if causal else min(stop + offset + window - 1, num_keys)
        sinks = torch.arange(min(num_sinks, num_keys), device=device)
        key_pos = torch.cat((sinks, torch.arange(low, high, device=device))).unique()
        # (chunk_keys,), sorted, each key once
        query_pos = torch.arange(start, stop, device=device) + offset  # (chunk_queries,)
        mask = _band(query_pos, key_pos, window, causal, num_sinks)  # (chunk_q, chunk_k)
        out, _ = attention(
            queries[..., start:stop, :],
            keys.index_select(-2, key_pos),
            values.index_select(-2, key_pos),
            attn_mask=mask,
        )  # (..., chunk_queries, value_size)
        outputs.append(out)
    return torch.cat(outputs, dim=-2)  # (..., num_queries, value_size)


class RollingKVCache:
    """A key-value cache of fixed size: the last ``window`` steps, plus ``num_sinks`` first ones.

    Each append stores the new keys and values and returns what the new queries may attend to
    (the kept steps and the new ones); then it drops every step that no later query can see, so
    at most ``num_sinks + window - 1`` steps stay between appends (``num_sinks + window`` with
    the new one), however long the text. Step by step (one query per
    append) the returned keys are exactly those of :func:`sliding_window_mask`'s row, so causal
    attention over them equals sliding-window attention over the whole text; with several new
    steps at once, :meth:`attn_mask` gives the band. ``positions`` are the original positions of
    the returned keys (for a relative bias, or RoPE applied before caching).

    Args:
        window: the number of recent steps kept (a query's own step included).
        num_sinks: the number of first steps kept for ever (0: a plain rolling buffer).

    Attributes:
        keys, values: None before the first append, else ``(..., num_cached, head_dim)``.
        positions: long tensor ``(num_cached,)`` of the cached steps' positions.
        returned_positions: long tensor, the positions of the keys the last append returned.
        num_new: how many steps the last append brought.
        num_seen: how many steps were appended in all.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if ``window < 1`` or ``num_sinks < 0``.

    Source: Jiang et al., "Mistral 7B", 2023, arXiv:2310.06825, sec. 2 (rolling buffer cache);
    Xiao et al., ICLR 2024, arXiv:2309.17453, sec. 3.3 (sinks kept beside the window).
    """

    def __init__(self, window: int, num_sinks: int = 0) -> None:
        _check_window(window, True, num_sinks)
        self.window, self.num_sinks = window, num_sinks
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self.positions = torch.zeros(0, dtype=torch.long)
        self.returned_positions = torch.zeros(0, dtype=torch.long)
        self.num_seen = 0
        self.num_new = 0

    def append(
        self, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store new steps and return the keys and values the new queries may attend to.

        Args:
            keys: ``(..., num_new, head_dim)``, the same leading shape and dtype every call.
            values: ``(..., num_new, value_size)``.

        Returns:
            ``(keys, values)``: the kept steps followed by the new ones,
            ``(..., num_kept + num_new, ...)``, with their positions in ``self.positions``.

        Raises:
            TypeError: if a tensor is not floating point or its dtype differs from the cache's.
            ValueError: if the shapes do not fit each other or the cached ones.
        """
        check_qkv(keys, keys, values, min_dim=2)
        if self.keys is not None:
            if keys.dtype != self.keys.dtype:
                raise TypeError(
                    f"keys must have the cache's dtype {self.keys.dtype}, got {keys.dtype}"
                )
            if (keys.shape[:-2], keys.shape[-1], values.shape[-1]) != (
                self.keys.shape[:-2], self.keys.shape[-1], self.values.shape[-1]
            ):
                raise ValueError(
                    f"keys {tuple(keys.shape)} and values {tuple(values.shape)} do not fit the "
                    f"cached {tuple(self.keys.shape)} and {tuple(self.values.shape)}"
                )
            keys = torch.cat((self.keys, keys), dim=-2)  # (..., num_kept + num_new, head_dim)
            values = torch.cat((self.values, values), dim=-2)  # (..., num_kept + num_new, v)
        self.num_new = keys.shape[-2] - self.positions.numel()
        new_positions = torch.arange(self.num_seen, self.num_seen + self.num_new)
        self.returned_positions = torch.cat((self.positions, new_positions))  # (num_returned,)
        self.num_seen += self.num_new
        pos = self.returned_positions
        keep = (pos < self.num_sinks) | (pos > self.num_seen - self.window)  # (num_returned,)
        index = keep.nonzero().squeeze(1).to(keys.device)  # (num_kept,)
        self.keys, self.values = keys.index_select(-2, index), values.index_select(-2, index)
        self.positions = pos[keep]
        return keys, values  # (..., num_returned, head_dim), (..., num_returned, value_size)

    def attn_mask(self) -> torch.Tensor:
        """The bool mask ``(num_new, num_returned)`` of the last append's queries over its keys."""
        if self.keys is None:
            raise ValueError("the cache is empty: append before asking for a mask")
        query_pos = self.returned_positions[-self.num_new :]  # (num_new,)
        return _band(query_pos, self.returned_positions, self.window, True, self.num_sinks)

    @property
    def num_cached(self) -> int:
        """How many steps the cache holds now (at most ``num_sinks + window - 1``)."""
        return int(self.positions.numel())
