"""Write bench/RESULTS.md from the result files in bench/results/ (never by hand).

    .venv/bin/python bench/summarize.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from molapp.baselines import BASELINES  # noqa: E402
from molapp.evaluation.leaderboard import RESULT_FIELDS, leaderboard, read_results  # noqa: E402
from molapp.models.registry import ladder_models  # noqa: E402
from molapp.evaluation.provenance import describe, kind, landing, provenance_sentence, reconstructed  # noqa: E402


MEMORY_DATASETS = ["esol", "lipophilicity", "freesolv", "bace", "bbbp", "tox21"]
# Test figures of Tables 2–3, on the split MoleculeNet recommends for each (the paper follows its protocol).
MEMGNN_PAPER = {("esol", "random"): "0.54", ("lipophilicity", "random"): "0.556", ("bace", "scaffold"): "0.907", ("tox21", "random"): "0.828"}
MEMORY_TARGETS = {"esol": 0.55, "lipophilicity": 0.60, "bace": 0.88}  # issue 4, random split
TOX21_TARGETS = {"random": 0.86, "scaffold": 0.76}  # issue 2's, test ROC-AUC per split
# Peers run here on the same canonical splits (bench/chemprop_reference.py)
PEERS = [("chemprop", "Chemprop 2.3.1 D-MPNN, defaults"), ("chemprop-rdkit", "Chemprop 2.3.1 + RDKit 2D normalized descriptors (ADMET-AI's features)")]
DEPLOYMENT_RECIPE = "graphmem-descriptors-unweighted-fixed30"  # the Tox21 recipe fixed first (issue 26); its ensembles: graphmem-tox21-*
# Rival recipes, the same but for one lever (`bench/deployment_recipes.sh tox21/<variant>`): benchmark name → what differs, its ensembles' names.
# One adopted by rival_decisions' rule is the one the shipped panel is built from (its card's estimate names its runs).
RIVAL_RECIPES = {"graphmem-descriptors-all-unweighted-fixed30": ("the same reading all of RDKit's descriptors (lever B1)",
                                                                 "graphmem-all-descriptors-tox21"),
                 "graphmem-pretrained-descriptors-unweighted-fixed30": (
                     "the same started from GraphMem's encoder pretrained on unlabelled molecules (lever B2)", "graphmem-pretrained-tox21")}


def ran(record: dict, path: Path) -> str:
    """Where a section's figures come from: the results file and how it was made (its
    provenance block; a file from before provenance was recorded names the commit it landed in
    and, where known, its command: its own, or one reconstructed from the script that writes it)."""
    block = record.get("provenance") or {}
    where = f"`bench/results/{path.name}`"
    if "commit" in block:
        return f"{where}: `{block['command']}` at commit {block['commit'][:10]} on {block['machine']}"
    command = block.get("command") or record.get("command")
    made = (f"`{command}`" + (f" on {record['machine']}" if record.get("machine") else "")
            + (" (command reconstructed)" if reconstructed(block) else "")) if command else "command not recorded"
    return f"{where}: {made} ({describe(record)})"


def provenance_summary(results_dir: Path = RESULTS) -> list[str]:
    """How many results files record their run, derive it from a checkpoint card, or were
    written before that (with the commit they landed in, and of those how many with a command)."""
    return ["Provenance: " + provenance_sentence(results_dir)]


def short_provenance(record: dict) -> str:
    """The provenance column of the run table."""
    block = record.get("provenance") or {"recorded": False}
    how = kind(record)
    if how == "not recorded":
        return "not recorded"
    if how == "landed":
        text = f"not recorded at run time; {landing(block)}"
        if block.get("command"):
            command = block["command"].strip().replace("|", "\\|")
            text += f"; `{command}`" + (" (reconstructed)" if reconstructed(block) else "")
        return text
    if how == "derived":
        return block["source"].replace("derived from ", "card ")
    return f"commit {block['commit'][:10]}"


def fmt(value) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"


# The ladder (bench/ladder.py): fingerprint baselines first, then the graph models, plainest
# first (`molapp.models.registry.ladder_models`); any other model with results files follows
# in name order.
FINGERPRINT_MODELS = list(BASELINES)  # ecfp-svm, ecfp-rf, ecfp-gb, mt-nn, desc-rf
LADDER_MODELS = [*FINGERPRINT_MODELS, *ladder_models()]
LADDER_DATASETS = ["tox21", "hiv", "bace", "bbbp", "clintox", "sider", "esol", "lipophilicity", "freesolv"]
LOWER_IS_BETTER = {"rmse"}


def load_records(results_dir: Path = RESULTS) -> list[dict]:
    """Every run's results file (`<model>-<dataset>-<split>-seed<k>.json`; files of other
    benchmarks named alike, such as a run's cluster counts, lack a run's fields and are skipped)."""
    records = [json.loads(p.read_text()) for p in sorted(Path(results_dir).glob("*-seed*.json"))]
    return [r for r in records if all(field in r for field in RESULT_FIELDS)]


def ladder_section(results_dir: Path = RESULTS) -> list[str]:
    """Per split, one table: a row per model, a column per dataset, each cell the test metric's
    mean ± std over seeds and the number of seeds n; the best mean of a column in bold; a
    dataset without runs of a model is "—"."""
    results = read_results(results_dir)
    results = results[results["test"].notna()]
    if results.empty:
        return []
    metric_of = dict(zip(results["dataset"], results["metric"]))
    present = set(results["model"])
    models = [m for m in LADDER_MODELS if m in present] + sorted(present - set(LADDER_MODELS))
    datasets = [d for d in LADDER_DATASETS] + sorted(set(results["dataset"]) - set(LADDER_DATASETS))
    splits = ["random", "scaffold"] + sorted(set(results["split"]) - {"random", "scaffold"})
    lines = ["", "## Ladder", "",
             "`bench/ladder.py`: every model on every dataset and canonical split; test metric mean ± std over seeds (n seeds),",
             "ROC-AUC ↑ (classification) or RMSE ↓ (esol, lipophilicity, freesolv); the best mean of each column in bold;",
             "— no run (mt-graphmem is one model trained jointly on the six classification datasets, so it has no regression cells). Fingerprint baselines (`molapp/baselines`): ECFP4 (Morgan r = 2, 1024 bits) of the standardized molecules;",
             "ecfp-svm Tanimoto-kernel SVM (C from the valid set; hiv: Nyström approximation, see its results files),",
             "ecfp-rf random forest, ecfp-gb histogram gradient boosting (early-stopped on valid), mt-nn multi-task MLP;",
             "ecfp-svm and ecfp-gb have no random choice given the data, so their std over seeds is 0 (except ecfp-svm on hiv);",
             "cells marked (n=1) or (n=2) have fewer than three seeds so far (the slowest runs on two CPU cores).",
             "GraSeq: the -RF variant on bbbp (valid-selected, see GraSeq variants), -F (the paper's best) elsewhere.",
             "Graph models are GNNs trained by `python -m molapp.train` (epoch budgets in `bench/ladder.py`)."]
    for split in splits:
        lines += ["", f"### {split} split", "",
                  "| model | " + " | ".join(f"{d} {'↓' if metric_of.get(d) in LOWER_IS_BETTER else '↑'}" for d in datasets) + " |",
                  "|---|" + "---|" * len(datasets)]
        stats = {}
        for d in datasets:  # mean, std (None for one seed), seeds: the app's leaderboard, one per dataset
            for row in leaderboard(results, d, split).itertuples():
                stats[(row.model, d)] = (row.mean, None if row.std != row.std else row.std, row.seeds)
        best = {}
        for d in datasets:
            means = [stats[(m, d)][0] for m in models if (m, d) in stats]
            if means:
                best[d] = min(means) if metric_of.get(d) in LOWER_IS_BETTER else max(means)
        for m in models:
            cells = []
            for d in datasets:
                if (m, d) not in stats:
                    cells.append("—")
                    continue
                mean, std, n = stats[(m, d)]
                text = f"{mean:.3f} ± {std:.3f}" if std is not None else f"{mean:.3f}"
                cells.append(f"{'**' + text + '**' if mean == best[d] else text} (n={n})")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines


TOX21_ROWS = [("graphmem", "GraphMem (the paper's model)"), ("graphmem-descriptors", "GraphMem + descriptors"),
              ("graphmem-descriptors-sqrt", "GraphMem + descriptors, positive weights √(negatives/positives)"),
              ("graphmem-descriptors-unweighted", "GraphMem + descriptors, unweighted BCE (positive weight 1)"),
              ("desc-rf", "random forest on the same 70 descriptors (desc-rf)")]


def peer_figure(records: list[dict], model: str, dataset: str, split: str) -> str:
    """A peer's test figure run here (mean over its seeds), or "not run"."""
    tests = [r["test"] for r in records if (r["model"], r["dataset"], r["split"]) == (model, dataset, split)]
    return f"{np.mean(tests):.3f}" if tests else "not run"


