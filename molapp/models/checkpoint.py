"""Checkpoints: a directory with `weights.safetensors` (no pickle anywhere), `card.json`
(what the model is, how it was trained, how well it does) and the applicability-domain
index (`domain.safetensors` + `domain.json`). An ensemble's card has `ensemble_size` M and
its weights hold M members of the card's `config` (`members.<m>.…`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from molapp.featurizers.descriptors import DESCRIPTORS_VERSION
from molapp.featurizers.graph import FEATURIZER_VERSION
from molapp.messages import first_line as _first_line
from molapp.models.ensemble import Ensemble
from molapp.models.registry import MODEL_KINDS, build_model, reads_descriptors

# The card fields loading a model needs, and the JSON type each must have.
REQUIRED_FIELDS = {"model": str, "featurizer": str, "tasks": list, "config": dict}
_JSON_NAMES = {str: "string", list: "array", dict: "object", int: "number", float: "number", bool: "boolean"}


def save_checkpoint(directory: str | Path, model: nn.Module, card: dict) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "weights.safetensors"))
    card = {**card, "config": model.config.to_dict()}
    if isinstance(model, Ensemble):
        card["ensemble_size"] = len(model.members)
    return write_card(directory, card)


def write_card(directory: str | Path, card: dict) -> Path:
    directory = Path(directory)
    (directory / "card.json").write_text(json.dumps(card, indent=2, allow_nan=True) + "\n")
    return directory


def read_card(directory: str | Path) -> dict:
    """The card as a dict; a ValueError naming card.json when it is not a JSON object (a
    bare "Expecting value: line 1 column 1" would not say which file)."""
    path = Path(directory) / "card.json"
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a molapp checkpoint (no card.json)")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise ValueError(f"{path}: not a JSON object of card fields (it holds a JSON {_JSON_NAMES.get(type(card), 'value')})")
    return card


def check_card(card: dict, path: Path) -> None:
    """A ValueError naming the first field loading needs that is missing or of the wrong type."""
    for name, kind in REQUIRED_FIELDS.items():
        if name not in card:
            raise ValueError(f"{path}: missing field {name!r}")
        if not isinstance(card[name], kind):
            raise ValueError(f"{path}: field {name!r} must be a JSON {_JSON_NAMES[kind]}, not {card[name]!r:.60}")


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Model (eval mode, on `device`) and card. Weights are read with safetensors only."""
    card = read_card(directory)
    path, weights = Path(directory) / "card.json", Path(directory) / "weights.safetensors"
    check_card(card, path)
    if card["model"] not in MODEL_KINDS:
        raise ValueError(f"{path}: model {card['model']!r} is not one of {', '.join(MODEL_KINDS)}")
    if card["featurizer"] != FEATURIZER_VERSION:
        raise ValueError(f"{path}: trained with featurizer {card['featurizer']!r}, this is {FEATURIZER_VERSION}")
    if reads_descriptors(card) and card.get("descriptors") != DESCRIPTORS_VERSION:
        raise ValueError(f"{path}: trained with descriptors {card.get('descriptors')!r}, this is {DESCRIPTORS_VERSION}")
    size = card.get("ensemble_size", 1)
    try:
        model = Ensemble([build_model(card["model"], card["config"]) for _ in range(size)]) if size > 1 else build_model(card["model"], card["config"])
    except (TypeError, KeyError, ValueError) as exc:  # a config the model kind does not take
        raise ValueError(f"{path}: field 'config' does not describe a {card['model']} ({_first_line(exc)})") from None
    try:
        state = load_file(str(weights))
    except (OSError, SafetensorError) as exc:  # missing, empty or truncated
        raise ValueError(f"{weights}: cannot read the weights ({_first_line(exc)})") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{weights}: the weights do not fit the model card.json describes ({_first_line(exc)})") from None
    return model.to(device).eval(), card
