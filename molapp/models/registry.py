"""The model kinds a checkpoint can hold, and how each is built from its config."""

from __future__ import annotations

from torch import nn

from molapp.models.card import Card

from molapp.models.gcn import GCN, GCNConfig
from molapp.models.graphmem import GraphMem, GraphMemConfig
from molapp.models.graseq import GraSeq, GraSeqConfig
from molapp.models.memory_network import MemoryNetwork, MemoryNetworkConfig
from molapp.models.task_transfer import TaskTransferConfig, TaskTransferModel

# card "model" → (model class, config class); "mt-graphmem" is GraphMem trained jointly.
MODEL_KINDS: dict[str, tuple[type[nn.Module], type]] = {
    "graphmem": (GraphMem, GraphMemConfig),
    "mt-graphmem": (GraphMem, GraphMemConfig),
    "memgnn": (MemoryNetwork, MemoryNetworkConfig),
    "gmn": (MemoryNetwork, MemoryNetworkConfig),
    "graseq": (GraSeq, GraSeqConfig),
    "gcn": (GCN, GCNConfig),
    "transfer": (TaskTransferModel, TaskTransferConfig),
}


def build_model(kind: str, config: dict) -> nn.Module:
    if kind not in MODEL_KINDS:
        raise ValueError(f"model {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    model_class, config_class = MODEL_KINDS[kind]
    return model_class(config_class(**config))


def benchmark_name(card: Card) -> str:
    """The model's name in bench/results and the ladder: the card's kind, with
    "-descriptors" when it also reads descriptors (a different model from the paper's),
    "-sqrt" or "-unweighted" when trained with positive weights other than the default
    balanced ones (`molapp.training.trainer.positive_weights`), and "-fixedN" when trained a
    fixed N epochs without early stopping (a deployment recipe's split models)."""
    hyperparameters = card.hyperparameters
    weighting = hyperparameters.get("positive_weighting", "balanced")
    fixed = "" if hyperparameters.get("early_stopping", True) else f"-fixed{hyperparameters['max_epochs']}"
    return card.model + ("-descriptors" if card.reads_descriptors else "") + ("" if weighting == "balanced" else f"-{weighting}") + fixed


def cpu_batch_size(kind: str, num_queries: int) -> int:
    """Molecules per batch for inference on CPU. GraphMem's memory is per task query
    ([atoms, queries, hidden]) and runs fastest while a batch's stays in cache: about 200
    molecule-queries per batch (16 molecules × 12 Tox21 queries: 15% faster than 32; 4 × the
    joint model's 44). The other kinds gain from larger batches up to about 64 (measured
    per molecule, one thread, on shipped checkpoints)."""
    if has_attention(kind):
        return max(4, min(64, 192 // max(num_queries, 1)))
    return 16 if kind == "transfer" else 64


# What the app shows as a kind's explanation: "attention" (attention per hop and task query),
# "clusters" (memory-layer atom clusters), "fusion" (GraSeq's graph/sequence gate),
# "task_transfer" (the learned task-dependency matrix), "none" (prediction only).
EXPLANATIONS: dict[str, str] = {
    "graphmem": "attention",
    "mt-graphmem": "attention",
    "memgnn": "clusters",
    "gmn": "clusters",
    "graseq": "fusion",
    "gcn": "none",
    "transfer": "task_transfer",
}


def explanation_kind(kind: str) -> str:
    return EXPLANATIONS.get(kind, "none")


def has_attention(kind: str) -> bool:
    return explanation_kind(kind) == "attention"


def architecture_summary(card: Card) -> str:
    """One line for tables and captions, e.g. 'hidden 64 · 6 hops' or 'hidden 64 · e-GAT ×3 · keys 32→1 · 5 heads'
    (followed by '· ensemble of M' for an ensemble)."""
    members = card.ensemble_size
    return _one_model(card) + (f" · ensemble of {members}" if members > 1 else "")


def _one_model(card: Card) -> str:
    config = card.config
    if has_attention(card.model):
        descriptors = f" · {config['descriptor_dim']} descriptors" if config.get("descriptor_dim") else ""
        return f"hidden {config['hidden']} · {config['hops']} hops{descriptors}"
    if card.model == "graseq":
        variant = "GraSeq" + ("" if config["variant"] == "plain" else "-" + config["variant"].upper())
        return f"{variant} · hidden {config['hidden']} · GraphSAGE ×{config['graph_layers']} · BiLSTM {config['lstm_hidden']}×2"
    if card.model == "gcn":
        return f"GCN ×{config['layers']} · hidden {config['hidden']} · mean pool"
    if card.model == "transfer":
        return (f"task transfer · {config['num_tasks']} GCN ×{config['layers']} encoders · hidden {config['hidden']} · "
                f"transfer {config['transfer_dim']} · attention {config['attention_dim']} · Set2Set ×{config['set2set_steps']}")
    query = f"e-GAT ×{config['query_layers']}" if card.model == "memgnn" else "RWR query"
    return f"hidden {config['hidden']} · {query} · keys {'→'.join(str(k) for k in config['keys'])} · {config['heads']} heads"
