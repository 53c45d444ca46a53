"""The explorers of Part II (chapters 06-10) that stand on the library's stable core.

Sources:
    D. Bahdanau, K. Cho, Y. Bengio, "Neural Machine Translation by Jointly Learning to Align and
    Translate", 2014, arXiv:1409.0473. T. Dao et al., "FlashAttention: Fast and Memory-Efficient
    Exact Attention with IO-Awareness", 2022, arXiv:2205.14135. A. Katharopoulos et al.,
    "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", 2020,
    arXiv:2006.16236.
"""

from __future__ import annotations

import torch

from ..checks import require_int, require_positive
from ..core import attention, attention_pool
from ..registry import ATTENTION_MODULES, make_attention
from .core import Explorer, alt, dropdown, make_explorer, pick, round_values, slider

__all__ = [
    "alignment_explorer",
    "efficient_explorer",
    "kv_cache_explorer",
    "non_local_explorer",
    "zoo_explorer",
]
F64 = torch.float64


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
                "weight": round_values(weights[t], 3),
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


def kv_cache_explorer(num_steps: int = 12, seed: int = 0) -> Explorer:
    """Chapter 07: decoding with a KV cache, step by step, for each layer and head.

    A seeded, untrained two-layer causal self-attention (two heads of size 4, residual
    connections) decodes ``num_steps`` tokens one at a time: at step ``t`` the new token's query
    meets the ``t`` keys and values in the cache, ``softmax(q_t K_{<=t}^T / 2)``, through
    :func:`attention`. The function asserts that these rows equal the full causal attention
    (``causal=True``) of the whole sequence, the KV cache's promise.

    Args:
        num_steps: tokens to decode, 2 to 32.
        seed: seed of the private generator.

    Returns:
        an Explorer with the controls ``layer_head`` and ``step``.

    Raises:
        TypeError, ValueError: if ``num_steps`` is not an int in [2, 32] or ``seed`` not an int.

    Source: Vaswani et al. (2017), arXiv:1706.03762; R. Pope et al., "Efficiently Scaling
    Transformer Inference", 2022, arXiv:2211.05102 (the KV cache).
    """
    n = require_int("num_steps", num_steps, minimum=2)
    if n > 32:
        raise ValueError(f"num_steps must be at most 32, got {n}")
    g = torch.Generator().manual_seed(require_int("seed", seed))
    x = torch.randn(1, n, 8, generator=g, dtype=F64)  # (1, num_steps, num_hiddens)
    rows, names = [], []
    for layer in (1, 2):
        w_q, w_k, w_v = (torch.randn(8, 8, generator=g, dtype=F64) / 8**0.5 for _ in range(3))
        heads = [(x @ w).reshape(1, n, 2, 4).transpose(1, 2) for w in (w_q, w_k, w_v)]
        out, full = attention(*heads, need_weights=True, causal=True)  # full: (1, 2, n, n)
        for t in range(n):  # the cached path: one query, the keys and values so far
            _, step = attention(
                *(
                    h[:, :, i : i + 1] if j == 0 else h[:, :, : t + 1]
                    for j, (h, i) in enumerate(zip(heads, (t, 0, 0)))
                ),
                need_weights=True,
            )  # (1, 2, 1, t + 1)
            assert torch.allclose(step[..., 0, :], full[..., t, : t + 1])
        for h in range(2):
            names.append(f"layer {layer}, head {h + 1}")
            rows += [
                {
                    "layer_head": names[-1],
                    "step": t + 1,
                    "key": list(range(1, t + 2)),
                    "weight": round_values(full[0, h, t, : t + 1], 3),
                }
                for t in range(n)
            ]
        x = x + out.transpose(1, 2).reshape(1, n, 8)  # residual, the next layer's input
    bars = (
        alt.Chart(alt.Data(name="cache"))
        .transform_filter(pick("layer_head"))
        .transform_filter(pick("step"))
        .transform_flatten(["key", "weight"])
        .mark_bar(color="#c0392b")
        .encode(
            x=alt.X(
                "key:O",
                title="cached position (keys and values kept)",
                scale=alt.Scale(domain=list(range(1, n + 1))),
            ),
            y=alt.Y("weight:Q", title="attention weight", scale=alt.Scale(domain=[0, 1])),
        )
    )
    title = alt.Title(
        alt.expr(
            "layer_head + ': step ' + step + ' reads ' + step + ' cached keys"
            " and values; nothing is recomputed'"
        )
    )
    chart = bars.add_params(
        dropdown("layer_head", names, "layer and head"),
        slider("step", list(range(1, n + 1)), "decoding step", value=4),
    ).properties(width=420, height=220, title=title)
    return make_explorer(chart, "07-cache-step", ["layer_head", "step"], {"cache": rows})


