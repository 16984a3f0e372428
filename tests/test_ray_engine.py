"""The Ray engine (`python -m molapp.predict --engine ray`, `predict_dataset`) on a local Ray
with 2 CPUs: every input row back, once, with the local engine's values; a model actor
killed mid-run costs nothing; CSV shards written as the local CLI writes; and the errors a
user meets are one line. One Ray session serves the whole module (starting Ray takes
seconds to tens of seconds)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from molapp.cli import predict as predict_cli
from molapp.cli.predict import scored_chunks
from molapp.inference import distributed
from molapp.inference.distributed import ScoringActor, file_rows, list_input_files, predict_dataset, read_input_files
from molapp.inference.predictor import Predictor

from .conftest import CHECKPOINTS, FIXTURES

CHECKPOINT = CHECKPOINTS / "memgnn-bbbp-scaffold"  # one task, 1 MB: the model is not what is tested
TASK = "p_np"
# Inputs no model can score, mixed into the fixture: each must come back flagged, in place.
BAD_SMILES = ["C1CC", "", "CC(C)(C)(C)(C)C", "c1cccc1", "[Na+].[Cl-]", "C[U]", "C" * 2001, "CCé", "C C", "[65548C]"]


def good_smiles() -> list[str]:
    """The shipped fixtures' molecules (tiny set, the ladder's BBBP, ClinTox and ESOL rows)."""
    smiles = [line.split()[0] for line in (FIXTURES / "tiny_molecules.smi").read_text().splitlines() if line.strip()]
    for name in ("bbbp", "clintox", "esol"):
        smiles += pd.read_csv(FIXTURES / "ladder" / f"{name}.csv")["smiles"].tolist()
    return smiles


def library(n: int) -> list[str]:
    """n SMILES: the fixtures' molecules cycled, a bad one every 23rd row."""
    good, bad = good_smiles(), BAD_SMILES
    return [bad[(i // 23) % len(bad)] if i % 23 == 11 else good[i % len(good)] for i in range(n)]


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """3,000 rows in three files of the three kinds: a CSV (IDs in `name`; blank lines),
    a SMILES file (ID after the SMILES; blank lines) and a Parquet file (null SMILES)."""
    directory = tmp_path_factory.mktemp("shards") / "in"
    directory.mkdir()
    smiles = library(3000)
    csv_part, smi_part, parquet_part = smiles[:1200], smiles[1200:2400], smiles[2400:]
    lines = ["name,smiles"] + [("" if i % 97 == 50 else f"mol-a{i},{s}") for i, s in enumerate(csv_part)]
    (directory / "part-a.csv").write_text("\n".join(lines) + "\n")
    unsafe_ids = ['=HYPERLINK("http://evil.example","x")', "+1+2", "@SUM(A1)", "-2+3"]  # a spreadsheet would run these
    (directory / "part-b.smi").write_text("\n".join("" if i % 89 == 40 else f"{s} {unsafe_ids[i] if i < 4 else f'mol-b{i}'}"
                                                    for i, s in enumerate(smi_part)) + "\n")
    table = pa.table({"id": [f"mol-c{i}" for i in range(len(parquet_part))],
                      "smiles": [None if i % 71 == 3 else s for i, s in enumerate(parquet_part)]})
    pq.write_table(table, directory / "part-c.parquet")
    return directory


@pytest.fixture(scope="module")
def local_engine(shards) -> pd.DataFrame:
    """The local engine's results for every shard (its readers, `scored_chunks`), unrounded."""
    predictor = Predictor.load(CHECKPOINT, "cpu")
    frames = []
    for path in sorted(shards.iterdir()):
        rows = list(file_rows(str(path)))
        canonical, errors, changes, values = [], [], [], []
        for _, (c, e, ch, v) in scored_chunks(predictor, iter(rows), [TASK], 1024, 0, None):
            canonical += c
            errors += e
            changes += ch
            values.append(v[:, 0])
        frames.append(pd.DataFrame({"source": str(path), "row": [r.row for r in rows], "id": [r.id for r in rows],
                                    "smiles": [r.smiles for r in rows], "canonical_smiles": canonical,
                                    "status": ["error" if e else "ok" for e in errors], "error": errors, "changes": changes,
                                    TASK: np.concatenate(values)}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module: 2 CPUs, a 200 MB object store, no dashboard, quiet;
    shut down at the end, so no raylet or GCS process outlives the tests."""
    import ray

    distributed.start_ray(num_cpus=2, object_store_mb=200)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # Ray Data sets up its logging on first use, holding on to the sys.stderr of that moment:
    # here, not inside a test whose captured stderr closes when it ends.
    ray.data.range(1).materialize()
    yield ray
    ray.shutdown()


def assert_matches_local_engine(scored: pd.DataFrame, local: pd.DataFrame) -> None:
    """Every input row exactly once, the same text columns and values within 1e-6."""
    assert not scored.duplicated(["source", "row"]).any(), "a row came back twice"
    scored = scored.sort_values(["source", "row"]).reset_index(drop=True)
    assert len(scored) == len(local) == 3000
    text = ["source", "row", "id", "smiles", "canonical_smiles", "status", "error", "changes"]
    pd.testing.assert_frame_equal(scored[text], local[text], check_dtype=False)
    assert (local.status == "error").sum() >= len(BAD_SMILES) + 10  # the bad rows, blank lines and null SMILES
    np.testing.assert_allclose(scored[TASK].to_numpy(np.float64), local[TASK].to_numpy(np.float64), atol=1e-6, rtol=0)
    assert scored.loc[scored.status == "error", TASK].isna().all() and scored.loc[scored.status == "ok", TASK].notna().all()


def test_without_ray_the_engine_says_how_to_install_it(shards, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    code = predict_cli.main(["--engine", "ray", "--checkpoint", str(CHECKPOINT), "--input", str(shards), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == ["error: the Ray engine needs Ray, which is not installed here: pip install -r requirements-ray.txt"]


def test_inputs_are_one_file_a_directory_or_a_glob(shards):
    everything = [str(shards / n) for n in ("part-a.csv", "part-b.smi", "part-c.parquet")]
    assert list_input_files(str(shards)) == everything
    assert list_input_files(str(shards / "part-*.*")) == everything
    assert list_input_files(str(shards / "*.csv")) == [everything[0]]
    assert list_input_files(everything[1]) == [everything[1]]
    with pytest.raises(ValueError, match="no input files"):
        list_input_files(str(shards / "*.sdf"))
    with pytest.raises(ValueError, match="input not found"):
        list_input_files(str(shards / "missing.csv"))


@pytest.mark.parametrize("problem, arguments", [
    ("is not empty", ["--output", "{existing}"]),
    ("no column named 'structure'", ["--smiles-column", "structure"]),
    ("unknown task(s) nope", ["--tasks", "nope"]),
])
def test_a_bad_argument_is_one_line_before_ray_starts(shards, tmp_path, capsys, problem, arguments):
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "old.parquet").write_text("x")
    given = {"--output": str(tmp_path / "new")} | dict(zip(arguments[::2], (a.format(existing=existing) for a in arguments[1::2])))
    argv = ["--engine", "ray", "--checkpoint", str(CHECKPOINT), "--input", str(shards / "part-a.csv")]
    code = predict_cli.main(argv + [x for pair in given.items() for x in pair])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1 and problem in err


@pytest.mark.slow
def test_every_row_comes_back_as_the_local_cli_writes_it(ray_session, shards, local_engine, tmp_path, capsys):
    """The CLI on a directory of three kinds of file, CSV shards: for the files the local CLI
    reads, cell for cell what it writes (IDs a spreadsheet would run quoted, empty cells where
    no value), values written to 6 significant digits as it writes them; the Parquet file's rows
    too. A value may differ in its 6th digit: Ray's batches are not the local engine's, and on
    some CPUs float32 kernels round differently by batch."""
    output = tmp_path / "scored"
    code = predict_cli.main(["--engine", "ray", "--checkpoint", str(CHECKPOINT), "--input", str(shards), "--output", str(output),
                             "--format", "csv"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {output}: 3000 rows ({(local_engine.status == 'ok').sum()} ok" in err
    scored = pd.concat([pd.read_csv(s, dtype=str, keep_default_na=False) for s in sorted(output.iterdir())])
    assert list(scored.columns) == ["source", *predict_cli.FIXED_COLUMNS, TASK]
    assert not scored.duplicated(["source", "row"]).any() and len(scored) == 3000
    for name in ("part-a.csv", "part-b.smi"):
        local_csv = tmp_path / f"{name}.local.csv"
        assert predict_cli.main(["--checkpoint", str(CHECKPOINT), "--input", str(shards / name), "--output", str(local_csv),
                                 "--workers", "0"]) == 0
        written = scored[scored.source == str(shards / name)].drop(columns="source")
        written = written.sort_values("row", key=lambda r: r.astype(int)).reset_index(drop=True)
        local = pd.read_csv(local_csv, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(written.drop(columns=TASK), local.drop(columns=TASK))
        assert ((written[TASK] == "") == (local[TASK] == "")).all()
        values = written[TASK][written[TASK] != ""]
        assert (values == values.map(lambda v: f"{float(v):.6g}")).all()
        np.testing.assert_allclose(values.astype(float), local[TASK][local[TASK] != ""].astype(float), rtol=1e-5, atol=0)
    assert written["id"].tolist()[:4] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'+1+2", "'@SUM(A1)", "'-2+3"]
    assert len(scored[scored.source == str(shards / "part-c.parquet")]) == 600
    capsys.readouterr()


def dies_once(marker: Path) -> type[ScoringActor]:
    """A scoring actor that kills its own process in the middle of its third call, once
    (`marker` remembers it across the restart). Defined in a function, so Ray ships the
    class by value to its workers."""

    class ScorerThatDiesOnce(ScoringActor):
        calls_made = 0

        def __call__(self, table):
            self.calls_made += 1
            if self.calls_made == 3 and not marker.exists():
                marker.touch()
                os._exit(1)  # as a kill -9 or the OOM killer would: no cleanup, no exception
            return super().__call__(table)

    return ScorerThatDiesOnce


@pytest.mark.slow
def test_a_killed_actor_loses_and_duplicates_nothing(ray_session, shards, local_engine, tmp_path):
    """Through the Python API, Parquet shards: every row once, the local engine's values to 1e-6."""
    marker = tmp_path / "died"
    rows = read_input_files(list_input_files(str(shards)), chunk_size=256)
    predict_dataset(rows, CHECKPOINT, [TASK], chunk_size=256, scorer=dies_once(marker)).write_parquet(str(tmp_path / "scored"))
    assert marker.exists(), "the actor never died: the test tested nothing"
    scored = pd.read_parquet(tmp_path / "scored")
    assert list(scored.columns) == ["source", *predict_cli.FIXED_COLUMNS, TASK]
    assert_matches_local_engine(scored, local_engine)


@pytest.mark.slow
def test_a_file_that_fails_on_a_worker_is_one_line(ray_session, shards, tmp_path, capsys):
    directory = tmp_path / "mixed"
    directory.mkdir()
    (directory / "a-good.smi").write_text("CCO ethanol\n")
    (directory / "b-latin1.smi").write_bytes("CCO ethanol\nCCN amine\nOCC caf\xe9\n".encode("latin-1"))
    code = predict_cli.main(["--engine", "ray", "--checkpoint", str(CHECKPOINT), "--input", str(directory),
                             "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and "Traceback" not in err and len(lines) == 1
    assert "b-latin1.smi: line 3 is not UTF-8" in lines[0]


@pytest.mark.slow
def test_one_large_file_is_read_in_blocks_and_featurized_by_many_tasks(ray_session, shards, monkeypatch):
    """A single file must not become a single block: Ray Data gathers a task's output up to
    its target block size, and one featurization task takes one block, so a million-row file
    was featurized on one CPU. Here the 1,200-row CSV, with reading blocks of 16 KB (~150
    rows) and chunks of 256 rows."""
    monkeypatch.setattr(distributed, "READ_BLOCK_BYTES", 16 * 1024, raising=False)
    source = [str(shards / "part-a.csv")]
    read_blocks = [bundle.num_rows() for bundle in read_input_files(source, chunk_size=256).iter_internal_ref_bundles()]
    assert len(read_blocks) > 1 and sum(read_blocks) == 1200  # streamed, not held whole
    scored = predict_dataset(read_input_files(source, chunk_size=256), CHECKPOINT, [TASK], chunk_size=256).materialize()
    featurization = re.search(r"MapBatches\(featurize_batch\): (\d+) tasks executed", scored.stats())
    assert featurization is not None, scored.stats()
    assert int(featurization.group(1)) >= 1200 // 256  # a task per chunk, not one for the file
    assert scored.count() == 1200
