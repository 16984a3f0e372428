"""The baseline ladder end to end on a tiny fixture (60-row bbbp and esol with canonical-format
split files), and the fingerprint and masked-label pieces it rests on."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import numpy as np
import pytest
import torch

from molapp.baselines import ECFP_BITS, Split3, ecfp_of_smiles, fit_predict
from molapp.models.checkpoint import read_card
from tests.conftest import FIXTURES, ROOT

LADDER_DATA = FIXTURES / "ladder"
RESULT_KEYS = {"model", "dataset", "split", "seed", "metric", "test", "per_task", "valid", "train_seconds", "trained_with"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_ecfp_is_deterministic_and_tells_molecules_apart():
    smiles = ["CCO", "c1ccccc1O", "CCO"]
    first, second = ecfp_of_smiles(smiles), ecfp_of_smiles(smiles)
    assert first.shape == (3, ECFP_BITS) and first.dtype == np.uint8
    assert np.array_equal(first, second)
    assert np.array_equal(first[0], first[2]) and not np.array_equal(first[0], first[1])
    assert set(np.unique(first)) <= {0, 1} and first.sum(1).min() > 0


@pytest.mark.parametrize("model", ["ecfp-svm", "ecfp-rf", pytest.param("ecfp-gb", marks=pytest.mark.slow), "mt-nn"])
def test_masked_labels_are_not_used(model):
    """Task 0 is labelled on half the rows only: its model must ignore the others, whatever
    their (NaN) label, so poisoning the unlabelled rows' features changes nothing; task 1 has a
    single class in train and gets NaN predictions, not an error."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(80, ECFP_BITS)).astype(np.uint8)
    y = np.stack([x[:, 0].astype(float), np.ones(80)], axis=1)
    y[40:, 0] = np.nan
    y_valid = np.stack([x[:20, 0].astype(float), np.r_[np.ones(10), np.zeros(10)]], axis=1)
    data = Split3(x, y, x[:20], y_valid, x[20:40], y_valid)
    result = fit_predict(model, data, "classification", seed=0)
    assert np.isfinite(result.test[:, 0]).all() and np.isnan(result.test[:, 1]).all()
    if model != "mt-nn":  # one model per task: unlabelled rows never reach task 0's fit
        poisoned = x.copy()
        poisoned[40:] = 1 - poisoned[40:]
        again = fit_predict(model, Split3(poisoned, y, x[:20], y_valid, x[20:40], y_valid), "classification", seed=0)
        np.testing.assert_allclose(again.test[:, 0], result.test[:, 0])


@pytest.mark.slow
def test_ladder_end_to_end(tmp_path, capsys):
    ladder, summarize = _load("ladder"), _load("summarize")
    args = ["--datasets", "bbbp,esol", "--seeds", "0,1", "--results-dir", str(tmp_path), "--data-dir", str(LADDER_DATA)]
    assert ladder.main([*args, "--splits", "scaffold", "--datasets", "bbbp"]) == 0
    assert ladder.main([*args, "--splits", "random", "--datasets", "esol"]) == 0
    expected = [(m, d, s, k) for d, s in (("bbbp", "scaffold"), ("esol", "random")) for m in ladder.FINGERPRINT_MODELS for k in (0, 1)]
    for model, dataset, split, seed in expected:
        path = tmp_path / f"{model}-{dataset}-{split}-seed{seed}.json"
        record = json.loads(path.read_text())
        assert RESULT_KEYS <= set(record)
        assert (record["model"], record["dataset"], record["split"], record["seed"]) == (model, dataset, split, seed)
        assert record["trained_with"] == dataset and record["train_seconds"] >= 0
        assert math.isfinite(record["test"]) and math.isfinite(record["valid"])
        if dataset == "bbbp":
            assert record["metric"] == "roc_auc" and 0 <= record["test"] <= 1 and list(record["per_task"]) == ["p_np"]
        else:
            assert record["metric"] == "rmse" and 0 < record["test"] < 10
    assert len(list(tmp_path.glob("*.json"))) == len(expected)

    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")}
    capsys.readouterr()
    assert ladder.main([*args, "--splits", "scaffold", "--datasets", "bbbp"]) == 0
    assert "0 to do" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")} == mtimes

    table = "\n".join(summarize.ladder_section(tmp_path))
    assert "## Ladder" in table and "### random split" in table and "### scaffold split" in table
    rows: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line.startswith(("| ecfp", "| mt-nn", "| desc-rf")):
            rows.setdefault(line.split(" | ")[0].strip("| "), []).append(line)
    assert set(rows) == set(ladder.FINGERPRINT_MODELS)
    for lines in rows.values():  # a row per split table; one run set in each (bbbp scaffold, esol random)
        assert len(lines) == 2
        for line in lines:
            assert line.count("(n=2)") == 1 and line.count(" ± ") == 1
            assert line.count("—") == 8  # the other datasets: shown as missing, not omitted
    assert "**" in table  # best per column marked


