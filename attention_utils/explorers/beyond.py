"""The explorers of Part III (chapters 11-13): attention beyond sequences.

Source:
    J. Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding", 2021,
    arXiv:2104.09864.
"""

from __future__ import annotations

import torch

from ..checks import require_int
from ..positions import apply_rotary
from .core import Explorer, alt, make_explorer, pick, round_values, slider

__all__ = ["rope_explorer"]
F64 = torch.float64


def rope_explorer(head_dim: int = 16, max_distance: int = 128) -> Explorer:
    """Chapter 12: RoPE's score against the distance between query and key, for a chosen base.

    With ``theta_p = base^(-2p / d)``, a query and a key equal to the unit vector of pair ``p``
    score ``apply_rotary(e, m) . apply_rotary(e, n) = cos((m - n) theta_p)``; a query and a key
    equal to ``(1, ..., 1) / sqrt(d)`` score the mean over the pairs,
    ``(2 / d) sum_p cos((m - n) theta_p)``, the curve whose slow decay RoFormer (sec. 3.4.3)
    calls long-term decay. Both are computed through :func:`apply_rotary` with the key at 0 and
    the query at ``0 .. max_distance``; the function asserts that shifting both by 1000 steps
    changes no score (the relative property) and that the pair's score is the cosine above.

    Args:
        head_dim: ``d``, an even int from 4 to 64.
        max_distance: the largest distance ``m - n`` drawn, 16 to 512.

    Returns:
        an Explorer with the controls ``log10_base`` (1 to 5, i.e. base 10 to 100000) and ``pair``
        (0 to ``d/2 - 1``).

    Raises:
        TypeError: if ``head_dim`` or ``max_distance`` is not an int.
        ValueError: if ``head_dim`` is odd or outside [4, 64], or ``max_distance`` outside
            [16, 512].

    Source: Su et al., "RoFormer", 2021, arXiv:2104.09864, sec. 3.2 and 3.4.3.
    """
    d = require_int("head_dim", head_dim)
    if d % 2 or not 4 <= d <= 64:
        raise ValueError(f"head_dim must be an even int from 4 to 64, got {d}")
    n = require_int("max_distance", max_distance)
    if not 16 <= n <= 512:
        raise ValueError(f"max_distance must be an int from 16 to 512, got {n}")
    distance = torch.arange(n + 1, dtype=F64)  # (n + 1,) query positions; the key sits at 0
    vectors = torch.cat([torch.eye(d, dtype=F64)[0::2], torch.full((1, d), d**-0.5, dtype=F64)])
    pairs, means, steps = [], [], list(range(n + 1))
    for log_base in range(1, 6):
        base = 10.0**log_base
        q = apply_rotary(vectors.unsqueeze(1).expand(-1, n + 1, -1), distance, base)
        k = apply_rotary(vectors.unsqueeze(1), torch.zeros(1, dtype=F64), base)
        scores = (q * k).sum(-1)  # (d/2 + 1, n + 1): one row per pair, then the mean
        shifted = apply_rotary(
            vectors.unsqueeze(1).expand(-1, n + 1, -1), distance + 1000, base
        ) * apply_rotary(vectors.unsqueeze(1), torch.full((1,), 1000.0, dtype=F64), base)
        assert torch.allclose(shifted.sum(-1), scores, atol=1e-9)
        theta = base ** (-torch.arange(0, d, 2, dtype=F64) / d)  # (d/2,)
        assert torch.allclose(scores[:-1], torch.cos(distance * theta[:, None]), atol=1e-12)
        pairs += [
            {
                "log10_base": log_base,
                "pair": p,
                "distance": steps,
                "score": round_values(scores[p], 3),
            }
            for p in range(d // 2)
        ]
        means.append(
            {"log10_base": log_base, "distance": steps, "score": round_values(scores[-1], 3)}
        )
    x = alt.X("distance:Q", title="distance m - n between query and key (steps)")
    y = alt.Y("score:Q", title="score q · k after rotation", scale=alt.Scale(domain=[-1, 1]))
    pair_line = (
        alt.Chart(alt.Data(name="pairs"))
        .transform_filter(pick("log10_base"))
        .transform_filter(pick("pair"))
        .transform_flatten(["distance", "score"])
        .mark_line(color="#c0392b")
        .encode(x=x, y=y)
    )
    mean_line = (
        alt.Chart(alt.Data(name="means"))
        .transform_filter(pick("log10_base"))
        .transform_flatten(["distance", "score"])
        .mark_line(color="#2c3e50", strokeDash=[4, 3])
        .encode(x=x, y=y)
    )
    title = alt.Title(
        alt.expr(
            "'red: pair ' + pair + ' alone, cos(distance × base^(-2·' + pair + '/"
            + str(d)
            + ")); dashed: all pairs, base 10^' + log10_base"
        )
    )
    chart = (
        alt.layer(pair_line, mean_line)
        .add_params(
            slider("log10_base", [1, 2, 3, 4, 5], "log10 of the base", value=4),
            slider("pair", list(range(d // 2)), "pair p of dimensions (2p, 2p+1)", value=0),
        )
        .properties(width=460, height=220, title=title)
    )
    return make_explorer(
        chart, "12-rope-distance", ["log10_base", "pair"], {"pairs": pairs, "means": means}
    )
