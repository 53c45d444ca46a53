"""Attention over graphs: GAT, GATv2, and the graph convolution (GCN) they are compared with.

Sources:
    P. Veličković, G. Cucurull, A. Casanova, A. Romero, P. Liò, Y. Bengio, "Graph attention
    networks", ICLR 2018, arXiv:1710.10903 (GAT).
    S. Brody, U. Alon, E. Yahav, "How attentive are graph attention networks?", ICLR 2022,
    arXiv:2105.14491 (GATv2, static and dynamic attention).
    T. N. Kipf, M. Welling, "Semi-supervised classification with graph convolutional networks",
    ICLR 2017, arXiv:1609.02907 (GCN).
    Parameter names and conventions follow PyTorch Geometric's ``GATConv``, ``GATv2Conv`` and
    ``GCNConv`` (Fey and Lenssen 2019, arXiv:1903.02428); tests/test_graphs_pyg.py proves the
    layers here equal to them with copied weights.

A graph of ``num_nodes`` nodes is given densely: node features ``X`` of shape
``(num_nodes, in_features)`` and a boolean ``adjacency`` of shape ``(num_nodes, num_nodes)`` with
``adjacency[i, j]`` True when node j sends a message to node i (an edge j -> i). For node i the
queries are i itself, the keys are its in-neighbours, and the adjacency row ``adjacency[i]`` is
the core's mask: on a graph the mask *is* the data. A batch of graphs of one size may be given
as ``X`` of shape ``(batch_size, num_nodes, in_features)`` with one adjacency for all or one per
graph, ``(batch_size, num_nodes, num_nodes)``.

Dense means simple and exact, at ``num_nodes ** 2`` memory (GATv2 holds a
``(num_heads, num_nodes, num_nodes, out_features)`` tensor): fine for the hundreds of nodes of
a chapter; PyTorch Geometric's sparse layers are for large graphs.

A node with no in-neighbours (no edge into it and ``add_self_loops=False``) has every key
masked: following the core's rule it gets all-zero attention weights and the zero vector before
the bias, so its output is the bias. PyTorch Geometric gives the same (an empty sum), so the
layers stay equal there.

GAT and GATv2 are two classes, as in PyTorch Geometric, because they hold different parameters
(one shared map and two halves of the attention vector; two maps and one attention vector) and
differ in one method, :meth:`GraphAttention.scores`, which is the paper's point: GAT applies its
attention vector before the LeakyReLU, so its ranking of neighbours is the same for every node
(static attention); GATv2 applies it after, so the ranking can depend on the node (dynamic).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .checks import (
    require_bool,
    require_dtype,
    require_positive_int,
    require_probability,
    require_real,
    require_tensor,
)
from .scoring import attention_pool

__all__ = ["GraphAttention", "GraphAttentionV2", "GraphConvolution", "dense_to_edge_index"]


def _check_graph(X: object, adjacency: object, in_features: int, module: nn.Module) -> None:
    """Clear errors for node features and adjacency, named as the caller passed them."""
    X = require_tensor("X", X)
    if X.dim() not in (2, 3) or X.shape[-1] != in_features:
        raise ValueError(
            f"X must have shape (num_nodes, in_features={in_features}) or (batch_size, "
            f"num_nodes, {in_features}), got {tuple(X.shape)}"
        )
    require_dtype("X", X, module)
    if not isinstance(adjacency, torch.Tensor):
        raise TypeError(
            f"adjacency must be a bool torch.Tensor, got {type(adjacency).__name__}"
        )
    if adjacency.dtype != torch.bool:
        raise TypeError(
            f"adjacency must be a bool tensor (adjacency[i, j] True when j sends to i), got "
            f"dtype {adjacency.dtype}; convert a 0/1 matrix with adjacency != 0"
        )
    num_nodes = X.shape[-2]
    allowed = [(num_nodes, num_nodes)]
    if X.dim() == 3:
        allowed.append((X.shape[0], num_nodes, num_nodes))
    if tuple(adjacency.shape) not in allowed:
        expected = " or ".join(str(shape) for shape in allowed)
        raise ValueError(
            f"adjacency must have shape (num_nodes, num_nodes) = {expected} for X of shape "
            f"{tuple(X.shape)}, got {tuple(adjacency.shape)}"
        )


def _with_self_loops(adjacency: torch.Tensor, add_self_loops: bool) -> torch.Tensor:
    """The adjacency, with every node sending to itself when ``add_self_loops``."""
    if not add_self_loops:
        return adjacency
    eye = torch.eye(adjacency.shape[-1], dtype=torch.bool, device=adjacency.device)
    return adjacency | eye  # (..., num_nodes, num_nodes)


def dense_to_edge_index(adjacency: torch.Tensor) -> torch.Tensor:
    """PyTorch Geometric's ``edge_index`` for a dense boolean adjacency.

    ``edge_index[:, e] = (j, i)`` (source, target) for every ``adjacency[i, j]`` that is True,
    ordered by target then source.

    Args:
        adjacency: bool, ``(num_nodes, num_nodes)``; ``adjacency[i, j]`` means j sends to i.

    Returns:
        A long tensor of shape ``(2, num_edges)``.

    Raises:
        TypeError: if ``adjacency`` is not a bool tensor.
        ValueError: if it is not square and 2-D.

    Source: Fey and Lenssen, "Fast graph representation learning with PyTorch Geometric", 2019,
    arXiv:1903.02428 (the ``edge_index`` format).
    """
    if not isinstance(adjacency, torch.Tensor) or adjacency.dtype != torch.bool:
        got = adjacency.dtype if isinstance(adjacency, torch.Tensor) else type(adjacency).__name__
        raise TypeError(f"adjacency must be a bool torch.Tensor, got {got}")
    if adjacency.dim() != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(
            f"adjacency must have shape (num_nodes, num_nodes), got {tuple(adjacency.shape)}"
        )
    target, source = adjacency.nonzero(as_tuple=True)  # (num_edges,) each
    return torch.stack([source, target])  # (2, num_edges)


class GraphAttention(nn.Module):
    """Graph attention (GAT): each node pools its neighbours' features with learned weights.

    For node i with in-neighbours N(i) (and itself, with ``add_self_loops``), per head:

        h_j = W x_j,    e_ij = LeakyReLU(a_dst . h_i + a_src . h_j),
        alpha_ij = softmax_{j in N(i)} e_ij,    x'_i = sum_{j in N(i)} alpha_ij h_j

    (the paper's ``a^T [W x_i || W x_j]`` with ``a = [a_dst; a_src]``). The scores go through the
    core, :func:`~attention_utils.scoring.attention_pool`, with the adjacency as its mask. Heads
    are concatenated (``concat=True``) or averaged, then ``bias`` is added.

    Because ``a`` is applied before the (monotone) LeakyReLU, ``e_ij`` ranks the neighbours j by
    ``a_src . h_j`` alone, the same order for every node i: static attention (Brody et al. 2022).

    Args:
        in_features: size of each node's input features.
        out_features: size of each head's output.
        num_heads: number of heads.
        concat: concatenate the heads (output ``num_heads * out_features``) or average them
            (output ``out_features``).
        dropout: dropout on the attention weights in training.
        negative_slope: the LeakyReLU's slope for negative inputs.
        add_self_loops: let every node attend to itself as well.
        bias: add a learned bias to the output.

    Attributes:
        need_weights: keep the last attention weights (default False); settable.
        attention_weights: None, or the last weights, detached, ``(num_heads, num_nodes,
            num_nodes)`` (``(batch_size, num_heads, num_nodes, num_nodes)`` for a batch), with
            ``attention_weights[..., h, i, j]`` the weight node i gives node j in head h; 0 where
            j does not send to i; each row sums to 1 (0 for a node with no neighbours).

    Shapes:
        forward(X, adjacency): X ``(num_nodes, in_features)`` or ``(batch_size, num_nodes,
        in_features)``; adjacency bool ``(num_nodes, num_nodes)`` or ``(batch_size, num_nodes,
        num_nodes)``; returns ``(..., num_nodes, num_heads * out_features)`` when concatenating,
        else ``(..., num_nodes, out_features)``.

    Raises:
        TypeError: for sizes that are not ints, flags that are not bools, X that is not a
            floating tensor of the layer's dtype, or an adjacency that is not a bool tensor.
        ValueError: for sizes below 1, ``dropout`` outside [0, 1), or shapes that do not fit.

    Source: Veličković et al., "Graph attention networks", ICLR 2018, arXiv:1710.10903, eqs. 1-6.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        num_heads: int = 1,
        concat: bool = True,
        dropout: float = 0.0,
        negative_slope: float = 0.2,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_features = require_positive_int("in_features", in_features)
        self.out_features = require_positive_int("out_features", out_features)
        self.num_heads = require_positive_int("num_heads", num_heads)
        self.concat = require_bool("concat", concat)
        self.dropout = require_probability("dropout", dropout)
        self.negative_slope = require_real("negative_slope", negative_slope)
        self.add_self_loops = require_bool("add_self_loops", add_self_loops)
        require_bool("bias", bias)
        self.need_weights = False
        self.attention_weights: torch.Tensor | None = None
        self._build()
        width = num_heads * out_features if concat else out_features
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None

    def _build(self) -> None:
        heads, size = self.num_heads, self.out_features
        self.W = nn.Linear(self.in_features, heads * size, bias=False)
        self.att_src = nn.Parameter(torch.empty(heads, size))
        self.att_dst = nn.Parameter(torch.empty(heads, size))
        nn.init.xavier_uniform_(self.W.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def _heads(self, H: torch.Tensor) -> torch.Tensor:
        """``(..., num_nodes, num_heads * out_features)`` -> ``(..., num_heads, num_nodes, out)``"""
        H = H.unflatten(-1, (self.num_heads, self.out_features))  # (..., num_nodes, heads, out)
        return H.transpose(-3, -2)  # (..., num_heads, num_nodes, out_features)

    def scores(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The scores ``e_ij`` and the values ``h_j`` of every pair, before the mask.

        Returns ``(scores, values)`` of shapes ``(..., num_heads, num_nodes, num_nodes)`` (row i,
        column j: how much node i wants node j) and ``(..., num_heads, num_nodes, out_features)``.
        """
        H = self._heads(self.W(X))  # (..., num_heads, num_nodes, out_features)
        src = (H * self.att_src[:, None, :]).sum(-1)  # (..., num_heads, num_nodes)
        dst = (H * self.att_dst[:, None, :]).sum(-1)  # (..., num_heads, num_nodes)
        scores = dst.unsqueeze(-1) + src.unsqueeze(-2)  # (..., num_heads, num_nodes, num_nodes)
        return F.leaky_relu(scores, self.negative_slope), H

    def forward(self, X: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        _check_graph(X, adjacency, self.in_features, self)
        require_bool("need_weights", self.need_weights)
        mask = _with_self_loops(adjacency.to(X.device), self.add_self_loops)
        scores, values = self.scores(X)  # (..., heads, n, n), (..., heads, n, out_features)
        dropout_p = self.dropout if self.training else 0.0
        output, weights = attention_pool(scores, values, mask.unsqueeze(-3), dropout_p)
        # output: (..., num_heads, num_nodes, out_features)
        self.attention_weights = weights.detach() if self.need_weights else None
        if self.concat:
            output = output.transpose(-3, -2).flatten(-2)  # (..., num_nodes, heads * out)
        else:
            output = output.mean(-3)  # (..., num_nodes, out_features)
        return output if self.bias is None else output + self.bias


class GraphAttentionV2(GraphAttention):
    """GATv2: graph attention whose ranking of neighbours can depend on the node (dynamic).

    Per head, with a map ``W_dst`` for the receiving node and ``W_src`` for the sender:

        e_ij = a . LeakyReLU(W_dst x_i + W_src x_j),
        alpha_ij = softmax_{j in N(i)} e_ij,    x'_i = sum_{j in N(i)} alpha_ij W_src x_j

    The attention vector ``a`` comes after the nonlinearity, so ``e_ij`` is a one-hidden-layer
    network of the pair (x_i, x_j) and can rank the neighbours differently for every i. The maps
    carry biases, as in PyTorch Geometric's ``GATv2Conv`` (``bias=True``). Everything else
    (arguments, heads, masks, ``need_weights``, shapes, errors) is as in :class:`GraphAttention`.

    Source: Brody, Alon, Yahav, "How attentive are graph attention networks?", ICLR 2022,
    arXiv:2105.14491, eq. 7.
    """

    def _build(self) -> None:
        heads, size = self.num_heads, self.out_features
        self.W_src = nn.Linear(self.in_features, heads * size)
        self.W_dst = nn.Linear(self.in_features, heads * size)
        self.att = nn.Parameter(torch.empty(heads, size))
        for linear in (self.W_src, self.W_dst):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
        nn.init.xavier_uniform_(self.att)

    def scores(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`GraphAttention.scores`, with GATv2's score ``a . LeakyReLU(...)``."""
        src = self._heads(self.W_src(X))  # (..., num_heads, num_nodes, out_features)
        dst = self._heads(self.W_dst(X))  # (..., num_heads, num_nodes, out_features)
        pairs = dst.unsqueeze(-2) + src.unsqueeze(-3)  # (..., heads, n, n, out_features)
        hidden = F.leaky_relu(pairs, self.negative_slope)
        scores = (hidden * self.att[:, None, None, :]).sum(-1)  # (..., num_heads, n, n)
        return scores, src


class GraphConvolution(nn.Module):
    """Graph convolution (GCN): each node averages its neighbours with fixed, degree-based weights.

        X' = D^{-1/2} (A + I) D^{-1/2} X W + b,    D_ii = sum_j (A + I)_ij

    with ``A[i, j] = adjacency[i, j]`` (j sends to i) and ``I`` only when ``add_self_loops``. The
    weight node i gives node j, ``1 / sqrt(d_i d_j)``, depends on the graph alone, never on the
    features: this is the control for attention, a pooling whose weights cannot pick one
    neighbour out. A node with no in-neighbours gets the bias. No softmax, so no attention
    core: the normalised adjacency is kept in ``propagation`` after each forward for plotting.

    Args:
        in_features: size of each node's input features.
        out_features: size of each node's output.
        add_self_loops: add ``I`` to the adjacency.
        bias: add a learned bias.

    Shapes:
        forward(X, adjacency): as :class:`GraphAttention`; returns ``(..., num_nodes,
        out_features)``.

    Raises:
        TypeError, ValueError: as :class:`GraphAttention`.

    Source: Kipf and Welling, "Semi-supervised classification with graph convolutional
    networks", ICLR 2017, arXiv:1609.02907, eq. 2 (PyTorch Geometric's ``GCNConv``).
    """

    def __init__(
        self, in_features: int, out_features: int, add_self_loops: bool = True, bias: bool = True
    ) -> None:
        super().__init__()
        self.in_features = require_positive_int("in_features", in_features)
        self.out_features = require_positive_int("out_features", out_features)
        self.add_self_loops = require_bool("add_self_loops", add_self_loops)
        require_bool("bias", bias)
        self.W = nn.Linear(in_features, out_features, bias=False)
        nn.init.xavier_uniform_(self.W.weight)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.propagation: torch.Tensor | None = None

    def forward(self, X: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        _check_graph(X, adjacency, self.in_features, self)
        A = _with_self_loops(adjacency.to(X.device), self.add_self_loops).to(X.dtype)
        degree = A.sum(-1)  # (..., num_nodes): edges into each node
        scale = degree.pow(-0.5).masked_fill(degree == 0, 0.0)  # (..., num_nodes)
        P = scale.unsqueeze(-1) * A * scale.unsqueeze(-2)  # (..., num_nodes, num_nodes)
        self.propagation = P.detach()
        output = P @ self.W(X)  # (..., num_nodes, out_features)
        return output if self.bias is None else output + self.bias
