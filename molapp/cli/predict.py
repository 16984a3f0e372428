"""`python -m molapp.predict`: score a file of molecules with a checkpoint.

    python -m molapp.predict --checkpoint checkpoints/graphmem-tox21-scaffold \\
        --input molecules.smi --output predictions.csv [--tasks SR-p53,NR-AR] \\
        [--device auto|cpu|cuda] [--batch-size N]

Input: .smi/.txt (SMILES, optional ID after whitespace), .csv (--smiles-column; IDs from
--id-column, else a column named id or name, any case, as the app picks it) or .sdf. Output CSV: one row per input row, in input order, with columns
row, id, smiles, canonical_smiles, status, error, changes (what standardization stripped or
neutralized; empty when nothing changed), then one column per task (an ensemble adds
one "<task> (members' SD)" column per task: how far its members disagree; `--percentiles` adds
"<task> (approved-drug percentile)"); text cells a
spreadsheet would run as a formula get a leading '. The file is
streamed in chunks, so memory stays bounded for millions of rows. On CPU, worker processes
(one per core, one thread each) featurize and score whole chunks; on a GPU they featurize
while the GPU scores.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TextIO

import numpy as np
import torch
from tqdm import tqdm

from molapp.chem.io import FIXED_COLUMNS, InputRow, read_molecules, spreadsheet_safe
from molapp.data.featurize import FeaturizedMolecule, featurize_rows
from molapp.inference.calls import TaskCalls
from molapp.inference.parallel import prepared_and_scored
from molapp.inference.predictor import Prediction, Predictor, device_name, spread_column

# A chunk's result as it travels between processes: canonical SMILES, errors, changes,
# values [n, Q] (an ensemble's: [n, 2Q], its members' standard deviations after the values).
Scored = tuple[list[str], list[str], list[str], np.ndarray]


def _scored(molecules: list[FeaturizedMolecule], predicted: Prediction) -> Scored:
    values, spread = predicted.values, predicted.spread
    return ([m.canonical_smiles for m in molecules], [m.error for m in molecules], [m.changes_text for m in molecules],
            values if spread is None else np.hstack([values, spread]))


def _score_molecules(molecules: list[FeaturizedMolecule], context: dict) -> Scored:
    """Featurized molecules scored with `context`'s "predictor", "tasks" and "batch_size"."""
    return _scored(molecules, context["predictor"].predict_molecules(molecules, context["tasks"], context["batch_size"]))


