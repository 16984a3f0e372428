"""A user's own labelled molecules (a CSV or SDF of their screen), checked before any training.

`check_user_data` reads the file with the same readers as prediction (`molapp.chem.io`),
standardizes every SMILES with `molapp.chem.standardize`, reads the target columns and
returns a `UserData`: the molecules to train on (one row per distinct standardized
molecule) and a `DataReport` that names every problem with its row numbers. Nothing is
dropped silently:

- **blocking problems** (`report.errors`: training does not start): a file over the upload
  limit, no such SMILES or target column, target values that are neither numbers nor class
  labels, a target with one class only (or no value at all), too few usable rows for the
  split (the report says how many are needed), a split whose validation or test part lacks
  one of a classification target's classes;
- **handled problems** (`report.notes`: training can start, and the card keeps them): rows
  whose SMILES cannot be used (each with its reason), rows without any target value, and
  duplicate molecules (rows whose SMILES standardize to the same molecule), merged into
  one: agreeing labels kept; conflicting labels resolved by majority vote for a class
  (a tie leaves the label missing) and by the mean for a number, each conflict listed.

Row numbers count data rows from 1 (a CSV's row 1 is the line after the header; an SDF's
row 1 is its first record).

Task type is read from the values: a column whose values are all 0/1, active/inactive,
true/false (or yes/no, positive/negative), in any case, is a classification target; a
column of numbers is a regression target; anything else is refused with the rows at fault.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from molapp.chem import io as chem_io
from molapp.data.dataset import LabelledMolecules
from molapp.data.featurize import featurize_smiles, standardize_row
from molapp.data.registry import DatasetSpec
from molapp.data.splits import SPLIT_KINDS, Split, random_split, scaffold_split
from molapp.models.card import DataCheck, DataColumns, DataFile, DataNote

UPLOAD_LIMIT_MB = 50  # the app's upload limit (.streamlit/config.toml maxUploadSize): the same for training
MIN_PART = 5  # molecules the validation and the test part each need at least
SPLIT_FRACTIONS = (0.8, 0.9)  # 80 % train, 10 % valid, 10 % test, as every canonical split
# Usable molecules a split needs so that validation and test each get MIN_PART (10 % each).
MIN_ROWS = math.ceil(MIN_PART / (1 - SPLIT_FRACTIONS[1]))
USER_SPLITS = tuple(k for k in SPLIT_KINDS if k != "all")  # a user's panel is always measured on held-out molecules

# Class words (any case) → label. A classification column holds only these (and blanks).
CLASS_WORDS = {
    "0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0,
    "inactive": 0.0, "active": 1.0, "false": 0.0, "true": 1.0,
    "no": 0.0, "yes": 1.0, "negative": 0.0, "positive": 1.0,
}
# Cell values read as "not measured" (pandas' defaults, and a dash).
MISSING_WORDS = {"", "na", "n/a", "nan", "null", "none", "-", "#n/a", "n.a.", "nd", "n.d."}
ROWS_SHOWN = 12  # row numbers listed per problem before "… and N more"


def row_list(rows: Sequence[int], limit: int = ROWS_SHOWN) -> str:
    """'3, 7, 12' or '3, 7, … and 40 more' (1-based row numbers)."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", … and {len(rows) - limit} more" if len(rows) > limit else "")


@dataclass
class Problem:
    """One finding: what it is, and the 1-based rows it concerns (empty for the whole file)."""

    kind: str  # short machine name: "file_too_large", "unusable_smiles", "duplicates", …
    message: str
    rows: list[int] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)  # per-row details (reason, values, resolution)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "rows": self.rows, "details": self.details}


@dataclass
class DataReport:
    errors: list[Problem] = field(default_factory=list)  # training cannot start
    notes: list[Problem] = field(default_factory=list)  # handled as described; training can start
    rows_read: int = 0
    molecules: int = 0  # distinct usable molecules kept
    task_types: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        """What the card keeps: counts and each note (rows listed)."""
        return {"rows_read": self.rows_read, "molecules": self.molecules,
                "notes": [n.to_dict() for n in self.notes]}

    def text(self) -> str:
        lines = [f"error: {p.message}" for p in self.errors] + [f"note: {p.message}" for p in self.notes]
        return "\n".join(lines)


