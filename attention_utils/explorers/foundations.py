"""The explorers of Part I (chapters 01-05), each computed with the library, never trained.

Each computes its grid in float64 with fixed seeds and returns an ``Explorer`` (one cell's call).

Sources:
    E. A. Nadaraya, "On estimating regression", 1964, doi:10.1137/1109020; G. S. Watson, 1964.
    D. Bahdanau, K. Cho, Y. Bengio, "Neural Machine Translation by Jointly Learning to Align and
    Translate", 2014, arXiv:1409.0473 (additive scores). A. Vaswani et al., "Attention Is All You
    Need", 2017, arXiv:1706.03762 (scaled dot product, multi-head attention). S. Woo et al.,
    "CBAM: Convolutional Block Attention Module", 2018, arXiv:1807.06521.
"""

from __future__ import annotations

import torch

from ..checks import require_int, require_positive_int
from ..core import attention, masked_softmax
from ..data import kernel_regression_data
from ..kernel_regression import nadaraya_watson
from ..multihead import split_heads
from ..vision import CBAM
from .core import Explorer, alt, dropdown, make_explorer, pick, round_values, slider

__all__ = [
    "channel_spatial_explorer",
    "cues_explorer",
    "kernel_regression_explorer",
    "multihead_explorer",
    "scoring_explorer",
]

F64 = torch.float64


def _grid(start: float, stop: float, step: float) -> list[float]:
    n = round((stop - start) / step)
    return [round(start + i * step, 6) for i in range(n + 1)]


def cues_explorer(num_keys: int = 10) -> Explorer:
    """Chapter 01: one query on a line of keys; move it and the bandwidth, watch the weights.

    ``alpha(q, k_i) = softmax_i(-(q - k_i)**2 / (2 h**2))`` (:func:`nadaraya_watson`'s Gaussian
    weights) for keys at ``0, 1, ..., num_keys - 1``, queries every 0.25 and bandwidths h from
    0.25 to 3 in steps of 0.25.

    Args:
        num_keys: number of keys on the line, >= 2.

    Returns:
        an Explorer with the controls ``query`` and ``bandwidth``.

    Raises:
        TypeError, ValueError: if ``num_keys`` is not an int >= 2.

    Source: Nadaraya (1964), Watson (1964); D2L sec. 11.1 (Zhang et al., 2023, arXiv:2106.11342).
    """
    num_keys = require_int("num_keys", num_keys, minimum=2)
    keys = torch.arange(float(num_keys), dtype=F64)  # (num_keys,)
    queries = _grid(0.0, num_keys - 1.0, 0.25)
    bandwidths = _grid(0.25, 3.0, 0.25)
    rows = []
    for h in bandwidths:
        _, weights = nadaraya_watson(torch.tensor(queries, dtype=F64), keys, keys, bandwidth=h)
        for q, w in zip(queries, weights):  # w: (num_keys,)
            rows.append(
                {
                    "bandwidth": h,
                    "query": q,
                    "key": list(range(num_keys)),
                    "weight": round_values(w, 3),
                }
            )
    base = (
        alt.Chart(alt.Data(name="weights"))
        .transform_filter(pick("query"))
        .transform_filter(pick("bandwidth"))
    )
    bars = (
        base.transform_flatten(["key", "weight"])
        .mark_bar(color="#c0392b", size=18)
        .encode(
            x=alt.X(
                "key:Q",
                title="key position",
                scale=alt.Scale(domain=[-0.5, num_keys - 0.5]),
                axis=alt.Axis(values=list(range(num_keys))),
            ),
            y=alt.Y("weight:Q", title="attention weight", scale=alt.Scale(domain=[0, 1])),
            tooltip=["key:Q", "weight:Q"],
        )
    )
    rule = base.mark_rule(strokeDash=[4, 3], size=2).encode(x="query:Q")
    chart = (
        alt.layer(bars, rule)
        .add_params(
            slider("query", queries, "query position", value=4.5),
            slider("bandwidth", bandwidths, "bandwidth", value=1.0),
        )
        .properties(
            title="The nearest key gets the most; a wider kernel shares the weight",
            width=420,
            height=220,
        )
    )
    return make_explorer(chart, "01-query-bandwidth", ["query", "bandwidth"], {"weights": rows})


