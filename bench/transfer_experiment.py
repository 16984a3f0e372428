"""The graph knowledge-transfer slides' experiment (Wu, Wang, Hu, Sun): a target task with
10% of its training labels, a helping task with 90%, canonical scaffold split.

As on the slides' "Experiment setting": Tox21 target SR-ARE, helping SR-MMP; SIDER target
Investigations, helping Vascular_disorders. Hidden training labels become NaN (fixed
seed, per task, among the measured ones); valid and test keep every label. Compared:
single-task GCN on each task, multi-task GCN on both, and the task-transfer model on both,
without and with Stage I's neighbourhood max pooling (the slides' Pool(v)).
Their numbers (multi-task model "Our", target / helping test ROC-AUC): Tox21 0.7762 /
0.9233, SIDER 0.6569 / 0.8037.

    python bench/transfer_experiment.py --dataset tox21 --seeds 0,1,2 --max-epochs 100 --patience 20 --threads 1

Each finished run's record is kept in --work-dir and an unfinished run saves its state there:
the same command, killed and started again, carries on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from molapp.data.dataset import LabelledMolecules  # noqa: E402
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS  # noqa: E402
from molapp.training.groups import build_groups  # noqa: E402
from molapp.training import resume  # noqa: E402
from molapp.training.trainer import TaskGroup, TrainConfig, train  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

SETTINGS = {"tox21": ("SR-ARE", "SR-MMP"), "sider": ("Investigations", "Vascular_disorders")}
TARGET_FRACTION, HELPING_FRACTION = 0.1, 0.9
SLIDES = {  # test ROC-AUC (target, helping) from the slides' table
    "tox21": {"GCN (single-task) [slides]": (0.6776, 0.8638), "MoleculeNet multi-task [slides]": (0.7298, 0.8382),
              "Our multi-task [slides]": (0.7762, 0.9233)},
    "sider": {"GCN (single-task) [slides]": (0.5938, 0.6266), "MoleculeNet multi-task [slides]": (0.6315, 0.6503),
              "Our multi-task [slides]": (0.6569, 0.8037)},
}


def columns(data: LabelledMolecules, tasks: list[str], keep_labelled: bool) -> LabelledMolecules:
    """`data` restricted to `tasks` (a copy); with `keep_labelled`, only rows with a label."""
    index = [data.spec.tasks.index(t) for t in tasks]
    labels = data.labels[:, index].copy()
    rows = np.flatnonzero(~np.isnan(labels).all(1)) if keep_labelled else np.arange(len(data))
    spec = dataclasses.replace(data.spec, tasks=list(tasks))
    return LabelledMolecules(spec, data.rows[rows], [data.smiles[i] for i in rows], labels[rows], [data.molecules[i] for i in rows])


def hide_labels(data: LabelledMolecules, fractions: dict[str, float], seed: int) -> LabelledMolecules:
    """Keep `fractions[task]` of each task's measured training labels, NaN the rest."""
    labels = data.labels.copy()
    rng = np.random.default_rng(seed)
    for task, fraction in fractions.items():
        k = data.spec.tasks.index(task)
        measured = np.flatnonzero(~np.isnan(labels[:, k]))
        hidden = rng.permutation(measured)[int(round(fraction * len(measured))):]
        labels[hidden, k] = np.nan
    return dataclasses.replace(data, labels=labels)


def run_stem(name: str, method: str, tasks: list[str], seed: int) -> str:
    """The file stem of one training run in the work folder."""
    slug = "-".join(method.lower().replace("(ours)", "").replace("+", "").split())
    return f"{name}-{slug}-{'-'.join(tasks)}-seed{seed}"


