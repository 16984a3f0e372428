"""The typed card and the model's own output transforms: every shipped checkpoint's card (of
the first format) converts on load, one written since loads as written (that they predict exactly what they did before the card was
typed is tests/test_prediction_snapshot.py), and a card with a bad field says which."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file as load_tensors

from molapp.inference.predictor import Predictor
from molapp.models.card import CARD_FORMAT, Card, CalibrationReport, upgrade_legacy
from molapp.models.checkpoint import load_checkpoint, read_card, save_checkpoint
from molapp.models.outputs import PlattCalibration, Sigmoid, TargetScale

from .conftest import CHECKPOINTS
from .test_prediction_snapshot import SMILES, recorded

SHIPPED = sorted(p.parent for p in CHECKPOINTS.glob("*/card.json"))
# Checkpoints trained before the typed card are of the first format (no "format" field);
# those written since are in the current one.
LEGACY = [p for p in SHIPPED if "format" not in json.loads((p / "card.json").read_text())]
CURRENT = [p for p in SHIPPED if p not in LEGACY]
# Every shipped checkpoint predicting as before the typed card: tests/test_prediction_snapshot.py.
BEFORE = recorded()


@pytest.mark.parametrize("directory", LEGACY, ids=lambda p: p.name)
def test_the_converter_moves_the_output_numbers_from_the_card_into_the_weights(directory):
    old = json.loads((directory / "card.json").read_text())
    weights = load_tensors(str(directory / "weights.safetensors"))
    data, state = upgrade_legacy(old, weights)
    card = Card.from_json(data)
    assert card.format == CARD_FORMAT and "target_mean" not in data
    assert all(key.startswith(("network.", "output.")) for key in state)
    assert {k for k in state if k.startswith("network.")} == {f"network.{k}" for k in weights}
    if card.task_type == "regression":
        assert card.output == "target_scale"
        torch.testing.assert_close(state["output.mean"], torch.tensor(old["target_mean"]))
        torch.testing.assert_close(state["output.std"], torch.tensor(old["target_std"]))
    elif "calibration" in old:
        assert card.output == "platt" and "slope" not in data["calibration"]
        assert card.calibration.expected_calibration_error == old["calibration"]["expected_calibration_error"]
        torch.testing.assert_close(state["output.slope"], torch.tensor(old["calibration"]["slope"]))
    else:
        assert card.output == "sigmoid" and not any(k.startswith("output.") for k in state)
    if card.ensemble_size > 1:
        assert len(card.members) == card.ensemble_size and all(m.command for m in card.members)
    assert read_card(directory) == card


def test_both_formats_ship():
    assert LEGACY and CURRENT  # the converter and the current reader are both exercised on shipped files


@pytest.mark.parametrize("directory", CURRENT, ids=lambda p: p.name)
def test_a_current_format_checkpoint_loads_as_written(directory):
    data = json.loads((directory / "card.json").read_text())
    assert data["format"] == CARD_FORMAT
    keys = load_tensors(str(directory / "weights.safetensors")).keys()
    assert {k.split(".")[0] for k in keys} <= {"network", "output"}
    card = read_card(directory)
    assert card == Card.from_json(data) and card.output == data["output"]
    if card.task_type == "regression":
        assert card.output == "target_scale" and {"output.mean", "output.std"} <= set(keys)


@pytest.mark.parametrize("name", ["memgnn-esol-random-ensemble", "graphmem-tox21-scaffold", "graphmem-tox21-deployment"])
def test_a_converted_checkpoint_saves_in_the_current_format_and_predicts_the_same(name, tmp_path):
    model, card = load_checkpoint(CHECKPOINTS / name)
    save_checkpoint(tmp_path, model, card)
    saved = json.loads((tmp_path / "card.json").read_text())
    assert saved["format"] == CARD_FORMAT and saved["output"] == model.output.name
    assert "target_mean" not in saved and "slope" not in saved.get("calibration", {})
    keys = load_tensors(str(tmp_path / "weights.safetensors")).keys()
    assert {k.split(".")[0] for k in keys} <= {"network", "output"}
    again = Predictor.load(tmp_path, "cpu").predict(SMILES)
    np.testing.assert_allclose(again.values, BEFORE[f"{name}/values"], rtol=0, atol=1e-6)
    assert read_card(tmp_path) == card


def test_output_modules_compute_what_they_say():
    raw = torch.tensor([[0.5, -1.0, 2.0]])
    task_ids = torch.tensor([2, 0, 1])
    platt = PlattCalibration(3, torch.tensor([1.0, 2.0, 0.5]), torch.tensor([0.0, -1.0, 1.0]))
    torch.testing.assert_close(platt(raw, task_ids), torch.sigmoid(raw * torch.tensor([0.5, 1.0, 2.0]) + torch.tensor([1.0, 0.0, -1.0])))
    scale = TargetScale(3, torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0, 30.0]))
    torch.testing.assert_close(scale(raw, task_ids), torch.tensor([[3.0 + 15.0, 1.0 - 10.0, 2.0 + 40.0]]))
    torch.testing.assert_close(Sigmoid()(raw, task_ids), torch.sigmoid(raw))
    torch.testing.assert_close(platt.link_slope(task_ids), torch.tensor([0.5, 1.0, 2.0]))
    members = torch.stack([raw, raw + 1])  # an ensemble's [M, B, Q]
    torch.testing.assert_close(platt(members, task_ids)[1], platt(raw + 1, task_ids))


def _valid() -> dict:
    return Card("graphmem", "molgraph-v1", ["a", "b"], "classification", config={"hidden": 8},
                calibration=CalibrationReport("platt", "valid", {"test": {"before": 0.2, "after": 0.1}})).to_json()


@pytest.mark.parametrize("change, message", [
    ({"tasks": 3}, "field 'tasks' must be a list of strings, got int"),
    ({"tasks": ["a", 2]}, "field 'tasks[1]' must be a string, got int"),
    ({"model": None}, "field 'model' must be a string, got null"),
    ({"seed": "zero"}, "field 'seed' must be an integer or a list of integers, got str"),
    ({"ensemble_size": 2.5}, "field 'ensemble_size' must be an integer, got float"),
    ({"calibration": {"method": "platt", "fitted_on": "valid", "expected_calibration_error": {"test": {"before": "x"}}}},
     "field 'calibration.expected_calibration_error.test.before' must be a number, got str"),
    ({"calibration": {"method": "platt"}}, "missing field 'calibration.fitted_on'"),
    ({"colour": "blue"}, "unknown field 'colour'"),
    ({"task_type": "ranking"}, "field 'task_type' must be one of classification, regression, got 'ranking'"),
    ({"output": "target_scale"}, "field 'output' must be one of sigmoid, platt for a classification model, got 'target_scale'"),
    ({"format": 7}, "field 'format' must be 2, got 7"),
])
def test_a_bad_field_is_named(change, message):
    with pytest.raises(ValueError) as error:
        Card.from_json({**_valid(), **change}, "ck/card.json")
    assert str(error.value) == f"ck/card.json: {message}"


@pytest.mark.parametrize("missing", ["tasks", "config", "output"])
def test_a_missing_field_is_named(missing):
    data = _valid()
    del data[missing]
    with pytest.raises(ValueError, match=f"card.json: missing field '{missing}'"):
        Card.from_json(data)


def test_a_card_round_trips_and_numbers_come_back_as_numbers():
    data = {**_valid(), "train_seconds": 3, "metrics": {"test": {"a": 0.5, "mean": 0.5, "per_dataset": {"x": 0.5}}}}
    card = Card.from_json(data)
    assert isinstance(card.train_seconds, float) and card.calibration.method == "platt"
    assert Card.from_json(json.loads(json.dumps(card.to_json()))) == card


def test_a_first_format_card_missing_its_scale_is_named():
    old = json.loads((CHECKPOINTS / "memgnn-esol-random" / "card.json").read_text())
    del old["target_std"]
    with pytest.raises(ValueError, match="card.json: field 'target_std' must be a list of numbers, got null"):
        upgrade_legacy(old, {})


# A user's panel as `python -m molapp.train --data` wrote it before the card was typed: a
# first-format card with the user's file, its columns, the data check and the units typed.
USER_FIELDS = {
    "source": "user", "preset": "quick",
    "data_file": {"name": "my_screen.csv", "sha256": "ab" * 32, "rows": 81},
    "columns": {"smiles": "smiles", "targets": ["measured log solubility in mols per litre"]},
    "data_report": {"rows_read": 81, "molecules": 80, "notes": [
        {"kind": "duplicates", "message": "2 rows repeat a molecule: averaged", "rows": [3, 9], "details": [{"rows": [3, 9], "values": [1.0, 1.5]}]}]},
    "task_units": {"measured log solubility in mols per litre": "log mol/L"},
}


def _user_panel(directory, card: dict) -> None:
    directory.mkdir(parents=True)
    (directory / "weights.safetensors").write_bytes((CHECKPOINTS / "memgnn-esol-random" / "weights.safetensors").read_bytes())
    (directory / "card.json").write_text(json.dumps(card))


def test_a_users_panel_card_of_the_first_format_loads_typed_and_a_broken_one_is_skipped(tmp_path):
    from molapp.app.panels import list_user_panels
    from molapp.models.card import DataCheck, DataColumns, DataFile

    old = json.loads((CHECKPOINTS / "memgnn-esol-random" / "card.json").read_text())
    task = old["tasks"][0]
    _user_panel(tmp_path / "panels" / "good", {**old, **USER_FIELDS, "dataset": "my_screen"})
    _user_panel(tmp_path / "panels" / "not-json", {})
    (tmp_path / "panels" / "not-json" / "card.json").write_text("{ not json")
    _user_panel(tmp_path / "panels" / "bad-field", {**old, **USER_FIELDS, "data_file": "my_screen.csv"})
    _user_panel(tmp_path / "panels" / "not-an-object", {})
    (tmp_path / "panels" / "not-an-object" / "card.json").write_text("[1, 2]")
    (tmp_path / "panels" / "being-written").mkdir()  # no card yet

    card = read_card(tmp_path / "panels" / "good")
    assert card.is_user_data and card.source == "user" and card.preset == "quick" and card.output == "target_scale"
    assert card.data_file == DataFile("my_screen.csv", "ab" * 32, 81) and card.columns == DataColumns("smiles", [task])
    assert isinstance(card.data_report, DataCheck) and card.data_report.notes[0].rows == [3, 9]
    assert Card.from_json(json.loads(json.dumps(card.to_json()))) == card
    with pytest.raises(ValueError, match="field 'data_file' must be an object with fields name, sha256, rows, got str"):
        read_card(tmp_path / "panels" / "bad-field")

    (panel,) = list_user_panels(tmp_path)
    assert panel.path.name == "good" and panel.is_user and panel.card == card
    assert panel.title.startswith("Yours: good — 1 task from my_screen.csv (MemGNN") and panel.units(task) == "log mol/L"
    assert Predictor.load(panel.path, "cpu").predict(["CCO"]).values.shape == (1, 1)
