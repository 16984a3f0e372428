"""The GraphMem paper's fingerprint baselines on ECFP4 bits.

- `ecfp-svm`: a support-vector machine with the Tanimoto kernel (the usual kernel for binary
  fingerprints), `SVC` (class-balanced, decision function as the score) or `SVR` on
  standardized targets; C chosen per task from `SVM_C_GRID` on the valid set. Above
  `SVM_EXACT_LIMIT` training molecules (hiv) the exact kernel matrix does not fit a
  reasonable budget, so the kernel is approximated: a Nyström feature map on
  `NYSTROEM_LANDMARKS` training molecules drawn with the seed, then a linear SVM on all
  training molecules. The result says so in its notes.
- `ecfp-rf`: random forest, `RF_TREES` trees.
- `ecfp-gb`: histogram gradient boosting, early-stopped on the canonical valid set.
- `mt-nn`: one multi-task MLP in torch, masked BCE with per-task positive weights, or MSE on
  per-task standardized targets; early stopping on the valid mean metric.

The first three train one model per task, each on the molecules labelled for it (NaN labels
are never read); a classification task with one class in train gets NaN predictions, and a
note, rather than an error. Hyper-parameters are fixed (below) and every random choice
follows `seed`. Everything runs on one thread (`n_jobs=1`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR

from molapp.featurizers.fingerprints import tanimoto_kernel
from molapp.metrics import masked_loss, per_task_metrics, positive_weights

SVM_C_GRID = (0.1, 1.0, 10.0)
SVM_EXACT_LIMIT = 10_000  # training molecules up to which the SVM uses the exact Tanimoto kernel
NYSTROEM_LANDMARKS = 2_000
RF_TREES = 100
GB_MAX_ITER, GB_LEARNING_RATE, GB_PATIENCE = 300, 0.1, 15
NN_HIDDEN, NN_DROPOUT, NN_BATCH, NN_LR, NN_WEIGHT_DECAY = (512, 128), 0.3, 128, 1e-3, 1e-5
NN_MAX_EPOCHS, NN_PATIENCE = 100, 10


@dataclass
class BaselineResult:
    """Predictions [n, num_tasks] for valid and test (a probability-like score for
    classification, NaN for a task that could not be trained), and how they were made."""

    valid: np.ndarray
    test: np.ndarray
    seconds: float
    hyperparameters: dict
    notes: list[str] = field(default_factory=list)


@dataclass
class Split3:
    """ECFP bits and labels (NaN = not measured) of the train, valid and test molecules."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# fit_task(train rows labelled for task k, their labels, k) → (valid scores, test scores)
TaskFit = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def score_tasks(labels: np.ndarray, predictions: np.ndarray, tasks: list[str], task_type: str) -> dict[str, float]:
    """`per_task_metrics`, with a task whose predictions are NaN (not trained) scored NaN."""
    labels = labels.astype(np.float64, copy=True)
    labels[np.isnan(predictions)] = np.nan
    return per_task_metrics(labels, np.nan_to_num(predictions), tasks, task_type)


def _task_score(y: np.ndarray, p: np.ndarray, task_type: str) -> float:
    """The metric of one task on labelled rows, oriented so higher is better (−RMSE); NaN
    when it cannot be computed (one class only)."""
    value = per_task_metrics(y[:, None], p[:, None], ["t"], task_type)["t"]
    return value if task_type == "classification" else -value


def per_task(data: Split3, task_type: str, fit_task: TaskFit) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Run `fit_task` for every task on its labelled training rows only."""
    tasks = data.y_train.shape[1]
    valid = np.full((len(data.x_valid), tasks), np.nan)
    test = np.full((len(data.x_test), tasks), np.nan)
    notes = []
    for k in range(tasks):
        rows = np.flatnonzero(~np.isnan(data.y_train[:, k]))
        y = data.y_train[rows, k]
        if (task_type == "classification" and len(np.unique(y)) < 2) or len(rows) < 2:
            notes.append(f"task {k}: {len(rows)} labelled training molecules, {len(np.unique(y))} class(es): not trained (NaN)")
            continue
        valid[:, k], test[:, k] = fit_task(rows, y, k)
    return valid, test, notes


# ---------------------------------------------------------------- SVM (Tanimoto kernel)


def _nystroem_features(data: Split3, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nyström map of the Tanimoto kernel on landmarks drawn from train: φ(x) = K(x, L) K_LL^−½."""
    rng = np.random.default_rng(seed)
    landmarks = data.x_train[rng.choice(len(data.x_train), size=min(NYSTROEM_LANDMARKS, len(data.x_train)), replace=False)]
    values, vectors = np.linalg.eigh(tanimoto_kernel(landmarks, landmarks))
    keep = values > 1e-8 * values.max()
    inverse_root = vectors[:, keep] / np.sqrt(values[keep])
    return tuple((tanimoto_kernel(x, landmarks) @ inverse_root).astype(np.float32) for x in (data.x_train, data.x_valid, data.x_test))


