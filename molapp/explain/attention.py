"""GraphMem's attention for one molecule: predictions and the per-hop, per-atom, per-query
attention weights from one and the same forward pass.

The molecule is re-read from its canonical SMILES, so atom i of the attention arrays is
atom i of `Explanation.mol`, the molecule every depiction draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem

from molapp.chem.standardize import standardize
from molapp.data.collate import collate
from molapp.featurizers.graph import MolGraphFeaturizer
from molapp.inference.predictor import Predictor, device_name, output_transform

_featurizer = MolGraphFeaturizer()


@dataclass
class Explanation:
    """`values` [Q] (probability or value per task query); `attention` [T, N, Q] — hop t,
    atom i, query q, summing to 1 over atoms; `embedding` [Q, H], the final controller
    state per query. `error` is set (and the arrays are None) when the input is unusable."""

    input_smiles: str
    tasks: list[str]
    canonical_smiles: str = ""
    changes: list[str] = field(default_factory=list)
    error: str = ""
    mol: Chem.Mol | None = None
    values: np.ndarray | None = None
    attention: np.ndarray | None = None
    embedding: np.ndarray | None = None
    device: str = "CPU"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error

    def attention_for(self, task: str, hop: int | None = None) -> np.ndarray:
        """Weights [N] for a task query at hop `hop` (1-based), or averaged over hops."""
        q = self.tasks.index(task)
        return self.attention[:, :, q].mean(0) if hop is None else self.attention[hop - 1, :, q]


def explain(predictor: Predictor, smiles: str, tasks: Sequence[str] | None = None) -> Explanation:
    """Predict `tasks` for one molecule and return the attention that produced it."""
    chosen = list(tasks) if tasks else list(predictor.tasks)
    record = standardize(smiles)
    if not record.ok:
        return Explanation(smiles, chosen, error=record.error, changes=record.changes)
    start = time.perf_counter()
    mol = Chem.MolFromSmiles(record.canonical_smiles)
    task_ids = predictor.task_ids(chosen).to(predictor.device)
    batch = collate([_featurizer(mol)]).to(predictor.device)
    with torch.inference_mode():
        out = predictor.model(batch, task_ids, return_attention=True, return_embedding=True)
        values = output_transform(predictor.card)(out.logits, task_ids)
    return Explanation(
        smiles,
        chosen,
        record.canonical_smiles,
        record.changes,
        mol=mol,
        values=values[0].float().cpu().numpy(),
        attention=out.attention.float().cpu().numpy(),
        embedding=out.embedding[0].float().cpu().numpy(),
        device=device_name(predictor.device),
        seconds=time.perf_counter() - start,
    )
