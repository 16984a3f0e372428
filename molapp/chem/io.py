"""Reading molecules: one SMILES, SMILES files, CSV and SDF.

Readers yield `InputRow`s lazily, in input order, one per input record, so a file of
millions of rows streams through in bounded memory and no row is ever dropped: a record
that cannot even be read comes back with `error` set.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem


# The columns every per-row output (predict CLI, triage table) starts with. `changes`: what
# standardization stripped or neutralized ("stripped Na+; neutralized charges (…)"), empty
# when the molecule scored is the one given.
FIXED_COLUMNS = ["row", "id", "smiles", "canonical_smiles", "status", "error", "changes"]


@dataclass(frozen=True)
class InputRow:
    """One input record: its 0-based position, an ID, the SMILES as given."""

    row: int
    id: str
    smiles: str
    error: str = ""  # set when the record itself could not be read (e.g. a broken SDF block)


def read_smiles_file(path: str | Path) -> Iterator[InputRow]:
    """A .smi/.txt file: one SMILES per line, optionally followed by whitespace and an ID."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for row, line in enumerate(handle):
            parts = line.strip().split(maxsplit=1)
            smiles = parts[0] if parts else ""
            ident = parts[1].strip() if len(parts) > 1 else str(row + 1)
            yield InputRow(row, ident, smiles)


def read_csv(
    path: str | Path,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    chunk_size: int = 50_000,
) -> Iterator[InputRow]:
    """A CSV file with a SMILES column (and optionally an ID column), read in chunks."""
    header = pd.read_csv(path, nrows=0).columns
    for column in (smiles_column, id_column):
        if column is not None and column not in header:
            raise ValueError(f"{path}: no column named {column!r}; columns are {', '.join(map(str, header))}")
    usecols = [smiles_column] + ([id_column] if id_column else [])
    row = 0
    for chunk in pd.read_csv(path, usecols=usecols, dtype=str, keep_default_na=False, chunksize=chunk_size):
        smiles = chunk[smiles_column].tolist()
        ids = chunk[id_column].tolist() if id_column else [str(row + i + 1) for i in range(len(chunk))]
        for smi, ident in zip(smiles, ids):
            yield InputRow(row, ident, smi)
            row += 1


def read_sdf(path: str | Path, id_property: str | None = None) -> Iterator[InputRow]:
    """An SDF file; each record becomes its SMILES. ID: `id_property`, else the title line."""
    supplier = Chem.ForwardSDMolSupplier(str(path), sanitize=True)
    for row, mol in enumerate(supplier):
        if mol is None:
            yield InputRow(row, str(row + 1), "", error=f"unreadable SDF record {row + 1}")
            continue
        ident = mol.GetProp(id_property) if id_property and mol.HasProp(id_property) else mol.GetProp("_Name")
        yield InputRow(row, ident.strip() or str(row + 1), Chem.MolToSmiles(mol))


def read_molecules(
    path: str | Path, smiles_column: str = "smiles", id_column: str | None = None
) -> Iterator[InputRow]:
    """Pick the reader from the file name: .csv(.gz) → CSV, .sdf/.sd → SDF, else SMILES lines."""
    name = str(path).lower()
    if not Path(path).exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if name.endswith((".csv", ".csv.gz")):
        return read_csv(path, smiles_column, id_column)
    if name.endswith((".sdf", ".sd")):
        return read_sdf(path, id_column)
    return read_smiles_file(path)


def write_sdf(frame: pd.DataFrame, smiles_column: str = "canonical_smiles", id_column: str = "id") -> str:
    """A table as SDF text: one record per row, in order, its structure from `smiles_column`
    and every other column as an SD property (empty for missing values). A row without a
    structure (an input that could not be used) becomes a record with no atoms, so the
    file still has every row and its error."""
    buffer = io.StringIO()
    writer = Chem.SDWriter(buffer)
    columns = [c for c in frame.columns if c != smiles_column]
    for record in frame.itertuples(index=False):
        values = dict(zip(frame.columns, record))
        smiles = values[smiles_column]
        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles else None
        mol = mol if mol is not None else Chem.Mol()
        mol.SetProp("_Name", str(values.get(id_column, "")))
        for column in columns:
            value = values[column]
            mol.SetProp(str(column), "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))
        writer.write(mol)
    writer.close()
    return buffer.getvalue()
