"""A GCN node encoder (Kipf & Welling, ICLR 2017) for the GCN baseline and for the
per-task encoders of the task knowledge-transfer model.

Each layer is the slides' Stage I, Conv(A, X) = D̂^{-1/2} Â D̂^{-1/2} X Θ (Â = A + I),
then batch normalization, ReLU, optionally Stage I's Pool(v) (`neighbourhood_max`), and
dropout, added to its input (residual). The
normalized adjacency depends only on the batch's graph, so it is computed once per
forward (`normalized_adjacency`) and can be shared by several encoders over one batch.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import scatter


def normalized_adjacency(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Edges of Â = A + I with the symmetric normalization weights D̂^{-1/2} Â D̂^{-1/2}:
    (edge_index [2, E + N], edge_weight [E + N])."""
    return gcn_norm(edge_index, None, num_nodes, add_self_loops=True)


def neighbourhood_max(h: Tensor, edges: Tensor) -> Tensor:
    """The slides' Stage I pooling, Pool(v) = max over v and its neighbours u of h_u, feature
    by feature (DeepChem's GraphPool): h [N, F] → [N, F]. `edges` [2, E] must hold every
    node's self-loop (as `normalized_adjacency`'s do), so each node takes part in its own max."""
    return scatter(h[edges[0]], edges[1], dim=0, dim_size=h.shape[0], reduce="max")


class GCNEncoder(nn.Module):
    """Atom features [N, atom_dim] → node states [N, hidden]: a linear embedding, then
    `layers` residual blocks h ← h + Dropout(ReLU(BN(GCNConv(h)))), or with
    `neighbourhood_pool` h ← h + Dropout(Pool(ReLU(BN(GCNConv(h)))))."""

    def __init__(self, atom_dim: int, hidden: int, layers: int = 3, dropout: float = 0.1, neighbourhood_pool: bool = False) -> None:
        super().__init__()
        self.neighbourhood_pool = neighbourhood_pool
        self.embed = nn.Linear(atom_dim, hidden)
        # normalize=False: the caller's (or `forward`'s) precomputed D̂^{-1/2} Â D̂^{-1/2} is used.
        self.convs = nn.ModuleList(GCNConv(hidden, hidden, normalize=False) for _ in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.dropout = dropout

    def forward(self, x: Tensor, edge_index: Tensor, adjacency: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """`adjacency`: `normalized_adjacency(edge_index, N)` when already computed."""
        edges, weights = adjacency if adjacency is not None else normalized_adjacency(edge_index, x.shape[0])
        h = self.embed(x)
        for conv, norm in zip(self.convs, self.norms):
            update = F.relu(norm(conv(h, edges, weights)))
            if self.neighbourhood_pool:
                update = neighbourhood_max(update, edges)
            h = h + F.dropout(update, self.dropout, self.training)
        return h
