"""A checkpoint's predictions on its own test split, shipped beside it as
`test_predictions.safetensors`, so that ROC curves and reliability plots can be drawn
without the benchmark data; and the curves themselves.

Written by `python -m molapp.train` at the end of training and by
`python -m molapp.cli.evaluate` for an existing checkpoint. Only the measured cells are
stored (row, task, label, prediction; a joint panel's matrix is mostly unmeasured, 18k of
244k cells for mt-graphmem), float32, so the stored arrays re-score to the card's metrics
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file
from sklearn.metrics import roc_auc_score, roc_curve

FILENAME = "test_predictions.safetensors"


@dataclass
class SplitPredictions:
    """`labels`, `predictions` [n, T] over the checkpoint's tasks: NaN label = not measured
    (a joint panel's molecule is measured only for its own dataset's tasks); predictions are
    probabilities (classification) or values in the task's units (regression), and, once
    saved and loaded, NaN where the label is."""

    labels: np.ndarray
    predictions: np.ndarray

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / FILENAME
        rows, columns = np.nonzero(~np.isnan(self.labels))
        save_file({
            "shape": np.array(self.labels.shape, dtype=np.int64),
            "rows": rows.astype(np.int32),
            "columns": columns.astype(np.int32),
            "labels": self.labels[rows, columns].astype(np.float32),
            "predictions": self.predictions[rows, columns].astype(np.float32),
        }, str(path))
        return path

    @classmethod
    def load(cls, directory: str | Path) -> SplitPredictions | None:
        path = Path(directory) / FILENAME
        if not path.exists():
            return None
        arrays = load_file(str(path))
        labels = np.full(tuple(arrays["shape"]), np.nan, dtype=np.float32)
        predictions = labels.copy()
        labels[arrays["rows"], arrays["columns"]] = arrays["labels"]
        predictions[arrays["rows"], arrays["columns"]] = arrays["predictions"]
        return cls(labels, predictions)

    def measured(self, task_index: int) -> tuple[np.ndarray, np.ndarray]:
        """(labels, predictions) of the molecules measured for one task."""
        keep = ~np.isnan(self.labels[:, task_index])
        return self.labels[keep, task_index], self.predictions[keep, task_index]


@dataclass
class RocCurve:
    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    auc: float
    positives: int
    negatives: int


def roc(labels: np.ndarray, probabilities: np.ndarray) -> RocCurve | None:
    """None when the labels hold one class only (no ROC curve exists)."""
    if len(np.unique(labels)) < 2:
        return None
    fpr, tpr, _ = roc_curve(labels, probabilities)
    positives = int(labels.sum())
    return RocCurve(fpr, tpr, float(roc_auc_score(labels, probabilities)), positives, len(labels) - positives)


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width probability bins: per non-empty bin the mean predicted probability, the
    observed fraction of actives and the molecule count (a reliability diagram's points)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    predicted = np.bincount(which, weights=probabilities, minlength=bins)
    observed = np.bincount(which, weights=labels, minlength=bins)
    filled = counts > 0
    return pd.DataFrame({
        "bin_low": edges[:-1][filled],
        "bin_high": edges[1:][filled],
        "mean_predicted": predicted[filled] / counts[filled],
        "observed_fraction": observed[filled] / counts[filled],
        "molecules": counts[filled],
    })


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Σ_bins (n_b / n) · |observed_b − predicted_b| over a `reliability` table."""
    weights = table["molecules"] / table["molecules"].sum()
    return float((weights * (table["observed_fraction"] - table["mean_predicted"]).abs()).sum())