def kernel_regression_explorer(
    n_train: int = 50, noise_std: float = 0.5, seed: int = 0
) -> Explorer:
    """Chapter 02: the bandwidth and the kernel of Nadaraya--Watson regression, fit and weights.

    ``f(x) = sum_i alpha(x, x_i) y_i`` with ``alpha = K((x - x_i)/h) / sum_j K((x - x_j)/h)`` for
    the three kernels of :data:`KERNELS`, ``log10 h`` from -1.5 to 0.5 in steps of 0.1, on
    :func:`kernel_regression_data`; the right panel shows the weights of one query
    (ten queries, 0.25 to 4.75), weights under 0.0005 left out.

    Args:
        n_train, noise_std, seed: passed to :func:`kernel_regression_data`.

    Returns:
        an Explorer with the controls ``log_bandwidth``, ``kernel`` and ``query``.

    Raises:
        TypeError, ValueError: as :func:`kernel_regression_data` for bad data arguments.

    Source: Nadaraya (1964), Watson (1964); D2L sec. 11.2 (Zhang et al., 2023).
    """
    data = kernel_regression_data(n_train=n_train, noise_std=noise_std, seed=seed)
    x_train, y_train = data.x_train.to(F64), data.y_train.to(F64)
    x_test = data.x_test.to(F64)
    queries = _grid(0.25, 4.75, 0.5)
    log_hs, kernels = _grid(-1.5, 0.5, 0.1), ["gaussian", "boxcar", "epanechnikov"]
    fits, weights = [], []
    for kernel in kernels:
        for log_h in log_hs:
            state = {"kernel": kernel, "log_bandwidth": log_h}
            pred, _ = nadaraya_watson(x_test, x_train, y_train, 10**log_h, kernel)  # (n_test,)
            fits.append({**state, "x": round_values(x_test, 2), "y": round_values(pred, 3)})
            _, w = nadaraya_watson(
                torch.tensor(queries, dtype=F64), x_train, y_train, 10**log_h, kernel
            )  # (num_queries, n_train)
            for q, row in zip(queries, w.nan_to_num(0.0)):
                keep = row >= 5e-4
                weights.append(
                    {
                        **state,
                        "query": q,
                        "x": round_values(x_train[keep], 3),
                        "w": round_values(row[keep], 3),
                    }
                )
    points = [{"x": x, "y": y} for x, y in zip(round_values(x_train, 3), round_values(y_train, 3))]
    truth = [
        {"x": x, "y": y}
        for x, y in zip(round_values(x_test, 2), round_values(data.y_truth.to(F64), 3))
    ]
    scale_x = alt.Scale(domain=[0, 5])
    state = [pick("kernel"), pick("log_bandwidth")]
    fit = (
        alt.Chart(alt.Data(name="fits"))
        .transform_filter(state[0])
        .transform_filter(state[1])
        .transform_flatten(["x", "y"])
        .mark_line(color="#c0392b")
        .encode(x=alt.X("x:Q", scale=scale_x, title="x"), y=alt.Y("y:Q", title="y"))
    )
    dots = (
        alt.Chart(alt.Data(name="points"))
        .mark_circle(color="gray", opacity=0.6)
        .encode(x=alt.X("x:Q", scale=scale_x), y="y:Q")
    )
    line = (
        alt.Chart(alt.Data(name="truth"))
        .mark_line(color="black", strokeDash=[4, 3])
        .encode(x=alt.X("x:Q", scale=scale_x), y="y:Q")
    )
    w_base = (
        alt.Chart(alt.Data(name="weights"))
        .transform_filter(state[0])
        .transform_filter(state[1])
        .transform_filter(pick("query"))
    )
    rule = w_base.mark_rule(color="#2c3e50", size=2).encode(x=alt.X("query:Q", scale=scale_x))
    bars = (
        w_base.transform_flatten(["x", "w"])
        .mark_bar(color="#c0392b", width=3)
        .encode(
            x=alt.X("x:Q", scale=scale_x, title="training input x_i"),
            y=alt.Y("w:Q", title="attention weight"),
            tooltip=["x:Q", "w:Q"],
        )
    )
    title = alt.Title(
        alt.expr("kernel + ' kernel, bandwidth ' + format(pow(10, log_bandwidth), '.3~g')")
    )
    chart = alt.hconcat(
        alt.layer(line, dots, fit, rule).properties(width=300, height=220, title=title),
        alt.layer(bars, rule).properties(
            width=260, height=220, title="weights of the query at the dark line"
        ),
    ).add_params(
        slider("log_bandwidth", log_hs, "log10 bandwidth", value=0.0),
        dropdown("kernel", kernels, "kernel"),
        slider("query", queries, "query x", value=2.25),
    )
    datasets = {"fits": fits, "points": points, "truth": truth, "weights": weights}
    return make_explorer(
        chart, "02-bandwidth-kernel", ["log_bandwidth", "kernel", "query"], datasets
    )


