"""Deployment models (trained on every labelled row, figures from the same recipe's split
models) and calls (base rate, lift, default thresholds chosen on valid, approved-drug
percentiles, measured labels)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from molapp.cli import calls as calls_cli
from molapp.cli import ensemble as ensemble_cli
from molapp.cli import train as train_cli
from molapp.data.featurize import featurize_smiles
from molapp.data.splits import dataset_split
from molapp.inference.calls import TaskCalls, base_rates, max_f1_threshold
from molapp.inference.domain import DomainIndex
from molapp.models.checkpoint import read_card
from molapp.models.registry import architecture_summary, is_assembled

from .conftest import CHECKPOINTS, FIXTURES

DATA = FIXTURES / "ladder"  # 60-row bbbp with its scaffold split, 40-row clintox (30 approved)
RECIPE = ["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "gcn", "--hidden", "16", "--max-epochs", "3",
          "--no-early-stopping", "--threads", "1", "--workers", "1"]


def _train(out, split: str, seed: int, *extra: str) -> int:
    return train_cli.main([*RECIPE, "--split", split, "--seed", str(seed), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A deployment ensemble of two members trained on every row, its scaffold-split estimate."""
    root = tmp_path_factory.mktemp("deploy")
    for seed in (0, 1):
        assert _train(root / f"all{seed}", "all", seed) == 0
        assert _train(root / f"scaffold{seed}", "scaffold", seed) == 0
    assert ensemble_cli.main(["--members", f"{root / 'scaffold0'},{root / 'scaffold1'}", "--out", str(root / "estimate"),
                              "--data-dir", str(DATA)]) == 0
    assert ensemble_cli.main(["--members", f"{root / 'all0'},{root / 'all1'}", "--out", str(root / "deployment"), "--data-dir", str(DATA),
                              "--estimate", str(root / "estimate"), "--results-dir", str(root / "results")]) == 0
    return root


def test_split_all_puts_every_row_in_train():
    smiles = ["C", "CC", "CCC"]
    parts, source = dataset_split("bbbp", "all", smiles, DATA)
    assert (parts.train, parts.valid, parts.test) == ([0, 1, 2], [], []) and "all rows" in source
    with pytest.raises(ValueError, match="split 'nonsense'"):
        dataset_split("bbbp", "nonsense", smiles, DATA)


def test_split_all_needs_a_fixed_number_of_epochs(tmp_path):
    with pytest.raises(SystemExit):
        train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "gcn", "--split", "all", "--out", str(tmp_path / "x")])


@pytest.mark.slow
def test_a_model_trained_on_every_row_runs_its_epochs_and_keeps_the_last(deployment):
    card = read_card(deployment / "all0")
    rows = sum(1 for _ in (DATA / "bbbp.csv").open()) - 1
    assert card.split == card.trained_on == "all" and card.metrics == {} and card.output == "sigmoid"
    assert card.epochs_run == card.best_epoch == 3 and card.hyperparameters["early_stopping"] is False
    assert card.applicability_domain["training_molecules"] == card.sizes["bbbp"]["train"] > 0.9 * rows
    split_card = read_card(deployment / "scaffold0")
    assert split_card.trained_on == "scaffold" and split_card.best_epoch == 3  # without early stopping, the last epoch even on a split


@pytest.mark.slow
def test_deployment_ensemble_carries_its_recipes_split_figures(deployment):
    card, estimate = read_card(deployment / "deployment"), read_card(deployment / "estimate")
    assert card.split == "all" and card.ensemble_size == 2
    assert card.metrics == estimate.metrics and card.calibration is None and card.output == "sigmoid"
    assert card.estimate["scaffold"].test == estimate.metrics["test"]["mean"]
    assert "every labelled row" in card.metrics_from
    assert (deployment / "deployment" / "test_predictions.safetensors").exists()
    record = json.loads((deployment / "results" / "deployment-deployment.json").read_text())
    assert record["benchmark"] == "deployment" and record["estimate"] == card.to_json()["estimate"]
    run = record["provenance"]
    assert run["command"].startswith("python -m molapp.cli.ensemble") and run["commit"] and run["packages"]["torch"] and run["wall_seconds"] >= 0


