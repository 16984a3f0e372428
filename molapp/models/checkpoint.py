"""Checkpoints: a directory with `weights.safetensors` (no pickle anywhere), `card.json`
(a `Card`: what the model is, how it was trained, how well it does) and the
applicability-domain index (`domain.safetensors` + `domain.json`).

The weights are a `PredictionModel`'s: the network's under `network.` (an ensemble's M
members under `network.members.<m>.`, each of the card's `config`) and the output module's
under `output.` (`molapp.models.outputs`). A checkpoint of the first format (a card without
`format`) loads through `molapp.models.card.upgrade_legacy`; it is converted in memory and
the files are left as they are.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from molapp.featurizers.descriptors import DESCRIPTOR_SETS
from molapp.featurizers.graph import FEATURIZER_VERSION
from molapp.messages import first_line as _first_line
from molapp.models.card import Card, upgrade_legacy
from molapp.models.ensemble import Ensemble
from molapp.models.outputs import OUTPUT_MODULES, PredictionModel
from molapp.models.registry import MODEL_KINDS, build_model


def save_checkpoint(directory: str | Path, model: PredictionModel, card: Card) -> Path:
    """Write the model's weights and the card, with the card's `config`, `ensemble_size` and
    `output` taken from the model (so the card cannot describe another model)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "weights.safetensors"))
    size = len(model.network.members) if model.is_ensemble else 1
    card = dataclasses.replace(card, config=model.network.config.to_dict(), ensemble_size=size, output=model.output.name)
    (directory / "card.json").write_text(json.dumps(card.to_json(), indent=2, allow_nan=True) + "\n")
    return directory


def _card_json(directory: str | Path) -> tuple[dict, Path]:
    """The card's JSON object; a ValueError naming card.json when it is not JSON (a bare
    "Expecting value: line 1 column 1" would not say which file)."""
    path = Path(directory) / "card.json"
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a molapp checkpoint (no card.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8")), path
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def read_card(directory: str | Path) -> Card:
    """The checkpoint's card, validated (a ValueError naming card.json and the bad field);
    a first-format card is converted (`upgrade_legacy`)."""
    data, path = _card_json(directory)
    if isinstance(data, dict) and "format" not in data:
        data, _ = upgrade_legacy(data, {}, str(path))
    return Card.from_json(data, str(path))


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> tuple[PredictionModel, Card]:
    """Model (eval mode, on `device`) and card. Weights are read with safetensors only."""
    data, path = _card_json(directory)
    weights = Path(directory) / "weights.safetensors"
    try:
        state = load_file(str(weights))
    except (OSError, SafetensorError) as exc:  # missing, empty or truncated
        raise ValueError(f"{weights}: cannot read the weights ({_first_line(exc)})") from None
    if isinstance(data, dict) and "format" not in data:
        data, state = upgrade_legacy(data, state, str(path))
    card = Card.from_json(data, str(path))
    if card.model not in MODEL_KINDS:
        raise ValueError(f"{path}: model {card.model!r} is not one of {', '.join(MODEL_KINDS)}")
    if card.featurizer != FEATURIZER_VERSION:
        raise ValueError(f"{path}: trained with featurizer {card.featurizer!r}, this is {FEATURIZER_VERSION}")
    if card.reads_descriptors and card.descriptors not in DESCRIPTOR_SETS:
        raise ValueError(f"{path}: trained with descriptors {card.descriptors!r}; this version of molapp computes "
                         f"{', '.join(DESCRIPTOR_SETS)}")
    if card.reads_descriptors and card.config.get("descriptor_dim") != DESCRIPTOR_SETS[card.descriptors].dim:
        raise ValueError(f"{path}: field 'config' reads {card.config.get('descriptor_dim')} descriptors, "
                         f"{card.descriptors} has {DESCRIPTOR_SETS[card.descriptors].dim}")
    try:
        members = [build_model(card.model, card.config) for _ in range(card.ensemble_size)]
    except (TypeError, KeyError, ValueError) as exc:  # a config the model kind does not take
        raise ValueError(f"{path}: field 'config' does not describe a {card.model} ({_first_line(exc)})") from None
    network = Ensemble(members) if card.ensemble_size > 1 else members[0]
    model = PredictionModel(network, OUTPUT_MODULES[card.output](len(card.tasks)))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{weights}: the weights do not fit the model card.json describes ({_first_line(exc)})") from None
    # The card as the model was built: a config field added since the card was written (e.g. an
    # ablation switch) reads as its default, as it did when the card was written.
    card = dataclasses.replace(card, config=members[0].config.to_dict())
    return model.to(device).eval(), card