def _bars(name: str, x_title: str, sort=None):
    """Bars of ``weight`` over ``key`` for the rows of ``name`` (one state picked by filters)."""
    mark = {} if sort else {"size": 18}
    return (
        alt.Chart(alt.Data(name=name))
        .mark_bar(color="#c0392b", **mark)
        .encode(
            x=alt.X("key:N" if sort else "key:Q", title=x_title, sort=sort),
            y=alt.Y("weight:Q", title="attention weight", scale=alt.Scale(domain=[0, 1])),
            tooltip=["key:N", "weight:Q"],
        )
    )


def scoring_explorer(num_keys: int = 8, seed: int = 0) -> Explorer:
    """Chapter 03: the scoring function, the temperature and the mask decide the weights.

    ``alpha = masked_softmax(a(q, k) / tau, valid_len)`` for one seeded query and ``num_keys``
    seeded keys (d = 4), with ``a`` the dot product ``q.k``, the scaled dot product
    ``q.k / sqrt(d)`` or the additive score ``w_v . tanh(W_q q + W_k k)`` (seeded, hidden size
    8), ``log10 tau`` from -1 to 1 in steps of 0.1, and every valid length.

    Args:
        num_keys: number of keys, 2 to 16.
        seed: seed of the private generator for the query, keys and additive weights.

    Returns:
        an Explorer with the controls ``scoring``, ``log_temperature`` and ``valid_len``.

    Raises:
        TypeError, ValueError: if ``num_keys`` is not an int in [2, 16] or ``seed`` not an int.

    Source: Bahdanau et al. (2014), arXiv:1409.0473; Vaswani et al. (2017), arXiv:1706.03762.
    """
    num_keys = require_int("num_keys", num_keys, minimum=2)
    if num_keys > 16:
        raise ValueError(f"num_keys must be at most 16, got {num_keys}")
    g = torch.Generator().manual_seed(require_int("seed", seed))
    d = 4
    q, keys = (
        torch.randn(d, generator=g, dtype=F64),
        torch.randn(num_keys, d, generator=g, dtype=F64),
    )
    w_q, w_k = (torch.randn(8, d, generator=g, dtype=F64) for _ in range(2))
    w_v = torch.randn(8, generator=g, dtype=F64)
    scores = {
        "dot product": keys @ q,  # (num_keys,)
        "scaled dot product": keys @ q / d**0.5,
        "additive": torch.tanh(w_q @ q + keys @ w_k.T) @ w_v,
    }
    log_ts, lens = _grid(-1.0, 1.0, 0.1), list(range(1, num_keys + 1))
    rows = []
    for name, s in scores.items():
        for log_t in log_ts:
            scaled = (s / 10**log_t).reshape(1, 1, num_keys).expand(num_keys, 1, num_keys)
            w = masked_softmax(scaled, torch.tensor(lens))[:, 0]  # (num_lens, num_keys)
            rows += [
                {
                    "scoring": name,
                    "log_temperature": log_t,
                    "valid_len": n,
                    "key": list(range(num_keys)),
                    "weight": round_values(w[n - 1], 3),
                }
                for n in lens
            ]
    bars = (
        _bars("weights", "key")
        .transform_filter(pick("scoring"))
        .transform_filter(pick("log_temperature"))
        .transform_filter(pick("valid_len"))
        .transform_flatten(["key", "weight"])
    )
    chart = bars.add_params(
        dropdown("scoring", list(scores), "scoring function"),
        slider("log_temperature", log_ts, "log10 temperature", value=0.0),
        slider("valid_len", lens, "valid length", value=num_keys),
    ).properties(
        width=420,
        height=220,
        title=alt.Title(
            alt.expr(
                "scoring + ', temperature ' + format(pow(10, log_temperature), '.2~g') + ', '"
                " + valid_len + ' valid keys'"
            )
        ),
    )
    return make_explorer(
        chart,
        "03-scoring-temperature",
        ["scoring", "log_temperature", "valid_len"],
        {"weights": rows},
    )


