"""MemGNN and GMN (memory layers that cluster atoms): the layer's assignments are
distributions, coarsening gives one node per key, the clustering target sharpens, the
models do not depend on atom order, and training moves the keys only in the clustering
phase."""

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
from molapp.models.registry import benchmark_name
from molapp.models.memory_network import MemoryNetwork, MemoryNetworkConfig, summary as memory_summary
from molapp.nn.memory import MemoryLayer, clustering_loss, target_distribution
from molapp.nn.query_networks import topological_embedding
from molapp.training.trainer import TaskGroup, TrainConfig, train

from .conftest import RULE_TASKS, rule_group

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "C", "c1ccc2ccccc2c1"]


def batch_of(smiles):
    return collate([m.graph for m in featurize_smiles(smiles)])


def make_model(kind: str, keys=(8, 3, 1)) -> MemoryNetwork:
    torch.manual_seed(0)
    config = MemoryNetworkConfig(kind, ATOM_DIM, BOND_DIM, num_tasks=3, hidden=16, keys=keys, heads=3, query_layers=2, attention_heads=2, dropout=0.0)
    return MemoryNetwork(config).eval()


def entropy(distribution: torch.Tensor) -> torch.Tensor:
    return -(distribution * distribution.clamp_min(1e-12).log()).sum(-1)


def test_memory_layer_assignments_sum_to_one_and_give_one_node_per_key():
    torch.manual_seed(0)
    layer = MemoryLayer(in_size=6, out_size=4, keys=5, heads=2)
    queries = torch.randn(3, 7, 6)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3, [True] * 1 + [False] * 6])
    coarsened, assignment = layer(queries, mask)
    assert coarsened.shape == (3, 5, 4)  # one output node per key
    assert assignment.shape == (3, 7, 5)
    assert torch.allclose(assignment.sum(-1)[mask], torch.ones(int(mask.sum())), atol=1e-6)
    assert torch.all(assignment[~mask] == 0)  # padding belongs to no cluster


def test_target_distribution_sharpens():
    torch.manual_seed(0)
    assignment = torch.softmax(torch.randn(4, 9, 6), dim=-1)
    target = target_distribution(assignment)
    assert torch.allclose(target.sum(-1), torch.ones(4, 9), atol=1e-6)
    assert (entropy(target) < entropy(assignment)).all()
    assert clustering_loss(assignment) > 0
    assert clustering_loss(target_distribution(torch.eye(6).repeat(2, 1, 1))) < 1e-6  # already sharp: nothing to learn


@pytest.mark.parametrize("kind", ["memgnn", "gmn"])
def test_forward_backward_and_assignment_shapes(kind):
    model = make_model(kind).train()
    batch = batch_of(SMILES)
    out = model(batch, return_assignments=True, return_embedding=True)
    assert out.logits.shape == (5, 3)
    first, second, last = out.assignments
    assert first.shape == (batch.x.shape[0], 8)  # atoms × keys of the first layer
    assert second.shape == (5, 8, 3) and last.shape == (5, 3, 1)
    assert torch.allclose(first.sum(-1), torch.ones(batch.x.shape[0]), atol=1e-5)
    assert out.embedding.shape == (5, 16)
    (out.logits.sum() + out.clustering_loss).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_topological_embedding_rows():
    batch = batch_of(["CCO", "c1ccccc1"])
    rows = topological_embedding(batch.edge_index, batch.batch, restart=0.1, width=8)
    assert rows.shape == (9, 8)
    assert torch.allclose(rows[:3].sum(-1), torch.ones(3), atol=1e-5)  # relevance over a molecule sums to 1
    assert torch.all(rows[:, :-1] >= rows[:, 1:])  # sorted, descending
    assert torch.allclose(rows[3:], rows[3:4].expand(6, -1), atol=1e-6)  # benzene's atoms are all alike
    assert torch.all(rows[:3, 3:] == 0)  # ethanol has 3 atoms: the rest is padding
    assert not torch.allclose(rows[0], rows[1])  # a terminal and a central atom differ


def test_adjacency_topologies_are_the_sorted_rows_of_a_and_its_normalization():
    """GMN's 4.4.2 ablation inputs: ethanol C-C-O, its central carbon has two neighbours."""
    batch = batch_of(["CCO"])
    adjacency = topological_embedding(batch.edge_index, batch.batch, restart=0.1, width=4, topology="adjacency")
    assert torch.equal(adjacency, torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]]))
    normalized = topological_embedding(batch.edge_index, batch.batch, restart=0.1, width=4, topology="normalized-adjacency")
    # row i: the walker's step from atom i, 1/degree(i) to each neighbour
    assert torch.allclose(normalized, torch.tensor([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [1, 0, 0, 0]]))
    with pytest.raises(ValueError, match="topology must be one of"):
        topological_embedding(batch.edge_index, batch.batch, restart=0.1, width=4, topology="laplacian")


