"""Linear attention (chapter 10): the parallel form, its chunked causal form and its recurrence.

Source:
    A. Katharopoulos, A. Vyas, N. Pappas, F. Fleuret, "Transformers are RNNs: fast autoregressive
    transformers with linear attention", ICML 2020, arXiv:2006.16236.

Linear attention is a different model from softmax attention, not a faster route to the same
numbers: it replaces ``exp(q . k)`` by ``phi(q) . phi(k)`` with a feature map ``phi`` that is
positive everywhere. The sums over keys then factor out of the sum over queries. In the causal
case they are prefix sums, and the layer is a recurrent network whose state ``(S, z)`` has a
fixed size: :func:`linear_attention_step` decodes one token with ``O(1)`` time and memory in the
number of tokens seen (sec. 3.4 of the paper), where softmax attention reads a growing KV cache.

Under half precision (float16, bfloat16) the feature maps, the sums and the division run in
float32 and the result is cast back: in float16 the sums over a few thousand keys overflow.
"""

from __future__ import annotations

import torch

from .checks import (
    check_qkv,
    check_same_d,
    check_valid_lens,
    require_bool,
    require_positive_int,
    require_tensor,
)

__all__ = ["elu_feature_map", "linear_attention", "linear_attention_step"]

_HALF = (torch.float16, torch.bfloat16)


