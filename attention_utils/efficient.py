"""Efficient attention (chapter 10): online softmax, tiled attention and linear attention.

Sources:
    M. Milakov, N. Gimelshein, "Online normalizer calculation for softmax", 2018,
    arXiv:1805.02867 (the running maximum and running sum of :func:`online_softmax`).
    M. N. Rabe, C. Staats, "Self-attention does not need O(n^2) memory", 2021, arXiv:2112.05682
    (attention over blocks of keys with that running sum).
    T. Dao, D. Y. Fu, S. Ermon, A. Rudra, C. Re, "FlashAttention: fast and memory-efficient exact
    attention with IO-awareness", NeurIPS 2022, arXiv:2205.14135 (tiles of queries and keys, the
    log-sum-exp kept for a backward pass by recomputation).
    A. Katharopoulos, A. Vyas, N. Pappas, F. Fleuret, "Transformers are RNNs: fast autoregressive
    transformers with linear attention", ICML 2020, arXiv:2006.16236 (:func:`linear_attention`).

:func:`flash_attention` computes exactly what :func:`~attention_utils.scoring.attention` computes,
``softmax(Q K^T / sqrt(d) + masks) V``, with the same mask rules (``valid_lens``, ``causal`` aligned
at the last key, a query that sees no key gets the zero vector), but it never holds more than one
``(block_size, block_size)`` tile of scores per head: memory grows like ``L``, not ``L^2``. It is
written in PyTorch, one tile at a time, so a reader can follow it; the fused kernel behind
``F.scaled_dot_product_attention`` does the same in C++. :func:`linear_attention` is a different
model, not a faster route to the same numbers: it replaces ``exp(q . k)`` by
``phi(q) . phi(k)``.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .checks import (
    check_qkv,
    check_same_d,
    check_valid_lens,
    require_bool,
    require_positive,
    require_positive_int,
    require_tensor,
)

__all__ = ["elu_feature_map", "flash_attention", "linear_attention", "online_softmax"]


# --- online softmax -----------------------------------------------------------------------------


def online_softmax(X: torch.Tensor, block_size: int = 128) -> torch.Tensor:
    """Softmax over the last axis, with its normaliser computed in one streaming pass over blocks.

    For each row ``x``, blocks ``x_B`` of ``block_size`` entries are read in turn while a running
    maximum ``m`` and a running sum ``s = sum exp(x_j - m)`` over the entries seen so far are kept:

        m' = max(m, max(x_B)),   s' = s * exp(m - m') + sum_{j in B} exp(x_j - m').

    After the last block ``s`` is the softmax's denominator:
    ``softmax(x)_j = exp(x_j - m) / s``.
    Every ``exp`` has a non-positive argument, so nothing overflows; the result equals
    ``torch.softmax(X, dim=-1)`` up to rounding.

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
        block_sum = torch.exp(block - new_max.unsqueeze(-1)).sum(dim=-1)  # (...,)
        running_sum = running_sum * torch.exp(running_max - new_max) + block_sum
        running_max = new_max
    return torch.exp(X - running_max.unsqueeze(-1)) / running_sum.unsqueeze(-1)  # (..., n)


# --- tiled (flash) attention --------------------------------------------------------------------


def _tile_mask(
    valid_lens: torch.Tensor | None,
    causal: bool,
    q_start: int,
    q_end: int,
    k_start: int,
    k_end: int,
    offset: int,
    ndim: int,
    device: torch.device,
) -> torch.Tensor | None:
    """The key mask of one tile (True = take part), built for that tile only, or None.

    ``offset = num_keys - num_queries`` aligns the causal mask at the last key, as in the core.
    """
    mask = None
    key_pos = torch.arange(k_start, k_end, device=device)  # (block_k,)
    if valid_lens is not None:
        if valid_lens.dim() == 1:
            lens = valid_lens.reshape(-1, *([1] * (ndim - 1)))  # (batch_size, 1, ..., 1)
        else:
            lens = valid_lens[:, q_start:q_end]  # (batch_size, block_q)
            lens = lens.reshape(lens.shape[0], *([1] * (ndim - 3)), -1, 1)
            # (batch_size, 1, ..., block_q, 1)
        mask = key_pos < lens  # (batch_size, 1, ..., block_q or 1, block_k)
    if causal and k_end - 1 > q_start + offset:  # some key of the tile lies in some query's future
        query_pos = torch.arange(q_start, q_end, device=device).unsqueeze(-1)  # (block_q, 1)
        past = key_pos <= query_pos + offset  # (block_q, block_k)
        mask = past if mask is None else mask & past
    return mask