def test_a_descriptor_model_alone_computes_no_fingerprints(tmp_path):
    ladder = _load("ladder")
    described = ladder.featurize_dataset("bbbp", str(LADDER_DATA), {"descriptors"})
    assert described.bits is None and len(described.descriptors) == sum(m.ok for m in described.data.molecules)
    assert ladder.main(["--models", "desc-rf", "--datasets", "bbbp", "--splits", "scaffold", "--seeds", "0",
                        "--results-dir", str(tmp_path), "--data-dir", str(LADDER_DATA)]) == 0
    assert json.loads((tmp_path / "desc-rf-bbbp-scaffold-seed0.json").read_text())["features"].startswith(f"{ladder.DESCRIPTOR_DIM} RDKit descriptors")


def test_svm_above_the_exact_limit_uses_a_seeded_nystroem_map(monkeypatch):
    """Large training sets (hiv) take the kernel-approximation route, and say so."""
    from molapp.baselines import models

    monkeypatch.setattr(models, "SVM_EXACT_LIMIT", 50)
    monkeypatch.setattr(models, "NYSTROEM_LANDMARKS", 30)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(120, ECFP_BITS)).astype(np.uint8)
    y = x[:, :1].astype(float)
    result = fit_predict("ecfp-svm", Split3(x[:80], y[:80], x[80:100], y[80:100], x[100:], y[100:]), "classification", seed=0)
    assert any("Nyström" in note for note in result.notes) and np.isfinite(result.test).all()
    regression = fit_predict("ecfp-svm", Split3(x[:80], x[:80, :3].sum(1, keepdims=True).astype(float), x[80:100],
                                                x[80:100, :3].sum(1, keepdims=True).astype(float), x[100:], y[100:]), "regression", seed=0)
    assert np.isfinite(regression.test).all()


def test_reproducing_an_ensemble_retrains_each_member_then_combines_them(monkeypatch):
    reproduce = _load("reproduce")
    commands = []
    monkeypatch.setattr(reproduce, "run", commands.append)
    monkeypatch.setattr(sys, "argv", ["reproduce.py", "--train", "--checkpoints", str(ROOT / "checkpoints" / "memgnn-esol-random-ensemble")])
    assert reproduce.main() == 0
    card = read_card(ROOT / "checkpoints" / "memgnn-esol-random-ensemble")
    *members, combine = commands
    assert len(members) == len(card.members) == 3
    work = ROOT / "bench" / "work" / "memgnn-esol-random-ensemble"
    for command, member in zip(members, card.members):
        assert command[1:3] == ["-m", "molapp.train"] and "--results-dir" not in command  # members write no ladder results
        seed = command[command.index("--seed") + 1] if "--seed" in command else "0"  # the trainer's default seed is 0
        assert seed == str(member.seed)
        assert command[command.index("--out") + 1] == f"{work}-seed{member.seed}"
    assert combine[1:3] == ["-m", "molapp.cli.ensemble"] and combine[combine.index("--out") + 1] == str(work)
    assert combine[combine.index("--members") + 1] == ",".join(f"{work}-seed{m.seed}" for m in card.members)


def test_consensus_ranks_each_task_on_its_own_scale():
    """bench/tox21_consensus.py averages models on per-task ranks: scores on any scale map
    to ranks in (0, 1] within each task, NaN (not predicted) stays NaN."""
    consensus = _load("tox21_consensus")
    scores = np.array([[0.1, 5.0], [0.9, np.nan], [0.5, -1.0]])
    ranks = consensus.per_task_ranks(scores)
    assert np.allclose(ranks[:, 0], [1 / 3, 1.0, 2 / 3])
    assert np.isnan(ranks[1, 1]) and np.allclose(ranks[[0, 2], 1], [1.0, 0.5])


