"""A pretrained GraphMem encoder on disk (`molapp.training.pretrain` makes one): its
weights in `encoder.safetensors` (no pickle) and its card in `encoder.json`, and how a
GraphMem about to be fine-tuned takes them (`python -m molapp.train --init-encoder DIR`).

The encoder is the part of GraphMem that does not depend on the tasks: the atom encoder W_x,
the hop (memory and controller updates, the bond context) and the output layer W_o. The task
queries W_q, the task heads w_k, b_k and the descriptor input W_d belong to a panel's model
and start fresh there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors.torch import load_file, save_file
from torch import Tensor, nn

if TYPE_CHECKING:
    from molapp.models.graphmem import GraphMem

ENCODER_PREFIXES = ("atom_encoder.", "hop.", "output_hidden.")  # GraphMem's task-independent parameters
ENCODER_FILE, ENCODER_CARD = "encoder.safetensors", "encoder.json"
STRUCTURE = ("atom_dim", "bond_dim", "num_relations", "hidden", "hops")  # what a fine-tuned GraphMem must share with the encoder


@dataclass
class EncoderCard:
    """What `encoder.json` says: the encoder's structure (`config`: GraphMemConfig fields), what
    it was pretrained to predict, on how many molecules, and how the loss went."""

    config: dict
    featurizer: str
    targets: str
    molecules: int
    held_out: int
    pretraining: dict
    history: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    command: str = ""
    train_seconds: float = 0.0
    kind: str = "graphmem-encoder"

    @classmethod
    def from_json(cls, data: dict, source: str) -> EncoderCard:
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or data.get("kind") != "graphmem-encoder" or not {"config", "featurizer", "targets"} <= set(data):
            raise ValueError(f"{source}: not a pretrained GraphMem encoder's card")
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{source}: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**data)


def encoder_state(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k.startswith(ENCODER_PREFIXES)}


def save_encoder(directory: Path, encoder: GraphMem, card: EncoderCard) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    save_file(encoder_state(encoder), str(directory / ENCODER_FILE))
    (directory / ENCODER_CARD).write_text(json.dumps(dataclasses.asdict(card), indent=2) + "\n")
    return directory


def load_encoder(directory: str | Path) -> tuple[dict[str, Tensor], EncoderCard]:
    """The encoder's weights (safetensors, no pickle) and card; a ValueError naming what is wrong."""
    directory = Path(directory)
    path = directory / ENCODER_CARD
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a pretrained encoder (no {ENCODER_CARD})")
    card = EncoderCard.from_json(json.loads(path.read_text()), str(path))
    state = load_file(str(directory / ENCODER_FILE))
    if not state or not all(k.startswith(ENCODER_PREFIXES) for k in state):
        raise ValueError(f"{directory / ENCODER_FILE}: not a GraphMem encoder's weights")
    return state, card


def encoder_identity(directory: str | Path) -> str:
    """What makes two runs' encoders the same: the SHA-256 of its weights file, whatever folder
    holds it (a copy shipped under checkpoints/ is the encoder it was copied from); the folder's
    name when the file is not there to read."""
    path = Path(directory) / ENCODER_FILE
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else str(directory)


def initialize_from_encoder(model: GraphMem, directory: str | Path) -> None:
    """Copy a pretrained encoder into `model` (its task queries, heads and descriptor input stay
    as they are); the structure must match."""
    state, card = load_encoder(directory)
    ours = {name: getattr(model.config, name) for name in STRUCTURE}
    theirs = {name: card.config.get(name) for name in STRUCTURE}
    if ours != theirs:
        raise ValueError(f"{directory}: pretrained for {theirs}, this model is {ours}")
    loaded = model.load_state_dict(state, strict=False)
    if loaded.unexpected_keys:
        raise ValueError(f"{directory}: weights this model does not have: {loaded.unexpected_keys[:3]}")
