"""Training on a tiny fixture learns; checkpoints round-trip; the predict CLI writes every row."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem

from molapp.cli import predict as predict_cli
from molapp.chem.io import read_smiles_file
from molapp.cli.train import write_results
from molapp.data.collate import collate
from molapp.data.dataset import LabelledMolecules
from molapp.evaluation.provenance import provenance
from molapp.featurizers.descriptors import ALL_RDKIT_DESCRIPTORS_VERSION, DESCRIPTOR_SETS, DESCRIPTORS_VERSION
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, FEATURIZER_VERSION, NUM_RELATIONS
from molapp.featurizers.fingerprints import TanimotoReference
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint, save_checkpoint
from molapp.metrics import per_task_metrics
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.training.trainer import TaskGroup, TrainConfig, positive_weights, train

from .conftest import FIXTURES, RULE_TASKS, rule_group


def tiny_run(tiny_dataset, epochs: int):
    rows = np.arange(len(tiny_dataset))
    data = tiny_dataset.subset(rows)
    group = TaskGroup("tiny", [0, 1], data, data, data)
    config = TrainConfig(hidden=32, hops=3, batch_size=8, max_epochs=epochs, patience=epochs, learning_rate=3e-3)
    return train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"))


# A model that knows nothing of the molecules scores ROC-AUC 0.5 on average; on the 80
# held-out rows of `rule_parts` its mean over the two rule tasks has a standard deviation of
# about 0.07 (Mann-Whitney: ~7 of 80 without nitrogen, ~25 with a halogen), so 0.8 is over
# four standard deviations above chance.
HELD_OUT_BAR = 0.8
RULES_CONFIG = dict(hidden=32, hops=3, dropout=0.0, batch_size=16, max_epochs=10, patience=10, learning_rate=1e-2)


@pytest.mark.slow
def test_graphmem_learns_rules_scored_on_held_out_molecules(rule_parts):
    group = rule_group(rule_parts, RULE_TASKS)
    result = train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", TrainConfig(**RULES_CONFIG), torch.device("cpu"))
    assert result.metrics["test"]["rules"]["mean"] > HELD_OUT_BAR  # the test part: molecules training never saw
    assert result.best_epoch >= 1 and result.train_seconds > 0


def test_training_refuses_a_validation_part_it_cannot_score(tiny_dataset):
    """A validation part with one class only has no ROC-AUC: training says so instead of
    failing with a stack trace."""
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    one_class = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    one_class.labels = np.ones_like(one_class.labels)
    group = TaskGroup("tiny", [0, 1], data, one_class, data)
    config = TrainConfig(hidden=16, hops=2, batch_size=8, max_epochs=2, patience=2)
    with pytest.raises(ValueError, match="validation roc_auc"):
        train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"))


@pytest.mark.slow
def test_regression_learns_the_aromatic_share_of_held_out_molecules(rule_parts):
    """Standardized targets in training, the target's own units out: held-out RMSE far below
    the spread of the held-out values (what predicting their mean would score)."""
    group = rule_group(rule_parts, ["aromatic_fraction"])
    config = TrainConfig(**{**RULES_CONFIG, "max_epochs": 15, "patience": 15})
    result = train([group], 1, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "regression", config, torch.device("cpu"))
    spread = float(np.std(group.test.labels[:, 0]))
    assert result.metrics["test"]["rules"]["aromatic_fraction"] < 0.3 * spread


def test_metrics_mask_missing_labels():
    labels = np.array([[1, np.nan], [0, 1], [1, 0], [0, np.nan]], dtype=np.float32)
    predictions = np.array([[0.9, 0.0], [0.1, 0.8], [0.8, 0.3], [0.2, 0.99]], dtype=np.float32)
    scores = per_task_metrics(labels, predictions, ["a", "b"], "classification")
    assert scores["a"] == 1.0 and scores["b"] == 1.0 and scores["mean"] == 1.0


def make_checkpoint(tiny_dataset, directory):
    result = tiny_run(tiny_dataset, epochs=3)
    card = Card("graphmem", FEATURIZER_VERSION, ["has_N", "aromatic"], "classification", dataset="tiny", metric="roc_auc",
                split="random", metrics={"test": {"mean": 0.5}, "valid": {"mean": 0.5}}, train_seconds=1.0)
    model = PredictionModel(result.model, Sigmoid())
    save_checkpoint(directory, model, card)
    DomainIndex.build(tiny_dataset.smiles, tiny_dataset.labels, card.tasks).save(directory)
    return model


def test_checkpoint_round_trip_predicts_identically(tiny_dataset, tmp_path):
    model = make_checkpoint(tiny_dataset, tmp_path / "ck")
    loaded, card = load_checkpoint(tmp_path / "ck")
    assert card.config["hidden"] == 32
    assert not any(p.suffix in {".pt", ".pkl", ".pickle"} for p in (tmp_path / "ck").iterdir())
    predictor = Predictor(loaded, card, torch.device("cpu"))
    original = Predictor(model, card, torch.device("cpu"))
    a = predictor.predict(tiny_dataset.smiles).values
    b = original.predict(tiny_dataset.smiles).values
    assert np.array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()


def test_domain_index_finds_itself(tiny_dataset, tmp_path):
    make_checkpoint(tiny_dataset, tmp_path / "ck")
    index = DomainIndex.load(tmp_path / "ck")
    nearest = index.nearest("CC(=O)Oc1ccccc1C(=O)O", k=2)
    assert nearest[0].smiles == "CC(=O)Oc1ccccc1C(=O)O" and nearest[0].similarity == 1.0
    assert nearest[1].similarity < 1.0
    similarity = index.max_similarity(["CC(=O)Oc1ccccc1C(=O)O", "[Si](C)(C)(C)C"])
    assert similarity[0] == 1.0 and similarity[1] < 0.3


def test_size_batches_bound_the_padded_atoms():
    """Every molecule in exactly one batch, batches sorted by size, and a batch of large
    molecules holds fewer of them: at most batch_size × PADDED_ATOMS_PER_MOLECULE atoms padded."""
    from types import SimpleNamespace

    from molapp.models.batching import PADDED_ATOMS_PER_MOLECULE, size_batches

    sizes = [*np.random.default_rng(0).integers(1, 40, 500).tolist(), 180, 250, 240, 0, 1]
    batches = size_batches([SimpleNamespace(num_atoms=n) for n in sizes], 16)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(sizes)))
    for batch in batches:
        assert 1 <= len(batch) <= 16
        assert len(batch) * max(max(sizes[i] for i in batch), 1) <= 16 * PADDED_ATOMS_PER_MOLECULE
    assert len(batches[-1]) < 16  # the largest molecules: fewer per batch
    assert size_batches([], 16) == []


def test_tanimoto_matches_rdkit():
    """The sparse bit-sum similarity is RDKit's Tanimoto, for every pair (an all-zero
    fingerprint, a failed row's, has similarity 0 to everything)."""
    from rdkit import DataStructs

    from molapp.featurizers.fingerprints import _domain_generator, fingerprints

    smiles = pd.read_csv(FIXTURES / "ladder" / "bbbp.csv")["smiles"].tolist()[:60]
    mols = [m for m in map(Chem.MolFromSmiles, smiles) if m is not None]
    canonical = [Chem.MolToSmiles(m) for m in mols]
    reference = TanimotoReference(fingerprints(canonical[20:]))
    ours = reference.similarity(fingerprints(canonical[:20] + ["not a smiles"])).numpy()
    bit_vectors = [_domain_generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in canonical]
    for i in range(20):
        expected = DataStructs.BulkTanimotoSimilarity(bit_vectors[i], bit_vectors[20:])
        assert np.allclose(ours[i], expected, atol=1e-6)
    assert (ours[20] == 0).all()