SENTENCE = "the cat sat on the mat because it was tired".split()


def multihead_explorer(num_heads: int = 4, seed: int = 0) -> Explorer:
    """Chapter 04: each head of a fixed multi-head self-attention looks elsewhere.

    Seeded embeddings (one per word) plus sinusoidal positions for a ten-word sentence,
    ``num_hiddens = 16``, seeded projections ``W_q, W_k, W_v`` (scaled by ``1/sqrt(16)``),
    :func:`split_heads`, then :func:`attention` per head: ``softmax(Q_h K_h^T / sqrt(d_h))``.
    Nothing is trained: the heads differ only because their projections do.

    Args:
        num_heads: 1, 2, 4, 8 or 16 (divides 16).
        seed: seed of the private generator.

    Returns:
        an Explorer with the controls ``query`` (a token) and ``head``.

    Raises:
        TypeError, ValueError: for a ``num_heads`` that does not divide 16, or a non-int ``seed``.

    Source: Vaswani et al., "Attention Is All You Need", 2017, arXiv:1706.03762.
    """
    num_heads = require_positive_int("num_heads", num_heads)
    g = torch.Generator().manual_seed(require_int("seed", seed))
    hiddens, n = 16, len(SENTENCE)
    vocab = {w: torch.randn(hiddens, generator=g, dtype=F64) for w in sorted(set(SENTENCE))}
    pos = torch.arange(n, dtype=F64).unsqueeze(1)  # (n, 1)
    freq = 10000 ** (-torch.arange(0, hiddens, 2, dtype=F64) / hiddens)  # (hiddens / 2,)
    pe = torch.stack([torch.sin(pos * freq), torch.cos(pos * freq)], dim=-1).reshape(n, hiddens)
    X = (torch.stack([vocab[w] for w in SENTENCE]) + pe).unsqueeze(0)  # (1, n, hiddens)
    q, k, v = (
        split_heads(X @ (torch.randn(hiddens, hiddens, generator=g, dtype=F64) / 4), num_heads)
        for _ in range(3)
    )  # (1, num_heads, n, head_dim)
    _, weights = attention(q, k, v, need_weights=True)  # (1, num_heads, n, n)
    labels = [f"{i} {w}" for i, w in enumerate(SENTENCE)]
    rows = [
        {
            "head": h + 1,
            "query": labels[i],
            "key": labels,
            "weight": round_values(weights[0, h, i], 3),
        }
        for h in range(num_heads)
        for i in range(n)
    ]
    bars = (
        _bars("weights", "key token", sort=labels)
        .transform_filter(pick("query"))
        .transform_filter(pick("head"))
        .transform_flatten(["key", "weight"])
    )
    chart = bars.add_params(
        dropdown("query", labels, "query token", value=labels[7]),
        slider("head", list(range(1, num_heads + 1)), "head", value=1),
    ).properties(
        width=420,
        height=220,
        title=alt.Title(alt.expr("'head ' + head + ': where \"' + query + '\" looks'")),
    )
    return make_explorer(chart, "04-query-head", ["query", "head"], {"weights": rows})


