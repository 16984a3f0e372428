"""MemGNN and GMN (Khasahmadi et al., "Memory-Based Graph Networks", ICLR 2020): a query
network, then memory layers that coarsen the molecule down to one node, then task heads
(Eq. 5). The two differ only in the query network: MemGNN's passes messages along bonds
(e-GAT), GMN's fuses each atom's features with its random-walk topology and passes none.

The first memory layer's soft assignment C [atoms, keys] is the model's clustering of the
atoms; `return_assignments` gives it (and the deeper layers') for the app to draw.

Training adds the clustering loss after the paper (section 3.4, `MemoryNetworkTraining`):
batches train every parameter except the memory keys on the supervised loss; at each epoch's
end a phase on the clustering loss KL(P‖C) alone, over a sample of the training molecules,
moves the memory layers only (keys and head-merging convolution). The paper's phase moves
all parameters; here that bent the atom features toward the clusters and cost accuracy, and
moving the centroids as often as the queries collapsed the clusters. Keys start at sampled
queries (`MemoryNetwork.initialize_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_batch

from molapp.data.collate import collate, training_batches
from molapp.featurizers.graph import MolGraph
from molapp.models.spec import Hyperparameter, ModelSpec, TrainingHooks, model_field
from molapp.nn.memory import MemoryLayer, clustering_loss
from molapp.nn.query_networks import TOPOLOGIES, EdgeGATQueryNetwork, TopologicalQueryNetwork

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
    edge_attention: bool = True  # MemGNN: e-GAT reads the bonds; False: plain GAT (the paper's 4.4.1 ablation)
    restart: float = 0.1  # RWR restart probability (GMN)
    topology_width: int = 32  # sorted RWR entries kept per atom (GMN)
    topology: str = "rwr"  # GMN's topological input: rwr, adjacency or normalized-adjacency (4.4.2 ablation)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        object.__setattr__(self, "keys", tuple(int(k) for k in self.keys))  # JSON gives a list
        if self.keys[-1] != 1:
            raise ValueError(f"the last memory layer must have 1 key (the molecule), got keys {self.keys}")
        if self.topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {TOPOLOGIES}, not {self.topology!r}")

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
            bond_dim = config.bond_dim if config.edge_attention else None
            self.query_network = EdgeGATQueryNetwork(config.atom_dim, bond_dim, h, config.query_layers, config.attention_heads, config.dropout)
        else:
            self.query_network = TopologicalQueryNetwork(config.atom_dim, h, config.topology_width, config.restart, config.dropout,
                                                         config.topology)
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


class MemoryNetworkTraining(TrainingHooks):
    """The keys start at sampled queries, the batches leave them alone, and each epoch ends
    with the clustering phase (`clustering_phase`). Without the clustering loss
    (`--no-clustering`, the paper's Fig. 4 ablation) there is no such phase and the batches
    train the keys with everything else, on the supervised loss alone."""

    def __init__(self) -> None:
        self.optimizer: torch.optim.Optimizer | None = None
        self.clustering = True

    def start(self, model: MemoryNetwork, train_graphs: Sequence[Sequence[MolGraph]], config, device: torch.device) -> None:
        # The clustering phase moves only the memory layers (keys, head-merging convolution):
        # letting it move the query network too, as the paper does, bent the atom features
        # toward the clusters and was worse on ESOL's validation split in an early trial (not
        # kept as a results file).
        self.clustering = config.clustering
        self.optimizer = torch.optim.Adam([p for layer in model.memory_layers for p in layer.parameters()],
                                          lr=config.clustering_learning_rate)
        first = train_graphs[0]
        sample = np.random.default_rng(config.seed).permutation(len(first))[: 4 * config.batch_size]
        model.initialize_keys(collate([first[i] for i in sample]).to(device), torch.Generator(device=device).manual_seed(config.seed))

    def frozen_in_batches(self, model: MemoryNetwork) -> list[nn.Parameter]:
        return model.memory_keys() if self.clustering else []

    def end_of_epoch(self, model: MemoryNetwork, train_graphs: Sequence[Sequence[MolGraph]], config,
                     rng: np.random.Generator, device: torch.device) -> str:
        if not self.clustering:
            return ""
        loss = clustering_phase(model, [graph for graphs in train_graphs for graph in graphs], config, self.optimizer, rng, device)
        return f"  clustering KL {loss:.4f}"

    def state_dict(self) -> dict:
        return {"clustering_optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["clustering_optimizer"])


def clustering_phase(model: MemoryNetwork, graphs: Sequence[MolGraph], config, optimizer: torch.optim.Optimizer,
                     rng: np.random.Generator, device: torch.device) -> float:
    """The epoch-end phase on the clustering loss alone (Eq. 11 with λ = 0): mini-batch
    steps over `config.clustering_molecules` sampled training molecules. Returns the mean loss."""
    model.train()
    sample = rng.permutation(len(graphs))[: config.clustering_molecules]
    losses = []
    for chunk in training_batches(sample, config.batch_size):
        loss = model(collate([graphs[j] for j in chunk]).to(device)).clustering_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else 0.0


def summary(config: Mapping) -> str:
    if config["kind"] == "memgnn":
        query = f"{'e-GAT' if config.get('edge_attention', True) else 'GAT'} ×{config['query_layers']}"
    else:
        query = f"{TOPOLOGY_TITLES[config.get('topology', 'rwr')]} query"
    return f"hidden {config['hidden']} · {query} · keys {'→'.join(str(k) for k in config['keys'])} · {config['heads']} heads"


TOPOLOGY_TITLES = {"rwr": "RWR", "adjacency": "adjacency", "normalized-adjacency": "normalized-adjacency"}


def ablation_suffix(config: Mapping, hyperparameters: Mapping) -> str:
    """The paper's ablations in a benchmark name: "-gat" (no bond features in the attention),
    "-noclustering" (no clustering loss), "-adjacency" / "-normalized-adjacency" (GMN's input)."""
    topology = config.get("topology", "rwr")
    return (("-gat" if not config.get("edge_attention", True) else "") + ("" if topology == "rwr" else f"-{topology}")
            + ("-noclustering" if not hyperparameters.get("clustering", True) else ""))


def _keys(text: str) -> tuple[int, ...]:
    return tuple(int(k) for k in text.split(","))


_HYPERPARAMETERS = (
    model_field(MemoryNetworkConfig, "hidden"),
    model_field(MemoryNetworkConfig, "dropout"),
    model_field(MemoryNetworkConfig, "keys", "keys per memory layer, comma-separated, ending in 1",
                to_flag=lambda keys: ",".join(str(k) for k in keys), to_config=_keys),
    model_field(MemoryNetworkConfig, "heads", "memory heads"),
    model_field(MemoryNetworkConfig, "tau", "Student's t degrees of freedom"),
    Hyperparameter("clustering_learning_rate", 1e-2, "learning rate of the memory layers in the epoch-end clustering phase"),
    Hyperparameter("clustering_molecules", 1024, "training molecules sampled for that phase"),
    Hyperparameter("clustering", True, "train the memory keys on the clustering loss (off: the supervised loss moves them)"),
)
_SHARED = dict(model_class=MemoryNetwork, config_class=MemoryNetworkConfig, summary=summary,
               embedding="readout node after the last memory layer", explanation="clusters",
               explanation_outputs={"return_assignments": True},
               # The clustering needs longer than the other kinds' budgets (bench/train_memory_models.sh).
               ladder_flags=("--max-epochs", "150", "--patience", "40"), training_hooks=MemoryNetworkTraining,
               ablation_suffix=ablation_suffix)
SPECS = (
    ModelSpec("memgnn", "MemGNN", rank=30, fixed_config={"kind": "memgnn"},
              hyperparameters=(*_HYPERPARAMETERS, model_field(MemoryNetworkConfig, "query_layers", "e-GAT layers"),
                               model_field(MemoryNetworkConfig, "edge_attention", "the query network's attention reads the bonds "
                                           "(e-GAT); off: plain GAT")), **_SHARED),
    ModelSpec("gmn", "GMN", rank=40, fixed_config={"kind": "gmn"},
              hyperparameters=(*_HYPERPARAMETERS, model_field(MemoryNetworkConfig, "topology", "the atoms' topological input, "
                                                              "each row sorted", choices=TOPOLOGIES)), **_SHARED),
)
