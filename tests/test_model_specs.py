"""What a model kind is lives in its spec (molapp.models.spec), and only there: the trainer,
the train CLI and the card ask it, its defaults are its config dataclass's, and a new kind
is one new module."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.models import registry
from molapp.models.checkpoint import read_card
from molapp.models.graphmem import GraphMemConfig
from molapp.models.spec import Hyperparameter, ModelSpec
from molapp.training.trainer import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SIZES = dict(atom_dim=ATOM_DIM, bond_dim=BOND_DIM, num_relations=NUM_RELATIONS, num_tasks=3)


@pytest.mark.parametrize("kind", list(registry.trainable_kinds()))
def test_the_default_flags_build_the_config_dataclass_default_model(kind):
    """The one source of a kind's defaults: TrainConfig's (and so the CLI's) defaults make
    exactly the model its config dataclass makes with no hyper-parameter given."""
    spec = registry.model_spec(kind)
    own_sizes = {name: value for name, value in SIZES.items() if name in {f.name for f in fields(spec.config_class)}}
    assert spec.config_class(**spec.model_config(TrainConfig(), **SIZES)) == spec.config_class(**own_sizes, **spec.fixed_config)


def test_graphmem_defaults_are_the_shipped_checkpoints():
    """GraphMemConfig once said hidden 128, hops 10 while the trainer used 64 and 6; every
    shipped GraphMem trained without --hidden/--hops flags was trained with 64 and 6 (one
    trained in the paper's setting, the NCI-60 panel, says --hops 10 on its command line), and
    `python -m molapp.train` still trains that."""
    assert (TrainConfig().hidden, TrainConfig().hops) == (64, 6)
    assert (GraphMemConfig(1, 1, 1, 1).hidden, GraphMemConfig(1, 1, 1, 1).hops) == (64, 6)
    for card_path in (ROOT / "checkpoints").glob("*graphmem*/card.json"):
        card = read_card(card_path.parent)
        commands = [card.command] if card.command.startswith("python -m molapp.train") else [m.command for m in card.members]
        for command in commands:
            words = command.split()
            flag = {name: int(words[words.index(name) + 1]) for name in ("--hidden", "--hops") if name in words}
            assert (card.config["hidden"], card.config["hops"]) == (flag.get("--hidden", 64), flag.get("--hops", 6)), card_path


def test_kinds_that_share_a_hyperparameter_must_agree_on_it(monkeypatch):
    def spec(name: str, default: int) -> ModelSpec:
        return ModelSpec(name, name, 1, object, object, (Hyperparameter("width", default),), summary=str, embedding="")

    monkeypatch.setattr(registry, "MODEL_KINDS", {"a": spec("a", 8), "b": spec("b", 8)})
    assert registry.model_hyperparameters()["width"].default == 8
    monkeypatch.setattr(registry, "MODEL_KINDS", {"a": spec("a", 8), "b": spec("b", 16)})
    with pytest.raises(RuntimeError, match="width"):
        registry.model_hyperparameters()


def test_the_trainer_asks_the_spec_instead_of_probing_the_model():
    pattern = re.compile(r"hasattr\(model|inspect\.signature")
    probes = [f"{path}:{n}" for path in (ROOT / "molapp" / "training").rglob("*.py")
              for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert probes == []


NEW_KIND = """
import contextlib, io, json, sys
import molapp.models
molapp.models.__path__.append(sys.argv[1])  # where the new kind's one module is

import numpy as np, torch
from molapp.cli import train as train_cli
from molapp.data.dataset import LabelledMolecules
from molapp.data.featurize import featurize_smiles
from molapp.data.registry import DatasetSpec
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, FEATURIZER_VERSION, NUM_RELATIONS
from molapp.inference.predictor import Predictor
from molapp.models.card import Card
from molapp.models.checkpoint import read_card, save_checkpoint
from molapp.models.outputs import PredictionModel, Sigmoid
from molapp.models.registry import MODEL_KINDS, architecture_summary
from molapp.training.trainer import TaskGroup, TrainConfig, train

help_text = io.StringIO()
with contextlib.redirect_stdout(help_text), contextlib.suppress(SystemExit):
    train_cli.main(["--help"])
smiles = ["CCO", "c1ccccc1", "CCN", "CC(=O)O", "c1ccncc1", "CCCl", "OCCO", "c1ccc(N)cc1"] * 2
labels = np.array([[float("N" in s or "n" in s)] for s in smiles], np.float32)
spec = DatasetSpec("tiny", "tiny.csv", "", "smiles", ["has_N"], "classification", "roc_auc", "fixture")
data = LabelledMolecules(spec, np.arange(len(smiles)), smiles, labels, featurize_smiles(smiles))
config = TrainConfig(pool_width=8, batch_size=4, max_epochs=2, patience=2)
with contextlib.redirect_stderr(io.StringIO()):
    result = train([TaskGroup("tiny", [0], data, data, data)], 1, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification",
                   config, torch.device("cpu"), kind="meanpool")
card = Card("meanpool", FEATURIZER_VERSION, ["has_N"], "classification", dataset="tiny", hyperparameters=config.hyperparameters("meanpool"))
save_checkpoint(sys.argv[2], PredictionModel(result.model, Sigmoid()), card)
values = Predictor.load(sys.argv[2], "cpu").predict(["CCO", "CCN"]).values
print(json.dumps({"kinds": list(MODEL_KINDS), "flag": "--pool-width" in help_text.getvalue(),
                  "hyperparameters": card.hyperparameters, "summary": architecture_summary(read_card(sys.argv[2])),
                  "values": values.tolist()}))
"""


@pytest.mark.slow
def test_a_new_model_kind_is_one_module(tmp_path):
    """The worked example of CONTRIBUTING.md (tests/fixtures/model_kind_example/meanpool.py),
    with no other file changed: it is a kind, a train flag, a card's hyper-parameters; it trains,
    saves, loads and predicts."""
    example = ROOT / "tests" / "fixtures" / "model_kind_example"
    completed = subprocess.run([sys.executable, "-c", NEW_KIND, str(example), str(tmp_path / "meanpool")], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["kinds"][0] == "meanpool"  # rank 5: first, before the GCN
    assert report["flag"]
    assert report["hyperparameters"]["pool_width"] == 8 and "hops" not in report["hyperparameters"]
    assert report["summary"] == "mean pool · MLP 8"
    assert len(report["values"]) == 2 and all(0.0 < v[0] < 1.0 for v in report["values"])