def tox21_section(records: list[dict], reference: dict) -> list[str]:
    """GraphMem on Tox21 against issue #2's targets: the paper's model, GraphMem reading
    descriptors (each seed's mean ± std, and its ensemble), and the descriptors alone."""
    ensembles = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("ensemble-*.json"))]
    ensembles = [e for e in ensembles if e["dataset"] == "tox21" and e["model"].startswith("graphmem")]
    rows = []
    for split in ("random", "scaffold"):
        target, chemprop = reference[split], peer_figure(records, "chemprop", "tox21", split)
        for model, title in TOX21_ROWS:
            tests = [r["test"] for r in records if (r["model"], r["dataset"], r["split"]) == (model, "tox21", split)]
            if tests:
                spread = f" ± {np.std(tests):.3f}" if len(tests) > 1 else ""
                mean = float(np.mean(tests))
                rows.append(f"| {split} | {title} | {len(tests)} | {mean:.3f}{spread} | ≥ {target} | {chemprop} | {'yes' if mean >= target else 'no'} |")
        for e in (e for e in ensembles if e["split"] == split):
            rows.append(f"| {split} | `{e['checkpoint']}`: ensemble of {len(e['members'])} | – | {e['test']:.3f} | ≥ {target} | {chemprop} | "
                        f"{'yes' if e['test'] >= target else 'no'} |")
        consensus = RESULTS / f"consensus-tox21-{split}.json"
        if consensus.exists():  # bench/tox21_consensus.py: not a shipped model, a check of what combining would give
            study = json.loads(consensus.read_text())
            chosen, graphmem = study["selected_on_valid"], Path(study["members"]["graphmem"][0]).name
            rows.append(f"| {split} | consensus: `{graphmem}` (×{chosen['graphmem_weight']}) + {', '.join(chosen['families'][1:])}, "
                        f"chosen on valid (`bench/tox21_consensus.py`, not shipped) | – | {chosen['test']:.3f} | ≥ {target} | {chemprop} | "
                        f"{'yes' if chosen['test'] >= target else 'no'} |")
        deployable = RESULTS / f"consensus-tox21-{split}-approved-percentile.json"
        if deployable.exists():  # the same study with what a shipped consensus can do
            study = json.loads(deployable.read_text())
            chosen, graphmem = study["selected_on_valid"], Path(study["members"]["graphmem"][0]).name
            rows.append(f"| {split} | deployable consensus: `{graphmem}` (×{chosen['graphmem_weight']}) + {', '.join(chosen['families'][1:])}, "
                        f"on percentiles among approved drugs, forests ≤ {study['max_forest_mb']:g} MB, chosen on valid (valid "
                        f"{chosen['valid']:.3f}; `{study['provenance']['command']}`, not shipped) | – | {chosen['test']:.3f} | ≥ {target} | "
                        f"{chemprop} | {'yes' if chosen['test'] >= target else 'no'} |")
        for path in sorted(RESULTS.glob("assembled-*.json")):  # molapp.cli.consensus of split models
            built = json.loads(path.read_text())
            if (built["dataset"], built["split"]) == ("tox21", split):
                sources = " + ".join(m["checkpoint"] for m in built["members"])
                what = ("consensus as shipped (`checkpoints/consensus-tox21-deployment`'s estimate)" if built["checkpoint"] in consensus_estimates()
                        else "a consensus of split models the shipped one does not quote")
                rows.append(f"| {split} | {what}: {sources}, "
                            f"calibrated mean approved-drug percentile (valid {built['valid']:.3f}; `{built['provenance']['command']}`) | – | "
                            f"{built['test']:.3f} | ≥ {target} | {chemprop} | {'yes' if built['test'] >= target else 'no'} |")
    if not rows:
        return []
    return ["", "## Tox21 against the targets", "",
            "Mean test ROC-AUC over the 12 tasks; seeds: runs averaged (mean ± std). GraphMem + descriptors: the controller",
            "starts from the molecule's 70 RDKit descriptors, h0 = g(W_q q + W_d z(d)) (`python -m molapp.train --descriptors`;",
            "the variants compared on valid are in `descriptor-variants-tox21.json`, below). √ positive weights: the BCE's",
            "per-task positive weight is √(negatives/positives) instead of negatives/positives (`--positive-weighting sqrt`);",
            "unweighted BCE: weight 1 (`--positive-weighting unweighted`), better still on valid on the random split, where the",
            "shipped checkpoints use it; on the scaffold split the balanced weights ship, chosen when neither beat them on valid",
            "(the study below says whether that still holds on the files as they are now).",
            "The consensus row averages the GraphMem ensemble's per-task ranks with other families' (the ladder's graph models, or",
            "the shipped split model where their checkpoints are not on the machine, and fingerprint and descriptor forests",
            "retrained on the split; families and GraphMem's weight chosen on valid among all combinations): what combining",
            "architectures would give, measured, not shipped. Each row names the GraphMem ensemble it was run with. The",
            "deployable consensus row is what a shipped one can do: each member's score becomes its percentile among ClinTox's",
            "approved drugs (ranks within the scored set do not exist for one molecule), the forests are one seed each and",
            "must fit the size bound as arrays (`molapp/models/forest.py`); the forests' sizes and valid figures alone are in",
            "`consensus-tox21-<split>-approved-percentile.json` (`alone`).", "",
            "| split | model | seeds | test ROC-AUC | target | Chemprop D-MPNN (run here) | meets target? |",
            "|---|---|---|---|---|---|---|", *rows, *consensus_bounds(), *descriptor_variants()]