def fit_svm(data: Split3, task_type: str, seed: int) -> BaselineResult:
    start = time.perf_counter()
    exact = len(data.x_train) <= SVM_EXACT_LIMIT
    notes = []
    if exact:
        k_train = tanimoto_kernel(data.x_train, data.x_train)
        k_valid, k_test = tanimoto_kernel(data.x_valid, data.x_train), tanimoto_kernel(data.x_test, data.x_train)
    else:
        f_train, f_valid, f_test = _nystroem_features(data, seed)
        notes.append(f"{len(data.x_train)} training molecules > {SVM_EXACT_LIMIT}: Tanimoto kernel approximated by a Nyström map on "
                     f"{NYSTROEM_LANDMARKS} training molecules drawn with the seed, then a linear SVM on all training molecules")

    def fit_task(rows: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        mean, std = (float(y.mean()), float(y.std()) or 1.0) if task_type == "regression" else (0.0, 1.0)
        target = (y - mean) / std if task_type == "regression" else y.astype(int)
        labelled_valid = ~np.isnan(data.y_valid[:, k])
        best = (-math.inf, None)
        for c in SVM_C_GRID:
            if exact:
                if task_type == "classification":
                    model = SVC(kernel="precomputed", C=c, class_weight="balanced", cache_size=200)
                else:
                    model = SVR(kernel="precomputed", C=c, epsilon=0.1, cache_size=200)
                model.fit(k_train[np.ix_(rows, rows)], target)
                score_of = model.decision_function if task_type == "classification" else model.predict
                valid_p, test_p = score_of(k_valid[:, rows]), score_of(k_test[:, rows])
            else:
                if task_type == "classification":
                    model = LinearSVC(C=c, class_weight="balanced", dual="auto", max_iter=5000, random_state=seed)
                    model.fit(f_train[rows], target)
                    valid_p, test_p = model.decision_function(f_valid), model.decision_function(f_test)
                else:
                    model = LinearSVR(C=c, epsilon=0.1, dual="auto", max_iter=5000, random_state=seed)
                    model.fit(f_train[rows], target)
                    valid_p, test_p = model.predict(f_valid), model.predict(f_test)
            if task_type == "regression":
                valid_p, test_p = valid_p * std + mean, test_p * std + mean
            score = _task_score(data.y_valid[labelled_valid, k], valid_p[labelled_valid], task_type) if labelled_valid.any() else math.nan
            if math.isnan(score):
                score = -abs(math.log10(c))  # no valid signal for this task: prefer C = 1
            if score > best[0]:
                best = (score, (c, valid_p, test_p))
        chosen[k] = best[1][0]
        return best[1][1], best[1][2]

    chosen: dict[int, float] = {}
    valid, test, task_notes = per_task(data, task_type, fit_task)
    hyper = {"kernel": "tanimoto" if exact else f"tanimoto, Nystroem {NYSTROEM_LANDMARKS} landmarks + linear SVM",
             "C_grid": list(SVM_C_GRID), "C_chosen": [chosen.get(k) for k in range(data.y_train.shape[1])],
             "class_weight": "balanced" if task_type == "classification" else None, "epsilon": 0.1 if task_type == "regression" else None}
    return BaselineResult(valid, test, time.perf_counter() - start, hyper, notes + task_notes)


# ---------------------------------------------------------------- random forest, gradient boosting


def random_forest(task_type: str, seed: int, task: int, min_samples_leaf: int = 1) -> RandomForestClassifier | RandomForestRegressor:
    """The baselines' forest for task `task` (unfitted): `RF_TREES` trees, √features per split
    for classification (class-balanced per bootstrap sample), 30 % for regression."""
    if task_type == "classification":
        return RandomForestClassifier(RF_TREES, max_features="sqrt", min_samples_leaf=min_samples_leaf,
                                      class_weight="balanced_subsample", n_jobs=1, random_state=seed + 1000 * task)
    return RandomForestRegressor(RF_TREES, max_features=0.3, min_samples_leaf=min_samples_leaf, n_jobs=1,
                                 random_state=seed + 1000 * task)


def fit_rf(data: Split3, task_type: str, seed: int, min_samples_leaf: int = 1,
           fitted: list | None = None) -> BaselineResult:
    """`fitted`, when given, receives each task's fitted forest (None for a task not trained)."""
    start = time.perf_counter()
    forests = [None] * data.y_train.shape[1]

    def fit_task(rows: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        forests[k] = forest = random_forest(task_type, seed, k, min_samples_leaf).fit(
            data.x_train[rows], y.astype(int) if task_type == "classification" else y)
        if task_type == "classification":
            return forest.predict_proba(data.x_valid)[:, 1], forest.predict_proba(data.x_test)[:, 1]
        return forest.predict(data.x_valid), forest.predict(data.x_test)

    valid, test, notes = per_task(data, task_type, fit_task)
    if fitted is not None:
        fitted.extend(forests)
    hyper = {"n_estimators": RF_TREES, "max_features": "sqrt" if task_type == "classification" else 0.3,
             "min_samples_leaf": min_samples_leaf, "class_weight": "balanced_subsample" if task_type == "classification" else None}
    return BaselineResult(valid, test, time.perf_counter() - start, hyper, notes)


def fit_gb(data: Split3, task_type: str, seed: int) -> BaselineResult:
    start = time.perf_counter()
    iterations: dict[int, int] = {}

    def fit_task(rows: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labelled_valid = ~np.isnan(data.y_valid[:, k])
        y_val = data.y_valid[labelled_valid, k]
        use_valid = labelled_valid.sum() >= 10 and (task_type == "regression" or len(np.unique(y_val)) == 2)
        kwargs = dict(learning_rate=GB_LEARNING_RATE, max_iter=GB_MAX_ITER, max_leaf_nodes=31, min_samples_leaf=10,
                      l2_regularization=1.0, early_stopping=True, n_iter_no_change=GB_PATIENCE, random_state=seed + 1000 * k)
        if task_type == "classification":
            model = HistGradientBoostingClassifier(class_weight="balanced", **kwargs)
            target, y_val = y.astype(int), y_val.astype(int)
        else:
            model = HistGradientBoostingRegressor(**kwargs)
            target = y
        if use_valid:  # early stopping on the canonical valid set
            model.fit(data.x_train[rows], target, X_val=data.x_valid[labelled_valid], y_val=y_val)
        else:  # too few valid labels for this task: 10 % of train, drawn with the seed
            model.fit(data.x_train[rows], target)
        iterations[k] = int(model.n_iter_)
        if task_type == "classification":
            return model.predict_proba(data.x_valid)[:, 1], model.predict_proba(data.x_test)[:, 1]
        return model.predict(data.x_valid), model.predict(data.x_test)

    valid, test, notes = per_task(data, task_type, fit_task)
    hyper = {"learning_rate": GB_LEARNING_RATE, "max_iter": GB_MAX_ITER, "max_leaf_nodes": 31, "min_samples_leaf": 10,
             "l2_regularization": 1.0, "early_stopping": f"valid loss, patience {GB_PATIENCE}",
             "iterations": [iterations.get(k) for k in range(data.y_train.shape[1])]}
    return BaselineResult(valid, test, time.perf_counter() - start, hyper, notes)


# ---------------------------------------------------------------- multi-task MLP


class MultiTaskMLP(torch.nn.Module):
    """ECFP bits → hidden layers (ReLU, dropout) → one output per task."""

    def __init__(self, in_dim: int, num_tasks: int, hidden: tuple[int, ...] = NN_HIDDEN, dropout: float = NN_DROPOUT) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        for width in hidden:
            layers += [torch.nn.Linear(in_dim, width), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
            in_dim = width
        layers.append(torch.nn.Linear(in_dim, num_tasks))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def fit_mtnn(data: Split3, task_type: str, seed: int) -> BaselineResult:
    start = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    y_train = data.y_train.astype(np.float32)
    tasks = y_train.shape[1]
    labelled = ~np.isnan(y_train)
    notes = []
    trainable = np.array([labelled[:, k].sum() >= 2 and (task_type == "regression" or len(np.unique(y_train[labelled[:, k], k])) == 2)
                          for k in range(tasks)])
    for k in np.flatnonzero(~trainable):
        notes.append(f"task {k}: one class (or < 2 labels) in train: not trained (NaN)")
    if task_type == "regression":
        mean = np.array([np.nanmean(y_train[:, k]) if labelled[:, k].any() else 0.0 for k in range(tasks)], dtype=np.float32)
        std = np.array([np.nanstd(y_train[:, k]) if labelled[:, k].any() else 1.0 for k in range(tasks)], dtype=np.float32)
        std[std == 0] = 1.0
        y_fit = (y_train - mean) / std
        pos_weight = torch.ones(tasks)
    else:
        mean, std = np.zeros(tasks, np.float32), np.ones(tasks, np.float32)
        y_fit = y_train
        pos_weight = torch.tensor(positive_weights(y_train, "balanced"), dtype=torch.float32)
    x_train = torch.from_numpy(data.x_train.astype(np.float32))
    y_fit_t = torch.from_numpy(y_fit.astype(np.float32))
    x_valid, x_test = torch.from_numpy(data.x_valid.astype(np.float32)), torch.from_numpy(data.x_test.astype(np.float32))
    model = MultiTaskMLP(x_train.shape[1], tasks)
    optimizer = torch.optim.Adam(model.parameters(), lr=NN_LR, weight_decay=NN_WEIGHT_DECAY)

    def predict(x: torch.Tensor) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            out = model(x)
            out = torch.sigmoid(out) if task_type == "classification" else out
        p = out.numpy().astype(np.float64) * std + mean
        p[:, ~trainable] = np.nan
        return p

    best_score, best_state, best_epoch, stale, epoch = -math.inf, None, 0, 0, 0
    for epoch in range(1, NN_MAX_EPOCHS + 1):
        model.train()
        for batch in torch.randperm(len(x_train), generator=generator).split(NN_BATCH):
            optimizer.zero_grad()
            masked_loss(model(x_train[batch]), y_fit_t[batch], task_type, pos_weight).backward()
            optimizer.step()
        valid_score = score_tasks(data.y_valid, predict(x_valid), [str(k) for k in range(tasks)], task_type)["mean"]
        valid_score = valid_score if task_type == "classification" else -valid_score
        if math.isnan(valid_score) and best_state is None or valid_score > best_score:
            best_score, best_epoch, stale = valid_score, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= NN_PATIENCE:
                break
    model.load_state_dict(best_state)
    hyper = {"hidden": list(NN_HIDDEN), "dropout": NN_DROPOUT, "batch_size": NN_BATCH, "learning_rate": NN_LR,
             "weight_decay": NN_WEIGHT_DECAY, "max_epochs": NN_MAX_EPOCHS, "patience": NN_PATIENCE,
             "loss": "masked BCE, per-task pos_weight = neg/pos clipped to [1, 50]" if task_type == "classification"
             else "masked MSE on per-task standardized targets", "epochs_run": epoch, "best_epoch": best_epoch}
    return BaselineResult(predict(x_valid), predict(x_test), time.perf_counter() - start, hyper, notes)


BASELINES: dict[str, Callable[[Split3, str, int], BaselineResult]] = {
    "ecfp-svm": fit_svm,
    "ecfp-rf": fit_rf,
    "ecfp-gb": fit_gb,
    "mt-nn": fit_mtnn,
    "desc-rf": fit_rf,  # the random forest on the 70 RDKit descriptors GraphMem can read, instead of ECFP bits
    "desc-rf-all": fit_rf,  # the same on all of RDKit's descriptors: what the other ~150 are worth
}
# The input each baseline reads: ECFP4 bits, the 70 whole-molecule descriptors GraphMem reads,
# or all of RDKit's (molapp.featurizers.descriptors).
FEATURES = {name: "all-descriptors" if name == "desc-rf-all" else "descriptors" if name.startswith("desc-") else "ecfp"
            for name in BASELINES}


def fit_predict(model: str, data: Split3, task_type: str, seed: int) -> BaselineResult:
    """Train baseline `model` (a key of `BASELINES`) and predict valid and test."""
    if model not in BASELINES:
        raise ValueError(f"unknown baseline {model!r}; known: {', '.join(BASELINES)}")
    return BASELINES[model](data, task_type, seed)
