"""Train/valid/test splits: random, Bemis-Murcko scaffold, and the canonical split files.

Every reported figure uses the canonical files (`load_canonical_split`); the two
generators exist for datasets without one and follow the same conventions (80/10/10;
scaffold groups largest first into train, then valid, the rest test). The split "all"
puts every row in train: a deployment model learns from every labelled molecule, its
figures come from the same recipe's split models (`dataset_split`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molapp.data.registry import split_path

SPLIT_KINDS = ("random", "scaffold", "all")


@dataclass(frozen=True)
class Split:
    """0-based data-row indices of the CSV for each part; `invalid` rows are in none."""

    kind: str
    train: list[int]
    valid: list[int]
    test: list[int]
    invalid: list[int]

    def parts(self) -> dict[str, list[int]]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def load_canonical_split(path: str | Path) -> Split:
    data = json.loads(Path(path).read_text())
    return Split(data.get("kind", Path(path).stem.split("_")[-1]), data["train"], data["valid"], data["test"], data.get("invalid", []))


def random_split(n: int, seed: int = 0, fractions: tuple[float, float] = (0.8, 0.9), invalid: Sequence[int] = ()) -> Split:
    bad = set(invalid)
    order = [i for i in np.random.default_rng(seed).permutation(n).tolist() if i not in bad]
    a, b = int(fractions[0] * len(order)), int(fractions[1] * len(order))
    return Split("random", sorted(order[:a]), sorted(order[a:b]), sorted(order[b:]), sorted(bad))


def scaffold_of(smiles: str) -> str | None:
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def scaffold_split(smiles: Sequence[str], fractions: tuple[float, float] = (0.8, 0.9)) -> Split:
    """Bemis-Murcko scaffold groups, largest first into train until 80 %, then valid to 90 %."""
    groups: dict[str, list[int]] = defaultdict(list)
    invalid = []
    for i, smi in enumerate(smiles):
        scaffold = scaffold_of(smi)
        if scaffold is None:
            invalid.append(i)
        else:
            groups[scaffold].append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))  # largest first, ties by position
    n = len(smiles) - len(invalid)
    train, valid, test = [], [], []
    for group in ordered:
        if len(train) + len(group) <= fractions[0] * n:
            train += group
        elif len(train) + len(valid) + len(group) <= fractions[1] * n:
            valid += group
        else:
            test += group
    return Split("scaffold", sorted(train), sorted(valid), sorted(test), invalid)


def dataset_split(name: str, kind: str, smiles: Sequence[str], data_dir: str | Path | None = None,
                  rows: Sequence[int] | None = None) -> tuple[Split, str]:
    """The split `kind` of dataset `name` and where it came from: the canonical file when
    there is one, else generated the same way over `smiles`, the SMILES of its CSV rows `rows`
    (default: every row, in order); "all": every one of those rows in train."""
    if kind not in SPLIT_KINDS:
        raise ValueError(f"split {kind!r}: choose one of {', '.join(SPLIT_KINDS)}")
    rows = np.arange(len(smiles)) if rows is None else np.asarray(rows)
    if kind == "all":
        return Split("all", rows.tolist(), [], [], []), "all rows (deployment)"
    path = split_path(name, kind, data_dir)
    if path is not None:
        return load_canonical_split(path), f"canonical ({path.name})"
    generated = random_split(len(smiles), seed=0) if kind == "random" else scaffold_split(smiles)
    parts = Split(kind, *(rows[list(part)].tolist() for part in (generated.train, generated.valid, generated.test, generated.invalid)))
    return parts, f"generated {kind} (no canonical file found)"
