"""Probability calibration: Platt scaling recovers a known miscalibration, keeps rankings,
and is what the checkpoint's model applies (its slope and intercept saved in the weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from molapp.cli import ensemble as ensemble_cli
from molapp.cli import evaluate as evaluate_cli
from molapp.cli import train as train_cli
from molapp.evaluation.split_predictions import SplitPredictions
from molapp.inference.predictor import Predictor
from molapp.models.checkpoint import load_checkpoint
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.training.calibration import MIN_SLOPE, PlattScaling, fit_platt, mean_calibration_error
from molapp.metrics import per_task_metrics

from .conftest import FIXTURES

DATA = FIXTURES / "ladder"  # 60-row bbbp with its canonical-format scaffold split


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _miscalibrated(n: int, slope: np.ndarray, intercept: np.ndarray, seed: int = 0):
    """Labels drawn from σ(a z + b) while the model reports σ(z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, size=(n, len(slope)))
    labels = (rng.random(z.shape) < _sigmoid(slope * z + intercept)).astype(np.float32)
    return labels, _sigmoid(z).astype(np.float32)


def test_platt_scaling_recovers_a_known_miscalibration():
    slope, intercept = np.array([0.5, 1.5]), np.array([-2.0, 0.5])
    labels, reported = _miscalibrated(20_000, slope, intercept)
    fitted = fit_platt(labels, reported)
    np.testing.assert_allclose(fitted.slope, slope, atol=0.08)
    np.testing.assert_allclose(fitted.intercept, intercept, atol=0.08)


def test_calibration_keeps_each_tasks_ranking_and_lowers_its_error():
    labels, reported = _miscalibrated(3_000, np.array([0.6, 1.0]), np.array([-2.5, -1.0]), seed=1)
    labels[::3, 1] = np.nan  # unmeasured cells are left out of the fit
    platt = fit_platt(labels, reported)
    calibrated = platt.apply(reported)
    for k in range(2):
        measured = ~np.isnan(labels[:, k])
        assert roc_auc_score(labels[measured, k], calibrated[measured, k]) == pytest.approx(roc_auc_score(labels[measured, k], reported[measured, k]))
    before = mean_calibration_error(SplitPredictions(labels, reported))
    after = mean_calibration_error(SplitPredictions(labels, calibrated))
    assert before > 0.15 and after < 0.03


def test_a_task_without_measurements_keeps_the_identity():
    labels, reported = _miscalibrated(500, np.array([0.5, 1.0]), np.array([-1.0, 0.0]))
    labels[:, 1] = np.nan
    fitted = fit_platt(labels, reported)
    assert fitted.slope[1] == pytest.approx(1.0) and fitted.intercept[1] == pytest.approx(0.0)


def test_a_task_the_model_cannot_rank_keeps_its_ranking():
    """Validation labels unrelated to the model's output: the likelihood wants a constant
    probability (a = 0); the slope's floor keeps the order of the molecules."""
    rng = np.random.default_rng(2)
    reported = rng.random((400, 1)).astype(np.float32)
    labels = (rng.random((400, 1)) < 0.2).astype(np.float32)
    platt = fit_platt(labels, reported)
    assert MIN_SLOPE <= platt.slope[0] < 0.15  # near the floor; chance correlation may lift it a little
    backwards = fit_platt((reported < 0.2).astype(np.float32), reported)  # ranked backwards: a would be negative
    assert backwards.slope[0] == pytest.approx(MIN_SLOPE, abs=1e-4)
    calibrated = platt.apply(reported)
    assert (np.argsort(calibrated[:, 0], kind="stable") == np.argsort(reported[:, 0], kind="stable")).all()
    assert calibrated.mean() == pytest.approx(labels.mean(), abs=0.03)


def test_a_task_with_actives_only_in_validation_gets_finite_probabilities():
    labels = np.ones((40, 1), dtype=np.float32)
    reported = np.linspace(0.05, 0.95, 40, dtype=np.float32)[:, None]
    calibrated = fit_platt(labels, reported).apply(reported)
    assert ((calibrated > 0) & (calibrated < 1)).all()  # Platt's smoothed targets: never exactly 1


def test_training_writes_a_calibrated_checkpoint_and_evaluate_refits_it(tmp_path, capsys):
    out = tmp_path / "ck"
    assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "gcn", "--split", "scaffold", "--out", str(out),
                           "--max-epochs", "3", "--hidden", "16", "--threads", "1", "--workers", "1"]) == 0
    model, card = load_checkpoint(out)
    calibration = card.calibration
    assert calibration.method == "platt" and calibration.fitted_on == "valid" and card.output == "platt"
    slope, intercept = model.output.slope.numpy(), model.output.intercept.numpy()  # in the weights, not the card
    assert len(slope) == len(card.tasks) == len(intercept) and slope.min() > 0
    assert "slope" not in json.loads((out / "card.json").read_text())["calibration"]
    assert set(calibration.expected_calibration_error) == {"valid", "test"}

    smiles = ["CCO", "c1ccccc1N", "CC(=O)Oc1ccccc1C(=O)O"]
    calibrated = Predictor.load(out, "cpu").predict(smiles).values
    plain = Predictor(PredictionModel(model.network, Sigmoid()), card, torch.device("cpu")).predict(smiles).values
    np.testing.assert_allclose(calibrated, PlattScaling(slope, intercept).apply(plain), atol=1e-5)

    held_out = SplitPredictions.load(out)  # what the Models page's reliability plot draws: calibrated
    assert mean_calibration_error(held_out) == pytest.approx(calibration.expected_calibration_error["test"]["after"], abs=1e-3)
    scores = per_task_metrics(held_out.labels, held_out.predictions, card.tasks, card.task_type)
    assert scores["mean"] == pytest.approx(card.metrics["test"]["mean"], abs=1e-4)  # the ROC curves re-score to the card

    assert evaluate_cli.main([str(out), "--data-dir", str(DATA), "--calibrate"]) == 0
    refit, _ = load_checkpoint(out)
    np.testing.assert_allclose(refit.output.slope.numpy(), slope, atol=1e-4)  # fitted on uncalibrated outputs, not on its own
    assert "test calibration error" in capsys.readouterr().out


def test_an_ensemble_is_calibrated_on_its_own_output(tmp_path):
    for seed in (0, 1):
        assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "gcn", "--split", "scaffold", "--out",
                               str(tmp_path / f"seed{seed}"), "--max-epochs", "3", "--hidden", "16", "--seed", str(seed),
                               "--threads", "1", "--workers", "1"]) == 0
    out = tmp_path / "ensemble"
    assert ensemble_cli.main(["--members", f"{tmp_path / 'seed0'},{tmp_path / 'seed1'}", "--out", str(out), "--data-dir", str(DATA)]) == 0
    ensemble, card = load_checkpoint(out)
    member, _ = load_checkpoint(tmp_path / "seed0")
    assert ensemble.output.name == "platt" and not torch.equal(ensemble.output.slope, member.output.slope)  # refitted, not the first member's copied
    held_out = SplitPredictions.load(out)
    assert mean_calibration_error(held_out) == pytest.approx(card.calibration.expected_calibration_error["test"]["after"], abs=1e-3)