@pytest.mark.slow
def test_ladder_graph_run_writes_results_and_a_log(tmp_path, monkeypatch):
    """A graph model runs as a `molapp.train` subprocess: its results file lands in the
    results folder, its epochs in a log beside its checkpoint (followable while it runs)."""
    ladder = _load("ladder")
    monkeypatch.setattr(ladder, "WORK", tmp_path / "work")
    monkeypatch.setitem(ladder.GRAPH_EPOCHS, "gcn", ["--max-epochs", "2", "--patience", "2"])
    results = tmp_path / "results"
    args = ["--models", "gcn", "--datasets", "esol", "--splits", "random", "--seeds", "0",
            "--results-dir", str(results), "--data-dir", str(LADDER_DATA)]
    assert ladder.main(args) == 0
    record = json.loads((results / "gcn-esol-random-seed0.json").read_text())
    assert (record["model"], record["dataset"], record["split"], record["seed"]) == ("gcn", "esol", "random", 0)
    log = (tmp_path / "work" / "gcn-esol-random-seed0.log").read_text()
    assert "epoch   1" in log and "epoch   2" in log and "epoch   3" not in log
    assert (tmp_path / "work" / "gcn-esol-random-seed0" / "card.json").exists()


def test_joint_table_summarizes_every_seed_of_each_side():
    summarize = _load("summarize")
    records = [{"model": "graphmem", "dataset": "bace", "split": "scaffold", "seed": k, "test": v} for k, v in enumerate((0.70, 0.72, 0.74))]
    records += [{"model": "mt-graphmem", "dataset": "bace", "split": "scaffold", "seed": k, "test": v} for k, v in enumerate((0.80, 0.60))]
    records += [{"model": "mt-graphmem", "dataset": "hiv", "split": "scaffold", "seed": 0, "test": 0.75}]  # no alone run: no row
    rows = [line for line in summarize.joint_section(records) if line.startswith("| bace")]
    assert rows == ["| bace | scaffold | 0.720 ± 0.020 (n=3) | 0.700 ± 0.141 (n=2) | -0.020 | no (within noise) |"]
    assert not any(line.startswith("| hiv") for line in summarize.joint_section(records))


def test_a_killed_run_is_reported_as_killed():
    ladder = _load("ladder")
    assert ladder.how_it_ended(2) == "exited 2"
    assert "out-of-memory" in ladder.how_it_ended(-9) and ladder.how_it_ended(-15) == "was killed by signal 15"


@pytest.mark.slow
def test_the_all_descriptor_forest_reads_all_of_rdkits_descriptors_of_the_standardized_molecules(tmp_path):
    ladder = _load("ladder")
    described = ladder.featurize_dataset("bbbp", str(LADDER_DATA), {"all-descriptors"})
    ok = [m for m in described.data.molecules if m.ok]
    assert described.bits is None and described.descriptors is None and len(described.all_descriptors) == len(ok)
    first = next(i for i, m in enumerate(described.data.molecules) if m.ok)
    vector = described.all_descriptors[int(described.data.rows[first])]
    names = list(ladder.ALL_RDKIT_DESCRIPTOR_NAMES)
    assert vector.shape == (len(names),) and len(names) > 200 and np.isfinite(vector).all()
    from rdkit import Chem
    from rdkit.Chem import Descriptors
    mol = Chem.MolFromSmiles(ok[0].canonical_smiles)
    assert vector[names.index("MolWt")] == pytest.approx(Descriptors.MolWt(mol), rel=1e-5)
    assert vector[names.index("qed")] == pytest.approx(Descriptors.qed(mol), rel=1e-5)
    assert ladder.main(["--models", "desc-rf-all", "--datasets", "bbbp", "--splits", "scaffold", "--seeds", "0",
                        "--results-dir", str(tmp_path), "--data-dir", str(LADDER_DATA)]) == 0
    record = json.loads((tmp_path / "desc-rf-all-bbbp-scaffold-seed0.json").read_text())
    assert record["features"].startswith(f"all {len(names)} RDKit descriptors") and 0.5 < record["valid"] <= 1.0
