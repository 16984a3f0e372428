"""`python -m molapp.cli.calls`: compute a checkpoint's calls (`molapp.inference.calls`) and
save them beside it: base rates, default thresholds chosen on valid, approved-drug percentiles.

    python -m molapp.cli.calls --checkpoint checkpoints/graphmem-tox21-scaffold
    python -m molapp.cli.calls --checkpoint checkpoints/graphmem-tox21-deployment \\
        --valid-from bench/work/deploy/graphmem-tox21-scaffold-ensemble

Base rates come from the labels of the molecules the checkpoint was trained on (its
applicability-domain index). Thresholds come from predictions for the validation molecules
of the checkpoint's own split; a deployment model (split "all") has none, so
`--valid-from` names a model of the same recipe trained on a canonical split, whose
validation molecules it predicts through this checkpoint's output transform (the deployment
model is uncalibrated, so the thresholds must be too).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch

from molapp.data.dataset import read_labels
from molapp.data.featurize import featurize_smiles
from molapp.inference.calls import TaskCalls, base_rates, max_f1_threshold
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor
from molapp.models.checkpoint import load_checkpoint
from molapp.models.outputs import PredictionModel
from molapp.training.evaluate import checkpoint_groups, split_predictions


def approved_drugs(data_dir: str | None, descriptors: str | None = None) -> list:
    """ClinTox's FDA-approved molecules that standardize and featurize (`APPROVED_SOURCE`)."""
    spec, smiles, labels = read_labels("clintox", data_dir)
    approved = [s for s, flag in zip(smiles, labels[:, spec.tasks.index("FDA_APPROVED")]) if flag == 1]
    return [m for m in featurize_smiles(approved, descriptors=descriptors) if m.ok]


def approved_drug_predictions(predictor: Predictor, data_dir: str | None) -> np.ndarray:
    """The checkpoint's predictions for ClinTox's FDA-approved molecules, sorted per task [n, T]."""
    return np.sort(predictor.predict_molecules(approved_drugs(data_dir, predictor.descriptors)).values, axis=0)


def valid_thresholds(predictor: Predictor, valid_from: Path, data_dir: str | None) -> np.ndarray:
    """Per task, the max-F1 threshold on the validation molecules of `valid_from`'s split,
    predicted by `valid_from`'s network through the predictor's own output module (its
    calibration, or none: a deployment model's probabilities are what the thresholds apply to)."""
    source, source_card = load_checkpoint(valid_from)
    if source_card.tasks != predictor.tasks:
        raise ValueError(f"{valid_from} predicts other tasks than this checkpoint")
    model = PredictionModel(source.network, copy.deepcopy(predictor.model.output).cpu())
    held_out = split_predictions(model, checkpoint_groups(source_card, data_dir, workers=1), "valid")
    return np.array([max_f1_threshold(held_out.labels[:, t], held_out.predictions[:, t]) for t in range(len(predictor.tasks))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.calls", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--valid-from", default=None, help="a checkpoint of the same recipe on a canonical split (default: this one)")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    args = parser.parse_args(argv)

    directory = Path(args.checkpoint)
    predictor = Predictor.load(directory, "auto")
    card = predictor.card
    valid_from = Path(args.valid_from) if args.valid_from else directory
    if card.is_deployment and args.valid_from is None:
        parser.error("a deployment checkpoint (split all) has no validation molecules: name a split model with --valid-from")
    tasks = list(card.tasks)
    classification = card.is_classifier
    try:
        thresholds = valid_thresholds(predictor, valid_from, args.data_dir) if classification else np.full(len(tasks), np.nan)
        approved = approved_drug_predictions(predictor, args.data_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rates = base_rates(DomainIndex.load(directory).labels) if classification else np.full(len(tasks), np.nan)
    source = f"the validation molecules of {valid_from.name}"
    calls = TaskCalls(tasks, rates, thresholds, approved, source, len(approved))
    calls.save(directory)
    print(f"wrote calls for {directory.name}: {len(tasks)} tasks, {len(approved)} approved drugs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    raise SystemExit(main())
