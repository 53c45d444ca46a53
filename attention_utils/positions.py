"""Where a token is: relative position biases, rotary embeddings and ALiBi (Part III, chapter 12).

Sources:
    P. Shaw, J. Uszkoreit, A. Vaswani, "Self-attention with relative position representations",
    NAACL 2018, arXiv:1803.02155 (learned embeddings of the clipped distance j - i).
    C. Raffel et al., "Exploring the limits of transfer learning with a unified text-to-text
    transformer", JMLR 2020, arXiv:1910.10683 (T5: one learned scalar per head and log bucket).
    J. Su et al., "RoFormer: enhanced transformer with rotary position embedding", 2021,
    arXiv:2104.09864 (RoPE).
    O. Press, N. A. Smith, M. Lewis, "Train short, test long: attention with linear biases enables
    input length extrapolation", ICLR 2022, arXiv:2108.12409 (ALiBi).

Self-attention alone is permutation-equivariant: shuffle the tokens and the outputs shuffle the
same way. Everything it knows about order is given to it, and each scheme here gives it as a
function of the offset ``j - i`` between key j and query i only:

- Shaw et al. add ``q_i . w_clip(j - i)`` to the score, a learned vector per clipped offset;
- T5 adds a learned scalar per head and per bucket of ``j - i`` (exact near, logarithmic far);
- RoPE rotates each pair of dimensions of q and k by an angle proportional to the position, so
  ``q_m . k_n`` depends on ``m - n`` only;
- ALiBi adds ``-slope_h * |i - j|``, a fixed penalty that grows with distance, per head h.

The biases are float tensors for the core's additive ``attn_mask`` of
:func:`~attention_utils.scoring.attention`. Query i sits at position ``i + num_keys - num_queries``
(aligned at the last key, as the core's causal mask), so a query appended to a cache is placed
after the keys it sees.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import require_bool, require_positive, require_positive_int, require_tensor

__all__ = [
    "ShawRelativePosition",
    "T5RelativeBias",
    "alibi_bias",
    "alibi_slopes",
    "apply_rotary",
    "relative_position_bucket",
    "relative_positions",
]


def relative_positions(
    num_queries: int, num_keys: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """The offsets ``rel[i, j] = j - (i + num_keys - num_queries)`` of key j from query i.

    Args:
        num_queries: number of queries; query i sits at position ``i + num_keys - num_queries``.
        num_keys: number of keys, at positions ``0 .. num_keys - 1``.
        device: where to create the result.

    Returns:
        A long tensor ``(num_queries, num_keys)``; 0 on the aligned diagonal, negative for keys
        in the past.

    Raises:
        TypeError: if a size is not an int.
        ValueError: if a size is not positive or ``num_queries > num_keys``.
    """
    require_positive_int("num_queries", num_queries)
    require_positive_int("num_keys", num_keys)
    if num_queries > num_keys:
        raise ValueError(f"num_queries ({num_queries}) must be <= num_keys ({num_keys})")
    query_pos = torch.arange(num_queries, device=device) + (num_keys - num_queries)
    key_pos = torch.arange(num_keys, device=device)
    return key_pos[None, :] - query_pos[:, None]  # (num_queries, num_keys)


class ShawRelativePosition(nn.Module):
    """Shaw et al.'s relative position term on the keys: ``q_i . w_clip(j - i) / sqrt(d)``.

    The score becomes ``q_i . (k_j + w_clip(j-i, k)) / sqrt(d)``, with one learned vector
    ``w_r`` (``head_dim`` numbers) per clipped offset ``r in [-k, k]``: beyond distance k all
    offsets share a vector. This module returns the added term, for ``attention(...,
    attn_mask=term)``; the vectors it uses depend on ``j - i`` only.

    Args:
        head_dim: the width d of queries and keys.
        max_distance: the clipping distance k (the paper's best was small, k = 16 or less).

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if an argument is not positive.

    Source: Shaw, Uszkoreit, Vaswani, NAACL 2018, arXiv:1803.02155, eq. (4)-(5).
    """

    def __init__(self, head_dim: int, max_distance: int) -> None:
        super().__init__()
        self.head_dim = require_positive_int("head_dim", head_dim)
        self.max_distance = require_positive_int("max_distance", max_distance)
        self.embedding = nn.Embedding(2 * max_distance + 1, head_dim)  # w_{-k} .. w_{k}

    def indices(self, num_queries: int, num_keys: int) -> torch.Tensor:
        """``clip(j - i, -k, k) + k``, the row of the table each pair (i, j) uses."""
        rel = relative_positions(num_queries, num_keys, self.embedding.weight.device)
        return rel.clamp(-self.max_distance, self.max_distance) + self.max_distance

    def forward(self, queries: torch.Tensor, num_keys: int) -> torch.Tensor:
        """The term added to the scores.

        Args:
            queries: ``(..., num_queries, head_dim)``.
            num_keys: number of keys.

        Returns:
            ``(..., num_queries, num_keys)``, the queries' dtype.

        Raises:
            TypeError: if ``queries`` is not a floating tensor or ``num_keys`` not an int.
            ValueError: if the last dimension of ``queries`` is not ``head_dim``.
        """
        require_tensor("queries", queries)
        if queries.dim() < 2 or queries.shape[-1] != self.head_dim:
            raise ValueError(
                f"queries must have shape (..., num_queries, {self.head_dim}), "
                f"got {tuple(queries.shape)}"
            )
        w = self.embedding(self.indices(queries.shape[-2], num_keys))  # (nq, nk, head_dim)
        term = torch.einsum("...id,ijd->...ij", queries, w.to(queries.dtype))  # (..., nq, nk)
        return term / math.sqrt(self.head_dim)


def relative_position_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """T5's bucket of each offset ``j - i``: exact for small offsets, logarithmic up to a limit.

    With ``n = num_buckets`` (halved when ``bidirectional``, the sign taking the other half) and
    ``e = n // 2``: an offset of size ``r < e`` gets bucket r; a larger one gets
    ``e + floor(log(r / e) / log(max_distance / e) * (n - e))``, at most ``n - 1``. Unidirectional
    buckets give every future offset (``j > i``) bucket 0.

    Args:
        relative_position: an integer tensor of offsets ``j - i``, any shape.
        bidirectional: whether keys after the query get buckets of their own.
        num_buckets: total number of buckets (even when bidirectional).
        max_distance: offsets of this size and beyond share the last bucket.

    Returns:
        A long tensor of ``relative_position``'s shape, entries in ``[0, num_buckets)``.

    Raises:
        TypeError: if ``relative_position`` is not an integer tensor or an argument has the wrong
            type.
        ValueError: if ``num_buckets`` is too small (< 2, or < 4 when bidirectional) or
            ``max_distance`` not larger than the exact range.

    Source: Raffel et al., JMLR 2020, arXiv:1910.10683, sec. 2.1; the function follows the
    released code (mesh-tensorflow's ``_relative_position_bucket``).
    """
    if not isinstance(relative_position, torch.Tensor) or relative_position.is_floating_point():
        raise TypeError("relative_position must be an integer tensor of offsets j - i")
    require_bool("bidirectional", bidirectional)
    require_positive_int("num_buckets", num_buckets)
    require_positive_int("max_distance", max_distance)
    n = num_buckets // 2 if bidirectional else num_buckets
    if n < 2 or (bidirectional and num_buckets % 2):
        raise ValueError(
            f"num_buckets must be >= 2 (an even number >= 4 when bidirectional), got {num_buckets}"
        )
    exact = n // 2
    if max_distance <= exact:
        raise ValueError(f"max_distance must be > {exact} (the exact range), got {max_distance}")
    rel = relative_position.long()
    buckets = torch.zeros_like(rel)
    if bidirectional:
        buckets = buckets + (rel > 0).long() * n
        distance = rel.abs()
    else:
        distance = (-rel).clamp(min=0)
    scaled = torch.log(distance.clamp(min=1).double() / exact) / math.log(max_distance / exact)
    large = (exact + (scaled * (n - exact)).long()).clamp(max=n - 1)
    return buckets + torch.where(distance < exact, distance, large)


class T5RelativeBias(nn.Module):
    """T5's relative attention bias: one learned scalar per head and bucket of ``j - i``.

    ``bias[h, i, j] = b[h, bucket(j - i)]`` with :func:`relative_position_bucket`; T5 adds it to
    the (unscaled) scores of every layer, computed once in the first.

    Args:
        num_heads: number of heads.
        num_buckets: number of buckets (T5: 32).
        max_distance: offsets this far or further share the last bucket (T5: 128).
        bidirectional: True for an encoder, False for a causal decoder.

    Raises:
        TypeError / ValueError: as :func:`relative_position_bucket`, and for ``num_heads``.

    Source: Raffel et al., JMLR 2020, arXiv:1910.10683, sec. 2.1.
    """

    def __init__(
        self,
        num_heads: int,
        num_buckets: int = 32,
        max_distance: int = 128,
        bidirectional: bool = True,
    ) -> None:
        super().__init__()
        self.num_heads = require_positive_int("num_heads", num_heads)
        zero = torch.zeros(1, dtype=torch.long)
        relative_position_bucket(zero, bidirectional, num_buckets, max_distance)  # the checks
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def forward(self, num_queries: int, num_keys: int) -> torch.Tensor:
        """The bias ``(num_heads, num_queries, num_keys)``, for ``attention(..., attn_mask=...)``.

        Raises:
            TypeError / ValueError: as :func:`relative_positions`.
        """
        rel = relative_positions(num_queries, num_keys, self.embedding.weight.device)
        buckets = relative_position_bucket(
            rel, self.bidirectional, self.num_buckets, self.max_distance
        )  # (num_queries, num_keys)
        return self.embedding(buckets).permute(2, 0, 1)  # (num_heads, num_queries, num_keys)


def apply_rotary(
    x: torch.Tensor, positions: torch.Tensor | None = None, base: float = 10000.0
) -> torch.Tensor:
    """Rotary position embedding: rotate each pair of dimensions by ``position * theta_p``.

    For ``x`` at position m and each pair ``p = 0 .. d/2 - 1`` of dimensions ``(2p, 2p + 1)``,
    with ``theta_p = base^(-2p / d)``::

        out[2p]     = x[2p] cos(m theta_p) - x[2p + 1] sin(m theta_p)
        out[2p + 1] = x[2p] sin(m theta_p) + x[2p + 1] cos(m theta_p)

    i.e. ``(x[2p] + i x[2p+1]) * exp(i m theta_p)`` in complex form. A rotation keeps lengths, and
    ``R(m)^T R(n) = R(n - m)``, so ``apply_rotary(q, m) . apply_rotary(k, n)`` depends on m - n
    only. Pair 0 turns by one radian per step, the last pair by ``base^(-(d - 2) / d)`` radian
    (close to ``1 / base`` only for wide heads): the base sets the longest wavelength,
    ``2 pi base^((d - 2) / d)`` steps, that positions can be told apart by.
    Angles are computed in float64 and the result has ``x``'s dtype.

    Args:
        x: queries or keys, ``(..., num_steps, head_dim)`` with even ``head_dim``.
        positions: None for ``0 .. num_steps - 1``; else a tensor of positions (integer or real)
            that broadcasts to ``x.shape[:-1]``, e.g. ``(num_steps,)`` or
            ``(batch_size, 1, num_steps)``.
        base: the base of the frequencies (the paper's 10000).

    Returns:
        The rotated tensor, ``x``'s shape and dtype.

    Raises:
        TypeError: if ``x`` is not a floating tensor, ``positions`` not a tensor or ``base`` not a
            number.
        ValueError: if ``head_dim`` is odd, ``x`` has fewer than 2 dimensions, ``positions`` does
            not broadcast to ``x.shape[:-1]`` or ``base`` is not positive.

    Source: Su et al., "RoFormer", 2021, arXiv:2104.09864, sec. 3.2, eq. (13)-(15).
    """
    require_tensor("x", x)
    base = require_positive("base", base)
    if x.dim() < 2:
        raise ValueError(f"x must have shape (..., num_steps, head_dim), got {tuple(x.shape)}")
    num_steps, head_dim = x.shape[-2], x.shape[-1]
    if head_dim % 2:
        raise ValueError(f"x's head_dim must be even (dimensions rotate in pairs), got {head_dim}")
    work = torch.float32 if x.device.type == "mps" else torch.float64
    if positions is None:
        positions = torch.arange(num_steps, device=x.device)
    elif not isinstance(positions, torch.Tensor):
        raise TypeError(f"positions must be a tensor or None, got {type(positions).__name__}")
    try:
        torch.broadcast_shapes(positions.shape, x.shape[:-1])
    except RuntimeError:
        raise ValueError(
            f"positions of shape {tuple(positions.shape)} does not broadcast to x.shape[:-1] = "
            f"{tuple(x.shape[:-1])}"
        ) from None
    theta = base ** (-torch.arange(0, head_dim, 2, device=x.device, dtype=work) / head_dim)
    angles = positions.to(device=x.device, dtype=work)[..., None] * theta  # (..., steps, d / 2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    pairs = x.unflatten(-1, (head_dim // 2, 2))  # (..., num_steps, head_dim / 2, 2)
    even, odd = pairs[..., 0], pairs[..., 1]  # (..., num_steps, head_dim / 2) each
    rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
    return rotated.flatten(-2)  # (..., num_steps, head_dim)


def alibi_slopes(num_heads: int) -> torch.Tensor:
    """ALiBi's head slopes: the geometric sequence ``2^(-8/n), 2^(-16/n), ..., 2^(-8)``.

    For ``n`` a power of two, head h (from 1) gets ``2^(-8 h / n)``. Otherwise the authors' rule:
    take the slopes of the largest power of two ``p < n``, then every other slope of ``2p``
    (``2^(-4/p), 2^(-12/p), ...``) until there are n (12 heads: the 8 slopes of 8, then
    ``2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5`` from the 16 of 16).

    Args:
        num_heads: the number of heads n.

    Returns:
        A float64 tensor ``(num_heads,)``, decreasing.

    Raises:
        TypeError: if ``num_heads`` is not an int.
        ValueError: if it is not positive.

    Source: Press, Smith, Lewis, ICLR 2022, arXiv:2108.12409, sec. 3, and the authors' released
    ``get_slopes`` (github.com/ofirpress/attention_with_linear_biases).
    """
    require_positive_int("num_heads", num_heads)

    def power_of_two(n: int) -> list[float]:
        return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]

    p = 2 ** int(math.floor(math.log2(num_heads)))
    slopes = power_of_two(p)
    if p < num_heads:
        slopes += power_of_two(2 * p)[0::2][: num_heads - p]
    return torch.tensor(slopes, dtype=torch.float64)


def alibi_bias(
    num_heads: int,
    num_queries: int,
    num_keys: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """ALiBi's bias ``-slope_h * |i - j|`` for ``attention(..., attn_mask=bias, causal=True)``.

    Query i sits at position ``i + num_keys - num_queries``. Under the causal mask only keys
    ``j <= i`` are seen, and the bias is the paper's ``slope_h * [-(i), ..., -2, -1, 0]``; the
    keys after the query get the mirror image (the symmetric form used without a causal mask).
    No positional encoding is added to the inputs.

    Args:
        num_heads: number of heads, each with its slope from :func:`alibi_slopes`.
        num_queries: number of queries.
        num_keys: number of keys (``>= num_queries``).
        dtype: a floating dtype, that of the queries.
        device: where to create it.

    Returns:
        ``(num_heads, num_queries, num_keys)``, broadcasting to the scores
        ``(batch_size, num_heads, num_queries, num_keys)``.

    Raises:
        TypeError: if a size is not an int or ``dtype`` is not a floating dtype.
        ValueError: if a size is not positive or ``num_queries > num_keys``.

    Source: Press, Smith, Lewis, ICLR 2022, arXiv:2108.12409, sec. 3, fig. 3.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    slopes = alibi_slopes(num_heads).to(device)  # (num_heads,)
    distance = relative_positions(num_queries, num_keys, device).abs()  # (nq, nk)
    return (-slopes[:, None, None] * distance).to(dtype)  # (num_heads, num_queries, num_keys)
