"""`python -m molapp.train`: train a model of any kind (GraphMem, MemGNN, GMN, GraSeq, GCN, the
transfer model) on a dataset (or MT-GraphMem on several) with the canonical split, and write a
checkpoint directory. A flag's default is the model's (its config dataclass) or the trainer's.

    python -m molapp.train --dataset tox21 --model graphmem --split scaffold \\
        --out checkpoints/graphmem-tox21-scaffold
    python -m molapp.train --dataset tox21,hiv,bace,bbbp,clintox,sider --model mt-graphmem \\
        --split scaffold --out checkpoints/mt-graphmem-scaffold
    python -m molapp.train --dataset esol --model memgnn --split random \\
        --out checkpoints/memgnn-esol-random

Your own data (a CSV or SDF of any assay) instead of a registry dataset: `--data` with
the SMILES column and the target columns; the file is checked first (`molapp.data.user_data`:
every unusable row, duplicate and conflict named with its row numbers), the split is generated
(scaffold or random, 80/10/10), and the checkpoint also gets its embedding map and calls:

    python -m molapp.train --data my_screen.csv --smiles-column smiles --targets pIC50 \
        --units "log M" --preset quick --out ~/.molapp/panels/my-screen

`--preset quick|standard|thorough` sets a documented budget (`molapp.training.presets`);
a flag given explicitly wins over it. `--progress FILE` appends one JSON line per epoch
(what the app's background jobs read).

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

from molapp.chem.io import SMILES_COLUMN_NAMES, csv_columns, guess_column
from molapp.data.splits import SPLIT_KINDS
from molapp.data.user_data import USER_SPLITS, check_user_data
from molapp.evaluation.provenance import RunStart, package_versions, provenance
from molapp.featurizers.descriptors import DESCRIPTOR_SET_CHOICES
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, FEATURIZER_VERSION, NUM_RELATIONS
from molapp.featurizers.fingerprints import FP_BITS, FP_RADIUS
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import resolve_device
from molapp.jobs.progress import ProgressLog
from molapp.models.card import Card
from molapp.models.checkpoint import read_card, save_checkpoint
from molapp.models.encoder import load_encoder
from molapp.models.outputs import PredictionModel, uncalibrated_output
from molapp.models.registry import benchmark_name, trainable_kinds
from molapp.training import resume
from molapp.training.calibration import calibrate_for_checkpoint
from molapp.training.groups import build_groups
from molapp.training.presets import PRESETS
from molapp.training.trainer import TrainConfig, all_options, train
from molapp.training.user_panel import build_panel_map, user_groups, write_panel_calls

DOMAIN_INDEX_LIMIT = 12_000  # training molecules kept in the applicability-domain index (keeps checkpoints a few MB)


def main(argv: list[str] | None = None) -> int:
    start = RunStart.now()
    parser = argparse.ArgumentParser(prog="python -m molapp.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a dataset name, or a comma-separated list for joint training")
    source.add_argument("--data", help="your own CSV or SDF of labelled molecules (with --targets; CSV: --smiles-column)")
    parser.add_argument("--targets", nargs="+", default=None,
                        help="train on these tasks only (default: all), each from the dataset that has it; with --data, the target columns (required)")
    parser.add_argument("--smiles-column", default=None, help="--data CSV: the SMILES column (default: one named smiles, any case)")
    parser.add_argument("--units", nargs="+", default=None, help="--data regression targets: their units, one for all or one per target")
    parser.add_argument("--name", default=None, help="--data: the data set's name on the panel (default: the file's name)")
    parser.add_argument("--preset", choices=list(PRESETS), default=None,
                        help="a training budget: " + "; ".join(f"{k} {p.max_epochs} epochs, patience {p.patience}, hidden {p.hidden}, hops {p.hops}" for k, p in PRESETS.items()))
    parser.add_argument("--progress", default=None, help="append one JSON line per epoch (and per phase) to this file")
    parser.add_argument("--panel", action="store_true",
                        help="also write the embedding map and calls (a complete app panel); always on with --data")
    parser.add_argument("--model", choices=list(trainable_kinds()), default="graphmem")
    parser.add_argument("--split", choices=list(SPLIT_KINDS), default="scaffold", help="a canonical split, or all: every labelled row (deployment)")
    parser.add_argument("--out", required=True, help="checkpoint directory to write; a run interrupted there with the same "
                        "settings carries on from its last saved epoch (training_state.pt, saved at most once a minute)")
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
    preset = parser.parse_known_args(argv)[0].preset
    if preset:  # the preset's budget as defaults: a flag given explicitly still wins
        parser.set_defaults(**PRESETS[preset].fields())
    args = parser.parse_args(argv)
    if args.descriptor_set != "rdkit-70" and not args.descriptors:
        parser.error("--descriptor-set chooses what --descriptors reads: add --descriptors")
    if args.data:
        return train_on_file(parser, args, argv, start)

    names = [n.strip().lower() for n in args.dataset.split(",") if n.strip()]
    spec = trainable_kinds()[args.model]
    if not spec.joint and len(names) > 1:
        parser.error(f"several datasets are joint training: use --model {' or '.join(k for k, s in trainable_kinds().items() if s.joint)}")
    if args.descriptors and all(option.name != "descriptors" for option in spec.hyperparameters):
        parser.error(f"--descriptors is for the kinds that read descriptors "
                     f"({', '.join(k for k, s in trainable_kinds().items() if any(o.name == 'descriptors' for o in s.hyperparameters))})")
    if args.init_encoder:
        problem = encoder_problem(args)
        if problem:
            parser.error(problem)
    if args.split == "all" and args.early_stopping:
        parser.error("--split all has no validation rows to stop early on: add --no-early-stopping and a fixed --max-epochs")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config = TrainConfig(**{k: getattr(args, k) for k in TrainConfig().to_dict()})

    try:
        groups, tasks, task_types, split_sources = build_groups(names, args.split, args.data_dir, args.workers, descriptors=descriptor_version(config), targets=args.targets)
    except (FileNotFoundError, ValueError) as exc:  # missing data file, unknown dataset
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(set(task_types)) != 1:
        parser.error("joint training needs datasets of one task type")
    card_extra = {"targets": args.targets} if args.targets else {}  # Card fields besides those every run has
    progress = ProgressLog(args.progress)
    code = train_and_save(args, argv, names[0] if len(names) == 1 else names, groups, tasks, task_types[0], split_sources, config, device,
                          card_extra, start, progress)
    if code == 0 and args.panel and args.split != "all":
        finish_panel(Path(args.out), groups, None, args, progress)
    return code


def encoder_problem(args: argparse.Namespace) -> str | None:
    """Why `--init-encoder` cannot start this run (not a GraphMem, not an encoder, another structure), or None."""
    if all(option.name != "init_encoder" for option in trainable_kinds()[args.model].hyperparameters):
        return "--init-encoder starts a GraphMem (or MT-GraphMem) from a pretrained encoder"
    try:
        _, encoder = load_encoder(args.init_encoder)
    except (FileNotFoundError, ValueError) as exc:
        return str(exc)
    if (encoder.config["hidden"], encoder.config["hops"]) != (args.hidden, args.hops):
        return (f"{args.init_encoder} was pretrained with --hidden {encoder.config['hidden']} --hops {encoder.config['hops']}: "
                "train with the same")
    return None


def descriptor_version(config) -> str | None:
    """The descriptor set the run's molecules carry (`--descriptors`, `--descriptor-set`): its version, or None."""
    return DESCRIPTOR_SET_CHOICES[config.descriptor_set] if config.descriptors else None


