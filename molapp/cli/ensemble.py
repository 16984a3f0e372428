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

A deployment ensemble (members trained with `--split all`, on every labelled row) has no
held-out molecules of its own: `--estimate` names ensembles of the same recipe on canonical
splits (scaffold first: the split closest to new chemistry), whose figures become the card's
`metrics` (with `estimate` saying whence) and whose test predictions, made through the
deployment model's uncalibrated output, feed the Models page's curves. A recipe of one
member is a deployment model of one (`--members` names one checkpoint, `--estimate` the
recipe's split run).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

from torch import nn

from molapp.cli.train import flatten_metrics
from molapp.models.card import Card, EstimateSource, MemberSummary
from molapp.models.checkpoint import load_checkpoint, read_card, save_checkpoint
from molapp.models.encoder import encoder_identity
from molapp.models.ensemble import Ensemble
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.models.registry import benchmark_name, model_spec
from molapp.training.calibration import calibrate_for_checkpoint
from molapp.evaluation.provenance import provenance
from molapp.evaluation.split_predictions import SplitPredictions
from molapp.training.evaluate import checkpoint_groups, split_predictions
from molapp.training.trainer import evaluate

SAME = ["model", "dataset", "tasks", "task_type", "split", "featurizer", "config"]  # what every member must share


RECIPE = ["model", "dataset", "tasks", "task_type", "featurizer", "config"]  # what a deployment model shares with its estimate


# What a run trained with before each of these options existed (a card from then does not name
# them): early stopping always, balanced positive weights, no size pools, no descriptors, no pretrained encoder.
BEFORE_THE_OPTION = {"early_stopping": True, "positive_weighting": "balanced", "size_pools": 0, "descriptors": False, "init_encoder": ""}


def recipe_config(card: Card) -> dict:
    """The model config, with a descriptor width of 0 where a card from before descriptors names none."""
    config = dict(card.config)
    if "descriptor_dim" in {f.name for f in dataclasses.fields(model_spec(card.model).config_class)}:
        config.setdefault("descriptor_dim", 0)
    return config


def recipe_hyperparameters(card: Card) -> dict:
    """The hyper-parameters that make a recipe: all but the seed. A run with early stopping
    that ran all its epochs and kept the last one trained exactly as a fixed number of epochs
    does (the same steps, schedule and kept weights), so it counts as that recipe; patience
    means nothing without early stopping, nor a descriptor set to a model that reads none; a
    pretrained encoder is its weights, not the folder they were read from."""
    recipe = {**BEFORE_THE_OPTION, **{k: v for k, v in card.hyperparameters.items() if k != "seed"}}
    if recipe.get("early_stopping") and card.best_epoch == card.epochs_run == recipe.get("max_epochs"):
        recipe["early_stopping"] = False
    if recipe.get("early_stopping") is False:
        recipe.pop("patience", None)
    if not recipe.get("descriptors"):
        recipe.pop("descriptor_set", None)
    if recipe.get("init_encoder"):  # the same pretrained encoder, wherever its folder is
        recipe["init_encoder"] = encoder_identity(recipe["init_encoder"])
    return recipe


def member_summary(directory: Path, card: Card) -> MemberSummary:
    scores = {part: card.metrics[part]["mean"] for part in ("valid", "test") if part in card.metrics}
    return MemberSummary(directory.name, card.seed, card.command, card.train_seconds, **scores)


def deployment_estimate(card: Card, member_card: Card, output: nn.Module, estimates: list[Path], data_dir: str | None,
                        workers: int) -> SplitPredictions:
    """Give a deployment card the figures of its recipe's split ensembles (`card.metrics`
    from the first, `card.estimate` per split); returns the first one's test predictions,
    for classification through the deployment model's `output` (no calibration: a model
    trained on every row has no molecules left to fit one on), for regression through the
    estimate's own target scale."""
    card.estimate = {}
    held_out = None
    for directory in estimates:
        model, source = load_checkpoint(directory)
        differing = [key for key in RECIPE if key != "config" and getattr(source, key) != getattr(member_card, key)]
        differing += ["config"] if recipe_config(source) != recipe_config(member_card) else []
        if differing or recipe_hyperparameters(member_card) != recipe_hyperparameters(source):
            raise ValueError(f"{directory} is not the same recipe (differs in {', '.join(differing) or 'hyperparameters'})")
        card.estimate[source.split] = EstimateSource(directory.name, source.ensemble_size, source.command,
                                                     source.metrics["valid"]["mean"], source.metrics["test"]["mean"])
        if held_out is None:
            card.metrics = source.metrics
            what = "ensemble" if source.ensemble_size > 1 else "run"
            card.metrics_from = (f"an estimate: the same recipe's {source.split}-split {what} ({directory.name}); "
                                 "this model was trained on every labelled row, test rows included")
            # Regression: the estimate's own target scale (fitted on its train rows) is part of its model;
            # classification: the deployment's uncalibrated output, as the deployment predicts.
            estimate_output = model.output if source.task_type == "regression" else output
            held_out = split_predictions(PredictionModel(model.network, estimate_output), checkpoint_groups(source, data_dir, workers), "test")
    return held_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", required=True, help="comma-separated checkpoint directories (two or more; "
                        "one deployment member is a deployment model of one)")
    parser.add_argument("--out", required=True, help="new checkpoint directory")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    parser.add_argument("--results-dir", default=None, help="write ensemble-<out's name>.json here")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    parser.add_argument("--estimate", default="", help="deployment members (split all): comma-separated ensembles of the same recipe on canonical splits, scaffold first")
    args = parser.parse_args(argv)

    start = time.time()
    directories = [Path(d.strip()) for d in args.members.split(",") if d.strip()]
    out = Path(args.out)
    if not directories:
        parser.error("--members names no checkpoint")
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} exists and is not empty; give a new directory")
    try:
        cards = [read_card(d) for d in directories]
        differing = [key for key in SAME if any(getattr(card, key) != getattr(cards[0], key) for card in cards)]
        if differing:
            raise ValueError(f"the members differ in {', '.join(differing)}; an ensemble is one model trained with different seeds")
        if len({card.seed for card in cards}) < len(cards):
            raise ValueError("two members have the same seed: they are the same model")
        if len(cards) == 1 and not cards[0].is_deployment:
            raise ValueError("an ensemble needs at least two members (one is enough only for a deployment model, "
                             "trained with --split all, given its --estimate)")
        loaded = [load_checkpoint(d)[0] for d in directories]
        # the members' mean raw output, through their uncalibrated output (regression: the
        # training labels' scale, the same for every member); a classifier is calibrated below
        output = copy.deepcopy(loaded[0].output) if loaded[0].task_type == "regression" else Sigmoid()
        network = Ensemble([m.network for m in loaded]) if len(loaded) > 1 else loaded[0].network
        ensemble = PredictionModel(network, output).eval()
        deployment = cards[0].is_deployment
        estimates = [Path(d.strip()) for d in args.estimate.split(",") if d.strip()]
        if deployment != bool(estimates):
            raise ValueError("--estimate goes with deployment members (trained with --split all), and they need it: "
                             "they have no held-out molecules of their own")
        if not deployment:
            groups = checkpoint_groups(cards[0], args.data_dir, args.workers)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    members = [member_summary(d, c) for d, c in zip(directories, cards)]
    card = dataclasses.replace(
        cards[0], epochs_run=None, best_epoch=None, calibration=None,
        command="python -m molapp.cli.ensemble " + " ".join(argv if argv is not None else sys.argv[1:]),
        seed=[c.seed for c in cards], members=members, train_seconds=round(sum(c.train_seconds for c in cards), 1),
    )
    if deployment:
        try:
            held_out = deployment_estimate(card, cards[0], ensemble.output, estimates, args.data_dir, args.workers)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        metrics = card.metrics
    else:
        joint = len(groups) > 1
        metrics = card.metrics = {part: flatten_metrics(evaluate(ensemble, groups, part), joint) for part in ("valid", "test")}
        calibration = calibrate_for_checkpoint(ensemble, groups)  # calibrated on the members' mean logit
        ensemble, card.calibration, held_out = calibration.model, calibration.report, calibration.test
    save_checkpoint(out, ensemble, card)
    for name in ("domain.safetensors", "domain.json"):
        shutil.copyfile(directories[0] / name, out / name)
    held_out.save(out)
    metric = card.metric
    for m in members:
        scores = ", ".join(f"{part} {metric} {getattr(m, part):.4f}" for part in ("test", "valid") if getattr(m, part) is not None)
        print(f"  member seed {m.seed}: {scores or 'trained on every row'}", file=sys.stderr)
    what = f"deployment {'ensemble of ' + str(len(members)) if len(members) > 1 else 'model'}, estimated" if deployment else f"ensemble of {len(members)},"
    print(f"wrote {out}: {what} test {metric} {metrics['test']['mean']:.4f}, valid {metrics['valid']['mean']:.4f}", file=sys.stderr)
    if args.results_dir:
        benchmark = "deployment" if deployment else "ensemble"
        write_record(Path(args.results_dir) / f"{benchmark}-{out.name}.json", benchmark, out.name, benchmark_name(cards[0]), card, start)
    return 0


def write_record(path: Path, benchmark: str, checkpoint: str, model: str, card: Card, start: float) -> Path:
    """The results file of a checkpoint assembled from trained ones (an ensemble, a deployment
    model, a consensus): its figures (a deployment's: its estimate's, and whence), its members
    and the provenance of the command that assembled it (`card.command`)."""
    metrics = card.metrics
    summary = {"benchmark": benchmark, "checkpoint": checkpoint, "model": model, "dataset": card.dataset, "split": card.split,
               "metric": card.metric, "members": [{k: v for k, v in dataclasses.asdict(m).items() if v is not None} for m in card.members],
               "valid": metrics["valid"]["mean"], "test": metrics["test"]["mean"],
               "per_task": {t: v for t, v in metrics["test"].items() if t not in ("mean", "per_dataset")},
               **({"estimate": card.to_json()["estimate"], "metrics_from": card.metrics_from} if card.is_deployment else {}),
               "provenance": provenance(time.time() - start, card.command)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
