"""Training presets measured: wall time and test metric of `python -m molapp.train --preset P`
for the quick and standard presets (`molapp.training.presets`) on BBBP and on the NCI-60
breast assay (MCF-7, AID83 of `nci60_balanced`), scaffold split, on this machine's cores —
what a user of the Train page waits for and gets.

    MOLAPP_DATA=../shared/data .venv/bin/python bench/train_presets.py            # the full run (hours on 2 cores)
    MOLAPP_DATA=../shared/data .venv/bin/python bench/train_presets.py \\
        --cases bbbp --presets quick --max-epochs 1 --hidden 16 --output /tmp/presets.json   # a smoke test

Each run is the train CLI in its own process (as the Train page's jobs run it), timed from
start to the checkpoint written (featurization, training, calibration). Results:
bench/results/train-presets.json, one row per (case, model, preset), with the card's test
and valid figures, epochs run, the trainer's own seconds and the wall seconds; rows of an
earlier run of other cases are kept. Chemprop on the same canonical splits:
`bench/chemprop_reference.py --dataset bbbp --split scaffold` and
`bench/chemprop_reference.py --dataset nci60_balanced --targets AID83 --split scaffold`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from molapp.evaluation.provenance import provenance  # noqa: E402
from molapp.models.checkpoint import read_card  # noqa: E402
from molapp.training.presets import PRESETS  # noqa: E402

# case name → the train command's data arguments
CASES = {
    "bbbp": ["--dataset", "bbbp"],
    "nci60-aid83": ["--dataset", "nci60_balanced", "--targets", "AID83"],
}


def run_case(case: str, model: str, preset: str, split: str, work_dir: Path, extra: list[str]) -> dict:
    out = work_dir / f"{model}-{case}-{split}-{preset}"
    command = [sys.executable, "-m", "molapp.train", *CASES[case], "--model", model, "--split", split, "--preset", preset,
               "--out", str(out), *extra]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    row = {"case": case, "model": model, "preset": preset, "split": split, "wall_seconds": round(wall, 1),
           "command": "python -m molapp.train " + " ".join(command[3:])}
    if completed.returncode != 0:
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error")] or completed.stderr.splitlines()[-3:]
        return {**row, "error": "; ".join(errors)}
    card = read_card(out)
    return {**row, "metric": card.metric, "test": round(card.metrics["test"]["mean"], 4),
            "valid": round(card.metrics["valid"]["mean"], 4), "epochs_run": card.epochs_run, "best_epoch": card.best_epoch,
            "train_seconds": card.train_seconds, "sizes": card.sizes, "hyperparameters": card.hyperparameters}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=["quick", "standard"])
    parser.add_argument("--models", nargs="+", default=["graphmem"])
    parser.add_argument("--split", default="scaffold", choices=["scaffold", "random"])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads per run (default: every core)")
    parser.add_argument("--max-epochs", type=int, default=None, help="override the presets' epochs (a smoke test)")
    parser.add_argument("--hidden", type=int, default=None, help="override the presets' hidden size (a smoke test)")
    parser.add_argument("--work-dir", default=str(ROOT / "bench" / "work" / "train-presets"))
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "train-presets.json"))
    args = parser.parse_args(argv)
    started = time.time()

    extra = ["--threads", str(args.threads)]
    if args.max_epochs:
        extra += ["--max-epochs", str(args.max_epochs)]
    if args.hidden:
        extra += ["--hidden", str(args.hidden)]
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    output = Path(args.output)
    previous = json.loads(output.read_text()).get("runs", []) if output.exists() else []
    rows = []
    for case in args.cases:
        for model in args.models:
            for preset in args.presets:
                row = run_case(case, model, preset, args.split, work_dir, extra)
                rows.append(row)
                figure = f"test {row['metric']} {row['test']:.3f}" if "test" in row else f"failed: {row['error']}"
                print(f"{case} {model} {preset}: {figure}, {row['wall_seconds']:.0f} s", file=sys.stderr)
    done = {(r["case"], r["model"], r["preset"], r["split"]) for r in rows}
    kept = [r for r in previous if (r["case"], r["model"], r["preset"], r["split"]) not in done]
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}",
              "presets": {k: p.fields() for k, p in PRESETS.items()},
              "smoke_test": bool(args.max_epochs or args.hidden), "measured_at": time.strftime("%Y-%m-%d"), "runs": kept + rows,
              "provenance": provenance(time.time() - started)}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}", file=sys.stderr)
    return 0 if all("test" in r for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
