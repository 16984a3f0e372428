"""What a model kind is and needs, in one place: `ModelSpec`.

Each model module (`molapp/models/<kind>.py`) defines the specs of its kinds in a module-level
`SPECS` tuple; `molapp.models.registry` collects them. Everything else — the trainer, the
train CLI's flags, the app, the explanations, the embedding map, the benchmark ladder — asks
the spec, so adding a model kind is one new module (plus its tests): see CONTRIBUTING.md.

A kind's hyper-parameters (`Hyperparameter`) are the `python -m molapp.train` flags, the
fields of `molapp.training.trainer.TrainConfig` and the card's "hyperparameters" entries. One
that sets a field of the model's config dataclass takes its default from that dataclass
(`model_field`), so the config dataclass is the one source of the model's defaults; the others
are training options of the kind (read by its `TrainingHooks`) and carry their own default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from molapp.featurizers.graph import MolGraph


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Hyperparameter:
    """One option of a kind's training. `name`: the TrainConfig field, the train CLI's
    `--name` flag (underscores as dashes) and the card's "hyperparameters" key. `config_field`:
    the model config's field it sets, through `to_config`; None for an option only the
    kind's training hooks read."""

    name: str
    default: Any
    help: str = ""
    config_field: str | None = None
    to_config: Callable[[Any], Any] = _unchanged
    choices: tuple | None = None

    @property
    def type(self) -> type:
        return type(self.default)


def model_field(config_class: type, config_field: str, help: str = "", name: str | None = None,
                to_flag: Callable[[Any], Any] = _unchanged, to_config: Callable[[Any], Any] = _unchanged,
                choices: tuple | None = None) -> Hyperparameter:
    """The hyper-parameter that sets `config_class.config_field`, with that field's default
    (as `to_flag` writes it on the command line, e.g. keys (32, 1) as "32,1"). `name`: the flag's
    name where it differs from the field's (the flags predate the config classes)."""
    default = next(f.default for f in dataclasses.fields(config_class) if f.name == config_field)
    if default is dataclasses.MISSING:
        raise ValueError(f"{config_class.__name__}.{config_field} has no default: it is not a hyper-parameter")
    return Hyperparameter(name or config_field, to_flag(default), help, config_field, to_config, choices)


class TrainingHooks:
    """What a kind adds to the trainer's loop, one instance per training run. The defaults do
    nothing: a kind overrides what it needs. `train_graphs` holds each training dataset's
    training molecules (one list per dataset of a joint run)."""

    def start(self, model: nn.Module, train_graphs: Sequence[Sequence[MolGraph]], config: Any, device: torch.device) -> None:
        """Before the first epoch, after the model is on `device` (input scaling, initial keys)."""

    def frozen_in_batches(self, model: nn.Module) -> list[nn.Parameter]:
        """Parameters the supervised batches must not move."""
        return []

    def forward_options(self, epoch: int, config: Any) -> dict:
        """Keyword arguments of the model's forward in training epoch `epoch` (1-based)."""
        return {}

    def end_of_epoch(self, model: nn.Module, train_graphs: Sequence[Sequence[MolGraph]], config: Any,
                     rng: np.random.Generator, device: torch.device) -> str:
        """After each epoch's batches, before validation; returns a note for the epoch's log line."""
        return ""

    def state_dict(self) -> dict:
        """What an interrupted run needs of these hooks to carry on exactly (tensors, numbers,
        strings, lists, dicts: `molapp.training.resume`), e.g. an optimizer of their own."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restores `state_dict()`'s output, after `start`."""


def no_ablation(config: Mapping, hyperparameters: Mapping) -> str:
    return ""


def own_embedding(config: Mapping) -> tuple[str, ...]:
    return ("",)


def large_batches(num_queries: int) -> int:
    """Molecules per CPU inference batch for kinds whose cost does not grow with the queries:
    they gain from larger batches up to about 64 (measured per molecule, one thread)."""
    return 64


@dataclass(frozen=True)
class ModelSpec:
    """One model kind (the card's "model").

    `title`: its name in the app. `explanation`: what the app shows as its explanation —
    "attention" (per hop and task query), "clusters" (memory-layer atom clusters), "fusion"
    (GraSeq's graph/sequence gate), "task_transfer" (the task-dependency matrix), "none";
    `explanation_outputs`: what its forward must be asked to return for it. `embedding`: what
    its molecule embedding is (the map's caption). `joint`: trained on several datasets at
    once. `ladder_flags`: the train CLI's epoch budget in the benchmark ladder.
    `fixed_config`: config fields the kind itself sets (MemGNN and GMN share a class).
    `summary`: one line about the architecture, from the card's config. `rank`: the kind's
    place in lists and the ladder's tables, from the plainest model to the most elaborate.
    `embedding_views`: from the card's config, the embeddings the map shows ("" the model's
    own; GraSeq's "graph" and "sequence" readings, `molapp.models.batching.EMBEDDING_VIEWS`).
    `ablation_suffix`: from the card's config and hyper-parameters, what its benchmark name
    adds for a variant: an ablation of the paper's design (e.g. MemGNN's "-gat"; "" for the
    design itself), or the transfer model's "-pool" (see `molapp.models.task_transfer`).
    `trainable`: `python -m molapp.train` trains it (a consensus is assembled from trained
    models instead, `molapp.cli.consensus`)."""

    name: str
    title: str
    rank: int
    model_class: type[nn.Module]
    config_class: type
    hyperparameters: tuple[Hyperparameter, ...]
    summary: Callable[[Mapping], str]
    embedding: str
    explanation: str = "none"
    explanation_outputs: Mapping[str, bool] = field(default_factory=dict)
    cpu_batch_size: Callable[[int], int] = large_batches
    ladder_flags: tuple[str, ...] = ()
    joint: bool = False
    fixed_config: Mapping[str, Any] = field(default_factory=dict)
    training_hooks: Callable[[], TrainingHooks] = TrainingHooks
    ablation_suffix: Callable[[Mapping, Mapping], str] = no_ablation
    embedding_views: Callable[[Mapping], tuple[str, ...]] = own_embedding
    trainable: bool = True

    def model_config(self, hyperparameters: Any, **sizes: int) -> dict:
        """The model config (what the card stores as "config") for these hyper-parameters (a
        TrainConfig) and data sizes (atom_dim, bond_dim, num_relations, num_tasks,
        descriptor_dim; a config without a field for one ignores it). A size is the data's
        and wins over a hyper-parameter's guess (GraphMem's descriptor width: 70 or all of RDKit's)."""
        fields = {f.name for f in dataclasses.fields(self.config_class)}
        config = {}
        for option in self.hyperparameters:
            if option.config_field is not None:
                config[option.config_field] = option.to_config(getattr(hyperparameters, option.name))
        config.update({name: value for name, value in sizes.items() if name in fields})
        return {**config, **self.fixed_config}

    def build(self, config: Mapping) -> nn.Module:
        return self.model_class(self.config_class(**config))
