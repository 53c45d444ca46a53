"""Two graph tasks of chapter 11, where the weight a node gives each neighbour decides the answer.

- :func:`marked_neighbour_data`: node classification in which each node's label is the colour
  of its one *marked* in-neighbour; its other in-neighbours carry random colours. Pooling with
  fixed weights (the mean, GCN) mixes the marked colour with the others; attention can put its
  weight on the marked neighbour, because the mark is a feature of the neighbour alone (GAT's
  static attention suffices).
- :func:`dictionary_lookup_data`: GATv2's dictionary lookup (Brody et al. 2022,
  arXiv:2105.14491, sec. 4.1). ``num_keys`` key nodes each hold an attribute and a value;
  ``num_keys`` query nodes each hold one attribute and receive from every key node; a query's
  label is the value of the key with its attribute. Which key is right depends on the query, so
  the ranking of the keys must differ from query to query: dynamic attention (GATv2) can learn
  it, static attention (GAT) cannot.

Graphs follow :mod:`attention_utils.graphs`: bool ``adjacency[i, j]`` True when j sends to i.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..checks import require_int, require_positive_int

__all__ = [
    "DictionaryLookupData",
    "MarkedNeighbourData",
    "dictionary_lookup_data",
    "marked_neighbour_data",
]


def _seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return seed


@dataclass(frozen=True)
class MarkedNeighbourData:
    """One graph for node classification by a marked neighbour.

    Attributes:
        X: ``(num_nodes, num_classes + 1)``, float32: a one-hot colour, then the mark (0 or 1).
        adjacency: ``(num_nodes, num_nodes)``, bool, no self-loops; every node has ``degree``
            in-neighbours, exactly one of them marked.
        labels: ``(num_nodes,)``, int64: the colour of the node's marked in-neighbour.
        marked_neighbour: ``(num_nodes,)``, int64: which node that is.
        train_mask, test_mask: ``(num_nodes,)``, bool, disjoint, covering every node.
    """

    X: torch.Tensor
    adjacency: torch.Tensor
    labels: torch.Tensor
    marked_neighbour: torch.Tensor
    train_mask: torch.Tensor
    test_mask: torch.Tensor


def marked_neighbour_data(
    num_nodes: int = 200,
    num_classes: int = 4,
    degree: int = 4,
    train_fraction: float = 0.5,
    seed: int = 0,
) -> MarkedNeighbourData:
    """Make a graph whose node labels are the colour of one marked in-neighbour (no download).

    Half of the nodes (rounded down) are marked. Each node has a uniformly random colour among
    ``num_classes``. Each node i draws its in-neighbours among the other nodes: one marked node
    and ``degree - 1`` unmarked ones, uniformly. Its label is its marked in-neighbour's colour,
    independent of its own colour and mark, so a model that ignores the graph is at chance,
    ``1 / num_classes``. A random ``train_fraction`` of the nodes form the training set.

    Args:
        num_nodes: number of nodes, >= 2 * degree + 2 (enough marked and unmarked nodes).
        num_classes: number of colours (classes), >= 2.
        degree: in-neighbours per node, >= 2.
        train_fraction: share of nodes in the training set, in (0, 1).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`MarkedNeighbourData`; the same arguments give the same tensors.

    Raises:
        TypeError: if a size or ``seed`` is not an int, or ``train_fraction`` not a number.
        ValueError: if a size is below its minimum or ``train_fraction`` outside (0, 1).
    """
    require_int("num_classes", num_classes, minimum=2)
    require_int("degree", degree, minimum=2)
    require_int("num_nodes", num_nodes, minimum=2 * degree + 2)
    if not isinstance(train_fraction, (int, float)) or isinstance(train_fraction, bool):
        raise TypeError(f"train_fraction must be a number, got {type(train_fraction).__name__}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction!r}")
    generator = torch.Generator().manual_seed(_seed(seed))
    colours = torch.randint(num_classes, (num_nodes,), generator=generator)  # (num_nodes,)
    marked = torch.zeros(num_nodes, dtype=torch.bool)
    marked[torch.randperm(num_nodes, generator=generator)[: num_nodes // 2]] = True
    marked_ids, plain_ids = marked.nonzero().squeeze(1), (~marked).nonzero().squeeze(1)
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)
    chosen = torch.empty(num_nodes, dtype=torch.long)
    for i in range(num_nodes):
        others_marked = marked_ids[marked_ids != i]
        others_plain = plain_ids[plain_ids != i]
        pick = others_marked[torch.randint(len(others_marked), (1,), generator=generator)]
        plain = others_plain[torch.randperm(len(others_plain), generator=generator)[: degree - 1]]
        chosen[i] = pick
        adjacency[i, pick] = True
        adjacency[i, plain] = True
    X = torch.cat([F.one_hot(colours, num_classes).float(), marked.float()[:, None]], dim=1)
    train = torch.zeros(num_nodes, dtype=torch.bool)
    num_train = max(1, min(num_nodes - 1, round(train_fraction * num_nodes)))
    train[torch.randperm(num_nodes, generator=generator)[:num_train]] = True
    return MarkedNeighbourData(X, adjacency, colours[chosen], chosen, train, ~train)


@dataclass(frozen=True)
class DictionaryLookupData:
    """Graphs of the dictionary lookup, all of one size, as a batch.

    Nodes ``0 .. num_keys - 1`` of each graph are keys, nodes ``num_keys .. 2 num_keys - 1``
    are queries.

    Attributes:
        X: ``(num_graphs, 2 * num_keys, 2 * num_keys)``, float32: a one-hot attribute, then a
            one-hot value (all zero for query nodes).
        adjacency: ``(2 * num_keys, 2 * num_keys)``, bool, shared by every graph: every key
            sends to every query, nothing else.
        labels: ``(num_graphs, num_keys)``, int64: the value each query node asks for.
        target_key: ``(num_graphs, num_keys)``, int64: the key node that holds it.
        num_train: the first ``num_train`` graphs are for training, the rest are held out.
    """

    X: torch.Tensor
    adjacency: torch.Tensor
    labels: torch.Tensor
    target_key: torch.Tensor
    num_train: int


def dictionary_lookup_data(
    num_keys: int = 6, num_train: int = 1000, num_test: int = 200, seed: int = 0
) -> DictionaryLookupData:
    """Make GATv2's dictionary-lookup graphs (no download).

    In each graph the keys hold the attributes ``0 .. num_keys - 1`` in a random order and the
    values ``0 .. num_keys - 1`` in another random order; the queries ask for the attributes in a
    third random order. A query's label is the value of the key with its attribute, so every
    value is asked for exactly once and attending to a wrong key always gives a wrong value.

    Args:
        num_keys: keys (and queries) per graph, >= 2.
        num_train, num_test: numbers of graphs, >= 1.
        seed: seed of a private ``torch.Generator``.

    Returns:
        A :class:`DictionaryLookupData`; the same arguments give the same tensors.

    Raises:
        TypeError: if a size or ``seed`` is not an int.
        ValueError: if a size is below its minimum.

    Source: Brody, Alon, Yahav, "How attentive are graph attention networks?", ICLR 2022,
    arXiv:2105.14491, sec. 4.1 (DictionaryLookup).
    """
    require_int("num_keys", num_keys, minimum=2)
    require_positive_int("num_train", num_train)
    require_positive_int("num_test", num_test)
    generator = torch.Generator().manual_seed(_seed(seed))
    k, num_graphs = num_keys, num_train + num_test

    def permutations() -> torch.Tensor:
        return torch.rand(num_graphs, k, generator=generator).argsort(-1)  # (num_graphs, k)

    key_attributes, key_values, asked = permutations(), permutations(), permutations()
    # The key node that holds attribute a: the inverse permutation of key_attributes.
    holder = key_attributes.argsort(-1)  # (num_graphs, k)
    target_key = holder.gather(1, asked)  # (num_graphs, k)
    labels = key_values.gather(1, target_key)  # (num_graphs, k)
    keys = torch.cat([F.one_hot(key_attributes, k), F.one_hot(key_values, k)], -1)
    queries = torch.cat([F.one_hot(asked, k), torch.zeros(num_graphs, k, k, dtype=torch.long)], -1)
    X = torch.cat([keys, queries], dim=1).float()  # (num_graphs, 2k, 2k)
    adjacency = torch.zeros(2 * k, 2 * k, dtype=torch.bool)
    adjacency[k:, :k] = True
    return DictionaryLookupData(X, adjacency, labels, target_key, num_train)
