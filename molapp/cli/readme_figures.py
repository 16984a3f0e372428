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


BLOCKS = {"featurizer-speed": featurizer_speed, "transfer-comparison": transfer_comparison,
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
