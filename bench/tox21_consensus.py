"""Would averaging GraphMem with the ladder's other models reach issue #2's Tox21 target?

A consensus of different architectures is the usual next step when one model family stalls
(ADMET-AI averages Chemprop models). This measures it on the canonical Tox21 split without
shipping anything: the GraphMem ensemble's predictions are averaged with those of the
ladder's other models, per task on ranks (the models' scores are on different scales),
GraphMem weighted 1, 2 or 3 against 1 for each other family (a family's seeds averaged
first). The subset of families and the weight are chosen on *valid*; the test figure of
that choice is the one to read (the best test figure over all choices is printed only to
show how much selecting on test would flatter it).

    MOLAPP_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python bench/tox21_consensus.py --split random

Graph families come from the ladder's checkpoints (`bench/work/<model>-tox21-<split>-seed<k>`,
written by `bench/ladder.py`; whichever seeds are there), else from the shipped split model
`checkpoints/<model>-tox21-<split>` where there is one; the fingerprint and descriptor
families (desc-rf-all: a random forest on all of RDKit's descriptors) are retrained here with
`molapp.baselines` (their ladder runs keep no model).
Writes `bench/results/consensus-tox21-<split>.json`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.stats import rankdata  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.ladder import featurize_dataset, split_arrays  # noqa: E402
from molapp.baselines import FEATURES, fit_predict  # noqa: E402
from molapp.models.checkpoint import load_checkpoint  # noqa: E402
from molapp.training.evaluate import checkpoint_groups, split_predictions  # noqa: E402
from molapp.metrics import per_task_metrics  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
GRAPH_FAMILIES = ["graseq", "gcn", "memgnn", "gmn", "transfer"]
FINGERPRINT_FAMILIES = {"desc-rf": (0, 1, 2), "desc-rf-all": (0, 1, 2), "ecfp-rf": (0, 1, 2), "ecfp-gb": (0,)}  # family → seeds retrained here
GRAPHMEM_WEIGHTS = (1, 2, 3)


def per_task_ranks(scores: np.ndarray) -> np.ndarray:
    """Each task's column → ranks scaled to (0, 1] (NaN stays NaN): a common scale for averaging."""
    ranks = np.full_like(scores, np.nan, dtype=np.float64)
    for k in range(scores.shape[1]):
        kept = ~np.isnan(scores[:, k])
        ranks[kept, k] = rankdata(scores[kept, k]) / kept.sum()
    return ranks


def mean_auc(labels: np.ndarray, scores: np.ndarray, tasks: list[str]) -> float:
    return per_task_metrics(labels, scores, tasks, "classification")["mean"]


def graph_predictions(directory: Path, groups_by_descriptors: dict, data_dir: str | None) -> dict[str, np.ndarray]:
    model, card = load_checkpoint(directory)
    key = bool(card.descriptors)
    if key not in groups_by_descriptors:
        groups_by_descriptors[key] = checkpoint_groups(card, data_dir, workers=1)
    groups = groups_by_descriptors[key]
    parts = {part: split_predictions(model, groups, part) for part in ("valid", "test")}
    return {"valid": parts["valid"].predictions, "test": parts["test"].predictions,
            "valid_labels": parts["valid"].labels, "test_labels": parts["test"].labels, "tasks": card.tasks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["random", "scaffold"], default="random")
    parser.add_argument("--graphmem", default=None, help="GraphMem checkpoint (default: checkpoints/graphmem-tox21-<split>-ensemble)")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    graphmem = Path(args.graphmem or ROOT / "checkpoints" / f"graphmem-tox21-{args.split}-ensemble")

    groups: dict = {}
    reference = graph_predictions(graphmem, groups, args.data_dir)
    tasks, labels = reference["tasks"], {part: reference[f"{part}_labels"] for part in ("valid", "test")}
    members: dict[str, list[dict[str, np.ndarray]]] = {"graphmem": [reference]}
    sources: dict[str, list[str]] = {"graphmem": [str(graphmem.relative_to(ROOT) if graphmem.is_relative_to(ROOT) else graphmem)]}
    shipped = {family: ROOT / "checkpoints" / f"{family}-tox21-{args.split}" for family in GRAPH_FAMILIES}
    directories = {family: sorted(WORK.glob(f"{family}-tox21-{args.split}-seed*")) or ([shipped[family]] if shipped[family].exists() else [])
                   for family in GRAPH_FAMILIES}
    with tqdm(total=sum(map(len, directories.values())) + sum(map(len, FINGERPRINT_FAMILIES.values())), desc="predictions") as bar:
        for family, found in directories.items():
            for directory in found:
                predicted = graph_predictions(directory, groups, args.data_dir)
                for part in ("valid", "test"):  # the same molecules, in the same order, as GraphMem's
                    if not np.array_equal(np.isnan(predicted[f"{part}_labels"]), np.isnan(labels[part])):
                        raise ValueError(f"{directory}: its {part} molecules differ from GraphMem's")
                members.setdefault(family, []).append(predicted)
                sources.setdefault(family, []).append(str(directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory))
                bar.update()
        features = featurize_dataset("tox21", args.data_dir, {FEATURES[family] for family in FINGERPRINT_FAMILIES})
        parts = features.data.split(args.split, args.data_dir)
        for family, seeds in FINGERPRINT_FAMILIES.items():
            data = split_arrays(features, parts, FEATURES[family])
            for seed in seeds:
                result = fit_predict(family, data, "classification", seed)
                members.setdefault(family, []).append({"valid": result.valid, "test": result.test})
                sources.setdefault(family, []).append(f"molapp.baselines {family} seed {seed}")
                bar.update()

    # a family's score: the mean of its seeds' per-task ranks
    family_scores = {family: {part: np.mean([per_task_ranks(m[part]) for m in runs], axis=0) for part in ("valid", "test")}
                     for family, runs in members.items()}
    alone = {family: {part: mean_auc(labels[part], scores[part], tasks) for part in ("valid", "test")} for family, scores in family_scores.items()}
    others = [f for f in family_scores if f != "graphmem"]
    choices = []
    for size in range(1, len(others) + 1):
        for subset in itertools.combinations(others, size):
            for weight in GRAPHMEM_WEIGHTS:
                blended = {part: (weight * family_scores["graphmem"][part] + sum(family_scores[f][part] for f in subset)) / (weight + size)
                           for part in ("valid", "test")}
                choices.append({"families": ["graphmem", *subset], "graphmem_weight": weight,
                                **{part: mean_auc(labels[part], blended[part], tasks) for part in ("valid", "test")}})
    selected = max(choices, key=lambda c: c["valid"])
    best_on_test = max(choices, key=lambda c: c["test"])
    record = {
        "benchmark": "tox21-consensus", "dataset": "tox21", "split": args.split, "metric": "roc_auc",
        "members": sources, "alone": alone, "choices_tried": len(choices),
        "selected_on_valid": selected, "best_on_test_not_a_result": best_on_test,
        "seconds": round(time.perf_counter() - start, 1),
        "provenance": provenance(time.perf_counter() - start, "python bench/tox21_consensus.py " + " ".join(argv if argv is not None else sys.argv[1:])),
    }
    path = RESULTS / f"consensus-tox21-{args.split}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    for family, scores in alone.items():
        print(f"{family:10s} ({len(members[family])} runs) valid {scores['valid']:.4f} test {scores['test']:.4f}")
    print(f"selected on valid: {' + '.join(selected['families'])} (GraphMem ×{selected['graphmem_weight']}): "
          f"valid {selected['valid']:.4f}, test {selected['test']:.4f}; best test of {len(choices)} choices {best_on_test['test']:.4f}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
