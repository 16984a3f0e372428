"""`python -m molapp.cli.calibrate CHECKPOINT…`: fit a classification checkpoint's per-task
Platt scaling on its canonical validation split (`molapp.training.calibration`), write it
into the card (`calibration`) and re-write `test_predictions.safetensors` with the
calibrated probabilities. Rankings, hence every ROC-AUC on the card, are unchanged.
`python -m molapp.train` and `python -m molapp.cli.ensemble` calibrate the checkpoints they
write; this is for checkpoints written before, or to re-fit.

    python -m molapp.cli.calibrate checkpoints/* --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from molapp.models.checkpoint import load_checkpoint, write_card
from molapp.training.calibration import calibrate
from molapp.training.evaluate import checkpoint_groups, split_predictions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="checkpoint directories (regression ones are skipped)")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    args = parser.parse_args(argv)
    failures = 0
    for directory in map(Path, args.checkpoints):
        if not (directory / "card.json").exists():
            continue  # e.g. the README beside the checkpoint folders
        try:
            model, card = load_checkpoint(directory)
            if card["task_type"] != "classification":
                continue
            groups = checkpoint_groups(card, args.data_dir, args.workers)
        except (FileNotFoundError, ValueError) as exc:
            print(f"{directory}: {exc}", file=sys.stderr)
            failures += 1
            continue
        card["calibration"] = calibrate(model, groups, card)
        write_card(directory, card)
        split_predictions(model, groups, "test", card).save(directory)
        error = card["calibration"]["expected_calibration_error"]["test"]
        print(f"{directory.name}: test calibration error (mean over tasks) {error['before']:.3f} → {error['after']:.3f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
