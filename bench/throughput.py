"""Throughput on the first 10,000 SMILES of hiv.csv: RDKit parsing alone (the yardstick),
featurization on one core (the graph; and the graph with the 70 descriptors a GraphMem
trained with --descriptors also reads), and the predict CLI end to end (SMILES in → 12 Tox21
probabilities out; and 1, for comparison) with its peak memory; and where the CLI's work
goes: its imports, and each stage alone on one core (standardization, graph, descriptors,
the model's forward pass with the floating-point operations of its matrix products).
Writes bench/results/throughput-hiv10k.json.

    .venv/bin/python bench/throughput.py [--checkpoint checkpoints/graphmem-tox21-scaffold] [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import torch
from rdkit import Chem
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 256
sys.path.insert(0, str(ROOT))

from molapp.chem.standardize import standardize  # noqa: E402
from molapp.data.featurize import featurize_standardized  # noqa: E402
from molapp.data.registry import csv_path  # noqa: E402
from molapp.featurizers.descriptors import DESCRIPTORS_VERSION, molecular_descriptors  # noqa: E402
from molapp.featurizers.graph import MolGraphFeaturizer  # noqa: E402
from molapp.inference.predictor import Predictor  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402


def run_with_peak_rss(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS of the whole process tree (MB, sampled every 50 ms), stderr."""
    # stderr goes to a file: a long run's progress output would fill a pipe and stall the child
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stderr=log, text=True)
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - start
        log.seek(0)
        return wall, peak / 1e6, log.read()


def stages_one_core(checkpoint: str, smiles: list[str]) -> dict:
    """Seconds of each stage of the predict CLI's work, run alone on one core, and the
    GFLOP of the model's matrix products (torch's `FlopCounterMode` counts them)."""
    torch.set_num_threads(1)
    predictor = Predictor.load(checkpoint, "cpu")
    start = time.perf_counter()
    records = [standardize(s) for s in smiles]
    standardize_seconds = time.perf_counter() - start
    start = time.perf_counter()
    featurize_standardized(records)
    graph_seconds = time.perf_counter() - start
    start = time.perf_counter()
    molecular_descriptors([r.mol for r in records if r.ok])
    descriptor_seconds = time.perf_counter() - start
    molecules = featurize_standardized(records, predictor.descriptors)
    start = time.perf_counter()
    predictor.predict_molecules(molecules)
    model_seconds = time.perf_counter() - start
    with FlopCounterMode(display=False) as counter:
        predictor.predict_molecules(molecules)
    flops = counter.get_total_flops()
    return {
        "standardize_seconds": round(standardize_seconds, 2),
        "graph_seconds": round(graph_seconds, 2),
        "descriptors_seconds": round(descriptor_seconds, 2) if predictor.descriptors else None,
        "model_seconds": round(model_seconds, 2),
        "model_matmul_gflop": round(flops / 1e9, 1),
        "model_batch_size": predictor.batch_size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="checkpoints/graphmem-tox21-scaffold")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="bench/results/throughput-hiv10k.json")
    args = parser.parse_args()
    started = time.time()

    smiles = pd.read_csv(csv_path("hiv", args.data_dir)).smiles.head(args.n).tolist()

    start = time.perf_counter()
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    parse_seconds = time.perf_counter() - start

    featurizer = MolGraphFeaturizer()
    good = [m for m in mols if m is not None]
    chunks = [good[i : i + CHUNK] for i in range(0, len(good), CHUNK)]  # in chunks, as the predict CLI and triage do
    start = time.perf_counter()
    for chunk in chunks:
        featurizer.many(chunk)  # writes each canonical SMILES itself (for the SMILES atom order)
    featurize_seconds = time.perf_counter() - start

    canonical = [Chem.MolToSmiles(m) for m in good]  # as standardization leaves each molecule
    start = time.perf_counter()
    for k in range(0, len(good), CHUNK):
        featurizer.many(good[k : k + CHUNK], canonical[k : k + CHUNK])
    featurize_given_smiles_seconds = time.perf_counter() - start

    with_descriptors = MolGraphFeaturizer(descriptors=DESCRIPTORS_VERSION)
    start = time.perf_counter()
    for k in range(0, len(good), CHUNK):
        with_descriptors.many(good[k : k + CHUNK], canonical[k : k + CHUNK])
    descriptors_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for start_row in range(0, len(smiles), CHUNK):
        featurize_standardized([standardize(s) for s in smiles[start_row : start_row + CHUNK]])
    standardize_featurize_seconds = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp) / "hiv.smi"
        input_path.write_text("".join(f"{s} hiv-{i}\n" for i, s in enumerate(smiles)))
        output_path = Path(tmp) / "out.csv"
        command = [sys.executable, "-m", "molapp.predict", "--checkpoint", args.checkpoint, "--input", str(input_path), "--output", str(output_path)]
        wall, peak_mb, log = run_with_peak_rss(command)
        rows = len(pd.read_csv(output_path))
        import_seconds, _, _ = run_with_peak_rss([sys.executable, "-c", "import molapp.cli.predict"])
        one_task = Predictor.load(args.checkpoint, "cpu").tasks[0]
        one_task_wall, _, _ = run_with_peak_rss([*command, "--tasks", one_task])

    result = {
        "benchmark": f"first {args.n} SMILES of hiv.csv",
        "checkpoint": args.checkpoint,
        "rdkit_parse_seconds": round(parse_seconds, 2),
        "featurize_molecules_per_second_one_core": round(len(good) / featurize_seconds),
        "featurize_given_canonical_smiles_molecules_per_second_one_core": round(len(good) / featurize_given_smiles_seconds),
        "featurize_with_descriptors_given_canonical_smiles_molecules_per_second_one_core": round(len(good) / descriptors_seconds),
        "standardize_and_featurize_molecules_per_second_one_core": round(len(smiles) / standardize_featurize_seconds),
        "predict_cli_seconds": round(wall, 2),
        "predict_cli_molecules_per_second": round(args.n / wall),
        "predict_cli_over_parse": round(wall / parse_seconds, 2),
        "predict_cli_peak_rss_mb": round(peak_mb),
        "rows_written": rows,
        "predict_cli_import_seconds": round(import_seconds, 2),
        "one_task": one_task,
        "predict_cli_one_task_seconds": round(one_task_wall, 2),
        "stages_one_core": stages_one_core(args.checkpoint, smiles),
        "predict_cli_log": log.strip().splitlines()[-1] if log.strip() else "",
        "provenance": provenance(time.time() - started),
    }
    Path(ROOT / args.out).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
