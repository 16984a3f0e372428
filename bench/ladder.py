"""The baseline ladder: every model × dataset × split × seed on the canonical splits, one
bench/results file per run (`<model>-<dataset>-<split>-seed<k>.json`, the format of
`molapp.cli.train.write_results`). A run whose file exists is skipped, so the script resumes.

    OMP_NUM_THREADS=1 .venv/bin/python bench/ladder.py --seeds 0,1,2            # fingerprint models
    OMP_NUM_THREADS=1 .venv/bin/python bench/ladder.py --models graphmem,memgnn --datasets esol --seeds 0

Fingerprint models (`molapp.baselines`: ecfp-svm, ecfp-rf, ecfp-gb, mt-nn) run in this
process on ECFP4 bits of the standardized molecules, desc-rf on their 70 RDKit descriptors, desc-rf-all on all of RDKit's
(`molapp.featurizers.descriptors`); each dataset is loaded and featurized once per run. Graph models run `python -m molapp.train` as a subprocess (one
thread, checkpoint in bench/work/<model>-<dataset>-<split>-seed<k>, its log beside it as <that>.log) with these epoch budgets
(`GRAPH_EPOCHS`, each kind's `ModelSpec.ladder_flags`): graphmem, mt-graphmem: the trainer's default (60 epochs, patience 12);
transfer: 30 / 8 in batches of similar-size molecules (`--size-pools 32`: its n × n node
attention pads each molecule to the batch's largest); memgnn, gmn: 150 / 40 (the memory
models' clustering needs longer, as in bench/train_memory_models.sh); gcn, graseq: 100 / 20. A joint kind (mt-graphmem) is trained once per split
and seed on all six classification datasets together and writes a file for each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rdkit import Chem  # noqa: E402
from tqdm import tqdm  # noqa: E402

from molapp.baselines import BASELINES, ECFP_BITS, ECFP_RADIUS, FEATURES, Split3, ecfp_of_smiles, fit_predict, score_tasks  # noqa: E402
from molapp.featurizers.descriptors import (ALL_RDKIT_DESCRIPTOR_NAMES, ALL_RDKIT_DESCRIPTORS_VERSION, DESCRIPTOR_DIM,  # noqa: E402
                                            DESCRIPTORS_VERSION, all_rdkit_descriptors)
from molapp.data.dataset import LabelledMolecules, load_dataset  # noqa: E402
from molapp.data.registry import DATASETS, split_path  # noqa: E402
from molapp.data.dataset import SplitMolecules  # noqa: E402
from molapp.models.registry import MODEL_KINDS, trainable_kinds  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
FINGERPRINT_MODELS = list(BASELINES)  # ecfp-svm, ecfp-rf, ecfp-gb, mt-nn, desc-rf
GRAPH_EPOCHS: dict[str, list[str]] = {kind: list(spec.ladder_flags) for kind, spec in trainable_kinds().items()}
JOINT_DATASETS = ["tox21", "hiv", "bace", "bbbp", "clintox", "sider"]  # a joint kind (mt-graphmem) trains on these together


@dataclass(frozen=True)
class Run:
    model: str
    dataset: str
    split: str
    seed: int

    def path(self, results_dir: Path) -> Path:
        return results_dir / f"{self.model}-{self.dataset}-{self.split}-seed{self.seed}.json"


FEATURE_TEXT = {
    "descriptors": f"{DESCRIPTOR_DIM} RDKit descriptors ({DESCRIPTORS_VERSION}) of the standardized molecules",
    "all-descriptors": f"all {len(ALL_RDKIT_DESCRIPTOR_NAMES)} RDKit descriptors ({ALL_RDKIT_DESCRIPTORS_VERSION}) of the standardized molecules",
    "ecfp": f"ECFP4 (Morgan radius {ECFP_RADIUS}, {ECFP_BITS} bits) of the standardized canonical SMILES",
}


@dataclass
class Featurized:
    """A dataset's labelled molecules and, for those that standardized, the features the
    runs asked for: ECFP4 bits and/or descriptors (CSV row → vector)."""

    data: LabelledMolecules
    seconds: float
    bits: dict[int, np.ndarray] | None = None
    descriptors: dict[int, np.ndarray] | None = None
    all_descriptors: dict[int, np.ndarray] | None = None

    def features(self, kind: str) -> tuple[dict[int, np.ndarray], int]:
        """(CSV row → feature vector, width) of `kind` ("ecfp", "descriptors" or "all-descriptors")."""
        if kind == "all-descriptors":
            return self.all_descriptors, len(ALL_RDKIT_DESCRIPTOR_NAMES)
        return (self.descriptors, DESCRIPTOR_DIM) if kind == "descriptors" else (self.bits, ECFP_BITS)


def featurize_dataset(name: str, data_dir: str | None, kinds: set[str]) -> Featurized:
    """Only the kinds of features asked for ("ecfp", "descriptors", "all-descriptors"): ECFP
    of HIV's 41k molecules is not worth computing for desc-rf alone."""
    start = time.perf_counter()
    data = load_dataset(name, data_dir, descriptors=DESCRIPTORS_VERSION if "descriptors" in kinds else None)
    ok = [i for i, m in enumerate(data.molecules) if m.ok]
    bits = described = all_described = None
    if "all-descriptors" in kinds:  # of the standardized molecule, as the 70 are
        matrix = all_rdkit_descriptors([Chem.MolFromSmiles(data.molecules[i].canonical_smiles) for i in ok])
        all_described = {int(data.rows[i]): matrix[j] for j, i in enumerate(ok)}
    if "ecfp" in kinds:
        matrix = ecfp_of_smiles([data.molecules[i].canonical_smiles for i in ok])
        bits = {int(data.rows[i]): matrix[j] for j, i in enumerate(ok)}
    if "descriptors" in kinds:
        described = {int(data.rows[i]): data.molecules[i].graph.descriptors for i in ok}
    return Featurized(data, time.perf_counter() - start, bits, described, all_described)


