"""Scoring on Ray Data: the predict CLI's work spread over the CPUs and GPUs of a cluster.

    import ray
    from molapp.inference.distributed import predict_dataset

    scored = predict_dataset(ray.data.read_parquet("s3://bucket/library/"), "checkpoints/memgnn-tox21-scaffold", ["SR-p53"])

The pipeline is the local engine's, stage by stage, with the same row-level functions:

1. reading (`read_input_files`): one task per input file (CSV, SMILES lines, SDF or Parquet,
   local or on any filesystem pyarrow reads, e.g. s3://) with the local CLI's readers, so a
   file's rows are numbered, blank lines kept and bad records flagged exactly as the local
   engine does, each row tagged with its `source` file;
2. standardization and featurization (`featurize_batch`): CPU tasks running
   `featurize_rows`, the local engine's function;
3. the model (`ScoringActor`): an actor pool, one `Predictor` loaded per actor, one GPU
   per actor where the cluster has GPUs, else CPU actors.

Every input row comes back: a row that fails standardization keeps its reason in `error`
and NaN values, as in the local CLI. The output is unordered (Ray Data streams); `source`
and `row` restore the input order.

Fault tolerance is Ray Data's: a task whose worker dies is re-run, and an actor that dies is
restarted and the call it was running retried (Ray Data's defaults for actor pools,
`max_restarts=-1` and `max_task_retries=-1`: a preempted node or an OOM-killed worker must
not fail a day-long job). Results are written only once a call finishes, so a retried
chunk is written once.

Ray is an optional dependency (`pip install -r requirements-ray.txt`); without it every
entry point raises `RayMissing` with that instruction.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from molapp.chem.io import FIXED_COLUMNS, ID_COLUMN_NAMES, InputRow, guess_column, read_molecules, spreadsheet_safe
from molapp.cli.predict import format_value, value_columns
from molapp.data.featurize import FeaturizedMolecule, featurize_rows
from molapp.inference.calls import TaskCalls
from molapp.inference.predictor import Predictor

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

# The column naming each row's input file: with `row` (its 0-based position in that file)
# it restores the input order.
SOURCE_COLUMN = "source"
# Files a directory input contributes (a glob picks its own).
INPUT_SUFFIXES = (".csv", ".csv.gz", ".smi", ".txt", ".sdf", ".sd", ".parquet")
# Rows per chunk: what a reading task yields at a time, a featurization task featurizes and
# (on CPU) an actor call scores, as the local CLI's --chunk-size.
DEFAULT_CHUNK_SIZE = 1024
# Rows per call of a GPU actor: a GPU scores thousands of molecules in the time a call's
# fixed costs take, so its calls are larger than a CPU's.
GPU_CHUNK_SIZE = 4096
# Bytes per block a reading task emits (~70,000 SMILES rows): Ray Data otherwise gathers a
# task's output up to 128 MB, so a file of a million rows became one block that a single
# featurization task worked through on one CPU while the others idled, and sat whole in
# memory first. Above a featurized chunk's size (7.3 MB per 1,024 molecules), so
# featurization's output blocks are not sliced.
READ_BLOCK_BYTES = 8 * 1024**2
# Rows per output file: large enough that 10^8 rows make thousands of files, not 10^5.
DEFAULT_ROWS_PER_FILE = 100_000
# Memory reserved per model actor (the model, a chunk's graphs and torch's buffers; the
# local CLI peaks at 1.6 GB for two processes). Also what keeps Ray Data from fusing the
# featurization tasks into the actors, which it does for operators with equal resources:
# the actors would then featurize too, and the CPUs meant for featurization idle.
SCORING_ACTOR_MEMORY = 1024**3
# The checkpoint files a Predictor needs: shipped to the actors by value, so the workers
# need no shared filesystem (they are a few MB).
CHECKPOINT_FILES = ("card.json", "weights.safetensors")
INSTALL_HINT = "pip install -r requirements-ray.txt"
# Ray gives a new node's raylet 30 s to register, fixed; a machine busy with other work can
# miss that, and a second start usually makes it.
LOCAL_START_ATTEMPTS = 2


class RayMissing(RuntimeError):
    """Ray is not installed."""


def require_ray():
    """The `ray` module, or `RayMissing` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray without its data extra has no ray.data
    except ImportError:
        raise RayMissing(f"the Ray engine needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


# ---------------------------------------------------------------------------------------
# Starting Ray


def quiet_ray_environment() -> None:
    """Environment for a local Ray that stays on this machine and out of the user's way:
    no usage report sent home, one copy of each worker log line, workers at normal priority.
    Set before ray.init, which hands the environment on to the processes it starts."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    # Ray runs its workers at nice 15 so that its own daemons stay responsive; a local Ray
    # doing the CLI's whole work would then yield the machine to anything else running (the
    # local engine's workers run at normal priority).
    os.environ.setdefault("RAY_worker_niceness", "0")


def start_ray(address: str | None = None, num_cpus: int | None = None, object_store_mb: int | None = None,
              log_to_driver: bool = False) -> None:
    """Connect to the cluster at `address`, or start a local Ray with `num_cpus` CPUs (all
    by default), no dashboard, and an object store of `object_store_mb` (Ray's default: 30 %
    of memory; spills to disk past it). Workers' output is not echoed unless asked: their
    failures come back to the driver as exceptions."""
    ray = require_ray()
    if ray.is_initialized():
        return
    quiet_ray_environment()
    # The workers import molapp from this checkout (a cluster's nodes need it installed).
    here = str(Path(__file__).resolve().parents[2])
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH", "")]))}}
    if address:
        ray.init(address=address, log_to_driver=log_to_driver, configure_logging=False)
        return
    options = dict(num_cpus=num_cpus, include_dashboard=False, log_to_driver=log_to_driver, configure_logging=False,
                   object_store_memory=object_store_mb * 1024**2 if object_store_mb else None, runtime_env=runtime_env)
    for attempt in range(LOCAL_START_ATTEMPTS):
        try:
            ray.init(**options)
            return
        except Exception as exc:  # noqa: BLE001 - Ray raises a bare Exception when its raylet registers late
            ray.shutdown()
            stop_failed_start()
            if "timed out during startup" not in str(exc) or attempt == LOCAL_START_ATTEMPTS - 1:
                raise RuntimeError(f"could not start a local Ray: {exc}") from None


def stop_failed_start() -> None:
    """End the processes a failed local start left (ray.shutdown knows of none: the node
    never registered): those of this driver's sessions, which Ray names
    session_<time>_<driver pid>, their agents included (orphaned when their raylet died)."""
    import psutil

    mark = re.compile(rf"session_[\d_-]+_{os.getpid()}\b")
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.pid != os.getpid() and mark.search(" ".join(process.info["cmdline"] or [])):
            try:
                process.kill()
            except psutil.Error:
                pass


# ---------------------------------------------------------------------------------------
# Input files


def is_uri(path: str) -> bool:
    return "://" in path


def _remote_filesystem(uri: str):
    import pyarrow.fs

    try:
        return pyarrow.fs.FileSystem.from_uri(uri)
    except (pyarrow.ArrowInvalid, OSError) as exc:
        raise ValueError(f"cannot open {uri}: {exc}") from None


def _input_file(name: str) -> bool:
    return name.lower().endswith(INPUT_SUFFIXES)


def list_input_files(pattern: str) -> list[str]:
    """The files an --input names: one file, every input file in a directory (recursively),
    or the files matching a glob (`*`, `?`, `[…]`; `**` crosses directories); local paths
    or URIs (s3://bucket/shards/*.csv). Sorted; a ValueError when nothing matches."""
    if is_uri(pattern):
        files = _list_remote(pattern)
    elif glob.has_magic(pattern):
        files = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    elif os.path.isdir(pattern):
        files = sorted(str(p) for p in Path(pattern).rglob("*") if p.is_file() and _input_file(p.name))
    elif os.path.isfile(pattern):
        files = [pattern]
    else:
        raise ValueError(f"input not found: {pattern}")
    if not files:
        raise ValueError(f"no input files in {pattern} (looked for {', '.join(INPUT_SUFFIXES)})")
    return files


def _list_remote(uri: str) -> list[str]:
    import pyarrow.fs

    scheme = uri.split("://", 1)[0] + "://"
    magic = glob.has_magic(uri)
    # List from the deepest directory the pattern fixes, then match the pattern.
    base = uri[: min(uri.index(c) for c in "*?[" if c in uri)].rsplit("/", 1)[0] if magic else uri
    filesystem, root = _remote_filesystem(base)
    info = filesystem.get_file_info(root)
    if info.type == pyarrow.fs.FileType.File and not magic:
        return [uri]
    if info.type == pyarrow.fs.FileType.NotFound:
        raise ValueError(f"input not found: {uri}")
    found = filesystem.get_file_info(pyarrow.fs.FileSelector(root, recursive=True))
    files = [scheme + f.path for f in found if f.type == pyarrow.fs.FileType.File]
    if magic:
        return sorted(f for f in files if fnmatch.fnmatchcase(f, uri))
    return sorted(f for f in files if _input_file(f))


def _fetched(uri: str, directory: str) -> str:
    """A remote file copied into `directory` (read there by the local readers, which need
    a seekable file; a shard is small next to a worker's disk)."""
    import pyarrow.fs

    filesystem, path = _remote_filesystem(uri)
    local = os.path.join(directory, os.path.basename(path) or "input")
    pyarrow.fs.copy_files(path, local, source_filesystem=filesystem, destination_filesystem=pyarrow.fs.LocalFileSystem())
    return local


def _parquet_rows(source: str, smiles_column: str, id_column: str | None, chunk_size: int) -> Iterator[InputRow]:
    """A Parquet file's rows, streamed a record batch at a time: the SMILES column as text
    (a null is an empty SMILES, flagged as the local engine flags a blank line), IDs from
    `id_column`, else a column named like an ID, else the row number."""
    import pyarrow.parquet as pq

    if is_uri(source):
        filesystem, path = _remote_filesystem(source)
        handle = pq.ParquetFile(filesystem.open_input_file(path))
    else:
        try:
            handle = pq.ParquetFile(source)
        except Exception as exc:  # noqa: BLE001 - pyarrow's many errors for a file that is not Parquet
            raise ValueError(f"{source} is not a Parquet file pyarrow can read ({exc})") from None
    names = handle.schema_arrow.names
    if smiles_column not in names:
        raise ValueError(f"{source}: no column named {smiles_column!r}; columns are {', '.join(names)}")
    id_column = id_column or guess_column(names, ID_COLUMN_NAMES)
    if id_column is not None and id_column not in names:
        raise ValueError(f"{source}: no column named {id_column!r}; columns are {', '.join(names)}")
    row = 0
    for batch in handle.iter_batches(batch_size=chunk_size, columns=[smiles_column] + ([id_column] if id_column else [])):
        smiles = batch.column(smiles_column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column else [None] * len(smiles)
        for smi, ident in zip(smiles, ids):
            text = "" if ident is None else str(ident)
            yield InputRow(row, text or str(row + 1), "" if smi is None else str(smi))
            row += 1


def file_rows(source: str, smiles_column: str = "smiles", id_column: str | None = None,
              chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[InputRow]:
    """The rows of one input file, as the local CLI reads them (`read_molecules`; Parquet
    through `_parquet_rows`). A file that cannot be read raises a ValueError naming it."""
    if source.lower().endswith(".parquet"):
        yield from _parquet_rows(source, smiles_column, id_column, chunk_size)
        return
    if not is_uri(source):
        yield from read_molecules(source, smiles_column, id_column)
        return
    with tempfile.TemporaryDirectory(prefix="molapp-input-") as directory:
        local = _fetched(source, directory)
        try:
            yield from read_molecules(local, smiles_column, id_column)
        except ValueError as exc:  # name the file the user gave, not the copy
            raise ValueError(str(exc).replace(local, source)) from None


def check_input_file(source: str, smiles_column: str = "smiles", id_column: str | None = None) -> None:
    """Read one row of `source`, so a wrong column name or an unreadable file fails on the
    driver at once, before a cluster job starts."""
    next(iter(file_rows(source, smiles_column, id_column, chunk_size=1)), None)


def _rows_table(rows: list[InputRow], source: str) -> dict:
    return {
        SOURCE_COLUMN: [source] * len(rows),
        "row": np.array([r.row for r in rows], dtype=np.int64),
        "id": [r.id for r in rows],
        "smiles": [r.smiles for r in rows],
        "error": [r.error for r in rows],
    }


def read_file_batch(batch: dict, smiles_column: str, id_column: str | None, chunk_size: int) -> Iterator[dict]:
    """In a reading task: every row of the files named in `batch`, `chunk_size` at a time
    (a generator, so a large file streams into the next stage while it is read)."""
    for source in batch[SOURCE_COLUMN]:
        source = str(source)
        chunk: list[InputRow] = []
        for row in file_rows(source, smiles_column, id_column, chunk_size):
            chunk.append(row)
            if len(chunk) == chunk_size:
                yield _rows_table(chunk, source)
                chunk = []
        if chunk:
            yield _rows_table(chunk, source)


def read_input_files(files: Sequence[str], smiles_column: str = "smiles", id_column: str | None = None,
                     chunk_size: int = DEFAULT_CHUNK_SIZE, read_concurrency: int | None = None) -> ray.data.Dataset:
    """A Dataset of the files' rows: `source`, `row`, `id`, `smiles` and `error` (the reason
    a record could not be read, e.g. a broken SDF block; empty otherwise), one reading task
    per file, at most `read_concurrency` at once (default: the cluster's CPUs)."""
    ray = require_ray()
    concurrency = read_concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    files_ds = ray.data.from_items([{SOURCE_COLUMN: f} for f in files], override_num_blocks=len(files))
    # This dataset's own context (shared by the stages built on it, not Ray's global one).
    files_ds.context.target_max_block_size = READ_BLOCK_BYTES
    # A reading task asks for no CPU: it spends a file's lifetime mostly waiting for the
    # stages after it to take its chunks, and parsing is ~1 % of the work; a whole CPU
    # would idle a core per file. Different resources also keep Ray Data from fusing it
    # with featurization, which would featurize a whole file in one task.
    return files_ds.map_batches(read_file_batch, batch_size=1, num_cpus=0, compute=ray.data.TaskPoolStrategy(size=concurrency),
                                fn_kwargs={"smiles_column": smiles_column, "id_column": id_column, "chunk_size": chunk_size})


# ---------------------------------------------------------------------------------------
# Featurization (CPU tasks) and scoring (actors)


def featurize_batch(table: pa.Table, descriptors: str | None) -> pa.Table:
    """In a CPU task: the local engine's standardization and featurization of a chunk
    (`featurize_rows`). Adds `canonical_smiles`, `changes` and `graph` (the featurized
    molecule, pickled: it travels to an actor in Ray's object store; empty for a failed row)
    and sets `error` to the row's reason, empty for a usable molecule. Other columns pass
    through."""
    import pyarrow as pa

    smiles = table.column("smiles").to_pylist()
    given = table.column("error").to_pylist() if "error" in table.column_names else [""] * len(smiles)
    rows = [InputRow(i, "", "" if s is None else s, e or "") for i, (s, e) in enumerate(zip(smiles, given))]
    molecules = featurize_rows(rows, descriptors)
    if "error" in table.column_names:
        table = table.drop_columns(["error"])
    added = {
        "canonical_smiles": pa.array([m.canonical_smiles for m in molecules], pa.string()),
        "error": pa.array([m.error for m in molecules], pa.string()),
        "changes": pa.array([m.changes_text for m in molecules], pa.string()),
        "graph": pa.array([pickle.dumps(m.graph, protocol=5) if m.ok else b"" for m in molecules], pa.binary()),
    }
    for name, column in added.items():
        table = table.append_column(name, column)
    return table


class ScoringActor:
    """One model per actor: the checkpoint's files are written to a private directory and
    loaded with `Predictor.load` once, then every call scores a featurized chunk."""

    def __init__(self, checkpoint_files: list, device: str, tasks: list[str], batch_size: int | None,
                 calls: TaskCalls | None, threads: int = 1) -> None:
        import ray
        import torch

        if device == "cpu":
            torch.set_num_threads(max(1, threads))
        directory = tempfile.mkdtemp(prefix="molapp-checkpoint-")
        try:
            for name, content in ray.get(checkpoint_files[0]).items():
                Path(directory, name).write_bytes(content)
            self.predictor = Predictor.load(directory, device)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        self.tasks, self.batch_size, self.calls = tasks, batch_size, calls

    def __call__(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        errors = table.column("error").to_pylist()
        graphs = table.column("graph").to_pylist()
        molecules = [FeaturizedMolecule(canonical, pickle.loads(graph) if graph else None, [], error)
                     for canonical, graph, error in zip(table.column("canonical_smiles").to_pylist(), graphs, errors)]
        prediction = self.predictor.predict_molecules(molecules, self.tasks, self.batch_size)
        values, spread = prediction.values, prediction.spread
        blocks = [values] + ([spread] if spread is not None else [])
        if self.calls is not None:
            blocks.append(self.calls.percentile(values, self.tasks))
        table = table.drop_columns(["graph"])
        status = pa.array(["error" if e else "ok" for e in errors], pa.string())
        table = table.append_column("status", status)
        names = value_columns(list(self.tasks), spread is not None, self.calls is not None)
        for name, column in zip(names, np.hstack(blocks).T):
            column = np.ascontiguousarray(column, dtype=np.float32)
            # No value is a null (Parquet's and Arrow's missing value; the local CLI's empty cell), not a NaN number.
            table = table.append_column(name, pa.array(column, mask=np.isnan(column)))
        return table.select(output_order(table.column_names, names))


def output_order(columns: Sequence[str], values: Sequence[str]) -> list[str]:
    """`source`, the local CLI's fixed columns and value columns, in its order (those
    present), then any other columns the input carried."""
    ordered = [c for c in [SOURCE_COLUMN, *FIXED_COLUMNS] if c in columns] + list(values)
    return ordered + [c for c in columns if c not in ordered]


def checkpoint_files(checkpoint: str | Path) -> dict[str, bytes]:
    directory = Path(checkpoint)
    return {name: (directory / name).read_bytes() for name in CHECKPOINT_FILES if (directory / name).exists()}


def scoring_resources(device: str = "auto") -> tuple[str, int]:
    """Where the actors run: ("cuda", GPUs in the cluster) when it has GPUs (device auto or
    cuda), else ("cpu", CPUs in the cluster). Asking for cuda on a cluster without GPUs is
    an error."""
    ray = require_ray()
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if device.startswith("cuda") and not gpus:
        raise RuntimeError("--device cuda was asked for, but the Ray cluster has no GPUs")
    if gpus and device != "cpu":
        return "cuda", gpus
    return "cpu", max(1, int(resources.get("CPU", 1)))


def predict_dataset(
    ds: ray.data.Dataset,
    checkpoint: str | Path,
    tasks: Sequence[str] | None = None,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    chunk_size: int | None = None,
    actors: int | None = None,
    percentiles: bool = False,
    scorer: type[ScoringActor] = ScoringActor,
) -> ray.data.Dataset:
    """`ds` (a `smiles` column; `id`, `row`, `source` and any other columns pass through; an
    `error` column, if any, flags rows a reader could not read) scored by `checkpoint` for
    `tasks` (default: all): every row back with `canonical_smiles`, `status`, `error`,
    `changes` and one float column per task (an ensemble adds "<task> (members' SD)";
    `percentiles` adds "<task> (approved-drug percentile)"), NaN where `status` is "error".

    Standardization and featurization run in CPU tasks of `chunk_size` rows; the model in a
    pool of `actors` actors (default: one per GPU of the cluster, else one per two CPUs, the
    other CPUs featurizing), each a `scorer` with its own `Predictor`. `batch_size` is the
    model's batch, as the local CLI's --batch-size. Lazy, as Ray Data is: nothing runs
    until the result is written or iterated."""
    ray = require_ray()
    start_ray()  # a local Ray that can import molapp, unless one runs (or ray.data started one)
    predictor = Predictor.load(checkpoint, "cpu")  # read once here: a bad checkpoint or task name fails now
    chosen = list(tasks) if tasks else predictor.tasks
    predictor.task_ids(chosen)
    calls = TaskCalls.load(Path(checkpoint)) if percentiles else None
    if percentiles and calls is None:
        raise ValueError(f"{checkpoint} has no approved-drug reference: run python -m molapp.cli.calls --checkpoint {checkpoint}")
    from ray.data import ActorPoolStrategy

    actor_device, available = scoring_resources(device)
    on_gpu = actor_device == "cuda"
    pool_size = actors or (available if on_gpu else max(1, available // 2))
    featurize_rows_per_task = chunk_size or DEFAULT_CHUNK_SIZE
    # A featurization task takes one block, however large: blocks of a chunk's rows spread
    # the work over every CPU whatever blocks the input came in (a file, a Parquet row group).
    chunked = ds.repartition(target_num_rows_per_block=featurize_rows_per_task)
    featurized = chunked.map_batches(featurize_batch, batch_size=featurize_rows_per_task, batch_format="pyarrow", num_cpus=1,
                                fn_kwargs={"descriptors": predictor.descriptors})
    return featurized.map_batches(
        scorer,
        batch_size=chunk_size or (GPU_CHUNK_SIZE if on_gpu else DEFAULT_CHUNK_SIZE),
        batch_format="pyarrow",
        compute=ActorPoolStrategy(size=pool_size),
        num_gpus=1 if on_gpu else 0,
        num_cpus=1,
        memory=SCORING_ACTOR_MEMORY,
        # The checkpoint's files travel as a reference the driver holds, nested in a list so
        # Ray passes the reference, not the bytes: an actor restarted mid-run fetches them
        # again, which bytes given as a constructor argument would not survive (Ray warns).
        fn_constructor_kwargs={"checkpoint_files": [ray.put(checkpoint_files(checkpoint))], "device": actor_device, "tasks": chosen,
                               "batch_size": batch_size, "calls": calls},
    )


def csv_batch(table: pa.Table) -> pa.Table:
    """Cells as the local CLI writes them: text a spreadsheet would run as a formula gets a
    leading ' (`spreadsheet_safe`), values as `format_value` (6 significant digits, empty for
    NaN). Vectorized over a chunk; `row` stays a number."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_floating(column.type):
            columns[name] = pa.array([format_value(v) for v in column.to_numpy(zero_copy_only=False)], pa.string())
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns[name] = pa.array([spreadsheet_safe(v) for v in column.to_pylist()], pa.string())
        else:
            columns[name] = column
    return pa.table(columns)

