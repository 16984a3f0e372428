"""The task knowledge-transfer model (Wu, Wang, Hu, Sun, "Chemical Property Prediction via
Graph Knowledge Transfer", slides: "Backbone model (multi-task)" and "Model detail"):

* Stage I — one residual GCN node encoder per task, X_i (`molapp.nn.gcn.GCNEncoder`; all
  share the batch's normalized adjacency). The slides' Pool(v), the max over each atom's
  neighbourhood after every layer, is `neighbourhood_pool`: off by default, because the
  shipped checkpoint and the benchmark runs named "transfer" were trained without it (it was
  missed at first); runs with it are named "transfer-pool".
* Stage II — every task's node embeddings are transferred to every other task and merged
  per target task by node-level attention and learned task-dependency weights
  (`molapp.nn.task_transfer.TaskTransfer`, whose docstring lists the choices made where
  the slides are ambiguous).
* Stage III — "original and weighted transferred embeddings are concatenated and fed into
  Set2Set": per target task j the atoms carry [X_j ‖ X̂_j] (2d), Set2Set gives G_j (4d),
  and task j's own MLP head gives its output. One Set2Set module is shared by all tasks
  (run once over the k·B (task, molecule) sets); the heads are per task.

All tasks' encoders run on every batch (they are the sources of the transfer); only the
queried target tasks' transfer, readout and heads are computed. `task_dependency()` is the
learned [k, k] matrix (row j: how much each task i helps task j, rows sum to 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn.aggr import Set2Set
from torch_geometric.utils import to_dense_batch

from molapp.models.gcn import encoder_hyperparameters
from molapp.models.spec import ModelSpec, model_field
from molapp.nn.gcn import GCNEncoder, normalized_adjacency
from molapp.nn.task_transfer import TaskTransfer


@dataclass(frozen=True)
class TaskTransferConfig:
    atom_dim: int
    num_tasks: int
    hidden: int = 64  # d: each task's node embedding
    layers: int = 3  # GCN layers per task encoder
    transfer_dim: int = 16  # d' of S_i, T_j
    attention_dim: int = 16  # d'' of W_Q, W_K
    set2set_steps: int = 3
    dropout: float = 0.1
    neighbourhood_pool: bool = False  # Stage I's Pool(v) after every GCN layer (the slides)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TaskTransferOutput:
    """`logits` [B, Q]: one output per molecule and queried task. When asked:
    `task_embeddings` [B, Q, 4d], each target task's Set2Set readout G_j, and `embedding`
    [B, 4d], their mean over the queried tasks (one vector per molecule for the embedding
    map); with `return_attention`, `attention` [k, B, Q, n, n] (source i → target q, for molecule b)."""

    logits: Tensor
    embedding: Tensor | None = None
    task_embeddings: Tensor | None = None
    attention: Tensor | None = None


class TaskTransferModel(nn.Module):
    def __init__(self, config: TaskTransferConfig) -> None:
        super().__init__()
        self.config = config
        k, d = config.num_tasks, config.hidden
        self.encoders = nn.ModuleList(GCNEncoder(config.atom_dim, d, config.layers, config.dropout, config.neighbourhood_pool)
                                      for _ in range(k))
        self.transfer = TaskTransfer(k, d, config.transfer_dim, config.attention_dim)
        self.readout = Set2Set(2 * d, processing_steps=config.set2set_steps)
        # Per-task heads 4d → d → 1, held as stacked weights so the queried ones run at once.
        self.head_hidden = nn.Parameter(torch.randn(k, 4 * d, d) / (4 * d) ** 0.5)
        self.head_hidden_bias = nn.Parameter(torch.zeros(k, d))
        self.head_out = nn.Parameter(torch.randn(k, d) / d**0.5)
        self.head_out_bias = nn.Parameter(torch.zeros(k))

    def task_dependency(self) -> Tensor:
        """[k, k]: row j, the weights of the tasks i that task j merges (sums to 1)."""
        return self.transfer.dependency()

    def forward(self, batch: Batch, task_ids: Tensor | None = None, return_embedding: bool = False,
                return_attention: bool = False) -> TaskTransferOutput:
        """`task_ids` [Q]: indices of the tasks asked for (default: all, in order)."""
        k = self.config.num_tasks
        num_graphs = batch.ptr.numel() - 1
        targets = torch.arange(k, device=batch.x.device) if task_ids is None else task_ids
        adjacency = normalized_adjacency(batch.edge_index, batch.x.shape[0])
        nodes = torch.stack([encoder(batch.x, batch.edge_index, adjacency) for encoder in self.encoders], dim=1)  # [N, k, d]
        dense, mask = to_dense_batch(nodes.flatten(1), batch.batch, batch_size=num_graphs)  # [B, n, k·d]
        dense = dense.view(num_graphs, dense.shape[1], k, -1).permute(2, 0, 1, 3)  # [k, B, n, d]
        merged, attention = self.transfer(dense, mask, targets, return_attention)  # [Q, N, d]
        own = nodes.index_select(1, targets).transpose(0, 1)  # X_j [Q, N, d]
        features = torch.cat([own, merged], dim=-1)  # [Q, N, 2d]
        queried = targets.numel()
        index = (batch.batch[None, :] + num_graphs * torch.arange(queried, device=nodes.device)[:, None]).flatten()
        graphs = self.readout(features.flatten(0, 1), index, dim_size=queried * num_graphs)  # [Q·B, 4d]
        graphs = graphs.view(queried, num_graphs, -1)  # G_j [Q, B, 4d]
        hidden = torch.einsum("qbf,qfh->qbh", graphs, self.head_hidden[targets]) + self.head_hidden_bias[targets][:, None]
        hidden = F.dropout(F.relu(hidden), self.config.dropout, self.training)
        logits = torch.einsum("qbh,qh->bq", hidden, self.head_out[targets]) + self.head_out_bias[targets]
        task_embeddings = graphs.transpose(0, 1) if return_embedding else None  # [B, Q, 4d]
        return TaskTransferOutput(
            logits=logits,
            embedding=task_embeddings.mean(1) if return_embedding else None,
            task_embeddings=task_embeddings,
            attention=attention,
        )


def summary(config: Mapping) -> str:
    pool = " + max pool" if config.get("neighbourhood_pool") else ""
    return (f"task transfer · {config['num_tasks']} GCN{pool} ×{config['layers']} encoders · hidden {config['hidden']} · "
            f"transfer {config['transfer_dim']} · attention {config['attention_dim']} · Set2Set ×{config['set2set_steps']}")


def variant_suffix(config: Mapping, hyperparameters: Mapping) -> str:
    """The benchmark name's suffix: "-pool" with Stage I's pooling. Unlike MemGNN's ablations
    this one marks the slides' design, since the name "transfer" already means without it."""
    return "-pool" if config.get("neighbourhood_pool") else ""


SPECS = (
    ModelSpec(
        "transfer", "task transfer", rank=60, model_class=TaskTransferModel, config_class=TaskTransferConfig,
        hyperparameters=(
            *encoder_hyperparameters(TaskTransferConfig),
            model_field(TaskTransferConfig, "transfer_dim", "d' of the S_i, T_j transfer factors"),
            model_field(TaskTransferConfig, "attention_dim", "d'' of the node-attention W_Q, W_K"),
            model_field(TaskTransferConfig, "set2set_steps", "Set2Set processing steps"),
            model_field(TaskTransferConfig, "neighbourhood_pool", "Stage I's Pool(v) after every GCN layer: each atom's state "
                        "becomes the max over itself and its neighbours (the slides)"),
        ),
        summary=summary, embedding="Set2Set readout of the first task's merged atom states", explanation="task_transfer",
        # Every task's encoder runs on every batch (the transfer's sources): smaller batches.
        cpu_batch_size=lambda num_queries: 16,
        # Its n × n node attention pads each molecule to the batch's largest: batches of similar-size molecules.
        ladder_flags=("--hidden", "64", "--max-epochs", "30", "--patience", "8", "--size-pools", "32"),
        ablation_suffix=variant_suffix,
    ),
)
