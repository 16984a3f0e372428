"""Applicability domain: how close a molecule is to the training set.

The index is the training molecules' Morgan fingerprints (radius 2, 2048 bits), packed to
bits, with their canonical SMILES and measured labels; similarity is Tanimoto
(`molapp.featurizers.fingerprints.TanimotoReference`). It is
saved beside each checkpoint (`domain.safetensors` + `domain.json`, no pickle).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from molapp.featurizers.fingerprints import TanimotoReference, fingerprints

@dataclass
class Neighbour:
    smiles: str
    similarity: float
    labels: dict[str, float]


@dataclass
class DomainIndex:
    fingerprints: np.ndarray  # [n, FP_BITS/8] uint8
    labels: np.ndarray  # [n, num_tasks] float32, NaN = not measured
    smiles: list[str]
    tasks: list[str]

    def max_similarity(self, smiles: list[str], chunk: int = 2048) -> np.ndarray:
        """Highest Tanimoto similarity of each molecule to the training set, [q]."""
        return self.max_similarity_of(fingerprints(smiles), chunk)

    def max_similarity_of(self, packed: np.ndarray, chunk: int = 256) -> np.ndarray:
        """The same from packed fingerprints [q, FP_BITS/8], in chunks of queries (each
        chunk's similarity matrix is chunk × training set)."""
        if not len(packed):
            return np.zeros(0, np.float32)
        return np.concatenate([self.reference.similarity(packed[i : i + chunk]).amax(1).numpy() for i in range(0, len(packed), chunk)])

    @functools.cached_property
    def reference(self) -> TanimotoReference:
        return TanimotoReference(self.fingerprints)

    def nearest(self, smiles: str, k: int = 5) -> list[Neighbour]:
        similarity = self.reference.similarity(fingerprints([smiles]))[0].numpy()
        order = np.argsort(-similarity)[:k]
        return [
            Neighbour(
                self.smiles[i],
                float(similarity[i]),
                {t: float(v) for t, v in zip(self.tasks, self.labels[i]) if not np.isnan(v)},
            )
            for i in order
        ]

    @functools.cached_property
    def _rows_by_smiles(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, smiles in enumerate(self.smiles):
            rows.setdefault(smiles, []).append(i)
        return rows

    def measured(self, canonical_smiles: str) -> dict[str, float]:
        """The labels measured for this exact (standardized, canonical) molecule in the
        training set, {task: value}; the mean where it appears more than once (a duplicate
        measured twice); empty when it is not in the index."""
        rows = self._rows_by_smiles.get(canonical_smiles, [])
        if not rows:
            return {}
        labels = self.labels[rows]
        measured = ~np.isnan(labels)
        means = np.nansum(labels, 0) / np.maximum(measured.sum(0), 1)
        return {t: float(v) for t, v, seen in zip(self.tasks, means, measured.any(0)) if seen}

    def save(self, directory: Path) -> None:
        # float16 holds 0/1 labels exactly and regression labels to ~3 digits, at half the size
        save_file({"fingerprints": self.fingerprints, "labels": self.labels.astype(np.float16)}, str(directory / "domain.safetensors"))
        (directory / "domain.json").write_text(json.dumps({"tasks": self.tasks, "smiles": self.smiles}))

    @classmethod
    def load(cls, directory: Path) -> DomainIndex:
        arrays = load_file(str(directory / "domain.safetensors"))
        meta = json.loads((directory / "domain.json").read_text())
        return cls(arrays["fingerprints"], arrays["labels"].astype(np.float32), meta["smiles"], meta["tasks"])

    @classmethod
    def build(cls, smiles: list[str], labels: np.ndarray, tasks: list[str]) -> DomainIndex:
        return cls(fingerprints(smiles), labels.astype(np.float32), list(smiles), list(tasks))
