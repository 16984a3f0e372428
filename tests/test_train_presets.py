"""bench/train_presets.py, as a smoke run on the ladder's BBBP fixture: one preset trained by the
train CLI in its own process, its row in the results file (figures from the card, wall time,
the command) with the file's provenance, and the README block built from it."""

from __future__ import annotations

import importlib.util
import json

import pytest

from molapp.cli import readme_figures

from .conftest import FIXTURES, ROOT


def _load():
    spec = importlib.util.spec_from_file_location("train_presets", ROOT / "bench" / "train_presets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_preset_run_is_recorded_with_its_figures_and_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLAPP_DATA", str(FIXTURES / "ladder"))
    output = tmp_path / "results" / "train-presets.json"
    presets = _load()
    assert presets.main(["--cases", "bbbp", "--presets", "quick", "--max-epochs", "1", "--hidden", "16", "--threads", "1",
                         "--work-dir", str(tmp_path / "work"), "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    (row,) = record["runs"]
    card = json.loads((tmp_path / "work" / "graphmem-bbbp-scaffold-quick" / "card.json").read_text())
    assert row["test"] == round(card["metrics"]["test"]["mean"], 4) and row["epochs_run"] == 1 and row["wall_seconds"] > 0
    assert "--preset quick" in row["command"] and record["smoke_test"] is True
    assert record["provenance"]["commit"] and "torch" in record["provenance"]["packages"]

    monkeypatch.setattr(readme_figures, "RESULTS", output.parent)
    block = readme_figures.train_presets()
    assert "| BBBP | graphmem | quick | 1 |" in block and f"ROC-AUC {row['test']:.3f}" in block
    assert "NCI-60 breast (AID83) | Chemprop 2.3.1 D-MPNN, defaults | – | – | – | not run yet" in block