def _chunks(rows: Iterator[InputRow], size: int) -> Iterator[list[InputRow]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def scored_chunks(predictor: Predictor, rows: Iterator[InputRow], tasks: list[str], chunk_size: int,
                  workers: int, batch_size: int | None) -> Iterator[tuple[list[InputRow], Scored]]:
    """Scored chunks in input order (`prepared_and_scored`: on CPU with workers, each worker
    process featurizes and scores whole chunks; on a GPU the workers only featurize)."""
    context = {"predictor": predictor, "tasks": tasks, "batch_size": batch_size}
    yield from prepared_and_scored(_chunks(rows, chunk_size), partial(featurize_rows, descriptors=predictor.descriptors), _score_molecules,
                                   context, workers, predictor.device.type == "cpu")


def percentile_column(task: str) -> str:
    return f"{task} (approved-drug percentile)"


def value_columns(tasks: list[str], ensemble: bool, percentiles: bool) -> list[str]:
    """The columns after FIXED_COLUMNS, in order (both engines write these)."""
    return [*tasks, *([spread_column(t) for t in tasks] if ensemble else []), *([percentile_column(t) for t in tasks] if percentiles else [])]


def format_value(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6g}"


def positive_int(text: str) -> int:
    """argparse type for sizes: 0 would read nothing and write an empty file as if all went well."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


def open_output(path: str) -> TextIO:
    try:
        return open(path, "w", newline="", encoding="utf-8")
    except OSError as exc:  # no such directory, a directory, no permission
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None


def chosen_engine(argv: list[str] | None) -> str:
    """--engine, read before the rest: each engine has its own options."""
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument("--engine", choices=("local", "ray"), default="local")
    return engine.parse_known_args(argv)[0].engine


def main(argv: list[str] | None = None) -> int:
    if chosen_engine(argv) == "ray":
        from molapp.cli.predict_ray import main as ray_main  # Ray is optional: imported only when asked for

        return ray_main(argv)
    parser = argparse.ArgumentParser(prog="python -m molapp.predict", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local (this machine's cores) or ray (Ray Data, a cluster: --engine ray --help for its options)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (e.g. checkpoints/graphmem-tox21-scaffold)")
    parser.add_argument("--input", required=True, help=".smi/.txt, .csv or .sdf file")
    parser.add_argument("--output", required=True, help="CSV to write")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="molecules per model batch (default: per model on CPU, 16 for GraphMem on 12 tasks; 512 on a GPU)")
    parser.add_argument("--smiles-column", default="smiles", help="CSV input: SMILES column")
    parser.add_argument("--id-column", default=None, help="CSV input: ID column (default: one named id or name, any case); SDF input: ID property")
    parser.add_argument("--chunk-size", type=positive_int, default=1024, help="molecules read and featurized at a time")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (CPU: each featurizes and scores; GPU: they featurize; 0: none)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--percentiles", action="store_true",
                        help="add '<task> (approved-drug percentile)' columns: percent of FDA-approved drugs (ClinTox) the model predicts lower")
    args = parser.parse_args(argv)

    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        predictor = Predictor.load(args.checkpoint, args.device)
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] or predictor.tasks
        predictor.task_ids(tasks)  # unknown task names fail here, before any work
        calls = TaskCalls.load(Path(args.checkpoint)) if args.percentiles else None
        if args.percentiles and calls is None:
            raise ValueError(f"{args.checkpoint} has no approved-drug reference: run python -m molapp.cli.calls --checkpoint {args.checkpoint}")
        rows = read_molecules(args.input, args.smiles_column, args.id_column)
        handle = open_output(args.output)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"molapp.predict: {args.checkpoint} on {device_name(predictor.device)}, tasks: {', '.join(tasks)}", file=sys.stderr)
    start = time.time()
    counts = {"ok": 0, "error": 0}
    with handle, tqdm(unit=" mol", desc="predict", mininterval=1) as progress:
        writer = csv.writer(handle)
        writer.writerow(FIXED_COLUMNS + value_columns(tasks, predictor.is_ensemble, calls is not None))
        try:
            chunks = scored_chunks(predictor, rows, tasks, args.chunk_size, args.workers, args.batch_size)
            for chunk, (canonical, errors, changes, values) in chunks:
                if calls is not None:
                    values = np.hstack([values, calls.percentile(values[:, : len(tasks)], tasks)])
                for row, smiles, error, changed, value in zip(chunk, canonical, errors, changes, values):
                    status = "error" if error else "ok"
                    counts[status] += 1
                    text = map(spreadsheet_safe, [row.id, row.smiles, smiles, status, error, changed])
                    writer.writerow([row.row, *text, *map(format_value, value)])
                progress.update(len(chunk))
        except ValueError as exc:  # the input turned out unreadable part-way (e.g. bytes that are not UTF-8)
            failure = exc
        else:
            failure = None
    if failure is not None:
        print(f"error: {failure} ({counts['ok'] + counts['error']} rows written to {args.output} before it)", file=sys.stderr)
        return 2
    elapsed = time.time() - start
    total = counts["ok"] + counts["error"]
    print(
        f"wrote {args.output}: {total} rows ({counts['ok']} ok, {counts['error']} flagged) in {elapsed:.1f}s "
        f"({total / max(elapsed, 1e-9):.0f} molecules/s) on {device_name(predictor.device)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
