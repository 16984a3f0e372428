"""Every shipped checkpoint predicts what it predicted when the snapshot was recorded (to 1e-6, relative for values above 1):
refactors of the model, trainer or inference code must not change a shipped model's output.
The snapshot (tests/fixtures/shipped_predictions.safetensors) holds, per checkpoint, its values
on tiny_molecules.smi, an ensemble's member spread, one explanation (bisphenol A, with an
ensemble's member values) and, for the models reading descriptors, the descriptor chart of the
fifth task (a consensus: its GraphMem member's attention, no descriptor chart). It was recorded with the code before the typed card (issue 28 item 2);
mt-graphmem-nci60-random's entries with main's code at 3de8d80, before the typed card was merged.

A checkpoint added to checkpoints/ gets its entries with

    python -m tests.test_prediction_snapshot --add

which computes every shipped checkpoint's outputs with the current code, refuses (writing
nothing) if a checkpoint already in the snapshot no longer matches it to 1e-6, and otherwise
adds the new checkpoints' entries (and drops those of checkpoints no longer shipped), the
recorded entries kept as they were. A checkpoint retrained on purpose gets new entries with

    python -m tests.test_prediction_snapshot --replace graphmem-tox21-deployment,consensus-tox21-deployment

(the same checks for every other checkpoint). Record a new snapshot only when a change is meant to change predictions:

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
from molapp.models.registry import descriptors_added

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
SNAPSHOT = ROOT / "tests" / "fixtures" / "shipped_predictions.safetensors"
TOLERANCE = 1e-6  # absolute below 1, relative above: float32 keeps about 7 digits, and another CPU's kernels differ in the last ones
SHIPPED = sorted(p.parent for p in CHECKPOINTS.glob("*/card.json"))
SMILES = [r.smiles for r in read_smiles_file(ROOT / "tests" / "fixtures" / "tiny_molecules.smi")]
EXPLAINED = SMILES[2]


def difference(value: np.ndarray, recorded_value: np.ndarray) -> float:
    """The largest difference from the recorded value, relative where that is above 1 in size (NaN if either is)."""
    return float(np.max(np.abs(value - recorded_value) / np.maximum(1.0, np.abs(recorded_value)), initial=0.0))


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
    if descriptors_added(predictor.card):  # a network reading descriptors directly (not a consensus's forests)
        task = predictor.tasks[min(4, len(predictor.tasks) - 1)]  # a Tox21 panel: its fifth task
        reading = explain_descriptors(predictor, explanation.canonical_smiles, task)
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
        assert value.shape == before[key].shape and difference(value, before[key]) <= TOLERANCE, key


def test_replacing_a_checkpoint_not_shipped_writes_nothing(capsys):
    before = SNAPSHOT.read_bytes()
    assert add(frozenset({"no-such-checkpoint"})) == 1
    assert "no-such-checkpoint not in checkpoints/" in capsys.readouterr().out and SNAPSHOT.read_bytes() == before


def _save(snapshot: dict[str, np.ndarray]) -> None:
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(snapshot.items())}, str(SNAPSHOT))
    print(f"wrote {SNAPSHOT}")


def record() -> None:
    snapshot = {}
    for directory in SHIPPED:
        snapshot.update(outputs(directory))
    _save(snapshot)


def add(replaced: frozenset[str] = frozenset()) -> int:
    """The snapshot with the entries of checkpoints it lacks, and of those `replaced` (retrained on
    purpose) recomputed; 1 (nothing written) if another recorded checkpoint's outputs changed, or
    the checkpoints it holds differ in what they record."""
    unknown = replaced - {p.name for p in SHIPPED}
    if unknown:
        print(f"not written: {', '.join(sorted(unknown))} not in checkpoints/")
        return 1
    before = {key: value for key, value in recorded().items() if key.split("/")[0] not in replaced}
    names = {key.split("/")[0] for key in before}
    snapshot, added, failures = {}, [], []
    for directory in SHIPPED:
        now = outputs(directory)
        if directory.name not in names:
            snapshot.update(now)
            added.append(directory.name)
            continue
        mine = {key for key in before if key.split("/")[0] == directory.name}
        if set(now) != mine:
            failures.append(f"{directory.name}: records {sorted(mine)}, the code now gives {sorted(now)}")
            continue
        for key, value in now.items():
            worst = difference(value, before[key])
            if not worst <= TOLERANCE:  # NaN-safe: a NaN difference fails too
                failures.append(f"{key}: differs by {worst:.3g} from the snapshot (tolerance {TOLERANCE})")
        snapshot.update({key: before[key] for key in mine})
        print(f"{directory.name}: as recorded")
    if failures:
        print("not written: recorded checkpoints no longer predict as recorded\n  " + "\n  ".join(failures))
        return 1
    dropped = sorted(names - {p.name for p in SHIPPED})
    for name in added:
        print(f"{name}: {'recorded anew' if name in replaced else 'added'}")
    for name in dropped:
        print(f"{name}: dropped (no longer in checkpoints/)")
    if added or dropped:
        _save(snapshot)
    else:
        print("nothing to add")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--add", action="store_true", help="add the checkpoints the snapshot lacks, after checking the recorded ones still match")
    mode.add_argument("--replace", metavar="NAMES", help="comma-separated checkpoints retrained on purpose: record them anew, check the rest")
    mode.add_argument("--record", action="store_true", help="(re)write the whole snapshot from the current code")
    arguments = parser.parse_args()
    if arguments.record:
        record()
    else:
        raise SystemExit(add(frozenset(arguments.replace.split(",")) if arguments.replace else frozenset()))