def _key_blocks(q_start: int, q_end: int, num_keys: int, block: int, causal: bool, offset: int):
    """Start and end of every key tile that some query in ``[q_start, q_end)`` may see."""
    last_key = min(num_keys, q_end + offset) if causal else num_keys  # later keys: all future
    return [(k, min(k + block, last_key)) for k in range(0, last_key, block)]


def _flash_forward(q, k, v, valid_lens, causal, block_size, scale):
    """Tiled forward pass: the output ``(..., nq, dv)`` and the log-sum-exp ``(..., nq)``."""
    num_queries, num_keys = q.shape[-2], k.shape[-2]
    offset = num_keys - num_queries
    lowest = torch.finfo(q.dtype).min
    output = q.new_empty(*q.shape[:-1], v.shape[-1])  # (..., num_queries, value_size)
    logsumexp = q.new_empty(q.shape[:-1])  # (..., num_queries)
    for q_start in range(0, num_queries, block_size):
        q_end = min(q_start + block_size, num_queries)
        q_tile = q[..., q_start:q_end, :] * scale  # (..., block_q, d)
        row_max = q.new_full(q_tile.shape[:-1], lowest)  # (..., block_q)
        row_sum = q.new_zeros(q_tile.shape[:-1])  # (..., block_q)
        acc = q.new_zeros(*q_tile.shape[:-1], v.shape[-1])  # (..., block_q, value_size)
        for k_start, k_end in _key_blocks(q_start, q_end, num_keys, block_size, causal, offset):
            # The tile's elementwise work is done in place (the methods ending in "_"), so the
            # loop does not allocate and fill a fresh block_q x block_k tensor for every step.
            scores = q_tile @ k[..., k_start:k_end, :].transpose(-2, -1)  # (..., block_q, block_k)
            mask = _tile_mask(
                valid_lens, causal, q_start, q_end, k_start, k_end, offset, q.dim(), q.device
            )
            if mask is not None:
                scores.masked_fill_(~mask, lowest)
            new_max = torch.maximum(row_max, scores.amax(dim=-1))  # (..., block_q)
            probs = scores.sub_(new_max.unsqueeze(-1)).exp_()  # (..., block_q, block_k)
            if mask is not None:
                probs.masked_fill_(~mask, 0.0)  # a row masked so far has exp(0) = 1 here
            correction = torch.exp(row_max - new_max)  # (..., block_q)
            row_sum = row_sum * correction + probs.sum(dim=-1)
            acc = acc.mul_(correction.unsqueeze(-1)).add_(probs @ v[..., k_start:k_end, :])
            # (..., block_q, value_size)
            row_max = new_max
        seen = row_sum > 0  # (..., block_q); False where the query sees no key
        safe_sum = row_sum.clamp_min(torch.finfo(q.dtype).tiny).unsqueeze(-1)  # (..., block_q, 1)
        output[..., q_start:q_end, :] = torch.where(seen.unsqueeze(-1), acc / safe_sum, 0.0)
        # log sum_j exp(s_j); +inf for a query that sees no key, so exp(s - lse) = 0 in backward
        logsumexp[..., q_start:q_end] = torch.where(seen, row_max + torch.log(row_sum), math.inf)
    return output, logsumexp