def consensus_estimates() -> set[str]:
    """The split consensuses (`molapp.cli.consensus`) a shipped consensus panel quotes as its estimate."""
    shipped = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("deployment-*.json"))]
    return {source["checkpoint"] for e in shipped if e["model"] == "consensus" for source in e["estimate"].values()}


def consensus_bounds() -> list[str]:
    """What the deployable consensus's forest size bound costs: the choice on valid under each bound."""
    lines = []
    for path in sorted(RESULTS.glob("consensus-tox21-*-approved-percentile.json")):
        study = json.loads(path.read_text())
        alone = study["alone"]["graphmem"]
        lines += ["", f"Deployable consensus on the {study['split']} split by forest size bound (each forest at most that many MB as "
                  f"arrays; the GraphMem ensemble alone: valid {alone['valid']:.3f}, test {alone['test']:.3f}; `{path.name}`; sizes as "
                  "measured then, 14 bytes a node: `molapp/models/forest.py` has stored 8 since, so the same forests are 43 % smaller):", "",
                  "| bound | chosen on valid | largest forest | valid | test |", "|---|---|---|---|---|"]
        for bound, c in study["selected_on_valid_by_forest_bound"].items():
            lines.append(f"| {bound if bound == 'none' else bound + ' MB'} | {' + '.join(c['families'])} (GraphMem ×{c['graphmem_weight']}) | "
                         f"{c['largest_forest_mb']:g} MB | {c['valid']:.3f} | {c['test']:.3f} |")
    return lines


def deployment_section(records: list[dict]) -> list[str]:
    """The Tox21 deployment recipe's split models beside the peers run here on the same splits."""
    recipe = [r for r in records if r["model"] == DEPLOYMENT_RECIPE and r["dataset"] == "tox21"]
    if not recipe:
        return []
    deployments = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("deployment-*.json"))]
    deployments = [e for e in deployments if e["model"] != "consensus"]  # the consensus panel has its own rows below
    assembled = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("assembled-*.json"))]
    shipped = [e for e in deployments if e["dataset"] == "tox21"]
    estimates = {source["checkpoint"] for e in shipped for source in e["estimate"].values()}
    lines = ["", "## Tox21 deployment recipe beside Chemprop (issue 26)", "",
             f"The recipe (`{DEPLOYMENT_RECIPE}`), fixed before any of these runs: GraphMem reading the 70 RDKit descriptors,",
             "unweighted BCE, 30 epochs with no early stopping (the last weights kept), an ensemble of seeds. Each rival recipe",
             "differs by one lever and replaces it when valid says so (the rule below). The shipped deployment panel is the",
             "adopted recipe trained on every labelled row; its estimate is that recipe trained on the canonical splits' train",
             "rows (in bold). Chemprop runs here on the same rows (`bench/chemprop_reference.py`). Test ROC-AUC, mean over 12 tasks;",
             "seeds: mean ± std over single models.", "",
             "| split | model | seeds | valid | test |", "|---|---|---|---|---|"]
    for split in ("scaffold", "random"):
        for name, (what, stem) in {DEPLOYMENT_RECIPE: ("GraphMem deployment recipe", "graphmem-tox21"), **RIVAL_RECIPES}.items():
            title = what if name == DEPLOYMENT_RECIPE else f"rival recipe: {what}"
            runs = [r for r in records if (r["model"], r["dataset"], r["split"]) == (name, "tox21", split)]
            if runs:
                lines.append(f"| {split} | {title}, single models (`{name}`) | {len(runs)} | "
                             f"{np.mean([r['valid'] for r in runs]):.3f} | {seed_summary([r['test'] for r in runs])} |")
            ensemble = RESULTS / f"ensemble-{stem}-{split}-recipe-ensemble.json"
            if ensemble.exists():
                e = json.loads(ensemble.read_text())
                test = f"**{e['test']:.3f}**" if e["checkpoint"] in estimates else f"{e['test']:.3f}"
                lines.append(f"| {split} | {title}, ensemble of {len(e['members'])} (`{e['checkpoint']}`) | – | {e['valid']:.3f} | {test} |")
        for e in shipped:
            estimate = e["estimate"].get(split)
            if estimate and estimate["ensemble_size"] == 1:  # an ensemble's estimate is its row above
                lines.append(f"| {split} | `{e['checkpoint']}`'s estimate on this split: one model of its recipe (`{estimate['checkpoint']}`) | 1 | "
                             f"{estimate['valid']:.3f} | **{estimate['test']:.3f}** |")
        for built in (b for b in assembled if (b["dataset"], b["split"]) == ("tox21", split)):
            sources = " + ".join(m["checkpoint"] for m in built["members"])
            what = "consensus panel's estimate" if built["checkpoint"] in consensus_estimates() else "a consensus of split models, not the panel's estimate"
            lines.append(f"| {split} | {what}: {sources} (`{built['checkpoint']}`) | – | {built['valid']:.3f} | **{built['test']:.3f}** |")
        for model, title in PEERS:
            peers = [r for r in records if (r["model"], r["dataset"], r["split"]) == (model, "tox21", split)]
            if peers:
                lines.append(f"| {split} | {title} | {len(peers)} | {np.mean([r['valid'] for r in peers]):.3f} | {seed_summary([r['test'] for r in peers])} |")
            else:
                lines.append(f"| {split} | {title} | – | – | not run yet |")
    lines += rival_decisions(recipe, records)
    for e in (e for e in deployments if e["dataset"] == "tox21"):
        source = ran(e, RESULTS / f"deployment-{e['checkpoint']}.json")
        lines += ["", f"Shipped: `{e['checkpoint']}`, {len(e['members'])} members trained on every labelled row "
                  f"({source}); its figures are {e['metrics_from']}."]
    consensus = RESULTS / "deployment-consensus-tox21-deployment.json"
    if consensus.exists():
        e = json.loads(consensus.read_text())
        lines += ["", f"Shipped beside it: `{e['checkpoint']}`, the consensus panel: {', '.join(m['checkpoint'] for m in e['members'])} "
                  f"(GraphMem and MemGNN trained on every labelled row, the forest fitted on every labelled row; each source's score "
                  f"its percentile among ClinTox's approved drugs, their mean Platt-calibrated; {ran(e, consensus)}); its figures are "
                  f"{e['metrics_from']}. Its members were chosen on the scaffold split's validation molecules "
                  "(the deployable consensus study under Tox21 against the targets: the smallest choice within 0.002 of the best valid)."]
    return lines + descriptor_set_lines(records)


