"""Re-scoring shipped checkpoints on the rows shipped in tests/fixtures/checkpoint_rows:
the rows, the metric (computed here, independent of molapp's own metric code, so a change
there cannot hide a change in the predictions) and the bar chance cannot reach.

The same code measured the figures in `expected.json` (tests/fixtures/make_checkpoint_rows.py)
and re-measures them in tests/test_checkpoint_rows.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

ROWS = Path(__file__).resolve().parent / "fixtures" / "checkpoint_rows"
EXPECTED = ROWS / "expected.json"


def read_rows(filename: str, tasks: list[str]) -> tuple[list[str], np.ndarray]:
    """SMILES and labels [rows, len(tasks)] (NaN where not measured) of one fixture file."""
    with open(ROWS / filename, newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = np.array([[float(r[t]) if r[t] != "" else np.nan for t in tasks] for r in rows], dtype=np.float64)
    return [r["smiles"] for r in rows], labels


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of one task from ranks (ties share their mean rank); NaN with one class."""
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2  # 1-based mean rank of the tie block
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def task_scores(labels: np.ndarray, predictions: np.ndarray, metric: str) -> list[float]:
    """One figure per task over the rows measured for it and predicted (a refused molecule
    has NaN predictions)."""
    scores = []
    for t in range(labels.shape[1]):
        keep = ~np.isnan(labels[:, t]) & ~np.isnan(predictions[:, t])
        y, p = labels[keep, t], predictions[keep, t]
        if metric == "roc_auc":
            scores.append(roc_auc(y, p))
        else:
            scores.append(float(np.sqrt(np.mean((y - p) ** 2))) if len(y) else float("nan"))
    return scores


def mean_score(labels: np.ndarray, predictions: np.ndarray, metric: str) -> float:
    """Mean over tasks, as the cards report it."""
    values = [v for v in task_scores(labels, predictions, metric) if v == v]
    return float(np.mean(values))


def chance_bar(labels: np.ndarray, predictions: np.ndarray, metric: str, permutations: int = 200, seed: int = 0) -> float:
    """The best figure a model with no information about these molecules reaches.

    ROC-AUC: the 99th percentile of the mean score with each task's predictions shuffled
    among its measured rows (a model that only knows the base rate ranks at random).
    RMSE: predicting each task's mean label over these very rows, i.e. the labels' standard
    deviation, mean over tasks; this beats any shuffle of real predictions, so it is the
    stricter bar."""
    if metric != "roc_auc":
        spreads = [np.nanstd(labels[:, t]) for t in range(labels.shape[1]) if (~np.isnan(labels[:, t])).any()]
        return float(np.mean(spreads))
    rng = np.random.default_rng(seed)
    figures = []
    for _ in range(permutations):
        shuffled = predictions.copy()
        for t in range(labels.shape[1]):
            keep = np.flatnonzero(~np.isnan(labels[:, t]) & ~np.isnan(predictions[:, t]))
            shuffled[keep, t] = predictions[rng.permutation(keep), t]
        figures.append(mean_score(labels, shuffled, metric))
    return float(np.percentile(figures, 99))


def predict_rows(checkpoint: Path, parts: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Run a checkpoint through the public prediction API on its fixture files; labels and
    predictions side by side, one column per (file, task)."""
    from molapp.inference.predictor import Predictor

    predictor = Predictor.load(checkpoint, "cpu")
    all_labels, all_predictions = [], []
    for part in parts:
        smiles, labels = read_rows(part["rows"], part["tasks"])
        values = predictor.predict(smiles, tasks=part["tasks"]).values.astype(np.float64)
        # Files of a joint panel hold different rows: place each in its own block of columns.
        all_labels.append(labels)
        all_predictions.append(values)
    n = sum(len(x) for x in all_labels)
    width = sum(x.shape[1] for x in all_labels)
    labels = np.full((n, width), np.nan)
    predictions = np.full((n, width), np.nan)
    row = column = 0
    for y, p in zip(all_labels, all_predictions):
        labels[row : row + len(y), column : column + y.shape[1]] = y
        predictions[row : row + len(y), column : column + y.shape[1]] = p
        row, column = row + len(y), column + y.shape[1]
    return labels, predictions


def expected() -> dict:
    return json.loads(EXPECTED.read_text())
