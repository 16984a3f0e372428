"""`python -m molapp.cli.build_map`: embed a checkpoint's dataset with the model, lay it out
by t-SNE and save the embedding map beside the checkpoint (`map.safetensors`, `map.json`).

    python -m molapp.cli.build_map --checkpoint checkpoints/graphmem-tox21-scaffold --task NR-AhR
    python -m molapp.cli.build_map --checkpoint checkpoints/memgnn-esol-random
    python -m molapp.cli.build_map --checkpoint checkpoints/mt-graphmem-scaffold --max-molecules 6000

Every molecule of the dataset that featurizes goes in (the canonical split tells train,
valid and test apart); for a joint checkpoint, the datasets together. `--max-molecules N`
keeps at most N, shared equally among the datasets (a seeded random sample of each): the
joint panel's 56,000 molecules, 41,000 of them HIV's, would make a slow map dominated by
one assay and a checkpoint over its size budget. GraphMem embeds with
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
from molapp.explain.embedding_map import SPLITS, EmbeddingMap, fit_coordinates, reduce_for_map
from molapp.inference.predictor import Predictor, predict_graphs
from molapp.models.registry import has_attention, model_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molapp.cli.build_map", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--task", default=None, help="GraphMem: the task query whose final state is the embedding")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-molecules", type=int, default=None, help="at most this many, shared equally among the datasets (default: all)")
    args = parser.parse_args(argv)

    start = time.time()
    predictor = Predictor.load(args.checkpoint, "auto")
    card = predictor.card
    query_task = None
    if has_attention(card.model):
        query_task = args.task or card.tasks[0]
        if query_task not in predictor.tasks:
            parser.error(f"unknown task {query_task!r}; this checkpoint predicts: {', '.join(predictor.tasks)}")
    names = card.datasets
    per_dataset = args.max_molecules // len(names) if args.max_molecules else None
    graphs, labels, split, ids, smiles = [], [], [], [], []
    for name in names:
        data = load_dataset(name, args.data_dir, workers=args.workers, descriptors=predictor.descriptors)
        part_of = {row: SPLITS.index(part) for row, part in data.split(card.split, args.data_dir).part_of_rows().items()}
        columns = [predictor.tasks.index(t) for t in data.spec.tasks]
        usable = [k for k, (row, molecule) in enumerate(zip(data.rows, data.molecules)) if molecule.ok and int(row) in part_of]
        if per_dataset is not None and len(usable) > per_dataset:
            usable = sorted(np.random.default_rng(0).choice(usable, per_dataset, replace=False).tolist())
        for k in usable:
            row, molecule, label = data.rows[k], data.molecules[k], data.labels[k]
            graphs.append(molecule.graph)
            full = np.full(len(predictor.tasks), np.nan, np.float32)
            full[columns] = label
            labels.append(full)
            split.append(part_of[int(row)])
            ids.append(f"{name}:{int(row)}")
            smiles.append(molecule.canonical_smiles)
    query = predictor.tasks.index(query_task) if query_task else None
    name = "+".join(card.datasets)
    # GraSeq: also its graph-only and sequence-only embeddings, each its own map (paper Fig. 4).
    views = model_spec(card.model).embedding_views(card.config)
    for view in views:
        predicted = predict_graphs(predictor.model, graphs, batch_size=predictor.batch_size, embedding_view=view, query=query)
        predictions, embeddings = predicted.values, predicted.embeddings
        print(f"embedded {len(graphs)} molecules{f' ({view} view)' if view else ''} ({time.time() - start:.0f}s); fitting t-SNE…", file=sys.stderr)
        reduced, projection = reduce_for_map(embeddings)
        coordinates = fit_coordinates(reduced, workers=args.workers)
        EmbeddingMap(coordinates, reduced, np.stack(labels), predictions, np.array(split), ids, smiles,
                     list(predictor.tasks), query_task, name, projection=projection).save(Path(args.checkpoint), view)
    print(f"wrote the map of {len(graphs)} molecules into {args.checkpoint} in {time.time() - start:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    raise SystemExit(main())
