"""Every shipped checkpoint predicts what it predicted when the snapshot was recorded (to 1e-6):
refactors of the model, trainer or inference code must not change a shipped model's output.

Record a new snapshot only when a change is meant to change predictions:

    python -m tests.test_prediction_snapshot --record
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from molapp.chem.io import read_smiles_file
from molapp.inference.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
SNAPSHOT = ROOT / "tests" / "fixtures" / "shipped_predictions.npz"
MOLECULES = 20
TOLERANCE = 1e-6


def shipped_checkpoints() -> list[Path]:
    return sorted(p for p in CHECKPOINTS.iterdir() if (p / "card.json").exists())


def snapshot_smiles() -> list[str]:
    return [row.smiles for row in read_smiles_file(ROOT / "tests" / "fixtures" / "tiny_molecules.smi")][:MOLECULES]


def predictions(checkpoint: Path) -> np.ndarray:
    """Every task's value [molecules, tasks] on the snapshot molecules, on CPU."""
    return Predictor.load(checkpoint, device="cpu").predict(snapshot_smiles()).values


@pytest.mark.parametrize("checkpoint", shipped_checkpoints(), ids=lambda p: p.name)
def test_shipped_checkpoint_predicts_as_recorded(checkpoint: Path) -> None:
    recorded = np.load(SNAPSHOT)
    assert checkpoint.name in recorded, f"{checkpoint.name} has no snapshot: record one (see this module's docstring)"
    np.testing.assert_allclose(predictions(checkpoint), recorded[checkpoint.name], rtol=0, atol=TOLERANCE)


def record() -> None:
    np.savez_compressed(SNAPSHOT, **{p.name: predictions(p) for p in shipped_checkpoints()})
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="(re)write the snapshot from the current code")
    if parser.parse_args().record:
        record()
