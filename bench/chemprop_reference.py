"""Chemprop 2.3.1, run here on the canonical splits: the peer every molapp figure is set beside.

    python3 -m venv bench/.chemprop-venv && bench/.chemprop-venv/bin/pip install torch==2.13.0 chemprop==2.3.1
    MOLAPP_DATA=../shared/data .venv/bin/python bench/chemprop_reference.py --dataset tox21 --split scaffold --variant dmpnn --seed 0
    MOLAPP_DATA=../shared/data .venv/bin/python bench/chemprop_reference.py --dataset tox21 --split random --variant rdkit --seed 0
    MOLAPP_DATA=../shared/data .venv/bin/python bench/chemprop_reference.py --dataset nci60_balanced --targets AID83 --split scaffold

Chemprop lives in its own venv (bench/.chemprop-venv, not committed): it pins its own
lightning and reads its own RDKit. This script writes the rows of the canonical split to a
CSV with a `split` column (train / val / test, the split file's parts; rows the split file
marks invalid are left out), runs `chemprop train` with its defaults (`dmpnn`) or with
RDKit's 200 normalized 2D descriptors as ADMET-AI does (`rdkit`:
`--molecule-featurizers v1_rdkit_2d_normalized --no-descriptor-scaling`), predicts the
valid and test rows with `chemprop predict` (its checkpoint of the best validation loss, `best.pt`), and scores them with molapp's own per-task ROC-AUC / RMSE
(`molapp.metrics.per_task_metrics`). One results file per run:
bench/results/chemprop-<variant>-<dataset>-<split>-seed<k>.json, with its provenance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from molapp.data.dataset import read_labels  # noqa: E402
from molapp.data.splits import dataset_split  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402
from molapp.metrics import per_task_metrics  # noqa: E402

CHEMPROP = ROOT / "bench" / ".chemprop-venv" / "bin" / "chemprop"
VARIANTS = {"dmpnn": [], "rdkit": ["--molecule-featurizers", "v1_rdkit_2d_normalized", "--no-descriptor-scaling"]}
BENCHMARK_NAMES = {"dmpnn": "chemprop", "rdkit": "chemprop-rdkit"}


def chemprop_version() -> str:
    python = CHEMPROP.parent / "python"
    return subprocess.run([str(python), "-c", "import chemprop; print(chemprop.__version__)"], capture_output=True, text=True, check=True).stdout.strip()


def split_table(dataset: str, split: str, data_dir: str | None, targets: list[str] | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """The split's rows with their SMILES, targets and Chemprop's `split` column; with
    `targets`, those tasks only and the rows measured in at least one of them, as
    `molapp.train --targets` keeps them (`LabelledMolecules.restricted_to`)."""
    spec, smiles, labels = read_labels(dataset, data_dir)
    parts, _ = dataset_split(dataset, split, smiles, data_dir)
    tasks = list(targets or spec.tasks)
    unknown = [t for t in tasks if t not in spec.tasks]
    if unknown:
        raise ValueError(f"{dataset} has no task {', '.join(map(repr, unknown))}; its tasks: {', '.join(spec.tasks)}")
    labels = labels[:, [spec.tasks.index(t) for t in tasks]]
    rows, names = [], []
    for part, name in ((parts.train, "train"), (parts.valid, "val"), (parts.test, "test")):
        measured = [r for r in part if not (targets and np.isnan(labels[r]).all())]
        rows += measured
        names += [name] * len(measured)
    table = pd.DataFrame(labels[rows], columns=tasks)
    table.insert(0, "smiles", [smiles[r] for r in rows])
    table["split"] = names
    return table, tasks, spec.task_type


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="tox21")
    parser.add_argument("--split", choices=["random", "scaffold"], required=True)
    parser.add_argument("--variant", choices=list(VARIANTS), default="dmpnn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", nargs="+", default=None, help="some of the dataset's tasks (as molapp.train --targets)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--work-dir", default=str(ROOT / "bench" / "work" / "chemprop"))
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    if not CHEMPROP.exists():
        parser.error(f"{CHEMPROP} not found: install Chemprop into bench/.chemprop-venv first (see this script's docstring)")

    start = time.time()
    dataset_name = args.dataset + ("-" + "-".join(args.targets).lower() if args.targets else "")
    name = f"{BENCHMARK_NAMES[args.variant]}-{dataset_name}-{args.split}-seed{args.seed}"
    work = Path(args.work_dir) / name
    work.mkdir(parents=True, exist_ok=True)
    try:
        table, tasks, task_type = split_table(args.dataset, args.split, args.data_dir, args.targets)
    except ValueError as exc:
        parser.error(str(exc))
    table.to_csv(work / "data.csv", index=False)

    train_command = [str(CHEMPROP), "train", "--data-path", str(work / "data.csv"), "--task-type", task_type,
                     "--smiles-columns", "smiles", "--target-columns", *tasks, "--splits-column", "split",
                     "--output-dir", str(work / "model"), "--pytorch-seed", str(args.seed), "--data-seed", str(args.seed),
                     "--num-workers", "0", *VARIANTS[args.variant]]
    out = Path(args.results_dir) / f"{name}.json"
    trained = sorted((work / "model").rglob("best.pt"))
    timing_note = None
    if trained and out.exists():  # a finished run is scored again, not retrained: its training time stands
        earlier = json.loads(out.read_text())
        train_seconds = earlier.get("train_seconds", earlier.get("wall_seconds"))
    elif trained:  # trained, but the scoring step did not finish: Chemprop's own files time the training
        train_seconds = trained[0].stat().st_mtime - (work / "model" / "config.toml").stat().st_mtime
        timing_note = "train_seconds from Chemprop's files: model/config.toml written to best.pt written"
    else:
        subprocess.run(train_command, check=True)
        trained = sorted((work / "model").rglob("best.pt"))
        train_seconds = time.time() - start
    scores, predict_commands = {}, []
    for part, split_name in (("valid", "val"), ("test", "test")):
        rows = table[table["split"] == split_name]
        rows[["smiles"]].to_csv(work / f"{part}.csv", index=False)
        command = [str(CHEMPROP), "predict", "--test-path", str(work / f"{part}.csv"), "--smiles-columns", "smiles",
                   "--model-paths", str(trained[0]), "--preds-path", str(work / f"{part}_predictions.csv"),
                   "--num-workers", "0", *VARIANTS[args.variant]]
        subprocess.run(command, check=True)
        predicted = pd.read_csv(work / f"{part}_predictions.csv")[tasks].to_numpy(dtype=np.float64)
        scores[part] = per_task_metrics(rows[tasks].to_numpy(dtype=np.float64), predicted, tasks, task_type)
        predict_commands.append(" ".join(command))

    record = {
        "model": BENCHMARK_NAMES[args.variant],
        "dataset": args.dataset,
        **({"targets": args.targets} if args.targets else {}),
        "split": args.split,
        "seed": args.seed,
        "metric": "roc_auc" if task_type == "classification" else "rmse",
        "test": scores["test"]["mean"],
        "per_task": {t: v for t, v in scores["test"].items() if t != "mean"},
        "valid": scores["valid"]["mean"],
        "train_seconds": round(train_seconds, 1),
        "rows": {part: int((table["split"] == part).sum()) for part in ("train", "val", "test")},
        "chemprop_commands": [" ".join(train_command), *predict_commands],
        **({"train_seconds_note": timing_note} if timing_note else {}),
        "provenance": provenance(time.time() - start),
    }
    record["provenance"]["packages"]["chemprop"] = chemprop_version()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{name}: test {record['metric']} {record['test']:.4f}, valid {record['valid']:.4f} ({record['provenance']['wall_seconds']:.0f} s) → {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
