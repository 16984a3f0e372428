"""Dataset registry, missing-file handling, and splits (canonical files and generators)."""

from __future__ import annotations

import urllib.request

import numpy as np
import pandas as pd
import pytest

from molapp.data.dataset import read_labels
from molapp.data.registry import DATASETS, csv_path, split_path
from molapp.data.splits import load_canonical_split, random_split, scaffold_of, scaffold_split

from .conftest import needs_shared_data, shared_data_dir


def test_missing_file_error_says_which_file_where(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no internet")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError) as error:
        csv_path("tox21", tmp_path)
    message = str(error.value)
    assert "tox21.csv" in message and str(tmp_path / "tox21.csv") in message and "MOLAPP_DATA" in message


def test_data_dir_from_environment(tmp_path, monkeypatch):
    (tmp_path / "esol.csv").write_text("smiles,measured log solubility in mols per litre\nCCO,1.1\nCCN,\n")
    monkeypatch.setenv("MOLAPP_DATA", str(tmp_path))
    spec, smiles, labels = read_labels("esol")
    assert smiles == ["CCO", "CCN"]
    assert labels[0, 0] == pytest.approx(1.1) and np.isnan(labels[1, 0])  # missing is NaN, never 0


def test_random_split_partitions():
    split = random_split(100, seed=1, invalid=[3])
    parts = split.train + split.valid + split.test
    assert sorted(parts) == [i for i in range(100) if i != 3]
    assert (len(split.train), len(split.valid), len(split.test)) == (79, 10, 10)


def test_scaffold_split_keeps_scaffolds_together():
    smiles = ["c1ccccc1C", "c1ccccc1CC", "c1ccccc1O", "C1CCCCC1N", "C1CCCCC1O", "c1ccncc1", "CCO", "CCN", "C1CC1C", "bad("]
    split = scaffold_split(smiles)
    assert split.invalid == [9]
    where = {i: part for part, rows in split.parts().items() for i in rows}
    by_scaffold = {}
    for i, smi in enumerate(smiles[:9]):
        by_scaffold.setdefault(scaffold_of(smi), set()).add(where[i])
    assert all(len(parts) == 1 for parts in by_scaffold.values())
    assert where[0] == "train"  # the largest group (benzene) goes to train first


@needs_shared_data
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_registry_matches_the_benchmark_files(name):
    spec = DATASETS[name]
    columns = pd.read_csv(csv_path(name, shared_data_dir(), download=False), nrows=0).columns
    assert spec.smiles_column in columns and all(t in columns for t in spec.tasks)


@needs_shared_data
@pytest.mark.parametrize("kind", ["random", "scaffold"])
def test_canonical_tox21_split_loads(kind):
    split = load_canonical_split(split_path("tox21", kind, shared_data_dir()))
    parts = [set(split.train), set(split.valid), set(split.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sum(map(len, parts)) + len(split.invalid) == 7831


def test_train_cli_reports_missing_data_without_a_trace(tmp_path, monkeypatch, capsys):
    from molapp.cli import train as train_cli

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    code = train_cli.main(["--dataset", "bace", "--data-dir", str(tmp_path), "--out", str(tmp_path / "ck")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: bace.csv not found") and "Traceback" not in err
    assert train_cli.main(["--dataset", "nosuch", "--out", str(tmp_path / "ck")]) == 2


def _serve(monkeypatch, content: bytes) -> None:
    import io
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(content))


def test_a_download_is_checked_against_its_sha256(monkeypatch, tmp_path):
    from molapp.data.registry import csv_path

    _serve(monkeypatch, b"smiles,measured log solubility in mols per litre\nCCO,1.0\n")  # not the published file
    with pytest.raises(ValueError, match="SHA-256") as raised:
        csv_path("esol", tmp_path)
    assert "delaney-processed.csv" in str(raised.value) and list(tmp_path.iterdir()) == []  # nothing half-trusted left


@needs_shared_data
@pytest.mark.parametrize("name", ["esol", "tox21"])  # tox21 comes gzipped: the check is on the file as stored
def test_the_published_file_passes_its_check(monkeypatch, tmp_path, name):
    import gzip

    from molapp.data.registry import csv_path, get_spec

    published = (shared_data_dir() / "moleculenet" / get_spec(name).filename).read_bytes()
    _serve(monkeypatch, gzip.compress(published) if get_spec(name).url.endswith(".gz") else published)
    assert csv_path(name, tmp_path).read_bytes() == published


def test_a_dataset_without_a_public_file_says_where_to_point(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        csv_path("nci60_balanced", tmp_path)
    assert "no public download" in str(error.value) and "MOLAPP_DATA" in str(error.value)


def test_restricting_to_one_task_keeps_only_its_measured_rows(tmp_path, monkeypatch):
    from molapp.data.dataset import load_dataset

    (tmp_path / "nci60").mkdir()
    (tmp_path / "nci60" / "nci60_balanced.csv").write_text(
        "nsc,smiles,AID1,AID33,AID41,AID47,AID81,AID83,AID109,AID123,AID145\n"
        "1,CCO,1,,,,,0,,,\n2,CCN,,1,,,,,,,\n3,CCC,,,,,,1,,,\n")
    data = load_dataset("nci60_balanced", tmp_path).restricted_to(["AID83"])
    assert data.spec.tasks == ["AID83"] and data.smiles == ["CCO", "CCC"]
    assert data.rows.tolist() == [0, 2] and data.labels[:, 0].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="no task 'AID999'"):
        data.restricted_to(["AID999"])


def _small_hiv(folder) -> None:
    """20 molecules, rows 3, 7, 11 and 15 active; a canonical random split of them."""
    import json

    (folder / "moleculenet").mkdir(parents=True, exist_ok=True)
    rows = [f"{'C' * (i + 1)}O,CI,{int(i in (3, 7, 11, 15))}" for i in range(20)]
    (folder / "moleculenet" / "hiv.csv").write_text("smiles,activity,HIV_active\n" + "\n".join(rows) + "\n")
    (folder / "splits").mkdir(exist_ok=True)
    (folder / "splits" / "hiv_random.json").write_text(json.dumps({"train": list(range(16)), "valid": [16, 17], "test": [18, 19]}))


def test_a_balanced_subset_keeps_every_active_and_as_many_inactives_in_its_sources_split(tmp_path):
    from molapp.data.dataset import load_dataset

    _small_hiv(tmp_path)
    data = load_dataset("aids_balanced", tmp_path)
    labels = data.labels[:, 0]
    assert len(data) == 8 and labels.sum() == 4 and set(data.rows[labels == 1].tolist()) == {3, 7, 11, 15}
    assert data.rows.tolist() == load_dataset("aids_balanced", tmp_path).rows.tolist()  # one fixed subset
    assert all(data.smiles[k] == f"{'C' * (row + 1)}O" for k, row in enumerate(data.rows))  # rows are the source file's
    split = data.split("random", tmp_path)
    assert split.source == "canonical (hiv_random.json)"  # the source's canonical split, restricted to the subset
    assert set(split.train.rows) == {r for r in data.rows if r < 16} and set(split.test.rows) == {r for r in data.rows if r >= 18}
    assert sorted(data.split("all", tmp_path).train.rows.tolist()) == sorted(data.rows.tolist())
    assert len(load_dataset("hiv", tmp_path)) == 20  # the source itself is whole


def test_targets_can_come_from_several_datasets(tmp_path):
    from molapp.training.groups import build_groups

    _small_hiv(tmp_path)
    (tmp_path / "nci60").mkdir()
    header = "nsc,smiles,AID1,AID33,AID41,AID47,AID81,AID83,AID109,AID123,AID145\n"
    rows = [f"{i},{'N' * (i % 5 + 1)}C{'C' * i},,,,,{i % 2},{(i + 1) % 2 if i % 3 else ''},,," for i in range(20)]
    (tmp_path / "nci60" / "nci60_balanced.csv").write_text(header + "\n".join(rows) + "\n")
    groups, tasks, _, _ = build_groups(["nci60_balanced", "aids_balanced"], "random", str(tmp_path), 1, targets=["AID83", "HIV_active"])
    assert tasks == ["AID83", "HIV_active"] and [g.task_ids for g in groups] == [[0], [1]]
    measured = sum(len(getattr(groups[0], part)) for part in ("train", "valid", "test"))
    assert measured == sum(1 for i in range(20) if i % 3)  # only the molecules measured in AID83
    with pytest.raises(ValueError, match="aids_balanced has none of the targets"):
        build_groups(["nci60_balanced", "aids_balanced"], "random", str(tmp_path), 1, targets=["AID83"])
    with pytest.raises(ValueError, match="no dataset of .* has the task 'AID999'"):
        build_groups(["nci60_balanced", "aids_balanced"], "random", str(tmp_path), 1, targets=["AID83", "HIV_active", "AID999"])


@needs_shared_data
@pytest.mark.slow
def test_the_balanced_aids_assay_is_every_active_of_hiv_and_as_many_inactives():
    from molapp.data.dataset import load_dataset

    _, _, hiv = read_labels("hiv", shared_data_dir())
    data = load_dataset("aids_balanced", shared_data_dir())
    assert (data.labels[:, 0] == 1).sum() == (hiv[:, 0] == 1).sum() == 1443 and (data.labels[:, 0] == 0).sum() == 1443
    assert np.array_equal(data.labels[:, 0], hiv[data.rows, 0])
