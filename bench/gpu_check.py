"""The GPU path, checked and timed. CI has no GPU, so the tests cover the CPU path; run this on
a machine with a CUDA GPU whenever the inference or training code changes.

    python bench/gpu_check.py [--checkpoints checkpoints/A checkpoints/B ...] [--n-parity 1000]
        [--n-throughput 41127] [--train-epochs 3] [--commit SHA]

1. Parity: each checkpoint scores the same --n-parity SMILES of hiv.csv on the CPU and on the
   GPU, and explains a few molecules on both (attention, clusters, fusion gate, task
   dependency, embedding, ensemble members; descriptor contributions where the model reads
   descriptors). Reports the largest absolute difference of each array, and whether the same
   rows failed.
2. Throughput: the predict CLI end to end (read, standardize, featurize, score, write) on the
   first --n-throughput SMILES of hiv.csv (repeated past its 41,127), with --device cuda and with --device cpu on all of
   the machine's cores: molecules per second.
3. Stages: featurization alone on all cores, then the model alone on the device (molecules
   already featurized) at two batch sizes: which of the two sets the end-to-end rate.
4. Training: `molapp.train` on Tox21's (--train-dataset) scaffold split, --train-epochs epochs on the GPU and one
   on the CPU (all cores), seconds per epoch.

Reads $MOLAPP_DATA (hiv.csv, tox21.csv and its splits). Writes
bench/results/gpu-check-<GPU name>.json (or --out). `--device cpu` runs every step against the
CPU itself: a dry run of the script on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.data.featurize import featurize_smiles  # noqa: E402
from molapp.data.registry import csv_path  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402
from molapp.explain.explanation import explain, explain_descriptors  # noqa: E402
from molapp.inference.predictor import Predictor, device_name, resolve_device  # noqa: E402
from molapp.models.batching import predict_graphs  # noqa: E402

# One checkpoint of each model kind and output (calibrated classes, un-scaled values,
# ensembles, descriptors): together they reach every branch of the inference path.
CHECKPOINTS = (
    "checkpoints/graphmem-tox21-scaffold",
    "checkpoints/graphmem-bbbp-deployment",
    "checkpoints/memgnn-tox21-scaffold",
    "checkpoints/memgnn-esol-deployment",
    "checkpoints/gmn-esol-random",
    "checkpoints/graseq-bbbp-scaffold",
    "checkpoints/transfer-tox21-scaffold",
    "checkpoints/mt-graphmem-nci60-random",
)
EXPLAINED = ("CC(=O)Oc1ccccc1C(=O)O", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1", "Cn1cnc2c1c(=O)n(C)c(=O)n2C")
THROUGHPUT_CHECKPOINTS = ("checkpoints/graphmem-tox21-scaffold", "checkpoints/memgnn-tox21-scaffold")
EXPLANATION_ARRAYS = ("values", "attention", "gate", "task_dependency", "embedding", "member_values")


def largest_difference(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """max |a - b| over entries that are numbers in both; None when neither exists."""
    if a is None and b is None:
        return None
    if a is None or b is None or np.shape(a) != np.shape(b):
        raise AssertionError(f"shapes differ: {None if a is None else np.shape(a)} vs {None if b is None else np.shape(b)}")
    both = ~(np.isnan(a) | np.isnan(b))
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        raise AssertionError("the two devices left different entries empty")
    return float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0


def parity(checkpoint: str, smiles: list[str], device: str) -> dict:
    on_cpu, on_device = Predictor.load(checkpoint, "cpu"), Predictor.load(checkpoint, device)
    cpu_prediction, device_prediction = on_cpu.predict(smiles), on_device.predict(smiles)
    record = {
        "checkpoint": checkpoint,
        "model": on_cpu.card.model,
        "molecules": len(smiles),
        "same_rows_failed": cpu_prediction.status == device_prediction.status,
        "prediction": largest_difference(cpu_prediction.values, device_prediction.values),
        "ensemble_spread": largest_difference(cpu_prediction.spread, device_prediction.spread),
        "explanation": {},
    }
    for molecule in EXPLAINED:
        first, second = explain(on_cpu, molecule), explain(on_device, molecule)
        differences = {name: largest_difference(getattr(first, name), getattr(second, name)) for name in EXPLANATION_ARRAYS}
        if first.assignments is not None:
            differences["assignments"] = max(largest_difference(a, b) for a, b in zip(first.assignments, second.assignments))
        if on_cpu.descriptors:
            task = on_cpu.tasks[0]
            a = explain_descriptors(on_cpu, first.canonical_smiles, task).table.set_index("descriptor")["contribution"]
            b = explain_descriptors(on_device, second.canonical_smiles, task).table.set_index("descriptor")["contribution"]
            differences["descriptor_contributions"] = largest_difference(a.to_numpy(), b.loc[a.index].to_numpy())
        record["explanation"][molecule] = {k: v for k, v in differences.items() if v is not None}
    return record


def run(command: list[str], env: dict | None = None) -> float:
    """Seconds `command` took; its output is shown only when it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def throughput(checkpoint: str, smiles_file: Path, n: int, device: str, workdir: Path) -> dict:
    output = workdir / f"{Path(checkpoint).name}-{device}.csv"
    seconds = run([sys.executable, "-m", "molapp.predict", "--checkpoint", checkpoint, "--input", str(smiles_file),
                   "--output", str(output), "--device", device])
    scored = pd.read_csv(output)
    return {"checkpoint": checkpoint, "device": device, "molecules": n, "rows_back": len(scored),
            "ok": int((scored["status"] == "ok").sum()), "seconds": round(seconds, 1), "molecules_per_second": round(n / seconds)}


