"""bench/chemprop_reference.py hands Chemprop the rows molapp trains on: the canonical split's
parts, and with --targets those tasks only and the rows measured in one of them."""

from __future__ import annotations

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
