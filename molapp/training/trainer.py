"""Training a model (GraphMem, MemGNN, GMN, GraSeq, GCN, the transfer model) on one dataset, or GraphMem jointly on several
(MT-GraphMem).

Each `TaskGroup` is one dataset's split with its tasks' positions in the model's task
list. A batch holds molecules of one group and queries only that group's tasks, so a
molecule is trained only on the assays it was measured in, and a dataset with one task
costs one query per molecule. Classification: masked BCE with per-task positive
weights (negatives/positives, its square root, or 1: `positive_weights`); regression: MSE on standardized targets. Adam, warm-up then cosine learning
rate, early stopping on the validation metric, best weights kept. Without early stopping
(`early_stopping=False`: a deployment recipe's fixed number of epochs, and the only way to
train on split "all", which has no validation molecules) the last epoch's weights are kept.

Memory networks (MemGNN, GMN) add the clustering loss the way the paper does (section
3.4): batches train every parameter except the memory keys on the supervised loss; at
each epoch's end a phase on the clustering loss KL(P‖C) alone, over a sample of the
training molecules, moves all parameters, keys included. Moving the centroids as often as
the queries destabilizes training and collapses the clusters. Keys start at sampled
queries (see `MemoryNetwork.initialize_keys`).

A model whose output carries an `auxiliary_loss` (GraSeq-R/-RF: SMILES reconstruction +
β·KL) trains on L = L_label + reconstruction_weight · auxiliary (Eq. 13); if its forward
takes `kl_weight`, that is β, annealed linearly per epoch (`kl_anneal_weight`).
"""

from __future__ import annotations

import copy
import inspect
import math
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from molapp.data.collate import collate
from molapp.data.dataset import LabelledMolecules
from molapp.featurizers.descriptors import DESCRIPTOR_DIM
from molapp.inference.predictor import predict_graphs
from molapp.models.outputs import PredictionModel, uncalibrated_output
from molapp.models.registry import build_model
from molapp.training.metrics import better, per_task_metrics


@dataclass
class TrainConfig:
    hidden: int = 64
    dropout: float = 0.1
    hops: int = 6  # GraphMem
    descriptors: bool = False  # GraphMem: the controller also starts from the molecule's RDKit descriptors
    keys: str = "32,1"  # MemGNN/GMN: keys per memory layer, comma-separated, ending in 1
    heads: int = 5  # MemGNN/GMN: memory heads
    tau: float = 1.0  # MemGNN/GMN: Student's t degrees of freedom
    query_layers: int = 3  # MemGNN: e-GAT layers
    variant: str = "f"  # GraSeq: "plain", "f" (fusion gate), "r" (SMILES reconstruction), "rf"; -F is the paper's best on BBBP
    graph_layers: int = 3  # GraSeq: GraphSAGE layers
    lstm_hidden: int = 32  # GraSeq: BiLSTM width per direction
    reconstruction_weight: float = 1.0  # α of L = L_label + α·L_aux (GraSeq-R/-RF: reconstruction + β·KL)
    kl_anneal_epochs: int = 0  # KL weight β = min(1, epoch / this); 0: max_epochs / 2 (the paper's 2/epochs per epoch)
    gcn_layers: int = 3  # GCN, transfer: GCN layers (per task encoder for transfer)
    transfer_dim: int = 16  # transfer: d' of the S_i, T_j transfer factors
    attention_dim: int = 16  # transfer: d'' of the node-attention W_Q, W_K
    set2set_steps: int = 3  # transfer: Set2Set processing steps
    clustering_learning_rate: float = 1e-2  # MemGNN/GMN: memory layers in the epoch-end clustering phase
    clustering_molecules: int = 1024  # MemGNN/GMN: molecules sampled for that step
    batch_size: int = 64
    size_pools: int = 0  # >0: batches of similar-size molecules, sorted within pools of this many batches (see `epoch_batches`)
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    max_epochs: int = 60
    patience: int = 12
    early_stopping: bool = True  # False: train max_epochs and keep the last weights (a fixed recipe; split "all")
    warmup_epochs: int = 2
    positive_weighting: str = "balanced"  # classification: pos_weight = negatives/positives ("balanced"), its square root ("sqrt") or 1 ("unweighted")
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def hyperparameters(self, kind: str) -> dict:
        """The fields a `kind` model's training uses (what its card lists): the model's own
        and the optimizer's, not the other kinds' defaults."""
        own = set(_MODEL_FIELDS.get(kind, ())) | set(_TRAINING_FIELDS)
        return {name: value for name, value in asdict(self).items() if name in own}

    def model_config(self, kind: str, atom_dim: int, bond_dim: int, num_relations: int, num_tasks: int) -> dict:
        """The config of a `kind` model with these hyper-parameters (what the card stores)."""
        if kind in ("graphmem", "mt-graphmem"):
            return dict(atom_dim=atom_dim, bond_dim=bond_dim, num_relations=num_relations, num_tasks=num_tasks,
                        hidden=self.hidden, hops=self.hops, dropout=self.dropout,
                        descriptor_dim=DESCRIPTOR_DIM if self.descriptors else 0)
        if kind == "graseq":
            return dict(atom_dim=atom_dim, num_tasks=num_tasks, variant=self.variant, hidden=self.hidden,
                        graph_layers=self.graph_layers, lstm_hidden=self.lstm_hidden, dropout=self.dropout)
        if kind == "gcn":
            return dict(atom_dim=atom_dim, num_tasks=num_tasks, hidden=self.hidden, layers=self.gcn_layers, dropout=self.dropout)
        if kind == "transfer":
            return dict(atom_dim=atom_dim, num_tasks=num_tasks, hidden=self.hidden, layers=self.gcn_layers,
                        transfer_dim=self.transfer_dim, attention_dim=self.attention_dim,
                        set2set_steps=self.set2set_steps, dropout=self.dropout)
        return dict(kind=kind, atom_dim=atom_dim, bond_dim=bond_dim, num_tasks=num_tasks, hidden=self.hidden,
                    keys=[int(k) for k in self.keys.split(",")], heads=self.heads, tau=self.tau,
                    query_layers=self.query_layers, dropout=self.dropout)


