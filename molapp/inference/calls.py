"""What a prediction means next to the data: per task the base rate of actives in the
training data, the lift of a prediction over it, a default call threshold chosen on the
validation molecules, and where the prediction falls among approved drugs.

Tox21 tasks have 2–12 % actives, so a calibrated probability rarely reaches 0.5: a call at
0.5 says "inactive" to almost everything, measured actives included. The default call of a
task is instead made at the threshold that maximizes F1 on its validation molecules
(`THRESHOLD_RULE`), a rule that weighs finding actives against false alarms whatever the
base rate. The approved-drug percentile (as ADMET-AI reports) places a value among the
model's predictions for the FDA-approved molecules of ClinTox (`APPROVED_SOURCE`), computed
once per checkpoint.

Saved beside the checkpoint: `calls.json` (rule, sources, per-task base rate and threshold)
and `approved_drugs.safetensors` (the approved drugs' predictions, sorted per task).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

THRESHOLD_RULE = "maximum F1 on the validation molecules"
APPROVED_SOURCE = "clintox.csv, FDA_APPROVED = 1"
CALLS_FILE = "calls.json"
APPROVED_FILE = "approved_drugs.safetensors"


def max_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score at or above which calling "active" gives the highest F1 on these molecules
    (NaN labels ignored); NaN when they hold no active or no inactive."""
    measured = ~np.isnan(labels)
    y, s = labels[measured], scores[measured]
    positives = y.sum()
    if positives == 0 or positives == len(y):
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, true_positives = s[order], np.cumsum(y[order])
    called = np.arange(1, len(s) + 1)
    cut = np.r_[s[1:] < s[:-1], True]  # only between distinct scores: ties get the same call
    f1 = np.where(cut, 2 * true_positives / (called + positives), -1.0)
    return float(s[int(np.argmax(f1))])


def percentile_among(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per column, percent of `reference` [m, Q] (sorted per column) below each of `values`
    [n, Q], ties counting half; NaN where the value is NaN or there is no reference."""
    out = np.full(values.shape, np.nan, dtype=np.float32)
    if len(reference) == 0:  # no approved drugs were at hand when the checkpoint was built
        return out
    for q in range(values.shape[1]):
        below = np.searchsorted(reference[:, q], values[:, q], side="left")
        not_above = np.searchsorted(reference[:, q], values[:, q], side="right")
        out[:, q] = np.where(np.isnan(values[:, q]), np.nan, 100.0 * (below + not_above) / (2 * len(reference)))
    return out


def base_rates(labels: np.ndarray) -> np.ndarray:
    """Fraction of actives among the measured molecules, per task [T] (NaN where none)."""
    measured = (~np.isnan(labels)).sum(0)
    return np.where(measured > 0, np.nansum(labels, 0) / np.maximum(measured, 1), np.nan)


@dataclass(frozen=True)
class TaskCalls:
    """Per task [T] of a checkpoint: base rate and default threshold (NaN for regression or
    where they can't be estimated) and the approved drugs' predictions, sorted [n, T]."""

    tasks: list[str]
    base_rate: np.ndarray
    threshold: np.ndarray
    approved: np.ndarray
    threshold_source: str
    approved_count: int

    def columns(self, tasks: list[str]) -> np.ndarray:
        return np.array([self.tasks.index(t) for t in tasks], dtype=np.int64)

    def default_threshold(self, task: str) -> float:
        """The task's threshold; 0.5 where none could be chosen."""
        value = self.threshold[self.tasks.index(task)]
        return 0.5 if np.isnan(value) else float(value)

    def percentile(self, values: np.ndarray, tasks: list[str]) -> np.ndarray:
        """Percent of approved drugs predicted below each value [n, Q] (ties count half),
        NaN where the value is."""
        return percentile_among(self.approved[:, self.columns(tasks)], values)

    def lift(self, values: np.ndarray, tasks: list[str]) -> np.ndarray:
        """Prediction over the task's base rate [n, Q] (NaN for regression)."""
        return values / self.base_rate[self.columns(tasks)]

    def save(self, directory: Path) -> None:
        meta = {
            "tasks": self.tasks,
            "base_rate": {t: _json_float(v) for t, v in zip(self.tasks, self.base_rate)},
            "threshold": {t: _json_float(v) for t, v in zip(self.tasks, self.threshold)},
            "threshold_rule": THRESHOLD_RULE,
            "threshold_source": self.threshold_source,
            "approved_drugs": {"source": APPROVED_SOURCE, "count": self.approved_count},
        }
        (directory / CALLS_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        save_file({"approved": np.ascontiguousarray(self.approved, dtype=np.float32)}, str(directory / APPROVED_FILE))

    @classmethod
    def load(cls, directory: Path) -> TaskCalls | None:
        """The checkpoint's calls, or None for one built before they existed."""
        if not (directory / CALLS_FILE).exists():
            return None
        meta = json.loads((directory / CALLS_FILE).read_text())
        tasks = list(meta["tasks"])
        return cls(tasks, _per_task(meta["base_rate"], tasks), _per_task(meta["threshold"], tasks),
                   load_file(str(directory / APPROVED_FILE))["approved"], meta["threshold_source"], int(meta["approved_drugs"]["count"]))


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 6)


def _per_task(values: dict, tasks: list[str]) -> np.ndarray:
    return np.array([np.nan if values[t] is None else values[t] for t in tasks], dtype=np.float64)
