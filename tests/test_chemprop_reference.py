"""bench/chemprop_reference.py hands Chemprop the rows molapp trains on: the canonical split's
parts, and with --targets those tasks only and the rows measured in one of them."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import bench.chemprop_reference as reference


@pytest.fixture()
def three_task_dataset(monkeypatch):
    spec = SimpleNamespace(tasks=["A", "B", "C"], task_type="classification")
    smiles = ["C", "CC", "CCC", "CCCC", "CCCCC", "CCCCCC"]
    nan = np.nan
    labels = np.array([[1, nan, 0], [nan, nan, 1], [0, 1, nan], [nan, 0, nan], [1, nan, nan], [nan, nan, nan]], dtype=np.float32)
    parts = SimpleNamespace(train=[0, 1, 2], valid=[3, 5], test=[4])
    monkeypatch.setattr(reference, "read_labels", lambda name, data_dir: (spec, smiles, labels))
    monkeypatch.setattr(reference, "dataset_split", lambda name, split, smiles, data_dir: (parts, "canonical"))


def test_every_task_keeps_every_row_of_the_split(three_task_dataset):
    table, tasks, task_type = reference.split_table("toy", "scaffold", None)
    assert tasks == ["A", "B", "C"] and task_type == "classification"
    assert table["smiles"].tolist() == ["C", "CC", "CCC", "CCCC", "CCCCCC", "CCCCC"]
    assert table["split"].tolist() == ["train", "train", "train", "val", "val", "test"]


def test_targets_keep_their_columns_and_the_rows_measured_in_them(three_task_dataset):
    table, tasks, _ = reference.split_table("toy", "scaffold", None, ["B", "A"])
    assert tasks == ["B", "A"] and list(table.columns) == ["smiles", "B", "A", "split"]
    assert table["smiles"].tolist() == ["C", "CCC", "CCCC", "CCCCC"]  # CC and CCCCCC have neither A nor B
    assert table["split"].tolist() == ["train", "train", "val", "test"]
    assert table.loc[table["smiles"] == "CCC", ["B", "A"]].to_numpy().tolist() == [[1.0, 0.0]]


def test_an_unknown_target_is_named(three_task_dataset):
    with pytest.raises(ValueError, match="no task 'D'"):
        reference.split_table("toy", "scaffold", None, ["D"])


FAKE_CHEMPROP = """#!{python}
import csv, pathlib, sys
args = sys.argv[1:]
value = lambda flag: args[args.index(flag) + 1]
with open({calls!r}, "a") as log:
    log.write(args[0] + "\\n")
if args[0] == "train":
    out = pathlib.Path(value("--output-dir"))
    (out / "model_0").mkdir(parents=True)
    (out / "config.toml").write_text("")
    (out / "model_0" / "best.pt").write_text("")
else:  # predict: a score that ranks by SMILES length, the fixture's actives being the long ones
    rows = list(csv.DictReader(open(value("--test-path"))))
    with open(value("--preds-path"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["smiles", "A", "B"])
        for row in rows:
            writer.writerow([row["smiles"], len(row["smiles"]) / 10, 1 - len(row["smiles"]) / 10])
"""


def test_a_run_writes_its_results_file_and_a_rerun_after_a_failed_scoring_does_not_retrain(monkeypatch, tmp_path):
    """With a stand-in for Chemprop's CLI: the record has its figures and provenance (the
    Chemprop version among the packages), and a run whose model exists but whose results file
    does not (scoring failed) is scored without training again, its training time from
    Chemprop's files."""
    spec = SimpleNamespace(tasks=["A", "B"], task_type="classification")
    smiles = ["C" * k for k in range(1, 13)]
    labels = np.array([[float(k > 6), float(k <= 6)] for k in range(1, 13)], dtype=np.float32)
    parts = SimpleNamespace(train=[0, 1, 2, 9, 10, 11], valid=[3, 4, 7, 8], test=[2, 5, 6, 9])
    monkeypatch.setattr(reference, "read_labels", lambda name, data_dir: (spec, smiles, labels))
    monkeypatch.setattr(reference, "dataset_split", lambda name, split, smiles, data_dir: (parts, "canonical"))
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "chemprop"
    fake.write_text(FAKE_CHEMPROP.format(python=sys.executable, calls=str(calls)))
    fake.chmod(0o755)
    monkeypatch.setattr(reference, "CHEMPROP", fake)
    monkeypatch.setattr(reference, "chemprop_version", lambda: "2.3.1-test")
    arguments = ["--dataset", "toy", "--split", "scaffold", "--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path / "results")]

    assert reference.main(arguments) == 0
    out = tmp_path / "results" / "chemprop-toy-scaffold-seed0.json"
    record = json.loads(out.read_text())
    assert record["test"] == 1.0 and record["valid"] == 1.0  # length ranks the fixture's classes perfectly
    assert record["provenance"]["packages"]["chemprop"] == "2.3.1-test" and "train_seconds_note" not in record
    assert calls.read_text().split() == ["train", "predict", "predict"]

    out.unlink()  # as if the scoring step had failed after training
    assert reference.main(arguments) == 0
    again = json.loads(out.read_text())
    assert calls.read_text().split() == ["train", "predict", "predict", "predict", "predict"]  # no second training
    assert again["test"] == 1.0 and "config.toml" in again["train_seconds_note"] and again["train_seconds"] >= 0
