"""Shared fixtures: paths, a tiny labelled dataset built from the shipped fixture file,
and a small untrained GraphMem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from molapp.chem.io import read_smiles_file
from molapp.data.dataset import LabelledMolecules
from molapp.data.featurize import featurize_smiles
from molapp.data.registry import DatasetSpec, default_data_dir
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.models.graphmem import GraphMem, GraphMemConfig

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CHECKPOINTS = ROOT / "checkpoints"


def shared_data_dir() -> Path | None:
    """../shared/data when present (benchmark files are not part of the project)."""
    path = default_data_dir()
    return path if (path / "moleculenet").exists() or (path / "tox21.csv").exists() else None


needs_shared_data = pytest.mark.skipif(shared_data_dir() is None, reason="../shared/data (MoleculeNet files) not present")


@pytest.fixture(scope="session")
def tiny_dataset() -> LabelledMolecules:
    """The fixture molecules with two rule-based labels (has nitrogen; has an aromatic
    ring) — a pipeline check, not a chemistry benchmark. Every 5th label is missing."""
    rows = list(read_smiles_file(FIXTURES / "tiny_molecules.smi"))
    smiles = [r.smiles for r in rows]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    labels = np.array(
        [[float(any(a.GetSymbol() == "N" for a in m.GetAtoms())), float(any(a.GetIsAromatic() for a in m.GetAtoms()))] for m in mols],
        dtype=np.float32,
    )
    labels[::5, 0] = np.nan
    spec = DatasetSpec("tiny", "tiny.csv", "", "smiles", ["has_N", "aromatic"], "classification", "roc_auc", "fixture")
    return LabelledMolecules(spec, np.arange(len(smiles)), smiles, labels, featurize_smiles(smiles))


@pytest.fixture()
def small_model() -> GraphMem:
    torch.manual_seed(0)
    return GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=3, hidden=16, hops=4, dropout=0.0)).eval()


@pytest.fixture(scope="session")
def tiny_memgnn_checkpoint(tiny_dataset, tmp_path_factory) -> Path:
    """A MemGNN checkpoint with two clustering layers (6 keys, then 3), two epochs on the
    tiny dataset, alone in its folder."""
    from molapp.featurizers.graph import FEATURIZER_VERSION
    from molapp.inference.domain import DomainIndex
    from molapp.models.card import Card
    from molapp.models.checkpoint import save_checkpoint
    from molapp.models.outputs import PredictionModel, Sigmoid
    from molapp.training.trainer import TaskGroup, TrainConfig, train

    directory = tmp_path_factory.mktemp("checkpoints") / "memgnn-tiny"
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    config = TrainConfig(hidden=16, keys="6,3,1", heads=2, query_layers=1, batch_size=8, max_epochs=2, patience=2)
    result = train([TaskGroup("tiny", [0, 1], data, data, data)], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification",
                   config, torch.device("cpu"), kind="memgnn")
    card = Card("memgnn", FEATURIZER_VERSION, ["has_N", "aromatic"], "classification", dataset="tiny", metric="roc_auc",
                split="random", train_seconds=1.0, metrics={"test": result.metrics["test"]["tiny"], "valid": result.metrics["valid"]["tiny"]})
    save_checkpoint(directory, PredictionModel(result.model, Sigmoid()), card)
    DomainIndex.build(tiny_dataset.smiles, tiny_dataset.labels, card.tasks).save(directory)
    return directory
