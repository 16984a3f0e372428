"""The two query networks that turn atoms into the first memory layer's queries Q⁽⁰⁾
(Khasahmadi et al., ICLR 2020): MemGNN's edge-aware GAT (section 3.3, Eq. 7–8) and GMN's
message-free fusion of atom features with a random-walk-with-restart topological
embedding (section 3.2, Eq. 6, appendix A.4).

Shapes: N atoms in the batch, B molecules, n atoms of the largest molecule, F atom
features, F_e bond features, d query size. Nothing here keeps state between calls.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv
from torch_geometric.utils import to_dense_adj, to_dense_batch

# GMN's topological inputs (the paper's 4.4.2 ablation): per atom, its row of the RWR
# relevance, of the adjacency matrix A, or of the normalized adjacency A D^-1.
TOPOLOGIES = ("rwr", "adjacency", "normalized-adjacency")


class EdgeGATQueryNetwork(nn.Module):
    r"""MemGNN's query network :math:`Q^{(0)} = G_\theta(A, X)`: a stack of e-GAT layers,
    whose attention reads the bond as well as the two atoms (Eq. 8),

    .. math::
        \alpha_{ij} = \operatorname{softmax}_{j \in N_i}\Big(\sigma\big(W\,[W_n h_i \Vert W_n h_j \Vert W_e h_{i\to j}]\big)\Big)

    which is exactly `GATConv` with `edge_dim` (σ = LeakyReLU). Each layer has several
    attention heads (concatenated), batch normalization, LeakyReLU, a residual connection
    and dropout (appendix A.1). In: x [N, F], edge_index [2, E], edge_attr [E, F_e].
    Out: [N, d]. `bond_dim` None: plain GAT, attention on the two atoms only (the paper's
    4.4.1 ablation); `edge_attr` is then ignored.
    """

    def __init__(self, atom_dim: int, bond_dim: int | None, hidden: int, layers: int, attention_heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % attention_heads:
            raise ValueError(f"hidden size {hidden} must be divisible by the attention heads {attention_heads}")
        self.atom_encoder = nn.Linear(atom_dim, hidden)
        self.convolutions = nn.ModuleList(
            GATConv(hidden, hidden // attention_heads, heads=attention_heads, edge_dim=bond_dim) for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.reads_bonds = bond_dim is not None

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        h = F.leaky_relu(self.atom_encoder(x))
        edge_attr = edge_attr if self.reads_bonds else None
        for convolution, norm in zip(self.convolutions, self.norms):
            h = h + self.dropout(F.leaky_relu(norm(convolution(h, edge_index, edge_attr))))
        return h


def topological_embedding(edge_index: Tensor, batch: Tensor, restart: float, width: int, topology: str = "rwr") -> Tensor:
    r"""GMN's topological embedding: per atom i, the relevance of every atom of its molecule
    to a walker that starts at i, steps to a random neighbour and returns to i with
    probability c = `restart`,

    .. math:: t_i = (1-c)\,\tilde A\,t_i + c\,e_i = c\,(I - (1-c)\tilde A)^{-1} e_i

    with :math:`\tilde A = A D^{-1}` (appendix A.4; the paper's Eq. 12 writes p for the
    weight on :math:`\tilde A` but calls p the restart probability — we follow the stated
    meaning, restart 0.1, so walks reach across the molecule). Each row is sorted in
    descending order (Prop. 1: invariance to atom order) and cut or zero-padded to `width`.
    Returns [N, width]; computed for all molecules at once with one batched solve.

    `topology` "adjacency" or "normalized-adjacency": the same sorted rows of A or of
    :math:`\tilde A` instead (the paper's 4.4.2 ablation; it found RWR best on Enzymes).
    """
    adjacency = to_dense_adj(edge_index, batch)  # [B, n, n]
    _, mask = to_dense_batch(batch, batch)  # [B, n]
    degree = adjacency.sum(dim=1, keepdim=True).clamp_min(1.0)
    transition = adjacency / degree  # column-normalized: A D^-1
    if topology == "rwr":
        identity = torch.eye(adjacency.shape[-1], dtype=adjacency.dtype, device=adjacency.device).expand_as(adjacency)
        relevance = restart * torch.linalg.solve(identity - (1.0 - restart) * transition, identity)  # column i = t_i
    elif topology == "adjacency":
        relevance = adjacency
    elif topology == "normalized-adjacency":
        relevance = transition
    else:
        raise ValueError(f"topology must be one of {TOPOLOGIES}, not {topology!r}")
    rows = relevance.transpose(1, 2)[mask]  # [N, n]: row i = t_i; other molecules' (padding) columns are 0
    rows = rows.sort(dim=-1, descending=True).values
    if rows.shape[1] >= width:
        return rows[:, :width]
    return F.pad(rows, (0, width - rows.shape[1]))


class TopologicalQueryNetwork(nn.Module):
    r"""GMN's query network (Eq. 6), no message passing:

    .. math:: Q^{(0)} = \sigma\big([\sigma(S W_0) \Vert X]\, W_1\big)

    S [N, width] the sorted RWR embedding, X [N, F] the atom features, σ = LeakyReLU.
    Out: [N, d].
    """

    def __init__(self, atom_dim: int, hidden: int, topology_width: int, restart: float, dropout: float, topology: str = "rwr") -> None:
        super().__init__()
        self.topology_kind = topology
        self.restart = restart
        self.topology_width = topology_width
        self.topology = nn.Linear(topology_width, atom_dim)  # W_0
        self.fuse = nn.Linear(2 * atom_dim, hidden)  # W_1
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor) -> Tensor:
        topology = topological_embedding(edge_index, batch, self.restart, self.topology_width, self.topology_kind)
        fused = torch.cat([F.leaky_relu(self.topology(topology)), x], dim=-1)
        return self.dropout(F.leaky_relu(self.fuse(fused)))
