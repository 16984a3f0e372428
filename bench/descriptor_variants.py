"""GraphMem + descriptors on Tox21: the variants compared on valid (hidden size, positive weights,
hops, dropout), each run a results file written by `molapp.train` itself, and the study
(`bench/results/descriptor-variants-tox21.json`) assembled from those files by this script.

    .venv/bin/python bench/descriptor_variants.py run --jobs 2   # train every run not done yet
    .venv/bin/python bench/descriptor_variants.py assemble        # write the study from the results files

`run` skips a run whose results file exists and resumes one killed midway from its last saved
epoch (checkpoints and logs: bench/work/descriptor-variants/). A variant whose benchmark name
(`molapp.models.registry.benchmark_name`) tells it apart writes bench/results/<name>-tox21-<split>-seed<k>.json,
the same files the Tox21 tables read; one that differs only in a size (hidden, hops, dropout,
weight decay) writes under bench/results/descriptor-variants/<slug>/. `assemble` writes every run it
finds with the provenance of its file, each variant's mean over its seeds, the ensembles of its
seeds where one was built (`python -m molapp.cli.ensemble`), and the commands of the runs still missing.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.evaluation.provenance import kind, provenance  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STUDY = RESULTS / "descriptor-variants-tox21.json"
WORK = Path("bench") / "work" / "descriptor-variants"
BASE = "python -m molapp.train --dataset tox21 --model graphmem --descriptors"


@dataclass(frozen=True)
class Variant:
    """One recipe of the study: the flags on top of BASE, the seeds run per split, and where its
    results files are (`results_name`: the benchmark name molapp.train gives them; `subdir`: set when
    that name does not tell the variant apart from another)."""

    label: str
    what: str
    flags: str
    seeds: dict[str, tuple[int, ...]]
    results_name: str
    subdir: str | None = None
    ensembles: tuple[str, ...] = ()  # results files of ensembles of its seeds (molapp.cli.ensemble)

    @property
    def results_folder(self) -> str:
        """Where its results files go, under bench/results."""
        return f"descriptor-variants/{self.subdir}" if self.subdir else "."

    def results_file(self, split: str, seed: int) -> Path:
        return RESULTS / self.results_folder / f"{self.results_name}-tox21-{split}-seed{seed}.json"

    def work_dir(self, split: str, seed: int) -> Path:
        """The run's checkpoint folder (its log beside it), relative to the repository root."""
        return WORK / f"{self.subdir or self.results_name}-tox21-{split}-seed{seed}"

    def command(self, split: str, seed: int) -> str:
        return (f"{BASE} {self.flags} --split {split} --seed {seed} --threads 1 --out {self.work_dir(split, seed)} "
                f"--results-dir {Path('bench/results') / self.results_folder}").replace("  ", " ")


VARIANTS = (
    Variant("start", "controller start h0 = g(W_q q + W_d z(d)), positive weights negatives/positives (balanced)", "",
            {"random": (0, 1, 2, 3), "scaffold": (0, 1, 2, 3)}, "graphmem-descriptors",
            ensembles=("ensemble-graphmem-balanced-tox21-random-ensemble.json", "ensemble-graphmem-tox21-scaffold-ensemble.json")),
    Variant("start, hidden 128", "twice as wide (hidden 64 ships)", "--hidden 128", {"random": (0, 1, 2)},
            "graphmem-descriptors", subdir="hidden128", ensembles=("ensemble-graphmem-h128-tox21-random-ensemble.json",)),
    Variant("start, √ positive weights", "positive weights √(negatives/positives) instead of negatives/positives",
            "--positive-weighting sqrt", {"random": tuple(range(9)), "scaffold": (0, 1, 2, 3)}, "graphmem-descriptors-sqrt",
            ensembles=("ensemble-graphmem-sqrt-tox21-random-ensemble.json",)),
    Variant("start, √, hops 10", "√ positive weights and 10 hops (the paper's T) instead of 6", "--positive-weighting sqrt --hops 10",
            {"random": (0, 1)}, "graphmem-descriptors-sqrt", subdir="sqrt-hops10"),
    Variant("start, √, dropout 0.2", "√ positive weights and dropout 0.2 instead of 0.1", "--positive-weighting sqrt --dropout 0.2",
            {"random": (0, 1, 2)}, "graphmem-descriptors-sqrt", subdir="sqrt-dropout0.2"),
    Variant("start, dropout 0.2, wd 1e-4", "stronger regularization", "--dropout 0.2 --weight-decay 1e-4", {"scaffold": (0,)},
            "graphmem-descriptors", subdir="dropout0.2-wd1e-4"),
    Variant("start, unweighted BCE", "positive weight 1 for every task (plain BCE) instead of negatives/positives",
            "--positive-weighting unweighted", {"random": tuple(range(9)), "scaffold": (0, 1, 2, 3)}, "graphmem-descriptors-unweighted",
            ensembles=("ensemble-graphmem-tox21-random-ensemble.json", "ensemble-graphmem-unweighted-tox21-scaffold-ensemble.json")),
)

# Tried while the descriptors' placement was chosen, on code that was never committed: no commit
# can rerun them, so the study names them without figures.
NOT_REPRODUCIBLE = ("where else the descriptors enter (also W_e z(d) added before the readout's ReLU; the readout path a 2-layer "
                    "MLP of z(d)) and weight averaging (an exponential moving average of the weights, decay 0.995 per step) "
                    "were tried on code never committed, so no commit can rerun them and their figures are not reported "
                    "(the hand-recorded ones are in commit 4025af5's descriptor-variants-tox21.json); neither was kept")


