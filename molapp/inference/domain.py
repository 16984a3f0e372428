"""Applicability domain: how close a molecule is to the training set.

The index is the training molecules' Morgan fingerprints (radius 2, 2048 bits), packed to
bits, with their canonical SMILES and measured labels; similarity is Tanimoto. It is
saved beside each checkpoint (`domain.safetensors` + `domain.json`, no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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


def tanimoto(queries: np.ndarray, reference: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Tanimoto similarity [q, n] between packed fingerprints (bit counts as one matrix
    product per chunk of the reference)."""
    query_bits = np.unpackbits(queries, axis=1).astype(np.float32)
    counts_q = query_bits.sum(1)
    out = np.empty((len(queries), len(reference)), dtype=np.float32)
    for start in range(0, len(reference), chunk):
        ref_bits = np.unpackbits(reference[start : start + chunk], axis=1).astype(np.float32)
        common = query_bits @ ref_bits.T
        union = counts_q[:, None] + ref_bits.sum(1)[None, :] - common
        out[:, start : start + chunk] = np.where(union > 0, common / np.maximum(union, 1), 0.0)
    return out


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

    def max_similarity_of(self, packed: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """The same from packed fingerprints [q, FP_BITS/8]. Large query chunks: each chunk
        unpacks the whole reference once."""
        if not len(packed):
            return np.zeros(0, np.float32)
        return np.concatenate([tanimoto(packed[i : i + chunk], self.fingerprints).max(1) for i in range(0, len(packed), chunk)])

    def nearest(self, smiles: str, k: int = 5) -> list[Neighbour]:
        similarity = tanimoto(fingerprints([smiles]), self.fingerprints)[0]
        order = np.argsort(-similarity)[:k]
        return [
            Neighbour(
                self.smiles[i],
                float(similarity[i]),
                {t: float(v) for t, v in zip(self.tasks, self.labels[i]) if not np.isnan(v)},
            )
            for i in order
        ]

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
