"""The model kinds a checkpoint can hold, and how each is built from its config."""

from __future__ import annotations

from torch import nn

from molapp.models.graphmem import GraphMem, GraphMemConfig
from molapp.models.memory_network import MemoryNetwork, MemoryNetworkConfig

# card "model" → (model class, config class); "mt-graphmem" is GraphMem trained jointly.
MODEL_KINDS: dict[str, tuple[type[nn.Module], type]] = {
    "graphmem": (GraphMem, GraphMemConfig),
    "mt-graphmem": (GraphMem, GraphMemConfig),
    "memgnn": (MemoryNetwork, MemoryNetworkConfig),
    "gmn": (MemoryNetwork, MemoryNetworkConfig),
}


def build_model(kind: str, config: dict) -> nn.Module:
    if kind not in MODEL_KINDS:
        raise ValueError(f"model {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    model_class, config_class = MODEL_KINDS[kind]
    return model_class(config_class(**config))


# What the app shows as a kind's explanation: "attention" (attention per hop and task query),
# "clusters" (memory-layer atom clusters), "fusion" (GraSeq's graph/sequence gate),
# "task_transfer" (the learned task-dependency matrix), "none" (prediction only).
EXPLANATIONS: dict[str, str] = {
    "graphmem": "attention",
    "mt-graphmem": "attention",
    "memgnn": "clusters",
    "gmn": "clusters",
}


def explanation_kind(kind: str) -> str:
    return EXPLANATIONS.get(kind, "none")


def has_attention(kind: str) -> bool:
    return explanation_kind(kind) == "attention"


def architecture_summary(card: dict) -> str:
    """One line for tables and captions, e.g. 'hidden 64 · 6 hops' or 'hidden 64 · e-GAT ×3 · keys 32→1 · 5 heads'."""
    config = card["config"]
    if has_attention(card["model"]):
        return f"hidden {config['hidden']} · {config['hops']} hops"
    query = f"e-GAT ×{config['query_layers']}" if card["model"] == "memgnn" else "RWR query"
    return f"hidden {config['hidden']} · {query} · keys {'→'.join(str(k) for k in config['keys'])} · {config['heads']} heads"
