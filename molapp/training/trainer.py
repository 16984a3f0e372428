"""Training a model of any kind (`molapp.models.registry`) on one dataset, or jointly on several
(MT-GraphMem).

Each `TaskGroup` is one dataset's split with its tasks' positions in the model's task
list. A batch holds molecules of one group and queries only that group's tasks, so a
molecule is trained only on the assays it was measured in, and a dataset with one task
costs one query per molecule. Classification: masked BCE with per-task positive
weights (negatives/positives, its square root, or 1: `molapp.metrics.positive_weights`);
regression: MSE on standardized targets. Adam, warm-up then a cosine learning rate, or
the rate halved every N epochs (`learning_rate_schedule="halving"`, MemGNN's Appendix A.1
schedule), early stopping on the validation metric, best weights kept. Without early stopping
(`early_stopping=False`: a deployment recipe's fixed number of epochs, and the only way to
train on split "all", which has no validation molecules) the last epoch's weights are kept.

What a kind adds to this loop comes from its spec's `TrainingHooks`: input scaling at the
start (GraphMem's descriptors), parameters the batches leave alone and an epoch-end phase
(MemGNN's and GMN's memory keys and clustering), forward options per epoch (GraSeq's KL
weight β). A model whose output carries an `auxiliary_loss` (GraSeq-R/-RF: SMILES
reconstruction + β·KL) trains on L = L_label + reconstruction_weight · auxiliary (Eq. 13).
Given a `state_file`, a run is resumable (`molapp.training.resume`).
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, make_dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from molapp.data.collate import collate, training_batches
from molapp.data.dataset import LabelledMolecules
from molapp.models.batching import predict_graphs
from molapp.metrics import POSITIVE_WEIGHTINGS, better, masked_loss, per_task_metrics, positive_weights as task_positive_weights
from molapp.models.outputs import PredictionModel, uncalibrated_output
from molapp.models.registry import model_hyperparameters, model_spec
from molapp.models.spec import Hyperparameter
from molapp.training import resume

# The options of every kind's training (the kinds' own come from their specs).
TRAINING_OPTIONS = (
    Hyperparameter("batch_size", 64),
    Hyperparameter("size_pools", 0, ">0: batches of similar-size molecules, sorted within pools of this many batches (see `epoch_batches`)"),
    Hyperparameter("learning_rate", 1e-3),
    Hyperparameter("weight_decay", 1e-5),
    Hyperparameter("max_epochs", 60),
    Hyperparameter("patience", 12),
    Hyperparameter("early_stopping", True, "False: train max_epochs and keep the last weights (a fixed recipe; split all)"),
    Hyperparameter("warmup_epochs", 2),
    Hyperparameter("learning_rate_schedule", "cosine", "after the warm-up: cosine decay to a twentieth over max_epochs, or halving "
                   "every halving_epochs epochs (the MemGNN paper's: 0.5 every 500)", choices=("cosine", "halving")),
    Hyperparameter("halving_epochs", 500, "with --learning-rate-schedule halving: epochs between halvings"),
    Hyperparameter("positive_weighting", "balanced", "classification: pos_weight = negatives/positives (balanced), "
                   "its square root (sqrt) or 1 (unweighted)", choices=POSITIVE_WEIGHTINGS),
    Hyperparameter("seed", 0),
)


class _TrainConfigMethods:
    def to_dict(self) -> dict:
        return asdict(self)

    def hyperparameters(self, kind: str) -> dict:
        """The fields a `kind` model's training uses (what its card lists): the kind's own
        and the optimizer's, not the other kinds' defaults."""
        own = {option.name for option in model_spec(kind).hyperparameters} | {option.name for option in TRAINING_OPTIONS}
        return {name: value for name, value in asdict(self).items() if name in own}


def all_options() -> dict[str, Hyperparameter]:
    """Every TrainConfig field's option, by name: the model kinds' (from their specs), then training's."""
    return {**model_hyperparameters(), **{option.name: option for option in TRAINING_OPTIONS}}


# Every kind's hyper-parameters and the training options, flat: one field per option (the
# train CLI's flags, the card's "hyperparameters"), so that adding a model kind adds its
# options here without an edit.
TrainConfig = make_dataclass(
    "TrainConfig",
    [(option.name, option.type, field(default=option.default)) for option in all_options().values()],
    bases=(_TrainConfigMethods,),
)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = "A training run's hyper-parameters: " + ", ".join(all_options()) + "."


@dataclass
class TaskGroup:
    """One dataset in a training run: its splits and its tasks' indices in the model."""

    name: str
    task_ids: list[int]
    train: LabelledMolecules
    valid: LabelledMolecules
    test: LabelledMolecules

    @property
    def tasks(self) -> list[str]:
        return self.train.spec.tasks


