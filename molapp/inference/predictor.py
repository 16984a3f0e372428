"""Prediction with a checkpoint (any model kind): the Python API the app and the predict CLI share.

Load once (`Predictor.load`), then `predict` a list of SMILES: every input comes back, in
order, with its canonical SMILES, status and error, and one value per requested task
(a probability for classification, a value in the dataset's units for regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from molapp.data.collate import collate
from molapp.data.featurize import FeaturizedMolecule, featurize_smiles
from molapp.featurizers.graph import MolGraph
from molapp.models.batching import DEFAULT_BATCH_SIZE, output_transform, predict_graphs_with_spread, size_batches
from molapp.models.checkpoint import load_checkpoint
from molapp.models.ensemble import Ensemble
from molapp.models.registry import cpu_batch_size, reads_descriptors

CUDA_BATCH_SIZE = 512


def resolve_device(device: str = "auto") -> torch.device:
    """`auto`: CUDA when present, else CPU. Asking for `cuda` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but PyTorch sees no CUDA GPU here")
    return torch.device(device)


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"


# Embeddings a model offers besides its own (`view` ""): GraSeq's graph-only and
# sequence-only embeddings before the fusion gate (the GraSeq paper's Fig. 4 compares all three).
EMBEDDING_VIEWS = {"": "embedding", "graph": "graph_embedding", "sequence": "sequence_embedding"}


@torch.inference_mode()
def predict_and_embed(
    model: nn.Module, graphs: Sequence[MolGraph], card: dict, query: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
    view: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Values for every task [n, T] and the molecule embeddings [n, H] from the same pass:
    GraphMem's final controller state for task query `query`, MemGNN's/GMN's readout node,
    GraSeq's fused embedding — or, with `view` "graph"/"sequence", GraSeq's embedding of
    that one reading of the molecule."""
    device = next(model.parameters()).device
    task_ids = torch.arange(len(card["tasks"]), device=device)
    transform = output_transform(card)
    flags = {"return_fusion": True} if view else {}
    order, values, embeddings = [], [], []
    for chosen in size_batches(graphs, batch_size):
        batch = collate([graphs[i] for i in chosen]).to(device)
        out = model(batch, task_ids, return_embedding=True, **flags)
        values.append(transform(out.logits, task_ids).float().cpu().numpy())
        embedding = getattr(out, EMBEDDING_VIEWS[view])
        embedding = embedding[:, query] if embedding.dim() == 3 else embedding  # GraphMem: [B, Q, H]
        embeddings.append(embedding.float().cpu().numpy())
        order.append(chosen)
    if not order:
        return np.zeros((0, len(task_ids)), np.float32), np.zeros((0, 0), np.float32)
    back = np.argsort(np.concatenate(order))  # input order
    return np.concatenate(values)[back], np.concatenate(embeddings)[back]


def spread_column(task: str) -> str:
    """The output column (triage table, predict CLI) of how far an ensemble's members disagree on `task`."""
    return f"{task} (members' SD)"


@dataclass
class Prediction:
    """Predictions for a list of inputs, in input order. `values` [n, len(tasks)] is NaN on
    rows whose `status` is "error"."""

    tasks: list[str]
    smiles: list[str]
    molecules: list[FeaturizedMolecule]
    values: np.ndarray
    device: str = "CPU"

    @property
    def status(self) -> list[str]:
        return ["ok" if m.ok else "error" for m in self.molecules]


class Predictor:
    """A loaded checkpoint, ready to predict. Load it once per process."""

    def __init__(self, model: nn.Module, card: dict, device: torch.device) -> None:
        self.model = model
        self.card = card
        self.device = device
        self.tasks: list[str] = list(card["tasks"])
        self.descriptors = reads_descriptors(card)  # featurize inputs with descriptors=this
        self.batch_size = CUDA_BATCH_SIZE if device.type == "cuda" else cpu_batch_size(card["model"], len(self.tasks))

    @classmethod
    def load(cls, checkpoint: str | Path, device: str = "auto") -> Predictor:
        resolved = resolve_device(device)
        model, card = load_checkpoint(checkpoint, resolved)
        return cls(model, card, resolved)

    def task_ids(self, tasks: Sequence[str] | None) -> torch.Tensor:
        if not tasks:
            return torch.arange(len(self.tasks))
        unknown = [t for t in tasks if t not in self.tasks]
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(unknown)}; this checkpoint predicts: {', '.join(self.tasks)}")
        return torch.tensor([self.tasks.index(t) for t in tasks])

    @property
    def is_ensemble(self) -> bool:
        return isinstance(self.model, Ensemble)

    def predict_featurized(self, molecules: Sequence[FeaturizedMolecule], tasks: Sequence[str] | None = None, batch_size: int | None = None) -> np.ndarray:
        """Values [len(molecules), Q]; NaN rows for molecules that failed."""
        return self.predict_featurized_with_spread(molecules, tasks, batch_size)[0]

    def predict_featurized_with_spread(
        self, molecules: Sequence[FeaturizedMolecule], tasks: Sequence[str] | None = None, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Values [len(molecules), Q] and, for an ensemble, its members' standard deviation
        [len(molecules), Q] (None for a single model); NaN rows for molecules that failed."""
        ids = self.task_ids(tasks)
        values = np.full((len(molecules), len(ids)), np.nan, dtype=np.float32)
        spread = values.copy() if self.is_ensemble else None
        good = [i for i, m in enumerate(molecules) if m.ok]
        if good:
            graphs = [molecules[i].graph for i in good]
            values[good], member_spread = predict_graphs_with_spread(self.model, graphs, ids, self.card, batch_size or self.batch_size)
            if spread is not None:
                spread[good] = member_spread
        return values, spread

    def predict(self, smiles: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int | None = None, workers: int = 1) -> Prediction:
        chosen = list(tasks) if tasks else self.tasks
        molecules = featurize_smiles(list(smiles), workers=workers, descriptors=self.descriptors)
        values = self.predict_featurized(molecules, chosen, batch_size)
        return Prediction(chosen, list(smiles), molecules, values, device_name(self.device))