def finish_panel(out: Path, groups: list, data, args: argparse.Namespace, progress: ProgressLog) -> None:
    """The embedding map and the calls beside the checkpoint, from the molecules at hand."""
    progress.phase("building the embedding map")
    count = build_panel_map(out, groups, data, workers=max(1, args.workers))
    progress.phase("computing calls")
    write_panel_calls(out, groups, args.data_dir)
    progress.phase("done")
    print(f"wrote the map of {count} molecules and the calls into {out}", file=sys.stderr)


def train_on_file(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None, started: RunStart) -> int:
    """`--data FILE`: check the file, train on its generated split, write the checkpoint
    with its map and calls."""
    if not args.targets:
        parser.error("--data needs --targets: the column(s) to learn")
    if args.split not in USER_SPLITS:
        parser.error(f"--data trains on a split it can measure: --split {' or '.join(USER_SPLITS)}")
    if args.model in ("mt-graphmem", "transfer") or (args.descriptors and args.model != "graphmem"):
        parser.error("--data trains one of graphmem, memgnn, gmn, graseq, gcn (--descriptors: graphmem only)")
    if args.units and len(args.units) not in (1, len(args.targets)):
        parser.error("--units: one for every target, or one per target in --targets' order")
    if args.threads:
        torch.set_num_threads(args.threads)
    progress = ProgressLog(args.progress)
    device = resolve_device(args.device)
    config = TrainConfig(**{k: getattr(args, k) for k in TrainConfig().to_dict()})
    units = dict(zip(args.targets, args.units if args.units and len(args.units) == len(args.targets) else (args.units or [""]) * len(args.targets)))
    progress.phase("checking data")
    smiles_column = args.smiles_column
    path = Path(args.data)
    if smiles_column is None and not path.name.lower().endswith((".sdf", ".sd")) and path.exists():
        try:
            smiles_column = guess_column(csv_columns(path), SMILES_COLUMN_NAMES) or "smiles"
        except ValueError:
            smiles_column = "smiles"
    name = args.name or path.stem
    data = check_user_data(path, smiles_column, args.targets, args.split, config.seed, units, name=name)
    for note in data.report.notes:
        print(f"note: {note.message}", file=sys.stderr)
    if not data.report.ok:
        for problem in data.report.errors:
            print(f"error: {problem.message}", file=sys.stderr)
        return 2
    task_type = data.spec.task_type
    progress.phase("featurizing", molecules=len(data.smiles))
    groups, tasks, _, split_sources = user_groups(data, args.split, config.seed, args.workers, descriptor_version(config))
    card_extra = {**data.card_fields(), "task_units": units if task_type == "regression" and any(units.values()) else None}
    code = train_and_save(args, argv, name, groups, tasks, task_type, split_sources, config, device, card_extra, started, progress)
    if code != 0:
        return code
    finish_panel(Path(args.out), groups, data, args, progress)
    return 0


