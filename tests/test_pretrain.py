"""Pretraining GraphMem's encoder on unlabelled molecules (`molapp.training.pretrain`,
`python -m molapp.cli.pretrain`) and starting a GraphMem from it (`--init-encoder`)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from molapp.cli import pretrain as pretrain_cli
from molapp.cli import train as train_cli
from molapp.data.dataset import load_dataset
from molapp.featurizers.descriptors import ALL_RDKIT_DESCRIPTORS_VERSION
from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.models.checkpoint import read_card
from molapp.models.encoder import ENCODER_PREFIXES, initialize_from_encoder, load_encoder
from molapp.models.graphmem import GraphMem, GraphMemConfig
from molapp.models.registry import benchmark_name
from molapp.training import pretrain as pretraining
from molapp.training.pretrain import PretrainConfig

from .conftest import CHECKPOINTS, FIXTURES

DATA = FIXTURES / "ladder"  # 60-row bbbp with its scaffold split, 40-row clintox


@pytest.fixture(scope="module")
def graphs():
    data = load_dataset("bbbp", DATA, descriptors=ALL_RDKIT_DESCRIPTORS_VERSION)
    return [m.graph for m in data.molecules if m.ok]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrain") / "encoder"
    assert pretrain_cli.main(["--out", str(out), "--datasets", "bbbp,clintox", "--data-dir", str(DATA), "--hold-out", "bbbp:scaffold",
                              "--epochs", "10", "--batch-size", "8", "--hidden", "16", "--learning-rate", "0.01", "--threads", "1"]) == 0
    return out


@pytest.mark.slow
def test_pretraining_learns_the_descriptors(encoder_dir):
    """On standardized targets, predicting every molecule's mean scores about 1: the encoder
    ends well below, on the molecules fitted and on those held out, and below its first epoch."""
    state, card = load_encoder(encoder_dir)
    first, last = card.history[0], card.history[-1]
    assert last["train_loss"] < 0.75 and last["held_out_loss"] < 0.8 and last["train_loss"] < first["train_loss"]
    assert set(state) == {k for k in GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, 1, hidden=16)).state_dict()
                          if k.startswith(ENCODER_PREFIXES)}
    # bbbp's scaffold valid and test molecules were left out; the others of bbbp and clintox are in
    left_out = card.sources[-1]["molecules_left_out"]
    assert left_out > 0 and card.molecules + card.held_out == sum(s["molecules"] for s in card.sources[:-1])
    assert card.targets.startswith(ALL_RDKIT_DESCRIPTORS_VERSION) and card.command.startswith("python -m molapp.cli.pretrain")


@pytest.mark.slow
def test_a_graphmem_takes_the_encoder_and_keeps_its_task_parts(encoder_dir):
    state, _ = load_encoder(encoder_dir)
    torch.manual_seed(1)
    model = GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=3, hidden=16, descriptor_dim=70))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    initialize_from_encoder(model, encoder_dir)
    after = model.state_dict()
    for name, value in after.items():
        if name.startswith(ENCODER_PREFIXES):
            assert torch.equal(value, state[name]) and not torch.equal(value, before[name]), name
        else:  # task queries, heads, descriptor input: the model's own
            assert torch.equal(value, before[name]), name
    with pytest.raises(ValueError, match="pretrained for"):
        initialize_from_encoder(GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, 3, hidden=32)), encoder_dir)


@pytest.mark.slow
def test_fine_tuning_from_the_encoder_through_the_train_cli(encoder_dir, tmp_path):
    out = tmp_path / "tuned"
    assert train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "graphmem", "--hidden", "16", "--max-epochs", "1",
                           "--no-early-stopping", "--threads", "1", "--split", "scaffold", "--out", str(out),
                           "--init-encoder", str(encoder_dir)]) == 0
    card = read_card(out)
    assert card.hyperparameters["init_encoder"] == str(encoder_dir) and benchmark_name(card) == "graphmem-pretrained-fixed1"
    for bad in (["--hidden", "32"], ["--model", "gcn"]):  # another structure; a kind without an encoder to take
        with pytest.raises(SystemExit):
            train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--model", "graphmem", "--hidden", "16", "--split", "scaffold",
                            "--out", str(tmp_path / "x"), "--init-encoder", str(encoder_dir), *bad])
    with pytest.raises(SystemExit):
        train_cli.main(["--dataset", "bbbp", "--data-dir", str(DATA), "--split", "scaffold", "--out", str(tmp_path / "y"),
                        "--init-encoder", str(tmp_path)])  # not an encoder


def test_a_killed_pretraining_carries_on_to_the_same_encoder(graphs, tmp_path, monkeypatch):
    config = PretrainConfig(hidden=16, epochs=3, held_out=0.1)
    whole, _ = pretraining.pretrain(graphs, config, torch.device("cpu"), tmp_path / "whole", progress=False)
    saves = []
    real_save = pretraining.resume.save_state

    def killed_after_the_first_epoch(path, state):
        real_save(path, state)
        saves.append(state["epoch"])
        if len(saves) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(pretraining.resume, "save_state", killed_after_the_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        pretraining.pretrain(graphs, config, torch.device("cpu"), tmp_path / "killed", progress=False)
    carried, history = pretraining.pretrain(graphs, config, torch.device("cpu"), tmp_path / "killed", progress=False)
    assert saves == [1, 2, 3] and [h["epoch"] for h in history] == [1, 2, 3]
    for name, value in whole.state_dict().items():
        assert torch.equal(value, carried.state_dict()[name]), name
    with pytest.raises(ValueError, match="other settings"):  # a saved run is carried on only with its own settings
        pretraining.pretrain(graphs, PretrainConfig(hidden=16, epochs=3, held_out=0.2), torch.device("cpu"), tmp_path / "killed", progress=False)


def test_more_epochs_extend_a_finished_pretraining(graphs, tmp_path):
    """Three epochs, then asked for five: the same encoder as five at once (the rate is constant)."""
    short, longer = PretrainConfig(hidden=16, epochs=3, held_out=0.1), PretrainConfig(hidden=16, epochs=5, held_out=0.1)
    pretraining.pretrain(graphs, short, torch.device("cpu"), tmp_path / "extended", progress=False)
    extended, history = pretraining.pretrain(graphs, longer, torch.device("cpu"), tmp_path / "extended", progress=False)
    at_once, _ = pretraining.pretrain(graphs, longer, torch.device("cpu"), tmp_path / "at-once", progress=False)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]
    for name, value in at_once.state_dict().items():
        assert torch.equal(value, extended.state_dict()[name]), name


@pytest.mark.slow
def test_an_encoder_is_read_without_pickle_and_checked(encoder_dir, tmp_path):
    assert set(load_file(str(encoder_dir / "encoder.safetensors"))) == set(load_encoder(encoder_dir)[0])
    (tmp_path / "encoder.json").write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(ValueError, match="not a pretrained GraphMem encoder"):
        load_encoder(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_encoder(tmp_path / "missing")


def test_the_shipped_encoder_fits_the_tox21_recipe_and_left_its_splits_out():
    """checkpoints/encoders/graphmem-rdkit-descriptors: read without pickle, the structure of the
    Tox21 recipe's GraphMem (hidden 64, 6 hops), and pretrained without Tox21's valid and test molecules."""
    directory = CHECKPOINTS / "encoders" / "graphmem-rdkit-descriptors"
    state, card = load_encoder(directory)
    model = GraphMem(GraphMemConfig(ATOM_DIM, BOND_DIM, NUM_RELATIONS, num_tasks=12, hidden=64, hops=6, descriptor_dim=70))
    initialize_from_encoder(model, directory)
    assert all(torch.equal(model.state_dict()[name], value) for name, value in state.items())
    held_out = next(s for s in card.sources if "held_out_splits" in s)
    assert held_out["held_out_splits"] == "tox21:scaffold,tox21:random" and held_out["molecules_left_out"] > 0
    assert card.command.startswith("python -m molapp.cli.pretrain") and card.history[-1]["held_out_loss"] < card.history[0]["held_out_loss"]
