"""Running a model over many molecules: batches of molecules of similar size, outputs put back
in input order and turned into the values a card reports. The predictor (`molapp.inference`)
and the trainer's evaluation (`molapp.training`) both run models this way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from molapp.data.collate import collate
from molapp.featurizers.graph import MolGraph
from molapp.models.ensemble import Ensemble

# A GPU wants large batches; on CPU each kind has its own (`cpu_batch_size`), this default
# is for callers without a card at hand.
DEFAULT_BATCH_SIZE = 32
PADDED_ATOMS_PER_MOLECULE = 40  # a batch's atom budget per molecule (MoleculeNet's molecules average ~25 heavy atoms)


def output_transform(card: dict):
    """Model output → reported value: for classification the probability, σ(a_t z + b_t)
    with the card's per-task Platt scaling (`molapp.training.calibration`; σ(z) for a card
    without one); for regression the value un-standardized (targets were standardized with
    the training set's mean and std)."""
    if card["task_type"] == "classification":
        calibration = card.get("calibration")
        if calibration is None:
            return lambda raw, task_ids: torch.sigmoid(raw)
        slope = torch.tensor(calibration["slope"])
        intercept = torch.tensor(calibration["intercept"])
        return lambda raw, task_ids: torch.sigmoid(raw * slope.to(raw.device)[task_ids] + intercept.to(raw.device)[task_ids])
    mean = torch.tensor(card["target_mean"])
    std = torch.tensor(card["target_std"])
    return lambda raw, task_ids: raw * std.to(raw.device)[task_ids] + mean.to(raw.device)[task_ids]


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


def predict_graphs(
    model: nn.Module,
    graphs: Sequence[MolGraph],
    task_ids: torch.Tensor,
    card: dict,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Values [len(graphs), Q] for the queried tasks, batched over molecules of similar size
    (`size_batches`) and over queries."""
    return predict_graphs_with_spread(model, graphs, task_ids, card, batch_size)[0]


@torch.inference_mode()
def predict_graphs_with_spread(
    model: nn.Module,
    graphs: Sequence[MolGraph],
    task_ids: torch.Tensor,
    card: dict,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Values [n, Q] and, for an ensemble, the standard deviation [n, Q] of its members' own
    values (how much the seeds disagree; None for a single model), each member run once."""
    device = next(model.parameters()).device
    task_ids = task_ids.to(device)
    transform = output_transform(card)
    ensemble = isinstance(model, Ensemble)
    out = np.zeros((len(graphs), len(task_ids)), dtype=np.float32)
    spread = np.zeros_like(out) if ensemble else None
    for chosen in size_batches(graphs, batch_size):
        batch = collate([graphs[i] for i in chosen]).to(device)
        if ensemble:
            output, member_logits = model.forward_with_members(batch, task_ids)
            spread[chosen] = transform(member_logits, task_ids).std(0).float().cpu().numpy()
        else:
            output = model(batch, task_ids)
        out[chosen] = transform(output.logits, task_ids).float().cpu().numpy()
    return out, spread
