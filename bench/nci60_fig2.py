"""The GraphMem paper's Fig. 2, tested on its kind of data: F1 on the AIDS antiviral, breast
and colon assays as more assays join the joint training, in the paper's orders.

The paper trains each of the three assays alone, then repeatedly adds a task and retrains:
(AIDS, Breast, Colon), (Breast, AIDS, Colon) and (Colon, AIDS, Breast) first, then Leukemia,
Lung, Melanoma, CNS, Renal (and Yeast, not available here) for all three. From three tasks on
the three orders train the same sets, so 11 models per seed draw the three curves of up to 8
tasks. Its claim: breast and colon F1 fall when AIDS joins, rise as more assays join and hold
(or dip slightly) after seven; AIDS gains nothing from joint training.

Data: the NCI-60 balanced screens (`nci60_balanced`) and the AIDS assay balanced the same way
(`aids_balanced`: every active of hiv.csv and as many sampled inactives), each on its
canonical random split. Settings are Table II's (`bench/nci60_multitask.py`): T = 10, plain
cross-entropy, one one-hot query per assay, at most 25 epochs, patience 6; a single assay is
a GraphMem (the breast and colon ones are Table II's separate runs, reused), two or more an
MT-GraphMem. A call is a Platt-calibrated probability above 0.5, as in Table II.

    python bench/nci60_fig2.py train --seeds 0,1,2   # long: trains every missing model, resumable
    python bench/nci60_fig2.py score                 # → bench/results/nci60-fig2-random-seed<k>.json
    python bench/nci60_fig2.py summary               # → bench/results/nci60-fig2-random.json

Each trained model's test scores go at once to `bench/results/nci60-fig2/<model>.json` (with
its command), so a seed's curves are drawn from committed records, not from checkpoints that
live only on the machine that trained them. The breast and colon points of one task are
Table II's separate runs, read from its per-seed results files. `summary` averages every seed
that has records, over the points all of them have so far; the claim gets a verdict once three
seeds are complete, and until then the page shows the reading so far. The verdict reads the
seeds' mean curves; beside each part of the claim it says in how many seeds that part holds
on its own, so a fall smaller than the seeds' spread shows.
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

from tqdm import tqdm  # noqa: E402

from bench.nci60_multitask import RESULTS, SPLIT, mean_sd  # noqa: E402
from bench.nci60_multitask import WORK as TABLE_II_WORK  # noqa: E402  (its separate runs: the breast and colon models of one task)
from molapp.evaluation.multitask_f1 import assay_scores, by_assay  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402
from molapp.evaluation.split_predictions import SplitPredictions  # noqa: E402
from molapp.models.checkpoint import read_card  # noqa: E402

WORK = ROOT / "bench" / "work" / "nci60-fig2"
SHORT = {"HIV_active": "aids", "AID83": "breast", "AID81": "colon", "AID123": "leukemia", "AID1": "lung",
         "AID33": "melanoma", "AID47": "cns", "AID145": "renal"}
REST = ["AID123", "AID1", "AID33", "AID47", "AID145"]  # the paper's order after the first three (its yeast screen is not here)
ORDERS = {"HIV_active": ["HIV_active", "AID83", "AID81", *REST],
          "AID83": ["AID83", "HIV_active", "AID81", *REST],
          "AID81": ["AID81", "HIV_active", "AID83", *REST]}
SETTINGS = ["--split", SPLIT, "--hops", "10", "--positive-weighting", "unweighted", "--max-epochs", "25", "--patience", "6",
            "--threads", "1", "--workers", "1"]
DEPARTURES = [
    "data: the NCI-60 balanced screens and the AIDS antiviral screen (hiv.csv) balanced the same way (every active, as many "
    "sampled inactives); the paper subsampled inactives to 10,000 per assay. Its yeast screen is not available, so the "
    "curves stop at 8 tasks, not 9",
    "split: each dataset's canonical random split (80/10/10); the paper does not say how it split",
    "hyper-parameters: Table II's (hidden 64, T = 10, at most 25 epochs, early stopping on the valid mean ROC-AUC, patience 6), "
    "fixed beforehand; the paper tuned on valid",
    "calls: the Platt-calibrated probability (fitted on valid) above 0.5",
]


def training_sets() -> list[tuple[str, ...]]:
    """Every set of assays a curve needs, each once, in the order the curves first need them."""
    sets: list[tuple[str, ...]] = []
    for order in ORDERS.values():
        for k in range(1, len(order) + 1):
            members = tuple(sorted(order[:k], key=list(SHORT).index))
            if members not in sets:
                sets.append(members)
    return sets


def model_dir(members: tuple[str, ...], seed: int) -> Path:
    if len(members) == 1 and members[0] != "HIV_active":
        return TABLE_II_WORK / f"graphmem-nci60-{members[0]}-{SPLIT}-seed{seed}"
    return WORK / f"graphmem-{'+'.join(SHORT[m] for m in members)}-{SPLIT}-seed{seed}"


def train_command(members: tuple[str, ...], seed: int) -> list[str]:
    datasets = [name for name, has in (("nci60_balanced", any(m != "HIV_active" for m in members)),
                                       ("aids_balanced", "HIV_active" in members)) if has]
    return [sys.executable, "-m", "molapp.train", "--dataset", ",".join(datasets), "--targets", *members,
            "--model", "graphmem" if len(members) == 1 else "mt-graphmem", *SETTINGS, "--seed", str(seed),
            "--out", str(model_dir(members, seed).relative_to(ROOT))]


def record_path(members: tuple[str, ...], seed: int, results: Path) -> Path:
    """The committed record of one model's test scores (singles of Table II: its per-seed file)."""
    if len(members) == 1 and members[0] != "HIV_active":
        return results / f"nci60-graphmem-separate-{SPLIT}-seed{seed}.json"
    return results / "nci60-fig2" / f"{model_dir(members, seed).name}.json"


