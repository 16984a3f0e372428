"""The GraphMem model: memory initialized from the atoms, a controller initialized from the
task query, T hops of read/update with shared weights (the paper's M + 1 interacting
RNNs), and a per-task readout of the final controller state.

Optionally (`descriptor_dim` > 0) the controller also starts from the molecule's RDKit
descriptors (`molapp.featurizers.descriptors`): h_0 = g(W_q q + W_d z(d)), z the
training set's standardization. The controller is the model's molecule-level state, so
this is where whole-molecule facts enter; the hops still read and write only the atoms,
and the attention explains what the model read.

Multi-task inference is one batched pass: every requested task query for every molecule
of the batch (queries × molecules), not one pass per task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from molapp.featurizers.descriptors import DESCRIPTOR_DIM, DESCRIPTOR_SET_CHOICES
from molapp.featurizers.graph import MolGraph
from molapp.models.encoder import initialize_from_encoder
from molapp.models.spec import Hyperparameter, ModelSpec, TrainingHooks, model_field
from molapp.nn.graphmem import GraphMemHop, RelationalNeighbourhood


@dataclass(frozen=True)
class GraphMemConfig:
    atom_dim: int
    bond_dim: int
    num_relations: int
    num_tasks: int
    # The defaults are the shipped checkpoints' (and `python -m molapp.train`'s): 64 wide, 6 hops
    # (the paper's search range tops out at 128 and 10).
    hidden: int = 64
    hops: int = 6
    dropout: float = 0.1
    descriptor_dim: int = 0  # 0: the paper's model, no descriptors

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GraphMemOutput:
    """`logits` [B, Q]: one output per molecule and query (a logit for classification, a
    standardized value for regression). When requested, `attention` [T, N, Q]: the weight
    p_t,i of every hop t, atom i and query, exactly as used by this forward pass;
    `embedding` [B, Q, H]: the final controller state h_T."""

    logits: Tensor
    attention: Tensor | None = None
    embedding: Tensor | None = None


class GraphMem(nn.Module):
    r"""GraphMem (section III).

    Controller start :math:`h_0 = g(W_q q)` with q the one-hot task query (a single-task
    model has one constant query), or :math:`g(W_q q + W_d z(d))` with descriptors d
    [B, D], :math:`z(d) = \operatorname{clip}((d - \mu) / \sigma, -5, 5)` (μ, σ of the
    training set, stored with the weights); memory start :math:`m^i_0 = g(W_x x_i)`; T hops of
    `GraphMemHop`; output :math:`y_k = w_k^\top g(W_o h_T) + b_k` for query k.
    Dropout at the first step (memory and controller start) and the last (h_T).
    """

    def __init__(self, config: GraphMemConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.atom_encoder = nn.Linear(config.atom_dim, h)  # W_x
        self.query_encoder = nn.Embedding(config.num_tasks, h)  # W_q q for one-hot q
        self.hop = GraphMemHop(h, config.bond_dim, config.num_relations)  # shared by all T hops
        self.output_hidden = nn.Linear(h, h)  # W_o
        self.task_weights = nn.Parameter(torch.empty(config.num_tasks, h))  # w_k
        self.task_bias = nn.Parameter(torch.zeros(config.num_tasks))  # b_k
        nn.init.xavier_uniform_(self.task_weights)
        self.dropout = nn.Dropout(config.dropout)
        if config.descriptor_dim:
            self.descriptor_encoder = nn.Linear(config.descriptor_dim, h, bias=False)  # W_d
            self.register_buffer("descriptor_mean", torch.zeros(config.descriptor_dim))  # μ
            self.register_buffer("descriptor_std", torch.ones(config.descriptor_dim))  # σ

    def set_descriptor_scale(self, descriptors: Tensor) -> None:
        """μ and σ of z(d) from the training molecules' descriptors [n, D] (a constant column gets σ = 1)."""
        self.descriptor_mean.copy_(descriptors.mean(0))
        std = descriptors.std(0)
        self.descriptor_std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def scaled_descriptors(self, batch: Batch) -> Tensor:
        """z(d) [B, D]."""
        descriptors = getattr(batch, "descriptors", None)
        if descriptors is None:
            raise ValueError("this GraphMem reads molecular descriptors: featurize with the card's descriptor set (descriptors=card.descriptors)")
        return ((descriptors - self.descriptor_mean) / self.descriptor_std).clamp(-5.0, 5.0)

    def controller_start(self, batch: Batch, task_ids: Tensor, num_graphs: int) -> Tensor:
        """h_0 [B, Q, H], after the first step's dropout."""
        query = self.query_encoder(task_ids)  # [Q, H]
        if not self.config.descriptor_dim:  # the same start for every molecule
            return self.dropout(torch.relu(query)).unsqueeze(0).expand(num_graphs, -1, -1)
        scaled = self.scaled_descriptors(batch)
        return self.dropout(torch.relu(query.unsqueeze(0) + self.descriptor_encoder(scaled).unsqueeze(1)))

    def forward(self, batch: Batch, task_ids: Tensor | None = None, return_attention: bool = False, return_embedding: bool = False) -> GraphMemOutput:
        """`task_ids` [Q]: indices of the tasks queried (default: all, in order)."""
        if task_ids is None:
            task_ids = torch.arange(self.config.num_tasks, device=batch.x.device)
        num_graphs = int(batch.ptr.numel() - 1)
        num_atoms = batch.x.shape[0]
        weights = RelationalNeighbourhood.edge_weights(batch.edge_index, batch.edge_type, num_atoms, self.config.num_relations)
        bond_context = self.hop.neighbourhood.bond_context(batch.edge_attr, batch.edge_index, batch.edge_type, weights, num_atoms)

        memory = self.dropout(torch.relu(self.atom_encoder(batch.x))).unsqueeze(1)  # [N, 1, H]
        controller = self.controller_start(batch, task_ids, num_graphs)  # [B, Q, H]

        attention_per_hop = []
        for t in range(self.config.hops):
            memory, controller, attention = self.hop(
                memory, controller, bond_context, batch.edge_index, batch.edge_type, weights, batch.batch, num_graphs,
                write_memory=t < self.config.hops - 1,  # the last hop's memory would never be read
            )
            if return_attention:
                attention_per_hop.append(attention)

        final_state = self.dropout(controller)
        hidden = torch.relu(self.output_hidden(final_state))
        logits = (hidden * self.task_weights[task_ids]).sum(-1) + self.task_bias[task_ids]
        return GraphMemOutput(
            logits=logits,
            attention=torch.stack(attention_per_hop) if return_attention else None,
            embedding=controller if return_embedding else None,
        )


