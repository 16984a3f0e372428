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