def _flash_backward(q, k, v, out, logsumexp, grad_out, valid_lens, causal, block_size, scale):
    """Gradients of the tiled attention, recomputing each tile's weights from the log-sum-exp.

    With ``P = softmax(S)``, ``S = scale * Q K^T`` and ``O = P V``:
    ``dV = P^T dO``, ``dP = dO V^T``, ``dS = P * (dP - rowsum(dO * O))``,
    ``dQ = scale * dS K`` and ``dK = scale * dS^T Q`` (Dao et al. 2022, appendix B.2).
    """
    num_queries, num_keys = q.shape[-2], k.shape[-2]
    offset = num_keys - num_queries
    grad_q, grad_k, grad_v = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    delta = (grad_out * out).sum(dim=-1)  # (..., num_queries)
    for q_start in range(0, num_queries, block_size):
        q_end = min(q_start + block_size, num_queries)
        q_tile = q[..., q_start:q_end, :]  # (..., block_q, d)
        do_tile = grad_out[..., q_start:q_end, :]  # (..., block_q, value_size)
        lse = logsumexp[..., q_start:q_end].unsqueeze(-1)  # (..., block_q, 1)
        for k_start, k_end in _key_blocks(q_start, q_end, num_keys, block_size, causal, offset):
            k_tile, v_tile = k[..., k_start:k_end, :], v[..., k_start:k_end, :]  # (..., block_k, *)
            scores = (q_tile * scale) @ k_tile.transpose(-2, -1)  # (..., block_q, block_k)
            probs = torch.exp(scores - lse)  # (..., block_q, block_k)
            mask = _tile_mask(
                valid_lens, causal, q_start, q_end, k_start, k_end, offset, q.dim(), q.device
            )
            if mask is not None:
                probs = probs.masked_fill(~mask, 0.0)
            grad_v[..., k_start:k_end, :] += probs.transpose(-2, -1) @ do_tile  # (..., block_k, dv)
            grad_p = do_tile @ v_tile.transpose(-2, -1)  # (..., block_q, block_k)
            grad_s = probs * (grad_p - delta[..., q_start:q_end].unsqueeze(-1))  # (..., bq, bk)
            grad_q[..., q_start:q_end, :] += scale * grad_s @ k_tile  # (..., block_q, d)
            grad_k[..., k_start:k_end, :] += (
                scale * grad_s.transpose(-2, -1) @ q_tile
            )  # (.., bk, d)
    return grad_q, grad_k, grad_v


class _FlashAttention(torch.autograd.Function):
    """Tiled attention whose backward recomputes the tiles instead of storing the weights."""

    @staticmethod
    def forward(ctx, q, k, v, valid_lens, causal, block_size, scale):
        output, logsumexp = _flash_forward(q, k, v, valid_lens, causal, block_size, scale)
        ctx.save_for_backward(q, k, v, output, logsumexp)  # O(L) memory: no weights kept
        ctx.options = (valid_lens, causal, block_size, scale)
        return output

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, output, logsumexp = ctx.saved_tensors
        grads = _flash_backward(q, k, v, output, logsumexp, grad_out, *ctx.options)
        return (*grads, None, None, None, None)