@dataclass
class UserData:
    """The checked data: one row per distinct usable molecule."""

    spec: DatasetSpec
    smiles: list[str]  # standardized (canonical) SMILES
    labels: np.ndarray  # [n, T] float32, NaN = not measured
    source_rows: list[list[int]]  # per molecule, the 1-based file rows it came from
    report: DataReport
    file_name: str
    sha256: str
    smiles_column: str
    targets: list[str]

    def labelled(self, workers: int = 1, descriptors: str | None = None) -> LabelledMolecules:
        molecules = featurize_smiles(self.smiles, workers=workers, descriptors=descriptors)
        return LabelledMolecules(self.spec, np.arange(len(self.smiles)), list(self.smiles), self.labels, molecules)

    def card_fields(self) -> dict:
        """The `Card` fields of a panel trained on this file (keyword arguments)."""
        summary = self.report.summary()
        return {
            "source": "user",
            "data_file": DataFile(self.file_name, self.sha256, self.report.rows_read),
            "columns": DataColumns(self.smiles_column, list(self.targets)),
            "data_report": DataCheck(summary["rows_read"], summary["molecules"], [DataNote(**note) for note in summary["notes"]]),
        }


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_sdf(path: str | Path) -> bool:
    return str(path).lower().endswith((".sdf", ".sd"))


def _sdf_table(path: str | Path) -> tuple[list[chem_io.InputRow], pd.DataFrame]:
    """An SDF's rows (SMILES or the record's reason, as `read_sdf` gives them) and its SD
    properties as a table of text, one row per record."""
    rows, properties = [], []
    for index, lines in enumerate(chem_io._sdf_records(chem_io._text_lines(path))):
        rows.append(chem_io._sdf_row(index, lines, None))
        end = next((i for i, line in enumerate(lines) if line.startswith("M  END")), len(lines))
        properties.append(chem_io.sd_properties(lines[end + 1:]))
    return rows, pd.DataFrame(properties, dtype=str).fillna("")


def data_columns(path: str | Path) -> list[str]:
    """The columns a user can choose from: a CSV's header, or an SDF's property names (in
    order of first appearance). A ValueError naming the file when it cannot be read."""
    chem_io.check_text_file(path)
    if is_sdf(path):
        _, table = _sdf_table(path)
        return list(table.columns)
    return chem_io.csv_columns(path)


