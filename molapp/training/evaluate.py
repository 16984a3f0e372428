"""Re-score a checkpoint on its canonical splits: the check that a card's metrics are real;
and a model's predictions on one part of a split, kept for ROC curves and reliability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from molapp.evaluation.split_predictions import SplitPredictions
from molapp.models.batching import predict_graphs
from molapp.models.checkpoint import load_checkpoint
from molapp.models.registry import reads_descriptors
from molapp.training.groups import build_groups
from molapp.training.trainer import TaskGroup, evaluate


def split_predictions(model: nn.Module, groups: list[TaskGroup], part: str, card: dict) -> SplitPredictions:
    """Labels and predictions [n, T] over the card's tasks for `part` of every group; a
    group's molecules are predicted (and labelled) only for its own tasks, NaN elsewhere."""
    num_tasks = len(card["tasks"])
    labels, predictions = [], []
    for group in groups:
        data = getattr(group, part)
        block_labels = np.full((len(data), num_tasks), np.nan, dtype=np.float32)
        block_predictions = np.full((len(data), num_tasks), np.nan, dtype=np.float32)
        block_labels[:, group.task_ids] = data.labels
        block_predictions[:, group.task_ids] = predict_graphs(model, data.graphs, torch.tensor(group.task_ids), card)
        labels.append(block_labels)
        predictions.append(block_predictions)
    return SplitPredictions(np.concatenate(labels), np.concatenate(predictions))


def checkpoint_groups(card: dict, data_dir: str | None, workers: int) -> list[TaskGroup]:
    names = [card["dataset"]] if isinstance(card["dataset"], str) else list(card["dataset"])
    groups, tasks, _, _ = build_groups(names, card["split"], data_dir, workers, descriptors=reads_descriptors(card))
    if tasks != card["tasks"]:
        raise ValueError("the datasets' tasks no longer match the card's")
    return groups


def evaluate_checkpoint(directory: str | Path, data_dir: str | None = None, workers: int = 1) -> dict:
    """{"valid": {dataset: {task: v, "mean": v}}, "test": {...}} for the checkpoint's own split."""
    model, card = load_checkpoint(directory)
    groups = checkpoint_groups(card, data_dir, workers)
    return {part: evaluate(model, groups, part, card) for part in ("valid", "test")}
