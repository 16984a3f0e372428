"""`python -m molapp.cli.build_map`: embed a checkpoint's dataset with the model, lay it out
by t-SNE and save the embedding map beside the checkpoint (`map.safetensors`, `map.json`).

    python -m molapp.cli.build_map --checkpoint checkpoints/graphmem-tox21-scaffold --task NR-AhR
    python -m molapp.cli.build_map --checkpoint checkpoints/memgnn-esol-random

Every molecule of the dataset that featurizes goes in (the canonical split tells train,
valid and test apart); for a joint checkpoint, the datasets together. GraphMem embeds with
one task query (`--task`, default the first task). GraSeq gets three maps: its fused
embedding (`map.*`), and its graph-only and sequence-only embeddings (`map-graph.*`,
`map-sequence.*`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from molapp.data.dataset import load_dataset
from molapp.data.registry import split_path
from molapp.data.splits import load_canonical_split, random_split, scaffold_split
from molapp.explain.embedding_map import SPLITS, EmbeddingMap, fit_coordinates
from molapp.inference.predictor import Predictor, predict_and_embed
from molapp.models.registry import explanation_kind, has_attention


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.build_map", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--task", default=None, help="GraphMem: the task query whose final state is the embedding")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    start = time.time()
    predictor = Predictor.load(args.checkpoint, "auto")
    card = predictor.card
    query_task = None
    if has_attention(card["model"]):
        query_task = args.task or card["tasks"][0]
        if query_task not in predictor.tasks:
            parser.error(f"unknown task {query_task!r}; this checkpoint predicts: {', '.join(predictor.tasks)}")
    names = [card["dataset"]] if isinstance(card["dataset"], str) else list(card["dataset"])
    graphs, labels, split, ids, smiles = [], [], [], [], []
    for name in names:
        data = load_dataset(name, args.data_dir, workers=args.workers)
        path = split_path(name, card["split"], args.data_dir)
        parts = load_canonical_split(path) if path else (random_split(len(data), seed=0) if card["split"] == "random" else scaffold_split(data.smiles))
        part_of = {int(r): SPLITS.index(p) for p in SPLITS for r in getattr(parts, p)}
        columns = [predictor.tasks.index(t) for t in data.spec.tasks]
        for row, molecule, label in zip(data.rows, data.molecules, data.labels):
            if molecule.ok and int(row) in part_of:
                graphs.append(molecule.graph)
                full = np.full(len(predictor.tasks), np.nan, np.float32)
                full[columns] = label
                labels.append(full)
                split.append(part_of[int(row)])
                ids.append(f"{name}:{int(row)}")
                smiles.append(molecule.canonical_smiles)
    query = predictor.tasks.index(query_task) if query_task else None
    name = card["dataset"] if isinstance(card["dataset"], str) else "+".join(card["dataset"])
    # GraSeq: also its graph-only and sequence-only embeddings, each its own map (paper Fig. 4).
    views = ["", "graph", "sequence"] if explanation_kind(card["model"]) == "fusion" else [""]
    for view in views:
        predictions, embeddings = predict_and_embed(predictor.model, graphs, card, query, predictor.batch_size, view)
        print(f"embedded {len(graphs)} molecules{f' ({view} view)' if view else ''} ({time.time() - start:.0f}s); fitting t-SNE…", file=sys.stderr)
        coordinates = fit_coordinates(embeddings, workers=args.workers)
        EmbeddingMap(coordinates, embeddings, np.stack(labels), predictions, np.array(split), ids, smiles,
                     list(predictor.tasks), query_task, name).save(Path(args.checkpoint), view)
    print(f"wrote the map of {len(graphs)} molecules into {args.checkpoint} in {time.time() - start:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    raise SystemExit(main())