def run(name: str, data_dir: str | None, seed: int, config: TrainConfig, work_dir: Path) -> list[dict]:
    """Every plan's record for one seed. A finished run's record is kept in `work_dir` and reused
    when its settings match; an unfinished one carries on from its saved state
    (`molapp.training.resume`): the experiment takes hours, and a killed process loses at
    most a minute of it."""
    target, helping = SETTINGS[name]
    (group,), _, _, _ = build_groups([name], "scaffold", data_dir, 1)
    train_part = hide_labels(group.train, {target: TARGET_FRACTION, helping: HELPING_FRACTION}, seed=1000 + seed)
    n_target = int((~np.isnan(train_part.labels[:, train_part.spec.tasks.index(target)])).sum())
    n_helping = int((~np.isnan(train_part.labels[:, train_part.spec.tasks.index(helping)])).sum())
    print(f"{name}: training labels kept — {target}: {n_target}, {helping}: {n_helping}", file=sys.stderr)
    records = []
    plans = [("GCN single-task", "gcn", [target]), ("GCN single-task", "gcn", [helping]),
             ("GCN multi-task", "gcn", [target, helping]), ("Transfer (ours)", "transfer", [target, helping]),
             ("Transfer + Stage I pool (ours)", "transfer", [target, helping])]
    for method, kind, tasks in plans:
        pooled = dataclasses.replace(config, seed=seed, neighbourhood_pool="pool" in method)
        stem = work_dir / run_stem(name, method, tasks, seed)
        finished = stem.with_suffix(".json")
        if finished.exists() and (record := json.loads(finished.read_text()))["config"] == pooled.to_dict():
            print(f"== {method} on {tasks}: done before ({finished})", file=sys.stderr)
            records.append(record)
            continue
        sub = TaskGroup(name, list(range(len(tasks))), columns(train_part, tasks, True), columns(group.valid, tasks, False),
                        columns(group.test, tasks, False))
        print(f"== {method} on {tasks} ({len(sub.train)} training molecules)", file=sys.stderr)
        result = train([sub], len(tasks), ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification",
                       pooled, torch.device("cpu"), kind=kind, state_file=stem / resume.STATE_FILE)
        test, valid = result.metrics["test"][name], result.metrics["valid"][name]
        record = {"method": method, "model": kind, "tasks": tasks, "seed": seed, "train_molecules": len(sub.train),
                  "test": {t: test[t] for t in tasks}, "valid": {t: valid[t] for t in tasks},
                  "epochs": result.epochs, "best_epoch": result.best_epoch, "train_seconds": round(result.train_seconds, 1)}
        if kind == "transfer":
            record["task_dependency"] = result.model.task_dependency().detach().cpu().tolist()
        finished.parent.mkdir(parents=True, exist_ok=True)
        finished.write_text(json.dumps({**record, "config": pooled.to_dict()}, indent=2) + "\n")
        (stem / resume.STATE_FILE).unlink(missing_ok=True)
        records.append(record)
    return [{k: v for k, v in r.items() if k != "config"} for r in records]


def table(name: str, records: list[dict]) -> list[dict]:
    """Rows (method, target AUC, helping AUC) averaged over seeds, then the slides' rows."""
    target, helping = SETTINGS[name]
    rows = []
    for method in ["GCN single-task", "GCN multi-task", "Transfer (ours)", "Transfer + Stage I pool (ours)"]:
        chosen = [r for r in records if r["method"] == method]
        if not chosen:  # a file written before the pooled variant existed
            continue
        values = [np.mean([r["test"][t] for r in chosen if t in r["test"]]) for t in (target, helping)]
        spread = [np.std([r["test"][t] for r in chosen if t in r["test"]]) for t in (target, helping)]
        rows.append({"method": method + " [here]", "target": float(values[0]), "helping": float(values[1]),
                     "target_std": float(spread[0]), "helping_std": float(spread[1])})
    rows += [{"method": m, "target": v[0], "helping": v[1]} for m, v in SLIDES[name].items()]
    return rows


def build_parser() -> argparse.ArgumentParser:
    """The command line (also what bench/backfill_provenance.py's reconstructed commands are checked against)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="tox21,sider")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--patience", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--size-pools", type=int, default=32, help="batches of similar-size molecules (see molapp.training.trainer)")
    parser.add_argument("--out-dir", default="bench/results")
    parser.add_argument("--work-dir", default="bench/work/transfer", help="each run's record and an unfinished run's saved state")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TrainConfig(hidden=args.hidden, max_epochs=args.max_epochs, patience=args.patience, size_pools=args.size_pools)
    for name in [n.strip() for n in args.dataset.split(",") if n.strip()]:
        start = time.time()
        records = [r for seed in (int(s) for s in args.seeds.split(",")) for r in run(name, args.data_dir, seed, config, Path(args.work_dir))]
        rows = table(name, records)
        target, helping = SETTINGS[name]
        out = Path(args.out_dir) / f"transfer-experiment-{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"dataset": name, "split": "scaffold (canonical)", "target_task": target, "helping_task": helping,
                                   "target_fraction": TARGET_FRACTION, "helping_fraction": HELPING_FRACTION, "seeds": args.seeds,
                                   "config": config.to_dict(), "metric": "test roc_auc", "table": rows, "runs": records,
                                   "seconds": round(time.time() - start, 1), "provenance": provenance(time.time() - start)}, indent=2) + "\n")
        print(f"\n{name}: target {target} (10% of training labels), helping {helping} (90%) — test ROC-AUC")
        print(f"{'method':36s} {'target':>8s} {'helping':>8s}")
        for row in rows:
            print(f"{row['method']:36s} {row['target']:8.4f} {row['helping']:8.4f}")
        print(f"wrote {out} ({time.time() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