def train_and_save(args: argparse.Namespace, argv: list[str] | None, dataset: str | list[str], groups: list, tasks: list[str],
                   task_type: str, split_sources: dict, config: TrainConfig, device: torch.device, card_extra: dict,
                   started: RunStart, progress: ProgressLog | None = None) -> int:
    """Train on `groups` and write the checkpoint: card, weights, domain index, test predictions.
    `started`: when the command started and its commit (the results file's wall time counts from then)."""
    names = [dataset] if isinstance(dataset, str) else list(dataset)
    progress = progress or ProgressLog(args.progress)
    print(f"training {args.model} on {', '.join(names)} ({len(tasks)} tasks, {args.split} split) on {device}", file=sys.stderr)
    progress.phase("training", device=device.type, max_epochs=config.max_epochs, metric="roc_auc" if task_type == "classification" else "rmse")
    try:
        result = train(groups, len(tasks), ATOM_DIM, BOND_DIM, NUM_RELATIONS, task_type, config, device, kind=args.model,
                       on_epoch=progress.epoch, state_file=resume.state_path(args.out))
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
        preset=args.preset or None,
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
        descriptors=descriptor_version(config),
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
        **card_extra,
    )
    model = PredictionModel(result.model, uncalibrated_output(task_type, result.target_mean, result.target_std).to(device))
    held_out = None
    progress.phase("calibrating")
    if "test" in metrics:
        calibration = calibrate_for_checkpoint(model, groups)
        model, card.calibration, held_out = calibration.model, calibration.report, calibration.test
    out = save_checkpoint(args.out, model, card)
    domain.save(out)
    resume.state_path(out).unlink(missing_ok=True)  # finished: nothing left to carry on
    if held_out is None:
        print(f"wrote {out}: trained on all {len(train_smiles)} labelled molecules for {result.epochs} epochs", file=sys.stderr)
        return 0
    held_out.save(out)  # ROC and reliability on the Models page
    print(f"wrote {out}: test {card.metric} {metrics['test']['mean']:.4f}, valid {metrics['valid']['mean']:.4f}", file=sys.stderr)
    if args.results_dir:
        saved = read_card(out)  # the card as saved, config included
        write_results(saved, Path(args.results_dir), result.metrics, provenance(time.time() - started.time, saved.command, saved.packages, started.commit))
    return 0


def flatten_metrics(by_group: dict, joint: bool) -> dict:
    """{task: v, ..., "mean": v}, plus "per_dataset" means for joint training."""
    flat = {task: v for scores in by_group.values() for task, v in scores.items() if task != "mean"}
    values = [v for v in flat.values() if v == v]
    flat["mean"] = float(np.mean(values)) if values else float("nan")
    if joint:
        flat["per_dataset"] = {name: scores["mean"] for name, scores in by_group.items()}
    return flat


def write_results(card: Card, results_dir: Path, by_group: dict, run_provenance: dict) -> list[Path]:
    """One bench/results JSON per dataset of the run: `<model>-<dataset>-<split>-seed<k>.json`,
    with the run's provenance block."""
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in by_group["test"]:
        targets = [t for t in card.targets or [] if t in by_group["test"][name]]  # this dataset's
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
            "provenance": run_provenance,
        }
        part = f"{name}.{'+'.join(targets)}" if targets else name  # a model of some of the dataset's tasks
        path = results_dir / f"{record['model']}-{part}-{card.split}-seed{card.seed}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    raise SystemExit(main())