def test_the_dense_tanimoto_kernel_and_the_sparse_search_agree():
    """The baselines' kernel (dense, unpacked bits) and the domain's search (sparse, packed)
    are the same Tanimoto, except on two all-zero rows (kernel 1, search 0)."""
    from molapp.featurizers.fingerprints import fingerprints, tanimoto_kernel

    smiles = pd.read_csv(FIXTURES / "ladder" / "bbbp.csv")["smiles"].tolist()[:40]
    canonical = [Chem.MolToSmiles(m) for m in map(Chem.MolFromSmiles, smiles) if m is not None]
    packed = fingerprints(canonical)
    dense = tanimoto_kernel(np.unpackbits(packed[:15], axis=1), np.unpackbits(packed[15:], axis=1))
    assert dense.min() < 0.5  # not all alike
    assert np.allclose(TanimotoReference(packed[15:]).similarity(packed[:15]).numpy(), dense, atol=1e-6)


@pytest.mark.parametrize("workers", ["0", "2"])  # in-process, and worker processes scoring chunks
def test_predict_cli_writes_every_row(tiny_dataset, tmp_path, capsys, workers):
    make_checkpoint(tiny_dataset, tmp_path / "ck")
    out = tmp_path / "out.csv"
    code = predict_cli.main([
        "--checkpoint", str(tmp_path / "ck"), "--input", str(FIXTURES / "bad_rows.smi"), "--output", str(out),
        "--tasks", "aromatic", "--chunk-size", "3", "--workers", workers,
    ])
    assert code == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0].keys()) == ["row", "id", "smiles", "canonical_smiles", "status", "error", "changes", "aromatic"]
    assert [r["row"] for r in rows] == [str(i) for i in range(9)]
    assert [r["status"] for r in rows] == ["ok", "error", "error", "error", "error", "error", "error", "ok", "ok"]
    assert all((r["error"] == "") == (r["status"] == "ok") for r in rows)
    assert all((r["aromatic"] == "") == (r["status"] == "error") for r in rows)
    assert "CPU" in capsys.readouterr().err
    direct = Predictor.load(tmp_path / "ck", "cpu").predict([r["smiles"] for r in rows], ["aromatic"]).values[:, 0]
    written = np.array([float(r["aromatic"]) if r["aromatic"] else np.nan for r in rows])
    assert np.allclose(written, direct, atol=1e-5, equal_nan=True)  # the CLI's numbers are the API's


