"""How predictions are scored, for every model (graph models and fingerprint baselines alike):
the masked training losses over labels that may be missing (NaN), and the per-task metrics,
ROC-AUC for classification and RMSE for regression."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

POSITIVE_WEIGHTINGS = ("balanced", "sqrt", "unweighted")
MAX_POSITIVE_WEIGHT = 50.0


def positive_weights(labels: np.ndarray, weighting: str = "balanced") -> np.ndarray:
    """Per-task BCE weight of the positives [num_tasks] from training labels [n, num_tasks]
    (NaN: not measured): negatives/positives ("balanced": both classes weigh the same in the
    loss), or its square root ("sqrt": half way, in log terms, to unweighted), clipped to
    [1, MAX_POSITIVE_WEIGHT]; or 1 ("unweighted": plain BCE)."""
    if weighting not in POSITIVE_WEIGHTINGS:
        raise ValueError(f"positive weighting {weighting!r}: choose one of {', '.join(POSITIVE_WEIGHTINGS)}")
    positives = np.nansum(labels, 0)
    negatives = np.sum(~np.isnan(labels), 0) - positives
    ratio = negatives / np.maximum(positives, 1)
    if weighting == "sqrt":
        ratio = np.sqrt(ratio)
    elif weighting == "unweighted":
        ratio = np.ones_like(ratio)
    return np.clip(ratio, 1.0, MAX_POSITIVE_WEIGHT)


def masked_loss(outputs: torch.Tensor, targets: torch.Tensor, task_type: str, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean loss over the measured entries of `targets` (NaN entries contribute nothing):
    BCE on logits with per-task `pos_weight` [Q] for classification, squared error for
    regression (on targets standardized as the outputs are)."""
    mask = ~torch.isnan(targets)
    target = torch.nan_to_num(targets)
    if task_type == "classification":
        losses = F.binary_cross_entropy_with_logits(outputs, target, pos_weight=pos_weight, reduction="none")
    else:
        losses = (outputs - target) ** 2
    return (losses * mask).sum() / mask.sum().clamp(min=1)


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
