"""How often do MemGNN/GMN first-layer clusters coincide with RDKit functional groups?
The paper's claim (Fig. 2, 5) in numbers, over a checkpoint's canonical test split.

    .venv/bin/python bench/cluster_groups.py checkpoints/memgnn-esol-random [more checkpoints]

For each multi-atom functional group (molapp/explain/clusters.py) of each test molecule:
does it lie wholly in one first-layer cluster (argmax of C)? Beside it, the same count
with each molecule's cluster labels shuffled over its atoms (same cluster sizes), the
rate chance alone gives; and how many clusters are exactly one group. Writes
bench/results/clusters-<checkpoint>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.data.collate import collate  # noqa: E402
from molapp.explain.clusters import functional_groups, group_agreement  # noqa: E402
from molapp.inference.predictor import Predictor  # noqa: E402
from molapp.training.groups import build_groups  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402


def measure(checkpoint: Path, data_dir: str | None, batch_size: int = 64) -> dict:
    predictor = Predictor.load(checkpoint, "auto")
    card = predictor.card
    groups, *_ = build_groups([card.dataset], card.split, data_dir, workers=1, descriptors=predictor.descriptors)
    test = groups[0].test
    rng = np.random.default_rng(0)
    totals: Counter = Counter()
    by_group: dict[str, Counter] = {}
    for start in tqdm(range(0, len(test), batch_size), desc=checkpoint.name):
        molecules = test.molecules[start : start + batch_size]
        batch = collate([m.graph for m in molecules]).to(predictor.device)
        with torch.inference_mode():
            first = predictor.model(batch, return_assignments=True).network_output.assignments[0].float().cpu().numpy()
        ptr = batch.ptr.cpu().numpy()
        for k, molecule in enumerate(molecules):
            mol = Chem.MolFromSmiles(molecule.canonical_smiles)
            assignment = first[ptr[k] : ptr[k + 1]]
            totals.update(group_agreement(mol, assignment, rng))
            owner = assignment.argmax(1)
            for group in functional_groups(mol):
                if len(group.atoms) >= 2:
                    counts = by_group.setdefault(group.name, Counter())
                    counts["groups"] += 1
                    counts["in_one_cluster"] += len({owner[i] for i in group.atoms}) == 1
    return {
        "checkpoint": checkpoint.name,
        "model": card.model,
        "dataset": card.dataset,
        "split": card.split,
        "part": "test",
        "molecules": len(test),
        "multi_atom_groups": totals["groups"],
        "groups_in_one_cluster": totals["groups_in_one_cluster"] / max(1, totals["groups"]),
        "groups_in_one_cluster_by_chance": totals["groups_in_one_cluster_by_chance"] / max(1, totals["groups"]),
        "clusters": totals["clusters"],
        "clusters_per_molecule": totals["clusters"] / max(1, len(test)),
        "clusters_that_are_a_group": totals["clusters_that_are_a_group"] / max(1, totals["clusters"]),
        "by_group": {name: {"groups": c["groups"], "in_one_cluster": c["in_one_cluster"] / c["groups"]}
                     for name, c in sorted(by_group.items(), key=lambda item: -item[1]["groups"])},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    for checkpoint in args.checkpoints:
        started = time.time()
        record = measure(Path(checkpoint), args.data_dir)
        record["provenance"] = provenance(time.time() - started)
        out = ROOT / "bench" / "results" / f"clusters-{record['checkpoint']}.json"
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"{record['checkpoint']}: {record['groups_in_one_cluster']:.1%} of {record['multi_atom_groups']} groups in one cluster "
              f"(chance {record['groups_in_one_cluster_by_chance']:.1%}); {record['clusters_that_are_a_group']:.1%} of clusters are "
              f"exactly a group; {record['clusters_per_molecule']:.1f} clusters per molecule → {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