def rival_decisions(recipe: list[dict], records: list[dict]) -> list[str]:
    """Whether each rival recipe replaces the deployment recipe, by the rule stated (scaffold valid, never test)."""
    lines = []
    ours = [r["valid"] for r in recipe if r["split"] == "scaffold"]
    for name, (what, _) in RIVAL_RECIPES.items():
        theirs = [r["valid"] for r in records if (r["model"], r["dataset"], r["split"]) == (name, "tox21", "scaffold")]
        if len(theirs) < 3 or len(ours) < 3:
            continue
        gain, spread = float(np.mean(theirs) - np.mean(ours)), float(max(np.std(theirs, ddof=1), np.std(ours, ddof=1)))
        verdict = "adopted" if gain > spread else "not adopted: the gain is within the seeds' spread"
        lines += ["", f"Rival `{name}` ({what}) against the recipe, scaffold valid of single models: {gain:+.3f} "
                  f"(seed sd {spread:.3f}) — {verdict}. The rule, the same for every rival: a rival replaces the recipe when its "
                  "single models' mean valid ROC-AUC beats the recipe's by more than a seed standard deviation; test "
                  "figures are reported, never used to choose."]
    return lines


def panel_throughput() -> list[str]:
    """The predict CLI on checkpoints measured side by side (`throughput-hiv10k-<checkpoint>.json`, the same
    machine and hour), beside the first measurement; machines differ, so the × parse column compares across days."""
    paths = [RESULTS / "throughput-hiv10k.json", *sorted(RESULTS.glob("throughput-hiv10k-*.json"))]
    rows, paused = [], set()
    for path in (p for p in paths if p.exists()):
        t = json.loads(path.read_text())
        block = t.get("provenance") or {}
        when = block.get("date") or (block.get("landed_in") or {}).get("date", "–")
        if path.name != "throughput-hiv10k.json" and block.get("date"):  # the side-by-side runs, made with other jobs paused
            paused.add(block["date"])
        rows.append(f"| `{Path(t['checkpoint']).name}` | {when} | {t['rdkit_parse_seconds']} | {t['predict_cli_seconds']} | "
                    f"{t['predict_cli_molecules_per_second']} | {t['predict_cli_over_parse']}× | {t['stages_one_core']['model_seconds']} | "
                    f"{t['stages_one_core']['model_matmul_gflop']} | `{path.name}` |")
    if len(rows) < 2:
        return []
    return ["", "The predict CLI on 10,000 SMILES of hiv.csv (12 Tox21 probabilities out) by checkpoint, `python bench/throughput.py "
            "--checkpoint checkpoints/<name> --out bench/results/throughput-hiv10k-<name>.json` (the machine's other jobs paused "
            f"for the runs of {', '.join(sorted(paused))}). Runs of one day share a machine; machines differ between days (RDKit's parse time is the yardstick), so compare days by the "
            "× parse column:", "",
            "| checkpoint | date | RDKit parse (s) | predict CLI (s) | molecules/s | × parse | model alone, one core (s) | GFLOP | file |",
            "|---|---|---|---|---|---|---|---|---|", *rows]


def descriptor_set_lines(records: list[dict]) -> list[str]:
    """Lever B1 (the descriptor set), measured with the ladder's random forest: the 70 descriptors
    GraphMem reads (desc-rf) against all of RDKit's (desc-rf-all), the same forest, on valid first."""
    rows = []
    for split in ("scaffold", "random"):
        for model, title in (("desc-rf", "the 70 GraphMem reads"), ("desc-rf-all", "all of RDKit's")):
            runs = [r for r in records if (r["model"], r["dataset"], r["split"]) == (model, "tox21", split)]
            if runs:
                rows.append(f"| {split} | random forest on {title} (`{model}`) | {len(runs)} | {seed_summary([r['valid'] for r in runs])} | "
                            f"{seed_summary([r['test'] for r in runs])} |")
    if not rows:
        return []
    return ["", "Which descriptors (lever B1), measured first with the ladder's random forest — the same forest on the 70",
            "descriptors GraphMem reads and on all of RDKit's, the canonical splits, mean ± std over seeds "
            "(`OMP_NUM_THREADS=1 python bench/ladder.py --models desc-rf,desc-rf-all --datasets tox21`):", "",
            "| split | model | seeds | valid | test |", "|---|---|---|---|---|", *rows]


def recipe_flags(command: str) -> str:
    """A member's training command less what differs between members (seed, output, threads)."""
    words, kept, skip = command.split(), [], False
    for word in words[3:]:  # past "python -m molapp.train"
        if skip:
            skip = False
        elif word in ("--seed", "--out", "--threads", "--results-dir", "--split"):
            skip = True
        else:
            kept.append(word)
    return " ".join(kept)


def deployment_panels_section(checkpoints: Path = ROOT / "checkpoints") -> list[str]:
    """Every deployment panel: its recipe, its estimate from the same recipe on a canonical
    split, and the split panels of its dataset it was chosen against (on valid)."""
    deployments = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("deployment-*.json"))]
    if not deployments:
        return []
    cards = [json.loads(p.read_text()) for p in sorted(checkpoints.glob("*/card.json"))]
    metric = {"roc_auc": "ROC-AUC ↑", "rmse": "RMSE ↓"}
    lines = ["", "## Deployment panels (issue 26)", "",
             "The panels to predict with: a recipe fixed from runs on the canonical split (the same hyper-parameters, a fixed",
             "number of epochs with no early stopping, a fixed ensemble size), trained on every labelled row. Their figures are the",
             "same recipe trained on the split's train rows (an ensemble of the same size). The last column: the shipped split",
             "panels of the same dataset and split on the same validation molecules. Their epoch was chosen on those molecules",
             "(early stopping), the recipe's was not, so their valid figures lean their way. Built by",
             "`bench/deployment_recipes.sh DATASET`, then `bench/deployment_recipes.sh build DATASET`.", "",
             "| panel | recipe (`python -m molapp.train …`) | members | estimate from | metric | valid | test | split panels on valid |",
             "|---|---|---|---|---|---|---|---|"]
    for e in sorted(deployments, key=lambda e: e["checkpoint"]):
        split, estimate = next(iter(e["estimate"].items()))
        rivals = [c for c in cards if c.get("dataset") == e["dataset"] and c.get("split") == split]
        against = ", ".join(f"{c['model']}{' ×' + str(c['ensemble_size']) if c.get('ensemble_size', 1) > 1 else ''} "
                            f"{c['metrics']['valid']['mean']:.3f}" for c in rivals) or "–"
        recipe = (f"consensus of {', '.join(m['checkpoint'] for m in e['members'])} (`bench/deployment_recipes.sh consensus`)"
                  if e["model"] == "consensus" else f"`{recipe_flags(e['members'][0]['command'])}`")
        lines.append(f"| `{e['checkpoint']}` | {recipe} | {len(e['members'])} | "
                     f"{split} split, ×{estimate['ensemble_size']} | {metric.get(e['metric'], e['metric'])} | "
                     f"{estimate['valid']:.3f} | {estimate['test']:.3f} | {against} |")
    return lines


