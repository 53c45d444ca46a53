"""The explorers of Part III that stand on chapter 13's explanation tools.

Source:
    S. Abnar, W. Zuidema, "Quantifying Attention Flow in Transformers", 2020, arXiv:2005.00928.
"""

from __future__ import annotations

import torch

from ..checks import require_int
from ..explain import attention_rollout
from ..scoring import attention
from .core import Explorer, alt, make_explorer, pick, round_values, slider

__all__ = ["rollout_explorer"]
F64 = torch.float64


def rollout_explorer(
    num_tokens: int = 8, num_layers: int = 6, num_heads: int = 4, seed: int = 0
) -> Explorer:
    """Chapter 13: attention rollout of a fixed stack; move the residual weight and the depth.

    ``R_L = Â_L ... Â_1`` with ``Â_l = r I + (1 - r) mean_h A_l`` (:func:`attention_rollout`),
    for a stack of ``num_layers`` layers whose weights ``A_l = softmax(Q K^T / sqrt(d))`` come
    from the library's :func:`attention` on seeded random queries and keys (float64, d = 8,
    scores scaled so that each row is peaked). The residual weight r runs from 0 to 0.9 in steps
    of 0.1 and the depth L from 1 to ``num_layers``; the chart is the ``num_tokens`` x
    ``num_tokens`` matrix R_L (row: output token, column: input token).

    Args:
        num_tokens: tokens of the stack, 2 to 16.
        num_layers: layers of the stack, 1 to 12.
        num_heads: heads per layer (averaged by rollout), 1 to 8.
        seed: seed of the random queries and keys, an int.

    Returns:
        an Explorer with the controls ``residual`` and ``layers``.

    Raises:
        TypeError, ValueError: if an argument is not an int in its range.

    Source: Abnar and Zuidema 2020, arXiv:2005.00928, sec. 3.
    """
    num_tokens = require_int("num_tokens", num_tokens, minimum=2)
    num_layers = require_int("num_layers", num_layers, minimum=1)
    num_heads = require_int("num_heads", num_heads, minimum=1)
    seed = require_int("seed", seed)
    for name, value, most in (
        ("num_tokens", num_tokens, 16),
        ("num_layers", num_layers, 12),
        ("num_heads", num_heads, 8),
    ):
        if value > most:
            raise ValueError(f"{name} must be at most {most}, got {value}")
    generator = torch.Generator().manual_seed(seed)
    shape = (num_heads, num_tokens, 8)  # (num_heads as batch, num_tokens, d)
    layers = []
    for _ in range(num_layers):
        queries = 2.0 * torch.randn(shape, generator=generator, dtype=F64)
        keys = torch.randn(shape, generator=generator, dtype=F64)
        _, weights = attention(queries, keys, keys, need_weights=True)  # (heads, n, n)
        layers.append(weights[None])  # (1, num_heads, num_tokens, num_tokens)
    residuals = [round(0.1 * i, 1) for i in range(10)]
    tokens = list(range(num_tokens))
    rows = []
    for r in residuals:
        for depth in range(1, num_layers + 1):
            rollout = attention_rollout(layers[:depth], residual=r)[0]  # (n, n)
            rows.append(
                {
                    "residual": r,
                    "layers": depth,
                    "out": [i for i in tokens for _ in tokens],
                    "in": tokens * num_tokens,
                    "weight": round_values(rollout.reshape(-1), 3),
                }
            )
    cells = (
        alt.Chart(alt.Data(name="rollout"))
        .transform_filter(pick("residual"))
        .transform_filter(pick("layers"))
        .transform_flatten(["out", "in", "weight"])
        .mark_rect()
        .encode(
            x=alt.X("in:O", title="input token (column of R)"),
            y=alt.Y("out:O", title="output token (row of R)"),
            color=alt.Color(
                "weight:Q",
                title="rollout weight",
                scale=alt.Scale(domain=[0, 1], scheme="viridis"),
            ),
            tooltip=["out:O", "in:O", "weight:Q"],
        )
    )
    chart = cells.add_params(
        slider("residual", residuals, "residual weight r", value=0.5),
        slider("layers", list(range(1, num_layers + 1)), "layers rolled out", value=2),
    ).properties(
        title="A larger r keeps the diagonal bright; more layers make the rows alike",
        width=300,
        height=300,
    )
    return make_explorer(
        chart, "13-rollout-residual-layers", ["residual", "layers"], {"rollout": rows}
    )
