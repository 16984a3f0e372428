"""`python -m molapp.cli.consensus`: assemble a consensus checkpoint (`molapp.models.consensus`)
from trained graph checkpoints of one dataset and split, and random forests fitted here on
the same training rows.

    # from split models: forests fitted on the train rows, Platt fitted on valid, figures on test
    python -m molapp.cli.consensus --out bench/work/deploy/consensus-pretrained-tox21-scaffold \\
        --members bench/work/deploy/graphmem-pretrained-tox21-scaffold-recipe-ensemble,checkpoints/memgnn-tox21-scaffold \\
        --forests desc-rf-all:10 --results-dir bench/results
    # from deployment models (trained on every row): forests on every row; the calibration
    # and the figures are those of --estimate, the same recipe's consensus of split models
    python -m molapp.cli.consensus --out checkpoints/consensus-tox21-deployment \\
        --members checkpoints/graphmem-tox21-deployment,bench/work/deploy/memgnn-tox21-all-seed0 \\
        --forests desc-rf-all:10 --estimate bench/work/deploy/consensus-pretrained-tox21-scaffold --results-dir bench/results

The first member must be a GraphMem (its attention is the consensus's explanation). A
forest is `<family>:<min_samples_leaf>`: desc-rf-all (RDKit's whole descriptor list) or
ecfp-rf (ECFP4 bits), the baselines' forests (`molapp.baselines.models.random_forest`).
Each source's reference is its scores of ClinTox's approved drugs, computed here. Build the
calls and the map afterwards (`molapp.cli.calls`, `molapp.cli.build_map`).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from molapp.baselines.models import random_forest
from molapp.cli.calls import approved_drugs
from molapp.cli.ensemble import write_record
from molapp.cli.train import flatten_metrics
from molapp.data.collate import collate
from molapp.featurizers.descriptors import CONSENSUS_BLOCKS, CONSENSUS_FEATURES_VERSION, DESCRIPTORS_VERSION
from molapp.evaluation.split_predictions import SplitPredictions
from molapp.models.card import Card, EstimateSource, MemberSummary
from molapp.models.checkpoint import load_checkpoint, save_checkpoint
from molapp.models.consensus import FOREST_FEATURES, Consensus, ConsensusConfig
from molapp.models.forest import Forest
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.models.registry import explanation_kind, is_assembled
from molapp.training.calibration import calibrate_for_checkpoint
from molapp.training.groups import build_groups
from molapp.training.trainer import TaskGroup, evaluate

SAME = ["dataset", "tasks", "task_type", "split"]  # what every member must share
RULE = "mean of the sources' percentiles among ClinTox's approved drugs, Platt-calibrated on valid"


@dataclasses.dataclass(frozen=True)
class ForestChoice:
    family: str
    leaf: int

    @property
    def name(self) -> str:
        return self.family if self.leaf == 1 else f"{self.family}-leaf{self.leaf}"


def parse_forests(text: str) -> list[ForestChoice]:
    choices = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        family, _, leaf = item.partition(":")
        if family not in FOREST_FEATURES or not (leaf or "1").isdigit() or int(leaf or 1) < 1:
            raise ValueError(f"forest {item!r}: give <family>:<min_samples_leaf>, family one of {', '.join(FOREST_FEATURES)}")
        choices.append(ForestChoice(family, int(leaf or 1)))
    return choices


def fit_forest(features: np.ndarray, labels: np.ndarray, seed: int, leaf: int) -> Forest:
    """One classifier per task on its labelled rows (as `molapp.baselines.models.fit_rf`), as arrays."""
    fitted = []
    for task in range(labels.shape[1]):
        rows = np.flatnonzero(~np.isnan(labels[:, task]))
        fitted.append(random_forest("classification", seed, task, leaf).fit(features[rows], labels[rows, task].astype(int)))
    return Forest.from_sklearn(fitted)


def member_entry(card: Card, directory: Path) -> dict:
    if card.reads_descriptors and card.descriptors != DESCRIPTORS_VERSION:
        raise ValueError(f"{directory}: a consensus member reads the 70 descriptors or none, not {card.descriptors}")
    return {"kind": card.model, "config": card.config, "ensemble_size": card.ensemble_size, "output": card.output,
            "features": "rdkit-70" if card.reads_descriptors else ""}


@torch.inference_mode()
def approved_scores(consensus: Consensus, graphs: list, batch_size: int = 256) -> list[torch.Tensor]:
    """Each source's scores [R, T] of the approved drugs."""
    consensus.eval()
    chunks = [consensus.source_scores(collate(graphs[start:start + batch_size]))[0] for start in range(0, len(graphs), batch_size)]
    return [torch.cat([chunk[s] for chunk in chunks]) for s in range(consensus.config.sources)]