# The choices made on valid, each against the variant it beat (split, kept, rival): what ships is
# hidden 64, 6 hops, dropout 0.1; unweighted BCE on the random split, balanced weights on the scaffold split.
DECISIONS = (
    ("random", "start", "start, hidden 128"),
    ("random", "start, √ positive weights", "start"),
    ("random", "start, unweighted BCE", "start, √ positive weights"),
    ("random", "start, √ positive weights", "start, √, hops 10"),
    ("random", "start, √ positive weights", "start, √, dropout 0.2"),
    ("scaffold", "start", "start, √ positive weights"),
    ("scaffold", "start", "start, unweighted BCE"),
    ("scaffold", "start", "start, dropout 0.2, wd 1e-4"),
)


def decision(rows: list[dict], split: str, kept: str, rival: str) -> dict | None:
    """Mean valid of the kept variant and its rival over the seeds both have run (None before both have)."""
    found = {label: {r["seed"]: r for r in rows if r["variant"] == label and r["split"] == split} for label in (kept, rival)}
    seeds = sorted(set(found[kept]) & set(found[rival]))
    if not seeds:
        return None
    kept_valid, rival_valid = (float(np.mean([found[label][s]["valid"] for s in seeds])) for label in (kept, rival))
    # as the joint-training table does: a gap smaller than the larger std over the seeds is within noise
    noise = max(float(np.std([found[label][s]["valid"] for s in seeds], ddof=1)) if len(seeds) > 1 else 0.0 for label in (kept, rival))
    # runs written by the current code beside ones landed before provenance was recorded (other rows then)
    recorded = sum(found[label][s]["recorded"] for label in (kept, rival) for s in seeds)
    return {"split": split, "kept": kept, "rival": rival, "seeds": seeds, "kept_valid": kept_valid, "rival_valid": rival_valid,
            "holds": kept_valid >= rival_valid, "within_noise": abs(kept_valid - rival_valid) < noise, "recorded_runs": recorded, "runs": 2 * len(seeds)}


def traced(record: dict) -> dict:
    """Whether a run's file was written with its provenance, and the commit of its code (recorded) or
    the one its content landed in (the code that ran it is that commit's or older)."""
    block = record.get("provenance") or {}
    how = kind(record)
    commit = block["commit"] if how == "recorded" else block.get("landed_in", {}).get("commit")
    return {"recorded": how == "recorded", "commit": commit}


def runs() -> list[tuple[Variant, str, int]]:
    return [(variant, split, seed) for variant in VARIANTS for split, seeds in variant.seeds.items() for seed in seeds]


def train(variant: Variant, split: str, seed: int) -> int:
    out = ROOT / variant.work_dir(split, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    words = shlex.split(variant.command(split, seed))[1:]  # run with this interpreter
    with open(f"{out}.log", "w") as log:
        return subprocess.run([sys.executable, *words], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode


def run(jobs: int) -> int:
    missing = [r for r in runs() if not r[0].results_file(r[1], r[2]).exists()]
    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool, tqdm(total=len(missing), desc="descriptor variants", unit="run") as bar:
        for code in pool.map(lambda r: train(*r), missing):
            failed += code != 0
            bar.update()
    return 1 if failed else 0


def assemble() -> dict:
    """The study from the results files on disk (every run found; the missing ones' commands)."""
    started = time.time()
    rows, means, missing = [], [], []
    for variant in VARIANTS:
        for split, seeds in variant.seeds.items():
            found = []
            for seed in seeds:
                path = variant.results_file(split, seed)
                if not path.exists():
                    missing.append(variant.command(split, seed))
                    continue
                record = json.loads(path.read_text())
                found.append((seed, record))
                rows.append({"variant": variant.label, "split": split, "seed": seed, "valid": record["valid"], "test": record["test"],
                             "results": str(Path(variant.results_folder) / path.name), **traced(record)})
            if found:
                ensembles = [json.loads((RESULTS / name).read_text()) | {"results": name} for name in variant.ensembles]
                means.append({"variant": variant.label, "split": split, "seeds": [seed for seed, _ in found],
                              "valid": float(np.mean([r["valid"] for _, r in found])), "test": float(np.mean([r["test"] for _, r in found])),
                              "ensembles": [{"results": e["results"], "members": len(e["members"]), "valid": e["valid"], "test": e["test"]}
                                            for e in ensembles if e["split"] == split]})
    return {
        "benchmark": "GraphMem + descriptors on Tox21: the hidden size, the positive weights, hops and dropout (canonical splits)",
        "variants": [{"variant": v.label, "what": v.what, "command": f"{BASE} {v.flags}".strip()} for v in VARIANTS],
        "not_reproducible": NOT_REPRODUCIBLE,
        "means": means,
        "decisions": [d for d in (decision(rows, *choice) for choice in DECISIONS) if d],
        "runs": rows,
        "missing": missing,
        "provenance": provenance(time.time() - started),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("run", "assemble"))
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (one thread each)")
    args = parser.parse_args()
    if args.action == "run":
        return run(args.jobs)
    study = assemble()
    STUDY.write_text(json.dumps(study, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {STUDY.relative_to(ROOT)}: {len(study['runs'])} runs, {len(study['missing'])} missing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
