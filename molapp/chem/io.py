"""Reading molecules: one SMILES, SMILES files, CSV and SDF.

Readers yield `InputRow`s lazily, in input order, one per input record, so a file of
millions of rows streams through in bounded memory and no row is ever dropped: a record
that cannot even be read comes back with `error` set, at its own position. A file that is
not text at all (empty, binary, not UTF-8) is refused with a ValueError naming it.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase


# The columns every per-row output (predict CLI, triage table) starts with. `changes`: what
# standardization stripped or neutralized ("stripped Na+; neutralized charges (…)"), empty
# when the molecule scored is the one given.
FIXED_COLUMNS = ["row", "id", "smiles", "canonical_smiles", "status", "error", "changes"]
# Column names (any case) taken for SMILES and for IDs when none is named: the app and the CLI guess alike.
SMILES_COLUMN_NAMES = ("smiles", "canonical_smiles", "smi")
ID_COLUMN_NAMES = ("id", "name", "compound_id", "mol_id")
# RDKit's sanitization failures, in the words `standardize` uses for the same failures in a SMILES.
_SANITIZE_PROBLEMS = {"AtomValenceException": "valence error", "KekulizeException": "aromaticity error (cannot kekulize)"}

# What makes a spreadsheet read a text cell as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Source = str | Path | IO[bytes]  # a file name, or an open binary stream (an upload)


@dataclass(frozen=True)
class InputRow:
    """One input record: its 0-based position, an ID, the SMILES as given."""

    row: int
    id: str
    smiles: str
    error: str = ""  # set when the record itself could not be read (e.g. a broken SDF block)


def guess_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """The first of `names` (any case) among `columns`, as it is spelled there, or None."""
    lowered = {str(c).lower(): c for c in reversed(list(columns))}
    return next((lowered[n] for n in names if n in lowered), None)


def check_text_file(path: str | Path) -> None:
    """Refuse, before any work, a file no reader can make rows of: empty, or binary (NUL
    bytes at its start). Bytes that are not UTF-8 further on are caught as they are read."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        raise ValueError(f"{path} is empty")
    if b"\0" in head:
        raise ValueError(f"{path} is binary, not a text file of molecules")


def _name(source: Source) -> str:
    return str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "the input")


def _text_lines(source: Source) -> Iterator[str]:
    """The lines of UTF-8 text, without line ends. A line ends at \\n (or \\r\\n) only: a
    lone \\r is text (Python's universal newlines would start a row there and misnumber
    every later one). Bytes that are not UTF-8 raise a ValueError naming the line."""
    opened = open(source, "rb") if isinstance(source, (str, Path)) else contextlib.nullcontext(source)
    with opened as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{_name(source)}: line {number} is not UTF-8 text ({exc.reason})") from None
            yield line.removesuffix("\n").removesuffix("\r")


def smiles_line(line: str) -> tuple[str, str | None]:
    """A .smi line: a SMILES, optionally followed by whitespace and an ID. ("", None) for a
    blank line; the ID is None when the line has none."""
    parts = line.split(maxsplit=1)
    if not parts:
        return "", None
    return parts[0], parts[1].strip() if len(parts) > 1 else None


def read_smiles_file(path: Source) -> Iterator[InputRow]:
    """A .smi/.txt file: one `smiles_line` per line; a line without an ID is numbered (from
    1), a blank line is a row with an empty SMILES (rows keep the file's line positions)."""
    for row, line in enumerate(_text_lines(path)):
        smiles, ident = smiles_line(line)
        yield InputRow(row, ident or str(row + 1), smiles)


def rows_from_smiles_text(text: str) -> list[InputRow]:
    """Pasted lines, each a `smiles_line`; a line without an ID is numbered (from 1). Blank
    lines are skipped; they are not molecules anyone listed."""
    rows = []
    for line in text.splitlines():
        smiles, ident = smiles_line(line)
        if smiles:
            rows.append(InputRow(len(rows), ident or str(len(rows) + 1), smiles))
    return rows


