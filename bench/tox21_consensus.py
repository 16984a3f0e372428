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

What a shipped consensus can do differs in two ways, measured with `--rule approved-percentile`:
ranks within the scored set are not available for one molecule, so each member's score
becomes its percentile among the approved drugs of ClinTox (`molapp.inference.calls`, the
same reference for every member and for a split or deployment model alike); and a forest
ships as arrays (`molapp.models.forest`), whose size grows with its leaves, so forests with
larger leaves (`--forest-leaves`, scikit-learn's min_samples_leaf) are tried too and
`--max-forest-mb` bounds what may be chosen. A family's leaf variants are alternatives: a
choice holds at most one of them. Writes `consensus-tox21-<split>-<rule>.json` then.

    MOLAPP_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python bench/tox21_consensus.py --split scaffold \
        --rule approved-percentile --graphmem bench/work/deploy/graphmem-tox21-scaffold-recipe-ensemble \
        --forest-seeds 0 --forest-leaves 1,3,5,10,20 --max-forest-mb 4
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
from rdkit import Chem  # noqa: E402
from scipy.stats import rankdata  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.ladder import featurize_dataset, split_arrays  # noqa: E402
from molapp.baselines import FEATURES, fit_predict  # noqa: E402
from molapp.baselines.models import fit_rf  # noqa: E402
from molapp.cli.calls import approved_drug_predictions, approved_drugs  # noqa: E402
from molapp.featurizers.descriptors import all_rdkit_descriptors  # noqa: E402
from molapp.featurizers.fingerprints import ecfp_of_smiles  # noqa: E402
from molapp.inference.calls import percentile_among  # noqa: E402
from molapp.inference.predictor import Predictor  # noqa: E402
from molapp.models.consensus import FOREST_FEATURES  # noqa: E402
from molapp.models.forest import Forest  # noqa: E402
from molapp.models.checkpoint import load_checkpoint  # noqa: E402
from molapp.training.evaluate import checkpoint_groups, split_predictions  # noqa: E402
from molapp.metrics import per_task_metrics  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
GRAPH_FAMILIES = ["graseq", "gcn", "memgnn", "gmn", "transfer"]
FINGERPRINT_FAMILIES = {"desc-rf": (0, 1, 2), "desc-rf-all": (0, 1, 2), "ecfp-rf": (0, 1, 2), "ecfp-gb": (0,)}  # family → seeds retrained here
SHIPPABLE_FORESTS = tuple(FOREST_FEATURES)  # the forest families a consensus panel can ship, with leaf variants (--forest-leaves, --forest-seeds)
GRAPHMEM_WEIGHTS = (1, 2, 3)
RULES = ("ranks", "approved-percentile")


def per_task_ranks(scores: np.ndarray) -> np.ndarray:
    """Each task's column → ranks scaled to (0, 1] (NaN stays NaN): a common scale for averaging."""
    ranks = np.full_like(scores, np.nan, dtype=np.float64)
    for k in range(scores.shape[1]):
        kept = ~np.isnan(scores[:, k])
        ranks[kept, k] = rankdata(scores[kept, k]) / kept.sum()
    return ranks


def mean_auc(labels: np.ndarray, scores: np.ndarray, tasks: list[str]) -> float:
    return per_task_metrics(labels, scores, tasks, "classification")["mean"]


def graph_predictions(directory: Path, groups_by_descriptors: dict, data_dir: str | None, approved: bool) -> dict[str, np.ndarray]:
    """The checkpoint's valid and test predictions and labels; with `approved`, its scores of
    the approved drugs too (sorted per task)."""
    model, card = load_checkpoint(directory)
    key = bool(card.descriptors)
    if key not in groups_by_descriptors:
        groups_by_descriptors[key] = checkpoint_groups(card, data_dir, workers=1)
    groups = groups_by_descriptors[key]
    parts = {part: split_predictions(model, groups, part) for part in ("valid", "test")}
    return {"valid": parts["valid"].predictions, "test": parts["test"].predictions,
            "valid_labels": parts["valid"].labels, "test_labels": parts["test"].labels, "tasks": card.tasks,
            **({"approved": approved_drug_predictions(Predictor.load(directory, "cpu"), data_dir)} if approved else {})}


def approved_features(data_dir: str | None) -> dict[str, np.ndarray]:
    """The approved drugs' features as the forests read them, by `FEATURES` kind."""
    smiles = [m.canonical_smiles for m in approved_drugs(data_dir)]
    return {"all-descriptors": all_rdkit_descriptors([Chem.MolFromSmiles(s) for s in smiles]), "ecfp": ecfp_of_smiles(smiles)}


def forest_run(data, seed: int, leaf: int, approved_x: np.ndarray | None) -> dict:
    """One forest: its valid and test scores, its size as arrays (what `molapp.models.forest`
    would ship) and, given their features, the approved drugs' scores (sorted per task)."""
    fitted: list = []
    result = fit_rf(data, "classification", seed, min_samples_leaf=leaf, fitted=fitted)
    forest = Forest.from_sklearn(fitted)
    run = {"valid": result.valid, "test": result.test, "megabytes": sum(b.numel() * b.element_size() for b in forest.buffers()) / 1e6}
    if approved_x is not None:
        with torch.no_grad():
            run["approved"] = np.sort(forest(torch.from_numpy(approved_x.astype(np.float32))).numpy(), axis=0)
    return run


def family_score(runs: list[dict], part: str, rule: str) -> np.ndarray:
    """A family's score on `part`: the mean over its runs of each run's per-task ranks within
    the part, or of each run's percentiles among the approved drugs."""
    if rule == "ranks":
        return np.mean([per_task_ranks(run[part]) for run in runs], axis=0)
    return np.mean([percentile_among(run["approved"], run[part]) / 100.0 for run in runs], axis=0)


def variant_of(family: str) -> str:
    """"desc-rf-all-leaf5" → "desc-rf-all": the family a leaf variant belongs to."""
    return family.split("-leaf")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["random", "scaffold"], default="random")
    parser.add_argument("--graphmem", default=None, help="GraphMem checkpoint (default: checkpoints/graphmem-tox21-<split>-ensemble)")
    parser.add_argument("--data-dir", default=None, help="folder with the MoleculeNet CSVs and splits/ (default: $MOLAPP_DATA)")
    parser.add_argument("--rule", choices=RULES, default="ranks", help="how members' scores are put on one scale")
    parser.add_argument("--forest-leaves", default="1", help="min_samples_leaf values of the desc-rf-all and ecfp-rf forests")
    parser.add_argument("--forest-seeds", default="0,1,2", help="seeds of the desc-rf-all and ecfp-rf forests")
    parser.add_argument("--max-forest-mb", type=float, default=None, help="a choice may hold only forests this small as arrays")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    graphmem = Path(args.graphmem or ROOT / "checkpoints" / f"graphmem-tox21-{args.split}-ensemble")
    leaves = [int(v) for v in args.forest_leaves.split(",")]
    forest_seeds = [int(v) for v in args.forest_seeds.split(",")]
    fingerprint_runs = {family: [(seed, leaf) for leaf in (leaves if family in SHIPPABLE_FORESTS else [1])
                                 for seed in (forest_seeds if family in SHIPPABLE_FORESTS else seeds)]
                        for family, seeds in FINGERPRINT_FAMILIES.items()}

    groups: dict = {}
    reference = graph_predictions(graphmem, groups, args.data_dir, args.rule == "approved-percentile")
    tasks, labels = reference["tasks"], {part: reference[f"{part}_labels"] for part in ("valid", "test")}
    members: dict[str, list[dict[str, np.ndarray]]] = {"graphmem": [reference]}
    sources: dict[str, list[str]] = {"graphmem": [str(graphmem.relative_to(ROOT) if graphmem.is_relative_to(ROOT) else graphmem)]}
    megabytes: dict[str, float] = {}
    shipped = {family: ROOT / "checkpoints" / f"{family}-tox21-{args.split}" for family in GRAPH_FAMILIES}
    directories = {family: sorted(WORK.glob(f"{family}-tox21-{args.split}-seed*")) or ([shipped[family]] if shipped[family].exists() else [])
                   for family in GRAPH_FAMILIES}
    with tqdm(total=sum(map(len, directories.values())) + sum(map(len, fingerprint_runs.values())), desc="predictions") as bar:
        for family, found in directories.items():
            for directory in found:
                predicted = graph_predictions(directory, groups, args.data_dir, args.rule == "approved-percentile")
                for part in ("valid", "test"):  # the same molecules, in the same order, as GraphMem's
                    if not np.array_equal(np.isnan(predicted[f"{part}_labels"]), np.isnan(labels[part])):
                        raise ValueError(f"{directory}: its {part} molecules differ from GraphMem's")
                members.setdefault(family, []).append(predicted)
                sources.setdefault(family, []).append(str(directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory))
                bar.update()
        features = featurize_dataset("tox21", args.data_dir, {FEATURES[family] for family in FINGERPRINT_FAMILIES})
        parts = features.data.split(args.split, args.data_dir)
        approved_x = approved_features(args.data_dir) if args.rule == "approved-percentile" else None
        for family, runs in fingerprint_runs.items():
            data = split_arrays(features, parts, FEATURES[family])
            for seed, leaf in runs:
                name = family if leaf == 1 else f"{family}-leaf{leaf}"
                if family in SHIPPABLE_FORESTS:
                    run = forest_run(data, seed, leaf, None if approved_x is None else approved_x[FEATURES[family]])
                    megabytes[name] = max(megabytes.get(name, 0.0), run.pop("megabytes"))
                elif args.rule == "ranks":
                    result = fit_predict(family, data, "classification", seed)
                    run = {"valid": result.valid, "test": result.test}
                else:  # no approved-drug scores without the fitted model: only the shippable forests take part
                    bar.update()
                    continue
                members.setdefault(name, []).append(run)
                sources.setdefault(name, []).append(f"molapp.baselines {family} seed {seed}" + (f" min_samples_leaf {leaf}" if leaf != 1 else ""))
                bar.update()

    family_scores = {family: {part: family_score(runs, part, args.rule) for part in ("valid", "test")}
                     for family, runs in members.items()}
    alone = {family: {part: mean_auc(labels[part], scores[part], tasks) for part in ("valid", "test")} for family, scores in family_scores.items()}
    for family, size in megabytes.items():
        alone[family]["megabytes"] = round(size, 2)
    others = [f for f in family_scores if f != "graphmem"]
    choices = []
    for size in range(1, len(others) + 1):
        for subset in itertools.combinations(others, size):
            if len({variant_of(f) for f in subset}) < size:  # two leaf variants of one forest
                continue
            for weight in GRAPHMEM_WEIGHTS:
                blended = {part: (weight * family_scores["graphmem"][part] + sum(family_scores[f][part] for f in subset)) / (weight + size)
                           for part in ("valid", "test")}
                choices.append({"families": ["graphmem", *subset], "graphmem_weight": weight,
                                "largest_forest_mb": round(max([megabytes.get(f, 0.0) for f in subset]), 2),
                                **{part: mean_auc(labels[part], blended[part], tasks) for part in ("valid", "test")}})

    def chosen_within(bound: float | None) -> dict:
        """The choice best on valid among those whose forests are each at most `bound` MB."""
        return max((c for c in choices if bound is None or c["largest_forest_mb"] <= bound), key=lambda c: c["valid"])

    selected = chosen_within(args.max_forest_mb)
    best_on_test = max(choices, key=lambda c: c["test"])
    record = {
        "benchmark": "tox21-consensus", "dataset": "tox21", "split": args.split, "metric": "roc_auc", "rule": args.rule,
        "max_forest_mb": args.max_forest_mb, "members": sources, "alone": alone, "choices_tried": len(choices),
        "selected_on_valid": selected, "best_on_test_not_a_result": best_on_test,
        "seconds": round(time.perf_counter() - start, 1),
        "provenance": provenance(time.perf_counter() - start, "python bench/tox21_consensus.py " + " ".join(argv if argv is not None else sys.argv[1:])),
    }
    if megabytes:  # what the size bound costs: the choice on valid under other bounds
        record["selected_on_valid_by_forest_bound"] = {("none" if bound is None else f"{bound:g}"): chosen_within(bound)
                                                       for bound in (1, 2, 4, 8, None)}
    if args.rule != "ranks":
        record["choices"] = sorted(choices, key=lambda c: -c["valid"])
    path = RESULTS / f"consensus-tox21-{args.split}{'' if args.rule == 'ranks' else '-' + args.rule}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    for family, scores in alone.items():
        print(f"{family:10s} ({len(members[family])} runs) valid {scores['valid']:.4f} test {scores['test']:.4f}")
    print(f"selected on valid: {' + '.join(selected['families'])} (GraphMem ×{selected['graphmem_weight']}): "
          f"valid {selected['valid']:.4f}, test {selected['test']:.4f}; best test of {len(choices)} choices {best_on_test['test']:.4f}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
