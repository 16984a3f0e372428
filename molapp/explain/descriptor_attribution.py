"""Which whole-molecule descriptors moved a prediction, for a model that reads them
(GraphMem with descriptors): integrated gradients (Sundararajan et al., ICML 2017) of the
model's output with respect to the descriptors, from the training set's average
descriptors to the molecule's, the graph held fixed.

.. math::
    \\phi_j = (d_j - \\bar d_j) \\int_0^1 \\frac{\\partial f(\\bar d + \\alpha (d - \\bar d))}{\\partial d_j}\\, d\\alpha

The contributions add up to :math:`f(d) - f(\\bar d)`: how far the molecule's own
descriptors moved the output (a logit for classification, a standardized value for
regression) from where the training set's average descriptors would have put it, for this
molecule's graph. For an ensemble the output is the ensemble's mean, the prediction itself.
The integral is a midpoint sum over `steps` points, evaluated in one batched forward pass.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from molapp.data.collate import collate
from molapp.featurizers.graph import MolGraph
from molapp.models.ensemble import Ensemble


def descriptor_baseline(model: nn.Module) -> torch.Tensor:
    """The training set's mean descriptors [D] (stored with the weights)."""
    return (model.members[0] if isinstance(model, Ensemble) else model).descriptor_mean


def descriptor_contributions(model: nn.Module, graph: MolGraph, task_ids: torch.Tensor, steps: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(contributions [Q, D], the gap f(d) - f(d̄) [Q]) for one molecule and the queried tasks."""
    device = task_ids.device
    batch = collate([graph] * steps).to(device)
    baseline = descriptor_baseline(model).to(device)
    molecule = batch.descriptors[0]
    alphas = (torch.arange(steps, device=device, dtype=molecule.dtype) + 0.5) / steps  # midpoints
    path = (baseline + alphas[:, None] * (molecule - baseline)).detach().requires_grad_(True)  # [steps, D]
    batch.descriptors = path
    with torch.enable_grad():
        logits = model(batch, task_ids).logits  # [steps, Q]
        rows = []
        for q in range(logits.shape[1]):  # one backward per task query: Q is small (≤ the panel's tasks)
            (gradient,) = torch.autograd.grad(logits[:, q].sum(), path, retain_graph=q < logits.shape[1] - 1)
            rows.append((molecule - baseline) * gradient.mean(0))
    with torch.inference_mode():
        ends = collate([graph, graph]).to(device)
        ends.descriptors = torch.stack([molecule, baseline])
        end_logits = model(ends, task_ids).logits
    return torch.stack(rows).detach().cpu().numpy(), (end_logits[0] - end_logits[1]).cpu().numpy()
