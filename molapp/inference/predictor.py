"""Prediction with a checkpoint (any model kind): the Python API the app, the CLIs and
training's evaluation share.

Load once (`Predictor.load`), then `predict` a list of SMILES (or `predict_molecules`,
featurized ones): every input comes back, in order, with its canonical SMILES, status and
error, and one value per requested task (a probability for classification, a value in the
dataset's units for regression), plus an ensemble's member spread. Underneath, one path,
`predict_graphs` (`molapp.models.batching`), batches graphs through a `PredictionModel` (network + output module,
`molapp.models.outputs`), so no caller applies calibration or un-scaling itself.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from molapp.data.featurize import FeaturizedMolecule, featurize_smiles
from molapp.models.batching import DEFAULT_BATCH_SIZE, EMBEDDING_VIEWS, GraphPredictions, predict_graphs, size_batches  # noqa: F401 (the API's names)
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint
from molapp.models.outputs import PredictionModel
from molapp.models.registry import cpu_batch_size

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


def spread_column(task: str) -> str:
    """The output column (triage table, predict CLI) of how far an ensemble's members disagree on `task`."""
    return f"{task} (members' SD)"


@dataclass
class Prediction:
    """Predictions for a list of inputs, in input order. `values` [n, len(tasks)] is NaN on
    rows whose `status` is "error"; for an ensemble `spread` [n, len(tasks)] is its members'
    standard deviation (NaN on those rows too; None for one model)."""

    tasks: list[str]
    smiles: list[str]
    molecules: list[FeaturizedMolecule]
    values: np.ndarray
    spread: np.ndarray | None = None
    device: str = "CPU"

    @property
    def status(self) -> list[str]:
        return ["ok" if m.ok else "error" for m in self.molecules]


class Predictor:
    """A loaded checkpoint, ready to predict: load it once per process (`Predictor.load`),
    then `predict` SMILES, or `predict_molecules` already featurized with
    `descriptors=self.descriptors` (what worker processes hand back). Both give a
    `Prediction`, values final (probability or value in the dataset's units): the
    checkpoint's `PredictionModel` applies its own calibration or un-scaling."""

    def __init__(self, model: PredictionModel, card: Card, device: torch.device) -> None:
        self.model = model
        self.card = card
        self.device = device
        self.tasks: list[str] = list(card.tasks)
        self.descriptors = card.descriptors if card.reads_descriptors else None  # featurize inputs with descriptors=this (a set's version)
        self.batch_size = CUDA_BATCH_SIZE if device.type == "cuda" else cpu_batch_size(card.model, len(self.tasks))

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
        return self.model.is_ensemble

    def predict_molecules(self, molecules: Sequence[FeaturizedMolecule], tasks: Sequence[str] | None = None,
                          batch_size: int | None = None) -> Prediction:
        """`tasks` (default: all) for featurized molecules; NaN rows for molecules that failed."""
        chosen = list(tasks) if tasks else self.tasks
        ids = self.task_ids(chosen)
        values = np.full((len(molecules), len(ids)), np.nan, dtype=np.float32)
        spread = values.copy() if self.is_ensemble else None
        good = [i for i, m in enumerate(molecules) if m.ok]
        if good:
            predicted = predict_graphs(self.model, [molecules[i].graph for i in good], ids, batch_size or self.batch_size)
            values[good] = predicted.values
            if spread is not None:
                spread[good] = predicted.spread
        return Prediction(chosen, [m.canonical_smiles for m in molecules], list(molecules), values, spread, device_name(self.device))

    def predict(self, smiles: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int | None = None, workers: int = 1) -> Prediction:
        """Standardize and featurize `smiles` (in `workers` processes), then `predict_molecules`;
        `Prediction.smiles` are the inputs as given."""
        molecules = featurize_smiles(list(smiles), workers=workers, descriptors=self.descriptors)
        return dataclasses.replace(self.predict_molecules(molecules, tasks, batch_size), smiles=list(smiles))