@pytest.mark.slow
def test_deployment_refuses_a_missing_or_foreign_estimate(deployment, tmp_path):
    members = f"{deployment / 'all0'},{deployment / 'all1'}"
    assert ensemble_cli.main(["--members", members, "--out", str(tmp_path / "a"), "--data-dir", str(DATA)]) == 2
    assert _train(tmp_path / "wider0", "scaffold", 0, "--hidden", "32") == 0
    assert _train(tmp_path / "wider1", "scaffold", 1, "--hidden", "32") == 0
    assert ensemble_cli.main(["--members", f"{tmp_path / 'wider0'},{tmp_path / 'wider1'}", "--out", str(tmp_path / "wider"),
                              "--data-dir", str(DATA)]) == 0
    assert ensemble_cli.main(["--members", members, "--out", str(tmp_path / "b"), "--data-dir", str(DATA),
                              "--estimate", str(tmp_path / "wider")]) == 2


@pytest.mark.slow
def test_a_recipe_of_one_member_is_a_deployment_model_estimated_by_its_split_run(deployment, tmp_path):
    out = tmp_path / "one"
    assert ensemble_cli.main(["--members", str(deployment / "all0"), "--out", str(out), "--data-dir", str(DATA),
                              "--estimate", str(deployment / "scaffold0")]) == 0
    card, split_run = read_card(out), read_card(deployment / "scaffold0")
    assert card.ensemble_size == 1 and card.split == "all" and card.metrics == split_run.metrics
    assert card.estimate["scaffold"].checkpoint == "scaffold0"
    # one split-run member is no ensemble at all
    assert ensemble_cli.main(["--members", str(deployment / "scaffold0"), "--out", str(tmp_path / "x"), "--data-dir", str(DATA)]) == 2


def test_a_run_whose_early_stopping_never_fired_is_the_fixed_epoch_recipe():
    from molapp.cli.ensemble import recipe_config, recipe_hyperparameters

    card = read_card(CHECKPOINTS / "graphmem-tox21-deployment")
    fixed = dataclasses.replace(card, seed=0, epochs_run=25, best_epoch=25,
                                hyperparameters={**card.hyperparameters, "early_stopping": False, "max_epochs": 25, "patience": 6, "seed": 0})
    ran_out = dataclasses.replace(fixed, seed=1, hyperparameters={**fixed.hyperparameters, "early_stopping": True, "seed": 1})
    stopped = dataclasses.replace(ran_out, best_epoch=19)  # kept an earlier epoch's weights: another training
    short = dataclasses.replace(ran_out, epochs_run=20, best_epoch=20)  # stopped before max_epochs
    assert recipe_hyperparameters(ran_out) == recipe_hyperparameters(fixed)
    assert recipe_hyperparameters(stopped) != recipe_hyperparameters(fixed)
    assert recipe_hyperparameters(short) != recipe_hyperparameters(fixed)
    # a card from before an option existed trained as the option's old behaviour
    before = {k: v for k, v in fixed.hyperparameters.items() if k not in ("early_stopping", "positive_weighting", "size_pools", "descriptors")}
    old_card = dataclasses.replace(ran_out, hyperparameters={**before, "descriptor_set": None, "seed": 1})
    assert recipe_hyperparameters(old_card) == recipe_hyperparameters(dataclasses.replace(
        fixed, hyperparameters={**fixed.hyperparameters, "positive_weighting": "balanced", "size_pools": 0, "descriptors": False}))
    without_width = dataclasses.replace(old_card, config={k: v for k, v in fixed.config.items() if k != "descriptor_dim"})
    assert recipe_config(without_width) == recipe_config(dataclasses.replace(fixed, config={**fixed.config, "descriptor_dim": 0}))
    assert recipe_config(without_width) != recipe_config(fixed)  # the shipped one reads 70 descriptors
    # a descriptor set means nothing to a model that reads no descriptors (older cards name none)
    plain = dataclasses.replace(fixed, hyperparameters={**fixed.hyperparameters, "descriptors": False, "descriptor_set": "rdkit-70"})
    older = dataclasses.replace(plain, hyperparameters={**plain.hyperparameters, "descriptor_set": None})
    assert recipe_hyperparameters(plain) == recipe_hyperparameters(older)
    reading = dataclasses.replace(plain, hyperparameters={**plain.hyperparameters, "descriptors": True})
    assert recipe_hyperparameters(reading) != recipe_hyperparameters(dataclasses.replace(
        reading, hyperparameters={**reading.hyperparameters, "descriptor_set": "rdkit-all"}))


