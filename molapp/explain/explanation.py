"""Why a model predicted what it did, for one molecule: predictions together with what the
model computed on the way, from one and the same forward pass — GraphMem's attention per
hop, atom and task query; MemGNN's and GMN's soft assignment of atoms to memory clusters;
GraSeq's gate between its graph and SMILES-sequence embeddings; the transfer model's
learned task dependencies. For a model that also reads whole-molecule descriptors, which
of them moved a task's prediction (`explain_descriptors`).

The molecule is re-read from its canonical SMILES, so atom i of the attention arrays is
atom i of `Explanation.mol`, the molecule every depiction draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from rdkit import Chem

from molapp.chem.standardize import standardize
from molapp.data.collate import collate
from molapp.data.featurize import graph_or_error
from molapp.explain.descriptor_attribution import descriptor_baseline, descriptor_contributions
from molapp.featurizers.descriptors import descriptor_set
from molapp.featurizers.graph import MolGraphFeaturizer
from molapp.inference.predictor import Predictor, device_name
from molapp.models.registry import model_spec


@dataclass
class Explanation:
    """`values` [Q] (probability or value per task query). GraphMem: `attention` [T, N, Q] —
    hop t, atom i, query q, summing to 1 over atoms; `embedding` [Q, H], the final controller
    state per query. MemGNN/GMN: `assignments`, per memory layer with more than one key,
    [N, K_l] — how much atom i belongs to cluster k of layer l (the deeper layers' through
    the layers before them), summing to 1 over clusters; `embedding` [H]. GraSeq: `gate` [H],
    the fusion gate F (1: the graph embedding's dimension, 0: the sequence's), None for a
    variant without one. Transfer model: `task_dependency` [T, T] over all the panel's
    tasks, row j the weights with which tasks i feed task j. An ensemble's `member_values`
    [M, Q]: each member's own prediction (their spread is how much the seeds disagree).
    `error` is set (and the arrays are None) when the input is unusable."""

    input_smiles: str
    tasks: list[str]
    canonical_smiles: str = ""
    changes: list[str] = field(default_factory=list)
    error: str = ""
    mol: Chem.Mol | None = None
    values: np.ndarray | None = None
    attention: np.ndarray | None = None
    assignments: list[np.ndarray] | None = None
    gate: np.ndarray | None = None
    task_dependency: np.ndarray | None = None
    embedding: np.ndarray | None = None
    member_values: np.ndarray | None = None
    device: str = "CPU"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error

    def attention_for(self, task: str, hop: int | None = None) -> np.ndarray:
        """Weights [N] for a task query at hop `hop` (1-based), or averaged over hops."""
        q = self.tasks.index(task)
        return self.attention[:, :, q].mean(0) if hop is None else self.attention[hop - 1, :, q]


def atom_assignments(per_layer: list[torch.Tensor]) -> list[np.ndarray]:
    """Each memory layer's clusters as a soft assignment of the atoms [N, K_l]: the first
    layer's C, then C₀ C₁ ⋯ C_l for the deeper ones (one molecule); layers with one key
    (everything in one node) are left out."""
    composed, out = per_layer[0], []
    for depth, assignment in enumerate(per_layer):
        if depth:
            composed = composed @ assignment[0]
        if composed.shape[-1] > 1:
            out.append(composed.float().cpu().numpy())
    return out


def explain(predictor: Predictor, smiles: str, tasks: Sequence[str] | None = None) -> Explanation:
    """Predict `tasks` for one molecule and return what produced the prediction."""
    chosen = list(tasks) if tasks else list(predictor.tasks)
    record = standardize(smiles)
    if not record.ok:
        return Explanation(smiles, chosen, error=record.error, changes=record.changes)
    start = time.perf_counter()
    mol = Chem.MolFromSmiles(record.canonical_smiles)  # standardize checked that it reads back
    graph = graph_or_error(MolGraphFeaturizer(descriptors=predictor.descriptors), mol)
    if isinstance(graph, str):
        return Explanation(smiles, chosen, error=graph, changes=record.changes)
    task_ids = predictor.task_ids(chosen).to(predictor.device)
    batch = collate([graph]).to(predictor.device)
    spec = model_spec(predictor.card.model)
    kind = spec.explanation
    with torch.inference_mode():
        requests = {"return_embedding": True, **spec.explanation_outputs}
        prediction = predictor.model(batch, task_ids, **requests)
        out, members = prediction.network_output, prediction.member_values
        dependency = predictor.model.network.task_dependency() if kind == "task_transfer" else None
    return Explanation(
        smiles,
        chosen,
        record.canonical_smiles,
        record.changes,
        mol=mol,
        values=prediction.values[0].float().cpu().numpy(),
        attention=out.attention.float().cpu().numpy() if kind == "attention" else None,
        assignments=atom_assignments(out.assignments) if kind == "clusters" else None,
        gate=out.gate[0].float().cpu().numpy() if kind == "fusion" and out.gate is not None else None,
        task_dependency=dependency.float().cpu().numpy() if dependency is not None else None,
        embedding=out.embedding[0].float().cpu().numpy(),
        member_values=members[:, 0].float().cpu().numpy() if members is not None else None,
        device=device_name(predictor.device),
        seconds=time.perf_counter() - start,
    )


@dataclass
class DescriptorReading:
    """How one molecule's descriptors moved one task's output (see
    `molapp.explain.descriptor_attribution`): `table` has a row per descriptor — name,
    label, the molecule's value, the training set's average, its contribution to the output
    (for classification the logit of the probability shown, i.e. after the card's
    calibration a·z + b; for regression the standardized value) — sorted by the
    contribution's size; the contributions add up to `gap`, the output minus what the
    training set's average descriptors would give."""

    task: str
    table: pd.DataFrame
    gap: float


def explain_descriptors(predictor: Predictor, canonical_smiles: str, task: str) -> DescriptorReading:
    mol = Chem.MolFromSmiles(canonical_smiles)
    graph = MolGraphFeaturizer(descriptors=predictor.descriptors)(mol)
    read = descriptor_set(predictor.descriptors)
    task_ids = predictor.task_ids([task]).to(predictor.device)
    contributions, gap = descriptor_contributions(predictor.model.network, graph, task_ids)
    # The shown output is the output module's link (a calibrated probability's logit a·z + b):
    # differences in the network's raw output z scale by its slope a.
    slope = predictor.model.output.link_slope(task_ids).numpy()
    contributions, gap = contributions * slope[:, None], gap * slope
    table = pd.DataFrame({
        "descriptor": read.names,
        "meaning": [read.labels[n] for n in read.names],
        "this molecule": graph.descriptors.astype(np.float64).round(2),
        "training average": descriptor_baseline(predictor.model.network).cpu().numpy().astype(np.float64).round(2),
        "contribution": contributions[0].astype(np.float64),
    })
    table = table.iloc[np.argsort(-np.abs(table["contribution"].to_numpy()), kind="stable")].reset_index(drop=True)
    return DescriptorReading(task, table, float(gap[0]))
