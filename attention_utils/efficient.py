"""Efficient attention (chapter 10): online softmax and tiled (flash) attention.

Sources:
    M. Milakov, N. Gimelshein, "Online normalizer calculation for softmax", 2018,
    arXiv:1805.02867 (the running maximum and running sum of :func:`online_softmax`).
    M. N. Rabe, C. Staats, "Self-attention does not need O(n^2) memory", 2021, arXiv:2112.05682
    (attention over blocks of keys with that running sum).
    T. Dao, D. Y. Fu, S. Ermon, A. Rudra, C. Re, "FlashAttention: fast and memory-efficient exact
    attention with IO-awareness", NeurIPS 2022, arXiv:2205.14135 (tiles of queries and keys, the
    log-sum-exp kept for a backward pass by recomputation).
    T. Dao, "FlashAttention-2: faster attention with better parallelism and work partitioning",
    ICLR 2024, arXiv:2307.08691 (query chunks outside, key blocks inside, one division at the end).

:func:`flash_attention` computes exactly what :func:`~attention_utils.scoring.attention` computes,
``softmax(Q K^T / sqrt(d) + masks) V``, with the same mask rules (``valid_lens``, ``causal`` aligned
at the last key, a query that sees no key gets the zero vector), but it never holds the
``L x L`` weights: one tile of scores at a time, so memory grows like ``L``, not ``L^2``. It is
written in PyTorch, with tiles large enough that each call does much work; the fused kernel behind
``F.scaled_dot_product_attention`` does the same in C++ with tiles sized for the cache. Linear
attention, a different model, lives in :mod:`attention_utils.efficient_linear`.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import torch

from .checks import (
    check_qkv,
    check_same_d,
    check_valid_lens,
    require_bool,
    require_positive,
    require_positive_int,
    require_tensor,
)

__all__ = ["flash_attention", "online_softmax"]


# --- online softmax -----------------------------------------------------------------------------


def online_softmax(X: torch.Tensor, block_size: int = 128) -> torch.Tensor:
    """Softmax over the last axis, with its normaliser computed in one streaming pass over blocks.

    For each row ``x``, blocks ``x_B`` of ``block_size`` entries are read in turn while a running
    maximum ``m`` and a running sum ``s = sum exp(x_j - m)`` over the entries seen so far are kept:

        m' = max(m, max(x_B)),   s' = s * exp(m - m') + sum_{j in B} exp(x_j - m').

    After the last block ``s`` is the softmax's denominator:
    ``softmax(x)_j = exp(x_j - m) / s``.
    Every ``exp`` has a non-positive argument, so nothing overflows; the result equals
    ``torch.softmax(X, dim=-1)`` up to rounding. Entries ``-inf`` get weight 0, also in leading
    blocks; a row that is ``-inf`` throughout gives NaN, as ``torch.softmax`` does.

    Args:
        X: floating-point tensor ``(..., n)`` with ``n >= 1``.
        block_size: entries read per step; it need not divide ``n``.

    Returns:
        A tensor of ``X``'s shape and dtype whose rows sum to 1.

    Raises:
        TypeError: if ``X`` is not a floating-point tensor or ``block_size`` not an int.
        ValueError: if ``X`` is 0-D or its last axis is empty, or ``block_size < 1``.

    Source: Milakov and Gimelshein, 2018, arXiv:1805.02867, algorithm 3.
    """
    require_tensor("X", X)
    require_positive_int("block_size", block_size)
    if X.dim() == 0 or X.shape[-1] == 0:
        raise ValueError(f"X must have shape (..., n) with n >= 1, got {tuple(X.shape)}")
    running_max = torch.full(X.shape[:-1], -math.inf, dtype=X.dtype, device=X.device)  # (...,)
    running_sum = torch.zeros(X.shape[:-1], dtype=X.dtype, device=X.device)  # (...,)
    for start in range(0, X.shape[-1], block_size):
        block = X[..., start : start + block_size]  # (..., block)
        new_max = torch.maximum(running_max, block.amax(dim=-1))  # (...,)
        # while a row has seen only -inf its maximum is -inf: subtract 0 there (-inf - -inf = NaN)
        safe_max = torch.where(new_max == -math.inf, 0.0, new_max)  # (...,)
        block_sum = torch.exp(block - safe_max.unsqueeze(-1)).sum(dim=-1)  # (...,)
        running_sum = running_sum * torch.exp(running_max - safe_max) + block_sum
        running_max = new_max
    safe_max = torch.where(running_max == -math.inf, 0.0, running_max)  # (...,)
    return torch.exp(X - safe_max.unsqueeze(-1)) / running_sum.unsqueeze(-1)  # (..., n)


# --- tiled (flash) attention --------------------------------------------------------------------


def _tiles(num_queries: int, num_keys: int, query_block: int, key_block: int, causal: bool):
    """(q_start, q_end, [(k_start, k_end), ...]) for every query chunk: the key blocks it may see.

    Under ``causal`` (aligned at the last key, ``offset = num_keys - num_queries``) the key blocks
    wholly in the chunk's future are left out; a chunk that sees no key gets an empty list.
    """
    offset = num_keys - num_queries
    for q_start in range(0, num_queries, query_block):
        q_end = min(q_start + query_block, num_queries)
        last_key = min(num_keys, q_end + offset) if causal else num_keys
        blocks = [(k, min(k + key_block, last_key)) for k in range(0, max(last_key, 0), key_block)]
        yield q_start, q_end, blocks


def _tile_mask(lens, causal, q_start, q_end, k_start, k_end, offset, device):
    """Which keys of one tile take part (True), built for that tile only, or None for all.

    ``lens`` is None or ``(batch_size, 1, num_queries, 1)`` (1-D valid_lens: ``num_queries`` 1).
    Returns a bool tensor broadcasting to ``(batch_size, rest, block_q, block_k)`` or None.
    """
    future = causal and k_end - 1 > q_start + offset  # some key lies in some query's future
    if lens is None and not future:
        return None
    mask = None
    key_pos = torch.arange(k_start, k_end, device=device)  # (block_k,)
    if lens is not None:
        chunk = lens if lens.shape[2] == 1 else lens[:, :, q_start:q_end]  # (b, 1, bq or 1, 1)
        mask = key_pos < chunk  # (batch_size, 1, block_q or 1, block_k)
    if future:
        query_pos = torch.arange(q_start, q_end, device=device).unsqueeze(-1)  # (block_q, 1)
        past = key_pos <= query_pos + offset  # (block_q, block_k)
        mask = past if mask is None else mask & past
    return mask


# Scores are kept in base 2 inside the loops: with q2 = q * log2(e), exp(q.k - m) equals
# exp2(q2.k - m * log2(e)), and exp2 costs about a third of exp on a CPU (FlashAttention's kernels
# use the same identity). Maxima and log-sum-exps below are in these base-2 units.
_LOG2E = math.log2(math.e)


def _flash_forward(q, k, v, lens, causal, key_block, query_block):
    """Tiled forward pass on ``(batch_size, rest, n, d)`` inputs, ``q`` already scaled.

    Returns the output ``(batch_size, rest, nq, dv)`` and the log-sum-exp in base 2
    ``(batch_size, rest, nq)``, ``+inf`` for a query that sees no key.
    """
    num_queries, num_keys, value_size = q.shape[-2], k.shape[-2], v.shape[-1]
    offset = num_keys - num_queries
    q2 = q * _LOG2E  # (b, rest, nq, d): scores in base 2
    key_t = k.transpose(-2, -1).contiguous()  # (b, rest, d, nk): one transpose, not one per tile
    acc = q.new_zeros(*q.shape[:-1], value_size)  # (b, rest, nq, value_size): unnormalised output
    row_sum = q.new_zeros(q.shape[:-1])  # (b, rest, num_queries)
    row_max = q.new_full(q.shape[:-1], -math.inf)  # (b, rest, num_queries)
    for q_start, q_end, blocks in _tiles(num_queries, num_keys, query_block, key_block, causal):
        q_chunk = q2[..., q_start:q_end, :]  # (b, rest, block_q, d)
        m = row_max[..., q_start:q_end]  # (b, rest, block_q), updated in place
        total = row_sum[..., q_start:q_end]  # (b, rest, block_q), updated in place
        a = acc[..., q_start:q_end, :]  # (b, rest, block_q, value_size), updated in place
        for k_start, k_end in blocks:
            scores = q_chunk @ key_t[..., k_start:k_end]  # (b, rest, block_q, block_k)
            mask = _tile_mask(lens, causal, q_start, q_end, k_start, k_end, offset, q.device)
            if mask is not None:
                scores.masked_fill_(~mask, -math.inf)
            new_max = torch.maximum(m, scores.amax(dim=-1))  # (b, rest, block_q)
            # a row that has seen only masked keys keeps max -inf: subtract 0 there, not -inf
            safe_max = torch.where(new_max == -math.inf, 0.0, new_max)  # (b, rest, block_q)
            probs = scores.sub_(safe_max.unsqueeze(-1)).exp2_()  # (b, rest, bq, bk), in place
            correction = torch.exp2(m - safe_max)  # (b, rest, block_q)
            total.mul_(correction).add_(probs.sum(dim=-1))  # l' = l 2^(m-m') + rowsum(P)
            # a' = a 2^(m-m') + P V
            a.mul_(correction.unsqueeze(-1)).add_(probs @ v[..., k_start:k_end, :])
            m.copy_(new_max)
    seen = row_sum > 0  # False where the query sees no key
    output = acc.div_(torch.where(seen, row_sum, 1.0).unsqueeze(-1))  # one division, in place
    logsumexp = torch.where(seen, row_max + torch.log2(row_sum), math.inf)  # (b, rest, nq)
    return output, logsumexp


def _flash_backward(q, k, v, out, logsumexp, grad_out, lens, causal, key_block, query_block):
    """Gradients with respect to the scaled ``q``, ``k`` and ``v``, recomputing every tile.

    With ``P = exp(S - lse)``, ``S = q K^T`` and ``O = P V``: ``dV = P^T dO``, ``dP = dO V^T``,
    ``dS = P * (dP - rowsum(dO * O))``, ``dq = dS K`` and ``dK = dS^T q`` (Dao et al. 2022,
    appendix B.2). ``P`` is recomputed in base 2, as in the forward pass (``logsumexp`` is too).
    """
    num_queries, num_keys = q.shape[-2], k.shape[-2]
    offset = num_keys - num_queries
    q2 = q * _LOG2E  # (b, rest, nq, d)
    key_t = k.transpose(-2, -1).contiguous()  # (b, rest, d, nk)
    value_t = v.transpose(-2, -1).contiguous()  # (b, rest, value_size, nk)
    grad_q, grad_k, grad_v = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    delta = (grad_out * out).sum(dim=-1, keepdim=True)  # (b, rest, num_queries, 1)
    for q_start, q_end, blocks in _tiles(num_queries, num_keys, query_block, key_block, causal):
        q_chunk = q[..., q_start:q_end, :]  # (b, rest, block_q, d)
        q2_chunk = q2[..., q_start:q_end, :]  # (b, rest, block_q, d)
        do_chunk = grad_out[..., q_start:q_end, :]  # (b, rest, block_q, value_size)
        lse = logsumexp[..., q_start:q_end].unsqueeze(-1)  # (b, rest, block_q, 1)
        for k_start, k_end in blocks:
            scores = q2_chunk @ key_t[..., k_start:k_end]  # (b, rest, block_q, block_k)
            mask = _tile_mask(lens, causal, q_start, q_end, k_start, k_end, offset, q.device)
            if mask is not None:
                scores.masked_fill_(~mask, -math.inf)
            probs = scores.sub_(lse).exp2_()  # (b, rest, block_q, block_k)
            grad_v[..., k_start:k_end, :] += probs.transpose(-2, -1) @ do_chunk  # (b, rest, bk, dv)
            grad_s = (do_chunk @ value_t[..., k_start:k_end]).sub_(delta[..., q_start:q_end, :])
            grad_s.mul_(probs)  # (b, rest, block_q, block_k)
            grad_q[..., q_start:q_end, :] += grad_s @ k[..., k_start:k_end, :]  # (b, rest, bq, d)
            grad_k[..., k_start:k_end, :] += grad_s.transpose(-2, -1) @ q_chunk  # (b, rest, bk, d)
    return grad_q, grad_k, grad_v


def _on_threads(fn, tensors, options):
    """``fn(*tensors, *options)``, the heads (axis 1) shared among PyTorch's threads.

    With ``n = torch.get_num_threads() > 1`` threads and at least ``n`` heads, each of ``n``
    Python threads runs the whole loop for its share of the heads, while PyTorch's own thread
    count is 1 for the call (and restored after it). The shares are independent, so the threads
    never wait for one another between calls, as the threads inside a fused kernel do not; the
    alternative, every small call split among the threads, makes them meet thousands of times.
    """
    threads, heads = torch.get_num_threads(), tensors[0].shape[1]
    if threads < 2 or heads < threads:
        return fn(*tensors, *options)
    shares = [(s[0], s[-1] + 1) for s in torch.arange(heads).tensor_split(threads)]
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(
                lambda share: fn(*(t[:, share[0] : share[1]] for t in tensors), *options), shares
            ))
    finally:
        torch.set_num_threads(threads)
    return tuple(torch.cat(pieces, dim=1) for pieces in zip(*parts))  # each (b, rest, ...)


class _FlashAttention(torch.autograd.Function):
    """Tiled attention whose backward recomputes the tiles instead of storing the weights."""

    @staticmethod
    def forward(ctx, q, k, v, lens, causal, key_block, query_block):
        options = (lens, causal, key_block, query_block)
        output, logsumexp = _on_threads(_flash_forward, (q, k, v), options)
        ctx.save_for_backward(q, k, v, output, logsumexp)  # O(L) memory: no weights kept
        ctx.options = options
        return output

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, output, logsumexp = ctx.saved_tensors
        tensors = (q, k, v, output, logsumexp, grad_out.contiguous())
        grads = _on_threads(_flash_backward, tensors, ctx.options)
        return (*grads, None, None, None, None)


def _default_query_block(rows: int, num_queries: int, key_block: int, causal: bool) -> int:
    """Queries per chunk: as many as keep a tile at ``2**21`` scores (8 MiB in float32).

    Tiles that size fit in a CPU's last-level cache and still make every PyTorch call large, so
    that the arithmetic, not the calls, sets the time on one thread or several. Under ``causal``
    the chunks are cut to at most ``max(key_block, num_queries / 8)`` queries, so that the key
    blocks in a chunk's future can be skipped (about 9/16 of the full work, not all of it).
    """
    block = max(key_block, (1 << 21) // max(1, rows * key_block))
    if causal:
        block = min(block, max(key_block, -(-num_queries // 8)))
    return min(block, max(1, num_queries))


def flash_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    causal: bool = False,
    block_size: int = 256,
    scale: float | None = None,
    query_block_size: int | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention computed in tiles, never holding the L x L weights.

    The queries are cut into chunks of ``query_block_size`` rows and the keys into blocks of
    ``block_size``. For each chunk (all heads and examples at once) the key blocks are visited in
    turn, keeping per query a running maximum ``m``, a running sum ``l`` and an unnormalised
    output ``acc``:

        S = scale * Q_chunk K_block^T,   m' = max(m, rowmax(S)),   P = exp(S - m'),
        l' = l * exp(m - m') + rowsum(P),   acc' = acc * exp(m - m') + P V_block,

    and the output is ``acc / l``, divided once at the end. This is FlashAttention-2's loop order
    (query chunks outside, key blocks inside); FlashAttention-1 put the key blocks outside and
    rescaled the stored output at every step. The result equals
    ``softmax(scale * Q K^T + masks) V``, i.e. :func:`~attention_utils.scoring.attention` and
    ``F.scaled_dot_product_attention``, up to rounding. Key blocks wholly in a chunk's future are
    skipped under ``causal``. Memory beyond the inputs and output: one tile of
    ``rows * query_block_size * block_size`` scores (``rows`` = examples x heads) in the forward
    pass, and ``O(L)`` saved for the backward pass (the log-sum-exp of every query), which
    recomputes the tiles. Large tiles keep the number of PyTorch calls small, so that the matrix
    products, not Python, set the time, on one thread or several.

    Args:
        queries: ``(..., num_queries, d)``, floating point; with ``valid_lens`` the first
            dimension is ``batch_size``, e.g. ``(batch_size, num_heads, num_queries, d)``.
        keys: ``(..., num_keys, d)``, the same leading dimensions and dtype.
        values: ``(..., num_keys, value_size)``.
        valid_lens: None, or integer lengths ``(batch_size,)`` or ``(batch_size, num_queries)``:
            key j takes part for query i of example b when ``j < valid_lens[b]`` (or
            ``valid_lens[b, i]``), as in :func:`~attention_utils.scoring.attention`. A query that
            sees no key gets the zero vector (and zero gradients); keys and values at positions
            no query of an example sees are never read, so a NaN there does not leak.
        causal: if True, query i sees no key j with ``j > i + num_keys - num_queries``.
        block_size: keys per block; it need not divide the lengths.
        scale: the factor on ``q . k``; None means ``1 / sqrt(d)``.
        query_block_size: queries per chunk; None chooses as many as keep a tile at ``2**21``
            scores, and at most ``max(block_size, num_queries / 8)`` under ``causal``.

    Returns:
        ``(..., num_queries, value_size)``; differentiable in queries, keys and values.

    Raises:
        TypeError: if a tensor is not floating point, the dtypes differ, ``valid_lens`` is not an
            integer tensor, or a flag or number has the wrong type.
        ValueError: for shapes that do not fit, ``d = 0``, no keys, ``valid_lens`` out of
            ``[0, num_keys]``, ``block_size < 1``, ``query_block_size < 1`` or a non-positive
            ``scale``.

    Source: Dao et al., NeurIPS 2022, arXiv:2205.14135 (tiling, recomputing backward, appendix
    B); Dao, ICLR 2024, arXiv:2307.08691 (FlashAttention-2: loop order, one division at the
    end); Rabe and Staats, 2021, arXiv:2112.05682.
    """
    check_qkv(queries, keys, values, min_dim=3 if valid_lens is not None else 2)
    check_same_d(queries, keys)
    require_bool("causal", causal)
    require_positive_int("block_size", block_size)
    if query_block_size is not None:
        require_positive_int("query_block_size", query_block_size)
    scale = (
        1.0 / math.sqrt(queries.shape[-1]) if scale is None else require_positive("scale", scale)
    )
    num_queries, num_keys = queries.shape[-2], keys.shape[-2]
    lead = queries.shape[:-2]
    batch = lead[0] if len(lead) > 0 else 1
    four_d = (batch, math.prod(lead[1:]))  # (batch_size, rest, n, d): other axes merged in rest
    q = (queries * scale).reshape(*four_d, num_queries, queries.shape[-1])  # (b, rest, nq, d)
    k = keys.reshape(*four_d, num_keys, keys.shape[-1])  # (b, rest, nk, d)
    v = values.reshape(*four_d, num_keys, values.shape[-1])  # (b, rest, nk, value_size)
    lens = None
    if valid_lens is not None:
        check_valid_lens(valid_lens, batch, num_queries, num_keys)
        lens = valid_lens.to(queries.device).reshape(batch, 1, -1, 1)  # (b, 1, nq or 1, 1)
        # keys and values that no query of the example sees: zeros, so that 0 * NaN never occurs
        seen = torch.arange(num_keys, device=queries.device) < lens.amax(dim=2)  # (b, 1, nk)
        k = torch.where(seen.unsqueeze(-1), k, 0.0)  # (b, rest, nk, d)
        v = torch.where(seen.unsqueeze(-1), v, 0.0)  # (b, rest, nk, value_size)
    if q.numel() == 0:
        return queries.new_zeros(*lead, num_queries, values.shape[-1])  # (..., nq, value_size)
    if query_block_size is None:
        rows = q.shape[0] * q.shape[1]
        query_block_size = _default_query_block(rows, num_queries, block_size, causal)
    output = _FlashAttention.apply(q, k, v, lens, causal, block_size, query_block_size)
    return output.reshape(*lead, num_queries, values.shape[-1])  # (..., nq, value_size)