def split_arrays(features: Featurized, split: SplitMolecules, kind: str = "ecfp") -> Split3:
    """Features of `kind` and labels of each part of `split` (of `features.data`), whose parts
    keep only molecules that standardized and featurized (exactly the rows the graph models
    train and are scored on)."""
    by_row, width = features.features(kind)
    arrays = []
    for subset in (split.train, split.valid, split.test):
        x = np.stack([by_row[int(r)] for r in subset.rows]) if len(subset) else np.zeros((0, width), np.float32)
        arrays += [x, subset.labels.astype(np.float64)]
    return Split3(*arrays)


def record_for(run: Run, data: Split3, tasks: list[str], task_type: str, split_source: str) -> dict:
    """Train one fingerprint model and return its results record."""
    result = fit_predict(run.model, data, task_type, run.seed)
    test = score_tasks(data.y_test, result.test, tasks, task_type)
    valid = score_tasks(data.y_valid, result.valid, tasks, task_type)
    return {
        "model": run.model,
        "dataset": run.dataset,
        "split": run.split,
        "seed": run.seed,
        "metric": "roc_auc" if task_type == "classification" else "rmse",
        "test": test["mean"],
        "per_task": {k: v for k, v in test.items() if k != "mean"},
        "valid": valid["mean"],
        "train_seconds": round(result.seconds, 1),
        "trained_with": run.dataset,
        "features": FEATURE_TEXT[FEATURES[run.model]],
        "split_source": split_source,
        "sizes": {"train": len(data.x_train), "valid": len(data.x_valid), "test": len(data.x_test)},
        "hyperparameters": result.hyperparameters,
        "notes": result.notes,
        "trained_at": time.strftime("%Y-%m-%d"),
        "provenance": provenance(result.seconds),  # this model's fit; the command is the ladder's
    }


def write_record(record: dict, path: Path) -> None:
    """Write atomically, so an interrupted run never leaves a file that resuming would skip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(record, indent=2, allow_nan=True) + "\n")
    partial.replace(path)


def run_fingerprint_models(runs: list[Run], results_dir: Path, data_dir: str | None, bar: tqdm) -> list[Path]:
    written = []
    for dataset in dict.fromkeys(r.dataset for r in runs):
        bar.set_description(f"featurizing {dataset}")
        kinds = {FEATURES[r.model] for r in runs if r.dataset == dataset}
        features = featurize_dataset(dataset, data_dir, kinds)
        spec = features.data.spec
        usable = sum(m.ok for m in features.data.molecules)
        tqdm.write(f"{dataset}: {usable} of {len(features.data)} molecules featurized ({', '.join(sorted(kinds))}) in {features.seconds:.1f} s")
        for split in dict.fromkeys(r.split for r in runs if r.dataset == dataset):
            parts = features.data.split(split, data_dir)
            data = {kind: split_arrays(features, parts, kind) for kind in kinds}
            for run in [r for r in runs if r.dataset == dataset and r.split == split]:
                bar.set_description(f"{run.model} {dataset} {split} seed {run.seed}")
                record = record_for(run, data[FEATURES[run.model]], spec.tasks, spec.task_type, parts.source)
                write_record(record, run.path(results_dir))
                written.append(run.path(results_dir))
                tqdm.write(f"{run.model} {dataset} {split} seed {run.seed}: test {record['metric']} {record['test']:.3f}, "
                           f"valid {record['valid']:.3f}, {record['train_seconds']} s")
                bar.update()
    return written


def work_dir(run: Run) -> Path:
    """Where a graph run's checkpoint goes (one joint folder per joint kind, split and seed)."""
    name = "joint" if MODEL_KINDS[run.model].joint else run.dataset
    return WORK / f"{run.model}-{name}-{run.split}-seed{run.seed}"


