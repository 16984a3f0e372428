"""`python -m molapp.cli.evaluate CHECKPOINT…`: score checkpoints on their canonical test
split, print the metric beside the card's, and write `test_predictions.safetensors` beside
each (what the Models page draws ROC curves and reliability plots from).

    python -m molapp.cli.evaluate checkpoints/* --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from molapp.models.checkpoint import load_checkpoint
from molapp.training.evaluate import checkpoint_groups, split_predictions
from molapp.training.metrics import per_task_metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint directories")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs (default: $MOLAPP_DATA)")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    args = parser.parse_args(argv)
    failures = 0
    for directory in map(Path, args.checkpoints):
        if not (directory / "card.json").exists():
            continue  # e.g. the README beside the checkpoint folders
        try:
            model, card = load_checkpoint(directory)
            groups = checkpoint_groups(card, args.data_dir, args.workers)
        except (FileNotFoundError, ValueError) as exc:
            print(f"{directory}: {exc}", file=sys.stderr)
            failures += 1
            continue
        held_out = split_predictions(model, groups, "test", card)
        scores = per_task_metrics(held_out.labels, held_out.predictions, card["tasks"], card["task_type"])
        held_out.save(directory)
        print(f"{directory.name}: test {card['metric']} {scores['mean']:.4f} (card {card['metrics']['test']['mean']:.4f}); "
              f"wrote {directory / 'test_predictions.safetensors'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