def elu_feature_map(X: torch.Tensor) -> torch.Tensor:
    """``phi(x) = elu(x) + 1``, elementwise, computed so that it is positive everywhere.

    ``elu(x) + 1`` is ``x + 1`` for ``x > 0`` and ``exp(x)`` for ``x <= 0``. Written as
    ``F.elu(x) + 1`` it rounds to exactly 0 below about ``x = -17`` in float32 (``exp(x) - 1``
    is ``-1`` to float32's precision); computed as ``exp(x)`` and clamped at the dtype's smallest
    normal number it stays positive for every finite input.

    Args:
        X: any floating-point tensor.

    Returns:
        A tensor of ``X``'s shape and dtype, every entry ``>= torch.finfo(X.dtype).tiny``.

    Raises:
        TypeError: if ``X`` is not a floating-point tensor.

    Source: Katharopoulos et al., ICML 2020, arXiv:2006.16236, eq. (7).
    """
    require_tensor("X", X)
    positive = torch.where(X > 0, X + 1.0, torch.exp(X.clamp_max(0.0)))  # X's shape
    return positive.clamp_min(torch.finfo(X.dtype).tiny)  # X's shape


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 under half precision, else the dtype itself."""
    return torch.float32 if dtype in _HALF else dtype


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
    state is ``(S, z)``, see :func:`linear_attention_step`); they are computed a chunk of
    ``chunk_size`` steps at a time, carrying ``(S, z)`` between chunks and doing the small
    ``chunk x chunk`` part inside a chunk directly, which keeps time ``O(L)`` and memory
    ``O(chunk^2 + d^2)`` per head.

    Args:
        queries: ``(..., num_queries, d)``, floating point.
        keys: ``(..., num_keys, d)``, same leading dimensions and dtype.
        values: ``(..., num_keys, value_size)``.
        valid_lens: None, or lengths ``(batch_size,)``: keys ``j >= valid_lens[b]`` of example b
            take no part (a NaN in their keys or values does not leak). A query that sees no key
            gets the zero vector.
        causal: if True, query i sees keys ``j <= i``; needs ``num_queries == num_keys``.
        chunk_size: steps per chunk in the causal case.

    Returns:
        ``(..., num_queries, value_size)`` in the inputs' dtype (computed in float32 under
        float16 and bfloat16).

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
    dtype = _compute_dtype(queries.dtype)
    phi_q = elu_feature_map(queries.to(dtype))  # (..., num_queries, d)
    phi_k = elu_feature_map(keys.to(dtype))  # (..., num_keys, d)
    values = values.to(dtype)  # (..., num_keys, value_size)
    if valid_lens is not None:
        if not isinstance(valid_lens, torch.Tensor) or valid_lens.dim() != 1:
            raise ValueError("valid_lens of linear_attention must have shape (batch_size,)")
        check_valid_lens(valid_lens, queries.shape[0], num_queries, num_keys)
        lens = valid_lens.to(keys.device).reshape(-1, *([1] * (keys.dim() - 1)))  # (b, 1, ..., 1)
        key_pos = torch.arange(num_keys, device=keys.device).unsqueeze(-1)  # (num_keys, 1)
        seen = key_pos < lens  # (b, 1, ..., num_keys, 1)
        phi_k = torch.where(seen, phi_k, 0.0)  # (..., num_keys, d): a masked key adds nothing
        values = torch.where(seen, values, 0.0)  # (..., num_keys, value_size): no 0 * NaN
    if not causal:
        state = phi_k.transpose(-2, -1) @ values  # (..., d, value_size)
        normaliser = phi_k.sum(dim=-2)  # (..., d)
        numerator = phi_q @ state  # (..., num_queries, value_size)
        denominator = (phi_q * normaliser.unsqueeze(-2)).sum(dim=-1)  # (..., num_queries)
        return _safe_divide(numerator, denominator).to(queries.dtype)
    state = phi_k.new_zeros(*phi_k.shape[:-2], phi_k.shape[-1], values.shape[-1])  # (..., d, dv)
    normaliser = phi_k.new_zeros(*phi_k.shape[:-2], phi_k.shape[-1])  # (..., d)
    outputs = []
    for start in range(0, num_keys, chunk_size):
        q_c = phi_q[..., start : start + chunk_size, :]  # (..., chunk, d)
        k_c = phi_k[..., start : start + chunk_size, :]  # (..., chunk, d)
        v_c = values[..., start : start + chunk_size, :]  # (..., chunk, value_size)
        within = (q_c @ k_c.transpose(-2, -1)).tril()  # (..., chunk, chunk): keys j <= i in chunk
        numerator = q_c @ state + within @ v_c  # (..., chunk, value_size)
        denominator = (q_c * normaliser.unsqueeze(-2)).sum(dim=-1) + within.sum(dim=-1)
        # (..., chunk)
        outputs.append(_safe_divide(numerator, denominator))
        state = state + k_c.transpose(-2, -1) @ v_c  # (..., d, value_size)
        normaliser = normaliser + k_c.sum(dim=-2)  # (..., d)
    return torch.cat(outputs, dim=-2).to(queries.dtype)  # (..., num_queries, value_size)


def linear_attention_step(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One step of causal linear attention as a recurrent network (decoding one token).

    ``S_i = S_{i-1} + phi(k_i) v_i^T``, ``z_i = z_{i-1} + phi(k_i)``,
    ``output_i = phi(q_i)^T S_i / (phi(q_i)^T z_i)``, with ``S_0 = 0`` and ``z_0 = 0``. The state
    ``(S, z)`` has ``d * (value_size + 1)`` numbers per head whatever the number of steps, so a
    step costs the same at token 10 and at token 10 000. Run over a sequence it gives
    :func:`linear_attention` with ``causal=True``.

    Args:
        query: ``(..., d)``, floating point: one position per head (e.g. ``(batch, heads, d)``).
        key: ``(..., d)``, the same leading dimensions and dtype.
        value: ``(..., value_size)``.
        state: None before the first step, else the state this function returned: ``S`` of shape
            ``(..., d, value_size)`` and ``z`` of shape ``(..., d)`` (float32 under half
            precision).

    Returns:
        ``(output, state)``: ``output`` of shape ``(..., value_size)`` in the query's dtype and
        the new state.

    Raises:
        TypeError: for non-floating tensors, differing dtypes, or a state that is not a pair of
            tensors.
        ValueError: if the leading dimensions or ``d`` do not match, or the state's shapes do not
            fit.

    Source: Katharopoulos et al., ICML 2020, arXiv:2006.16236, sec. 3.4, eqs. (18)-(20).
    """
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        require_tensor(name, tensor)
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(
            f"query, key and value must share a dtype, got {query.dtype}, {key.dtype}, "
            f"{value.dtype}"
        )
    if query.dim() < 1 or not query.shape[:-1] == key.shape[:-1] == value.shape[:-1]:
        raise ValueError(
            "query (..., d), key (..., d) and value (..., value_size) must have the same leading "
            f"dimensions, got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    check_same_d(query, key)
    dtype = _compute_dtype(query.dtype)
    phi_q, phi_k = elu_feature_map(query.to(dtype)), elu_feature_map(key.to(dtype))  # (..., d)
    lead, d, dv = query.shape[:-1], query.shape[-1], value.shape[-1]
    if state is None:
        S = phi_k.new_zeros(*lead, d, dv)  # (..., d, value_size)
        z = phi_k.new_zeros(*lead, d)  # (..., d)
    else:
        if not (isinstance(state, tuple) and len(state) == 2
                and all(isinstance(s, torch.Tensor) for s in state)):
            raise TypeError("state must be None or the (S, z) pair linear_attention_step returned")
        S, z = state
        if S.shape != (*lead, d, dv) or z.shape != (*lead, d):
            raise ValueError(
                f"state must hold S of shape {(*lead, d, dv)} and z of shape {(*lead, d)}, "
                f"got {tuple(S.shape)} and {tuple(z.shape)}"
            )
    S = S + phi_k.unsqueeze(-1) * value.to(dtype).unsqueeze(-2)  # (..., d, value_size)
    z = z + phi_k  # (..., d)
    numerator = (phi_q.unsqueeze(-2) @ S).squeeze(-2)  # (..., value_size)
    denominator = (phi_q * z).sum(dim=-1)  # (...,)
    return _safe_divide(numerator, denominator).to(query.dtype), (S, z)


def _safe_divide(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """``numerator / denominator[..., None]``, and 0 where the denominator is 0 (no key seen)."""
    seen = (denominator > 0).unsqueeze(-1)  # (..., num_queries, 1)
    safe = torch.where(seen, denominator.unsqueeze(-1), 1.0)  # (..., num_queries, 1)
    return torch.where(seen, numerator / safe, 0.0)  # (..., num_queries, value_size)
