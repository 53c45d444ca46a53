"""The explorers of Part II (chapters 06-10) that stand on the library's stable core.

Sources:
    D. Bahdanau, K. Cho, Y. Bengio, "Neural Machine Translation by Jointly Learning to Align and
    Translate", 2014, arXiv:1409.0473. T. Dao et al., "FlashAttention: Fast and Memory-Efficient
    Exact Attention with IO-Awareness", 2022, arXiv:2205.14135. A. Katharopoulos et al.,
    "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", 2020,
    arXiv:2006.16236.
"""

from __future__ import annotations

import altair as alt
import torch

from ..checks import require_int, require_positive
from ..scoring import attention_pool
from .core import Explorer, _round, dropdown, make_explorer, pick, slider

__all__ = ["alignment_explorer", "efficient_explorer"]


def alignment_explorer(max_len: int = 12, width: float = 0.6) -> Explorer:
    """Chapter 06: the soft alignment of a decoder step over the source, source length by length.

    An analytic alignment, not a trained one: decoding step ``t`` of a target as long as the
    source (``L`` tokens) scores source position ``j`` with ``-(j - t)**2 / (2 width**2)`` and
    :func:`attention_pool` turns the scores into weights (and pools the one-hot source positions,
    so the context is the weights themselves). The heatmap is the whole alignment; the step's row
    is the one the decoder uses now.

    Args:
        max_len: longest source, 3 to 20 tokens; the slider runs from 3 to it.
        width: the alignment's width in tokens, > 0.

    Returns:
        an Explorer with the controls ``source_len`` and ``step``.

    Raises:
        TypeError, ValueError: if ``max_len`` is not an int in [3, 20] or ``width`` not > 0.

    Source: Bahdanau et al. (2014), arXiv:1409.0473, figure 3 (the alignments it learns).
    """
    max_len = require_int("max_len", max_len, minimum=3)
    if max_len > 20:
        raise ValueError(f"max_len must be at most 20, got {max_len}")
    width = require_positive("width", width)
    rows = []
    for n in range(3, max_len + 1):
        pos = torch.arange(n, dtype=torch.float64)
        scores = -((pos.unsqueeze(1) - pos) ** 2) / (2 * width**2)  # (n steps, n sources)
        _, weights = attention_pool(scores, torch.eye(n, dtype=torch.float64))  # (n, n)
        rows += [
            {
                "source_len": n,
                "step": t + 1,
                "source": list(range(1, n + 1)),
                "weight": _round(weights[t], 3),
            }
            for t in range(n)
        ]
    base = alt.Chart(alt.Data(name="alignment")).transform_filter(pick("source_len"))
    heat = (
        base.transform_flatten(["source", "weight"])
        .mark_rect()
        .encode(
            x=alt.X("source:O", title="source position j"),
            y=alt.Y("step:O", title="decoding step t"),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme="reds", domain=[0, 1])),
            opacity=alt.condition(
                "datum.step == min(step, source_len)", alt.value(1.0), alt.value(0.35)
            ),
        )
    )
    bars = (
        base.transform_filter("datum.step == min(step, source_len)")
        .transform_flatten(["source", "weight"])
        .mark_bar(color="#c0392b")
        .encode(
            x=alt.X("source:O", title="source position j"),
            y=alt.Y("weight:Q", title="weight of step t", scale=alt.Scale(domain=[0, 1])),
        )
    )
    chart = alt.hconcat(
        heat.properties(width=240, height=240, title="the alignment"),
        bars.properties(width=240, height=240, title="this step's weights"),
    ).add_params(
        slider("source_len", list(range(3, max_len + 1)), "source length", value=8),
        slider("step", list(range(1, max_len + 1)), "decoding step", value=3),
    )
    return make_explorer(chart, "06-source-step", ["source_len", "step"], {"alignment": rows})


def efficient_explorer(head_dim: int = 64) -> Explorer:
    """Chapter 10: memory and FLOPs of exact, tiled and linear attention, from the formulas.

    Per head, in float32 (4 bytes), for a sequence of ``n`` tokens and block size ``B``:
    the extra memory of standard attention is its ``n x n`` score matrix (``4 n**2`` bytes); tiled
    (Flash) attention keeps one ``B x B`` tile of scores, a ``B x d`` tile of Q, K and V each and
    the ``n`` running maxima and sums (``4 (B**2 + 3 B d + 2 n)``); linear attention keeps the
    ``d x d`` state and a ``d`` normaliser (``4 (d**2 + d)``). FLOPs of the forward pass:
    ``4 n**2 d`` for both exact methods and ``4 n d**2`` for linear attention. Nothing is timed.

    Args:
        head_dim: ``d``, 8 to 256.

    Returns:
        an Explorer with the controls ``block`` and ``log2_len``.

    Raises:
        TypeError, ValueError: if ``head_dim`` is not an int in [8, 256].

    Source: Dao et al. (2022), arXiv:2205.14135; Katharopoulos et al. (2020), arXiv:2006.16236.
    """
    d = require_int("head_dim", head_dim, minimum=8)
    if d > 256:
        raise ValueError(f"head_dim must be at most 256, got {d}")
    blocks, log2s = [32, 64, 128, 256], list(range(7, 17))
    rows = []
    for block in blocks:
        for k in log2s:
            n = 2**k
            b = min(block, n)
            memory = {
                "standard": 4 * n * n,
                "tiled (Flash)": 4 * (b * b + 3 * b * d + 2 * n),
                "linear": 4 * (d * d + d),
            }
            flops = {
                "standard": 4 * n * n * d,
                "tiled (Flash)": 4 * n * n * d,
                "linear": 4 * n * d * d,
            }
            rows += [
                {
                    "block": block,
                    "log2_len": k,
                    "method": m,
                    "MiB": memory[m] / 2**20,
                    "GFLOP": flops[m] / 1e9,
                }
                for m in memory
            ]
    base = (
        alt.Chart(alt.Data(name="costs"))
        .transform_filter(pick("block"))
        .transform_calculate(n="pow(2, datum.log2_len)")
    )
    colour = alt.Color("method:N", title="method")
    x = alt.X("n:Q", scale=alt.Scale(type="log", base=2), title="sequence length n")
    panels = []
    for field, title in (("MiB", "extra memory per head (MiB)"), ("GFLOP", "forward GFLOP")):
        lines = base.mark_line(point=True).encode(
            x=x,
            y=alt.Y(f"{field}:Q", scale=alt.Scale(type="log"), title=title),
            color=colour,
            tooltip=["method:N", "n:Q", alt.Tooltip(f"{field}:Q", format=".3g")],
        )
        rule = base.transform_filter(pick("log2_len")).mark_rule(color="gray").encode(x=x)
        labels = (
            base.transform_filter(pick("log2_len"))
            .mark_text(align="left", dx=4)
            .encode(x=x, y=f"{field}:Q", text=alt.Text(f"{field}:Q", format=".3g"), color=colour)
        )
        panels.append(alt.layer(lines, rule, labels).properties(width=260, height=220))
    chart = alt.hconcat(*panels).add_params(
        dropdown("block", blocks, "block size B", value=128),
        slider("log2_len", log2s, "log2 sequence length", value=12),
    )
    return make_explorer(chart, "10-length-block", ["block", "log2_len"], {"costs": rows})