@dataclass
class TrainResult:
    model: torch.nn.Module
    metrics: dict  # {"valid": {group: {task: v, "mean": v}}, "test": {...}}; only the parts that have molecules
    epochs: int
    best_epoch: int
    train_seconds: float
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    history: list[dict] = field(default_factory=list)  # per epoch: loss, auxiliary loss, KL weight, valid score


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def positive_weights(groups: list[TaskGroup], num_tasks: int, weighting: str = "balanced") -> torch.Tensor:
    """Per-task BCE weight of the positives [num_tasks] (`molapp.metrics.positive_weights`
    of each group's training labels; 1 for a task of no group)."""
    weights = torch.ones(num_tasks)
    for group in groups:
        weights[group.task_ids] = torch.tensor(task_positive_weights(group.train.labels, weighting), dtype=torch.float32)
    return weights


def _lr_factor(step: int, warmup: int, total: int, halving_steps: int | None = None) -> float:
    """The learning rate's multiplier at `step`: a linear warm-up from 0.1, then cosine decay to
    0.05 at `total`, or (with `halving_steps`) 0.5 ** (completed periods of that many steps)."""
    if step < warmup:
        return 0.1 + 0.9 * step / max(1, warmup)
    if halving_steps is not None:
        return 0.5 ** ((step - warmup) // halving_steps)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def evaluate(model: PredictionModel, groups: list[TaskGroup], part: str) -> dict:
    model.eval()
    scores = {}
    for group in groups:
        data: LabelledMolecules = getattr(group, part)
        predictions = predict_graphs(model, data.graphs, torch.tensor(group.task_ids)).values
        scores[group.name] = per_task_metrics(data.labels, predictions, group.tasks, model.task_type)
    return scores


def overall(scores: dict) -> float:
    """Mean over datasets of each dataset's mean over tasks."""
    means = [s["mean"] for s in scores.values() if not math.isnan(s["mean"])]
    return float(np.mean(means)) if means else math.nan  # NaN when no dataset could be scored


def epoch_batches(sizes: np.ndarray, batch_size: int, size_pools: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches of a training set whose molecules have `sizes` atoms: a random
    order cut into batches. With `size_pools` > 0 the order is first cut into pools of that
    many batches and each pool sorted by size, so a batch holds molecules of similar size:
    models that pad every molecule to the batch's largest (the transfer model's n × n
    attention) then compute a fraction of the padding. The batches stay random in
    composition across epochs and are shuffled later with the rest of the plan."""
    order = rng.permutation(len(sizes))
    if size_pools > 0:
        pool = size_pools * batch_size
        order = np.concatenate([chunk[np.argsort(sizes[chunk], kind="stable")] for chunk in np.split(order, range(pool, len(order), pool))])
    return training_batches(order, batch_size)


def train(groups: list[TaskGroup], num_tasks: int, atom_dim: int, bond_dim: int, num_relations: int,
          task_type: str, config: TrainConfig, device: torch.device, kind: str = "graphmem",
          on_epoch: Callable[[dict], None] | None = None, state_file: Path | None = None,
          save_every_s: float = 60.0) -> TrainResult:
    """`on_epoch`, when given, is called after every epoch with that epoch's history entry
    (epoch, loss, valid score, …) plus `max_epochs`, `seconds` since the start and `best_epoch`:
    how a background job reports its progress. `state_file`, when given, makes the run
    resumable (`molapp.training.resume`): an interrupted run's state there is carried on, and
    the state is saved there after an epoch, at most every `save_every_s` seconds."""
    set_seed(config.seed)
    start = time.time()
    metric = "roc_auc" if task_type == "classification" else "rmse"
    scored_parts = [part for part in ("valid", "test") if any(len(getattr(g, part)) for g in groups)]
    if config.early_stopping and "valid" not in scored_parts:
        raise ValueError("there are no validation molecules to stop early on: train a fixed number of epochs "
                         "(--no-early-stopping --max-epochs N)")
    spec = model_spec(kind)
    train_graphs = [[m.graph for m in g.train.molecules] for g in groups]
    described = next((graph.descriptors for graphs in train_graphs for graph in graphs[:1]), None)
    model = spec.build(spec.model_config(config, atom_dim=atom_dim, bond_dim=bond_dim, num_relations=num_relations,
                                         num_tasks=num_tasks, descriptor_dim=0 if described is None else len(described))).to(device)
    hooks = spec.training_hooks()
    hooks.start(model, train_graphs, config, device)
    frozen = {id(p) for p in hooks.frozen_in_batches(model)}
    supervised = [p for p in model.parameters() if id(p) not in frozen]
    optimizer = torch.optim.Adam(supervised, lr=config.learning_rate, weight_decay=config.weight_decay)

    target_mean = target_std = None
    if task_type == "regression":
        target_mean, target_std = [0.0] * num_tasks, [1.0] * num_tasks
        for group in groups:
            for k, task_id in enumerate(group.task_ids):
                column = group.train.labels[:, k]
                target_mean[task_id] = float(np.nanmean(column))
                target_std[task_id] = float(np.nanstd(column)) or 1.0
    scored = PredictionModel(model, uncalibrated_output(task_type, target_mean, target_std).to(device))  # what evaluation predicts with
    mean_t = torch.tensor(target_mean or [0.0] * num_tasks, device=device)
    std_t = torch.tensor(target_std or [1.0] * num_tasks, device=device)
    pos_weight = positive_weights(groups, num_tasks, config.positive_weighting).to(device)

    rng = np.random.default_rng(config.seed)
    sizes = [np.array([m.graph.num_atoms for m in g.train.molecules]) for g in groups]
    batches_per_epoch = sum(math.ceil(len(g.train) / config.batch_size) for g in groups)
    total_steps = batches_per_epoch * config.max_epochs
    warmup_steps = batches_per_epoch * config.warmup_epochs
    halving_steps = batches_per_epoch * config.halving_epochs if config.learning_rate_schedule == "halving" else None
    best_score, best_state, best_epoch, step = None, None, 0, 0
    epochs_run = 0
    history: list[dict] = []

    settings = {"kind": kind, "config": config.to_dict(), "num_tasks": num_tasks,
                "sizes": [[len(g.train), len(g.valid), len(g.test)] for g in groups]}
    saved = resume.load_state(state_file, settings) if state_file is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        hooks.load_state_dict(saved["hooks"])
        best_score, best_epoch, step, epochs_run = saved["best_score"], saved["best_epoch"], saved["step"], saved["epoch"]
        best_state, history = saved["best_model"], saved["history"]
        rng.bit_generator.state = saved["numpy_random"]
        resume.restore_random_state(saved["torch_random"], device)
        start -= saved["seconds"]
        tqdm.write(f"carrying on from epoch {epochs_run} ({state_file})")
    last_save = time.time()

    for epoch in range(epochs_run + 1, config.max_epochs + 1):
        model.train()
        forward_options = hooks.forward_options(epoch, config)
        running_auxiliary = 0.0
        plan = []
        for g_index, group in enumerate(groups):
            plan += [(g_index, chunk) for chunk in epoch_batches(sizes[g_index], config.batch_size, config.size_pools, rng)]
        rng.shuffle(plan)
        running = 0.0
        progress = tqdm(plan, desc=f"epoch {epoch}", leave=False, mininterval=5)
        for g_index, index in progress:
            group = groups[g_index]
            task_ids = torch.tensor(group.task_ids, device=device)
            batch = collate([group.train.molecules[i].graph for i in index]).to(device)
            targets = torch.from_numpy(group.train.labels[index]).to(device)
            output = model(batch, task_ids, **forward_options)
            if task_type == "classification":
                loss = masked_loss(output.logits, targets, task_type, pos_weight[task_ids])
            else:
                loss = masked_loss(output.logits, (targets - mean_t[task_ids]) / std_t[task_ids], task_type)
            auxiliary = getattr(output, "auxiliary_loss", None)  # GraSeq's reconstruction; None for other models
            if auxiliary is not None:
                loss = loss + config.reconstruction_weight * auxiliary
                running_auxiliary += auxiliary.detach().item()
            for param_group in optimizer.param_groups:
                param_group["lr"] = config.learning_rate * _lr_factor(step, warmup_steps, total_steps, halving_steps)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            running += loss.item()
        epochs_run = epoch
        epoch_note = hooks.end_of_epoch(model, train_graphs, config, rng, device)
        score = overall(evaluate(scored, groups, "valid")) if "valid" in scored_parts else math.nan
        improved = better(metric, score, best_score) if config.early_stopping else True  # without early stopping the last epoch is kept
        if improved:
            best_score, best_epoch = score, epoch
            if config.early_stopping:
                best_state = copy.deepcopy(model.state_dict())
        options_note = "".join(f" {name} {value:.2f}" for name, value in forward_options.items())
        auxiliary_note = f"  aux {running_auxiliary / max(1, len(plan)):.4f} ({options_note.strip()})" if running_auxiliary else ""
        tqdm.write(
            f"epoch {epoch:3d}  loss {running / max(1, len(plan)):.4f}{auxiliary_note}{epoch_note}  valid {metric} {score:.4f}"
            f"{'  *' if improved else ''}  ({time.time() - start:.0f}s)"
        )
        history.append({"epoch": epoch, "loss": running / max(1, len(plan)), "auxiliary_loss": running_auxiliary / max(1, len(plan)),
                        **forward_options, "valid": score})
        if on_epoch is not None:
            on_epoch({**history[-1], "max_epochs": config.max_epochs, "seconds": time.time() - start, "best_epoch": best_epoch})
        if epoch - best_epoch >= config.patience:
            break
        if state_file is not None and time.time() - last_save >= save_every_s:
            resume.save_state(state_file, {
                "settings": settings, "epoch": epoch, "step": step, "seconds": time.time() - start,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "hooks": hooks.state_dict(),
                "best_score": best_score, "best_epoch": best_epoch, "best_model": best_state, "history": history,
                "numpy_random": rng.bit_generator.state, "torch_random": resume.random_state(device)})
            last_save = time.time()

    if config.early_stopping:
        if best_state is None:
            raise ValueError(
                f"no epoch gave a validation {metric}: the validation molecules can't be scored "
                "(e.g. a classification task with only one class among them); choose another split"
            )
        model.load_state_dict(best_state)
    metrics = {part: evaluate(scored, groups, part) for part in scored_parts}
    return TrainResult(model.eval(), metrics, epochs_run, best_epoch, time.time() - start, target_mean, target_std, history)