def non_local_explorer(size: int = 12, seed: int = 0) -> Explorer:
    """Chapter 08: where one pixel looks in the self-attention of a non-local block.

    A synthetic image of ``size x size`` pixels with four feature channels (two red squares and
    a blue bar on a faint seeded background) is read as ``size**2`` tokens; seeded 1x1
    projections ``theta``, ``phi``, ``g`` (4 -> 4, scaled by 1/2) give the embedded-Gaussian
    non-local weights ``softmax(theta(x_i) . phi(x_j))`` through :func:`attention` (scale 1).
    The sliders pick the query pixel; the heatmap shows its weights over every pixel.

    Args:
        size: height and width, 6 to 14 (the data grow as ``size**4``).
        seed: seed of the private generator.

    Returns:
        an Explorer with the controls ``row`` and ``col``.

    Raises:
        TypeError, ValueError: if ``size`` is not an int in [6, 14] or ``seed`` not an int.

    Source: X. Wang, R. Girshick, A. Gupta, K. He, "Non-local Neural Networks", 2018,
    arXiv:1711.07971.
    """
    size = require_int("size", size, minimum=6)
    if size > 14:
        raise ValueError(f"size must be at most 14, got {size}")
    g = torch.Generator().manual_seed(require_int("seed", seed))
    image = 0.2 * torch.rand(4, size, size, generator=g, dtype=F64)  # (channels, size, size)
    third = size // 3
    image[0, 1 : 1 + third, 1 : 1 + third] += 2.0  # a red square, upper left
    image[0, -1 - third : -1, -1 - third : -1] += 2.0  # the same red square, lower right
    image[2, 1 : 1 + third, -1 - third : -1] += 2.0  # a blue square, upper right
    tokens = image.reshape(4, -1).T.unsqueeze(0)  # (1, size**2, channels)
    theta, phi, gv = (tokens @ torch.randn(4, 4, generator=g, dtype=F64) for _ in range(3))
    _, weights = attention(theta, phi, gv, need_weights=True, scale=1.0)  # (1, size**2, size**2)
    rows = [
        {"row": r, "col": c, "w": round_values(weights[0, r * size + c], 3)}
        for r in range(size)
        for c in range(size)
    ]
    pixels = [
        {
            "y": r,
            "x": c,
            "red": round_values(float(image[0, r, c]), 2),
            "blue": round_values(float(image[2, r, c]), 2),
        }
        for r in range(size)
        for c in range(size)
    ]
    grid = {"y": [r for r in range(size) for _ in range(size)], "x": list(range(size)) * size}
    axis = dict(axis=None)
    heat = (
        alt.Chart(alt.Data(name="weights"))
        .transform_filter(pick("row"))
        .transform_filter(pick("col"))
        .transform_calculate(y=str(grid["y"]), x=str(grid["x"]))
        .transform_flatten(["y", "x", "w"])
        .mark_rect()
        .encode(
            x=alt.X("x:O", **axis),
            y=alt.Y("y:O", **axis),
            color=alt.Color("w:Q", scale=alt.Scale(scheme="reds"), title="weight"),
        )
    )
    query = (
        alt.Chart(alt.Data(name="pixels"))
        .transform_filter("datum.x == col && datum.y == row")
        .mark_point(shape="cross", size=120, color="black", strokeWidth=2)
        .encode(x=alt.X("x:O", **axis), y=alt.Y("y:O", **axis))
    )
    picture = (
        alt.Chart(alt.Data(name="pixels"))
        .mark_rect()
        .encode(
            x=alt.X("x:O", **axis),
            y=alt.Y("y:O", **axis),
            color=alt.Color("red:Q", scale=alt.Scale(scheme="greys"), legend=None),
            opacity=alt.value(0.9),
        )
    )
    blue = (
        alt.Chart(alt.Data(name="pixels"))
        .transform_filter("datum.blue > 1")
        .mark_rect(color="#2c7fb8")
        .encode(x=alt.X("x:O", **axis), y=alt.Y("y:O", **axis))
    )
    chart = (
        alt.hconcat(
            alt.layer(picture, blue, query).properties(
                width=200, height=200, title="the image (+ the query pixel)"
            ),
            alt.layer(heat, query).properties(width=200, height=200, title="its attention weights"),
        )
        .resolve_scale(color="independent")
        .add_params(
            slider("row", list(range(size)), "query row", value=2),
            slider("col", list(range(size)), "query column", value=2),
        )
    )
    return make_explorer(
        chart, "08-query-pixel", ["row", "col"], {"weights": rows, "pixels": pixels}
    )


