"""`python -m molapp.cli.ensemble`: combine checkpoints of one model, dataset, split and
configuration, trained with different seeds, into one ensemble checkpoint; score it on the
canonical valid and test splits.

    python -m molapp.cli.ensemble --out checkpoints/memgnn-esol-random \\
        --members bench/work/sweep/memgnn-esol-random-config2,bench/work/sweep/memgnn-esol-random-config2-seed1,…

The ensemble predicts the members' mean (`molapp.models.ensemble`). Its card is the first
member's with the ensemble's own metrics, `ensemble_size`, and `members` (each one's seed,
command, valid and test metric and training time); `train_seconds` is their sum. The
applicability-domain index is the first member's (the members share the training set).
With `--results-dir`, a summary `ensemble-<out's name>.json` goes there.
Build the map afterwards (`python -m molapp.cli.build_map`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from molapp.cli.train import flatten_metrics
from molapp.models.checkpoint import load_checkpoint, read_card, save_checkpoint
from molapp.models.ensemble import Ensemble
from molapp.models.registry import benchmark_name
from molapp.training.calibration import calibrated_test_predictions
from molapp.training.evaluate import checkpoint_groups
from molapp.training.trainer import evaluate

SAME = ["model", "dataset", "tasks", "task_type", "split", "featurizer", "config"]  # what every member must share


def member_summary(directory: Path, card: dict) -> dict:
    return {"checkpoint": directory.name, "seed": card["seed"], "command": card["command"],
            "valid": card["metrics"]["valid"]["mean"], "test": card["metrics"]["test"]["mean"],
            "train_seconds": card["train_seconds"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", required=True, help="comma-separated checkpoint directories (two or more)")
    parser.add_argument("--out", required=True, help="new checkpoint directory")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    parser.add_argument("--results-dir", default=None, help="write ensemble-<out's name>.json here")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    args = parser.parse_args(argv)

    directories = [Path(d.strip()) for d in args.members.split(",") if d.strip()]
    out = Path(args.out)
    if len(directories) < 2:
        parser.error("an ensemble needs at least two --members")
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} exists and is not empty; give a new directory")
    try:
        cards = [read_card(d) for d in directories]
        differing = [key for key in SAME if any(card.get(key) != cards[0].get(key) for card in cards)]
        if differing:
            raise ValueError(f"the members differ in {', '.join(differing)}; an ensemble is one model trained with different seeds")
        if len({card["seed"] for card in cards}) < len(cards):
            raise ValueError("two members have the same seed: they are the same model")
        ensemble = Ensemble([load_checkpoint(d)[0] for d in directories]).eval()
        groups = checkpoint_groups(cards[0], args.data_dir, args.workers)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    joint = len(groups) > 1
    metrics = {part: flatten_metrics(evaluate(ensemble, groups, part, cards[0]), joint) for part in ("valid", "test")}
    members = [member_summary(d, c) for d, c in zip(directories, cards)]
    card = {key: value for key, value in cards[0].items() if key not in ("config", "epochs_run", "best_epoch", "calibration")}
    card |= {
        "command": "python -m molapp.cli.ensemble " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": [c["seed"] for c in cards],
        "metrics": metrics,
        "members": members,
        "train_seconds": round(sum(c["train_seconds"] for c in cards), 1),
    }
    held_out = calibrated_test_predictions(ensemble, groups, card)  # calibrated on the members' mean logit
    save_checkpoint(out, ensemble, card)
    for name in ("domain.safetensors", "domain.json"):
        shutil.copyfile(directories[0] / name, out / name)
    held_out.save(out)
    metric = card["metric"]
    for m in members:
        print(f"  member seed {m['seed']}: test {metric} {m['test']:.4f}, valid {m['valid']:.4f}", file=sys.stderr)
    print(f"wrote {out}: ensemble of {len(members)}, test {metric} {metrics['test']['mean']:.4f}, valid {metrics['valid']['mean']:.4f}", file=sys.stderr)
    if args.results_dir:
        summary = {"benchmark": "ensemble", "checkpoint": out.name, "model": benchmark_name(cards[0]), "dataset": card["dataset"], "split": card["split"], "metric": metric,
                   "command": card["command"], "members": members, "valid": metrics["valid"]["mean"], "test": metrics["test"]["mean"],
                   "per_task": {t: v for t, v in metrics["test"].items() if t not in ("mean", "per_dataset")}}
        path = Path(args.results_dir) / f"ensemble-{out.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