def channel_spatial_explorer(channels: int = 8, size: int = 12, seed: int = 0) -> Explorer:
    """Chapter 05: CBAM's channel weight times its spatial map, one channel at a time.

    A seeded feature map of ``channels`` channels (faint noise; two channels see a square in the
    upper right, one a bar in the lower left) goes through a seeded, untrained :class:`CBAM`
    (reduction 2, kernel 7) in float64: ``x' = x * M_c(x)``, ``y = x' * M_s(x')``. The slider picks
    the channel; the panels show its input, its output and the channel weights.

    Args:
        channels: number of channels, 4 to 32 (even).
        size: height and width of the map, 8 to 24.
        seed: seed for the map and CBAM's initial weights.

    Returns:
        an Explorer with the control ``channel``.

    Raises:
        TypeError, ValueError: for sizes out of range or a non-int ``seed``.

    Source: Woo et al., "CBAM: Convolutional Block Attention Module", 2018, arXiv:1807.06521.
    """
    channels, size = require_int("channels", channels, 4), require_int("size", size, 8)
    if channels > 32 or channels % 2 or size > 24:
        raise ValueError(f"channels must be even and <= 32 and size <= 24, got {channels}, {size}")
    seed = require_int("seed", seed)
    g = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.rand(1, channels, size, size, generator=g, dtype=F64)
    x[0, 1:3, 1 : size // 3 + 1, -size // 3 - 1 : -1] += 1.0  # (1, channels, size, size)
    x[0, channels - 1, -3:-1, 1 : size // 2] += 1.0
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        cbam = CBAM(channels, reduction=2, need_weights=True).double().eval()
    with torch.no_grad():
        y = cbam(x)  # (1, channels, size, size)
    mc = cbam.channel_attention.attention_weights.reshape(channels)  # (channels,)
    cells = [
        {
            "channel": c,
            "row": [i for i in range(size) for _ in range(size)],
            "col": list(range(size)) * size,
            "input": round_values(x[0, c].flatten(), 3),
            "output": round_values(y[0, c].flatten(), 3),
        }
        for c in range(channels)
    ]
    gates = [{"c": c, "weight": round_values(float(w), 3)} for c, w in enumerate(mc)]
    heat = (
        alt.Chart(alt.Data(name="cells"))
        .transform_filter(pick("channel"))
        .transform_flatten(["row", "col", "input", "output"])
    )
    color = alt.Scale(scheme="reds", domain=[0, 1.1])
    panels = [
        heat.mark_rect()
        .encode(
            x=alt.X("col:O", axis=None),
            y=alt.Y("row:O", axis=None),
            color=alt.Color(f"{f}:Q", scale=color, title="value"),
        )
        .properties(width=150, height=150, title=t)
        for f, t in (("input", "channel: input x"), ("output", "output y"))
    ]
    bars = (
        alt.Chart(alt.Data(name="gates"))
        .mark_bar()
        .encode(
            x=alt.X("c:O", title="channel"),
            y=alt.Y("weight:Q", title="channel weight M_c"),
            color=alt.condition("datum.c == channel", alt.value("#c0392b"), alt.value("#bbbbbb")),
        )
        .properties(width=180, height=150, title="channel weights")
    )
    chart = alt.hconcat(*panels, bars).add_params(
        slider("channel", list(range(channels)), "channel", value=1)
    )
    return make_explorer(chart, "05-channel", ["channel"], {"cells": cells, "gates": gates})
