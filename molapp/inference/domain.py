"""Applicability domain: how close a molecule is to the training set.

The index is the training molecules' Morgan fingerprints (radius 2, 2048 bits), packed to
bits, with their canonical SMILES and measured labels; similarity is Tanimoto
(`TanimotoReference`). It is
saved beside each checkpoint (`domain.safetensors` + `domain.json`, no pickle).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from safetensors.numpy import load_file, save_file

FP_RADIUS = 2
FP_BITS = 2048
_generator = rdFingerprintGenerator.GetMorganGenerator(radius=FP_RADIUS, fpSize=FP_BITS)


def fingerprints(smiles: list[str]) -> np.ndarray:
    """Packed Morgan bits [n, FP_BITS/8] uint8; an unparseable SMILES gives all zeros."""
    return fingerprints_of([Chem.MolFromSmiles(s) for s in smiles])


def fingerprints_of(mols: list[Chem.Mol | None]) -> np.ndarray:
    """The same from molecules already read; None gives all zeros."""
    out = np.zeros((len(mols), FP_BITS // 8), dtype=np.uint8)
    for i, mol in enumerate(mols):
        if mol is not None:
            out[i] = np.packbits(_generator.GetFingerprintAsNumPy(mol).astype(bool))
    return out


class TanimotoReference:
    """Reference fingerprints laid out for Tanimoto similarity to many queries at once.

    Morgan fingerprints are sparse (~50 of 2048 bits set), so the bits two molecules share
    are counted as a sum, over the query's set bits, of rows of a bit × reference matrix
    (`embedding_bag`): about 40 times less arithmetic than a dense product of unpacked
    fingerprints. float16 counts exactly up to 2048, every count a fingerprint can have.
    """

    def __init__(self, packed: np.ndarray) -> None:
        bits = np.unpackbits(packed, axis=1)  # [n, FP_BITS]
        self.by_bit = torch.from_numpy(np.ascontiguousarray(bits.T)).to(torch.float16)  # [FP_BITS, n]
        self.counts = torch.from_numpy(bits.sum(1, dtype=np.float32))  # [n]

    def similarity(self, queries: np.ndarray) -> torch.Tensor:
        """Tanimoto similarity [q, n] of packed query fingerprints [q, FP_BITS/8]."""
        bits = np.unpackbits(queries, axis=1)
        rows, columns = np.nonzero(bits)  # row-major: each query's bits are contiguous
        offsets = torch.from_numpy(np.searchsorted(rows, np.arange(len(bits))))
        common = F.embedding_bag(torch.from_numpy(columns), self.by_bit, offsets, mode="sum").float()
        union = torch.from_numpy(bits.sum(1, dtype=np.float32))[:, None] + self.counts[None, :] - common
        return torch.where(union > 0, common / union.clamp(min=1), 0.0)


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
