"""GAT, GATv2 and GCN equal PyTorch Geometric's GATConv, GATv2Conv and GCNConv, weights copied.

PyTorch Geometric is a test-only dependency, like d2l: readers never need it, and the book's
requirements do not list it. CI installs it (``.ci/run``); it imports beside CPU torch without
torchvision. Our layers take a dense bool adjacency (``adjacency[i, j]``: j sends to i); PyG's
take ``edge_index`` (row 0 the sources, row 1 the targets), made by ``dense_to_edge_index``.

Without torch_geometric the tests skip with the pip command to run, except when the environment
variable CI is set: there they fail, because CI must run them.
"""

import importlib
import importlib.metadata
import os
import warnings

import pytest
import torch

from attention_utils import (
    GraphAttention,
    GraphAttentionV2,
    GraphConvolution,
    dense_to_edge_index,
)

PYG_VERSION = "2.8.1"
PIP_COMMAND = f"pip install torch_geometric=={PYG_VERSION}"


@pytest.fixture(scope="module")
def pyg():
    """PyTorch Geometric's ``torch_geometric.nn`` module."""
    try:
        # PyG 2.8 scripts a few classes with torch.jit at import, which torch 2.13 deprecates;
        # the warning is PyG's and only about its import, so it is silenced there and only there.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("torch_geometric.nn")
    except ImportError:
        message = (
            f"torch_geometric is not installed; run `{PIP_COMMAND}` to cross-check the graph "
            "layers against PyTorch Geometric"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the PyG cross-check must run: {message}")
        pytest.skip(message)


def _graph(num_nodes=9, in_features=5, seed=0):
    """Random features and a random directed graph with one node that receives no edge."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(num_nodes, in_features, generator=g)
    adjacency = torch.rand(num_nodes, num_nodes, generator=g) < 0.35
    adjacency[2] = False  # node 2 receives from nobody (its self-loop only, if added)
    adjacency[4, 4] = True  # an explicit self-loop that add_self_loops must not double
    return X, adjacency


def test_installed_version_is_the_pinned_one(pyg):
    assert importlib.metadata.version("torch_geometric") == PYG_VERSION


def test_edge_index_lists_sources_then_targets():
    adjacency = torch.zeros(3, 3, dtype=torch.bool)
    adjacency[0, 1] = adjacency[2, 0] = True  # 1 -> 0 and 0 -> 2
    assert dense_to_edge_index(adjacency).tolist() == [[1, 0], [0, 2]]


@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("add_self_loops", [True, False])
@pytest.mark.parametrize("num_heads", [1, 3])
def test_graph_attention_equals_gatconv(pyg, concat, add_self_loops, num_heads):
    X, adjacency = _graph()
    torch.manual_seed(1)
    ours = GraphAttention(
        5, 4, num_heads=num_heads, concat=concat, add_self_loops=add_self_loops,
        negative_slope=0.1,
    )
    theirs = pyg.GATConv(
        5, 4, heads=num_heads, concat=concat, add_self_loops=add_self_loops, negative_slope=0.1
    )
    with torch.no_grad():
        ours.bias.normal_()
        theirs.lin.weight.copy_(ours.W.weight)
        theirs.att_src.copy_(ours.att_src[None])
        theirs.att_dst.copy_(ours.att_dst[None])
        theirs.bias.copy_(ours.bias)
    ours.need_weights = True
    expected, (edge_index, alpha) = theirs(
        X, dense_to_edge_index(adjacency), return_attention_weights=True
    )
    torch.testing.assert_close(ours(X, adjacency), expected)
    # their per-edge weights alpha (num_edges, heads) are our weights at (head, target, source)
    source, target = edge_index
    torch.testing.assert_close(ours.attention_weights[:, target, source].T, alpha)


@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("add_self_loops", [True, False])
@pytest.mark.parametrize("num_heads", [1, 3])
def test_graph_attention_v2_equals_gatv2conv(pyg, concat, add_self_loops, num_heads):
    X, adjacency = _graph(seed=3)
    torch.manual_seed(2)
    ours = GraphAttentionV2(5, 4, num_heads=num_heads, concat=concat, add_self_loops=add_self_loops)
    theirs = pyg.GATv2Conv(5, 4, heads=num_heads, concat=concat, add_self_loops=add_self_loops)
    with torch.no_grad():
        for mine, their in ((ours.W_src, theirs.lin_l), (ours.W_dst, theirs.lin_r)):
            mine.bias.normal_()
            their.weight.copy_(mine.weight)
            their.bias.copy_(mine.bias)
        ours.bias.normal_()
        theirs.att.copy_(ours.att[None])
        theirs.bias.copy_(ours.bias)
    ours.need_weights = True
    expected, (edge_index, alpha) = theirs(
        X, dense_to_edge_index(adjacency), return_attention_weights=True
    )
    torch.testing.assert_close(ours(X, adjacency), expected)
    source, target = edge_index
    torch.testing.assert_close(ours.attention_weights[:, target, source].T, alpha)


@pytest.mark.parametrize("add_self_loops", [True, False])
def test_graph_convolution_equals_gcnconv(pyg, add_self_loops):
    X, adjacency = _graph(seed=4)
    torch.manual_seed(3)
    ours = GraphConvolution(5, 4, add_self_loops=add_self_loops)
    theirs = pyg.GCNConv(5, 4, add_self_loops=add_self_loops)
    with torch.no_grad():
        ours.bias.normal_()
        theirs.lin.weight.copy_(ours.W.weight)
        theirs.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(X, adjacency), theirs(X, dense_to_edge_index(adjacency)))


def test_a_batch_of_graphs_equals_each_graph_through_pyg(pyg):
    torch.manual_seed(4)
    ours = GraphAttentionV2(5, 3, num_heads=2)
    theirs = pyg.GATv2Conv(5, 3, heads=2)
    with torch.no_grad():
        for mine, their in ((ours.W_src, theirs.lin_l), (ours.W_dst, theirs.lin_r)):
            their.load_state_dict(mine.state_dict())
        theirs.att.copy_(ours.att[None])
        theirs.bias.copy_(ours.bias)
    graphs = [_graph(seed=s) for s in range(3)]
    X = torch.stack([x for x, _ in graphs])  # (3, num_nodes, 5)
    adjacency = torch.stack([a for _, a in graphs])  # (3, num_nodes, num_nodes)
    output = ours(X, adjacency)
    for b, (x, a) in enumerate(graphs):
        torch.testing.assert_close(output[b], theirs(x, dense_to_edge_index(a)))
