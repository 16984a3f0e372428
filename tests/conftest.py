"""Shared fixtures: paths, a tiny labelled dataset built from the shipped fixture file,
rule-labelled train/valid/test parts of real molecules for "learns" tests that score
held-out rows, and a small untrained GraphMem."""

from __future__ import annotations

import os
import tempfile
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
# The user's panels and training jobs (MOLAPP_HOME) of a test run: never ~/.molapp.
os.environ["MOLAPP_HOME"] = tempfile.mkdtemp(prefix="molapp-home-")
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


RULE_TASKS = ["has_N", "has_halogen"]


def rule_labels(smiles: list[str]) -> np.ndarray:
    """Rules a graph model can learn from atom types alone: the molecule has a nitrogen, a
    halogen, a sulfur (about 90 %, 25 % and 20 % of these molecules); and, for regression,
    the fraction of its heavy atoms that are aromatic (a share, which a model that averages
    over atoms can read; a count it could not)."""
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return np.array([[float(any(a.GetSymbol() == "N" for a in m.GetAtoms())),
                      float(any(a.GetSymbol() in ("F", "Cl", "Br", "I") for a in m.GetAtoms())),
                      float(any(a.GetSymbol() == "S" for a in m.GetAtoms())),
                      sum(a.GetIsAromatic() for a in m.GetAtoms()) / m.GetNumHeavyAtoms()] for m in mols], dtype=np.float32)


@pytest.fixture(scope="session")
def rule_parts() -> dict[str, LabelledMolecules]:
    """Train (160), valid (60) and test (80) parts of distinct Tox21 and BBBP test-split
    molecules shipped in tests/fixtures/checkpoint_rows, labelled by `rule_labels`; a model
    that learns is scored on the test part, molecules it never saw."""
    import csv

    seen, smiles = set(), []
    for name in ("tox21_scaffold_test.csv", "bbbp_scaffold_test.csv"):
        with open(FIXTURES / "checkpoint_rows" / name, newline="") as handle:
            for row in csv.DictReader(handle):
                mol = Chem.MolFromSmiles(row["smiles"])
                if mol is not None and 3 <= mol.GetNumHeavyAtoms() <= 40 and row["smiles"] not in seen:
                    seen.add(row["smiles"])
                    smiles.append(row["smiles"])
    molecules = featurize_smiles(smiles)  # standardization refuses a few (metals, inorganics)
    order = [i for i in np.random.default_rng(0).permutation(len(smiles)) if molecules[i].ok][:300]
    smiles, molecules = [smiles[i] for i in order], [molecules[i] for i in order]
    spec = DatasetSpec("rules", "rules.csv", "", "smiles", ["has_N", "has_halogen", "has_S", "aromatic_fraction"], "classification", "roc_auc", "fixture")
    data = LabelledMolecules(spec, np.arange(len(smiles)), smiles, rule_labels(smiles), molecules)
    return {"train": data.subset(np.arange(160)), "valid": data.subset(np.arange(160, 220)), "test": data.subset(np.arange(220, 300))}


def rule_group(parts: dict[str, LabelledMolecules], tasks: list[str], task_type: str = "classification"):
    """A training group of these tasks of the rule-labelled parts (`restricted_to` copies)."""
    from molapp.training.trainer import TaskGroup

    chosen = {name: part.restricted_to(tasks) for name, part in parts.items()}
    return TaskGroup("rules", list(range(len(tasks))), chosen["train"], chosen["valid"], chosen["test"])


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