def check_estimate(estimate: Card, card: Card, directory: Path) -> None:
    """The estimate must be the same recipe: the same tasks, graph members of the same kind,
    configuration, size and features, and the same forests."""
    if estimate.model != "consensus" or estimate.is_deployment:
        raise ValueError(f"{directory} is not a consensus of split models")

    def recipe(of: Card) -> tuple:
        return (of.tasks, [(m["kind"], m["config"], m["ensemble_size"], m["features"]) for m in of.config["members"]],
                [f["name"] for f in of.config["forests"]], of.hyperparameters.get("forest_seed"))

    if recipe(estimate) != recipe(card):
        raise ValueError(f"{directory} is not the same recipe (its tasks, graph members or forests differ)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.consensus", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", required=True, help="comma-separated graph checkpoints of one dataset and split, a GraphMem first")
    parser.add_argument("--forests", default="", help="comma-separated <family>:<min_samples_leaf>, family desc-rf-all or ecfp-rf")
    parser.add_argument("--forest-seed", type=int, default=0)
    parser.add_argument("--estimate", default=None, help="deployment members: the same recipe's consensus of split models")
    parser.add_argument("--out", required=True, help="new checkpoint directory")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    parser.add_argument("--results-dir", default=None, help="write assembled-<out's name>.json (deployment-<out's name>.json) here")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    args = parser.parse_args(argv)
    command = "python -m molapp.cli.consensus " + " ".join(argv if argv is not None else sys.argv[1:])
    start = time.time()
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} exists and is not empty; give a new directory")
    directories = [Path(d.strip()) for d in args.members.split(",") if d.strip()]
    try:
        forests = parse_forests(args.forests)
        loaded = [load_checkpoint(d) for d in directories]
        cards = [card for _, card in loaded]
        if not cards or explanation_kind(cards[0].model) != "attention" or any(is_assembled(c.model) for c in cards):
            raise ValueError("the members are trained graph models, a GraphMem first: its attention is what the consensus shows")
        differing = [key for key in SAME if any(getattr(c, key) != getattr(cards[0], key) for c in cards)]
        if differing:
            raise ValueError(f"the members differ in {', '.join(differing)}")
        if not cards[0].is_classifier or len(cards[0].datasets) != 1:
            raise ValueError("a consensus is of classifiers of one dataset")
        if cards[0].is_deployment != bool(args.estimate):
            raise ValueError("--estimate goes with deployment members (trained with --split all), and they need it")
        members = [member_entry(card, d) for card, d in zip(cards, directories)]
        first = cards[0]
        groups, tasks, _, _ = build_groups(first.datasets, first.split, args.data_dir, args.workers, descriptors=CONSENSUS_FEATURES_VERSION)
        approved = [m.graph for m in approved_drugs(args.data_dir, CONSENSUS_FEATURES_VERSION)]
        if not approved:
            raise ValueError("no approved drug of ClinTox could be scored: each source's reference is their scores")
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    group: TaskGroup = groups[0]
    train_features = np.stack([graph.descriptors for graph in group.train.graphs])
    fitted, forest_seconds = [], []
    for choice in tqdm(forests, desc="forests", unit="forest"):
        began = time.perf_counter()
        begin, end = CONSENSUS_BLOCKS[FOREST_FEATURES[choice.family]]
        fitted.append(fit_forest(train_features[:, begin:end], group.train.labels, args.forest_seed, choice.leaf))
        forest_seconds.append(time.perf_counter() - began)
    config = ConsensusConfig(
        num_tasks=len(tasks), members=members, approved_count=len(approved),
        forests=[{"name": c.name, "features": FOREST_FEATURES[c.family], "num_nodes": len(f.feature), "num_roots": len(f.roots),
                  "trees_per_task": f.trees_per_task, "depth": f.depth} for c, f in zip(forests, fitted)])
    consensus = Consensus(config)
    for module, (model, _) in zip(consensus.members, loaded):
        module.load_state_dict(model.state_dict())
    for module, forest in zip(consensus.forests, fitted):
        module.load_state_dict(forest.state_dict())
    consensus.set_approved_scores(approved_scores(consensus, approved))
    model = PredictionModel(consensus, Sigmoid()).eval()

    summaries = [MemberSummary(d.name, c.seed if isinstance(c.seed, int) else c.seed[0], c.command, c.train_seconds,
                               *((c.metrics["valid"]["mean"], c.metrics["test"]["mean"]) if not c.is_deployment else ()))
                 for d, c in zip(directories, cards)]
    summaries += [MemberSummary(c.name, args.forest_seed, f"{command}  (forest {c.family}, min_samples_leaf {c.leaf})", round(s, 1))
                  for c, s in zip(forests, forest_seconds)]
    card = dataclasses.replace(
        first, model="consensus", config=config.to_dict(), ensemble_size=1, command=command, seed=args.forest_seed,
        descriptors=CONSENSUS_FEATURES_VERSION,
        hyperparameters={"members": [d.name for d in directories], "forests": [c.name for c in forests], "forest_seed": args.forest_seed,
                         "rule": RULE},
        members=summaries, train_seconds=round(sum(s.train_seconds for s in summaries), 1), epochs_run=None, best_epoch=None,
        estimate=None, metrics_from=None, calibration=None)
    try:
        if args.estimate:
            estimate_dir = Path(args.estimate)
            estimate_model, estimate_card = load_checkpoint(estimate_dir)
            check_estimate(estimate_card, card, estimate_dir)
            model = PredictionModel(consensus, estimate_model.output).eval()  # its Platt, fitted on its valid molecules
            card.metrics = estimate_card.metrics
            card.estimate = {estimate_card.split: EstimateSource(estimate_dir.name, 1, estimate_card.command,
                                                                 estimate_card.metrics["valid"]["mean"], estimate_card.metrics["test"]["mean"])}
            card.metrics_from = (f"an estimate: the same recipe's {estimate_card.split}-split consensus ({estimate_dir.name}); "
                                 "this model's members were trained on every labelled row, test rows included")
            card.calibration = dataclasses.replace(estimate_card.calibration, fitted_on=f"valid of {estimate_dir.name}")
            # The deployment predicts through the estimate's calibration, so the estimate's own test predictions are its.
            held_out = SplitPredictions.load(estimate_dir)
            if held_out is None:
                raise ValueError(f"{estimate_dir} has no test predictions")
        else:
            card.metrics = {part: flatten_metrics(evaluate(model, groups, part), False) for part in ("valid", "test")}
            calibration = calibrate_for_checkpoint(model, groups)
            model, card.calibration, held_out = calibration.model, calibration.report, calibration.test
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_checkpoint(out, model, card)
    for name in ("domain.safetensors", "domain.json"):
        shutil.copyfile(directories[0] / name, out / name)
    held_out.save(out)
    metrics = card.metrics
    print(f"wrote {out}: consensus of {len(directories)} graph models and {len(forests)} forest{'s' if len(forests) != 1 else ''}"
          f"{', estimated' if args.estimate else ''}: test {card.metric} {metrics['test']['mean']:.4f}, valid {metrics['valid']['mean']:.4f}",
          file=sys.stderr)
    if args.results_dir:  # a deployment's record is named as the ensemble CLI's are; a split consensus's apart
        # from bench/tox21_consensus.py's consensus-<dataset>-<split>*.json
        benchmark, prefix = ("deployment", "deployment") if args.estimate else ("consensus", "assembled")
        write_record(Path(args.results_dir) / f"{prefix}-{out.name}.json", benchmark, out.name, "consensus", card, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
