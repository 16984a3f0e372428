"""The checkpoints that ship: complete cards, safe loading, sane predictions, and test
metrics that re-score to what the card says on the canonical split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from molapp.evaluation.split_predictions import SplitPredictions
from molapp.inference.predictor import Predictor
from molapp.models.checkpoint import load_checkpoint, read_card
from molapp.models.registry import MODEL_KINDS, is_assembled
from molapp.training.calibration import mean_calibration_error
from molapp.metrics import per_task_metrics
from molapp.training.evaluate import evaluate_checkpoint

from .conftest import CHECKPOINTS, needs_shared_data, shared_data_dir

SHIPPED = sorted(p.parent for p in CHECKPOINTS.glob("*/card.json"))
CLASSIFIERS = [p for p in SHIPPED if read_card(p).is_classifier]
# Trained on every labelled row: no held-out rows of their own, their figures their recipe's split models'.
DEPLOYMENT = [p for p in SHIPPED if read_card(p).is_deployment]
SPLIT_MODELS = [p for p in SHIPPED if p not in DEPLOYMENT]
REQUIRED = {"model", "dataset", "tasks", "task_type", "split", "hyperparameters", "featurizer", "metrics",
            "train_seconds", "packages", "applicability_domain", "command", "config"}


def test_the_required_checkpoints_ship():
    names = {p.name for p in SHIPPED}
    assert {"graphmem-tox21-scaffold", "graphmem-tox21-random", "mt-graphmem-scaffold", "memgnn-esol-random",
            "memgnn-lipophilicity-random", "memgnn-bace-scaffold", "memgnn-bbbp-scaffold", "gmn-esol-random",
            "graseq-bbbp-scaffold", "transfer-tox21-scaffold"} <= names


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda p: p.name)
def test_card_is_complete_and_files_are_small(directory):
    assert REQUIRED <= set(json.loads((directory / "card.json").read_text()))  # in the file itself: the Card's defaults would hide a missing field
    card = read_card(directory)
    assert card.model in MODEL_KINDS and card.split in {"random", "scaffold", "all"} and card.trained_on == card.split
    assert set(card.tasks) <= set(card.metrics["test"]) and "mean" in card.metrics["valid"]
    files = {p.name for p in directory.iterdir()}
    assert {"weights.safetensors", "card.json", "domain.safetensors", "domain.json", "test_predictions.safetensors",
            "calls.json", "approved_drugs.safetensors"} <= files
    assert files <= {"weights.safetensors", "card.json", "domain.safetensors", "domain.json", "map.safetensors", "map.json",
                     "test_predictions.safetensors", "map-graph.safetensors", "map-graph.json", "map-sequence.safetensors",
                     "map-sequence.json", "calls.json", "approved_drugs.safetensors"}
    assert sum(p.stat().st_size for p in directory.iterdir()) < 8e6


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_predicts(directory):
    predictor = Predictor.load(directory, "cpu")
    result = predictor.predict(["CC(C)(c1ccc(O)cc1)c1ccc(O)cc1", "C1CC", "CCO"])
    assert result.status == ["ok", "error", "ok"]
    assert result.values.shape == (3, len(predictor.tasks))
    assert np.isnan(result.values[1]).all()
    good = result.values[[0, 2]]
    if predictor.card.is_classifier:
        assert ((good > 0) & (good < 1)).all()
    else:  # in the dataset's units, within the range its training labels span
        scale = predictor.model.output
        assert np.isfinite(good).all()
        assert (np.abs(good - scale.mean.numpy()) < 5 * scale.std.numpy()).all()


@pytest.mark.parametrize("directory", SPLIT_MODELS, ids=lambda p: p.name)
def test_shipped_test_predictions_score_as_the_card_says(directory):
    """What the Models page draws its ROC curves and reliability plots from is the test split
    the card's metrics were measured on. Per task within 1e-3, not 1e-4: calibration's slope
    floor (0.05, the joint panel's ClinTox FDA_APPROVED) compresses the raw logits enough that
    two of them 3e-5 apart tie in float32 (one pair of 148 molecules: 0.6331 → 0.6327); the
    mean over tasks stays within 1e-4."""
    card = read_card(directory)
    held_out = SplitPredictions.load(directory)
    assert held_out.labels.shape == held_out.predictions.shape and held_out.labels.shape[1] == len(card.tasks)
    assert len(held_out.labels) == sum(size["test"] for size in card.sizes.values())
    scores = per_task_metrics(held_out.labels, held_out.predictions, card.tasks, card.task_type)
    for task in card.tasks:
        assert scores[task] == pytest.approx(card.metrics["test"][task], abs=1e-3, nan_ok=True)
    assert scores["mean"] == pytest.approx(card.metrics["test"]["mean"], abs=1e-4)


@pytest.mark.slow
@needs_shared_data
@pytest.mark.parametrize("directory", [p for p in SPLIT_MODELS if not p.name.startswith("mt-")], ids=lambda p: p.name)
def test_card_metrics_rescore_on_the_canonical_split(directory):
    card = read_card(directory)
    scores = evaluate_checkpoint(directory, str(shared_data_dir()))
    for part in ("valid", "test"):
        rescored = scores[part][card.dataset]
        assert rescored["mean"] == pytest.approx(card.metrics[part]["mean"], abs=1e-4)
        for task in card.tasks:
            assert rescored[task] == pytest.approx(card.metrics[part][task], abs=1e-4)


@pytest.mark.parametrize("directory", [p for p in CLASSIFIERS if p in SPLIT_MODELS], ids=lambda p: p.name)
def test_shipped_probabilities_are_calibrated(directory):
    """Each classifier carries a per-task Platt scaling fitted on its validation split, and its
    test-split probabilities (the reliability plot's) are the calibrated ones. Where the raw
    probabilities were off on validation (error > 0.1: Tox21, BACE, the joint panel), the
    calibration carries to test: a lower error, and a mean probability close to the share of
    actives where raw ones were several times too high. (BBBP's scaffold split was already
    near calibrated on validation; its test part's error is the split's shift.)"""
    model, card = load_checkpoint(directory)
    platt = model.output  # the slope and intercept are the model's; the card has the report
    assert card.output == "platt" and len(platt.slope) == len(platt.intercept) == len(card.tasks) and platt.slope.min() > 0
    held_out = SplitPredictions.load(directory)
    error = mean_calibration_error(held_out)
    reported = card.calibration.expected_calibration_error
    assert error == pytest.approx(reported["test"]["after"], abs=1e-3)
    if reported["valid"]["before"] > 0.1:
        assert reported["valid"]["after"] < reported["valid"]["before"] and error < reported["test"]["before"]
        measured = ~np.isnan(held_out.labels)
        assert abs(held_out.predictions[measured].mean() - held_out.labels[measured].mean()) < 0.1


@pytest.mark.parametrize("directory", DEPLOYMENT, ids=lambda p: p.name)
def test_a_deployment_card_says_where_its_figures_come_from(directory):
    """Trained on every row, it carries its recipe's split figures (the first estimate's as
    `metrics`), no calibration (no rows were left to fit one on) — but a consensus carries its
    split consensus's, whose percentile scale it shares — and the estimate model's test-split
    predictions, made through the deployment's own output, that score as the estimate says
    (the Models page's ROC curves and reliability plot)."""
    card = read_card(directory)
    first = next(iter(card.estimate.values()))
    assert card.metrics["test"]["mean"] == first.test and card.metrics["valid"]["mean"] == first.valid
    assert "every labelled row" in card.metrics_from
    if is_assembled(card.model):
        assert card.output == "platt" and card.calibration.fitted_on == f"valid of {first.checkpoint}"
    else:
        assert card.calibration is None and card.output == ("sigmoid" if card.task_type == "classification" else "target_scale")
    assert all(size["valid"] == size["test"] == 0 for size in card.sizes.values())  # every dataset of a joint model
    held_out = SplitPredictions.load(directory)
    scores = per_task_metrics(held_out.labels, held_out.predictions, card.tasks, card.task_type)
    # to 1e-4 where the estimate was scored on today's rows; the joint panel's split run was scored
    # before standardization rejected metal complexes (issue 26 D): 5,536 test rows then, 5,419 now
    tolerance = 0.005 if card.model == "mt-graphmem" and len(card.datasets) > 1 else 1e-4
    assert scores["mean"] == pytest.approx(first.test, abs=tolerance)


@pytest.mark.parametrize("directory", CLASSIFIERS, ids=lambda p: p.name)
def test_shipped_calls_are_complete(directory):
    """Every classification panel has a base rate and a default threshold per task, and its
    approved-drug reference sorted per task."""
    from molapp.inference.calls import TaskCalls

    card = read_card(directory)
    calls = TaskCalls.load(directory)
    assert calls.tasks == card.tasks and calls.approved.shape[1] == len(card.tasks) and calls.approved_count > 1000
    assert np.all(np.diff(calls.approved, axis=0) >= 0)
    assert ((calls.base_rate > 0) & (calls.base_rate < 1)).all()
    assert np.isnan(calls.threshold).sum() <= len(card.tasks) // 4  # a task whose valid part has one class has none
