"""Leaderboards from results files, test-split predictions, ROC curves and reliability."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from molapp.evaluation.leaderboard import leaderboard, read_results
from molapp.evaluation.split_predictions import SplitPredictions, expected_calibration_error, reliability, roc


def write_run(directory, model, dataset, split, seed, test, metric="roc_auc"):
    record = {"model": model, "dataset": dataset, "split": split, "seed": seed, "metric": metric, "test": test,
              "per_task": {}, "valid": test, "train_seconds": 60.0, "trained_with": dataset}
    (directory / f"{model}-{dataset}-{split}-seed{seed}.json").write_text(json.dumps(record))


def test_leaderboard_aggregates_seeds_best_first_with_paper_figures(tmp_path):
    for seed, value in enumerate([0.80, 0.82, 0.84]):
        write_run(tmp_path, "memgnn", "bace", "scaffold", seed, value)
    write_run(tmp_path, "ecfp-rf", "bace", "scaffold", 0, 0.86)
    write_run(tmp_path, "ecfp-rf", "bace", "random", 0, 0.90)  # another split: not in this board
    (tmp_path / "throughput-hiv10k.json").write_text(json.dumps({"molecules": 10}))  # not a run: skipped
    board = leaderboard(read_results(tmp_path), "bace", "scaffold")
    assert list(board["model"]) == ["ecfp-rf", "memgnn"]
    memgnn = board.set_index("model").loc["memgnn"]
    assert memgnn["mean"] == pytest.approx(0.82) and memgnn["std"] == pytest.approx(0.02) and memgnn["seeds"] == 3
    assert memgnn["paper"] == pytest.approx(0.907) and "MemGNN paper" in memgnn["paper_source"]
    assert np.isnan(board.set_index("model").loc["ecfp-rf", "std"])  # one seed: no spread to report


def test_leaderboard_ranks_rmse_lowest_first_and_empty_board(tmp_path):
    write_run(tmp_path, "memgnn", "esol", "random", 0, 0.60, "rmse")
    write_run(tmp_path, "ecfp-rf", "esol", "random", 0, 1.10, "rmse")
    results = read_results(tmp_path)
    assert list(leaderboard(results, "esol", "random")["model"]) == ["memgnn", "ecfp-rf"]
    assert leaderboard(results, "esol", "scaffold").empty


def test_roc_matches_sklearn_and_needs_two_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200).astype(np.float32)
    scores = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
    curve = roc(labels, scores)
    assert curve.auc == pytest.approx(roc_auc_score(labels, scores))
    assert curve.false_positive_rate[0] == 0 and curve.true_positive_rate[-1] == 1
    assert curve.positives + curve.negatives == 200
    assert roc(np.ones(5), np.linspace(0, 1, 5)) is None


def test_reliability_separates_calibrated_from_overconfident():
    rng = np.random.default_rng(1)
    probabilities = rng.random(20_000)
    calibrated = (rng.random(20_000) < probabilities).astype(np.float64)
    table = reliability(calibrated, probabilities)
    assert table["molecules"].sum() == 20_000 and len(table) == 10
    assert expected_calibration_error(table) < 0.02
    overconfident = np.where(probabilities > 0.5, 0.95, 0.05)  # says 95% where the truth is ~75%
    assert expected_calibration_error(reliability(calibrated, overconfident)) > 0.15


def test_split_predictions_round_trip(tmp_path):
    labels = np.array([[1, np.nan], [0, 1], [np.nan, np.nan]], dtype=np.float32)
    predictions = np.array([[0.9, 0.4], [0.2, 0.7], [0.5, 0.6]], dtype=np.float32)
    SplitPredictions(labels, predictions).save(tmp_path)
    loaded = SplitPredictions.load(tmp_path)
    np.testing.assert_array_equal(loaded.labels, labels)  # a molecule measured for nothing keeps its row
    np.testing.assert_array_equal(loaded.predictions, np.where(np.isnan(labels), np.nan, predictions))
    y, p = loaded.measured(1)
    assert y.tolist() == [1.0] and p.tolist() == pytest.approx([0.7])
    assert SplitPredictions.load(tmp_path / "nothing-here") is None


def test_a_shipped_consensus_puts_its_split_consensus_on_the_leaderboard(tmp_path):
    results, shipped = tmp_path / "results", tmp_path / "checkpoints"
    results.mkdir()
    write_run(results, "graphmem", "tox21", "scaffold", 0, 0.76)
    record = {"benchmark": "consensus", "checkpoint": "consensus-tox21-scaffold", "model": "consensus", "dataset": "tox21",
              "split": "scaffold", "metric": "roc_auc", "valid": 0.81, "test": 0.77,
              "members": [{"checkpoint": "a", "train_seconds": 60.0}, {"checkpoint": "forest", "train_seconds": 30.0}]}
    (results / "assembled-consensus-tox21-scaffold.json").write_text(json.dumps(record))
    (shipped / "graphmem-tox21").mkdir(parents=True)
    (shipped / "graphmem-tox21" / "card.json").write_text(json.dumps({"model": "graphmem"}))
    assert list(leaderboard(read_results(results, shipped), "tox21", "scaffold")["model"]) == ["graphmem"]  # no consensus ships
    (shipped / "consensus-tox21").mkdir()
    (shipped / "consensus-tox21" / "card.json").write_text(json.dumps(
        {"model": "consensus", "estimate": {"scaffold": {"checkpoint": "consensus-tox21-scaffold"}}}))
    board = leaderboard(read_results(results, shipped), "tox21", "scaffold").set_index("model")
    assert list(board.index) == ["consensus", "graphmem"] and board.loc["consensus", "train_minutes"] == pytest.approx(1.5)
    # a consensus of split models the shipped panel does not quote is a row of its own, by its name
    older = {**record, "checkpoint": "consensus-older-tox21-scaffold", "test": 0.78}
    (results / "assembled-consensus-older-tox21-scaffold.json").write_text(json.dumps(older))
    board = leaderboard(read_results(results, shipped), "tox21", "scaffold").set_index("model")
    assert list(board.index) == ["consensus (consensus-older-tox21-scaffold)", "consensus", "graphmem"]
    assert board.loc["consensus", "mean"] == pytest.approx(0.77) and board.loc["consensus", "seeds"] == 1
