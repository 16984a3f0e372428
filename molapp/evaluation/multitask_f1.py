"""The GraphMem paper's Table II measures: Micro-F1, Macro-F1 and mean ROC-AUC over a set of
classification assays, from one model's (or one family of separately trained models')
test scores.

Micro-F1 pools every measured (molecule, assay) pair before counting true and false
positives; Macro-F1 is the mean of the per-assay F1. A score becomes a call at
`threshold` (0.5 for probabilities, 0 for an SVM's decision function).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import roc_auc_score


@dataclass(frozen=True)
class AssayScores:
    """One model's test measures: per assay {assay: value}, and the pooled figures."""

    auc: dict[str, float]
    f1: dict[str, float]
    micro_f1: float
    macro_f1: float
    mean_auc: float

    def to_dict(self) -> dict:
        return asdict(self)


def _f1(true_positives: int, false_positives: int, false_negatives: int) -> float:
    denominator = 2 * true_positives + false_positives + false_negatives
    return 2 * true_positives / denominator if denominator else math.nan


def assay_scores(per_assay: dict[str, tuple[np.ndarray, np.ndarray]], threshold: float = 0.5) -> AssayScores:
    """`per_assay`: {assay: (labels, scores)} of the molecules measured in that assay (labels
    0/1). Separately trained models each give one assay; a joint model gives every assay
    (`by_assay` of its matrix)."""
    auc, f1 = {}, {}
    pooled = np.zeros(3, dtype=np.int64)  # TP, FP, FN over every assay
    for assay, (labels, scores) in per_assay.items():
        active, called = np.asarray(labels) == 1, np.asarray(scores) > threshold
        counts = np.array([(called & active).sum(), (called & ~active).sum(), (~called & active).sum()])
        pooled += counts
        f1[assay] = _f1(*counts)
        auc[assay] = float(roc_auc_score(active, scores)) if 0 < active.sum() < len(active) else math.nan
    return AssayScores(auc=auc, f1=f1, micro_f1=_f1(*pooled), macro_f1=_mean(f1.values()), mean_auc=_mean(auc.values()))


def by_assay(labels: np.ndarray, scores: np.ndarray, assays: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A [n, A] label matrix (NaN = not measured) and its scores as {assay: (labels, scores)}."""
    return {assay: (labels[~np.isnan(labels[:, k]), k], scores[~np.isnan(labels[:, k]), k]) for k, assay in enumerate(assays)}


def _mean(values) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
