"""A consensus of models that read a molecule differently — graph networks and random forests
on descriptors and fingerprints — the lesson of the Tox21 challenge's winners and of
ADMET-AI: such models err differently, so their consensus errs less.

Each source s (a trained graph checkpoint's `PredictionModel`, or a `Forest` on a block of
the consensus features) scores the molecule; the score becomes its percentile among that
source's scores of the approved drugs of ClinTox, which puts a calibrated probability and a
forest's vote share on one footing and needs no other molecule than the one asked about.
The consensus's raw output is the sources' mean percentile, as a fraction:

.. math::
    z_q(x) = \\frac{1}{S} \\sum_s P_{s,q}(v_{s,q}(x)), \\qquad
    P_{s,q}(r_k) = \\frac{\\#\\{r < r_k\\} + \\#\\{r \\le r_k\\}}{2R}

over the R approved drugs' scores r_1 ≤ … ≤ r_R of source s on task q (ties count half, as
`molapp.inference.calls.percentile_among`), linear between them (`approved_percentile`). Its probability is a Platt fit on z
(`molapp.models.outputs.PlattCalibration`, the checkpoint's output module), fitted on the
validation molecules of the consensus built from split models (`python -m molapp.cli.consensus`).

Shapes: B molecules, Q queried tasks (of T), S sources (graph members, then forests), R
approved drugs, D consensus features (`CONSENSUS_FEATURES_VERSION`: the 70 descriptors,
RDKit's whole list, ECFP4 bits; `CONSENSUS_BLOCKS` says which columns each reads).

Explanations and embeddings are the first graph member's (GraphMem: attention per hop, its
final controller state): a consensus of a network and forests has no attention of its own,
and the app says whose it shows.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from molapp.featurizers.descriptors import CONSENSUS_BLOCKS, CONSENSUS_FEATURES_VERSION, DESCRIPTOR_SETS
from molapp.models import graphmem
from molapp.models.ensemble import Ensemble
from molapp.models.forest import Forest
from molapp.models.outputs import OUTPUT_MODULES, PredictionModel
from molapp.models.spec import ModelSpec

FEATURE_DIM = DESCRIPTOR_SETS[CONSENSUS_FEATURES_VERSION].dim
# A forest's family (its name in `bench/tox21_consensus.py` and the consensus CLI) → the block
# of the consensus features it reads, and each block in words (the Predict page names it).
FOREST_FEATURES = {"desc-rf-all": "rdkit-all", "ecfp-rf": "ecfp"}
FEATURES_IN_WORDS = {"rdkit-all": "RDKit's whole descriptor list", "ecfp": "ECFP4 fingerprints"}


@dataclass(frozen=True)
class ConsensusConfig:
    """`members`: per graph member, {"kind", "config", "ensemble_size", "output"} of its
    checkpoint and "features", the block of the consensus features it reads ("" for none).
    `forests`: per forest, {"name", "features", "num_nodes", "num_roots", "trees_per_task",
    "depth"}. `approved_count`: R."""

    num_tasks: int
    members: list
    forests: list
    approved_count: int
    descriptor_dim: int = FEATURE_DIM  # the width of what it reads (the card's `descriptors`)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def sources(self) -> int:
        return len(self.members) + len(self.forests)


def _member_network(member: Mapping) -> nn.Module:
    from molapp.models.registry import build_model  # the registry collects this module's SPECS

    networks = [build_model(member["kind"], member["config"]) for _ in range(member["ensemble_size"])]
    return Ensemble(networks) if len(networks) > 1 else networks[0]


def approved_percentile(reference: Tensor, values: Tensor) -> Tensor:
    """P(v) of `values` [B, Q] among `reference` [Q, R] (sorted along R), a fraction [B, Q]:
    at a reference value, the share below it with ties counting half (`percentile_among`);
    between two, linear between theirs, and beyond the ends, the end's. Continuous wherever
    the reference has no ties, so a network's float noise (1e-7 between batchings) moves a
    prediction by as little, not by a step of 1/2R."""
    queried = values.T.contiguous()  # [Q, B]
    size = reference.shape[-1]
    below = torch.searchsorted(reference, queried, side="left")
    not_above = torch.searchsorted(reference, queried, side="right")
    at_reference = (below + not_above).to(values.dtype) / (2 * size)
    left = reference.gather(-1, (below - 1).clamp(0, size - 1))
    right = reference.gather(-1, below.clamp(0, size - 1))
    span = right - left
    fraction = torch.where(span > 0, (queried - left) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(span))
    between = ((below.to(values.dtype) - 0.5 + fraction) / size).clamp(0.5 / size, 1 - 0.5 / size)
    return torch.where(not_above > below, at_reference, between).T


class Consensus(nn.Module):
    def __init__(self, config: ConsensusConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(
            PredictionModel(_member_network(member), OUTPUT_MODULES[member["output"]](config.num_tasks)) for member in config.members)
        self.forests = nn.ModuleList(
            Forest(forest["num_nodes"], forest["num_roots"], forest["trees_per_task"], forest["depth"]) for forest in config.forests)
        # every source's scores of the approved drugs, sorted per task: [S, T, R]
        self.register_buffer("approved_scores", torch.zeros(config.sources, config.num_tasks, config.approved_count))

    def source_scores(self, batch, task_ids: Tensor | None = None, **requests) -> tuple[list[Tensor], object]:
        """Each source's scores [B, Q] and what the first member's network returned besides
        (attention, embedding: `requests` go to that member only)."""
        features = batch.descriptors  # [B, D]
        scores, shown = [], None
        for member, described in zip(self.members, self.config.members):
            if described["features"]:  # the member reads its own block of the features
                start, stop = CONSENSUS_BLOCKS[described["features"]]
                batch_for_member = copy.copy(batch)  # shallow: the graph tensors are shared
                batch_for_member.descriptors = features[:, start:stop]
            else:
                batch_for_member = batch
            prediction = member(batch_for_member, task_ids, **(requests if shown is None else {}))
            shown = prediction.network_output if shown is None else shown
            scores.append(prediction.values)
        for forest, described in zip(self.forests, self.config.forests):
            start, stop = CONSENSUS_BLOCKS[described["features"]]
            every_task = forest(features[:, start:stop])  # [B, T]
            scores.append(every_task if task_ids is None else every_task[:, task_ids])
        return scores, shown

    def set_approved_scores(self, scores: list[Tensor]) -> None:
        """Each source's scores [R, T] of the approved drugs (every task), in `source_scores` order."""
        self.approved_scores.copy_(torch.stack([s.T for s in scores]).sort(dim=-1).values)

    def forward(self, batch, task_ids: Tensor | None = None, **requests):
        scores, shown = self.source_scores(batch, task_ids, **requests)
        reference = self.approved_scores if task_ids is None else self.approved_scores[:, task_ids]  # [S, Q, R]
        percentiles = torch.stack([approved_percentile(reference[s], score.to(reference.dtype)) for s, score in enumerate(scores)])
        return dataclasses.replace(shown, logits=percentiles.mean(0))


def summary(config: Mapping) -> str:
    """e.g. 'graphmem ×3 + memgnn + 2 forests (desc-rf-all, ecfp-rf)'."""
    members = [m["kind"] + (f" ×{m['ensemble_size']}" if m["ensemble_size"] > 1 else "") for m in config["members"]]
    forests = config["forests"]
    named = f" + {len(forests)} forest{'s' if len(forests) != 1 else ''} ({', '.join(f['name'] for f in forests)})" if forests else ""
    return " + ".join(members) + named


SPECS = (
    ModelSpec("consensus", "Consensus", rank=90, model_class=Consensus, config_class=ConsensusConfig,
              hyperparameters=(), summary=summary, embedding="its GraphMem member's final controller state h_T",
              explanation="attention", explanation_outputs={"return_attention": True},
              cpu_batch_size=graphmem.cpu_batch_size, trainable=False),
)
