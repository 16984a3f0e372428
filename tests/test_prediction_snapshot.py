"""Every shipped checkpoint predicts what it predicted when the snapshot was recorded (to 1e-6):
refactors of the model, trainer or inference code must not change a shipped model's output.
The snapshot (tests/fixtures/shipped_predictions.safetensors) holds, per checkpoint, its values
on tiny_molecules.smi, an ensemble's member spread, one explanation (bisphenol A, with an
ensemble's member values) and, for the models reading descriptors, the descriptor chart of the
fifth task. It was recorded with the code before the typed card (issue 28 item 2);
mt-graphmem-nci60-random's entries with main's code at 3de8d80, before the typed card was merged.

Record a new snapshot only when a change is meant to change predictions:

    python -m tests.test_prediction_snapshot --record
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from molapp.chem.io import read_smiles_file
from molapp.explain.explanation import explain, explain_descriptors
from molapp.inference.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
SNAPSHOT = ROOT / "tests" / "fixtures" / "shipped_predictions.safetensors"
TOLERANCE = 1e-6
SHIPPED = sorted(p.parent for p in CHECKPOINTS.glob("*/card.json"))
SMILES = [r.smiles for r in read_smiles_file(ROOT / "tests" / "fixtures" / "tiny_molecules.smi")]
EXPLAINED = SMILES[2]


def recorded() -> dict[str, np.ndarray]:
    return load_file(str(SNAPSHOT))


def outputs(directory: Path) -> dict[str, np.ndarray]:
    """What the snapshot holds for one checkpoint, computed now (on CPU)."""
    predictor = Predictor.load(directory, "cpu")
    prediction = predictor.predict(SMILES)
    name = directory.name
    out = {f"{name}/values": prediction.values}
    if predictor.is_ensemble:
        out[f"{name}/spread"] = prediction.spread
    else:
        assert prediction.spread is None
    explanation = explain(predictor, EXPLAINED)
    out[f"{name}/explain"] = explanation.values
    if explanation.member_values is not None:
        out[f"{name}/explain_members"] = explanation.member_values
    if predictor.descriptors:
        reading = explain_descriptors(predictor, explanation.canonical_smiles, predictor.tasks[4])
        out[f"{name}/descriptor_contributions"] = reading.table.sort_values("descriptor")["contribution"].to_numpy()
        out[f"{name}/descriptor_gap"] = np.array([reading.gap])
    return out


def test_every_shipped_checkpoint_was_recorded():
    assert {key.split("/")[0] for key in recorded()} == {p.name for p in SHIPPED}, \
        "a shipped checkpoint has no snapshot (or a snapshot no checkpoint): record one (see this module's docstring)"


@pytest.mark.parametrize("directory", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_predicts_as_recorded(directory):
    before = recorded()
    now = outputs(directory)
    assert set(now) == {key for key in before if key.split("/")[0] == directory.name}
    for key, value in now.items():
        np.testing.assert_allclose(value, before[key], rtol=0, atol=TOLERANCE, err_msg=key)


def record() -> None:
    snapshot = {}
    for directory in SHIPPED:
        snapshot.update(outputs(directory))
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in snapshot.items()}, str(SNAPSHOT))
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="(re)write the snapshot from the current code")
    if parser.parse_args().record:
        record()
