"""`python -m molapp.cli.checkpoints_table`: write the table of shipped checkpoints, generated
from their cards, into checkpoints/README.md and between the markers in README.md."""

from __future__ import annotations

import re
from pathlib import Path

from molapp.evaluation.split_predictions import SplitPredictions
from molapp.models.card import Card
from molapp.models.checkpoint import read_card
from molapp.models.registry import architecture_summary
from molapp.training.calibration import mean_calibration_error

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- checkpoints-table:start -->", "<!-- checkpoints-table:end -->"


def _fmt(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"


def _calibration(card: Card, directory: Path) -> str:
    """Classification: the test split's calibration error, mean over tasks, raw → calibrated;
    a deployment model (uncalibrated) its estimate's test predictions' raw error; a deployment
    consensus carries its estimate's calibration, and its report."""
    if card.split == "all" and card.task_type == "classification" and card.calibration is None:
        return f"{mean_calibration_error(SplitPredictions.load(directory)):.3f} (uncalibrated)"
    if card.calibration is None:
        return ""
    error = card.calibration.expected_calibration_error["test"]
    return f"{error['before']:.3f} → {error['after']:.3f}"


def checkpoint_rows(directory: Path) -> list[tuple[Path, Card]]:
    """(checkpoint directory, its card), by name."""
    return [(card_path.parent, read_card(card_path.parent)) for card_path in sorted(directory.glob("*/card.json"))]


def table(directory: Path) -> str:
    lines = [
        "| checkpoint | model | data | split | tasks | test | valid | per dataset (test) | test calibration error | architecture | train time | size |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for checkpoint, card in checkpoint_rows(directory):
        size_mb = sum(p.stat().st_size for p in checkpoint.iterdir()) / 1e6
        data = card.dataset if isinstance(card.dataset, str) else " + ".join(card.dataset)
        metric = "ROC-AUC" if card.metric == "roc_auc" else "RMSE"
        per_dataset = card.metrics["test"].get("per_dataset")
        per = ", ".join(f"{k} {_fmt(v)}" for k, v in per_dataset.items()) if per_dataset else ""
        lines.append(
            f"| `{checkpoint.name}` | {card.model} | {data} | {_split(card)} | {len(card.tasks)} "
            f"| {metric} {_fmt(card.metrics['test']['mean'])} | {_fmt(card.metrics['valid']['mean'])} | {per} | {_calibration(card, checkpoint)} "
            f"| {architecture_summary(card)} | {card.train_seconds / 60:.0f} min | {size_mb:.1f} MB |"
        )
    return "\n".join(lines)


def _split(card) -> str:
    """A split model's split; a deployment model's figures are its recipe's on the first split of its estimate."""
    if card.split != "all":
        return card.split
    first = next(iter(card.estimate or {}), None)
    return f"all rows (deployment; figures: its recipe on the {first} split)" if first else "all rows (deployment; no estimate)"


def main() -> int:
    directory = ROOT / "checkpoints"
    body = table(directory)
    readme = directory / "README.md"
    readme.write_text(
        "# Shipped checkpoints\n\n"
        "Generated from each checkpoint's `card.json` by `make checkpoints-table`; do not edit by hand.\n"
        "Test and valid figures are the mean over tasks on the canonical splits in `../shared/data/splits`; the test\n"
        "calibration error (classification) is the expected calibration error (10 bins), mean over tasks, of the raw\n"
        "probabilities → after the per-task Platt scaling fitted on the validation split (`molapp.training.calibration`).\n\n"
        + body + "\n\nEach directory: `weights.safetensors` (weights), `card.json` (what, how trained, metrics per task, "
        "the exact training command), `domain.safetensors` + `domain.json` (applicability-domain index: training-set "
        "Morgan fingerprints, SMILES and labels), `calls.json` + `approved_drugs.safetensors` (base rates, default call "
        "thresholds, approved-drug reference: `python -m molapp.cli.calls`).\n"
    )
    top = ROOT / "README.md"
    if top.exists():
        text = top.read_text()
        if START in text and END in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), START + "\n" + body + "\n" + END, text, flags=re.S)
            top.write_text(text)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