def scored_path(seed: int, results: Path) -> Path:
    """A complete seed's curves (`score`)."""
    return results / f"nci60-fig2-{SPLIT}-seed{seed}.json"


def record_model(members: tuple[str, ...], seed: int, results: Path) -> Path:
    """Each tracked assay's test F1 and ROC-AUC for a trained model, with its command."""
    start, directory = time.perf_counter(), model_dir(members, seed)
    card, held_out = read_card(directory), SplitPredictions.load(directory)
    scores = assay_scores({a: scores for a, scores in by_assay(held_out.labels, held_out.predictions, card.tasks).items() if a in ORDERS})
    record = {"figure": "GraphMem Fig. 2", "model": directory.name, "split": SPLIT, "seed": seed, "assays": list(members),
              "f1": {a: float(scores.f1[a]) for a in scores.f1}, "auc": scores.auc, "training_command": card.command,
              "train_seconds": card.train_seconds, "provenance": provenance(time.perf_counter() - start)}
    path = record_path(members, seed, results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, allow_nan=True) + "\n")
    return path


def train(seeds: list[int], limit: int | None, results: Path) -> None:
    """Train every model whose record is missing (cheapest sets first within a seed) and record
    it; a killed run resumes from its last epoch. A seed already scored needs none."""
    todo = [(members, seed) for seed in seeds if not scored_path(seed, results).exists()
            for members in sorted(training_sets(), key=len) if not record_path(members, seed, results).exists()]
    for members, seed in tqdm(todo[:limit], desc="fig. 2 models", unit="model"):
        if len(members) == 1 and members[0] != "HIV_active":
            raise SystemExit(f"seed {seed} of Table II's separate runs is missing: run bench/nci60_multitask.py first")
        log = model_dir(members, seed).with_suffix(".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        tqdm.write(f"{'+'.join(SHORT[m] for m in members)} seed {seed}")
        if not (model_dir(members, seed) / "card.json").exists():
            with open(log, "a") as out:
                if subprocess.run(train_command(members, seed), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode:
                    raise SystemExit(f"training {model_dir(members, seed).name} failed: see {log}")
        tqdm.write(f"recorded {_shown(record_model(members, seed, results))}")


def seed_points(seed: int, results: Path) -> dict[str, list[dict]]:
    """One seed's curves from its models' records, each up to its first model not recorded yet."""
    curves = {}
    for assay, order in ORDERS.items():
        points = []
        for k in range(1, len(order) + 1):
            path = record_path(tuple(sorted(order[:k], key=list(SHORT).index)), seed, results)
            if not path.exists():
                break
            record = json.loads(path.read_text())
            points.append({"tasks": k, "added": SHORT[order[k - 1]], "f1": record["f1"][assay], "auc": record["auc"][assay],
                           "record": _shown(path)})
        curves[SHORT[assay]] = points
    return curves


def recorded_count(seed: int, results: Path) -> int:
    return sum(record_path(members, seed, results).exists() for members in training_sets())


def score(seeds: list[int], results: Path) -> list[Path]:
    """Per seed whose 11 models are all recorded: each tracked assay's test F1 and ROC-AUC at
    every point of its curve."""
    written = []
    for seed in seeds:
        paths = {members: record_path(members, seed, results) for members in training_sets()}
        recorded = recorded_count(seed, results)
        if recorded < len(paths):
            tqdm.write(f"seed {seed}: {recorded} of {len(paths)} models recorded; not scored yet")
            continue
        start, records, curves = time.perf_counter(), {p: json.loads(p.read_text()) for p in set(paths.values())}, seed_points(seed, results)
        commands = {model_dir(members, seed).name: _command(records[path], members) for members, path in paths.items()}
        record = {"figure": "GraphMem Fig. 2", "split": SPLIT, "seed": seed, "orders": {SHORT[a]: [SHORT[m] for m in o] for a, o in ORDERS.items()},
                  "curves": curves, "departures": DEPARTURES, "training_commands": commands,
                  "train_seconds_of_its_own_models": round(sum(r["train_seconds"] for r in records.values() if "training_command" in r), 1),
                  "provenance": provenance(time.perf_counter() - start)}
        path = scored_path(seed, results)
        path.write_text(json.dumps(record, indent=2, allow_nan=True) + "\n")
        tqdm.write(f"{path.name}: " + "; ".join(f"{a} F1 " + " ".join(f"{p['f1']:.2f}" for p in c) for a, c in curves.items()))
        written.append(path)
    return written


def _command(record: dict, members: tuple[str, ...]) -> str:
    """A model's training command from its record (Table II's file lists all nine of a seed)."""
    if "training_command" in record:
        return record["training_command"]
    return next(c for c in record["training_commands"] if f"--targets {members[0]} " in c)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


SEEDS_NEEDED = 3  # a verdict on a stochastic run rests on three seeds


def summarize(results: Path) -> dict:
    """Mean ± sd of each curve's points over every seed with records, at the points all of those
    seeds have (a complete seed's scored file, a partial seed's records so far), and the verdict
    on the claim: given once SEEDS_NEEDED seeds are complete, "not tested" with the reading so
    far before that."""
    start = time.perf_counter()
    found = [*results.glob(f"nci60-fig2-{SPLIT}-seed*.json"), *(results / "nci60-fig2").glob("*.json")]
    seeds = sorted({int(p.stem.rsplit("seed", 1)[1]) for p in found})
    complete = [seed for seed in seeds if scored_path(seed, results).exists()]
    per_seed = {seed: json.loads(scored_path(seed, results).read_text())["curves"] if seed in complete else seed_points(seed, results)
                for seed in seeds}
    lengths = {SHORT[a]: min(len(per_seed[seed][SHORT[a]]) for seed in seeds) for a in ORDERS} if seeds else {}
    curves = {SHORT[a]: [{"tasks": k + 1, "added": SHORT[o[k]], **mean_sd([per_seed[seed][SHORT[a]][k]["f1"] for seed in seeds])}
                         for k in range(lengths[SHORT[a]])] for a, o in ORDERS.items()} if seeds else {}
    partial = [seed for seed in seeds if seed not in complete]
    records = sorted({point["record"] for seed in partial for points in per_seed[seed].values() for point in points})
    files = [f"bench/results/{scored_path(seed, results).name}" for seed in complete] + records
    progress = ", ".join(f"seed {seed}: {recorded_count(seed, results)} of {len(training_sets())} models recorded" for seed in partial)
    summary = {"figure": "GraphMem Fig. 2", "split": SPLIT, "orders": {SHORT[a]: [SHORT[m] for m in o] for a, o in ORDERS.items()},
               "f1": curves, "claim": verdict(curves, complete=len(complete) >= SEEDS_NEEDED and not partial, progress=progress,
                                              per_seed_f1=[{SHORT[a]: [p["f1"] for p in per_seed[seed][SHORT[a]][:lengths[SHORT[a]]]] for a in ORDERS}
                                                           for seed in seeds]),
               "files": files, "departures": DEPARTURES, "provenance": provenance(time.perf_counter() - start)}
    path = results / f"nci60-fig2-{SPLIT}.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    print(f"wrote {path}: {summary['claim']['summary']}")
    return summary


def claim_parts(f1: dict[str, list[float]]) -> dict[str, bool]:
    """The paper's five statements on one set of curves (the seeds' means, or one seed's):
    breast and colon F1 fall when AIDS joins (2 tasks below 1), then rise as more join (the
    best of 3 or more tasks above 2); AIDS's F1 is not raised by joint training (its best joint
    point within 0.02 of, or below, its own)."""
    return {**{f"{a} falls when AIDS joins": f1[a][1] < f1[a][0] for a in ("breast", "colon")},
            **{f"{a} rises as more join": max(f1[a][2:]) > f1[a][1] for a in ("breast", "colon")},
            "AIDS not raised": max(f1["aids"][1:]) - f1["aids"][0] <= 0.02}


def verdict(curves: dict, complete: bool, progress: str = "", per_seed_f1: list[dict[str, list[float]]] = ()) -> dict:
    """The claim_parts on the seeds' mean curves, each with the number of seeds in which it
    holds on its own (`per_seed_f1`: each seed's curves at the same points). Until the seeds are
    complete (`complete`), the same reading on the points so far, with the verdict "not tested"."""
    if not curves or min(len(points) for points in curves.values()) < 3:
        return {"verdict": "not tested", "summary": "no seed has the first three points of every curve yet", "seeds": 0,
                "seeds_in_words": progress or "no seed run"}
    f1 = {assay: [point["mean"] for point in points] for assay, points in curves.items()}
    parts = claim_parts(f1)
    seeds_holding = {part: sum(claim_parts(seed_f1)[part] for seed_f1 in per_seed_f1) for part in parts}
    held = sum(parts.values())
    words = "; ".join(f"{a}: {f1[a][0]:.3f} alone, {f1[a][1]:.3f} with AIDS, best {max(f1[a][2:]):.3f} with more, "
                      f"{f1[a][-1]:.3f} with {'all ' if complete else ''}{len(f1[a])}" for a in ("breast", "colon"))

    def listed(ok: bool) -> str:
        return ", ".join(part + (f" (in {seeds_holding[part]} of {len(per_seed_f1)} seeds)" if per_seed_f1 else "")
                         for part, holds in parts.items() if holds == ok) or "none"

    seeds = min(point["seeds"] for points in curves.values() for point in points)
    points_so_far = min(len(points) for points in curves.values())
    seeds_in_words = f"{seeds} seed{'s' if seeds != 1 else ''}" + (
        "" if complete else f", curves to {points_so_far} of {len(ORDERS['HIV_active'])} tasks so far" + (f"; {progress}" if progress else ""))
    reading = "reproduced" if held == 5 else ("partly reproduced" if held else "not reproduced")
    return {"verdict": reading if complete else "not tested", "reading_so_far": None if complete else reading,
            "falls_when_aids_joins": {a: parts[f"{a} falls when AIDS joins"] for a in ("breast", "colon")},
            "rises_as_more_join": {a: parts[f"{a} rises as more join"] for a in ("breast", "colon")},
            "aids_not_raised": parts["AIDS not raised"], "seeds_holding_each_part": seeds_holding,
            "seeds": seeds, "seeds_in_words": seeds_in_words,
            "summary": ("" if complete else f"So far (it would read {reading}): ") +
                       f"{words}; AIDS {f1['aids'][0]:.3f} alone, best joint {max(f1['aids'][1:]):.3f}. "
                       f"Held on the means: {listed(True)}; not held: {listed(False)}" +
                       ("; a seed count applies the same test to that seed's curve alone" if per_seed_f1 else "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "score", "summary"])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--limit", type=int, default=None, help="train: at most this many models")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.step == "train":
        train(seeds, args.limit, args.results_dir)
    elif args.step == "score":
        score(seeds, args.results_dir)
    else:
        summarize(args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
