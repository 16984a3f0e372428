"""Morgan fingerprints and Tanimoto similarity, for everything that compares molecules by
their substructures: the fingerprint baselines' ECFP4 features (radius 2, 1024 bits) and
Tanimoto kernel, and the applicability domain's packed fingerprints (radius 2, 2048 bits)
and its fast Tanimoto search.

The input is always the project's standardized canonical SMILES (`molapp.chem.standardize`,
as `LabelledMolecules.molecules[i].canonical_smiles`), re-parsed here, so a fingerprint
depends on that text alone and is the same at training and at prediction time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

ECFP_RADIUS = 2  # ECFP4: diameter 4
ECFP_BITS = 1024
FP_RADIUS = 2  # the applicability domain's
FP_BITS = 2048

_ecfp_generator = rdFingerprintGenerator.GetMorganGenerator(radius=ECFP_RADIUS, fpSize=ECFP_BITS)
_domain_generator = rdFingerprintGenerator.GetMorganGenerator(radius=FP_RADIUS, fpSize=FP_BITS)


def _morgan_bits(mols: Sequence[Chem.Mol | None], generator, width: int) -> np.ndarray:
    """uint8 [n, width] of RDKit molecules from a Morgan `generator` of `width` bits; a None
    molecule gives an all-zero row."""
    out = np.zeros((len(mols), width), dtype=np.uint8)
    for i, mol in enumerate(mols):
        if mol is not None:
            out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def ecfp(mols: Sequence[Chem.Mol | None]) -> np.ndarray:
    """uint8 [n, ECFP_BITS] of RDKit molecules; a None molecule gives an all-zero row."""
    return _morgan_bits(mols, _ecfp_generator, ECFP_BITS)


def ecfp_of_smiles(smiles: Sequence[str]) -> np.ndarray:
    """uint8 [n, ECFP_BITS] of (standardized canonical) SMILES; an unparseable or empty
    one gives an all-zero row (callers drop such rows before, as the splits do)."""
    return ecfp([Chem.MolFromSmiles(s) if s else None for s in smiles])


def fingerprints(smiles: list[str]) -> np.ndarray:
    """Packed Morgan bits [n, FP_BITS/8] uint8; an unparseable SMILES gives all zeros."""
    return fingerprints_of([Chem.MolFromSmiles(s) for s in smiles])


def fingerprints_of(mols: list[Chem.Mol | None]) -> np.ndarray:
    """The same from molecules already read; None gives all zeros."""
    return np.packbits(_morgan_bits(mols, _domain_generator, FP_BITS).astype(bool), axis=1)


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


def tanimoto_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tanimoto similarity of binary rows, float64 [len(a), len(b)] (1 for two empty rows)."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    common = a32 @ b32.T
    union = a32.sum(1)[:, None] + b32.sum(1)[None, :] - common
    return np.where(union > 0, common / np.maximum(union, 1), 1.0).astype(np.float64)