def test_a_pretrained_encoder_is_the_same_recipe_wherever_its_folder_is(tmp_path):
    import shutil

    from molapp.cli.ensemble import recipe_hyperparameters

    shipped = CHECKPOINTS / "encoders" / "graphmem-rdkit-descriptors"
    copy, other = tmp_path / "copy", tmp_path / "other"
    shutil.copytree(shipped, copy)
    shutil.copytree(shipped, other)
    (other / "encoder.safetensors").write_bytes((shipped / "encoder.safetensors").read_bytes()[:-4] + b"    ")  # other weights
    card = read_card(CHECKPOINTS / "graphmem-tox21-deployment")

    def started_from(encoder) -> dict:
        return recipe_hyperparameters(dataclasses.replace(card, hyperparameters={**card.hyperparameters, "init_encoder": str(encoder)}))

    assert started_from(shipped) == started_from(copy) != started_from(other)
    assert started_from(shipped) != started_from("")  # a pretrained start is another recipe than a random one
    assert "pretrained encoder" in architecture_summary(card) and "pretrained" not in architecture_summary(
        dataclasses.replace(card, hyperparameters={**card.hyperparameters, "init_encoder": ""}))


def test_max_f1_threshold_picks_the_best_cut():
    labels = np.array([1, 1, 0, 1, 0, 0, 0, np.nan])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.95])
    # calling the top 2: F1 = 2·2/(2+3) = 0.8; top 4: 2·3/(4+3) = 0.857; the best cut is at 0.6
    assert max_f1_threshold(labels, scores) == pytest.approx(0.6)
    assert np.isnan(max_f1_threshold(np.array([0.0, 0.0]), np.array([0.1, 0.2])))
    tied = max_f1_threshold(np.array([1.0, 0.0, 0.0]), np.array([0.5, 0.5, 0.1]))
    assert tied == pytest.approx(0.5)  # tied scores get the same call


def test_percentile_lift_and_base_rate():
    approved = np.sort(np.array([[0.1, 1.0], [0.2, 2.0], [0.3, 3.0], [0.4, 4.0]], dtype=np.float32), axis=0)
    calls = TaskCalls(["a", "b"], np.array([0.1, np.nan]), np.array([0.25, np.nan]), approved, "test", 4)
    values = np.array([[0.05, 5.0], [0.3, 2.5], [np.nan, 1.0]], dtype=np.float32)
    percentile = calls.percentile(values, ["a", "b"])
    np.testing.assert_allclose(percentile[:2], [[0.0, 100.0], [62.5, 50.0]])  # 0.3 ties one of four: 2 below + half of one
    assert np.isnan(percentile[2, 0]) and percentile[2, 1] == pytest.approx(12.5)
    np.testing.assert_allclose(calls.lift(values[:2, :1], ["a"]), [[0.5], [3.0]], rtol=1e-6)
    assert calls.default_threshold("a") == 0.25 and calls.default_threshold("b") == 0.5
    np.testing.assert_allclose(base_rates(np.array([[1, np.nan], [0, 1], [0, np.nan], [1, 0]], dtype=np.float32)), [0.5, 0.5])


@pytest.mark.slow
def test_calls_cli_on_a_deployment_model(deployment):
    directory = deployment / "deployment"
    with pytest.raises(SystemExit):  # split all has no validation molecules: it needs --valid-from
        calls_cli.main(["--checkpoint", str(directory), "--data-dir", str(DATA)])
    assert calls_cli.main(["--checkpoint", str(directory), "--data-dir", str(DATA), "--valid-from", str(deployment / "estimate")]) == 0
    calls = TaskCalls.load(directory)
    labels = DomainIndex.load(directory).labels[:, 0]
    assert calls.base_rate[0] == pytest.approx(np.nanmean(labels))
    approved = pd.read_csv(DATA / "clintox.csv").query("FDA_APPROVED == 1")["smiles"].tolist()
    scoreable = sum(m.ok for m in featurize_smiles(approved))  # a few approved drugs (dummy atoms, metals) can't be scored
    assert 0 < calls.threshold[0] < 1 and calls.approved_count == scoreable and calls.approved.shape == (scoreable, 1)
    assert np.all(np.diff(calls.approved[:, 0]) >= 0) and calls.threshold_source == "the validation molecules of estimate"


