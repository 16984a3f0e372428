"""Re-score a checkpoint on its canonical splits: the check that a card's metrics are real;
and a model's predictions on one part of a split, kept for ROC curves and reliability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from molapp.evaluation.split_predictions import SplitPredictions
from molapp.models.batching import predict_graphs
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint
from molapp.models.outputs import PredictionModel
from molapp.training.groups import build_groups
from molapp.training.trainer import TaskGroup, evaluate


def split_predictions(model: PredictionModel, groups: list[TaskGroup], part: str) -> SplitPredictions:
    """Labels and predictions [n, T] over all the groups' tasks for `part` of every group; a
    group's molecules are predicted (and labelled) only for its own tasks, NaN elsewhere."""
    num_tasks = sum(len(group.task_ids) for group in groups)
    labels, predictions = [], []
    for group in groups:
        data = getattr(group, part)
        block_labels = np.full((len(data), num_tasks), np.nan, dtype=np.float32)
        block_predictions = np.full((len(data), num_tasks), np.nan, dtype=np.float32)
        block_labels[:, group.task_ids] = data.labels
        block_predictions[:, group.task_ids] = predict_graphs(model, data.graphs, torch.tensor(group.task_ids)).values
        labels.append(block_labels)
        predictions.append(block_predictions)
    return SplitPredictions(np.concatenate(labels), np.concatenate(predictions))


def checkpoint_groups(card: Card, data_dir: str | None, workers: int) -> list[TaskGroup]:
    groups, tasks, _, _ = build_groups(card.datasets, card.split, data_dir, workers, descriptors=card.descriptors if card.reads_descriptors else None)
    if tasks != card.tasks:
        raise ValueError("the datasets' tasks no longer match the card's")
    return groups


def evaluate_checkpoint(directory: str | Path, data_dir: str | None = None, workers: int = 1) -> dict:
    """{"valid": {dataset: {task: v, "mean": v}}, "test": {...}} for the checkpoint's own split."""
    model, card = load_checkpoint(directory)
    groups = checkpoint_groups(card, data_dir, workers)
    return {part: evaluate(model, groups, part) for part in ("valid", "test")}