class GraphMemTraining(TrainingHooks):
    """A pretrained encoder, when asked for (`--init-encoder`, `molapp.models.encoder`), and
    input scaling: z(d) standardizes the descriptors with the training molecules' μ and σ."""

    def start(self, model: GraphMem, train_graphs: Sequence[Sequence[MolGraph]], config, device: torch.device) -> None:
        if config.init_encoder:
            initialize_from_encoder(model, config.init_encoder)
        if model.config.descriptor_dim:
            descriptors = np.stack([graph.descriptors for graphs in train_graphs for graph in graphs])
            model.set_descriptor_scale(torch.from_numpy(descriptors).to(device))


def cpu_batch_size(num_queries: int) -> int:
    """GraphMem's memory is per task query ([atoms, queries, hidden]) and runs fastest while a
    batch's stays in cache: about 200 molecule-queries per batch (16 molecules × 12 Tox21
    queries: 15% faster than 32; 4 × the joint model's 44; measured per molecule, one thread,
    on shipped checkpoints)."""
    return max(4, min(64, 192 // max(num_queries, 1)))


def summary(config: Mapping) -> str:
    descriptors = f" · {config['descriptor_dim']} descriptors" if config.get("descriptor_dim") else ""
    return f"hidden {config['hidden']} · {config['hops']} hops{descriptors}"


HYPERPARAMETERS = (
    model_field(GraphMemConfig, "hidden", "width of the memory cells and the controller"),
    model_field(GraphMemConfig, "dropout", "dropout at the first and the last step"),
    model_field(GraphMemConfig, "hops", "read/update hops T"),
    model_field(GraphMemConfig, "descriptor_dim", "the controller also starts from the molecule's RDKit descriptors",
                name="descriptors", to_flag=bool, to_config=lambda on: DESCRIPTOR_DIM if on else 0),
    # The model's descriptor width is then the data's (`ModelSpec.model_config`: sizes win).
    Hyperparameter("descriptor_set", "rdkit-70", "which descriptors --descriptors reads: the 70 chosen by cost, or all of "
                   "RDKit's, log-scaled", choices=tuple(DESCRIPTOR_SET_CHOICES)),
    Hyperparameter("init_encoder", "", "start from a pretrained encoder (a folder of python -m molapp.cli.pretrain)"),
)


def pretrained(config: Mapping, hyperparameters: Mapping) -> str:
    """"-pretrained" for a run that started from a pretrained encoder: another model than the paper's."""
    return "-pretrained" if hyperparameters.get("init_encoder") else ""
_SHARED = dict(model_class=GraphMem, config_class=GraphMemConfig, hyperparameters=HYPERPARAMETERS, summary=summary,
               embedding="final controller state h_T", explanation="attention",
               explanation_outputs={"return_attention": True}, cpu_batch_size=cpu_batch_size, training_hooks=GraphMemTraining,
               ablation_suffix=pretrained)
SPECS = (
    ModelSpec("graphmem", "GraphMem", rank=50, **_SHARED),
    # GraphMem trained jointly on several datasets: one task query per task of every dataset.
    ModelSpec("mt-graphmem", "MT-GraphMem, joint training", rank=70, joint=True, **_SHARED),
)
