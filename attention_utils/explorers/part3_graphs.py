"""The explorer of chapter 11: static (GAT) and dynamic (GATv2) attention on a dictionary lookup.

Sources:
    P. Veličković et al., "Graph Attention Networks", ICLR 2018, arXiv:1710.10903. S. Brody,
    U. Alon, E. Yahav, "How attentive are graph attention networks?", ICLR 2022, arXiv:2105.14491.
"""

from __future__ import annotations

import torch

from ..checks import require_int
from ..data.graphs import dictionary_lookup_data
from ..graphs import GraphAttention, GraphAttentionV2
from .core import Explorer, alt, make_explorer, pick, round_values, slider

__all__ = ["graph_lookup_explorer"]
SHARPNESS = [0, 2, 4, 6, 8, 10, 12]


def _hand_set_layers(k: int, beta: float) -> tuple[GraphAttention, GraphAttentionV2]:
    """GAT and GATv2 with hand-set weights (float64) on features ``[one-hot attribute, value]``."""
    gat = GraphAttention(2 * k, k, add_self_loops=False, bias=False).double()
    gatv2 = GraphAttentionV2(2 * k, k, add_self_loops=False, bias=False).double()
    read_attribute = torch.cat([torch.eye(k), torch.zeros(k, k)], 1).double()  # (k, 2k)
    with torch.no_grad():
        # GAT: a key's score grows with its attribute number, the same order for every query.
        gat.W.weight.copy_(read_attribute)
        gat.att_src.copy_(beta * torch.linspace(0, 1, k, dtype=torch.float64)[None])
        gat.att_dst.zero_()
        # GATv2: hidden unit m is x_i[m] + x_j[m] - 1, which is 1 only when the query i and the
        # key j both hold attribute m; after the LeakyReLU, a = beta * ones scores the match.
        for linear in (gatv2.W_src, gatv2.W_dst):
            linear.weight.copy_(read_attribute)
        gatv2.W_src.bias.zero_()
        gatv2.W_dst.bias.fill_(-1.0)
        gatv2.att.fill_(beta)
    return gat, gatv2


def graph_lookup_explorer(num_keys: int = 6, seed: int = 0) -> Explorer:
    """Chapter 11: which key each query node reads, in GAT and in GATv2, on a dictionary lookup.

    One graph of :func:`dictionary_lookup_data` (``k`` key nodes with an attribute and a value,
    ``k`` query nodes that each ask for one attribute; every key sends to every query). Both
    layers have hand-set weights, scaled by a sharpness ``beta``, not trained ones:

    - GAT, ``e_ij = LeakyReLU(a_dst . W x_i + a_src . W x_j)`` with ``W`` reading the attribute
      and ``a_src = beta * (0, 1/(k-1), ..., 1)``: a key scores by its attribute number, so every
      query ranks the keys in the same order (static attention), whatever ``beta``;
    - GATv2, ``e_ij = a . LeakyReLU(W_dst x_i + W_src x_j)`` with unit ``m`` equal to
      ``x_i[m] + x_j[m] - 1`` and ``a = beta * 1``: the key with the query's attribute scores
      ``0.8 beta`` above every other key (slope 0.2), a different key for every query (dynamic).

    The weights are the layers' own (``need_weights``), through :func:`attention_pool`.

    Args:
        num_keys: ``k``, 2 to 12.
        seed: seed of the graph (``dictionary_lookup_data``).

    Returns:
        an Explorer with the controls ``sharpness`` and ``query``.

    Raises:
        TypeError, ValueError: if ``num_keys`` is not an int in [2, 12] or ``seed`` not an int.

    Source: Brody et al. (2022), arXiv:2105.14491, sec. 3 (static attention) and 4.1
    (DictionaryLookup); Veličković et al. (2018), arXiv:1710.10903.
    """
    k = require_int("num_keys", num_keys, minimum=2)
    if k > 12:
        raise ValueError(f"num_keys must be at most 12, got {k}")
    seed = require_int("seed", seed)
    data = dictionary_lookup_data(num_keys=k, num_train=1, num_test=1, seed=seed)
    X, needed = data.X[0].double(), data.target_key[0]  # (2k, 2k), (k,)
    rows = []
    for beta in SHARPNESS:
        for name, layer in zip(("GAT", "GATv2"), _hand_set_layers(k, float(beta))):
            layer.need_weights = True
            with torch.no_grad():
                layer(X, data.adjacency)
            weights = layer.attention_weights[0, k:, :k]  # (k queries, k keys)
            rows += [
                {
                    "sharpness": beta,
                    "layer": name,
                    "query": q + 1,
                    "key": list(range(1, k + 1)),
                    "weight": round_values(weights[q], 3),
                    "needed": [int(j == int(needed[q])) for j in range(k)],
                }
                for q in range(k)
            ]
    base = alt.Chart(alt.Data(name="lookup")).transform_filter(pick("sharpness"))
    x = alt.X("key:O", title="key node")
    panels = []
    for name, what in (("GAT", "static"), ("GATv2", "dynamic")):
        mine = base.transform_filter(f"datum.layer == '{name}'").transform_flatten(
            ["key", "weight", "needed"]
        )
        heat = mine.mark_rect().encode(
            x=x,
            y=alt.Y("query:O", title="query node"),
            color=alt.Color(
                "weight:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="weight"
            ),
            tooltip=["query:O", "key:O", "weight:Q"],
        )
        box = (
            mine.transform_filter("datum.needed == 1")
            .mark_rect(filled=False, stroke="red", strokeWidth=2)
            .encode(x=x, y="query:O")
        )
        row = (
            mine.transform_filter("datum.query == query")
            .mark_rect(filled=False, stroke="white", strokeWidth=3)
            .encode(x=x, y="query:O")
        )
        bars = (
            mine.transform_filter(pick("query"))
            .mark_bar()
            .encode(
                x=x,
                y=alt.Y("weight:Q", scale=alt.Scale(domain=[0, 1]), title="weight of this query"),
                color=alt.condition(
                    "datum.needed == 1", alt.value("#c0392b"), alt.value("#4c78a8")
                ),
            )
        )
        title = f"{name} ({what}): red box = the key each query needs"
        panels.append(
            alt.vconcat(
                alt.layer(heat, box, row).properties(width=220, height=220, title=title),
                bars.properties(width=220, height=120, title="the chosen query (white row)"),
            )
        )
    chart = alt.hconcat(*panels).add_params(
        slider("sharpness", SHARPNESS, "sharpness beta", value=6),
        slider("query", list(range(1, k + 1)), "query node", value=1),
    )
    return make_explorer(chart, "11-sharpness-query", ["sharpness", "query"], {"lookup": rows})
