"""`python -m molapp.train`: train a model of any kind (GraphMem, MemGNN, GMN, GraSeq, GCN, the
transfer model) on a dataset (or MT-GraphMem on several) with the canonical split, and write a
checkpoint directory. A flag's default is the model's (its config dataclass) or the trainer's.

    python -m molapp.train --dataset tox21 --model graphmem --split scaffold \\
        --out checkpoints/graphmem-tox21-scaffold
    python -m molapp.train --dataset tox21,hiv,bace,bbbp,clintox,sider --model mt-graphmem \\
        --split scaffold --out checkpoints/mt-graphmem-scaffold
    python -m molapp.train --dataset esol --model memgnn --split random \\
        --out checkpoints/memgnn-esol-random

`--split all` trains on every labelled row (a deployment model) for a fixed number of
epochs (`--no-early-stopping --max-epochs N`, fixed beforehand from the same recipe on the
canonical splits): its card has no metrics of its own; `python -m molapp.cli.ensemble
--estimate` gives the deployment ensemble the figures of the recipe's split models.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from molapp.data.splits import SPLIT_KINDS
from molapp.evaluation.provenance import package_versions
from molapp.featurizers.descriptors import DESCRIPTORS_VERSION
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, FEATURIZER_VERSION, NUM_RELATIONS
from molapp.featurizers.fingerprints import FP_BITS, FP_RADIUS
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import resolve_device
from molapp.models.card import Card
from molapp.models.checkpoint import read_card, save_checkpoint
from molapp.models.outputs import PredictionModel, uncalibrated_output
from molapp.models.registry import MODEL_KINDS, benchmark_name
from molapp.training.calibration import calibrate_for_checkpoint
from molapp.training.groups import build_groups
from molapp.training.trainer import TrainConfig, all_options, train

DOMAIN_INDEX_LIMIT = 12_000  # training molecules kept in the applicability-domain index (keeps checkpoints a few MB)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="a dataset name, or a comma-separated list for joint training")
    parser.add_argument("--targets", nargs="+", default=None, help="train on these tasks of the dataset only (default: all)")
    parser.add_argument("--model", choices=list(MODEL_KINDS), default="graphmem")
    parser.add_argument("--split", choices=list(SPLIT_KINDS), default="scaffold", help="a canonical split, or all: every labelled row (deployment)")
    parser.add_argument("--out", required=True, help="checkpoint directory to write")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs (default: $MOLAPP_DATA)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--workers", type=int, default=1, help="processes for featurization")
    parser.add_argument("--results-dir", default=None, help="also write bench/results-style JSON here")
    # One flag per TrainConfig field: the model kinds' hyper-parameters (defaults from their
    # config dataclasses, `molapp.models.spec`) and the training options.
    for option in all_options().values():
        flag = f"--{option.name.replace('_', '-')}"
        if option.type is bool:  # --descriptors / --no-descriptors
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=option.default, help=option.help or None)
        else:
            parser.add_argument(flag, type=option.type, default=option.default, choices=option.choices, help=option.help or None)
    args = parser.parse_args(argv)

    names = [n.strip().lower() for n in args.dataset.split(",") if n.strip()]
    spec = MODEL_KINDS[args.model]
    if not spec.joint and len(names) > 1:
        parser.error(f"several datasets are joint training: use --model {' or '.join(k for k, s in MODEL_KINDS.items() if s.joint)}")
    if args.descriptors and all(option.name != "descriptors" for option in spec.hyperparameters):
        parser.error(f"--descriptors is for the kinds that read descriptors "
                     f"({', '.join(k for k, s in MODEL_KINDS.items() if any(o.name == 'descriptors' for o in s.hyperparameters))})")
    if args.split == "all" and args.early_stopping:
        parser.error("--split all has no validation rows to stop early on: add --no-early-stopping and a fixed --max-epochs")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config = TrainConfig(**{k: getattr(args, k) for k in TrainConfig().to_dict()})

    try:
        groups, tasks, task_types, split_sources = build_groups(names, args.split, args.data_dir, args.workers, descriptors=config.descriptors, targets=args.targets)
    except (FileNotFoundError, ValueError) as exc:  # missing data file, unknown dataset
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(set(task_types)) != 1:
        parser.error("joint training needs datasets of one task type")
    task_type = task_types[0]
    print(f"training {args.model} on {', '.join(names)} ({len(tasks)} tasks, {args.split} split) on {device}", file=sys.stderr)
    try:
        result = train(groups, len(tasks), ATOM_DIM, BOND_DIM, NUM_RELATIONS, task_type, config, device, kind=args.model)
    except ValueError as exc:  # e.g. a validation part that can't be scored
        print(f"error: {exc}", file=sys.stderr)
        return 2

    metrics = {part: flatten_metrics(scores, len(groups) > 1) for part, scores in result.metrics.items()}
    train_smiles = [m.canonical_smiles for g in groups for m in g.train.molecules]
    train_labels = np.full((len(train_smiles), len(tasks)), np.nan, dtype=np.float32)
    offset = 0
    for group in groups:
        train_labels[offset : offset + len(group.train), group.task_ids] = group.train.labels
        offset += len(group.train)
    keep = np.sort(np.random.default_rng(0).permutation(len(train_smiles))[:DOMAIN_INDEX_LIMIT])
    domain = DomainIndex.build([train_smiles[i] for i in keep], train_labels[keep], tasks)

    card = Card(
        model=args.model,
        command="python -m molapp.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        dataset=names[0] if len(names) == 1 else names,
        targets=args.targets or None,
        tasks=tasks,
        task_labels={t: g.train.spec.label(t) for g in groups for t in g.tasks},
        task_dataset={t: g.name for g in groups for t in g.tasks},
        task_type=task_type,
        metric="roc_auc" if task_type == "classification" else "rmse",
        units={g.name: g.train.spec.units for g in groups},
        split=args.split,
        split_source=split_sources,
        seed=config.seed,
        hyperparameters=config.hyperparameters(args.model),
        featurizer=FEATURIZER_VERSION,
        descriptors=DESCRIPTORS_VERSION if config.descriptors else None,
        metrics=metrics,
        sizes={g.name: {"train": len(g.train), "valid": len(g.valid), "test": len(g.test)} for g in groups},
        epochs_run=result.epochs,
        best_epoch=result.best_epoch,
        train_seconds=round(result.train_seconds, 1),
        trained_on=args.split,  # "all": every labelled row (deployment); else the split's train rows
        machine=f"{platform.machine()} {device.type}, {torch.get_num_threads()} threads",
        trained_at=time.strftime("%Y-%m-%d"),
        packages=package_versions(),
        applicability_domain={
            "fingerprint": f"Morgan radius {FP_RADIUS}, {FP_BITS} bits, Tanimoto",
            "index_molecules": len(keep),
            "training_molecules": len(train_smiles),
        },
    )
    model = PredictionModel(result.model, uncalibrated_output(task_type, result.target_mean, result.target_std).to(device))
    held_out = None
    if "test" in metrics:
        calibration = calibrate_for_checkpoint(model, groups)
        model, card.calibration, held_out = calibration.model, calibration.report, calibration.test
    out = save_checkpoint(args.out, model, card)
    domain.save(out)
    if held_out is None:
        print(f"wrote {out}: trained on all {len(train_smiles)} labelled molecules for {result.epochs} epochs", file=sys.stderr)
        return 0
    held_out.save(out)  # ROC and reliability on the Models page
    print(f"wrote {out}: test {card.metric} {metrics['test']['mean']:.4f}, valid {metrics['valid']['mean']:.4f}", file=sys.stderr)
    if args.results_dir:
        write_results(read_card(out), Path(args.results_dir), result.metrics)  # the card as saved, config included
    return 0


def flatten_metrics(by_group: dict, joint: bool) -> dict:
    """{task: v, ..., "mean": v}, plus "per_dataset" means for joint training."""
    flat = {task: v for scores in by_group.values() for task, v in scores.items() if task != "mean"}
    values = [v for v in flat.values() if v == v]
    flat["mean"] = float(np.mean(values)) if values else float("nan")
    if joint:
        flat["per_dataset"] = {name: scores["mean"] for name, scores in by_group.items()}
    return flat


def write_results(card: Card, results_dir: Path, by_group: dict) -> list[Path]:
    """One bench/results JSON per dataset of the run: `<model>-<dataset>-<split>-seed<k>.json`."""
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    targets = card.targets
    for name in by_group["test"]:
        record = {
            "model": benchmark_name(card),
            "dataset": name,
            **({"targets": targets} if targets else {}),
            "split": card.split,
            "seed": card.seed,
            "metric": card.metric,
            "test": by_group["test"][name]["mean"],
            "per_task": {k: v for k, v in by_group["test"][name].items() if k != "mean"},
            "valid": by_group["valid"][name]["mean"],
            "train_seconds": card.train_seconds,
            "trained_with": card.dataset,
        }
        part = f"{name}.{'+'.join(targets)}" if targets else name  # a model of some of the dataset's tasks
        path = results_dir / f"{record['model']}-{part}-{card.split}-seed{card.seed}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    raise SystemExit(main())
