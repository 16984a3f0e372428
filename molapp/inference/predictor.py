"""Prediction with a checkpoint (any model kind): the Python API the app, the CLIs and
training's evaluation share.

Load once (`Predictor.load`), then `predict` a list of SMILES (or `predict_molecules`,
featurized ones): every input comes back, in order, with its canonical SMILES, status and
error, and one value per requested task (a probability for classification, a value in the
dataset's units for regression), plus an ensemble's member spread. Underneath, one path,
`predict_graphs`, batches graphs through a `PredictionModel` (network + output module,
`molapp.models.outputs`), so no caller applies calibration or un-scaling itself.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from molapp.data.collate import collate
from molapp.data.featurize import FeaturizedMolecule, featurize_smiles
from molapp.featurizers.graph import MolGraph
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint
from molapp.models.outputs import PredictionModel
from molapp.models.registry import cpu_batch_size

# A GPU wants large batches; on CPU each kind has its own (`cpu_batch_size`), this default
# is for callers without a card at hand.
DEFAULT_BATCH_SIZE = 32
PADDED_ATOMS_PER_MOLECULE = 40  # a batch's atom budget per molecule (MoleculeNet's molecules average ~25 heavy atoms)
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


def size_batches(graphs: Sequence[MolGraph], batch_size: int) -> list[np.ndarray]:
    """Indices of `graphs` in batches of molecules of similar size (sorted by atom count):
    models that pad each molecule to its batch's largest compute less padding. A batch holds
    at most `batch_size` molecules and, padded, at most `batch_size` × PADDED_ATOMS_PER_MOLECULE
    atoms, so a batch of very large molecules is smaller and memory stays bounded whatever
    the input. Callers put the results back in input order."""
    sizes = np.array([g.num_atoms for g in graphs], dtype=np.int64)
    by_size = np.argsort(sizes, kind="stable")
    padded_size = np.maximum(sizes[by_size], 1)  # a batch ending at k pads to padded_size[k]
    budget = batch_size * PADDED_ATOMS_PER_MOLECULE
    batches, start = [], 0
    while start < len(graphs):
        ends = np.arange(start + 1, min(start + batch_size, len(graphs)) + 1)
        fits = (ends - start) * padded_size[ends - 1] <= budget  # True then False: both factors grow
        end = int(ends[fits][-1]) if fits[0] else start + 1
        batches.append(by_size[start:end])
        start = end
    return batches


# Embeddings a model offers besides its own (`view` ""): GraSeq's graph-only and
# sequence-only embeddings before the fusion gate (the GraSeq paper's Fig. 4 compares all three).
EMBEDDING_VIEWS = {"": "embedding", "graph": "graph_embedding", "sequence": "sequence_embedding"}


@dataclass
class GraphPredictions:
    """`predict_graphs`' answer, rows in the graphs' order: `values` [n, Q]; for an ensemble
    `spread` [n, Q], the standard deviation of its members' own values (how much the seeds
    disagree; None for one model); `embeddings` [n, H] when asked for (else None)."""

    values: np.ndarray
    spread: np.ndarray | None = None
    embeddings: np.ndarray | None = None


@torch.inference_mode()
def predict_graphs(
    model: PredictionModel,
    graphs: Sequence[MolGraph],
    task_ids: torch.Tensor | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    embedding_view: str | None = None,
    query: int | None = None,
) -> GraphPredictions:
    """The one prediction path: the model's values for the queried tasks (all when
    `task_ids` is None), batched over molecules of similar size (`size_batches`), each
    ensemble member run once. With `embedding_view` ("" the model's own embedding, "graph"/
    "sequence" GraSeq's embedding of that one reading of the molecule), also the molecule
    embeddings from the same pass: GraphMem's final controller state for task query `query`,
    MemGNN's/GMN's readout node, GraSeq's fused embedding."""
    device = next(model.parameters()).device
    task_ids = None if task_ids is None else task_ids.to(device)
    requests = {} if embedding_view is None else {"return_embedding": True, **({"return_fusion": True} if embedding_view else {})}
    values, spread, embeddings = [], [], []
    order = []
    for chosen in size_batches(graphs, batch_size):
        batch = collate([graphs[i] for i in chosen]).to(device)
        prediction = model(batch, task_ids, **requests)
        values.append(prediction.values.float().cpu().numpy())
        if prediction.member_values is not None:
            spread.append(prediction.member_values.std(0).float().cpu().numpy())
        if embedding_view is not None:
            embedding = getattr(prediction.network_output, EMBEDDING_VIEWS[embedding_view])
            embedding = embedding[:, query] if embedding.dim() == 3 else embedding  # GraphMem: [B, Q, H]
            embeddings.append(embedding.float().cpu().numpy())
        order.append(chosen)
    if not order:
        width = len(task_ids) if task_ids is not None else 0
        empty = np.zeros((0, width), np.float32)
        return GraphPredictions(empty, empty.copy() if model.is_ensemble else None,
                                np.zeros((0, 0), np.float32) if embedding_view is not None else None)
    back = np.argsort(np.concatenate(order))  # input order
    return GraphPredictions(np.concatenate(values)[back], np.concatenate(spread)[back] if spread else None,
                            np.concatenate(embeddings)[back] if embeddings else None)


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
        self.descriptors = card.reads_descriptors  # featurize inputs with descriptors=this
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
