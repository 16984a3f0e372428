"""Triage: score a list of molecules for every task of a checkpoint, with applicability
domain and drug-likeness, into one table with a row for every input row.

On CPU, worker processes do all of a chunk's work — the RDKit part (standardize,
featurize, fingerprint, drug-likeness), the model and the domain similarity — as the
predict CLI's workers do, one torch thread each, but started from a fork server and sent
the model and the domain index (`molapp.inference.parallel.SERVER_SAFE`): triage runs in
the app's multi-threaded server, which must never fork. On CUDA the model stays in the
main process, on the GPU, and the workers do the chemistry. Nothing here changes
process-wide settings (torch threads): sessions run side by side in one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from rdkit import Chem, RDLogger

from molapp.chem.druglikeness import PROPERTIES, drug_likeness
from molapp.chem.io import FIXED_COLUMNS, InputRow
from molapp.data.featurize import FeaturizedMolecule, featurize_standardized, standardize_row
from molapp.featurizers.fingerprints import fingerprints_of
from molapp.inference.domain import DomainIndex
from molapp.inference.parallel import SERVER_SAFE, prepared_and_scored
from molapp.inference.predictor import Predictor, spread_column

TRIAGE_LIMIT = 100_000  # molecules the app scores; beyond, the predict CLI
DOMAIN_COLUMN = "domain similarity"


@dataclass
class PreparedChunk:
    """One chunk after the RDKit work: molecules, packed fingerprints [n, FP_BITS/8] (zeros
    for failed rows) and drug-likeness rows (None for failed rows)."""

    molecules: list[FeaturizedMolecule]
    fingerprints: np.ndarray
    properties: list[dict | None]


def _properties(mol: Chem.Mol | None) -> dict | None:
    """Drug-likeness, or None for a failed row or where a descriptor fails (rare); the row
    keeps its predictions, only these columns stay empty."""
    if mol is None:
        return None
    try:
        return drug_likeness(mol)
    except Exception:  # noqa: BLE001 - one molecule's descriptor failure must not lose the chunk
        return None


def prepare(rows: Sequence[InputRow], descriptors: str | None = None) -> PreparedChunk:
    """Standardize and featurize each row (with the descriptors when the model reads them),
    then fingerprint and describe the standardized molecules themselves (no second parse of
    their SMILES)."""
    RDLogger.DisableLog("rdApp.*")  # the reason goes into the row's error; no console noise
    records = [standardize_row(r) for r in rows]
    molecules = featurize_standardized(records, descriptors)
    mols = [r.mol if m.ok else None for r, m in zip(records, molecules)]
    return PreparedChunk(molecules, fingerprints_of(mols), [_properties(m) for m in mols])


@dataclass
class ScoredChunk:
    """One chunk scored: its molecules, values [n, T] (NaN rows for failed molecules), an
    ensemble's members' standard deviation [n, T] (None for a single model), domain
    similarity [n] (NaN for failed) and drug-likeness rows."""

    molecules: list[FeaturizedMolecule]
    values: np.ndarray
    spread: np.ndarray | None
    similarity: np.ndarray
    properties: list[dict | None]


def score_prepared(prepared: PreparedChunk, context: dict) -> ScoredChunk:
    """A prepared chunk scored with `context`'s "predictor" and "domain"."""
    ok = [m.ok for m in prepared.molecules]
    similarity = np.where(ok, context["domain"].max_similarity_of(prepared.fingerprints), np.nan) if ok else np.zeros(0)
    prediction = context["predictor"].predict_molecules(prepared.molecules)
    return ScoredChunk(prepared.molecules, prediction.values, prediction.spread, similarity, prepared.properties)


def score(
    predictor: Predictor,
    domain: DomainIndex,
    rows: Sequence[InputRow],
    workers: int = 2,
    chunk_size: int = 512,
    progress: Callable[[int, int, float], None] | None = None,
) -> pd.DataFrame:
    """Every input row, in order: FIXED_COLUMNS, one column per task (probability or value
    in the task's units; empty for error rows), for an ensemble one `spread_column(task)`
    per task (its members' standard deviation), the domain similarity (max Tanimoto to the
    training set) and the drug-likeness PROPERTIES. `progress(done, total, seconds)` is
    called after each chunk."""
    chunks = [list(rows[i : i + chunk_size]) for i in range(0, len(rows), chunk_size)]
    start, done = time.perf_counter(), 0
    values, spread, similarity, molecules, properties = [], [], [], [], []

    def consume(scored: ScoredChunk) -> None:
        nonlocal done
        values.append(scored.values)
        if scored.spread is not None:
            spread.append(scored.spread)
        similarity.append(scored.similarity)
        molecules.extend(scored.molecules)
        properties.extend(scored.properties)
        done += len(scored.molecules)
        if progress:
            progress(done, len(rows), time.perf_counter() - start)

    parallel = workers if workers > 1 and len(chunks) > 1 else 0  # one chunk, or one worker: no processes to start
    for _, scored in prepared_and_scored(chunks, partial(prepare, descriptors=predictor.descriptors), score_prepared,
                                         {"predictor": predictor, "domain": domain}, parallel, predictor.device.type == "cpu", SERVER_SAFE):
        consume(scored)

    table = pd.DataFrame({
        "row": [r.row for r in rows],
        "id": [r.id for r in rows],
        "smiles": [r.smiles for r in rows],
        "canonical_smiles": [m.canonical_smiles for m in molecules],
        "status": ["ok" if m.ok else "error" for m in molecules],
        "error": [m.error for m in molecules],
        "changes": [m.changes_text for m in molecules],
    })
    predicted = np.concatenate(values) if values else np.zeros((0, len(predictor.tasks)), np.float32)
    for k, task in enumerate(predictor.tasks):
        table[task] = predicted[:, k]
    if predictor.is_ensemble:
        members = np.concatenate(spread) if spread else np.zeros((0, len(predictor.tasks)), np.float32)
        for k, task in enumerate(predictor.tasks):
            table[spread_column(task)] = members[:, k]
    table[DOMAIN_COLUMN] = np.concatenate(similarity) if similarity else np.zeros(0)
    described = pd.DataFrame([p or {} for p in properties], columns=PROPERTIES)
    return pd.concat([table, described.set_index(table.index)], axis=1)
