"""The model kinds a checkpoint can hold: every `ModelSpec` of the modules of `molapp.models`
(each module's `SPECS`), collected here, in `rank` order. Adding a kind is adding a module
that defines its spec; nothing here changes."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from torch import nn

import molapp.models
from molapp.featurizers.descriptors import ALL_RDKIT_DESCRIPTORS_VERSION
from molapp.models.card import Card
from molapp.models.spec import Hyperparameter, ModelSpec


def _collect() -> dict[str, ModelSpec]:
    specs: list[ModelSpec] = []
    for module in pkgutil.iter_modules(molapp.models.__path__):
        specs += getattr(importlib.import_module(f"molapp.models.{module.name}"), "SPECS", ())
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two model modules define the same kind: {sorted(n for n in names if names.count(n) > 1)}")
    return {spec.name: spec for spec in sorted(specs, key=lambda spec: spec.rank)}


class _ModelKinds(Mapping[str, ModelSpec]):
    """Card "model" → its spec. Collected on first use, not on import: the model modules are
    imported then, and some of them (checkpoint) import this module."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] | None = None

    def _all(self) -> dict[str, ModelSpec]:
        if self._specs is None:
            self._specs = _collect()
        return self._specs

    def __getitem__(self, kind: str) -> ModelSpec:
        return self._all()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


MODEL_KINDS: Mapping[str, ModelSpec] = _ModelKinds()


def model_spec(kind: str) -> ModelSpec:
    if kind not in MODEL_KINDS:
        raise ValueError(f"model {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    return MODEL_KINDS[kind]


def trainable_kinds() -> dict[str, ModelSpec]:
    """The kinds `python -m molapp.train` trains (all but those assembled from trained models)."""
    return {kind: spec for kind, spec in MODEL_KINDS.items() if spec.trainable}


def is_assembled(kind: str) -> bool:
    """Assembled from trained models (a consensus), not trained by `python -m molapp.train`."""
    return kind in MODEL_KINDS and not MODEL_KINDS[kind].trainable


def descriptors_added(card: Card) -> bool:
    """The kind's model with its optional descriptors on (GraphMem's `--descriptors`), whose
    network reads them directly: the app shows how each moved a prediction. A consensus reads
    descriptors for its forests and its GraphMem member; it has no such option."""
    return card.reads_descriptors and card.model in MODEL_KINDS and any(h.name == "descriptors" for h in MODEL_KINDS[card.model].hyperparameters)


def build_model(kind: str, config: dict) -> nn.Module:
    return model_spec(kind).build(config)


def model_hyperparameters() -> dict[str, Hyperparameter]:
    """Every kind's hyper-parameters by name (the train CLI's model flags). Kinds that share a
    name share the option, so they must agree on its default, type and choices."""
    merged: dict[str, Hyperparameter] = {}
    for spec in MODEL_KINDS.values():
        for option in spec.hyperparameters:
            known = merged.setdefault(option.name, option)
            if (known.default, known.type, known.choices) != (option.default, option.type, option.choices):
                raise RuntimeError(f"hyper-parameter {option.name!r}: {spec.name} says {option.default!r}, another kind {known.default!r}")
    return merged


def benchmark_name(card: Card) -> str:
    """The model's name in bench/results and the ladder: the card's kind, with
    "-descriptors" when it also reads descriptors (a different model from the paper's),
    "-sqrt" or "-unweighted" when trained with positive weights other than the default
    balanced ones (`molapp.metrics.positive_weights`), and "-fixedN" when trained a
    fixed N epochs without early stopping (a deployment recipe's split models), "-halvingN"
    when its learning rate halves every N epochs (the MemGNN paper's schedule). A variant of
    the kind adds its own suffix (`ModelSpec.ablation_suffix`: MemGNN's "-gat", an ablation of
    the paper's design; the transfer model's "-pool", the slides' Stage I pooling)."""
    hyperparameters = card.hyperparameters
    ablation = MODEL_KINDS[card.model].ablation_suffix(card.config, hyperparameters) if card.model in MODEL_KINDS else ""
    weighting = hyperparameters.get("positive_weighting", "balanced")
    fixed = "" if hyperparameters.get("early_stopping", True) else f"-fixed{hyperparameters['max_epochs']}"
    halving = f"-halving{hyperparameters['halving_epochs']}" if hyperparameters.get("learning_rate_schedule") == "halving" else ""
    descriptors = ("-descriptors" + ("-all" if card.descriptors == ALL_RDKIT_DESCRIPTORS_VERSION else "")) if descriptors_added(card) else ""
    return card.model + ablation + descriptors + ("" if weighting == "balanced" else f"-{weighting}") + fixed + halving


def ladder_models() -> list[str]:
    """The graph models' names in the ladder's tables, plainest first: each trainable kind, then (for a
    kind that can read descriptors) the kind with descriptors."""
    names = []
    for spec in trainable_kinds().values():
        names += [spec.name] + ([f"{spec.name}-descriptors"] if any(h.name == "descriptors" for h in spec.hyperparameters) else [])
    return names


def cpu_batch_size(kind: str, num_queries: int) -> int:
    """Molecules per batch for inference on CPU (each kind's own: `ModelSpec.cpu_batch_size`)."""
    return model_spec(kind).cpu_batch_size(num_queries)


def explanation_kind(kind: str) -> str:
    """What the app shows as the kind's explanation (`ModelSpec.explanation`); "none" for a kind this version does not know."""
    return MODEL_KINDS[kind].explanation if kind in MODEL_KINDS else "none"


def has_attention(kind: str) -> bool:
    return explanation_kind(kind) == "attention"


def model_title(kind: str) -> str:
    """The kind's name in the app (the card's own name for a kind this version does not know)."""
    return MODEL_KINDS[kind].title if kind in MODEL_KINDS else kind


def architecture_summary(card: Card) -> str:
    """One line for tables and captions, e.g. 'hidden 64 · 6 hops' or 'hidden 64 · e-GAT ×3 · keys 32→1 · 5 heads'
    (followed by '· pretrained encoder' for a model that started from one, '· ensemble of M' for an ensemble)."""
    members = card.ensemble_size
    pretrained = " · pretrained encoder" if card.hyperparameters.get("init_encoder") else ""
    return model_spec(card.model).summary(card.config) + pretrained + (f" · ensemble of {members}" if members > 1 else "")
