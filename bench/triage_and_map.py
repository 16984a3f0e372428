"""Speed and memory of triage-scale work (issue 5), on molecules from hiv.csv:

- the Triage page's scoring path (`molapp.inference.triage.score`: standardize, featurize,
  every task, applicability domain, drug-likeness) on 10,000 molecules, median of
  `--repeats` runs (3);
- placing 1,000 new molecules on a shipped embedding map (featurize, embed, openTSNE
  transform), first with the map's affinities rebuilt (a page's first use in a process),
  then another 1,000 on the same map, as every later placement (the app caches the map);
- the predict CLI streaming 1,000,000 SMILES (hiv.csv repeated), its peak RSS (whole
  process tree) and molecules/s — `--million` (tens of minutes on 2 cores).

    .venv/bin/python bench/triage_and_map.py [--million]

Writes bench/results/triage-and-map-<checkpoint>.json (and predict-1m.json with --million).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import run_with_peak_rss  # noqa: E402
from molapp.chem.io import InputRow  # noqa: E402
from molapp.data.featurize import featurize_smiles  # noqa: E402
from molapp.data.registry import csv_path  # noqa: E402
from molapp.explain.embedding_map import EmbeddingMap  # noqa: E402
from molapp.inference.domain import DomainIndex  # noqa: E402
from molapp.inference.predictor import Predictor, predict_graphs  # noqa: E402
from molapp.inference.triage import score  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="checkpoints/graphmem-tox21-scaffold")
    parser.add_argument("--map-checkpoint", default="checkpoints/graphmem-tox21-scaffold")
    parser.add_argument("--cli-checkpoint", default="checkpoints/memgnn-tox21-scaffold")
    parser.add_argument("--repeats", type=int, default=3, help="triage runs; the median is reported")
    parser.add_argument("--million", action="store_true", help="also stream 1,000,000 SMILES through the predict CLI")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    started = time.time()
    smiles = pd.read_csv(csv_path("hiv", args.data_dir)).smiles.tolist()

    torch.set_num_threads(2)
    predictor = Predictor.load(ROOT / args.checkpoint, "auto")
    domain = DomainIndex.load(ROOT / args.checkpoint)
    rows = [InputRow(i, f"hiv-{i}", s) for i, s in enumerate(smiles[:10_000])]
    runs = []
    for _ in range(args.repeats):  # this VM's speed drifts by ±10% between runs: the median is reported
        start = time.perf_counter()
        table = score(predictor, domain, rows, workers=2)
        runs.append(time.perf_counter() - start)
    triage_seconds = statistics.median(runs)

    map_predictor = Predictor.load(ROOT / args.map_checkpoint, "auto")
    reference = EmbeddingMap.load(ROOT / args.map_checkpoint)
    query = map_predictor.tasks.index(reference.query_task) if reference.query_task else None

    def place(new: list[str]) -> tuple[int, float]:
        start = time.perf_counter()
        good = [m.graph for m in featurize_smiles(new, workers=2, descriptors=map_predictor.descriptors) if m.ok]
        embeddings = predict_graphs(map_predictor.model, good, batch_size=map_predictor.batch_size, embedding_view="", query=query).embeddings
        return len(reference.place(embeddings)), time.perf_counter() - start

    new = smiles[20_000:21_000]  # not the rows scored above
    placed, place_seconds = place(new)
    _, later_seconds = place(smiles[21_000:22_000])

    result = {
        "triage": {"checkpoint": args.checkpoint, "molecules": len(rows), "rows_back": len(table),
                   "flagged": int((table["status"] == "error").sum()), "seconds": round(triage_seconds, 1),
                   "runs_seconds": [round(r, 1) for r in runs],
                   "molecules_per_second": round(len(rows) / triage_seconds), "target_seconds": 30},
        "map_placement": {"checkpoint": args.map_checkpoint, "reference_molecules": len(reference.ids), "new_molecules": len(new),
                          "placed": placed, "seconds": round(place_seconds, 1), "later_placement_seconds": round(later_seconds, 1),
                          "target_seconds": 10},
        "provenance": provenance(time.time() - started),
    }
    (ROOT / "bench" / "results" / f"triage-and-map-{Path(args.checkpoint).name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))

    if args.million:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "million.smi"
            with open(source, "w") as handle:
                for i in range(1_000_000):
                    handle.write(f"{smiles[i % len(smiles)]} m{i}\n")
            output = Path(tmp) / "out.csv"
            command = [sys.executable, "-m", "molapp.predict", "--checkpoint", args.cli_checkpoint, "--input", str(source), "--output", str(output)]
            wall, peak_mb, log = run_with_peak_rss(command)
            with open(output) as handle:
                lines = sum(1 for _ in handle) - 1
        million = {"checkpoint": args.cli_checkpoint, "smiles": 1_000_000,
                   "rows_written": lines, "seconds": round(wall), "molecules_per_second": round(1_000_000 / wall),
                   "peak_rss_mb": round(peak_mb), "target_peak_rss_mb": 2000,
                   "log": log.strip().splitlines()[-1] if log.strip() else "", "provenance": provenance(wall)}
        (ROOT / "bench" / "results" / "predict-1m.json").write_text(json.dumps(million, indent=2) + "\n")
        print(json.dumps(million, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