def descriptor_variants() -> list[str]:
    """The study `bench/descriptor_variants.py assemble` writes: each variant's means, the choices made
    on valid with what the files give now, and every run with its results file."""
    path = RESULTS / "descriptor-variants-tox21.json"
    if not path.exists():
        return []
    study = json.loads(path.read_text())
    lines = ["", f"### {study['benchmark']}", "",
             f"`{study['provenance']['command']}` assembles it from the runs' own results files (`bench/descriptor_variants.py run` "
             "trains the missing ones). Each variant adds flags to `" + study["variants"][0]["command"] + "`:", "",
             *[f"- {v['variant']}: {v['what']}" + (f" (`{v['command'].split('--descriptors ')[1]}`)" if "--descriptors " in v["command"] else "")
               for v in study["variants"]],
             "", f"Also, {study['not_reproducible']}.", "",
             "Chosen on valid, each against the variant it beat; mean valid ROC-AUC over the seeds both have run, from the files as they are "
             "now (\"holds\": the kept one is still no worse, \"within noise\" where the gap is smaller than the larger "
             "std over the seeds; \"recorded\": how many of the runs compared the current code wrote, "
             "the others landed before provenance was recorded and trained on the rows of their time, so a comparison mixing "
             "the two is not like for like):", "",
             "| split | kept | against | seeds | valid, kept | valid, against | holds? | recorded |", "|---|---|---|---|---|---|---|---|"]
    for d in study["decisions"]:
        seeds = ",".join(map(str, d["seeds"]))
        lines.append(f"| {d['split']} | {d['kept']} | {d['rival']} | {seeds} | {d['kept_valid']:.4f} | {d['rival_valid']:.4f} | "
                     f"{'yes' if d['holds'] else 'no'}{' (within noise)' if d['within_noise'] else ''} | {d['recorded_runs']} of {d['runs']} |")
    lines += ["", "Each variant over its seeds, and the ensemble of its seeds where one was built (`python -m molapp.cli.ensemble`; "
              "its members are the runs of the time its file landed):", "",
              "| variant | split | seeds | mean valid | mean test | ensemble: valid / test |", "|---|---|---|---|---|---|"]
    for m in study["means"]:
        ensembles = "; ".join(f"×{e['members']} {e['valid']:.4f} / {e['test']:.4f} (`{e['results']}`)" for e in m["ensembles"]) or "–"
        lines.append(f"| {m['variant']} | {m['split']} | {','.join(map(str, m['seeds']))} | {m['valid']:.4f} | {m['test']:.4f} | {ensembles} |")
    lines += ["", "Every run; its results file says how it was made (recorded by the current code, which trains and scores the "
              "standardized rows only, or landed before provenance was recorded, on the rows of its time):", "",
              "| variant | split | seed | valid | test | results file | run |", "|---|---|---|---|---|---|---|"]
    for r in study["runs"]:
        run = f"recorded, commit {r['commit'][:10]}" if r["recorded"] else f"not recorded, landed in commit {str(r['commit'])[:10]}"
        lines.append(f"| {r['variant']} | {r['split']} | {r['seed']} | {r['valid']:.4f} | {r['test']:.4f} | `{r['results']}` | {run} |")
    if study["missing"]:
        lines += ["", f"Not run yet ({len(study['missing'])}; a choice against a variant with no runs is not in the table above):", "",
                  *[f"- `{command}`" for command in study["missing"]]]
    return lines


def seed_summary(values: list[float]) -> str:
    """mean ± std (n seeds); the std only from two seeds on."""
    if len(values) == 1:
        return f"{values[0]:.3f} (n=1)"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f} (n={len(values)})"


def joint_section(records: list[dict]) -> list[str]:
    """GraphMem paper, Fig. 3: per dataset and split, MT-GraphMem (joint) against GraphMem trained
    alone, each the test ROC-AUC over its seeds; "within noise" where the means differ by less
    than the larger of the two stds."""
    tests = defaultdict(list)
    for r in records:
        if r["model"] in ("graphmem", "mt-graphmem"):
            tests[(r["dataset"], r["split"], r["model"])].append(r["test"])
    cells = sorted({(d, sp) for d, sp, m in tests if m == "mt-graphmem" and (d, sp, "graphmem") in tests})
    if not cells:
        return []
    lines = ["", "## Joint multi-assay training vs training alone (GraphMem paper, Fig. 3)", "",
             "MT-GraphMem: one model over tox21 + hiv + bace + bbbp + clintox + sider, the task query naming the assay;",
             "GraphMem alone: one model per dataset, same architecture and optimizer; each run's epoch budget is in its card.",
             "Test ROC-AUC, mean ± std over the seeds run (n); Δ = joint − alone of the means.", "",
             "| dataset | split | alone (test) | joint (test) | Δ | joint better? |", "|---|---|---|---|---|---|"]
    for dataset, split in cells:
        alone, joint = tests[(dataset, split, "graphmem")], tests[(dataset, split, "mt-graphmem")]
        delta = float(np.mean(joint) - np.mean(alone))
        noise = max(np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in (alone, joint))
        verdict = ("yes" if delta > 0 else "no") + (" (within noise)" if abs(delta) < noise else "")
        lines.append(f"| {dataset} | {split} | {seed_summary(alone)} | {seed_summary(joint)} | {delta:+.3f} | {verdict} |")
    return lines