_TRAINING_FIELDS = ("batch_size", "size_pools", "learning_rate", "weight_decay", "max_epochs", "patience", "early_stopping", "warmup_epochs",
                    "positive_weighting", "seed")
_MEMORY_NETWORK_FIELDS = ("hidden", "dropout", "keys", "heads", "tau", "clustering_learning_rate", "clustering_molecules")
_MODEL_FIELDS = {
    "graphmem": ("hidden", "dropout", "hops", "descriptors"),
    "mt-graphmem": ("hidden", "dropout", "hops", "descriptors"),
    "memgnn": (*_MEMORY_NETWORK_FIELDS, "query_layers"),
    "gmn": _MEMORY_NETWORK_FIELDS,
    "graseq": ("hidden", "dropout", "variant", "graph_layers", "lstm_hidden", "reconstruction_weight", "kl_anneal_epochs"),
    "gcn": ("hidden", "dropout", "gcn_layers"),
    "transfer": ("hidden", "dropout", "gcn_layers", "transfer_dim", "attention_dim", "set2set_steps"),
}


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


def kl_anneal_weight(epoch: int, config: TrainConfig) -> float:
    """β of the KL term in epoch `epoch` (1-based): linear, reaching 1 after
    `kl_anneal_epochs` epochs (default half the run: the paper's rate of 2/epochs per epoch)."""
    epochs = config.kl_anneal_epochs or max(1, config.max_epochs // 2)
    return min(1.0, epoch / epochs)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


POSITIVE_WEIGHTINGS = ("balanced", "sqrt", "unweighted")


def positive_weights(groups: list[TaskGroup], num_tasks: int, weighting: str = "balanced") -> torch.Tensor:
    """Per-task BCE weight of the positives: negatives/positives in the training set
    ("balanced": both classes weigh the same in the loss), or its square root ("sqrt": half
    way, in log terms, to unweighted), clipped to [1, 50]; or 1 ("unweighted": plain BCE)."""
    if weighting not in POSITIVE_WEIGHTINGS:
        raise ValueError(f"positive weighting {weighting!r}: choose one of {', '.join(POSITIVE_WEIGHTINGS)}")
    weights = torch.ones(num_tasks)
    for group in groups:
        labels = group.train.labels
        positives = np.nansum(labels, 0)
        negatives = np.sum(~np.isnan(labels), 0) - positives
        ratio = negatives / np.maximum(positives, 1)
        if weighting == "sqrt":
            ratio = np.sqrt(ratio)
        elif weighting == "unweighted":
            ratio = np.ones_like(ratio)
        weights[group.task_ids] = torch.tensor(np.clip(ratio, 1.0, 50.0), dtype=torch.float32)
    return weights


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return 0.1 + 0.9 * step / max(1, warmup)
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


def batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    """`order` cut into batches of `size`; a last batch of one molecule joins the one before,
    since batch normalization cannot train on a batch that may hold a single atom."""
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    return chunks


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
    return batches(order, batch_size)


def clustering_phase(model: torch.nn.Module, groups: list[TaskGroup], config: TrainConfig, optimizer: torch.optim.Optimizer,
                     rng: np.random.Generator, device: torch.device) -> float:
    """The epoch-end phase on the clustering loss alone (Eq. 11 with λ = 0): mini-batch
    steps over a sample of the training molecules. Returns the mean loss."""
    model.train()
    graphs = [m.graph for g in groups for m in g.train.molecules]
    sample = rng.permutation(len(graphs))[: config.clustering_molecules]
    losses = []
    for chunk in batches(sample, config.batch_size):
        batch = collate([graphs[j] for j in chunk]).to(device)
        loss = model(batch).clustering_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else 0.0


def train(groups: list[TaskGroup], num_tasks: int, atom_dim: int, bond_dim: int, num_relations: int,
          task_type: str, config: TrainConfig, device: torch.device, kind: str = "graphmem") -> TrainResult:
    set_seed(config.seed)
    start = time.time()
    metric = "roc_auc" if task_type == "classification" else "rmse"
    scored_parts = [part for part in ("valid", "test") if any(len(getattr(g, part)) for g in groups)]
    if config.early_stopping and "valid" not in scored_parts:
        raise ValueError("there are no validation molecules to stop early on: train a fixed number of epochs "
                         "(--no-early-stopping --max-epochs N)")
    model = build_model(kind, config.model_config(kind, atom_dim, bond_dim, num_relations, num_tasks)).to(device)
    if hasattr(model, "set_descriptor_scale") and model.config.descriptor_dim:
        model.set_descriptor_scale(torch.from_numpy(np.stack([m.graph.descriptors for g in groups for m in g.train.molecules])).to(device))
    keys = model.memory_keys() if hasattr(model, "memory_keys") else []
    key_ids = {id(k) for k in keys}
    supervised = [p for p in model.parameters() if id(p) not in key_ids]
    optimizer = torch.optim.Adam(supervised, lr=config.learning_rate, weight_decay=config.weight_decay)
    cluster_optimizer = None
    if keys:
        # The clustering phase moves only the memory layers (keys, head-merging convolution):
        # letting it move the query network too, as the paper does, cost accuracy here
        # (ESOL valid RMSE 1.0 against 0.7) by bending the atom features toward the clusters.
        memory_parameters = [p for layer in model.memory_layers for p in layer.parameters()]
        cluster_optimizer = torch.optim.Adam(memory_parameters, lr=config.clustering_learning_rate)
    if keys:
        first = groups[0].train
        sample = np.random.default_rng(config.seed).permutation(len(first))[: 4 * config.batch_size]
        model.initialize_keys(collate([first.molecules[i].graph for i in sample]).to(device),
                              torch.Generator(device=device).manual_seed(config.seed))

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
    best_score, best_state, best_epoch, step = None, None, 0, 0
    epochs_run = 0

    history: list[dict] = []
    takes_kl_weight = "kl_weight" in inspect.signature(model.forward).parameters
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        kl_weight = kl_anneal_weight(epoch, config)
        forward_options = {"kl_weight": kl_weight} if takes_kl_weight else {}
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
            mask = ~torch.isnan(targets)
            output = model(batch, task_ids, **forward_options)
            logits = output.logits
            if task_type == "classification":
                losses = F.binary_cross_entropy_with_logits(
                    logits, torch.nan_to_num(targets), pos_weight=pos_weight[task_ids], reduction="none"
                )
            else:
                standardized = (torch.nan_to_num(targets) - mean_t[task_ids]) / std_t[task_ids]
                losses = (logits - standardized) ** 2
            loss = (losses * mask).sum() / mask.sum().clamp(min=1)
            auxiliary = getattr(output, "auxiliary_loss", None)  # GraSeq's reconstruction; None for other models
            if auxiliary is not None:
                loss = loss + config.reconstruction_weight * auxiliary
                running_auxiliary += auxiliary.detach().item()
            for param_group in optimizer.param_groups:
                param_group["lr"] = config.learning_rate * _lr_factor(step, warmup_steps, total_steps)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            running += loss.item()
        epochs_run = epoch
        clustering = ""
        if cluster_optimizer is not None:
            clustering = f"  clustering KL {clustering_phase(model, groups, config, cluster_optimizer, rng, device):.4f}"
        score = overall(evaluate(scored, groups, "valid")) if "valid" in scored_parts else math.nan
        improved = better(metric, score, best_score) if config.early_stopping else True  # without early stopping the last epoch is kept
        if improved:
            best_score, best_epoch = score, epoch
            if config.early_stopping:
                best_state = copy.deepcopy(model.state_dict())
        auxiliary_note = f"  aux {running_auxiliary / max(1, len(plan)):.4f} (β {kl_weight:.2f})" if running_auxiliary else ""
        tqdm.write(
            f"epoch {epoch:3d}  loss {running / max(1, len(plan)):.4f}{auxiliary_note}{clustering}  valid {metric} {score:.4f}"
            f"{'  *' if improved else ''}  ({time.time() - start:.0f}s)"
        )
        history.append({"epoch": epoch, "loss": running / max(1, len(plan)), "auxiliary_loss": running_auxiliary / max(1, len(plan)),
                        "kl_weight": kl_weight, "valid": score})
        if epoch - best_epoch >= config.patience:
            break

    if config.early_stopping:
        if best_state is None:
            raise ValueError(
                f"no epoch gave a validation {metric}: the validation molecules can't be scored "
                "(e.g. a classification task with only one class among them); choose another split"
            )
        model.load_state_dict(best_state)
    metrics = {part: evaluate(scored, groups, part) for part in scored_parts}
    return TrainResult(model.eval(), metrics, epochs_run, best_epoch, time.time() - start, target_mean, target_std, history)
