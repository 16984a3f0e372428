"""`python -m molapp.predict --engine ray`: score files of molecules on Ray Data, on this
machine or a cluster.

    python -m molapp.predict --engine ray --checkpoint checkpoints/memgnn-tox21-scaffold \\
        --input 'shards/*.csv' --output scored/ [--format parquet|csv] [--address HOST:PORT]

Input: one file, a directory (every .csv/.smi/.txt/.sdf/.parquet file in it) or a glob,
local or on any filesystem pyarrow reads (s3://bucket/shards/*.parquet). Output: a new or
empty directory of Parquet (default) or CSV shards with the local CLI's columns and status
semantics — every input row, flagged rows kept with their reason — plus `source`, the
input file, first: sort by (source, row) for the input order. Without --address a local Ray
starts with --num-cpus CPUs. See molapp.inference.distributed for the pipeline.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from molapp.cli.predict import positive_int
from molapp.inference import distributed
from molapp.inference.distributed import (DEFAULT_CHUNK_SIZE, DEFAULT_ROWS_PER_FILE, SOURCE_COLUMN, RayMissing, check_input_file,
                                          csv_batch, is_uri, list_input_files, predict_dataset, read_input_files, require_ray,
                                          scoring_resources, start_ray)
from molapp.inference.predictor import Predictor


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m molapp.predict --engine ray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("local", "ray"), default="ray", help="ray: this engine")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (e.g. checkpoints/memgnn-tox21-scaffold)")
    parser.add_argument("--input", required=True, help="a file, a directory or a glob ('shards/*.csv'; s3://… too)")
    parser.add_argument("--output", required=True, help="directory for the output shards (new or empty)")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="output shards' format (default parquet)")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--device", default="auto", help="auto (GPU actors where the cluster has GPUs), cpu or cuda")
    parser.add_argument("--batch-size", type=positive_int, default=None, help="molecules per model batch (default: as the local engine)")
    parser.add_argument("--smiles-column", default="smiles", help="CSV/Parquet input: SMILES column")
    parser.add_argument("--id-column", default=None, help="CSV/Parquet input: ID column (default: one named id or name, any case); SDF: ID property")
    parser.add_argument("--chunk-size", type=positive_int, default=None,
                        help=f"rows read, featurized and scored at a time (default {DEFAULT_CHUNK_SIZE}; "
                             f"{distributed.GPU_CHUNK_SIZE} per GPU actor call)")
    parser.add_argument("--actors", type=positive_int, default=None,
                        help="model actors (default: one per GPU; without GPUs one per two CPUs, the rest featurize)")
    parser.add_argument("--rows-per-file", type=positive_int, default=DEFAULT_ROWS_PER_FILE, help="rows per output shard, at least")
    parser.add_argument("--percentiles", action="store_true", help="add '<task> (approved-drug percentile)' columns")
    parser.add_argument("--address", default=None, help="a running Ray cluster (ray://… or HOST:PORT); default: start a local Ray")
    parser.add_argument("--num-cpus", type=positive_int, default=None, help="local Ray only: CPUs to use (default: all)")
    parser.add_argument("--object-store-mb", type=positive_int, default=None, help="local Ray only: object store size (default: Ray's)")
    return parser


def check_output_directory(output: str) -> None:
    """The output must be a new or empty directory: shards of an earlier run left beside
    these would read as one result with duplicated rows."""
    if is_uri(output):
        import pyarrow.fs

        filesystem, path = distributed._remote_filesystem(output)
        info = filesystem.get_file_info(path)
        if info.type == pyarrow.fs.FileType.File:
            raise ValueError(f"cannot write {output}: it is a file; --output names a directory for the shards")
        if info.type == pyarrow.fs.FileType.Directory and filesystem.get_file_info(pyarrow.fs.FileSelector(path)):
            raise ValueError(f"cannot write {output}: it is not empty (shards of another run would mix with these)")
        return
    path = Path(output)
    if path.is_file():
        raise ValueError(f"cannot write {output}: it is a file; --output names a directory for the shards")
    if path.is_dir() and any(path.iterdir()):
        raise ValueError(f"cannot write {output}: it is not empty (shards of another run would mix with these)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from None


class NoTracebacks(logging.Filter):
    """Keeps tracebacks off the console: Ray Data logs a failed task's remote traceback
    there, and this CLI says what failed in one `error:` line instead (Ray's own log files,
    under /tmp/ray/session_latest/logs, keep the traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.exc_info and "Traceback" not in record.getMessage()


def quiet_console() -> None:
    """Ray Data's console handler without tracebacks; and a logging handler that fails (a
    closed stream) stays silent rather than printing its own traceback."""
    logging.raiseExceptions = False
    for handler in logging.getLogger("ray.data").handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.addFilter(NoTracebacks())


def root_message(exc: BaseException) -> str:
    """The innermost cause's message: Ray wraps a task's exception (RayTaskError, Ray Data's
    UserCodeException) around the one the user needs to read, with a remote traceback."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    text = str(exc).strip()
    return text.splitlines()[-1] if "Traceback" in text else text or type(exc).__name__


def written_statuses(output: str, output_format: str) -> dict[str, int]:
    """Rows written, by status, read back from the shards' `status` column on this machine
    (Ray's writers count nothing, and a Ray aggregation costs more than the scan: the
    column is a small part of a Parquet shard)."""
    import pyarrow.compute as pc
    import pyarrow.dataset

    filesystem, path = distributed._remote_filesystem(output) if is_uri(output) else (None, output)
    shards = pyarrow.dataset.dataset(path, filesystem=filesystem, format=output_format)
    counts = {"ok": 0, "error": 0}
    for batch in shards.scanner(columns=["status"]).to_batches():
        for entry in pc.value_counts(batch.column("status")).to_pylist():
            counts[entry["values"]] = counts.get(entry["values"], 0) + entry["counts"]
    return counts


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    started_here = False
    try:
        # Everything that can be checked on this machine is, before Ray is even imported (so a
        # bad argument is named whether or not Ray is installed) or started (it takes seconds
        # to tens of seconds on a busy machine).
        predictor = Predictor.load(args.checkpoint, "cpu")
        tasks = tasks or predictor.tasks
        predictor.task_ids(tasks)
        files = list_input_files(args.input)
        check_input_file(files[0], args.smiles_column, args.id_column)
        check_output_directory(args.output)
        ray = require_ray()
        quiet_console()
        started_here = not ray.is_initialized() and not args.address
        start_ray(args.address, args.num_cpus, args.object_store_mb)
        device, available = scoring_resources(args.device)
        rows = read_input_files(files, args.smiles_column, args.id_column, args.chunk_size or DEFAULT_CHUNK_SIZE)
        scored = predict_dataset(rows, args.checkpoint, tasks, device=args.device, batch_size=args.batch_size,
                                 chunk_size=args.chunk_size, actors=args.actors, percentiles=args.percentiles)
    except (RayMissing, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        _shutdown(started_here)
        return 2

    where = f"{available} GPU(s)" if device == "cuda" else f"{available} CPU(s)"
    print(f"molapp.predict (ray): {args.checkpoint} on {where} ({args.address or 'local Ray'}), {len(files)} file(s), "
          f"tasks: {', '.join(tasks)}", file=sys.stderr)
    start = time.time()
    try:
        if args.format == "csv":
            scored.map_batches(csv_batch, batch_format="pyarrow").write_csv(args.output, min_rows_per_file=args.rows_per_file)
        else:
            scored.write_parquet(args.output, min_rows_per_file=args.rows_per_file)
        elapsed = time.time() - start
        counts = written_statuses(args.output, args.format)
    except Exception as exc:  # noqa: BLE001 - whatever failed on a worker reaches the user as one line, not a remote traceback
        print(f"error: {root_message(exc)} (shards written to {args.output} before it are incomplete)", file=sys.stderr)
        _shutdown(started_here)
        return 2
    _shutdown(started_here)
    total = counts["ok"] + counts["error"]
    print(f"wrote {args.output}: {total} rows ({counts['ok']} ok, {counts['error']} flagged) in {elapsed:.1f}s "
          f"({total / max(elapsed, 1e-9):.0f} molecules/s) on {where}; sort by {SOURCE_COLUMN}, row for the input order",
          file=sys.stderr)
    return 0


def _shutdown(started_here: bool) -> None:
    """Stop the local Ray this command started (a cluster it joined keeps running)."""
    if started_here:
        import ray

        ray.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