def zoo_explorer(channels: tuple[int, ...] = (32, 64, 128, 256), size: int = 8) -> Explorer:
    """Chapter 09: parameters and FLOPs of every module in the zoo, channel count by channel count.

    Each module of :data:`ATTENTION_MODULES` is built with :func:`make_attention` for each
    channel count (its paper's defaults), and counted: its parameters, and the FLOPs of one
    forward pass on a ``(1, C, size, size)`` map as ``torch.utils.flop_counter`` counts them
    (matrix products and convolutions only: element-wise work, such as SimAM's, counts 0).

    Args:
        channels: the channel counts, powers of two from 16 to 1024, increasing.
        size: height and width of the feature map, 4 to 56.

    Returns:
        an Explorer with the controls ``log2_channels``, ``measure`` and ``module``.

    Raises:
        TypeError, ValueError: for channel counts that are not increasing powers of two in
            [16, 1024], or a ``size`` out of range.

    Source: the papers of each module, in chapter 09; counts by ``torch.utils.flop_counter``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    logs = [require_int("channels", c, minimum=16).bit_length() - 1 for c in channels]
    if any(2**k != c or c > 1024 for k, c in zip(logs, channels)) or logs != sorted(set(logs)):
        raise ValueError(f"channels must be increasing powers of two in [16, 1024], got {channels}")
    size = require_int("size", size, minimum=4)
    if size > 56:
        raise ValueError(f"size must be at most 56, got {size}")
    rows = []
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for name in sorted(ATTENTION_MODULES):
            for k, c in zip(logs, channels):
                module = make_attention(name, c).eval()
                with torch.no_grad(), FlopCounterMode(display=False) as counter:
                    module(torch.zeros(1, c, size, size))
                params = sum(p.numel() for p in module.parameters())
                rows += [
                    {"module": name, "log2_channels": k, "measure": "parameters", "count": params},
                    {
                        "module": name,
                        "log2_channels": k,
                        "measure": "FLOPs",
                        "count": int(counter.get_total_flops()),
                    },
                ]
    bars = (
        alt.Chart(alt.Data(name="zoo"))
        .transform_filter(pick("log2_channels"))
        .transform_filter(pick("measure"))
        .transform_calculate(shown="max(datum.count, 1)")
        .encode(
            y=alt.Y("module:N", title=None, sort="-x"),
            x=alt.X(
                "shown:Q",
                scale=alt.Scale(type="log", domainMin=1),
                title="count (log scale; 0 drawn as 1)",
            ),
            color=alt.condition(
                "datum.module == module", alt.value("#c0392b"), alt.value("#bbbbbb")
            ),
            tooltip=["module:N", alt.Tooltip("count:Q", format=",")],
        )
    )
    # On a log scale a bar needs its base: 1, where "0 drawn as 1" puts the zeros.
    text = bars.mark_text(align="left", dx=3).encode(text=alt.Text("count:Q", format=".3s"))
    bars = bars.mark_bar().encode(x2=alt.datum(1))
    title = alt.Title(alt.expr("measure + ' of each module at C = ' + pow(2, log2_channels)"))
    chart = (
        alt.layer(bars, text)
        .add_params(
            slider("log2_channels", logs, "log2 channels C", value=logs[-1]),
            dropdown("measure", ["parameters", "FLOPs"], "measure"),
            dropdown("module", sorted(ATTENTION_MODULES), "highlight", value="se"),
        )
        .properties(width=380, height=300, title=title)
    )
    return make_explorer(chart, "09-module", ["log2_channels", "measure", "module"], {"zoo": rows})
