"""Labelled molecules of a benchmark dataset, featurized, with missing labels as NaN.

Missing labels are NaN and masked out of every loss and metric, never read as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from molapp.data.featurize import FeaturizedMolecule, featurize_smiles
from molapp.data.registry import DatasetSpec, csv_path, get_spec
from molapp.data.splits import Split, dataset_split


@dataclass
class LabelledMolecules:
    """Rows of one dataset: `rows` are CSV data-row indices, `labels` [n, num_tasks] (NaN =
    not measured), `molecules` their featurization (some may carry an error)."""

    spec: DatasetSpec
    rows: np.ndarray
    smiles: list[str]
    labels: np.ndarray
    molecules: list[FeaturizedMolecule]

    def subset(self, rows: list[int] | np.ndarray) -> LabelledMolecules:
        """The given CSV rows (in that order), keeping only molecules that featurized."""
        position = {int(r): i for i, r in enumerate(self.rows)}
        keep = [position[int(r)] for r in rows if int(r) in position and self.molecules[position[int(r)]].ok]
        return LabelledMolecules(
            self.spec,
            self.rows[keep],
            [self.smiles[i] for i in keep],
            self.labels[keep],
            [self.molecules[i] for i in keep],
        )

    def restricted_to(self, tasks: list[str]) -> LabelledMolecules:
        """These tasks only (in the order given), and the rows measured in at least one of them."""
        unknown = [t for t in tasks if t not in self.spec.tasks]
        if unknown:
            raise ValueError(f"{self.spec.name} has no task {', '.join(map(repr, unknown))}; its tasks: {', '.join(self.spec.tasks)}")
        columns = [self.spec.tasks.index(t) for t in tasks]
        labels = self.labels[:, columns]
        keep = np.flatnonzero(~np.isnan(labels).all(axis=1))
        return LabelledMolecules(
            replace(self.spec, tasks=list(tasks)),
            self.rows[keep],
            [self.smiles[i] for i in keep],
            labels[keep],
            [self.molecules[i] for i in keep],
        )

    def split(self, kind: str, data_dir: str | Path | None = None) -> SplitMolecules:
        """These molecules in the parts of the split `kind` of their dataset (`dataset_split`:
        the canonical split file when there is one), each part keeping only molecules that featurized."""
        parts, source = dataset_split(self.spec.name, kind, self.smiles, data_dir, self.rows)
        return SplitMolecules(parts, source, self.subset(parts.train), self.subset(parts.valid), self.subset(parts.test))

    @property
    def graphs(self):
        return [m.graph for m in self.molecules]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class SplitMolecules:
    """A dataset's molecules in the three parts of a split. `parts`: the split's CSV rows,
    every row whether it featurized or not; `source`: where the split came from."""

    parts: Split
    source: str
    train: LabelledMolecules
    valid: LabelledMolecules
    test: LabelledMolecules

    def part_of_rows(self) -> dict[int, str]:
        """CSV row → the part ("train", "valid", "test") it is in."""
        return {int(row): part for part in ("train", "valid", "test") for row in getattr(self.parts, part)}


def read_labels(name: str, data_dir: str | Path | None = None) -> tuple[DatasetSpec, list[str], np.ndarray]:
    """The dataset's SMILES column and its task columns as float32 [n, num_tasks], NaN missing."""
    spec = get_spec(name)
    frame = pd.read_csv(csv_path(name, data_dir))
    missing = [c for c in [spec.smiles_column, *spec.tasks] if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.filename} lacks the columns {missing}")
    labels = frame[spec.tasks].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
    if spec.balanced_subset_of:
        labels = balanced_labels(labels)
    return spec, frame[spec.smiles_column].fillna("").astype(str).tolist(), labels


def balanced_labels(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """One task's labels [n, 1] as a balanced subset: every active, and as many inactives
    sampled at random (a fixed seed, so the subset is one set of rows); the rest NaN."""
    if labels.shape[1] != 1:
        raise ValueError("a balanced subset is of a single-task dataset")
    actives, inactives = np.flatnonzero(labels[:, 0] == 1), np.flatnonzero(labels[:, 0] == 0)
    kept = np.random.default_rng(seed).choice(inactives, size=min(len(actives), len(inactives)), replace=False)
    balanced = np.full_like(labels, np.nan)
    balanced[actives, 0], balanced[kept, 0] = 1.0, 0.0
    return balanced


def load_dataset(name: str, data_dir: str | Path | None = None, workers: int = 1, descriptors: str | None = None) -> LabelledMolecules:
    """The dataset's rows measured in at least one task (a row measured in none is an example
    of nothing), featurized. `descriptors`: the graphs also carry the whole-molecule descriptors."""
    spec, smiles, labels = read_labels(name, data_dir)
    rows = np.flatnonzero(~np.isnan(labels).all(axis=1))
    smiles, labels = [smiles[i] for i in rows], labels[rows]
    molecules = featurize_smiles(smiles, workers=workers, descriptors=descriptors)
    return LabelledMolecules(spec, rows, smiles, labels, molecules)
