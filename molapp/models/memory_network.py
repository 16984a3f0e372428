"""MemGNN and GMN (Khasahmadi et al., "Memory-Based Graph Networks", ICLR 2020): a query
network, then memory layers that coarsen the molecule down to one node, then task heads
(Eq. 5). The two differ only in the query network: MemGNN's passes messages along bonds
(e-GAT), GMN's fuses each atom's features with its random-walk topology and passes none.

The first memory layer's soft assignment C [atoms, keys] is the model's clustering of the
atoms; `return_assignments` gives it (and the deeper layers') for the app to draw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_batch

from molapp.nn.memory import MemoryLayer, clustering_loss
from molapp.nn.query_networks import EdgeGATQueryNetwork, TopologicalQueryNetwork

KINDS = ("memgnn", "gmn")


@dataclass(frozen=True)
class MemoryNetworkConfig:
    kind: str  # "memgnn" or "gmn"
    atom_dim: int
    bond_dim: int
    num_tasks: int
    hidden: int = 64
    keys: tuple[int, ...] = (32, 1)  # keys per memory layer; the last must be 1 (one node per molecule)
    heads: int = 5  # memory heads per layer
    tau: float = 1.0  # Student's t degrees of freedom
    query_layers: int = 3  # e-GAT layers (MemGNN)
    attention_heads: int = 4  # e-GAT attention heads (MemGNN)
    restart: float = 0.1  # RWR restart probability (GMN)
    topology_width: int = 32  # sorted RWR entries kept per atom (GMN)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        object.__setattr__(self, "keys", tuple(int(k) for k in self.keys))  # JSON gives a list
        if self.keys[-1] != 1:
            raise ValueError(f"the last memory layer must have 1 key (the molecule), got keys {self.keys}")

    def to_dict(self) -> dict:
        return {**asdict(self), "keys": list(self.keys)}


@dataclass
class MemoryNetworkOutput:
    """`logits` [B, Q]: one output per molecule and queried task (a logit for
    classification, a standardized value for regression). `clustering_loss`: Σ over layers
    of KL(P‖C) (Eq. 9). When requested, `assignments`: per memory layer, C — the first
    [N, K₀] over the batch's atoms, the deeper ones [B, K_{l-1}, K_l]; `embedding` [B, d],
    the molecule's node after the last memory layer."""

    logits: Tensor
    clustering_loss: Tensor
    assignments: list[Tensor] | None = None
    embedding: Tensor | None = None


class MemoryNetwork(nn.Module):
    r"""MemGNN / GMN: :math:`Y = \mathrm{MLP}(\mathcal M^{(L)}(\cdots \mathcal M^{(0)}(Q^{(0)})))`
    (Eq. 5), :math:`Q^{(0)} = f_q(g)` from the query network; one output per task."""

    def __init__(self, config: MemoryNetworkConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        if config.kind == "memgnn":
            self.query_network = EdgeGATQueryNetwork(config.atom_dim, config.bond_dim, h, config.query_layers, config.attention_heads, config.dropout)
        else:
            self.query_network = TopologicalQueryNetwork(config.atom_dim, h, config.topology_width, config.restart, config.dropout)
        # Queries on a fixed scale, so that the keys, which move only once per epoch, stay among them.
        self.query_norm = nn.LayerNorm(h)
        self.memory_layers = nn.ModuleList(MemoryLayer(h, h, keys, config.heads, config.tau) for keys in config.keys)
        self.head = nn.Sequential(nn.Linear(h, h), nn.LeakyReLU(), nn.Dropout(config.dropout), nn.Linear(h, config.num_tasks))

    def memory_keys(self) -> list[nn.Parameter]:
        """The keys of every layer: trained only by the clustering loss, once per epoch."""
        return [layer.keys for layer in self.memory_layers]

    @torch.no_grad()
    def initialize_keys(self, batch: Batch, generator: torch.Generator | None = None) -> None:
        """Start each layer's keys at queries of `batch` (a random real node per key and
        head). Uniformly random keys sit far from every query, where the Student's t kernel
        is flat and every assignment is uniform; the paper notes k-means starts work as well
        as random ones (4.4.5), and a sample of queries is the cheapest such start."""
        queries, mask = to_dense_batch(self.queries(batch), batch.batch)
        layer_mask = mask
        for layer in self.memory_layers:
            nodes = queries[layer_mask] if layer_mask is not None else queries.reshape(-1, queries.shape[-1])
            heads, keys, _ = layer.keys.shape
            picks = torch.randint(nodes.shape[0], (heads * keys,), generator=generator, device=nodes.device)
            layer.keys.copy_(nodes[picks].view(heads, keys, -1))
            queries, _ = layer(queries, layer_mask)
            layer_mask = None

    def queries(self, batch: Batch) -> Tensor:
        """Q⁽⁰⁾ [N, d] from the query network, layer-normalized."""
        if self.config.kind == "memgnn":
            return self.query_norm(self.query_network(batch.x, batch.edge_index, batch.edge_attr))
        return self.query_norm(self.query_network(batch.x, batch.edge_index, batch.batch))

    def forward(self, batch: Batch, task_ids: Tensor | None = None, return_assignments: bool = False, return_embedding: bool = False) -> MemoryNetworkOutput:
        """`task_ids` [Q]: indices of the tasks asked for (default: all, in order)."""
        queries, mask = to_dense_batch(self.queries(batch), batch.batch)  # [B, n, d], [B, n]
        assignments, loss = [], queries.new_zeros(())
        layer_mask = mask
        for layer in self.memory_layers:
            queries, assignment = layer(queries, layer_mask)
            loss = loss + clustering_loss(assignment, layer_mask)
            assignments.append(assignment[mask] if layer_mask is mask else assignment)
            layer_mask = None  # coarsened nodes are all real
        embedding = queries[:, 0]  # [B, d]: one node per molecule after the last layer
        outputs = self.head(embedding)
        logits = outputs if task_ids is None else outputs.index_select(1, task_ids)
        return MemoryNetworkOutput(
            logits=logits,
            clustering_loss=loss,
            assignments=assignments if return_assignments else None,
            embedding=embedding if return_embedding else None,
        )