def test_predict_cli_with_a_memgnn_checkpoint(tiny_memgnn_checkpoint, tmp_path):
    out = tmp_path / "out.csv"
    code = predict_cli.main(["--checkpoint", str(tiny_memgnn_checkpoint), "--input", str(FIXTURES / "bad_rows.smi"),
                             "--output", str(out), "--workers", "0"])
    assert code == 0
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9 and list(rows[0])[-2:] == ["has_N", "aromatic"]
    direct = Predictor.load(tiny_memgnn_checkpoint, "cpu").predict([r["smiles"] for r in rows]).values
    written = np.array([[float(r[t]) if r[t] else np.nan for t in ("has_N", "aromatic")] for r in rows])
    assert np.allclose(written, direct, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("version", [DESCRIPTORS_VERSION, ALL_RDKIT_DESCRIPTORS_VERSION])
def test_graphmem_with_descriptors_trains_saves_and_predicts_through_every_path(tiny_dataset, tmp_path, version):
    """A GraphMem that reads descriptors (the 70, or all of RDKit's): training sets z(d)'s
    scale from the training molecules and the model's width from theirs, the scale travels in
    the weights, and the Predictor, the predict CLI and triage featurize its inputs with the
    same descriptors without being told."""
    from molapp.data.featurize import featurize_smiles
    from molapp.inference import triage

    data = LabelledMolecules(tiny_dataset.spec, tiny_dataset.rows, tiny_dataset.smiles, tiny_dataset.labels,
                             featurize_smiles(tiny_dataset.smiles, descriptors=version))
    config = TrainConfig(hidden=16, hops=2, batch_size=8, max_epochs=2, patience=2, descriptors=True)
    result = train([TaskGroup("tiny", [0, 1], data, data, data)], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification",
                   config, torch.device("cpu"))
    training = np.stack([m.graph.descriptors for m in data.molecules])
    assert np.allclose(result.model.descriptor_mean.numpy(), training.mean(0), rtol=1e-4, atol=1e-3)
    card = Card("graphmem", FEATURIZER_VERSION, ["has_N", "aromatic"], "classification", dataset="tiny", metric="roc_auc",
                split="random", descriptors=version, metrics={"test": {"mean": 0.5}, "valid": {"mean": 0.5}}, train_seconds=1.0)
    trained = PredictionModel(result.model, Sigmoid())
    save_checkpoint(tmp_path / "ck", trained, card)
    DomainIndex.build(tiny_dataset.smiles, tiny_dataset.labels, card.tasks).save(tmp_path / "ck")

    predictor = Predictor.load(tmp_path / "ck", "cpu")
    assert predictor.descriptors == version and predictor.card.config["descriptor_dim"] == DESCRIPTOR_SETS[version].dim
    assert torch.equal(predictor.model.network.descriptor_std, result.model.descriptor_std)
    direct = predictor.predict(tiny_dataset.smiles).values
    assert np.array_equal(direct, Predictor(trained, predictor.card, torch.device("cpu")).predict(tiny_dataset.smiles).values)

    out = tmp_path / "out.csv"
    assert predict_cli.main(["--checkpoint", str(tmp_path / "ck"), "--input", str(FIXTURES / "tiny_molecules.smi"),
                             "--output", str(out), "--workers", "0"]) == 0
    written = pd.read_csv(out)[["has_N", "aromatic"]].to_numpy()
    assert np.allclose(written, direct, atol=1e-5)
    rows = list(read_smiles_file(FIXTURES / "tiny_molecules.smi"))
    table = triage.score(predictor, DomainIndex.load(tmp_path / "ck"), rows, workers=1)
    assert np.allclose(table[["has_N", "aromatic"]].to_numpy(dtype=float), direct, atol=1e-5)

    with pytest.raises(ValueError, match="featurize with the card.s descriptor set"):  # a graph without them cannot be read
        result.model(collate([m.graph for m in featurize_smiles(["CCO"])]))


def test_predict_cli_rejects_unknown_task(tiny_dataset, tmp_path, capsys):
    make_checkpoint(tiny_dataset, tmp_path / "ck")
    code = predict_cli.main(["--checkpoint", str(tmp_path / "ck"), "--input", str(FIXTURES / "bad_rows.smi"), "--output", str(tmp_path / "o.csv"), "--tasks", "NR-AR"])
    assert code == 2 and "unknown task(s) NR-AR" in capsys.readouterr().err


def test_results_file_format(tmp_path):
    card = Card("graphmem", FEATURIZER_VERSION, ["NR-AR"], "classification", dataset="tox21", split="scaffold", seed=0,
                metric="roc_auc", train_seconds=12.0)
    by_group = {"test": {"tox21": {"NR-AR": 0.8, "mean": 0.8}}, "valid": {"tox21": {"NR-AR": 0.7, "mean": 0.7}}}
    run = provenance(12.5, "python -m molapp.train --dataset tox21")
    (path,) = write_results(card, tmp_path, by_group, run)
    record = json.loads(path.read_text())
    assert path.name == "graphmem-tox21-scaffold-seed0.json"
    assert {"model", "dataset", "split", "seed", "metric", "test", "per_task", "valid", "train_seconds", "provenance"} <= set(record)
    assert record["provenance"] == run and {"command", "commit", "packages", "machine", "wall_seconds", "date"} <= set(run)
    assert record["per_task"] == {"NR-AR": 0.8} and record["test"] == 0.8
    with_descriptors = dataclasses.replace(card, config={"descriptor_dim": 70})  # GraphMem reading descriptors is its own ladder row
    (path,) = write_results(with_descriptors, tmp_path, by_group, run)
    assert path.name == "graphmem-descriptors-tox21-scaffold-seed0.json" and json.loads(path.read_text())["model"] == "graphmem-descriptors"
    sqrt_weights = dataclasses.replace(with_descriptors, hyperparameters={"positive_weighting": "sqrt"})  # and so is a different loss
    (path,) = write_results(sqrt_weights, tmp_path, by_group, run)
    assert path.name == "graphmem-descriptors-sqrt-tox21-scaffold-seed0.json"
    plain_bce = dataclasses.replace(with_descriptors, hyperparameters={"positive_weighting": "unweighted"})
    (path,) = write_results(plain_bce, tmp_path, by_group, run)
    assert path.name == "graphmem-descriptors-unweighted-tox21-scaffold-seed0.json"
    all_of_rdkits = dataclasses.replace(with_descriptors, descriptors=ALL_RDKIT_DESCRIPTORS_VERSION)  # the other descriptor set
    (path,) = write_results(all_of_rdkits, tmp_path, by_group, run)
    assert path.name == "graphmem-descriptors-all-tox21-scaffold-seed0.json"


def test_batches_never_end_with_a_single_molecule():
    from molapp.data.collate import training_batches

    assert [len(b) for b in training_batches(np.arange(129), 64)] == [64, 65]
    assert [len(b) for b in training_batches(np.arange(130), 64)] == [64, 64, 2]
    assert [len(b) for b in training_batches(np.arange(1), 64)] == [1]
    assert np.array_equal(np.concatenate(training_batches(np.arange(129), 64)), np.arange(129))


def test_size_pools_batch_similar_sizes_and_cover_every_molecule():
    from molapp.data.collate import training_batches
    from molapp.training.trainer import epoch_batches

    sizes = np.random.default_rng(1).integers(5, 120, size=1000)
    plain = epoch_batches(sizes, 32, 0, np.random.default_rng(0))
    # No pools: exactly the plain shuffled batches (existing cards' commands reproduce).
    assert all(np.array_equal(a, b) for a, b in zip(plain, training_batches(np.random.default_rng(0).permutation(1000), 32)))
    pooled = epoch_batches(sizes, 32, 8, np.random.default_rng(0))
    assert np.array_equal(np.sort(np.concatenate(pooled)), np.arange(1000))
    padding = lambda bs: sum(len(b) * sizes[b].max() ** 2 for b in bs)  # noqa: E731 - padded n² attention cost
    assert padding(pooled) < 0.6 * padding(plain)


def test_cards_list_only_the_hyperparameters_their_model_uses():
    from dataclasses import fields

    from molapp.models.registry import MODEL_KINDS

    config = TrainConfig()
    transfer = config.hyperparameters("transfer")
    assert {"transfer_dim", "gcn_layers", "learning_rate", "seed"} <= set(transfer) and not {"hops", "keys", "variant"} & set(transfer)
    used = set().union(*(config.hyperparameters(kind) for kind in MODEL_KINDS))
    assert used == {f.name for f in fields(TrainConfig)}  # every option belongs to some model or to training


def test_positive_weights_balance_each_task_or_take_the_square_root(tiny_dataset):
    """pos_weight = negatives/positives per task among the measured training labels (a missing
    label counts as neither), clipped to [1, 50]; "sqrt" is its square root; "unweighted" is 1."""
    data = tiny_dataset.subset(np.arange(len(tiny_dataset)))
    data.labels = np.full((len(data), 2), np.nan, dtype=np.float32)
    data.labels[:10, 0] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # 9 negatives per positive
    data.labels[:4, 1] = [1, 1, 1, 0]  # more positives than negatives: clipped up to 1
    group = TaskGroup("tiny", [0, 1], data, data, data)
    balanced = positive_weights([group], 2, "balanced")
    assert balanced.tolist() == pytest.approx([9.0, 1.0])
    assert positive_weights([group], 2, "sqrt").tolist() == pytest.approx([3.0, 1.0])
    assert positive_weights([group], 2, "unweighted").tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="positive weighting"):
        positive_weights([group], 2, "inverse")


def test_a_descriptor_set_needs_descriptors(tmp_path, capsys):
    from molapp.cli import train as train_cli

    with pytest.raises(SystemExit) as stopped:
        train_cli.main(["--dataset", "bbbp", "--descriptor-set", "rdkit-all", "--out", str(tmp_path / "ck")])
    assert stopped.value.code == 2 and "--descriptor-set chooses what --descriptors reads" in capsys.readouterr().err
def test_the_halving_schedule_halves_the_learning_rate_every_period_after_the_warm_up():
    from molapp.training.trainer import _lr_factor

    warmup, period = 10, 100
    assert _lr_factor(0, warmup, 10_000, period) == pytest.approx(0.1)
    assert [_lr_factor(warmup + k, warmup, 10_000, period) for k in (0, 99, 100, 250, 499, 500)] == [1.0, 1.0, 0.5, 0.25, 0.0625, 0.03125]
    assert _lr_factor(warmup + 4_995, warmup, 10_000) == pytest.approx(0.525)  # cosine: half-way is half-way down to 0.05
