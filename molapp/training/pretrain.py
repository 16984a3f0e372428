"""Pretraining GraphMem's encoder on unlabelled molecules (issue 26, lever B): predict each
molecule's RDKit descriptors from its final controller state — the idea behind CheMeleon —
then fine-tune on a panel's labels (`python -m molapp.train --init-encoder DIR`).

The encoder (`molapp.models.encoder`: GraphMem's task-independent parameters) is saved
with its card; pretraining runs it with one query and a linear head V over
the D targets, all of RDKit's descriptors log-scaled (`log_scaled_rdkit_descriptors`) and
standardized over the molecules (μ, σ):

    ŷ = V g(W_o h_T),   loss = mean over molecules and targets of (ŷ - (d - μ) / σ)²

A share of the molecules (`held_out`) is kept out to report the loss on molecules the
encoder never fitted. The run saves its state after every epoch (`molapp.training.resume`),
so the same command carries on after a kill, and the same with more `epochs` extends a
finished run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from molapp.data.collate import collate
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraph
from molapp.models.graphmem import GraphMem, GraphMemConfig
from molapp.training import resume


@dataclass(frozen=True)
class PretrainConfig:
    hidden: int = 64
    hops: int = 6
    dropout: float = 0.1
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    held_out: float = 0.05
    seed: int = 0


class DescriptorPretraining(nn.Module):
    """GraphMem with one query and a linear head V over the targets: ŷ [B, D]."""

    def __init__(self, encoder: GraphMem, targets: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden, targets)

    def forward(self, batch) -> Tensor:
        final_state = self.encoder(batch, torch.zeros(1, dtype=torch.long, device=batch.x.device), return_embedding=True).embedding[:, 0]
        return self.head(torch.relu(self.encoder.output_hidden(self.encoder.dropout(final_state))))


def pretrain(graphs: Sequence[MolGraph], config: PretrainConfig, device: torch.device, out: Path, progress: bool = True) -> tuple[GraphMem, list]:
    """The encoder pretrained on `graphs` (each carrying its targets as `descriptors`), and the
    history [{epoch, train_loss, held_out_loss}]. Carries on from `out`'s saved state."""
    targets = torch.from_numpy(np.stack([g.descriptors for g in graphs]).astype(np.float32))
    mean, std = targets.mean(0), targets.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    order = np.random.default_rng(config.seed).permutation(len(graphs))
    held = order[: int(round(config.held_out * len(graphs)))]
    fitted = order[len(held):]
    torch.manual_seed(config.seed)
    encoder = GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=1, hidden=config.hidden, hops=config.hops,
                                      dropout=config.dropout))
    model = DescriptorPretraining(encoder, targets.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    mean, std = mean.to(device), std.to(device)
    rng = np.random.default_rng(config.seed + 1)
    # The learning rate is constant, so N epochs and then M more are N + M epochs: a run asked
    # for more epochs than a saved one carries on from it (the epoch count is no setting).
    settings = {"config": {k: v for k, v in dataclasses.asdict(config).items() if k != "epochs"}, "molecules": len(graphs),
                "targets": int(targets.shape[1])}
    state_path = resume.state_path(out)
    saved = resume.load_state(state_path, settings)
    history, start = [], 0
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = json.loads(saved["numpy_random"])
        resume.restore_random_state(saved["random"], device)
        history, start = saved["history"], saved["epoch"]

    def loss_of(rows: np.ndarray) -> Tensor:
        batch = collate([graphs[i] for i in rows]).to(device)
        return ((model(batch) - (batch.descriptors - mean) / std) ** 2).mean()

    for epoch in range(start + 1, config.epochs + 1):
        model.train()
        shuffled = fitted[rng.permutation(len(fitted))]
        chunks = [shuffled[k:k + config.batch_size] for k in range(0, len(shuffled), config.batch_size)]
        total = 0.0
        for rows in tqdm(chunks, desc=f"epoch {epoch}", unit="batch", leave=False, disable=not progress):
            optimizer.zero_grad()
            loss = loss_of(rows)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        model.eval()
        with torch.no_grad():
            held_loss = sum(float(loss_of(held[k:k + 256])) * len(held[k:k + 256]) for k in range(0, len(held), 256)) / max(len(held), 1)
        history.append({"epoch": epoch, "train_loss": round(total / len(fitted), 5), "held_out_loss": round(held_loss, 5)})
        print(f"epoch {epoch:3d}  loss {total / len(fitted):.4f}  held-out {held_loss:.4f}", flush=True)
        resume.save_state(state_path, {"settings": settings, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                       "numpy_random": json.dumps(rng.bit_generator.state), "random": resume.random_state(device),
                                       "history": history, "epoch": epoch})
    return model.encoder.cpu().eval(), history


