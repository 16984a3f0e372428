"""`python -m molapp.cli.readme_figures`: write the README's measured figures from the
results files in bench/results (and the shipped cards), between `<!-- figures:NAME:start -->`
and `<!-- figures:NAME:end -->` markers, each naming the file and the command it comes from
and how far that file's provenance goes. A figure typed into the README by hand has no run
behind it; `make readme` regenerates these blocks and the checkpoint table.

    python -m molapp.cli.readme_figures [--check]   # --check: exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from molapp.evaluation.provenance import describe, provenance_sentence
from molapp.models.checkpoint import read_card

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


def _record(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _source(name: str, record: dict) -> str:
    return f"`bench/results/{name}`, {describe(record)}"


def featurizer_speed() -> str:
    name = "throughput-hiv10k.json"
    t = _record(name)
    stages = t["stages_one_core"]
    return (f"Measured on the first 10,000 SMILES of hiv.csv by `python bench/throughput.py` ({_source(name, t)}): "
            f"`MolGraphFeaturizer.many` featurizes {t['featurize_molecules_per_second_one_core']:,} molecules/s on one core, "
            f"{t['featurize_given_canonical_smiles_molecules_per_second_one_core']:,}/s given the canonical SMILES standardization "
            f"wrote; the 70 descriptors take {1000 * stages['descriptors_seconds'] / t['rows_written']:.2f} ms per molecule.")


def _seeds(model: str, dataset: str, split: str) -> tuple[str, str]:
    paths = sorted(RESULTS.glob(f"{model}-{dataset}-{split}-seed*.json"))
    values = [json.loads(p.read_text())["test"] for p in paths]
    spread = f" ± {np.std(values):.3f}" if len(values) > 1 else ""
    return f"{np.mean(values):.3f}{spread} (n={len(values)})", f"`bench/results/{model}-{dataset}-{split}-seed*.json`"


def transfer_comparison() -> str:
    card = read_card(ROOT / "checkpoints" / "transfer-tox21-scaffold")
    rows = {title: _seeds(model, "tox21", "scaffold") for title, model in
            (("task transfer", "transfer"), ("GraphMem (no descriptors)", "graphmem"), ("GCN", "gcn"), ("ECFP4 + SVM", "ecfp-svm"))}
    compared = "; ".join(f"{title} {figure}" for title, (figure, _) in rows.items())
    files = ", ".join(files for _, files in rows.values())
    return (f"The shipped `transfer-tox21-scaffold` ({card.epochs_run} epochs, {card.train_seconds / 60:.0f} min) scores test "
            f"ROC-AUC {card.metrics['test']['mean']:.3f} (its card). molapp's own runs of the ladder on the same canonical "
            f"scaffold split, test ROC-AUC mean ± std over seeds: {compared} ({files}: `python bench/ladder.py`; most of these "
            "files predate recorded provenance, see bench/RESULTS.md).")


def ensemble_members() -> str:
    parts = []
    for dataset, name in (("ESOL", "ensemble-memgnn-esol-random-ensemble.json"), ("Lipophilicity", "ensemble-memgnn-lipophilicity-random-ensemble.json")):
        e = _record(name)
        alone = [m["test"] for m in e["members"]]
        parts.append(f"{dataset}'s {len(alone)} members score {min(alone):.3f}–{max(alone):.3f} test RMSE alone and "
                     f"{e['test']:.3f} together ({_source(name, e)})")
    return "; ".join(parts) + "."


def provenance_summary() -> str:
    sentence = provenance_sentence(RESULTS)
    return sentence[0].upper() + sentence[1:]


# Each Train-page case of bench/train_presets.py and the Chemprop run on the same rows (bench/chemprop_reference.py).
PRESET_CASES = {"bbbp": ("BBBP", "chemprop-bbbp-scaffold-seed0.json"),
                "nci60-aid83": ("NCI-60 breast (AID83)", "chemprop-nci60_balanced-aid83-scaffold-seed0.json")}


def train_presets() -> str:
    """What a Train-page user waits for and gets: each preset's wall time and figures, and Chemprop's beside them."""
    name = "train-presets.json"
    if not (RESULTS / name).exists():
        return "Not measured yet: `MOLAPP_DATA=../shared/data .venv/bin/python bench/train_presets.py`."
    record = _record(name)
    lines = ["| data (scaffold split) | model | preset | epochs run | wall time | test | valid |", "|---|---|---|---:|---:|---:|---:|"]
    for case, (title, chemprop) in PRESET_CASES.items():
        for row in (r for r in record["runs"] if r["case"] == case):
            if "error" in row:
                lines.append(f"| {title} | {row['model']} | {row['preset']} | – | – | failed: {row['error']} | – |")
                continue
            metric = "ROC-AUC" if row["metric"] == "roc_auc" else "RMSE"
            lines.append(f"| {title} | {row['model']} | {row['preset']} | {row['epochs_run']} | {row['wall_seconds'] / 60:.1f} min "
                         f"| {metric} {row['test']:.3f} | {row['valid']:.3f} |")
        if (RESULTS / chemprop).exists():
            peer = _record(chemprop)
            lines.append(f"| {title} | Chemprop 2.3.1 D-MPNN, defaults (one thread) | – | 50 | {peer['train_seconds'] / 60:.1f} min "
                         f"| ROC-AUC {peer['test']:.3f} | {peer['valid']:.3f} |")
        else:
            lines.append(f"| {title} | Chemprop 2.3.1 D-MPNN, defaults | – | – | – | not run yet | – |")
    machine = record.get("machine", "")
    return "\n".join(lines) + (f"\n\nMeasured on {machine} (`bench/results/{name}`: `{record['provenance']['command']}` at commit "
                                f"{record['provenance']['commit'][:10]}; Chemprop: `bench/results/chemprop-*-scaffold-seed0.json`, "
                                "`bench/chemprop_reference.py`, one thread).")


def _name(checkpoint: str) -> str:
    return Path(checkpoint).name


def gpu_check() -> str:
    """The GPU path on the one GPU machine lent so far (bench/gpu_check.py): parity with the CPU, throughput, training."""
    files = sorted(RESULTS.glob("gpu-check-*.json"))
    if not files:
        return "Not measured yet: `python bench/gpu_check.py` on a machine with a CUDA GPU."
    records = {path.name: json.loads(path.read_text()) for path in files}
    parity = [(name, row) for name, r in records.items() for row in r["parity"]]
    lines = []
    if parity:
        name, first = parity[0][0], records[parity[0][0]]
        worst = max(parity, key=lambda item: item[1]["prediction"])[1]
        explained = max(v for _, row in parity for molecule in row["explanation"].values() for v in molecule.values())
        same = all(row["same_rows_failed"] for _, row in parity)
        lines.append(f"- **Same answers on the GPU.** {len(parity)} checkpoints, every model kind "
                     f"({', '.join(sorted({row['model'] for _, row in parity}))}), scored the same "
                     f"{parity[0][1]['molecules']:,} SMILES of hiv.csv on the GPU and on the CPU: "
                     f"{'the same rows failed, and ' if same else 'DIFFERENT rows failed; '}"
                     f"the largest difference of a prediction is {worst['prediction']:.1e} ({_name(worst['checkpoint'])}), "
                     f"of any explanation array (attention, clusters, gate, task dependency, embedding, members, "
                     f"descriptor contributions) {explained:.1e} (`bench/results/{name}`, {describe(first)}).")
    throughput = sorted(((name, row) for name, r in records.items() for row in r["throughput"]),
                        key=lambda item: (item[1]["molecules"], item[1]["checkpoint"], item[1]["device"] != "cuda"))
    if throughput:
        lines.append("- **The predict CLI end to end** (read, standardize, featurize, score, write; every row back), "
                     f"{records[throughput[0][0]]['device']} with {records[throughput[0][0]]['cpus']} CPU cores:\n")
        lines.append("  | SMILES (hiv.csv, repeated) | checkpoint | device | seconds | molecules/s | file |")
        lines.append("  |---:|---|---|---:|---:|---|")
        for name, row in throughput:
            where = "GPU" if row["device"] == "cuda" else f"CPU, {records[name]['cpus']} cores"
            lines.append(f"  | {row['molecules']:,} | {_name(row['checkpoint'])} | {where} | {row['seconds']:.1f} "
                         f"| {row['molecules_per_second']:,} | `{name}` |")
    stages = [(name, row) for name, r in records.items() for row in r.get("stages", [])]
    for name, row in stages:
        alone = ", ".join(f"{m['molecules_per_second']:,}/s at batch {m['batch_size']}" for m in row["model_only"])
        lines.append(f"- **Where the time goes** ({_name(row['checkpoint'])}, {row['molecules']:,} SMILES, `{name}`): "
                     f"standardization and featurization on {row['workers']} processes, graphs handed back to one, "
                     f"{row['featurize_molecules_per_second']:,}/s; the model alone on the GPU {alone}.")
    on_gpu = [(name, row) for name, row in throughput if row["device"] == "cuda"]
    if on_gpu and stages:
        name, fastest = max(on_gpu, key=lambda item: item[1]["molecules_per_second"])
        keep_busy = "; ".join(
            f"{_name(row['checkpoint'])} {math.ceil(max(m['molecules_per_second'] for m in row['model_only']) / row['featurize_molecules_per_second'])}"
            for _, row in stages)
        lines.append(f"- **What follows:** at the fastest end-to-end GPU rate measured ({fastest['molecules_per_second']:,}/s, "
                     f"{fastest['molecules']:,} SMILES, `{name}`), 10⁸ molecules take {1e8 / fastest['molecules_per_second'] / 3600:.1f} hours "
                     f"on one such node. The model alone, at its best batch size, would keep up with the featurization of this many "
                     f"such nodes: {keep_busy}.")
    training = [(name, row) for name, r in records.items() for row in r["training"]]
    if training:
        cases = []
        for model in dict.fromkeys(row["model"] for _, row in training):
            per = {row["device"]: row for _, row in training if row["model"] == model}
            if "cuda" in per and "cpu" in per:
                cases.append(f"{model} {per['cuda']['steady_seconds_per_epoch']:.1f} s per epoch on the GPU against "
                             f"{per['cpu']['steady_seconds_per_epoch']:.1f} s on the {records[training[0][0]]['cpus']} cores")
        dataset = training[0][1].get("dataset", "tox21")
        lines.append(f"- **Training** on {dataset}'s scaffold split (`python -m molapp.train --device cuda`, `{training[0][0]}`): "
                     + "; ".join(cases) + ".")
    return "\n".join(lines)


def nci60_panels() -> str:
    """Which NCI-60 seed ships as the split panel (the best on valid), and the deployment panel's estimate."""
    seeds = sorted((json.loads(p.read_text()) for p in RESULTS.glob("nci60-graphmem-joint-random-seed*.json")), key=lambda r: r["seed"])
    if not seeds:
        return "Not run yet: `python bench/nci60_multitask.py graphs`."
    best = max(seeds, key=lambda r: r["valid"])
    lines = [f"- **Split panel** `mt-graphmem-nci60-random`: of the {len(seeds)} seeds of the joint runs "
             f"(`bench/results/nci60-graphmem-joint-random-seed*.json`), the one best on valid: seed {best['seed']} "
             f"(valid ROC-AUC {best['valid']:.3f}, against " + ", ".join(f"{r['valid']:.3f}" for r in seeds if r is not best)
             + f"; its test ROC-AUC {best['test']:.3f})."]
    deployment = RESULTS / "deployment-mt-graphmem-nci60_balanced-deployment.json"
    if deployment.exists():
        record = json.loads(deployment.read_text())
        (split, estimate), = record["estimate"].items()
        lines.append(f"- **Deployment panel** `{record['checkpoint']}`: the same recipe trained on every labelled row, "
                     f"{len(record['members'])} member{'s' if len(record['members']) != 1 else ''}; its figures are its recipe's "
                     f"{split}-split run's (`{estimate['checkpoint']}`, chosen by the recipe, not by valid): valid {estimate['valid']:.3f}, "
                     f"test {estimate['test']:.3f} (`bench/results/{deployment.name}`).")
    return "\n".join(lines)


BLOCKS = {"nci60-panels": nci60_panels, "gpu-check": gpu_check, "featurizer-speed": featurizer_speed, "transfer-comparison": transfer_comparison,
          "ensemble-members": ensemble_members, "provenance-summary": provenance_summary, "train-presets": train_presets}


def render(text: str) -> str:
    """`text` with every known block regenerated; a README without a block's markers keeps none."""
    for name, make in BLOCKS.items():
        start, end = f"<!-- figures:{name}:start -->", f"<!-- figures:{name}:end -->"
        if start in text and end in text:
            text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: start + "\n" + make() + "\n" + end, text, flags=re.S)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.readme_figures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md differs from what the results files give")
    args = parser.parse_args(argv)
    readme = ROOT / "README.md"
    text = readme.read_text()
    fresh = render(text)
    if args.check:
        if fresh != text:
            print("README.md's figure blocks are out of date: run `make readme`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