def graph_command(run: Run, results_dir: Path, data_dir: str | None) -> list[str]:
    dataset = ",".join(JOINT_DATASETS) if MODEL_KINDS[run.model].joint else run.dataset
    command = [sys.executable, "-m", "molapp.train", "--dataset", dataset, "--model", run.model, "--split", run.split,
               "--seed", str(run.seed), "--threads", "1", "--results-dir", str(results_dir),
               "--out", str(work_dir(run)), *GRAPH_EPOCHS[run.model]]
    return command + (["--data-dir", data_dir] if data_dir else [])


def how_it_ended(returncode: int) -> str:
    """A failed subprocess's end in words: a negative code is the signal that killed it."""
    if returncode >= 0:
        return f"exited {returncode}"
    if returncode == -signal.SIGKILL:  # nothing in the log says so: the process had no chance to write
        return "was killed (SIGKILL: on Linux usually the out-of-memory killer; see dmesg)"
    return f"was killed by signal {-returncode}"


def run_graph_models(runs: list[Run], results_dir: Path, data_dir: str | None, bar: tqdm) -> list[str]:
    """Each run as a `molapp.train` subprocess; returns the failures (the ladder goes on)."""
    failures = []
    done = set()
    for run in runs:
        key = (run.model, run.split, run.seed) if MODEL_KINDS[run.model].joint else run
        if key in done or run.path(results_dir).exists():  # a joint run writes every dataset's file
            bar.update()
            continue
        done.add(key)
        bar.set_description(f"{run.model} {run.dataset} {run.split} seed {run.seed}")
        command = graph_command(run, results_dir, data_dir)
        log_path = work_dir(run).with_suffix(".log")  # `tail -f` it to follow an hour-long run's epochs
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            completed = subprocess.run(command, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                       stdout=log, stderr=subprocess.STDOUT, text=True)
        lines = log_path.read_text().replace("\r", "\n").strip().splitlines()
        if completed.returncode != 0:
            last_lines = "\n".join(lines[-5:])[-500:]
            failures.append(f"{' '.join(command)} {how_it_ended(completed.returncode)} (log {log_path}): {last_lines}")
        tqdm.write(lines[-1] if lines else f"{run} done")
        bar.update()
    return failures


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The ladder's command line (also what bench/backfill_provenance.py's reconstructed commands are checked against)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(FINGERPRINT_MODELS),
                        help=f"comma-separated, of {', '.join([*FINGERPRINT_MODELS, *GRAPH_EPOCHS])}")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--splits", default="random,scaffold")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--results-dir", default=str(RESULTS))
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    models, datasets, splits = _names(args.models), [d.lower() for d in _names(args.datasets)], _names(args.splits)
    seeds = [int(s) for s in _names(args.seeds)]
    unknown = [m for m in models if m not in FINGERPRINT_MODELS and m not in GRAPH_EPOCHS]
    unknown += [d for d in datasets if d not in DATASETS] + [s for s in splits if s not in ("random", "scaffold")]
    if unknown:
        parser.error(f"unknown model, dataset or split: {', '.join(unknown)}")
    missing = [f"{d}_{s}.json" for d in datasets for s in splits if split_path(d, s, args.data_dir) is None]
    if missing and Path(args.results_dir).resolve() == RESULTS.resolve():  # elsewhere (tests, fixtures) a generated split is fine
        parser.error(f"no canonical split file {', '.join(missing)} under the data folder's splits/: bench/results holds "
                     "canonical-split figures only (give --data-dir or $MOLAPP_DATA the folder holding splits/, e.g. ../shared/data)")

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    results_dir = Path(args.results_dir)
    runs = [Run(m, d, s, k) for d in datasets for s in splits for m in models for k in seeds]
    pending = [r for r in runs if not r.path(results_dir).exists()]
    print(f"{len(runs)} runs, {len(runs) - len(pending)} already done (skipped), {len(pending)} to do", file=sys.stderr)
    start = time.perf_counter()
    failures: list[str] = []
    with threadpool_limits(1), tqdm(total=len(pending), unit="run", file=sys.stderr) as bar:
        run_fingerprint_models([r for r in pending if r.model in BASELINES], results_dir, args.data_dir, bar)
        failures = run_graph_models([r for r in pending if r.model not in BASELINES], results_dir, args.data_dir, bar)
    print(f"ladder done in {(time.perf_counter() - start) / 60:.1f} min", file=sys.stderr)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
