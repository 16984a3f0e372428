"""Checkpoints: a directory with `weights.safetensors` (no pickle anywhere), `card.json`
(what the model is, how it was trained, how well it does) and the applicability-domain
index (`domain.safetensors` + `domain.json`). An ensemble's card has `ensemble_size` M and
its weights hold M members of the card's `config` (`members.<m>.…`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from molapp.featurizers.descriptors import DESCRIPTORS_VERSION
from molapp.featurizers.graph import FEATURIZER_VERSION
from molapp.models.ensemble import Ensemble
from molapp.models.registry import MODEL_KINDS, build_model, reads_descriptors


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
    path = Path(directory) / "card.json"
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a molapp checkpoint (no card.json)")
    return json.loads(path.read_text())


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Model (eval mode, on `device`) and card. Weights are read with safetensors only."""
    card = read_card(directory)
    if card.get("model") not in MODEL_KINDS:
        raise ValueError(f"{directory}: model {card.get('model')!r} is not one of {', '.join(MODEL_KINDS)}")
    if card.get("featurizer") != FEATURIZER_VERSION:
        raise ValueError(f"{directory}: trained with featurizer {card.get('featurizer')!r}, this is {FEATURIZER_VERSION}")
    if reads_descriptors(card) and card.get("descriptors") != DESCRIPTORS_VERSION:
        raise ValueError(f"{directory}: trained with descriptors {card.get('descriptors')!r}, this is {DESCRIPTORS_VERSION}")
    size = card.get("ensemble_size", 1)
    model = Ensemble([build_model(card["model"], card["config"]) for _ in range(size)]) if size > 1 else build_model(card["model"], card["config"])
    model.load_state_dict(load_file(str(Path(directory) / "weights.safetensors")))
    return model.to(device).eval(), card
