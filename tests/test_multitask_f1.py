"""Table II's measures: Micro-F1 pools the assays' counts, Macro-F1 averages their F1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from molapp.evaluation.multitask_f1 import assay_scores, by_assay


def test_micro_pools_counts_and_macro_averages_assays():
    # assay A: 2 actives both called, 2 inactives, one called → TP 2, FP 1, FN 0 → F1 0.8
    # assay B: 1 active missed, 1 inactive not called → TP 0, FP 0, FN 1 → F1 0
    scores = assay_scores({
        "A": (np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.7, 0.1])),
        "B": (np.array([1, 0]), np.array([0.2, 0.1])),
    })
    assert scores.f1 == {"A": pytest.approx(0.8), "B": 0.0}
    assert scores.macro_f1 == pytest.approx(0.4)
    assert scores.micro_f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))  # TP 2, FP 1, FN 1 pooled
    assert scores.auc["A"] == pytest.approx(0.75) and scores.auc["B"] == pytest.approx(1.0)
    assert scores.mean_auc == pytest.approx(0.875)


def test_threshold_for_decision_functions():
    labels, decision = np.array([1, 0]), np.array([0.3, -0.2])
    assert assay_scores({"A": (labels, decision)}, threshold=0.0).f1["A"] == 1.0
    assert assay_scores({"A": (labels, decision)}).f1["A"] == 0.0  # read as probabilities, nothing is called


def test_unmeasured_cells_are_left_out_and_one_class_has_no_auc():
    labels = np.array([[1.0, np.nan], [0.0, 1.0], [np.nan, 1.0]])
    scores = np.array([[0.9, 0.0], [0.2, 0.8], [0.5, 0.7]])
    per_assay = by_assay(labels, scores, ["A", "B"])
    assert per_assay["A"][0].tolist() == [1.0, 0.0] and per_assay["B"][1].tolist() == [0.8, 0.7]
    result = assay_scores(per_assay)
    assert math.isnan(result.auc["B"]) and result.mean_auc == result.auc["A"] == 1.0