def test_measured_labels_of_a_training_molecule():
    index = DomainIndex.build(["CCO", "c1ccccc1", "CCO"], np.array([[1, np.nan], [0, 1], [0, np.nan]], dtype=np.float32), ["a", "b"])
    assert index.measured("CCO") == {"a": 0.5}  # measured twice: the mean
    assert index.measured("c1ccccc1") == {"a": 0.0, "b": 1.0}
    assert index.measured("CCN") == {}


@pytest.mark.slow
def test_predict_cli_writes_approved_drug_percentiles(deployment, tmp_path):
    from molapp.cli import predict as predict_cli

    directory = deployment / "deployment"
    assert calls_cli.main(["--checkpoint", str(directory), "--data-dir", str(DATA), "--valid-from", str(deployment / "estimate")]) == 0
    source = tmp_path / "in.smi"
    source.write_text("CCO ethanol\nnot_a_smiles bad\nc1ccccc1O phenol\n")
    out = tmp_path / "out.csv"
    assert predict_cli.main(["--checkpoint", str(directory), "--input", str(source), "--output", str(out), "--percentiles", "--workers", "0"]) == 0
    table = pd.read_csv(out)
    column = "p_np (approved-drug percentile)"
    calls = TaskCalls.load(directory)
    expected = calls.percentile(table[["p_np"]].to_numpy(dtype=np.float32), ["p_np"])[:, 0]
    np.testing.assert_allclose(table[column].to_numpy(), expected, rtol=1e-5)
    assert table[column].notna().tolist() == [True, False, True]  # a flagged row has no percentile, and is kept
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("card.json", "weights.safetensors"):
        (bare / name).write_bytes((directory / name).read_bytes())
    assert predict_cli.main(["--checkpoint", str(bare), "--input", str(source), "--output", str(tmp_path / "o2.csv"), "--percentiles"]) == 2


def test_every_moleculenet_panel_has_a_deployment_panel_of_its_own_recipe():
    """Each dataset (or joint set of datasets) with a shipped split panel also ships a
    deployment panel: trained on every row, its estimate a model of the same size from the
    same recipe on a canonical split (a consensus: the same consensus of split models), with
    its calls and map beside it."""
    cards = {p.parent.name: read_card(p.parent) for p in CHECKPOINTS.glob("*/card.json")}
    split_panels = {tuple(c.datasets) for c in cards.values() if not c.is_deployment}
    deployments = {name: c for name, c in cards.items() if c.is_deployment}
    assert split_panels <= {tuple(c.datasets) for c in deployments.values()}
    for name, card in deployments.items():
        split, estimate = next(iter(card.estimate.items()))
        assert split in ("random", "scaffold") and card.metrics["test"]["mean"] == pytest.approx(estimate.test)
        if is_assembled(card.model):  # its graph members are deployment models (no held-out figures of their own)
            graph_members = card.members[:len(card.config["members"])]
            assert estimate.ensemble_size == 1 and all(m.test is None and m.valid is None for m in graph_members)
        else:
            assert estimate.ensemble_size == card.ensemble_size == len(card.members)
            assert all(f"--split all --seed {m.seed}" in m.command for m in card.members)
        for part in ("calls.json", "approved_drugs.safetensors", "map.json", "map.safetensors"):
            assert (CHECKPOINTS / name / part).exists(), f"{name} lacks {part}"
        recorded = json.loads((CHECKPOINTS.parent / "bench" / "results" / f"deployment-{name}.json").read_text())
        assert recorded["test"] == pytest.approx(estimate.test) and recorded["estimate"][split]["checkpoint"] == estimate.checkpoint