def nci60_section() -> list[str]:
    """The GraphMem paper's Table II and Fig. 3 on the NCI-60 screens (`bench/nci60_multitask.py`)."""
    path = RESULTS / "nci60-table2-random.json"
    if not path.exists():
        return []
    table = json.loads(path.read_text())
    names = {"graphmem-joint": "MT-GraphMem (joint)", "graphmem-separate": "GraphMem (one per assay)", "mt-nn": "MT-NN (joint)",
             "ecfp-svm": "SVM", "ecfp-rf": "RF", "ecfp-gb": "GB"}

    def cell(measure: dict) -> str:
        spread = f" ± {100 * measure['sd']:.1f}" if measure["seeds"] > 1 else ""
        return f"{100 * measure['mean']:.1f}{spread}"

    lines = ["", "## NCI-60: joint vs separate training (GraphMem paper, Table II and Fig. 3)", "",
             f"`{table['provenance']['command']}` (the training commands are in `bench/nci60_multitask.py`). Nine NCI-60 "
             "cell-line screens, canonical random split; test Micro-F1, Macro-F1 and mean ROC-AUC over the assays, "
             "mean ± sd over seeds; the paper's figures are over its own nine NCI assays. What differs from the paper:",
             "", *[f"- {d}" for d in table["departures"]], "",
             "| model | setting | seeds | Micro-F1 | Macro-F1 | mean AUC | paper Micro-F1 | paper Macro-F1 | paper mean AUC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model, row in sorted(table["table_ii"].items(), key=lambda item: (item[1]["setting"], -item[1]["micro_f1"]["mean"])):
        paper = row["paper"]
        lines.append(f"| {names.get(model, model)} | {row['setting']} | {row['micro_f1']['seeds']} | {cell(row['micro_f1'])} | "
                     f"{cell(row['macro_f1'])} | {cell(row['mean_auc'])} | {paper['micro_f1']} | {paper['macro_f1']} | {paper['mean_auc']} |")
    if table["figure_3_f1"]:
        joint, separate = table["figure_3_f1"]["graphmem-joint"], table["figure_3_f1"]["graphmem-separate"]
        lines += ["", "Test F1 per cell line, GraphMem joint vs separate (Fig. 3):", "", "| cell line | joint | separate | joint − separate |", "|---|---|---|---|"]
        for assay, label in table["assays"].items():
            lines.append(f"| {label} | {joint[assay]['mean']:.3f} | {separate[assay]['mean']:.3f} | {joint[assay]['mean'] - separate[assay]['mean']:+.3f} |")
    lines += ["", f"Verdict: **{table['claim']['verdict']}** — {table['claim'].get('summary', table['claim'].get('why', ''))}"]
    return lines


def main() -> int:
    records = load_records()
    lines = ["# Benchmark results", "", "Generated by `bench/summarize.py` from `bench/results/*.json`; every figure is on the",
             "canonical splits of `../shared/data/splits` (test mean over tasks; ROC-AUC ↑, RMSE ↓).",
             "Graph-model runs below; the fingerprint baselines' runs are summarized in the Ladder section. Each row is",
             "`bench/results/<model>-<dataset>-<split>-seed<k>.json`; its last column says how far its run can be traced.", "",
             *provenance_summary(), "",
             "| model | dataset | split | seed | metric | test | valid | train time | provenance |", "|---|---|---|---|---|---|---|---|---|"]
    graph_records = [r for r in records if r["model"] not in FINGERPRINT_MODELS]
    for r in sorted(graph_records, key=lambda r: (r["dataset"], r["split"], r["model"], r["seed"])):
        lines.append(f"| {r['model']} | {r['dataset']} | {r['split']} | {r['seed']} | {r['metric']} | {fmt(r['test'])} | {fmt(r['valid'])} | {r['train_seconds'] / 60:.1f} min | {short_provenance(r)} |")

    lines += tox21_section(records, TOX21_TARGETS)
    lines += deployment_section(records)
    lines += deployment_panels_section()

    by_key = defaultdict(dict)
    for r in records:
        by_key[(r["dataset"], r["split"], r["seed"])][r["model"]] = r
    lines += joint_section(records)
    lines += nci60_section()

    memory_rows = sorted({(d, sp) for (d, sp, _), v in by_key.items() if "memgnn" in v or "gmn" in v},
                         key=lambda k: (MEMORY_DATASETS.index(k[0]) if k[0] in MEMORY_DATASETS else 99, k[0], k[1]))
    if memory_rows:
        lines += ["", "## MemGNN and GMN (memory layers that cluster atoms)", "",
                  "Test metric on the canonical splits (RMSE ↓ for esol, lipophilicity, freesolv; ROC-AUC ↑ otherwise), beside",
                  "GraphMem on the same split and the MemGNN paper's figure (Khasahmadi et al. 2020, Tables 2–3: MoleculeNet",
                  "splits of its own, on the split type MoleculeNet recommends, so not the same test molecules). Targets apply to the",
                  "random split; MemGNN is seed 0, its shipped ensemble (see Ensembles below) where there is one.", "",
                  "| dataset | split | MemGNN | MemGNN ensemble | GMN | GraphMem | paper (MemGNN) | target | meets target? |",
                  "|---|---|---|---|---|---|---|---|---|"]
        ensembles = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("ensemble-*.json"))]
        shipped_ensemble = {(e["dataset"], e["split"]): e["test"] for e in ensembles
                            if e["model"] == "memgnn" and (ROOT / "checkpoints" / e["checkpoint"]).is_dir()}
        for dataset, split in memory_rows:
            models = by_key[(dataset, split, 0)]
            value = {m: models[m]["test"] if m in models else None for m in ("memgnn", "gmn", "graphmem")}
            ensemble = shipped_ensemble.get((dataset, split))
            target = MEMORY_TARGETS.get(dataset) if split == "random" else None
            verdict = "–"
            if target is not None and value["memgnn"] is not None:
                lower_is_better = models["memgnn"]["metric"] == "rmse"
                met = [v is not None and (v <= target if lower_is_better else v >= target) for v in (value["memgnn"], ensemble)]
                verdict = "yes" if met[0] else "yes, the ensemble" if met[1] else "no"
                target = f"{'≤' if lower_is_better else '≥'} {target}"
            lines.append(f"| {dataset} | {split} | {fmt(value['memgnn'])} | {fmt(ensemble)} | {fmt(value['gmn'])} | {fmt(value['graphmem'])} "
                         f"| {MEMGNN_PAPER.get((dataset, split), '–')} | {target or '–'} | {verdict} |")
    lines += ladder_section()
    cluster_files = sorted(RESULTS.glob("clusters-*.json"))
    if cluster_files:
        lines += ["", "## Do first-layer clusters match functional groups? (paper Fig. 2, 5)", "",
                  "`bench/cluster_groups.py`, canonical test split: the share of multi-atom functional groups (RDKit SMARTS,",
                  "`molapp/explain/clusters.py`) whose atoms all fall in one cluster, against the same with each molecule's",
                  "cluster labels shuffled over its atoms (chance); and the share of clusters that are exactly a group.", "",
                  "| checkpoint | test molecules | groups | group in one cluster | by chance | clusters / molecule | cluster is a group |",
                  "|---|---|---|---|---|---|---|"]
        for path in cluster_files:
            c = json.loads(path.read_text())
            lines.append(f"| `{c['checkpoint']}` | {c['molecules']} | {c['multi_atom_groups']} | {c['groups_in_one_cluster']:.1%} "
                         f"| {c['groups_in_one_cluster_by_chance']:.1%} | {c['clusters_per_molecule']:.1f} | {c['clusters_that_are_a_group']:.1%} |")
        lines += ["", "Per group (first checkpoint above): " + ", ".join(
            f"{name} {v['in_one_cluster']:.0%} of {v['groups']}" for name, v in json.loads(cluster_files[0].read_text())["by_group"].items())]

    throughput = RESULTS / "throughput-hiv10k.json"
    if throughput.exists():
        t = json.loads(throughput.read_text())
        lines += ["", "## Throughput (first 10,000 SMILES of hiv.csv)", "", f"{ran(t, throughput)}, checkpoint `{t['checkpoint']}`:", "",
                  f"- RDKit parse alone: {t['rdkit_parse_seconds']} s",
                  f"- featurization, one core: {t['featurize_molecules_per_second_one_core']} molecules/s from parsed molecules "
                  + (f"(the featurizer writes each canonical SMILES for the atom order; {given} molecules/s given it, as after "
                     "standardization in prediction and training; " if (given := t.get("featurize_given_canonical_smiles_molecules_per_second_one_core")) else "(")
                  + f"{t['standardize_and_featurize_molecules_per_second_one_core']} molecules/s with standardization; target ≥ 3000)",
                  *([f"- featurization with the 70 descriptors (GraphMem --descriptors), given the canonical SMILES, one core: {d} molecules/s"]
                    if (d := t.get("featurize_with_descriptors_given_canonical_smiles_molecules_per_second_one_core")) else []),
                  f"- predict CLI end to end (SMILES in → 12 probabilities out): {t['predict_cli_seconds']} s, "
                  f"{t['predict_cli_molecules_per_second']} molecules/s, {t['predict_cli_over_parse']}× the parse time, "
                  f"peak RSS {t['predict_cli_peak_rss_mb']} MB"]
        if stages := t.get("stages_one_core"):
            work = sum(v for k, v in stages.items() if k.endswith("_seconds") and v)
            lines.append(
                f"- where the CLI's work goes, each stage alone on one core: standardization {stages['standardize_seconds']} s, "
                f"graph featurization {stages['graph_seconds']} s"
                + (f", descriptors {stages['descriptors_seconds']} s" if stages.get("descriptors_seconds") else "")
                + f", the model {stages['model_seconds']} s ({stages['model_matmul_gflop']} GFLOP of matrix products, "
                f"batches of {stages['model_batch_size']}); {work:.1f} s in all, which the CLI's two worker processes share, "
                + (f"after {t['predict_cli_import_seconds']} s of Python importing molapp (torch; torch_geometric, which imports "
                   "torch._dynamo). " if t.get("predict_cli_import_seconds") else "")
                + f"So 4× the parse time ({4 * t['rdkit_parse_seconds']:.1f} s) is out of reach on two CPU cores"
                + (f": the imports and the two RDKit stages alone, spread perfectly over both cores, take "
                   f"{(t['predict_cli_import_seconds'] + stages['standardize_seconds'] + stages['graph_seconds']) / 2:.1f} s, before any "
                   "descriptor or model arithmetic" if t.get("predict_cli_import_seconds") else "")
                + f", and the model's forward pass alone, spread the same way, {stages['model_seconds'] / 2:.1f} s. The model is the "
                "largest part: GraphMem keeps one memory per task query (atoms × queries × hidden) through every hop, so its "
                "arithmetic grows with the number of tasks asked for"
                + (f"; asking for one task (`--tasks {t['one_task']}`) the CLI took {t['predict_cli_one_task_seconds']} s "
                   f"({t['predict_cli_one_task_seconds'] / t['rdkit_parse_seconds']:.1f}× the parse time)." if t.get("one_task") else "."))
    lines += panel_throughput()
    latency = RESULTS / "app-latency.json"
    if latency.exists():
        a = json.loads(latency.read_text())
        warm = a["warm_predict_and_attention_render"]
        start = a["app_start_to_first_prediction_seconds"]
        lines += ["", "## App latency", "", f"{ran(a, latency)}, checkpoint `{a['checkpoint']}`:", "",
                  f"- warm predict + 2D attention render, one molecule ({warm['molecules']} teaching molecules): "
                  f"median {warm['median_seconds']} s, max {warm['max_seconds']} s",
                  f"- app start to first prediction in a browser: {start:.1f} s" if start is not None else "- app start: not measured (no chromium)"]
    triage_files = sorted(RESULTS.glob("triage-and-map-*.json"))
    if triage_files:
        lines += ["", "## Triage and the embedding map", ""]
        for path in triage_files:
            t = json.loads(path.read_text())
            tri, place = t["triage"], t["map_placement"]
            lines += [f"{ran(t, path)}:", "",
                      f"- Triage page path, {tri['molecules']:,} hiv.csv molecules with `{tri['checkpoint']}` (every task, domain, "
                      f"drug-likeness; {tri['rows_back']:,} rows back, {tri['flagged']} flagged): {tri['seconds']} s "
                      + (f"(median of {', '.join(str(r) for r in tri['runs_seconds'])} s) " if "runs_seconds" in tri else "") +
                      f"({tri['molecules_per_second']} molecules/s; target < {tri['target_seconds']} s)",
                      f"- {place['new_molecules']:,} new molecules placed on the map of `{place['checkpoint']}` "
                      f"({place['reference_molecules']:,} reference molecules): {place['seconds']} s"
                      + (f" the first time in a process (the map's affinities are rebuilt), {place['later_placement_seconds']} s for the next "
                         "1,000" if "later_placement_seconds" in place else "") + f" (target < {place['target_seconds']} s)", ""]
    million = RESULTS / "predict-1m.json"
    if million.exists():
        m = json.loads(million.read_text())
        lines += [f"- predict CLI, 1,000,000 SMILES streamed ({ran(m, million)}) with `{m['checkpoint']}`: {m['rows_written']:,} rows in {m['seconds']} s "
                  f"({m['molecules_per_second']} molecules/s), peak RSS {m['peak_rss_mb']} MB (target < {m['target_peak_rss_mb']} MB)"]
    variants = RESULTS / "graseq-variants-bbbp-scaffold.json"
    if variants.exists():
        v = json.loads(variants.read_text())
        lines += ["", "## GraSeq variants (paper Table 4)", "",
                  f"BBBP, canonical scaffold split, seed {v['seed']}, 40 epochs (patience 10), one thread: {ran(v, variants)}. "
                  f"Shipped: {v['shipped']}. The paper (its own scaffold split) reports GraSeq 92.47, -R 92.35, -F 94.26, -RF 91.36.", "",
                  "| variant | valid ROC-AUC | test ROC-AUC | train time |", "|---|---|---|---|"]
        for name, r in v["variants"].items():
            lines.append(f"| {name} | {r['valid']:.3f} | {r['test']:.3f} | {r['train_seconds'] / 60:.1f} min |")
    for path in sorted(RESULTS.glob("memgnn-sweep-*.json")):
        sweep = json.loads(path.read_text())
        if "configs" not in sweep:
            continue
        lines += ["", f"## MemGNN hyper-parameter search: {sweep['dataset']}, canonical {sweep['split'].split()[0]} split", "",
                  f"{ran(sweep, path)} (more seeds: `SEEDS=\"1 2\" bash bench/memgnn_sweep.sh {sweep['dataset']} <configs>`), "
                  "300 epochs max, patience 80, one thread. The configuration selected has the best mean *valid* RMSE "
                  "among those run with the most seeds; its mean test RMSE is the figure to report.", "",
                  "| config | flags | seeds | valid RMSE (mean) | test RMSE (mean ± std) | selected |", "|---|---|---|---|---|---|"]
        for c in sweep["configs"]:
            spread = f" ± {c['test_std']:.3f}" if len(c["seeds"]) > 1 else " (1 seed)"
            lines.append(f"| {c['config']} | `{c['flags']}` | {', '.join(str(k) for k in c['seeds'])} | {c['valid_mean']:.3f} | "
                         f"{c['test_mean']:.3f}{spread} | {'**yes**' if c['config'] == sweep['selected_by_valid'] else ''} |")
        chosen = next((c for c in sweep["configs"] if c["config"] == sweep["selected_by_valid"]), None)
        target = {"esol": 0.55, "lipophilicity": 0.60}.get(sweep["dataset"])
        if chosen and target:
            lines += ["", f"Selected: test RMSE {chosen['test_mean']:.3f} ± {chosen['test_std']:.3f} over {len(chosen['seeds'])} seed(s) "
                          f"against the issue's target ≤ {target}: {'met' if chosen['test_mean'] <= target else 'not met'}."]
    ensembles = sorted(RESULTS.glob("ensemble-*.json"))
    if ensembles:
        lines += ["", "## Ensembles", "",
                  "`python -m molapp.cli.ensemble --members A,B,C --out checkpoints/NAME --results-dir bench/results`: members of one",
                  "configuration trained with different seeds; the ensemble predicts their mean. Canonical splits; the members",
                  "are the seeds of one configuration of the search above; where several configurations have three seeds, each",
                  "one's ensemble is listed and the one with the best *valid* metric is shipped. Lipophilicity: three members",
                  "were combined first (test 0.6004, just over the target); two more seeds were then trained and the",
                  "five-member ensemble, better on valid as well, ships — a choice made after that test figure was seen.",
                  "GraphMem + descriptors on Tox21: every seed trained with the seed-0 model's command (`--seed k`), all of them in",
                  "the ensemble, which ships beside the seed-0 model. `graphmem-h128-tox21-random-ensemble` tests width: the same",
                  "command with `--hidden 128`, seeds 0–2; on valid it is no better than hidden 64's seeds 0–2 together, so it does not ship",
                  "(the comparison is under Tox21 against the targets, with the hidden-size rows). `graphmem-balanced-tox21-random-ensemble`",
                  "shipped as `graphmem-tox21-random-ensemble` until the nine seeds trained with √ positive weights",
                  "(`graphmem-sqrt-…`) replaced it, better on valid, and those until the nine trained with unweighted BCE, better",
                  "on valid again; `graphmem-unweighted-tox21-scaffold-ensemble` was no better on valid than the scaffold ensemble",
                  "that ships.", "",
                  "| ensemble | shipped | members (seed: test) | members' mean test | ensemble valid | ensemble test | target |",
                  "|---|---|---|---|---|---|---|"]
        for path in ensembles:
            e = json.loads(path.read_text())
            members = ", ".join(f"{m['seed']}: {m['test']:.3f}" for m in e["members"])
            if e["model"] in ("memgnn", "gmn") and e["split"] == "random":
                target = MEMORY_TARGETS.get(e["dataset"])
            elif e["model"].startswith("graphmem") and e["dataset"] == "tox21":
                target = TOX21_TARGETS[e["split"]]
            else:
                target = None
            lower_is_better = e["metric"] == "rmse"
            met = "" if target is None else f"{'≤' if lower_is_better else '≥'} {target}: " + (
                "met" if (e["test"] <= target if lower_is_better else e["test"] >= target) else "not met")
            shipped = "**yes**" if (ROOT / "checkpoints" / e["checkpoint"]).is_dir() else ""
            lines.append(f"| `{e['checkpoint']}` | {shipped} | {members} | {sum(m['test'] for m in e['members']) / len(e['members']):.3f} | "
                         f"{e['valid']:.4f} | **{e['test']:.4f}** | {met} |")
    experiments = sorted(RESULTS.glob("transfer-experiment-*.json"))
    if experiments:
        lines += ["", "## Task knowledge transfer: the slides' experiment", "",
                  "`python bench/transfer_experiment.py`: target task trained on 10% of its training labels, the helping task on 90%,",
                  "canonical scaffold split, test ROC-AUC. Rows marked [slides] are the slides' own numbers (their split)."]
        for path in experiments:
            e = json.loads(path.read_text())
            c = e["config"]
            # the command that ran, where the file records it; else the flags its configuration implies
            command = e.get("provenance", {}).get("command") or (
                f"python bench/transfer_experiment.py --dataset {e['dataset']} --seeds {e['seeds']} --max-epochs {c['max_epochs']} "
                f"--patience {c['patience']} --hidden {c['hidden']} --size-pools {c.get('size_pools', 0)}")
            lines += ["", f"### {e['dataset']}: target {e['target_task']}, helping {e['helping_task']} "
                          f"(seeds {e['seeds']}, {c['max_epochs']} epochs max)", "", f"`{command}`", "",
                      "| method | target | helping |", "|---|---|---|"]
            for row in e["table"]:
                spread = {k: f" ± {row[k + '_std']:.3f}" if len(e["seeds"].split(",")) > 1 and k + "_std" in row else "" for k in ("target", "helping")}
                lines.append(f"| {row['method']} | {fmt(row['target'])}{spread['target']} | {fmt(row['helping'])}{spread['helping']} |")
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
