"""Re-score a checkpoint on its canonical splits: the check that a card's metrics are real."""

from __future__ import annotations

from pathlib import Path

from molapp.models.checkpoint import load_checkpoint
from molapp.training.groups import build_groups
from molapp.training.trainer import evaluate


def evaluate_checkpoint(directory: str | Path, data_dir: str | None = None, workers: int = 1) -> dict:
    """{"valid": {dataset: {task: v, "mean": v}}, "test": {...}} for the checkpoint's own split."""
    model, card = load_checkpoint(directory)
    names = [card["dataset"]] if isinstance(card["dataset"], str) else list(card["dataset"])
    groups, tasks, _, _ = build_groups(names, card["split"], data_dir, workers)
    if tasks != card["tasks"]:
        raise ValueError(f"{directory}: the datasets' tasks no longer match the card's")
    return {part: evaluate(model, groups, part, card) for part in ("valid", "test")}
