"""`python -m molapp.cli.evaluate CHECKPOINT…`: score checkpoints on their canonical test
split, print the metric beside the card's, and write `test_predictions.safetensors` beside
each (what the Models page draws ROC curves and reliability plots from).

With `--calibrate`, a classification checkpoint's per-task Platt scaling is first (re)fitted
on its canonical validation split (`molapp.training.calibration`) and saved with the model
(the slope and intercept in its weights, the report in its card), so the test predictions
written are the calibrated ones; rankings, hence the card's ROC-AUC,
are unchanged. `python -m molapp.train` and `python -m molapp.cli.ensemble` calibrate the
checkpoints they write; this is for checkpoints written before.

With `--update-card`, the card's valid and test metrics and split sizes are re-measured and
written too: for when the rows a split yields change (standardization refusing molecules it
used to accept), the network's weights staying as they are. Either option saves the
checkpoint in the current format.

With `--results-dir DIR`, each checkpoint's re-scored test figures go to
`DIR/evaluate-<checkpoint>.json` with this run's provenance (command, commit, packages,
machine, wall time).

    python -m molapp.cli.evaluate checkpoints/* --data-dir ../shared/data [--calibrate] [--update-card] [--results-dir bench/results]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from molapp.cli.train import flatten_metrics
from molapp.evaluation.provenance import provenance
from molapp.models.checkpoint import load_checkpoint, save_checkpoint
from molapp.training.calibration import calibrate
from molapp.training.evaluate import checkpoint_groups, split_predictions
from molapp.metrics import per_task_metrics
from molapp.training.trainer import evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint directories")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs (default: $MOLAPP_DATA)")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    parser.add_argument("--calibrate", action="store_true", help="(re)fit classification checkpoints' calibration on valid first")
    parser.add_argument("--update-card", action="store_true", help="re-measure the card's valid and test metrics and split sizes")
    parser.add_argument("--results-dir", default=None, help="also write each checkpoint's re-scored test figures here (evaluate-<name>.json)")
    args = parser.parse_args(argv)
    failures = 0
    for directory in map(Path, args.checkpoints):
        start = time.time()
        if not (directory / "card.json").exists():
            continue  # e.g. the README beside the checkpoint folders
        try:
            model, card = load_checkpoint(directory)
            groups = checkpoint_groups(card, args.data_dir, args.workers)
        except (FileNotFoundError, ValueError) as exc:
            print(f"{directory}: {exc}", file=sys.stderr)
            failures += 1
            continue
        if args.calibrate and card.is_classifier:
            calibration = calibrate(model, groups)
            model, card.calibration = calibration.model, calibration.report
            error = card.calibration.expected_calibration_error["test"]
            print(f"{directory.name}: test calibration error (mean over tasks) {error['before']:.3f} → {error['after']:.3f}")
            held_out = calibration.test
        else:
            held_out = split_predictions(model, groups, "test")
        if args.update_card:  # after calibration: the metrics are of the outputs the model now gives
            previous = card.metrics["test"]["mean"]
            card.metrics = {part: flatten_metrics(evaluate(model, groups, part), len(groups) > 1) for part in ("valid", "test")}
            card.sizes = {g.name: {"train": len(g.train), "valid": len(g.valid), "test": len(g.test)} for g in groups}
            print(f"{directory.name}: card re-measured, test {card.metric} {previous:.4f} → {card.metrics['test']['mean']:.4f}")
        if (args.calibrate and card.is_classifier) or args.update_card:
            save_checkpoint(directory, model, card)  # weights too: the calibration is in them (and a first-format checkpoint is rewritten in the current one)
        scores = per_task_metrics(held_out.labels, held_out.predictions, card.tasks, card.task_type)
        held_out.save(directory)
        print(f"{directory.name}: test {card.metric} {scores['mean']:.4f} (card {card.metrics['test']['mean']:.4f}); "
              f"wrote {directory / 'test_predictions.safetensors'}")
        if args.results_dir:
            record = {"benchmark": "evaluate", "checkpoint": directory.name, "model": card.model, "dataset": card.dataset,
                      "split": card.split, "metric": card.metric, "test": scores["mean"],
                      "per_task": {t: v for t, v in scores.items() if t != "mean"}, "card_test": card.metrics["test"]["mean"],
                      "provenance": provenance(time.time() - start)}
            out = Path(args.results_dir) / f"evaluate-{directory.name}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(record, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
