"""SMILES → standardized, featurized molecules, for training and prediction alike.

`featurize_smiles` is the one path from text to model input; it spreads the RDKit work
over worker processes when asked (RDKit holds the GIL) and keeps input order.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from dataclasses import dataclass, field

from molapp.chem.io import InputRow
from molapp.chem.standardize import StandardizedMolecule, standardize
from molapp.featurizers.graph import MolGraph, MolGraphFeaturizer

_featurizer = MolGraphFeaturizer()


@dataclass
class FeaturizedMolecule:
    """Standardization outcome and graph of one input; `graph` is None exactly when `error`."""

    canonical_smiles: str
    graph: MolGraph | None
    changes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.graph is not None


def featurize_one(smiles: str) -> FeaturizedMolecule:
    return featurize_standardized(standardize(smiles))


def featurize_standardized(record: StandardizedMolecule) -> FeaturizedMolecule:
    """The graph of a molecule `standardize` returned (its canonical SMILES, just written,
    gives the featurizer the SMILES atom order without writing it again)."""
    if not record.ok:
        return FeaturizedMolecule("", None, record.changes, record.error)
    try:
        graph = _featurizer(record.mol, record.canonical_smiles)
    except Exception as exc:  # noqa: BLE001 - an RDKit surprise must flag the row, not crash the batch
        return FeaturizedMolecule(record.canonical_smiles, None, record.changes, f"could not featurize: {exc}")
    return FeaturizedMolecule(record.canonical_smiles, graph, record.changes)


def standardize_row(row: InputRow) -> StandardizedMolecule:
    """A read row standardized; a row the reader already flagged (e.g. a broken SDF block)
    keeps the reader's reason."""
    return StandardizedMolecule(row.smiles, error=row.error) if row.error else standardize(row.smiles)


def featurize_rows(rows: Sequence[InputRow]) -> list[FeaturizedMolecule]:
    return [featurize_standardized(standardize_row(r)) for r in rows]


def _featurize_chunk(smiles: Sequence[str]) -> list[FeaturizedMolecule]:
    return [featurize_one(s) for s in smiles]


def featurize_smiles(smiles: Sequence[str], workers: int = 1, chunk: int = 256) -> list[FeaturizedMolecule]:
    """Featurize in input order; `workers` > 1 spreads chunks over that many processes."""
    pieces = [list(smiles[i : i + chunk]) for i in range(0, len(smiles), chunk)]
    if workers <= 1 or len(pieces) <= 1:
        return [m for piece in pieces for m in _featurize_chunk(piece)]
    with mp.get_context("fork").Pool(workers) as pool:
        return [m for part in pool.imap(_featurize_chunk, pieces) for m in part]
