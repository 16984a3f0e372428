"""Ensembles: the output is the members' mean, explanations are the first member's, the
checkpoint round-trips, the CLI builds one from seeds of one configuration only, and the
members' disagreement reaches the triage table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from molapp.cli import ensemble as ensemble_cli
from molapp.cli import predict as predict_cli
from molapp.chem.io import FIXED_COLUMNS, read_csv
from molapp.cli import train as train_cli
from molapp.data.collate import collate
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.inference.domain import DomainIndex
from molapp.inference.predictor import Predictor, predict_graphs, spread_column
from molapp.inference.triage import score
from molapp.models.card import Card
from molapp.models.checkpoint import load_checkpoint, read_card, save_checkpoint
from molapp.models.ensemble import Ensemble
from molapp.models.graphmem import GraphMem, GraphMemConfig
from molapp.models.outputs import PredictionModel, Sigmoid

from .conftest import CHECKPOINTS, FIXTURES

DATA = FIXTURES / "ladder"  # 60-row esol with its canonical-format split


def graphmem(seed: int) -> GraphMem:
    torch.manual_seed(seed)
    return GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=3, hidden=16, hops=3, dropout=0.0)).eval()


def test_output_is_the_members_mean_and_explanations_the_first_members(tiny_dataset):
    members = [graphmem(seed) for seed in (0, 1, 2)]
    batch = collate([m.graph for m in tiny_dataset.molecules[:6]])
    out = Ensemble(members).eval()(batch, return_attention=True)
    alone = [member(batch, return_attention=True) for member in members]
    torch.testing.assert_close(out.logits, torch.stack([a.logits for a in alone]).mean(0))
    torch.testing.assert_close(out.attention, alone[0].attention)
    assert not torch.allclose(alone[0].logits, alone[1].logits)  # different seeds, different members
    with pytest.raises(ValueError):
        Ensemble(members[:1])


def test_ensemble_checkpoint_round_trips(tiny_dataset, tmp_path):
    ensemble = Ensemble([graphmem(0), graphmem(1)]).eval()
    card = Card("graphmem", "molgraph-v1", ["a", "b", "c"], "classification")
    save_checkpoint(tmp_path, PredictionModel(ensemble, Sigmoid()), card)
    assert read_card(tmp_path).ensemble_size == 2  # from the model, not the card it was given
    loaded, _ = load_checkpoint(tmp_path)
    assert isinstance(loaded.network, Ensemble) and len(loaded.network.members) == 2
    batch = collate([m.graph for m in tiny_dataset.molecules[:6]])
    torch.testing.assert_close(loaded.network(batch).logits, ensemble(batch).logits)


def _train(out, seed: int, hidden: int = 16) -> None:
    assert train_cli.main(["--dataset", "esol", "--data-dir", str(DATA), "--model", "gcn", "--split", "random", "--out", str(out),
                           "--max-epochs", "2", "--hidden", str(hidden), "--seed", str(seed), "--threads", "1", "--workers", "1"]) == 0


@pytest.mark.slow
def test_cli_builds_a_scored_ensemble_from_seeds(tmp_path, capsys):
    for seed in (0, 1):
        _train(tmp_path / f"seed{seed}", seed)
    _train(tmp_path / "wider", 2, hidden=32)
    members = f"{tmp_path / 'seed0'},{tmp_path / 'seed1'}"
    out = tmp_path / "ensemble"
    assert ensemble_cli.main(["--members", members, "--out", str(out), "--data-dir", str(DATA), "--results-dir", str(tmp_path / "results")]) == 0
    card = read_card(out)
    assert card.ensemble_size == 2 and card.seed == [0, 1] and [m.seed for m in card.members] == [0, 1]
    assert card.output == "target_scale" and card.metrics["test"]["mean"] > 0 and (out / "domain.safetensors").exists() and (out / "test_predictions.safetensors").exists()
    summary = json.loads((tmp_path / "results" / "ensemble-ensemble.json").read_text())
    assert summary["test"] == pytest.approx(card.metrics["test"]["mean"])

    predictor = Predictor.load(out, "cpu")  # the app's and the predict CLI's path
    values = predictor.predict(["CCO", "not a molecule"]).values
    assert values.shape == (2, 1) and values[0, 0] == values[0, 0] and values[1, 0] != values[1, 0]
    written = tmp_path / "predicted.csv"
    assert predict_cli.main(["--checkpoint", str(out), "--input", str(FIXTURES / "bad_rows.smi"), "--output", str(written), "--workers", "0"]) == 0
    table = pd.read_csv(written)
    task = card.tasks[0]
    assert list(table.columns[-2:]) == [task, spread_column(task)] and len(table) == len((FIXTURES / "bad_rows.smi").read_text().splitlines())
    assert (table.loc[table["status"] == "ok", spread_column(task)] >= 0).all() and table.loc[table["status"] == "error", spread_column(task)].isna().all()

    # Members of different configurations, or the same seed twice, are not an ensemble.
    assert ensemble_cli.main(["--members", f"{tmp_path / 'seed0'},{tmp_path / 'wider'}", "--out", str(tmp_path / "bad1"), "--data-dir", str(DATA)]) == 2
    assert "differ in config" in capsys.readouterr().err
    assert ensemble_cli.main(["--members", f"{tmp_path / 'seed0'},{tmp_path / 'seed0'}", "--out", str(tmp_path / "bad2"), "--data-dir", str(DATA)]) == 2
    assert "same seed" in capsys.readouterr().err


def test_member_spread_is_the_members_disagreement(tiny_dataset):
    members = [graphmem(seed) for seed in (0, 1, 2)]
    ensemble = PredictionModel(Ensemble(members), Sigmoid()).eval()
    graphs = [m.graph for m in tiny_dataset.molecules[:7]]
    task_ids = torch.arange(3)
    predicted = predict_graphs(ensemble, graphs, task_ids, batch_size=3)
    alone = np.stack([predict_graphs(PredictionModel(m, Sigmoid()), graphs, task_ids).values for m in members])
    np.testing.assert_allclose(predicted.spread, alone.std(0, ddof=1), atol=1e-6)
    np.testing.assert_allclose(predicted.values, predict_graphs(ensemble, graphs, task_ids).values, atol=1e-6)
    assert predict_graphs(PredictionModel(members[0], Sigmoid()), graphs, task_ids).spread is None  # one model: no spread


@pytest.mark.slow
def test_triage_of_an_ensemble_reports_its_members_spread():
    checkpoint = CHECKPOINTS / "memgnn-esol-random-ensemble"
    predictor = Predictor.load(checkpoint, "cpu")
    rows = list(read_csv(FIXTURES / "triage.csv", id_column="compound_id"))
    table = score(predictor, DomainIndex.load(checkpoint), rows, workers=2, chunk_size=4)
    task = predictor.tasks[0]
    column = spread_column(task)
    assert list(table.columns[: len(FIXED_COLUMNS) + 2]) == [*FIXED_COLUMNS, task, column]
    ok = table["status"] == "ok"
    assert (table.loc[ok, column] > 0).all() and table.loc[~ok, column].isna().all()
    np.testing.assert_allclose(table.loc[ok, task], predictor.predict(table.loc[ok, "smiles"].tolist()).values[:, 0], atol=1e-5)
