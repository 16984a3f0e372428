"""GraphMem: gradients flow, attention is a distribution, atom order does not matter,
batched queries equal one query at a time, and batching does not change a molecule."""

from __future__ import annotations

import torch

from molapp.data.collate import collate
from molapp.data.featurize import featurize_smiles

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


def test_query_steers_attention(small_model):
    out = small_model(batch_of(SMILES[:1]), torch.tensor([0, 1]), return_attention=True)
    assert not torch.allclose(out.attention[..., 0], out.attention[..., 1])


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