def read_user_table(path: str | Path, smiles_column: str | None, targets: Sequence[str]) -> tuple[list[chem_io.InputRow], pd.DataFrame]:
    """Every row of the file (a SMILES per row, or the reader's reason) and the target
    columns as text. For an SDF the structure is the record's own (`smiles_column` None)."""
    chem_io.check_text_file(path)
    if is_sdf(path):
        rows, table = _sdf_table(path)
        missing = [t for t in targets if t not in table.columns]
        if missing:
            raise ValueError(f"{Path(path).name} has no SD property {', '.join(map(repr, missing))}; "
                             f"its properties: {', '.join(table.columns) or 'none'}")
        return rows, table[list(targets)] if len(table) else pd.DataFrame(columns=list(targets))
    header = chem_io.csv_columns(path)
    missing = [c for c in [smiles_column, *targets] if c not in header]
    if missing:
        raise ValueError(f"{Path(path).name} has no column {', '.join(map(repr, missing))}; its columns: {', '.join(header)}")
    try:
        table = pd.read_csv(path, usecols=[smiles_column, *targets], dtype=str, keep_default_na=False, skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{Path(path).name}: not UTF-8 text ({exc.reason})") from None
    table = table.fillna("")
    rows = [chem_io.InputRow(i, str(i + 1), s) for i, s in enumerate(table[smiles_column].tolist())]
    return rows, table[list(targets)]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_target(values: Sequence[str]) -> tuple[str, np.ndarray, list[int], list[int]]:
    """One target column as text → (task type, values [n] with NaN missing, 0-based rows
    left blank or marked missing, 0-based rows whose value does not fit the column).

    A column with class words (active/inactive, true/false, …) is a classification target,
    and any other value in it does not fit; a column of numbers is a classification target
    when they are all 0 or 1, else a regression target, and text in it does not fit."""
    cleaned = [str(v).strip() for v in values]
    missing = [i for i, v in enumerate(cleaned) if v.lower() in MISSING_WORDS]
    present = [i for i, v in enumerate(cleaned) if v.lower() not in MISSING_WORDS]
    out = np.full(len(cleaned), np.nan, dtype=np.float32)
    numbers = {i: _number(cleaned[i]) for i in present}
    words = [i for i in present if numbers[i] is None and cleaned[i].lower() in CLASS_WORDS]
    numeric = [i for i in present if numbers[i] is not None]
    if words or (numeric and all(numbers[i] in (0.0, 1.0) for i in numeric)):
        bad = [i for i in present if cleaned[i].lower() not in CLASS_WORDS and numbers[i] not in (0.0, 1.0)]
        for i in present:
            if i not in bad:
                out[i] = CLASS_WORDS.get(cleaned[i].lower(), numbers[i])
        return "classification", out, missing, bad
    for i in numeric:
        out[i] = numbers[i]
    return "regression", out, missing, [i for i in present if numbers[i] is None]


def generated_split(kind: str, smiles: Sequence[str], seed: int = 0) -> Split:
    """The split of a user's molecules, made by the same generators as the canonical splits
    (`molapp.data.splits`): 80/10/10, scaffold groups largest first, or a seeded random split."""
    if kind not in USER_SPLITS:
        raise ValueError(f"split {kind!r}: choose one of {', '.join(USER_SPLITS)}")
    return random_split(len(smiles), seed=seed, fractions=SPLIT_FRACTIONS) if kind == "random" else scaffold_split(smiles, SPLIT_FRACTIONS)


def _merge(values: np.ndarray, task_type: str) -> tuple[float, str]:
    """One label from a duplicate molecule's measured values, and how it was resolved."""
    measured = values[~np.isnan(values)]
    if len(measured) == 0:
        return float("nan"), ""
    if np.all(measured == measured[0]):
        return float(measured[0]), ""
    if task_type == "classification":
        actives = int(measured.sum())
        inactives = len(measured) - actives
        if actives == inactives:
            return float("nan"), f"{actives} active, {inactives} inactive: a tie, left unlabelled"
        winner = 1.0 if actives > inactives else 0.0
        return winner, f"{actives} active, {inactives} inactive: majority, {'active' if winner else 'inactive'}"
    return float(measured.mean()), f"values {', '.join(f'{v:g}' for v in measured)}: mean {measured.mean():.4g}"


def check_user_data(path: str | Path, smiles_column: str | None, targets: Sequence[str], split: str = "scaffold",
                    seed: int = 0, units: dict[str, str] | None = None, name: str | None = None,
                    max_bytes: int | None = None, display_name: str | None = None) -> UserData:
    """Read and check a user's labelled file (see the module's docstring). Never raises for
    the data's own problems: they are in `.report` (`.report.ok` False: do not train). A
    file that cannot be read at all (missing, empty, binary, no such column) is one error too."""
    path = Path(path)
    file_name = display_name or path.name
    report = DataReport()
    targets = list(dict.fromkeys(targets))
    spec = DatasetSpec(name or path.stem, file_name, "", smiles_column or "structure", targets, "classification", "roc_auc",
                       f"{file_name} (user data)")
    empty = UserData(spec, [], np.zeros((0, len(targets)), np.float32), [], report, file_name, "", smiles_column or "", targets)
    if not targets:
        report.errors.append(Problem("no_targets", "choose at least one target column"))
        return empty
    if not path.exists():
        report.errors.append(Problem("unreadable", f"{file_name}: file not found"))
        return empty
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        report.errors.append(Problem("file_too_large", f"{file_name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB upload limit: "
                                     "train on it with the CLI (python -m molapp.train --data …), or upload a smaller file"))
        return empty
    empty.sha256 = file_sha256(path)
    try:
        rows, table = read_user_table(path, smiles_column, targets)
    except (ValueError, OSError) as exc:
        report.errors.append(Problem("unreadable", str(exc).replace(str(path), file_name)))
        return empty
    report.rows_read = len(rows)
    if not rows:
        report.errors.append(Problem("no_rows", f"{file_name} has no data rows"))
        return empty

    # Targets: task type per column, missing cells, values that are neither numbers nor classes.
    labels = np.full((len(rows), len(targets)), np.nan, dtype=np.float32)
    task_types = {}
    for k, target in enumerate(targets):
        task_type, values, missing, bad = read_target(table[target].tolist())
        task_types[target] = task_type
        labels[:, k] = values
        if bad:
            examples = ", ".join(repr(str(table[target].iloc[i]).strip()) for i in bad[:3])
            expected = "a class label (0/1, active/inactive, true/false)" if task_type == "classification" else "a number"
            rows_text = f"row {bad[0] + 1} is" if len(bad) == 1 else f"rows {row_list([i + 1 for i in bad])} are"
            report.errors.append(Problem("non_numeric_target", f"target {target!r} ({task_type}): {rows_text} not {expected}, "
                                         f"e.g. {examples}; fix them or leave them blank (blank = not measured)", [i + 1 for i in bad]))
    report.task_types = task_types
    kinds = set(task_types.values())
    if len(kinds) > 1:
        report.errors.append(Problem("mixed_task_types", "targets mix classification ({}) and regression ({}): train them as two panels".format(
            ", ".join(t for t, v in task_types.items() if v == "classification"), ", ".join(t for t, v in task_types.items() if v == "regression"))))
    task_type = next(iter(kinds)) if len(kinds) == 1 else "classification"

    # Structures: every row standardized, the unusable ones listed with their reason.
    standardized = [standardize_row(r) for r in rows]  # a row the reader flagged keeps its reason
    unusable = [(r.row + 1, s.error) for r, s in zip(rows, standardized) if not s.ok]
    if unusable:
        by_reason: dict[str, list[int]] = defaultdict(list)
        for row, reason in unusable:
            by_reason[reason].append(row)
        parts = "; ".join(f"{reason} (rows {row_list(rs, 6)})" for reason, rs in by_reason.items())
        report.notes.append(Problem("unusable_smiles", f"{len(unusable)} rows have a structure that cannot be used and are left out: {parts}",
                                    [r for r, _ in unusable], [{"row": r, "reason": why} for r, why in unusable]))
    usable = [i for i, s in enumerate(standardized) if s.ok]
    unlabelled = [i for i in usable if np.isnan(labels[i]).all()]
    if unlabelled:
        report.notes.append(Problem("no_label", f"{len(unlabelled)} rows have no value for any target and are left out: rows {row_list([i + 1 for i in unlabelled])}",
                                    [i + 1 for i in unlabelled]))
    keep = [i for i in usable if not np.isnan(labels[i]).all()]

    # Duplicates: rows that standardize to one molecule become one; conflicts resolved and listed.
    by_molecule: dict[str, list[int]] = defaultdict(list)
    for i in keep:
        by_molecule[standardized[i].canonical_smiles].append(i)
    smiles, merged, source_rows = [], [], []
    duplicate_groups, conflicts = [], []
    for canonical, members in by_molecule.items():
        smiles.append(canonical)
        source_rows.append([i + 1 for i in members])
        if len(members) == 1:
            merged.append(labels[members[0]])
            continue
        duplicate_groups.append([i + 1 for i in members])
        row = np.full(len(targets), np.nan, dtype=np.float32)
        for k, target in enumerate(targets):
            row[k], resolution = _merge(labels[members, k], task_type)
            if resolution:
                conflicts.append({"rows": [i + 1 for i in members], "smiles": canonical, "target": target, "resolution": resolution})
        merged.append(row)
    if duplicate_groups:
        listed = "; ".join(" = ".join(str(r) for r in g) for g in duplicate_groups[:6]) + (f"; … and {len(duplicate_groups) - 6} more" if len(duplicate_groups) > 6 else "")
        report.notes.append(Problem("duplicates", f"{sum(len(g) for g in duplicate_groups)} rows are {len(duplicate_groups)} molecules given more than once "
                                    f"(the same molecule after standardization), each kept once: rows {listed}",
                                    sorted(r for g in duplicate_groups for r in g), [{"rows": g} for g in duplicate_groups]))
    if conflicts:
        listed = "; ".join(f"rows {' = '.join(map(str, c['rows']))}, {c['target']}: {c['resolution']}" for c in conflicts[:6])
        more = f"; … and {len(conflicts) - 6} more" if len(conflicts) > 6 else ""
        report.notes.append(Problem("conflicting_duplicates", f"{len(conflicts)} duplicates disagree on a label, resolved by "
                                    f"{'majority vote (a tie is left unlabelled)' if task_type == 'classification' else 'the mean'}: {listed}{more}",
                                    sorted({r for c in conflicts for r in c["rows"]}), conflicts))
    labels_kept = np.stack(merged).astype(np.float32) if merged else np.zeros((0, len(targets)), np.float32)
    report.molecules = len(smiles)

    # Each target must be learnable: some values, and both classes for a classifier.
    for k, target in enumerate(targets):
        column = labels_kept[:, k]
        measured = column[~np.isnan(column)]
        if len(measured) == 0:
            report.errors.append(Problem("empty_target", f"target {target!r} has no value in any usable row"))
        elif task_types[target] == "classification" and len(np.unique(measured)) == 1:
            only = "active (1)" if measured[0] == 1 else "inactive (0)"
            report.errors.append(Problem("one_class", f"target {target!r} has one class only: all {len(measured)} labelled molecules are {only}; "
                                         "a classifier needs actives and inactives"))
        elif task_types[target] == "regression" and len(np.unique(measured)) == 1:
            report.errors.append(Problem("constant_target", f"target {target!r} has one value only ({measured[0]:g}) in all {len(measured)} molecules"))

    if len(smiles) < MIN_ROWS:
        report.errors.append(Problem("too_few_rows", f"{len(smiles)} usable molecules: the {split} split (80/10/10) needs at least {MIN_ROWS}, "
                                     f"so that validation and test get {MIN_PART} each"))
    spec = DatasetSpec(spec.name, file_name, "", smiles_column or "structure", targets, task_type,
                       "roc_auc" if task_type == "classification" else "rmse", f"{file_name} (user data)",
                       units=_common_units(units, targets))
    data = UserData(spec, smiles, labels_kept, source_rows, report, file_name, empty.sha256, smiles_column or "", targets)
    if report.ok:
        _check_split(data, split, seed)
    return data


def _common_units(units: dict[str, str] | None, targets: Sequence[str]) -> str:
    values = {units.get(t, "") for t in targets} if units else {""}
    return values.pop() if len(values) == 1 else ""


def _check_split(data: UserData, split: str, seed: int) -> None:
    """The split must give validation and test molecules, and for a classifier both classes
    of every target in each (early stopping, calibration and the test figure need them)."""
    parts = generated_split(split, data.smiles, seed)
    report = data.report
    for part in ("valid", "test"):
        rows = getattr(parts, part)
        if len(rows) < MIN_PART:
            report.errors.append(Problem("too_few_rows", f"the {split} split gives {len(rows)} {part} molecules, fewer than {MIN_PART}: "
                                         + ("many molecules share a scaffold; try the random split, or add molecules" if split == "scaffold" else "add molecules")))
            continue
        if data.spec.task_type != "classification":
            continue
        for k, target in enumerate(data.targets):
            measured = data.labels[rows, k]
            measured = measured[~np.isnan(measured)]
            if len(np.unique(measured)) < 2:
                report.errors.append(Problem("one_class_in_part", f"target {target!r}: the {split} split's {part} part ({len(measured)} labelled molecules) "
                                             f"holds one class only, so it cannot be scored; "
                                             + ("try the random split, or " if split == "scaffold" else "try another seed, or ") + "add molecules of the rarer class"))