def test_plain_gat_ignores_the_bonds_and_e_gat_reads_them():
    """The 4.4.1 ablation: with edge_attention off, changing every bond's features changes nothing."""
    batch = batch_of(SMILES)
    other_bonds = batch.clone()
    other_bonds.edge_attr = torch.rand_like(batch.edge_attr)
    for edge_attention, bonds_matter in ((True, True), (False, False)):
        torch.manual_seed(0)
        config = MemoryNetworkConfig("memgnn", ATOM_DIM, BOND_DIM, num_tasks=3, hidden=16, keys=(8, 1), heads=3, query_layers=2,
                                     attention_heads=2, dropout=0.0, edge_attention=edge_attention)
        model = MemoryNetwork(config).eval()
        changed = not torch.allclose(model(batch).logits, model(other_bonds).logits)
        assert changed == bonds_matter, f"edge_attention={edge_attention}"
    assert "GAT ×2" in memory_summary({**config.to_dict()}) and "e-GAT" not in memory_summary(config.to_dict())


def test_checkpoint_round_trip(tmp_path):
    model = make_model("memgnn")
    card = Card("memgnn", MolGraphFeaturizer.version, ["a", "b", "c"], "classification")
    save_checkpoint(tmp_path / "ck", PredictionModel(model, Sigmoid()), card)
    loaded, loaded_card = load_checkpoint(tmp_path / "ck")
    assert loaded_card.config["keys"] == [8, 3, 1]
    batch = batch_of(SMILES)
    assert torch.equal(model(batch).logits, loaded.network(batch).logits)


@pytest.mark.slow
def test_memgnn_learns_rules_scored_on_held_out_molecules(rule_parts):
    """0.8 mean ROC-AUC on the held-out part: over four standard deviations above a model
    that knows nothing of the molecules (see test_training_and_checkpoints.HELD_OUT_BAR)."""
    group = rule_group(rule_parts, RULE_TASKS)
    config = TrainConfig(hidden=32, keys="6,1", heads=2, query_layers=2, batch_size=16, max_epochs=10, patience=10, learning_rate=3e-3)
    result = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind="memgnn")
    assert result.metrics["test"]["rules"]["mean"] > 0.8


def test_keys_move_only_by_clustering(tiny_dataset):
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    group = TaskGroup("tiny", [0, 1], data, data, data)
    config = TrainConfig(hidden=32, keys="6,1", heads=2, query_layers=2, batch_size=8, max_epochs=2, patience=2, learning_rate=3e-3)
    clustered = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind="memgnn")
    # The same run without the clustering phase leaves the keys where they started.
    frozen = TrainConfig(**{**config.to_dict(), "clustering_molecules": 0})
    start = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", TrainConfig(**{**frozen.to_dict(), "max_epochs": 1, "learning_rate": 0.0}), torch.device("cpu"), kind="memgnn")
    after = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", frozen, torch.device("cpu"), kind="memgnn")
    assert torch.equal(start.model.memory_layers[0].keys, after.model.memory_layers[0].keys)
    assert not torch.equal(after.model.memory_layers[0].keys, clustered.model.memory_layers[0].keys)


def test_without_the_clustering_loss_the_batches_train_the_keys(tiny_dataset):
    """The Fig. 4 ablation (`--no-clustering`): no epoch-end phase, and the supervised loss
    moves the keys, which it never does with the clustering loss on (the test above)."""
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    group = TaskGroup("tiny", [0, 1], data, data, data)
    config = TrainConfig(hidden=32, keys="6,1", heads=2, query_layers=2, batch_size=8, max_epochs=2, patience=2, learning_rate=3e-3,
                         clustering=False, clustering_learning_rate=0.0)
    start = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification",
                  TrainConfig(**{**config.to_dict(), "max_epochs": 1, "learning_rate": 0.0}), torch.device("cpu"), kind="memgnn")
    after = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind="memgnn")
    assert not torch.equal(start.model.memory_layers[0].keys, after.model.memory_layers[0].keys)
    assert config.hyperparameters("memgnn")["clustering"] is False  # what the card records


@pytest.mark.parametrize("kind, config, hyperparameters, name", [
    ("memgnn", {}, {}, "memgnn"),
    ("memgnn", {"edge_attention": False}, {}, "memgnn-gat"),
    ("memgnn", {}, {"clustering": False}, "memgnn-noclustering"),
    ("gmn", {"topology": "adjacency"}, {}, "gmn-adjacency"),
    ("gmn", {"topology": "normalized-adjacency"}, {"clustering": False}, "gmn-normalized-adjacency-noclustering"),
])
def test_an_ablation_has_a_benchmark_name_of_its_own(kind, config, hyperparameters, name):
    """Ablation runs must not land in the paper design's results files."""
    card = Card(kind, MolGraphFeaturizer.version, ["y"], "regression", config={"kind": kind, **config}, hyperparameters=hyperparameters)
    assert benchmark_name(card) == name
