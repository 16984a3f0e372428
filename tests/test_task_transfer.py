"""GCN baseline and the task knowledge-transfer model: forward/backward, atom-order
invariance, the task-dependency matrix, checkpoint round trip, a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molapp.data.collate import collate
from molapp.data.featurize import featurize_smiles
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraphFeaturizer
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint, save_checkpoint
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.models.gcn import GCN, GCNConfig
from molapp.models.task_transfer import TaskTransferConfig, TaskTransferModel
from molapp.training.trainer import TrainConfig, train

from .conftest import RULE_TASKS, rule_group

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "C", "c1ccc2ccccc2c1"]


def make_model(kind: str):
    torch.manual_seed(0)
    if kind == "gcn":
        return GCN(GCNConfig(ATOM_DIM, num_tasks=3, hidden=16, layers=2, dropout=0.0)).eval()
    return TaskTransferModel(TaskTransferConfig(ATOM_DIM, num_tasks=3, hidden=16, layers=2, transfer_dim=8, attention_dim=4, dropout=0.0)).eval()


def batch_of(smiles):
    return collate([m.graph for m in featurize_smiles(smiles)])


@pytest.mark.parametrize("kind", ["gcn", "transfer"])
def test_forward_backward(kind, tiny_dataset):
    model = make_model(kind).train()
    batch = collate(tiny_dataset.graphs[:8])
    out = model(batch, torch.tensor([2, 0]), return_embedding=True)
    assert out.logits.shape == (8, 2)
    assert out.embedding.shape[0] == 8 and out.embedding.dim() == 2
    out.logits.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_task_dependency_rows_sum_to_one():
    model = make_model("transfer")
    with torch.no_grad():
        model.transfer.dependency_logits.normal_()
    dependency = model.task_dependency()
    assert dependency.shape == (3, 3)
    assert torch.allclose(dependency.sum(1), torch.ones(3), atol=1e-6)
    assert (dependency >= 0).all()
    out = model(batch_of(SMILES), torch.tensor([1]), return_attention=True)
    attention = out.attention  # [k, B, Q, n, n]
    assert attention.shape[:3] == (3, 5, 1)
    assert torch.allclose(attention[:, 2, :, :3, :3].sum(-1), torch.ones(3, 1, 3), atol=1e-5)  # ethanol: 3 atoms
    assert torch.all(attention[:, 2, :, :, 3:] == 0)  # never attends to padding


def test_transfer_in_chunks_of_sources_is_the_same_arithmetic(tiny_dataset, monkeypatch):
    """Where the attention scores would pass the memory bound (SIDER's 27 tasks × its
    largest molecules), the sum over sources runs in checkpointed chunks: the same outputs
    and gradients as in one pass, with fewer scores held at once."""
    from molapp.nn import task_transfer

    model = make_model("transfer").train()
    torch.manual_seed(1)
    with torch.no_grad():
        model.transfer.dependency_logits.normal_()
    batch = collate(tiny_dataset.graphs[:8])
    start = {name: value.clone() for name, value in model.state_dict().items()}

    def logits_and_gradients():
        model.load_state_dict(start)  # batch normalization's running statistics as they were
        model.train().zero_grad()
        logits = model(batch, torch.tensor([2, 0])).logits
        logits.sum().backward()
        with torch.no_grad():  # and in inference, where nothing is checkpointed
            inferred = model.eval()(batch, torch.tensor([2, 0])).logits
        return logits.detach(), [p.grad.clone() for p in model.parameters()], inferred

    whole, whole_grads, whole_inferred = logits_and_gradients()
    chunks = []
    merged_from = task_transfer.TaskTransfer.merged_from
    monkeypatch.setattr(task_transfer.TaskTransfer, "merged_from", lambda self, *args: chunks.append(1) or merged_from(self, *args))
    n = int(torch.bincount(batch.batch).max())
    monkeypatch.setattr(task_transfer, "MAX_SCORE_ELEMENTS", 8 * 2 * n * n)  # one source per chunk, of the 3
    chunked, chunked_grads, chunked_inferred = logits_and_gradients()
    assert len(chunks) >= 3 * 2  # three chunks in training (recomputed in backward) and three in inference
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunked_inferred, whole_inferred, atol=1e-5, rtol=1e-5)
    for a, b in zip(chunked_grads, whole_grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["gcn", "transfer"])
def test_checkpoint_round_trip(kind, tmp_path):
    model = make_model(kind)
    card = Card(kind, MolGraphFeaturizer.version, ["a", "b", "c"], "classification")
    save_checkpoint(tmp_path / "ck", PredictionModel(model, Sigmoid()), card)
    loaded, _ = load_checkpoint(tmp_path / "ck")
    batch = batch_of(SMILES)
    assert torch.equal(model(batch).logits, loaded.network(batch).logits)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gcn", "transfer"])
def test_learns_rules_scored_on_held_out_molecules(kind, rule_parts):
    """0.8 mean ROC-AUC on the held-out part: over four standard deviations above a model
    that knows nothing of the molecules (see test_training_and_checkpoints.HELD_OUT_BAR)."""
    group = rule_group(rule_parts, RULE_TASKS)
    config = TrainConfig(hidden=32 if kind == "gcn" else 16, gcn_layers=2, transfer_dim=8, attention_dim=4, batch_size=16,
                         max_epochs=10, patience=10, learning_rate=3e-3)
    result = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind=kind)
    assert all(np.isfinite(h["loss"]) for h in result.history)
    assert result.metrics["test"]["rules"]["mean"] > 0.8


def test_stage_one_pool_takes_each_atoms_max_over_itself_and_its_neighbours():
    from molapp.nn.gcn import neighbourhood_max, normalized_adjacency

    # propane's chain 0-1-2 and a lone atom 3: features chosen so that each atom's max comes from a different place
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    h = torch.tensor([[5.0, 0.0], [1.0, 1.0], [0.0, 7.0], [-2.0, -3.0]])
    edges, _ = normalized_adjacency(edge_index, 4)
    pooled = neighbourhood_max(h, edges)
    assert torch.equal(pooled, torch.tensor([[5.0, 1.0], [5.0, 7.0], [1.0, 7.0], [-2.0, -3.0]]))


def test_transfer_with_the_slides_pooling_is_its_own_variant(tmp_path):
    from molapp.models.registry import model_spec

    pooled = TaskTransferModel(TaskTransferConfig(ATOM_DIM, num_tasks=3, hidden=16, layers=2, transfer_dim=8, attention_dim=4,
                                                  dropout=0.0, neighbourhood_pool=True)).eval()
    plain = make_model("transfer")
    pooled.load_state_dict(plain.state_dict())  # the pool has no parameters: same weights, different arithmetic
    batch = batch_of(SMILES)
    assert not torch.allclose(pooled(batch).logits, plain(batch).logits)
    card = Card("transfer", MolGraphFeaturizer.version, ["a", "b", "c"], "classification")
    save_checkpoint(tmp_path / "ck", PredictionModel(pooled, Sigmoid()), card)
    loaded, loaded_card = load_checkpoint(tmp_path / "ck")
    assert loaded_card.config["neighbourhood_pool"] is True
    assert torch.equal(pooled(batch).logits, loaded.network(batch).logits)
    spec = model_spec("transfer")
    assert spec.ablation_suffix(loaded_card.config, {}) == "-pool"
    assert spec.ablation_suffix({}, {}) == ""  # a card from before the option: the model without the pool
    assert TrainConfig().neighbourhood_pool is False and "neighbourhood_pool" in {h.name for h in spec.hyperparameters}
