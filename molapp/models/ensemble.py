"""An ensemble of models of one kind and configuration, trained with different seeds (as
Chemprop's `--ensemble-size`): averaging members trained from different starts cancels
part of each one's seed-to-seed error, which on the small regression sets is as large as
the differences between architectures.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn


class Ensemble(nn.Module):
    r"""Members :math:`f_1 … f_M`; output :math:`\bar y = \frac{1}{M}\sum_m y_m`, the mean
    raw output [B, Q] (the logit for classification, the standardized value for
    regression; the card's transform is applied after, as for one model).

    Anything else a member reports when asked (attention per hop, memory-layer clusters,
    the fusion gate, embeddings) is the first member's: an explanation shows one model,
    and averaging clusters or attention of separately trained models would describe none
    of them. The app says so beside the explanation.
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = nn.ModuleList(members)
        self.config = members[0].config

    def forward(self, batch, task_ids: Tensor | None = None, **requests):
        return self.forward_with_members(batch, task_ids, **requests)[0]

    def forward_with_members(self, batch, task_ids: Tensor | None = None, **requests) -> tuple:
        """The ensemble's output and the members' own raw outputs [M, B, Q], from one pass of
        each member (what the members' disagreement is measured on)."""
        outputs = [member(batch, task_ids, **requests) for member in self.members]
        member_logits = torch.stack([output.logits for output in outputs])
        return dataclasses.replace(outputs[0], logits=member_logits.mean(0)), member_logits

    def task_dependency(self) -> Tensor:
        """The transfer model's task-dependency matrix, of the first member (see above)."""
        return self.members[0].task_dependency()
