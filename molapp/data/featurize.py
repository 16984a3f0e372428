"""SMILES → standardized, featurized molecules, for training and prediction alike.

`featurize_smiles` is the one path from text to model input; it spreads the RDKit work
over worker processes when asked (RDKit holds the GIL) and keeps input order. Every
function takes `descriptors`: also compute the whole-molecule descriptors, for a model that
reads them (`molapp.models.card.Card.reads_descriptors`).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from rdkit import Chem

from molapp.chem.io import InputRow
from molapp.chem.standardize import StandardizedMolecule, standardize
from molapp.featurizers.descriptors import descriptor_set
from molapp.featurizers.graph import MolGraph, MolGraphFeaturizer

_featurizers: dict[str | None, MolGraphFeaturizer] = {}


def _featurizer(descriptors: str | None) -> MolGraphFeaturizer:
    """One featurizer per descriptor set (none, the 70, all of RDKit's), made once per process."""
    chosen = descriptor_set(descriptors)
    version = chosen.version if chosen else None
    if version not in _featurizers:
        _featurizers[version] = MolGraphFeaturizer(descriptors=version)
    return _featurizers[version]


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

    @property
    def changes_text(self) -> str:
        """`changes` as one table cell: empty when the molecule scored is the one given."""
        return "; ".join(self.changes)


def featurize_standardized(records: Sequence[StandardizedMolecule], descriptors: str | None = None) -> list[FeaturizedMolecule]:
    """The graphs of molecules `standardize` returned, featurized together (their canonical
    SMILES, just written, give the featurizer the SMILES atom order without writing it
    again). Failed records stay failed, with their reason."""
    featurizer = _featurizer(descriptors)
    good = [r for r in records if r.ok]
    try:
        graphs = iter(featurizer.many([r.mol for r in good], [r.canonical_smiles for r in good]))
    except Exception:  # noqa: BLE001 - an RDKit surprise: featurize one by one to flag just that row
        graphs = iter([graph_or_error(featurizer, r.mol, r.canonical_smiles) for r in good])
    out = []
    for record in records:
        if not record.ok:
            out.append(FeaturizedMolecule("", None, record.changes, record.error))
            continue
        graph = next(graphs)
        if isinstance(graph, str):
            out.append(FeaturizedMolecule(record.canonical_smiles, None, record.changes, graph))
        else:
            out.append(FeaturizedMolecule(record.canonical_smiles, graph, record.changes))
    return out


def graph_or_error(featurizer: MolGraphFeaturizer, mol: Chem.Mol, canonical_smiles: str | None = None) -> MolGraph | str:
    """The graph of an accepted molecule, or why RDKit could not featurize it: a surprise
    costs its own row (or the Predict page a message), never an exception."""
    try:
        return featurizer(mol, canonical_smiles)
    except Exception as exc:  # noqa: BLE001 - the row is flagged with RDKit's reason
        return f"could not featurize: {exc}"


def standardize_row(row: InputRow) -> StandardizedMolecule:
    """A read row standardized; a row the reader already flagged (e.g. a broken SDF block)
    keeps the reader's reason."""
    return StandardizedMolecule(row.smiles, error=row.error) if row.error else standardize(row.smiles)


def featurize_rows(rows: Sequence[InputRow], descriptors: str | None = None) -> list[FeaturizedMolecule]:
    return featurize_standardized([standardize_row(r) for r in rows], descriptors)


def _featurize_chunk(smiles: Sequence[str], descriptors: str | None = None) -> list[FeaturizedMolecule]:
    return featurize_standardized([standardize(s) for s in smiles], descriptors)


def featurize_smiles(smiles: Sequence[str], workers: int = 1, chunk: int = 256, descriptors: str | None = None) -> list[FeaturizedMolecule]:
    """Featurize in input order; `workers` > 1 spreads chunks over that many processes."""
    pieces = [list(smiles[i : i + chunk]) for i in range(0, len(smiles), chunk)]
    featurize_chunk = partial(_featurize_chunk, descriptors=descriptors)
    if workers <= 1 or len(pieces) <= 1:
        return [m for piece in pieces for m in featurize_chunk(piece)]
    with mp.get_context("fork").Pool(workers) as pool:
        return [m for part in pool.imap(featurize_chunk, pieces) for m in part]
