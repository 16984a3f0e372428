"""The Ray engine's overhead on one machine: N SMILES (hiv.csv repeated) scored by the predict
CLI's local engine and by `--engine ray` on a local Ray with the same CPUs, each run as the
user runs it (a fresh process; Ray's start-up counted, and reported apart), rows checked.

    .venv/bin/python bench/ray_overhead.py [--n 1000000] [--checkpoint checkpoints/memgnn-tox21-scaffold]
        [--num-cpus 2] [--device cpu|cuda]

Writes bench/results/ray-overhead-<checkpoint>-<n>[-cuda].json: both engines' seconds and
molecules/s, peak RSS of the local engine's process tree, the overhead ratio (Ray's wall
time over the local engine's) and the same without Ray's start-up, with provenance.
`--device cuda` times the GPU path of both engines (one GPU actor for Ray).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import run_with_peak_rss  # noqa: E402
from molapp.data.registry import csv_path  # noqa: E402
from molapp.evaluation.provenance import package_versions, provenance  # noqa: E402

# The local engine's and the Ray engine's closing lines: "wrote OUT: N rows (K ok, F flagged) in S s".
WROTE = re.compile(r"wrote .*?: (\d+) rows \((\d+) ok, (\d+) flagged\) in ([\d.]+)s")


def closing_figures(log: str) -> dict:
    match = WROTE.search(log)
    if match is None:
        raise SystemExit(f"the run did not finish:\n{log[-3000:]}")
    rows, ok, flagged, seconds = match.groups()
    return {"rows": int(rows), "ok": int(ok), "flagged": int(flagged), "pipeline_seconds": float(seconds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="SMILES to score (hiv.csv repeated)")
    parser.add_argument("--checkpoint", default="checkpoints/memgnn-tox21-scaffold", help="as bench/results/predict-1m.json")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs for both engines")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda to time both engines' GPU path")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    import ray

    smiles = pd.read_csv(csv_path("hiv", args.data_dir)).smiles.tolist()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="molapp-ray-bench-") as tmp:
        source = Path(tmp) / "library.smi"
        with open(source, "w") as handle:
            for i in range(args.n):
                handle.write(f"{smiles[i % len(smiles)]} m{i}\n")
        common = ["--checkpoint", args.checkpoint, "--input", str(source), "--device", args.device]
        print(f"local engine: {args.n} SMILES on {args.num_cpus} CPUs …", file=sys.stderr)
        local_wall, local_peak_mb, local_log = run_with_peak_rss(
            [sys.executable, "-m", "molapp.predict", *common, "--output", str(Path(tmp) / "local.csv"), "--workers", str(args.num_cpus)])
        local = closing_figures(local_log)
        print(f"ray engine: {args.n} SMILES on a local Ray with {args.num_cpus} CPUs …", file=sys.stderr)
        ray_wall, ray_peak_mb, ray_log = run_with_peak_rss(
            [sys.executable, "-m", "molapp.predict", "--engine", "ray", *common, "--output", str(Path(tmp) / "ray"),
             "--num-cpus", str(args.num_cpus)])
        distributed = closing_figures(ray_log)
    if local["rows"] != args.n or distributed["rows"] != args.n or distributed["ok"] != local["ok"]:
        raise SystemExit(f"rows differ: local {local}, ray {distributed}, expected {args.n}")

    packages = package_versions() | {"ray": ray.__version__}
    result = {
        "benchmark": f"{args.n} SMILES (hiv.csv repeated), local engine vs --engine ray on one machine",
        "checkpoint": args.checkpoint,
        "device": args.device,
        "cpus": args.num_cpus,
        "smiles": args.n,
        "local": {"wall_seconds": round(local_wall, 1), "molecules_per_second": round(args.n / local_wall),
                  "peak_rss_mb": round(local_peak_mb), **local},
        "ray": {"wall_seconds": round(ray_wall, 1), "molecules_per_second": round(args.n / ray_wall),
                "startup_seconds": round(ray_wall - distributed["pipeline_seconds"], 1),
                "pipeline_molecules_per_second": round(args.n / max(distributed["pipeline_seconds"], 1e-9)),
                "peak_rss_mb_driver_tree": round(ray_peak_mb), **distributed},
        "overhead_ratio": round(ray_wall / local_wall, 2),
        "overhead_ratio_without_ray_startup": round(distributed["pipeline_seconds"] / local["pipeline_seconds"], 2),
        "note": "Ray's workers are not children of the CLI process, so its peak RSS is the driver's alone",
        "provenance": provenance(time.time() - started, packages=packages),
    }
    name = f"ray-overhead-{Path(args.checkpoint).name}-{args.n}{'-cuda' if args.device.startswith('cuda') else ''}.json"
    (ROOT / "bench" / "results" / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
