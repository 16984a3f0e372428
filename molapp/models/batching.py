"""Running a model over many molecules: batches of molecules of similar size, outputs put back
in input order. `predict_graphs` is the one prediction path: the predictor (`molapp.inference`),
the trainer's evaluation (`molapp.training`), the app's map and the CLIs all run a
`PredictionModel` (network + output module, `molapp.models.outputs`) this way, so no caller
applies calibration or un-scaling itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from molapp.data.collate import collate
from molapp.featurizers.graph import MolGraph
from molapp.models.outputs import PredictionModel

# A GPU wants large batches; on CPU each kind has its own (`cpu_batch_size`), this default
# is for callers without a card at hand.
DEFAULT_BATCH_SIZE = 32
PADDED_ATOMS_PER_MOLECULE = 40  # a batch's atom budget per molecule (MoleculeNet's molecules average ~25 heavy atoms)


def size_batches(graphs: Sequence[MolGraph], batch_size: int) -> list[np.ndarray]:
    """Indices of `graphs` in batches of molecules of similar size (sorted by atom count):
    models that pad each molecule to its batch's largest compute less padding. A batch holds
    at most `batch_size` molecules and, padded, at most `batch_size` × PADDED_ATOMS_PER_MOLECULE
    atoms, so a batch of very large molecules is smaller and memory stays bounded whatever
    the input. Callers put the results back in input order."""
    sizes = np.array([g.num_atoms for g in graphs], dtype=np.int64)
    by_size = np.argsort(sizes, kind="stable")
    padded_size = np.maximum(sizes[by_size], 1)  # a batch ending at k pads to padded_size[k]
    budget = batch_size * PADDED_ATOMS_PER_MOLECULE
    batches, start = [], 0
    while start < len(graphs):
        ends = np.arange(start + 1, min(start + batch_size, len(graphs)) + 1)
        fits = (ends - start) * padded_size[ends - 1] <= budget  # True then False: both factors grow
        end = int(ends[fits][-1]) if fits[0] else start + 1
        batches.append(by_size[start:end])
        start = end
    return batches


# Embeddings a model offers besides its own (`view` ""): GraSeq's graph-only and
# sequence-only embeddings before the fusion gate (the GraSeq paper's Fig. 4 compares all three).
EMBEDDING_VIEWS = {"": "embedding", "graph": "graph_embedding", "sequence": "sequence_embedding"}


@dataclass
class GraphPredictions:
    """`predict_graphs`' answer, rows in the graphs' order: `values` [n, Q]; for an ensemble
    `spread` [n, Q], the standard deviation of its members' own values (how much the seeds
    disagree; None for one model); `embeddings` [n, H] when asked for (else None)."""

    values: np.ndarray
    spread: np.ndarray | None = None
    embeddings: np.ndarray | None = None


@torch.inference_mode()
def predict_graphs(
    model: PredictionModel,
    graphs: Sequence[MolGraph],
    task_ids: torch.Tensor | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    embedding_view: str | None = None,
    query: int | None = None,
) -> GraphPredictions:
    """The one prediction path: the model's values for the queried tasks (all when
    `task_ids` is None), batched over molecules of similar size (`size_batches`), each
    ensemble member run once. With `embedding_view` ("" the model's own embedding, "graph"/
    "sequence" GraSeq's embedding of that one reading of the molecule), also the molecule
    embeddings from the same pass: GraphMem's final controller state for task query `query`,
    MemGNN's/GMN's readout node, GraSeq's fused embedding."""
    device = next(model.parameters()).device
    task_ids = None if task_ids is None else task_ids.to(device)
    requests = {} if embedding_view is None else {"return_embedding": True, **({"return_fusion": True} if embedding_view else {})}
    values, spread, embeddings = [], [], []
    order = []
    for chosen in size_batches(graphs, batch_size):
        batch = collate([graphs[i] for i in chosen]).to(device)
        prediction = model(batch, task_ids, **requests)
        values.append(prediction.values.float().cpu().numpy())
        if prediction.member_values is not None:
            spread.append(prediction.member_values.std(0).float().cpu().numpy())
        if embedding_view is not None:
            embedding = getattr(prediction.network_output, EMBEDDING_VIEWS[embedding_view])
            embedding = embedding[:, query] if embedding.dim() == 3 else embedding  # GraphMem: [B, Q, H]
            embeddings.append(embedding.float().cpu().numpy())
        order.append(chosen)
    if not order:
        width = len(task_ids) if task_ids is not None else 0
        empty = np.zeros((0, width), np.float32)
        return GraphPredictions(empty, empty.copy() if model.is_ensemble else None,
                                np.zeros((0, 0), np.float32) if embedding_view is not None else None)
    back = np.argsort(np.concatenate(order))  # input order
    return GraphPredictions(np.concatenate(values)[back], np.concatenate(spread)[back] if spread else None,
                            np.concatenate(embeddings)[back] if embeddings else None)
