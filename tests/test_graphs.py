"""Graph attention (GAT, GATv2) and the graph convolution: a hand computation, shapes, masks.

Equality with PyTorch Geometric's layers is in tests/test_graphs_pyg.py.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import GraphAttention, GraphAttentionV2, GraphConvolution

LAYERS = [GraphAttention, GraphAttentionV2]


def _five_node_layer():
    """GAT with W = I, a_src = (1, 0), a_dst = (0, 1): e_ij = LeakyReLU(x_i[1] + x_j[0])."""
    layer = GraphAttention(2, 2, negative_slope=0.2, bias=False)
    with torch.no_grad():
        layer.W.weight.copy_(torch.eye(2))
        layer.att_src.copy_(torch.tensor([[1.0, 0.0]]))
        layer.att_dst.copy_(torch.tensor([[0.0, 1.0]]))
    return layer


X5 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [-2.0, -1.0]])
EDGES5 = [(1, 0), (2, 0), (0, 1), (3, 2), (1, 3), (3, 4)]  # (source j, target i)


def _adjacency5():
    adjacency = torch.zeros(5, 5, dtype=torch.bool)
    for j, i in EDGES5:
        adjacency[i, j] = True
    return adjacency


def test_five_node_graph_by_hand():
    layer = _five_node_layer()
    layer.need_weights = True
    output = layer(X5, _adjacency5())
    e = math.e
    # node 0 hears 1, 2 and itself: e_00 = 1 + 0, e_01 = 0 + 0, e_02 = 0 + 1, all >= 0
    expected0 = torch.tensor([2 * e, 1 + e]) / (2 * e + 1)
    # node 4 hears 3 and itself: e_43 = -1 + 2 = 1, e_44 = LeakyReLU(-1 - 2) = -0.6
    w3, w4 = e, math.exp(-0.6)
    expected4 = (w3 * torch.tensor([2.0, 0.0]) + w4 * torch.tensor([-2.0, -1.0])) / (w3 + w4)
    torch.testing.assert_close(output[0], expected0)
    torch.testing.assert_close(output[4], expected4)
    # every node, with loops over the edges as a reader would by hand
    for i in range(5):
        senders = [j for j, t in EDGES5 if t == i] + [i]
        scores = [X5[i, 1].item() + X5[j, 0].item() for j in senders]
        scores = [s if s >= 0 else 0.2 * s for s in scores]
        weights = [math.exp(s) for s in scores]
        total = sum(weights)
        by_hand = sum(w / total * X5[j] for w, j in zip(weights, senders))
        torch.testing.assert_close(output[i], by_hand)
        for w, j in zip(weights, senders):
            assert layer.attention_weights[0, i, j].item() == pytest.approx(w / total, rel=1e-6)


@pytest.mark.parametrize("layer_class", LAYERS)
@pytest.mark.parametrize("concat", [True, False])
def test_shapes(layer_class, concat):
    layer = layer_class(6, 4, num_heads=3, concat=concat)
    width = 12 if concat else 4
    assert layer(torch.randn(7, 6), torch.rand(7, 7) < 0.5).shape == (7, width)
    assert layer(torch.randn(2, 7, 6), torch.rand(7, 7) < 0.5).shape == (2, 7, width)
    assert layer(torch.randn(2, 7, 6), torch.rand(2, 7, 7) < 0.5).shape == (2, 7, width)
    assert layer(torch.randn(0, 6), torch.zeros(0, 0, dtype=torch.bool)).shape == (0, width)


@pytest.mark.parametrize("layer_class", LAYERS)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), num_nodes=st.integers(1, 8), self_loops=st.booleans())
def test_weights_rows_sum_to_one_and_non_edges_get_exactly_zero(
    layer_class, seed, num_nodes, self_loops
):
    g = torch.Generator().manual_seed(seed)
    adjacency = torch.rand(num_nodes, num_nodes, generator=g) < 0.4
    torch.manual_seed(seed)
    layer = layer_class(3, 2, num_heads=2, add_self_loops=self_loops)
    layer.need_weights = True
    layer(torch.randn(num_nodes, 3, generator=g), adjacency)
    weights = layer.attention_weights  # (num_heads, num_nodes, num_nodes)
    allowed = adjacency | torch.eye(num_nodes, dtype=torch.bool) if self_loops else adjacency
    assert (weights[:, ~allowed] == 0).all()
    has_sender = allowed.any(-1)  # (num_nodes,)
    sums = weights.sum(-1)  # (num_heads, num_nodes)
    torch.testing.assert_close(sums[:, has_sender], torch.ones_like(sums[:, has_sender]))
    assert (sums[:, ~has_sender] == 0).all()


@pytest.mark.parametrize("layer_class", LAYERS)
def test_a_node_with_no_neighbours_and_no_self_loop_gets_the_bias(layer_class):
    layer = layer_class(3, 2, num_heads=2, add_self_loops=False)
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    adjacency = torch.zeros(4, 4, dtype=torch.bool)
    adjacency[0, 1] = True
    output = layer(torch.randn(4, 3), adjacency)
    assert torch.equal(output[1:], layer.bias.detach().expand(3, 4))
    assert torch.isfinite(output).all()


@pytest.mark.parametrize("layer_class", LAYERS)
def test_output_is_a_convex_combination_per_head_and_gradients_reach_every_parameter(
    layer_class,
):
    torch.manual_seed(0)
    layer = layer_class(4, 3, num_heads=2, bias=False)
    layer.need_weights = True
    X, adjacency = torch.randn(6, 4), torch.rand(6, 6) < 0.5
    output = layer(X, adjacency)
    values = layer.scores(X)[1]  # (num_heads, num_nodes, out_features)
    expected = (layer.attention_weights @ values).transpose(0, 1).flatten(1)
    torch.testing.assert_close(output, expected)
    output.sum().backward()
    for name, parameter in layer.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("layer_class", LAYERS)
def test_permuting_the_nodes_permutes_the_output(layer_class):
    torch.manual_seed(1)
    layer = layer_class(4, 3, num_heads=2)
    X, adjacency = torch.randn(6, 4), torch.rand(6, 6) < 0.5
    perm = torch.randperm(6)
    permuted = layer(X[perm], adjacency[perm][:, perm])
    torch.testing.assert_close(permuted, layer(X, adjacency)[perm])


def test_gat_ranks_neighbours_the_same_for_every_node_and_gatv2_need_not():
    torch.manual_seed(2)
    X = torch.randn(6, 4)
    gat, gatv2 = GraphAttention(4, 8), GraphAttentionV2(4, 8)
    # static: the order of the columns of e_ij is the same in every row
    order = gat.scores(X)[0][0].argsort(-1)  # (num_nodes, num_nodes)
    assert (order == order[0]).all()
    order_v2 = gatv2.scores(X)[0][0].argsort(-1)
    assert not (order_v2 == order_v2[0]).all()


def test_need_weights_defaults_to_false_and_dropout_acts_only_in_training():
    layer = GraphAttention(3, 2, dropout=0.5)
    X, adjacency = torch.randn(5, 3), torch.rand(5, 5) < 0.5
    layer(X, adjacency)
    assert layer.attention_weights is None
    layer.eval()
    torch.testing.assert_close(layer(X, adjacency), layer(X, adjacency))


def test_graph_convolution_weights_depend_on_degrees_only():
    adjacency = torch.zeros(3, 3, dtype=torch.bool)
    adjacency[0, 1] = adjacency[0, 2] = adjacency[1, 0] = True
    layer = GraphConvolution(2, 2, bias=False)
    with torch.no_grad():
        layer.W.weight.copy_(torch.eye(2))
    X = torch.randn(3, 2)
    output = layer(X, adjacency)
    degree = torch.tensor([3.0, 2.0, 1.0])  # edges into each node, self-loop included
    P = (adjacency | torch.eye(3, dtype=torch.bool)).float() / (degree[:, None] * degree).sqrt()
    torch.testing.assert_close(layer.propagation, P)
    torch.testing.assert_close(output, P @ X)
    assert layer(torch.randn(2, 3, 2), adjacency).shape == (2, 3, 2)
