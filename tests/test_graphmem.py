"""GraphMem: gradients flow, attention is a distribution, atom order does not matter,
batched queries equal one query at a time, and batching does not change a molecule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molapp.data.collate import collate
from molapp.data.featurize import featurize_smiles
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.training.trainer import TrainConfig, train

from .conftest import rule_group
from .rescoring import roc_auc

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "C#N", "c1ccc2ccccc2c1"]


def batch_of(smiles):
    return collate([m.graph for m in featurize_smiles(smiles)])


def test_forward_backward(small_model):
    small_model.train()
    batch = batch_of(SMILES)
    out = small_model(batch)
    assert out.logits.shape == (5, 3)
    out.logits.sum().backward()
    grads = {name: p.grad for name, p in small_model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert grads["hop.neighbourhood.relation_scale"].abs().sum() > 0  # the memory graph is used


def test_attention_is_a_distribution_per_molecule_hop_and_query(small_model):
    batch = batch_of(SMILES)
    out = small_model(batch, torch.tensor([2, 0]), return_attention=True, return_embedding=True)
    hops, atoms, queries = out.attention.shape
    assert (hops, atoms, queries) == (4, batch.x.shape[0], 2)
    sums = torch.zeros(hops, 5, queries).index_add_(1, batch.batch, out.attention)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)
    assert out.embedding.shape == (5, 2, 16)


@pytest.mark.slow
def test_each_task_query_reads_out_its_own_task_on_held_out_molecules(rule_parts):
    """Trained on two rules (has a sulfur; has a halogen: about as common, independent),
    each task query's prediction ranks held-out molecules by its own rule, not the other's:
    the query steers what the controller reads."""
    group = rule_group(rule_parts, ["has_S", "has_halogen"])
    config = TrainConfig(hidden=32, hops=3, dropout=0.0, batch_size=16, max_epochs=10, patience=10, learning_rate=1e-2)
    model = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu")).model
    with torch.no_grad():
        logits = model(collate(group.test.graphs), torch.tensor([0, 1])).logits.numpy().astype(np.float64)
    labels = group.test.labels.astype(np.float64)
    own = [roc_auc(labels[:, q], logits[:, q]) for q in (0, 1)]
    other = [roc_auc(labels[:, 1 - q], logits[:, q]) for q in (0, 1)]
    assert min(own) > 0.7
    assert own[0] > other[0] + 0.15 and own[1] > other[1] + 0.15


def test_batched_queries_equal_one_query_at_a_time(small_model):
    batch = batch_of(SMILES)
    together = small_model(batch, torch.tensor([0, 1, 2]), return_attention=True)
    for q in range(3):
        alone = small_model(batch, torch.tensor([q]), return_attention=True)
        assert torch.allclose(together.logits[:, q], alone.logits[:, 0], atol=1e-5)
        assert torch.allclose(together.attention[..., q], alone.attention[..., 0], atol=1e-6)


def test_molecule_alone_equals_molecule_in_batch(small_model):
    together = small_model(batch_of(SMILES)).logits
    for i, smiles in enumerate(SMILES):
        assert torch.allclose(small_model(batch_of([smiles])).logits[0], together[i], atol=1e-5)


def test_skipping_the_last_memory_write_changes_nothing(small_model):
    """The last hop does not write the memory (nothing reads it afterwards): the logits and
    attention are those of T hops that all write it."""
    from molapp.nn.graphmem import RelationalNeighbourhood

    batch = batch_of(["CCO", "c1ccccc1N", "CC(=O)Oc1ccccc1C(=O)O"])
    out = small_model(batch, return_attention=True)
    model, hops = small_model, small_model.config.hops
    num_graphs, num_atoms = 3, batch.x.shape[0]
    weights = RelationalNeighbourhood.edge_weights(batch.edge_index, batch.edge_type, num_atoms, model.config.num_relations)
    bond_context = model.hop.neighbourhood.bond_context(batch.edge_attr, batch.edge_index, batch.edge_type, weights, num_atoms)
    memory = torch.relu(model.atom_encoder(batch.x)).unsqueeze(1)
    controller = torch.relu(model.query_encoder(torch.arange(model.config.num_tasks))).unsqueeze(0).expand(num_graphs, -1, -1)
    attention = []
    for _ in range(hops):
        memory, controller, p = model.hop(memory, controller, bond_context, batch.edge_index, batch.edge_type, weights, batch.batch, num_graphs)
        attention.append(p)
    logits = (torch.relu(model.output_hidden(controller)) * model.task_weights).sum(-1) + model.task_bias
    assert torch.allclose(out.logits, logits, atol=1e-6)
    assert torch.allclose(out.attention, torch.stack(attention), atol=1e-7)