def flash_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    causal: bool = False,
    block_size: int = 512,
    scale: float | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention computed tile by tile, never holding the L x L weights.

    For each tile of ``block_size`` queries, the tiles of keys are visited in turn, keeping per
    query a running maximum ``m``, a running sum ``l`` and an unnormalised output ``acc``:

        S = scale * Q_tile K_tile^T,   m' = max(m, rowmax(S)),   P = exp(S - m'),
        l' = l * exp(m - m') + rowsum(P),   acc' = acc * exp(m - m') + P V_tile,

    and the output is ``acc / l``. This equals ``softmax(scale * Q K^T + masks) V``, i.e.
    :func:`~attention_utils.scoring.attention` and ``F.scaled_dot_product_attention``, up to
    rounding. Key tiles wholly in a query tile's future are skipped under ``causal``. Memory beyond
    the inputs and output: ``O(block_size^2)`` per head in the forward pass and ``O(L)`` saved for
    the backward pass (the log-sum-exp of every query), which recomputes the tiles.

    Args:
        queries: ``(..., num_queries, d)``, floating point; with ``valid_lens`` the first
            dimension is ``batch_size``, e.g. ``(batch_size, num_heads, num_queries, d)``.
        keys: ``(..., num_keys, d)``, the same leading dimensions and dtype.
        values: ``(..., num_keys, value_size)``.
        valid_lens: None, or integer lengths ``(batch_size,)`` or ``(batch_size, num_queries)``:
            key j takes part for query i of example b when ``j < valid_lens[b]`` (or
            ``valid_lens[b, i]``), as in :func:`~attention_utils.scoring.attention`. A query that
            sees no key gets the zero vector (and zero gradients).
        causal: if True, query i sees no key j with ``j > i + num_keys - num_queries``.
        block_size: queries and keys per tile; it need not divide the lengths.
        scale: the factor on ``q . k``; None means ``1 / sqrt(d)``.

    Returns:
        ``(..., num_queries, value_size)``; differentiable in queries, keys and values.

    Raises:
        TypeError: if a tensor is not floating point, the dtypes differ, ``valid_lens`` is not an
            integer tensor, or a flag or number has the wrong type.
        ValueError: for shapes that do not fit, ``d = 0``, no keys, ``valid_lens`` out of
            ``[0, num_keys]``, ``block_size < 1`` or a non-positive ``scale``.

    Source: Dao et al., NeurIPS 2022, arXiv:2205.14135, algorithm 1 (forward) and appendix B
    (backward); Rabe and Staats, 2021, arXiv:2112.05682.
    """
    check_qkv(queries, keys, values, min_dim=3 if valid_lens is not None else 2)
    check_same_d(queries, keys)
    require_bool("causal", causal)
    require_positive_int("block_size", block_size)
    scale = (
        1.0 / math.sqrt(queries.shape[-1]) if scale is None else require_positive("scale", scale)
    )
    if valid_lens is not None:
        check_valid_lens(valid_lens, queries.shape[0], queries.shape[-2], keys.shape[-2])
        valid_lens = valid_lens.to(queries.device)
    if queries.shape[-2] == 0:
        return queries.new_zeros(*queries.shape[:-1], values.shape[-1])  # (..., 0, value_size)
    return _FlashAttention.apply(queries, keys, values, valid_lens, causal, block_size, scale)


# --- linear attention ---------------------------------------------------------------------------


def elu_feature_map(X: torch.Tensor) -> torch.Tensor:
    """``phi(x) = elu(x) + 1``, elementwise: positive everywhere, so ``phi(q) . phi(k) > 0``.

    Args:
        X: any floating-point tensor.

    Returns:
        A tensor of ``X``'s shape.

    Raises:
        TypeError: if ``X`` is not a floating-point tensor.

    Katharopoulos et al., ICML 2020, arXiv:2006.16236, eq. (7).
    """
    require_tensor("X", X)
    return F.elu(X) + 1.0  # X's shape


def linear_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    valid_lens: torch.Tensor | None = None,
    causal: bool = False,
    chunk_size: int = 64,
) -> torch.Tensor:
    """Linear attention: softmax's ``exp(q . k)`` replaced by ``phi(q) . phi(k)``.

    ``output_i = phi(q_i)^T S_i / (phi(q_i)^T z_i)`` with ``S_i = sum_j phi(k_j) v_j^T`` and
    ``z_i = sum_j phi(k_j)``, the sums over the keys that query i sees, ``phi`` =
    :func:`elu_feature_map`. Non-causal: one ``S`` for every query, so time and memory grow like
    ``L d^2`` rather than ``L^2 d``. Causal: the sums are prefix sums (the model is an RNN whose
    state is ``(S, z)``); they are computed a chunk of ``chunk_size`` steps at a time, carrying
    ``(S, z)`` between chunks and doing the small ``chunk x chunk`` part inside a chunk directly,
    which keeps time ``O(L)`` and memory ``O(chunk^2 + d^2)`` per head.

    Args:
        queries: ``(..., num_queries, d)``, floating point.
        keys: ``(..., num_keys, d)``, same leading dimensions and dtype.
        values: ``(..., num_keys, value_size)``.
        valid_lens: None, or lengths ``(batch_size,)``: keys ``j >= valid_lens[b]`` of example b
            take no part. A query that sees no key gets the zero vector.
        causal: if True, query i sees keys ``j <= i``; needs ``num_queries == num_keys``.
        chunk_size: steps per chunk in the causal case.

    Returns:
        ``(..., num_queries, value_size)``.

    Raises:
        TypeError: for non-floating tensors, differing dtypes, a non-integer ``valid_lens`` or a
            flag or size of the wrong type.
        ValueError: for shapes that do not fit, ``valid_lens`` not of shape ``(batch_size,)`` or
            out of range, ``causal`` with ``num_queries != num_keys``, or ``chunk_size < 1``.

    Source: Katharopoulos et al., "Transformers are RNNs", ICML 2020, arXiv:2006.16236,
    eqs. (4)-(9).
    """
    check_qkv(queries, keys, values, min_dim=3 if valid_lens is not None else 2)
    check_same_d(queries, keys)
    require_bool("causal", causal)
    require_positive_int("chunk_size", chunk_size)
    num_queries, num_keys = queries.shape[-2], keys.shape[-2]
    if causal and num_queries != num_keys:
        raise ValueError(
            "causal linear attention needs num_queries == num_keys, "
            f"got {num_queries} and {num_keys}"
        )
    phi_q, phi_k = elu_feature_map(queries), elu_feature_map(keys)  # (..., L, d)
    if valid_lens is not None:
        if not isinstance(valid_lens, torch.Tensor) or valid_lens.dim() != 1:
            raise ValueError("valid_lens of linear_attention must have shape (batch_size,)")
        check_valid_lens(valid_lens, queries.shape[0], num_queries, num_keys)
        lens = valid_lens.to(keys.device).reshape(-1, *([1] * (keys.dim() - 1)))  # (b, 1, ..., 1)
        key_pos = torch.arange(num_keys, device=keys.device).unsqueeze(-1)  # (num_keys, 1)
        phi_k = phi_k * (key_pos < lens)  # (..., num_keys, d): a masked key adds nothing
    if not causal:
        state = phi_k.transpose(-2, -1) @ values  # (..., d, value_size)
        normaliser = phi_k.sum(dim=-2)  # (..., d)
        numerator = phi_q @ state  # (..., num_queries, value_size)
        denominator = (phi_q * normaliser.unsqueeze(-2)).sum(dim=-1)  # (..., num_queries)
        return _safe_divide(numerator, denominator)
    state = phi_k.new_zeros(*phi_k.shape[:-2], phi_k.shape[-1], values.shape[-1])  # (..., d, dv)
    normaliser = phi_k.new_zeros(*phi_k.shape[:-2], phi_k.shape[-1])  # (..., d)
    outputs = []
    for start in range(0, num_keys, chunk_size):
        q_c, k_c = (
            phi_q[..., start : start + chunk_size, :],
            phi_k[..., start : start + chunk_size, :],
        )
        v_c = values[..., start : start + chunk_size, :]  # (..., chunk, value_size)
        within = (q_c @ k_c.transpose(-2, -1)).tril()  # (..., chunk, chunk): keys j <= i in chunk
        numerator = q_c @ state + within @ v_c  # (..., chunk, value_size)
        denominator = (q_c * normaliser.unsqueeze(-2)).sum(dim=-1) + within.sum(
            dim=-1
        )  # (.., chunk)
        outputs.append(_safe_divide(numerator, denominator))
        state = state + k_c.transpose(-2, -1) @ v_c  # (..., d, value_size)
        normaliser = normaliser + k_c.sum(dim=-2)  # (..., d)
    return torch.cat(outputs, dim=-2)  # (..., num_queries, value_size)


def _safe_divide(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """``numerator / denominator[..., None]``, and 0 where the denominator is 0 (no key seen)."""
    seen = (denominator > 0).unsqueeze(-1)  # (..., num_queries, 1)
    safe = denominator.clamp_min(torch.finfo(denominator.dtype).tiny).unsqueeze(-1)  # (..., nq, 1)
    return torch.where(seen, numerator / safe, 0.0)  # (..., num_queries, value_size)
