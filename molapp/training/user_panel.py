"""Training on a user's own file (`python -m molapp.train --data FILE`): the checked data
(`molapp.data.user_data`) as the `TaskGroup` training works on, and what makes the
checkpoint a first-class panel besides its card and weights — the embedding map
(`map.*`, as `molapp.cli.build_map` builds it for a shipped checkpoint) and the calls
(`calls.json`, as `molapp.cli.calls`), both from the molecules at hand, since a user's
file is not in the dataset registry those commands read from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from molapp.data.user_data import UserData, generated_split
from molapp.explain.embedding_map import PERPLEXITY, SPLITS, EmbeddingMap, fit_coordinates, reduce_for_map
from molapp.inference.calls import TaskCalls, base_rates, max_f1_threshold
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor
from molapp.models.batching import predict_graphs
from molapp.models.registry import has_attention, model_spec
from molapp.training.evaluate import split_predictions
from molapp.training.trainer import TaskGroup


def split_source(split: str, seed: int) -> str:
    return f"generated {split} split, 80/10/10" + (f", seed {seed}" if split == "random" else "") + " (molapp.data.splits)"


def user_groups(data: UserData, split: str, seed: int = 0, workers: int = 1, descriptors: str | None = None
                ) -> tuple[list[TaskGroup], list[str], list[str], dict]:
    """What `molapp.training.groups.build_groups` returns for a registry dataset, for the
    user's data: one group, its tasks, its task type, where its split came from."""
    labelled = data.labelled(workers=workers, descriptors=descriptors)
    parts = generated_split(split, data.smiles, seed)
    failed = [int(r) for r, m in zip(labelled.rows, labelled.molecules) if not m.ok]
    if failed:  # standardized fine but the featurizer refused (rare): said, never silent
        print(f"{len(failed)} molecules could not be featurized and are left out (rows "
              f"{', '.join(str(data.source_rows[i][0]) for i in failed[:12])})", file=sys.stderr)
    name = data.spec.name
    group = TaskGroup(name, list(range(len(data.targets))), labelled.subset(parts.train), labelled.subset(parts.valid), labelled.subset(parts.test))
    print(f"{name}: train {len(group.train)}, valid {len(group.valid)}, test {len(group.test)}", file=sys.stderr)
    return [group], list(data.targets), [data.spec.task_type], {name: split_source(split, seed)}


def map_perplexity(n: int) -> float:
    """t-SNE's perplexity for n molecules: the shipped maps' 30, less for a small set (it
    needs about 3 × perplexity neighbours per molecule)."""
    return float(min(PERPLEXITY, max(2.0, (n - 1) / 3.0)))


def build_panel_map(out: Path, groups: list[TaskGroup], data: UserData | None = None, workers: int = 1) -> int:
    """The embedding map of every molecule of the split (train, valid, test), saved beside
    the checkpoint; GraSeq also gets its graph-only and sequence-only maps. IDs are
    `<dataset>:<row>`: the file's (first) row of a user's molecule, or the dataset's CSV
    row (`data` None). Returns the count."""
    predictor = Predictor.load(out, "auto")
    card = predictor.card
    query_task = card.tasks[0] if has_attention(card.model) else None
    graphs, labels, split, ids, smiles = [], [], [], [], []
    for group in groups:
        for index, part in enumerate(SPLITS):
            molecules = getattr(group, part)
            for row, molecule, label in zip(molecules.rows, molecules.molecules, molecules.labels):
                graphs.append(molecule.graph)
                labels.append(label)
                split.append(index)
                ids.append(f"{group.name}:{data.source_rows[int(row)][0] if data is not None else int(row)}")
                smiles.append(molecule.canonical_smiles)
    views = model_spec(card.model).embedding_views(card.config)
    perplexity = map_perplexity(len(graphs))
    query = 0 if query_task else None
    with torch.inference_mode():
        for view in views:
            predicted = predict_graphs(predictor.model, graphs, batch_size=predictor.batch_size, embedding_view=view, query=query)
            predictions, embeddings = predicted.values, predicted.embeddings
            reduced, projection = reduce_for_map(embeddings)
            coordinates = fit_coordinates(reduced, perplexity=perplexity, workers=workers)
            EmbeddingMap(coordinates, reduced, np.stack(labels).astype(np.float32), predictions, np.array(split), ids, smiles,
                         list(predictor.tasks), query_task, groups[0].name, perplexity=perplexity, projection=projection).save(out, view)
    return len(graphs)


def write_panel_calls(out: Path, groups: list[TaskGroup], data_dir: str | None = None) -> TaskCalls:
    """Base rates (the training molecules' labels), default thresholds (maximum F1 on this
    split's validation molecules, calibrated as the checkpoint predicts) and the approved
    drugs' predictions (ClinTox's FDA-approved molecules, when that file is at hand; else
    none, and the page shows no percentile)."""
    from molapp.cli.calls import approved_drug_predictions

    predictor = Predictor.load(out, "auto")
    card = predictor.card
    tasks = list(card.tasks)
    classification = card.is_classifier
    with torch.inference_mode():
        if classification:
            held_out = split_predictions(predictor.model, groups, "valid")
            thresholds = np.array([max_f1_threshold(held_out.labels[:, t], held_out.predictions[:, t]) for t in range(len(tasks))])
        else:
            thresholds = np.full(len(tasks), np.nan)
        try:
            approved = approved_drug_predictions(predictor, data_dir)
        except (FileNotFoundError, ValueError, OSError) as exc:
            print(f"no approved-drug percentiles: {exc}", file=sys.stderr)
            approved = np.zeros((0, len(tasks)), np.float32)
    rates = base_rates(DomainIndex.load(out).labels) if classification else np.full(len(tasks), np.nan)
    calls = TaskCalls(tasks, rates, thresholds, approved, "the validation molecules of its own split", len(approved))
    calls.save(out)
    return calls
