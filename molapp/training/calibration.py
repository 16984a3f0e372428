"""Probability calibration: per-task Platt scaling fitted on the validation split.

Training with per-task positive weights (`pos_weight` = negatives/positives or its square
root, so rare actives are not ignored) scales the odds a classifier learns by that weight: its raw probabilities
are far too high (the Tox21 GraphMem's mean predicted probability was 0.44 on a test split
where 10% of the measurements are active). A model trained unweighted is closer but still
not calibrated on held-out molecules. Platt scaling maps each task's logit z to

    p = σ(a_t z + b_t),  a_t > 0,

with a_t, b_t fitted by maximum likelihood on the validation molecules, using Platt's
smoothed targets ((N₊ + 1)/(N₊ + 2) for actives, 1/(N₋ + 2) for inactives) so that a task
with few actives in validation cannot be driven to probabilities of exactly 0 or 1. The
map is increasing per task, so rankings (ROC-AUC) are unchanged (up to float32 ties); the slope has a floor
(a_t ≥ 0.05) because a task the model ranks no better than chance on validation (a few of
the joint panel's SIDER tasks) would otherwise get a ≈ 0, a constant probability that
throws away the ranking the card's ROC-AUC measures. The fitted a_t, b_t become the
model's output module (`molapp.models.outputs.PlattCalibration`, saved in the weights); the
card keeps the report (`molapp.models.card.CalibrationReport`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from molapp.evaluation.split_predictions import SplitPredictions, expected_calibration_error, reliability
from molapp.models.card import CalibrationReport
from molapp.models.outputs import PlattCalibration, PredictionModel, Sigmoid
from molapp.training.evaluate import split_predictions
from molapp.training.trainer import TaskGroup

METHOD = "platt"
MIN_SLOPE = 0.05
_LOGIT_CLIP = 1e-7  # probabilities → logits: float32 probabilities saturate beyond |z| ≈ 16


@dataclass(frozen=True)
class PlattScaling:
    """Per-task slope a_t ≥ MIN_SLOPE and intercept b_t [T]: p = σ(a_t z + b_t)."""

    slope: np.ndarray
    intercept: np.ndarray

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities [n, T] → calibrated [n, T] (NaN stays NaN)."""
        logits = _logit(probabilities)
        return (1.0 / (1.0 + np.exp(-(self.slope * logits + self.intercept)))).astype(np.float32)


def _logit(probabilities: np.ndarray) -> np.ndarray:
    p = np.clip(probabilities.astype(np.float64), _LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def fit_platt(labels: np.ndarray, probabilities: np.ndarray) -> PlattScaling:
    """Fit every task at once. `labels`, `probabilities` [n, T], labels NaN where not
    measured; a task with no measured molecule keeps the identity (a = 1, b = 0)."""
    measured = ~np.isnan(labels)
    y = np.where(measured, labels, 0.0)
    positives = (y * measured).sum(0)
    negatives = measured.sum(0) - positives
    targets = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    weights = measured / np.maximum(measured.sum(0), 1)  # each task's loss a mean over its own molecules
    z = torch.tensor(np.where(measured, _logit(np.nan_to_num(probabilities, nan=0.5)), 0.0))
    targets_t, weights_t = torch.tensor(targets), torch.tensor(weights)
    # a = MIN_SLOPE + exp(log_excess_slope), starting at the identity a = 1
    log_excess_slope = torch.full((labels.shape[1],), np.log(1.0 - MIN_SLOPE), dtype=torch.float64, requires_grad=True)
    intercept = torch.zeros(labels.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_excess_slope, intercept], max_iter=500, tolerance_grad=1e-10, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(z * (MIN_SLOPE + log_excess_slope.exp()) + intercept, targets_t, reduction="none")
        loss = (loss * weights_t).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return PlattScaling(MIN_SLOPE + log_excess_slope.detach().exp().numpy(), intercept.detach().numpy())


def mean_calibration_error(held_out: SplitPredictions) -> float:
    """Expected calibration error (10 bins) per task, averaged over the tasks measured."""
    errors = []
    for k in range(held_out.labels.shape[1]):
        labels, probabilities = held_out.measured(k)
        if len(labels):
            errors.append(expected_calibration_error(reliability(labels, probabilities)))
    return float(np.mean(errors)) if errors else float("nan")


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` gives: the model with its output calibrated (the same network), the
    card's report, and the test split's predictions through the calibrated output (what the
    checkpoint ships beside its card), so the test molecules are predicted once. For a
    regression model (`calibrate_for_checkpoint`), the model as it was and no report."""

    model: PredictionModel
    report: CalibrationReport | None
    test: SplitPredictions


def calibrate(model: PredictionModel, groups: list[TaskGroup]) -> Calibration:
    """Platt scaling fitted on the groups' validation molecules (through the network's plain
    σ(z), whatever output `model` has now), with the calibration error before and after on
    valid and test."""
    uncalibrated = PredictionModel(model.network, Sigmoid())
    parts = {part: split_predictions(uncalibrated, groups, part) for part in ("valid", "test")}
    platt = fit_platt(parts["valid"].labels, parts["valid"].predictions)
    calibrated = {part: SplitPredictions(held_out.labels, platt.apply(held_out.predictions)) for part, held_out in parts.items()}
    error = {
        part: {"before": round(mean_calibration_error(parts[part]), 4), "after": round(mean_calibration_error(calibrated[part]), 4)}
        for part in parts
    }
    # float32, as torch makes the lists of floats the card used to hold
    output = PlattCalibration(len(platt.slope), torch.tensor(platt.slope.tolist()), torch.tensor(platt.intercept.tolist()))
    calibrated_model = PredictionModel(model.network, output.to(next(model.parameters()).device)).eval()
    return Calibration(calibrated_model, CalibrationReport(METHOD, "valid", error), calibrated["test"])


def calibrate_for_checkpoint(model: PredictionModel, groups: list[TaskGroup]) -> Calibration:
    """What a new checkpoint saves: a classifier calibrated (`calibrate`), a regression model
    as it is, each with its test split's predictions."""
    if model.task_type != "classification":
        return Calibration(model, None, split_predictions(model, groups, "test"))
    return calibrate(model, groups)
