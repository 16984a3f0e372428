"""GraSeq (graph encoder, BiLSTM over the atoms in SMILES order, fusion gate, variational
SMILES decoder): every variant trains, the gate mixes h_G and h_S as Eq. 5 says, the
canonical SMILES order makes predictions independent of atom numbering, checkpoints round
trip, and a training run anneals the KL weight to 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from molapp.data.collate import collate
from molapp.data.featurize import featurize_smiles
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS, MolGraphFeaturizer
from molapp.inference.predictor import Predictor, predict_graphs
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint, save_checkpoint
from molapp.models.graseq import VARIANTS, GraSeq, GraSeqConfig, kl_anneal_weight
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.models.registry import architecture_summary, explanation_kind
from molapp.nn.graseq import FusionGate, GraphSAGELayer
from molapp.training.trainer import TaskGroup, TrainConfig, train

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "C", "c1ccc2ccccc2c1", "C[C@H](N)C(=O)O"]


def make_model(variant: str, num_tasks: int = 3) -> GraSeq:
    torch.manual_seed(0)
    return GraSeq(GraSeqConfig(ATOM_DIM, num_tasks, variant=variant, hidden=16, graph_layers=2, lstm_hidden=8, latent=8, decoder_hidden=16, dropout=0.0)).eval()


def batch_of(smiles):
    return collate([m.graph for m in featurize_smiles(smiles)])


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_backward_every_variant(variant, tiny_dataset):
    model = make_model(variant, num_tasks=2).train()
    batch = collate(tiny_dataset.graphs[:8])
    out = model(batch, torch.tensor([1]), return_embedding=True, return_fusion=True, kl_weight=0.3)
    config = model.config
    assert out.logits.shape == (8, 1) and out.embedding.shape == (8, 16)
    for reads, readout in ((config.reads_graph, out.graph_embedding), (config.reads_sequence, out.sequence_embedding)):
        assert readout.shape == (8, 16) if reads else readout is None
    assert out.auxiliary_loss.dim() == 0 and torch.isfinite(out.auxiliary_loss)
    if variant in ("r", "rf"):
        assert out.auxiliary_loss > 0 and out.reconstruction_loss > 0 and out.kl_loss >= 0
    else:
        assert out.auxiliary_loss == 0 and out.reconstruction_loss is None
    assert (out.gate is None) == (variant not in ("f", "rf"))
    (out.logits.sum() + out.auxiliary_loss).backward()
    unused = {"head.3.bias", "head.3.weight"}  # only task 1's row is queried; task 0's gets a zero gradient
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if name not in unused and not name.startswith("decoder.embed"):
            assert p.grad.abs().sum() > 0, name


def test_prediction_never_runs_the_decoder():
    model = make_model("rf")
    out = model(batch_of(SMILES))
    assert out.auxiliary_loss == 0 and out.reconstruction_loss is None  # eval mode
    asked = model(batch_of(SMILES), reconstruct=True, kl_weight=0.0)
    assert asked.auxiliary_loss > 0
    assert torch.equal(asked.auxiliary_loss, model(batch_of(SMILES), reconstruct=True, kl_weight=0.0).auxiliary_loss)  # z = μ in eval


@pytest.mark.parametrize("variant", ["f", "rf"])
def test_gate_mixes_graph_and_sequence(variant):
    model = make_model(variant)
    out = model(batch_of(SMILES), return_embedding=True, return_fusion=True)
    assert ((out.gate > 0) & (out.gate < 1)).all()
    mixed = out.gate * out.graph_embedding + (1 - out.gate) * out.sequence_embedding
    assert torch.allclose(out.embedding, mixed, atol=1e-6)


def test_without_fusion_the_molecule_is_the_sequence_readout():
    out = make_model("plain")(batch_of(SMILES), return_embedding=True, return_fusion=True)
    assert out.gate is None
    assert torch.equal(out.embedding, out.sequence_embedding)


def test_the_single_reading_models_read_only_their_own_input():
    """GraphSAGE alone ignores the SMILES order; the BiLSTM alone ignores the bonds (its atoms
    pass no messages); either two-reading model depends on both."""
    batch = batch_of(SMILES)
    shuffled = batch.clone()
    shuffled.smiles_order = torch.cat([torch.flip(batch.smiles_order[a:b], [0])  # each molecule's sequence read backwards
                                       for a, b in zip(batch.ptr[:-1].tolist(), batch.ptr[1:].tolist())])
    unbonded = batch.clone()
    unbonded.edge_index = batch.edge_index[:, :0]
    unbonded.edge_type = batch.edge_type[:0]
    with torch.no_grad():
        outputs = {variant: [make_model(variant)(b).logits for b in (batch, shuffled, unbonded)] for variant in ("graph", "sequence", "f")}
    graph, sequence, both = outputs["graph"], outputs["sequence"], outputs["f"]
    assert torch.equal(graph[0], graph[1]) and not torch.allclose(graph[0], graph[2])
    assert torch.equal(sequence[0], sequence[2]) and not torch.allclose(sequence[0], sequence[1])
    assert not torch.allclose(both[0], both[1]) and not torch.allclose(both[0], both[2])
    assert not make_model("graph").config.reconstruction  # "graph" holds an r: flags come from the variant, not its letters


def test_variants_have_their_own_benchmark_names_and_map_views():
    from molapp.models.registry import model_spec

    spec = model_spec("graseq")
    assert [spec.ablation_suffix({"variant": v}, {}) for v in VARIANTS] == ["-plain", "", "-r", "-rf", "-graph", "-sequence"]
    assert spec.embedding_views({"variant": "rf"}) == ("", "graph", "sequence")
    assert spec.embedding_views({"variant": "sequence"}) == ("",)
    assert spec.summary({"variant": "graph", "hidden": 16, "graph_layers": 2, "lstm_hidden": 8}).startswith("GraphSAGE alone")


def test_graphsage_node_states_are_unit_vectors():
    torch.manual_seed(0)
    layer = GraphSAGELayer(5, 7)
    h = torch.randn(4, 5)
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # atom 3 has no bonds
    out = layer(h, edge_index, torch.tensor([1.0, 1.0, 2.0, 2.0]))
    assert torch.allclose(out.norm(dim=-1), torch.ones(4), atol=1e-5)


def test_checkpoint_round_trip_and_prediction(tmp_path):
    model = make_model("rf", num_tasks=2)
    card = Card("graseq", MolGraphFeaturizer.version, ["a", "b"], "classification")
    save_checkpoint(tmp_path / "ck", PredictionModel(model, Sigmoid()), card)
    loaded, loaded_card = load_checkpoint(tmp_path / "ck")
    assert loaded_card.config["variant"] == "rf"
    assert explanation_kind("graseq") == "fusion"
    assert architecture_summary(loaded_card).startswith("GraSeq-RF")
    batch = batch_of(SMILES)
    assert torch.equal(model(batch).logits, loaded.network(batch).logits)
    prediction = Predictor(loaded, loaded_card, torch.device("cpu")).predict(SMILES + ["not a smiles"], tasks=["b"])
    assert prediction.values.shape == (7, 1) and np.isnan(prediction.values[-1]).all()
    assert np.allclose(prediction.values[:-1, 0], torch.sigmoid(model(batch).logits[:, 1]).detach().numpy(), atol=1e-6)
    predicted = predict_graphs(loaded, [m.graph for m in featurize_smiles(SMILES)], embedding_view="")
    assert predicted.values.shape == (6, 2) and predicted.embeddings.shape == (6, 16)


def test_kl_weight_anneals_to_one():
    assert kl_anneal_weight(1, TrainConfig(max_epochs=10)) == pytest.approx(0.2)  # the paper's 2/epochs per epoch
    assert kl_anneal_weight(5, TrainConfig(max_epochs=10)) == 1.0
    assert kl_anneal_weight(9, TrainConfig(max_epochs=10)) == 1.0
    assert kl_anneal_weight(2, TrainConfig(kl_anneal_epochs=4)) == 0.5


def test_two_epochs_of_graseq_rf(tiny_dataset):
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    group = TaskGroup("tiny", [0, 1], data, data, data)
    config = TrainConfig(hidden=16, variant="rf", graph_layers=2, lstm_hidden=8, batch_size=8, max_epochs=2, patience=2, kl_anneal_epochs=2)
    result = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind="graseq")
    assert [h["kl_weight"] for h in result.history] == [0.5, 1.0]
    assert all(math.isfinite(h["loss"]) and h["auxiliary_loss"] > 0 for h in result.history)
    assert result.model.config.variant == "rf" and not result.model.training


@pytest.mark.parametrize("informative", ["graph", "sequence"])
def test_fusion_gate_leans_toward_the_informative_input(informative):
    """The gate F (Eq. 4-5) is per dimension: trained where the label is the sign of one
    embedding's first dimension and the other embedding is noise, F on that dimension moves
    from about 0.5 to the informative input (past 0.8 for the graph, F → 1; under 0.2 for the
    sequence, F → 0) on held-out rows, and what it feeds predicts them (chance: 0.5 ± 0.035)."""
    torch.manual_seed(0)
    size, rows = 8, 600
    signal, noise = torch.randn(rows, size), torch.randn(rows, size)
    label = (signal[:, 0] > 0).float()
    graph, sequence = (signal, noise) if informative == "graph" else (noise, signal)
    gate_layer, head = FusionGate(size), torch.nn.Linear(size, 1)
    optimizer = torch.optim.Adam([*gate_layer.parameters(), *head.parameters()], lr=3e-2)
    train_rows, held_out = slice(0, 400), slice(400, rows)
    with torch.no_grad():
        start = gate_layer(graph[held_out], sequence[held_out])[1][:, 0].mean().item()
    for _ in range(600):
        fused, _ = gate_layer(graph[train_rows], sequence[train_rows])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(fused)[:, 0], label[train_rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        fused, gate = gate_layer(graph[held_out], sequence[held_out])
        accuracy = ((head(fused)[:, 0] > 0).float() == label[held_out]).float().mean().item()
    assert abs(start - 0.5) < 0.15 and accuracy > 0.8
    if informative == "graph":
        assert gate[:, 0].mean().item() > 0.8
    else:
        assert gate[:, 0].mean().item() < 0.2
