"""Per-task metrics over masked labels: ROC-AUC for classification, RMSE for regression."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score


def per_task_metrics(labels: np.ndarray, predictions: np.ndarray, tasks: list[str], task_type: str) -> dict[str, float]:
    """`labels`, `predictions` [n, num_tasks] (labels NaN where not measured). Returns
    {task: value} plus "mean" over tasks that could be scored (a task with one class
    only in this part has no ROC-AUC and is left out of the mean, as NaN)."""
    scores: dict[str, float] = {}
    for k, task in enumerate(tasks):
        measured = ~np.isnan(labels[:, k])
        y, p = labels[measured, k], predictions[measured, k]
        if task_type == "classification":
            scores[task] = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan
        else:
            scores[task] = float(np.sqrt(np.mean((y - p) ** 2))) if len(y) else math.nan
    finite = [v for v in scores.values() if not math.isnan(v)]
    scores["mean"] = float(np.mean(finite)) if finite else math.nan
    return scores


def better(metric: str, new: float, old: float | None) -> bool:
    """Is `new` an improvement (ROC-AUC up, RMSE down)?"""
    if old is None or math.isnan(old):
        return not math.isnan(new)
    return new > old if metric == "roc_auc" else new < old