def csv_columns(path: Source) -> list[str]:
    """A CSV's column names; a ValueError naming the file if it has none or is not UTF-8."""
    try:
        columns = [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except pd.errors.EmptyDataError:
        raise ValueError(f"{_name(path)} is empty: no header line") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{_name(path)}: the header is not UTF-8 text ({exc.reason})") from None
    finally:
        if not isinstance(path, (str, Path)):
            path.seek(0)
    return columns


def read_csv(
    path: Source,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    chunk_size: int = 50_000,
) -> Iterator[InputRow]:
    """A CSV file with a SMILES column (and optionally an ID column), read in chunks. The
    columns are checked at once (a ValueError before any row is read); a blank line is a
    row with an empty SMILES, so rows keep the positions of the file's data lines."""
    header = csv_columns(path)
    for column in (smiles_column, id_column):
        if column is not None and column not in header:
            raise ValueError(f"{_name(path)}: no column named {column!r}; columns are {', '.join(header)}")
    return _csv_rows(path, smiles_column, id_column, chunk_size)


def _csv_rows(path: Source, smiles_column: str, id_column: str | None, chunk_size: int) -> Iterator[InputRow]:
    usecols = [smiles_column] + ([id_column] if id_column else [])
    chunks = pd.read_csv(path, usecols=usecols, dtype=str, keep_default_na=False, skip_blank_lines=False, chunksize=chunk_size)
    row = 0
    try:
        for chunk in chunks:
            chunk = chunk.fillna("")  # a blank line's cells
            smiles = chunk[smiles_column].tolist()
            ids = chunk[id_column].tolist() if id_column else [str(row + i + 1) for i in range(len(chunk))]
            for smi, ident in zip(smiles, ids):
                yield InputRow(row, ident or str(row + 1), smi)
                row += 1
    except UnicodeDecodeError as exc:
        raise ValueError(f"{_name(path)}: not UTF-8 text after row {row} ({exc.reason})") from None


def _sdf_records(lines: Iterator[str]) -> Iterator[list[str]]:
    """The lines of each SDF record: a record ends at a `$$$$` line. Text after the last
    `$$$$` is a record too (a file without the final delimiter), unless it is blank."""
    record: list[str] = []
    for line in lines:
        if line.strip() == "$$$$":
            yield record
            record = []
        else:
            record.append(line)
    if any(line.strip() for line in record):
        yield record


def sd_properties(lines: Sequence[str]) -> dict[str, str]:
    """The data items after `M  END`: a `>  <NAME>` line, then value lines up to a blank
    line. Lines that belong to no item are skipped: a malformed property block costs its
    properties, never the molecule."""
    properties: dict[str, str] = {}
    name = None
    for line in lines:
        if line.startswith(">"):
            match = re.search(r"<([^>]*)>", line)
            name = match.group(1) if match else None
            if name is not None:
                properties[name] = ""
        elif name is not None and not line.strip():
            name = None
        elif name is not None:
            properties[name] = f"{properties[name]}\n{line}" if properties[name] else line
    return properties


def _sdf_row(row: int, lines: list[str], id_property: str | None) -> InputRow:
    """One record read on its own (no neighbour can swallow it): its SMILES, or its reason."""
    label = f"SDF record {row + 1}"
    if not any(line.strip() for line in lines):
        return InputRow(row, str(row + 1), "", f"{label}: empty record")
    end = next((i for i, line in enumerate(lines) if line.startswith("M  END")), None)
    ident = lines[0].strip()
    if end is not None and id_property:
        ident = sd_properties(lines[end + 1 :]).get(id_property, "").strip() or ident
    ident = ident or str(row + 1)
    if end is None:
        return InputRow(row, ident, "", f"{label}: no 'M  END' line")
    mol, problem = _molblock_molecule("\n".join(lines[: end + 1]))
    return InputRow(row, ident, "", f"{label}: {problem}") if mol is None else InputRow(row, ident, Chem.MolToSmiles(mol))


def _molblock_molecule(block: str) -> tuple[Chem.Mol | None, str]:
    """The sanitized molecule of a molblock (hydrogens removed), or None and what is wrong:
    parsed unsanitized first, so a chemistry problem is told apart from an unreadable block."""
    with rdBase.BlockLogs():  # the reason goes into the row, not onto the console
        try:
            mol = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False)
        except Exception:  # noqa: BLE001 - some parse failures raise instead of returning None
            mol = None
        if mol is None:
            return None, "not a molblock RDKit can read (header, counts line or atom and bond blocks)"
        try:
            Chem.SanitizeMol(mol)
        except Chem.MolSanitizeException as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return None, f"{_SANITIZE_PROBLEMS.get(type(exc).__name__, 'invalid chemistry')}: {detail}"
        return Chem.RemoveHs(mol), ""


def read_sdf(path: Source, id_property: str | None = None) -> Iterator[InputRow]:
    """An SDF file, one row per record at its position (records split on `$$$$` lines, each
    parsed alone; V2000 or V3000); each becomes its SMILES, or its reason: empty, no
    `M  END`, unreadable molblock, valence or aromaticity error. ID: `id_property`, else
    the title line, else the record number."""
    for row, lines in enumerate(_sdf_records(_text_lines(path))):
        yield _sdf_row(row, lines, id_property)


def read_molecules(
    path: str | Path, smiles_column: str = "smiles", id_column: str | None = None
) -> Iterator[InputRow]:
    """Pick the reader from the file name: .csv(.gz) → CSV, .sdf/.sd → SDF, else SMILES
    lines. A CSV's IDs come from `id_column`, else from a column named like an ID (as the
    app guesses, `ID_COLUMN_NAMES`), else the row number."""
    name = str(path).lower()
    if not Path(path).exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if not name.endswith(".gz"):
        check_text_file(path)
    if name.endswith((".csv", ".csv.gz")):
        return read_csv(path, smiles_column, id_column or guess_column(csv_columns(path), ID_COLUMN_NAMES))
    if name.endswith((".sdf", ".sd")):
        return read_sdf(path, id_column)
    return read_smiles_file(path)


def spreadsheet_safe(cell: object) -> object:
    """A CSV cell a spreadsheet opens as text, never runs: text starting with =, +, -, @,
    tab or CR gets a leading ' (OWASP's advice). Numbers, and text that is only a number
    (-1.23), stay as they are. Every CSV export (the predict CLI, Triage) writes through this."""
    if not isinstance(cell, str) or not cell.startswith(_FORMULA_STARTS):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell


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
