"""GCN baseline (the ladder's plain graph model): a residual GCN node encoder
(`molapp.nn.gcn.GCNEncoder`), mean pooling over each molecule's atoms, and an MLP head
with one output per task. Multi-task when trained on several tasks (one shared encoder);
single-task when trained on one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_mean_pool

from molapp.models.spec import Hyperparameter, ModelSpec, model_field
from molapp.nn.gcn import GCNEncoder


@dataclass(frozen=True)
class GCNConfig:
    atom_dim: int
    num_tasks: int
    hidden: int = 64
    layers: int = 3  # GCN layers
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GCNOutput:
    """`logits` [B, Q]: one output per molecule and queried task (a logit for
    classification, a standardized value for regression); `embedding` [B, d], the mean
    of the molecule's node states, when asked."""

    logits: Tensor
    embedding: Tensor | None = None


class GCN(nn.Module):
    def __init__(self, config: GCNConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.encoder = GCNEncoder(config.atom_dim, h, config.layers, config.dropout)
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(h, config.num_tasks))

    def forward(self, batch: Batch, task_ids: Tensor | None = None, return_embedding: bool = False) -> GCNOutput:
        """`task_ids` [Q]: indices of the tasks asked for (default: all, in order)."""
        nodes = self.encoder(batch.x, batch.edge_index)
        embedding = global_mean_pool(nodes, batch.batch, size=batch.ptr.numel() - 1)  # [B, d]
        outputs = self.head(embedding)
        logits = outputs if task_ids is None else outputs.index_select(1, task_ids)
        return GCNOutput(logits=logits, embedding=embedding if return_embedding else None)


def summary(config: Mapping) -> str:
    return f"GCN ×{config['layers']} · hidden {config['hidden']} · mean pool"


def encoder_hyperparameters(config_class: type) -> tuple[Hyperparameter, ...]:
    """The hyper-parameters of a model built on GCN encoders (this one, the transfer model)."""
    return (
        model_field(config_class, "hidden"),
        model_field(config_class, "dropout"),
        model_field(config_class, "layers", "GCN layers (per task encoder for transfer)", name="gcn_layers"),
    )


SPECS = (
    ModelSpec(
        "gcn", "GCN", rank=10, model_class=GCN, config_class=GCNConfig, hyperparameters=encoder_hyperparameters(GCNConfig),
        summary=summary, embedding="pooled atom states", ladder_flags=("--max-epochs", "100", "--patience", "20"),
    ),
)
