"""The saved model: a network and the output module that turns its raw output into the
values reported, so every caller gets final values from the model itself.

The network's raw output [B, Q] is a logit per task query for classification and a
standardized value for regression (targets were standardized with the training set's mean
and std). The output module is one of:

- `Sigmoid`: the probability σ(z) (a classifier without calibration);
- `PlattCalibration`: the calibrated probability σ(a_t z + b_t), per task
  (`molapp.training.calibration` fits a_t, b_t on the validation molecules);
- `TargetScale`: the value in the dataset's units, z·std_t + mean_t.

Their numbers are buffers, saved with the network's weights in `weights.safetensors`
(`output.slope`, `output.intercept`, `output.mean`, `output.std`; the network's under
`network.`). `card.output` names the module (its key in `OUTPUT_MODULES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from molapp.models.ensemble import Ensemble


def _per_task(values: Tensor, task_ids: Tensor | None) -> Tensor:
    return values if task_ids is None else values[task_ids]


class Sigmoid(nn.Module):
    """Raw logit → probability σ(z)."""

    name = "sigmoid"
    task_type = "classification"

    def __init__(self, num_tasks: int = 0) -> None:  # num_tasks: the same constructor as the others
        super().__init__()

    def forward(self, raw: Tensor, task_ids: Tensor | None = None) -> Tensor:
        return torch.sigmoid(raw)

    def link_slope(self, task_ids: Tensor) -> Tensor:
        """d(logit of the reported probability) / d(raw output), per queried task."""
        return torch.ones(len(task_ids))


class PlattCalibration(nn.Module):
    """Raw logit → calibrated probability σ(a_t z + b_t), a_t = `slope`, b_t = `intercept` [T]."""

    name = "platt"
    task_type = "classification"

    def __init__(self, num_tasks: int = 0, slope: Tensor | None = None, intercept: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("slope", torch.ones(num_tasks) if slope is None else slope.float())
        self.register_buffer("intercept", torch.zeros(num_tasks) if intercept is None else intercept.float())

    def forward(self, raw: Tensor, task_ids: Tensor | None = None) -> Tensor:
        return torch.sigmoid(raw * _per_task(self.slope, task_ids) + _per_task(self.intercept, task_ids))

    def link_slope(self, task_ids: Tensor) -> Tensor:
        """d(logit of the reported probability) / d(raw output) = a_t, per queried task."""
        return self.slope[task_ids.to(self.slope.device)].cpu()


class TargetScale(nn.Module):
    """Standardized value → the dataset's units, z·std_t + mean_t (`mean`, `std` [T]: the
    training labels')."""

    name = "target_scale"
    task_type = "regression"

    def __init__(self, num_tasks: int = 0, mean: Tensor | None = None, std: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_tasks) if mean is None else mean.float())
        self.register_buffer("std", torch.ones(num_tasks) if std is None else std.float())

    def forward(self, raw: Tensor, task_ids: Tensor | None = None) -> Tensor:
        return raw * _per_task(self.std, task_ids) + _per_task(self.mean, task_ids)

    def link_slope(self, task_ids: Tensor) -> Tensor:
        """1 per queried task: what a regression explanation reports is the standardized value."""
        return torch.ones(len(task_ids))


OUTPUT_MODULES: dict[str, type[nn.Module]] = {module.name: module for module in (Sigmoid, PlattCalibration, TargetScale)}


@dataclass
class ModelPrediction:
    """What `PredictionModel` returns: `values` [B, Q], the reported values (probability or
    value in the dataset's units); for an ensemble `member_values` [M, B, Q], each member's own
    (None for one model); `network_output`, what the network returned besides its raw output
    `.logits` (attention, clusters, gate, embeddings — an ensemble's first member's)."""

    values: Tensor
    member_values: Tensor | None
    network_output: Any


class PredictionModel(nn.Module):
    """A network (one model or an `Ensemble`) and its output module: what a checkpoint holds
    and what every prediction runs."""

    def __init__(self, network: nn.Module, output: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.output = output

    @property
    def task_type(self) -> str:
        return self.output.task_type

    @property
    def is_ensemble(self) -> bool:
        return isinstance(self.network, Ensemble)

    def forward(self, batch, task_ids: Tensor | None = None, **requests) -> ModelPrediction:
        """`requests` (return_attention, return_embedding, …) go to the network."""
        if self.is_ensemble:
            out, member_raw = self.network.forward_with_members(batch, task_ids, **requests)
            member_values = self.output(member_raw, task_ids)
        else:
            out, member_values = self.network(batch, task_ids, **requests), None
        return ModelPrediction(self.output(out.logits, task_ids), member_values, out)


def uncalibrated_output(task_type: str, target_mean: list[float] | None = None, target_std: list[float] | None = None) -> nn.Module:
    """The output a freshly trained network reports through: σ(z) for classification, the
    training labels' scale for regression."""
    if task_type == "classification":
        return Sigmoid()
    return TargetScale(len(target_mean), torch.tensor(target_mean), torch.tensor(target_std))
