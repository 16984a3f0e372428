"""ECFP4 bit vectors (Morgan radius 2, 1024 bits) of standardized canonical SMILES.

The input is always the project's standardized canonical SMILES (`molapp.chem.standardize`,
as `LabelledMolecules.molecules[i].canonical_smiles`), re-parsed here, so a fingerprint
depends on that text alone and is the same at training and at prediction time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

ECFP_RADIUS = 2  # ECFP4: diameter 4
ECFP_BITS = 1024

_generator = rdFingerprintGenerator.GetMorganGenerator(radius=ECFP_RADIUS, fpSize=ECFP_BITS)


def ecfp(mols: Sequence[Chem.Mol | None]) -> np.ndarray:
    """uint8 [n, ECFP_BITS] of RDKit molecules; a None molecule gives an all-zero row."""
    out = np.zeros((len(mols), ECFP_BITS), dtype=np.uint8)
    for i, mol in enumerate(mols):
        if mol is not None:
            out[i] = _generator.GetFingerprintAsNumPy(mol)
    return out


def ecfp_of_smiles(smiles: Sequence[str]) -> np.ndarray:
    """uint8 [n, ECFP_BITS] of (standardized canonical) SMILES; an unparseable or empty
    one gives an all-zero row (callers drop such rows before, as the splits do)."""
    return ecfp([Chem.MolFromSmiles(s) if s else None for s in smiles])