def stages(checkpoint: str, smiles: list[str], device: str) -> dict:
    predictor = Predictor.load(checkpoint, device)
    workers = os.cpu_count() or 1
    start = time.perf_counter()
    molecules = featurize_smiles(smiles, workers=workers, descriptors=predictor.descriptors)
    featurize_seconds = time.perf_counter() - start
    graphs = [m.graph for m in molecules if m.ok]
    record = {"checkpoint": checkpoint, "device": device, "molecules": len(smiles), "workers": workers,
              "featurize_seconds": round(featurize_seconds, 2), "featurize_molecules_per_second": round(len(smiles) / featurize_seconds),
              "model_only": []}
    for batch_size in (predictor.batch_size, 4 * predictor.batch_size):
        predict_graphs(predictor.model, graphs[:batch_size], None, batch_size)  # warm-up: kernels chosen, memory pooled
        start = time.perf_counter()
        predict_graphs(predictor.model, graphs, None, batch_size)  # values come back to the CPU: the device is done
        seconds = time.perf_counter() - start
        record["model_only"].append({"batch_size": batch_size, "seconds": round(seconds, 2), "molecules_per_second": round(len(graphs) / seconds)})
    return record


def training(model: str, device: str, epochs: int, workdir: Path, dataset: str = "tox21") -> dict:
    progress = workdir / f"train-{model}-{device}.jsonl"
    command = [sys.executable, "-m", "molapp.train", "--dataset", dataset, "--split", "scaffold", "--model", model,
               "--device", device, "--max-epochs", str(epochs), "--no-early-stopping", "--out", str(workdir / f"train-{model}-{device}"),
               "--progress", str(progress)]
    seconds = run(command)
    epochs_seen = [json.loads(line) for line in progress.read_text().splitlines() if '"epoch"' in line]
    epoch_ends = [e["seconds"] for e in epochs_seen if "seconds" in e and "epoch" in e]
    per_epoch = np.diff([0.0, *epoch_ends])
    return {"model": model, "dataset": dataset, "device": device, "epochs": len(epoch_ends), "wall_seconds": round(seconds, 1),
            "seconds_per_epoch": [round(float(s), 2) for s in per_epoch],
            # the first epoch carries the one-off costs (CUDA context, kernel choice); later ones are the steady state
            "steady_seconds_per_epoch": round(float(np.median(per_epoch[1:] if len(per_epoch) > 1 else per_epoch)), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="*", default=list(CHECKPOINTS), help="checked for parity")
    parser.add_argument("--throughput-checkpoints", nargs="*", default=list(THROUGHPUT_CHECKPOINTS))
    parser.add_argument("--n-stages", type=int, default=20000, help="molecules for the stage timings (0: none)")
    parser.add_argument("--device", default="cuda", help="the device checked against the CPU (cpu: a dry run)")
    parser.add_argument("--n-parity", type=int, default=1000)
    parser.add_argument("--n-throughput", type=int, default=41127, help="first N SMILES of hiv.csv (all of it by default)")
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--train-models", nargs="*", default=["graphmem", "memgnn"])
    parser.add_argument("--train-dataset", default="tox21", help="trained on its canonical scaffold split")
    parser.add_argument("--no-cpu-comparison", action="store_true", help="time the device only")
    parser.add_argument("--commit", default=None, help="the code's commit, where the copy it runs from is not its git checkout")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    start = time.time()
    device = resolve_device(args.device)
    hiv = pd.read_csv(csv_path("hiv"))["smiles"].astype(str).tolist()
    many = hiv * (1 + max(args.n_throughput, args.n_stages) // len(hiv))
    record: dict = {"device": device_name(device), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "cuda": torch.version.cuda, "parity": [], "throughput": [], "stages": [], "training": []}
    name = record["device"].lower().replace(" ", "-")
    out = Path(args.out or ROOT / "bench" / "results" / f"gpu-check-{name}.json")

    def save(part: str, result: dict) -> None:
        """Each step is written as it ends: a run cut short keeps what it measured."""
        record[part].append(result)
        print(json.dumps(result), flush=True)
        record["provenance"] = provenance(time.time() - start)
        if args.commit:  # a copy of the tree sent to a GPU machine may carry a stale .git, or none
            record["provenance"]["commit"] = args.commit
        out.write_text(json.dumps(record, indent=1) + "\n")

    for checkpoint in args.checkpoints:
        save("parity", parity(checkpoint, hiv[: args.n_parity], args.device))
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        smiles_file = workdir / "hiv.smi"
        smiles_file.write_text("\n".join(many[: args.n_throughput]) + "\n")
        # the GPU first, then the same work on the CPU for comparison
        for checkpoint in args.throughput_checkpoints:
            save("throughput", throughput(checkpoint, smiles_file, args.n_throughput, args.device, workdir))
        if args.n_stages:
            for checkpoint in args.throughput_checkpoints:
                save("stages", stages(checkpoint, many[: args.n_stages], args.device))
        for model in args.train_models:
            save("training", training(model, args.device, args.train_epochs, workdir, args.train_dataset))
        if device.type != "cpu" and not args.no_cpu_comparison:
            for checkpoint in args.throughput_checkpoints:
                save("throughput", throughput(checkpoint, smiles_file, args.n_throughput, "cpu", workdir))
            for model in args.train_models:
                save("training", training(model, "cpu", 1, workdir, args.train_dataset))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
