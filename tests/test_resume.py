"""An interrupted training run carries on where it stopped and ends with the weights an
uninterrupted run ends with (molapp.training.resume)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molapp.featurizers.graph import ATOM_DIM, BOND_DIM, NUM_RELATIONS
from molapp.training.resume import STATE_FILE, SettingsChanged
from molapp.training.trainer import TaskGroup, TrainConfig, train

# One configuration per kind whose training holds state beyond the model's weights: Adam's
# moments and the learning-rate schedule (all), MemGNN's clustering optimizer and its
# epoch-end sampling (numpy stream), dropout (torch stream), GraSeq-RF's KL weight by epoch.
KINDS = {
    "graphmem": dict(hidden=16, hops=3, dropout=0.2),
    "memgnn": dict(hidden=16, keys="6,1", heads=2, query_layers=1, dropout=0.2),
    "graseq": dict(hidden=16, variant="rf", graph_layers=2, lstm_hidden=8, kl_anneal_epochs=3, dropout=0.2),
}
EPOCHS = 4


class Interrupted(Exception):
    pass


def group_of(tiny_dataset) -> TaskGroup:
    rows = np.arange(len(tiny_dataset))
    train_rows, held_out = rows[rows % 4 != 0], rows[rows % 4 == 0]
    return TaskGroup("tiny", [0, 1], tiny_dataset.subset(train_rows), tiny_dataset.subset(held_out), tiny_dataset.subset(held_out))


def run(group, kind, state_file=None, stop_at=None, **overrides):
    config = TrainConfig(**KINDS[kind], batch_size=8, max_epochs=EPOCHS, patience=EPOCHS, seed=3, **overrides)

    def on_epoch(entry):
        if entry["epoch"] == stop_at:  # the process is killed during this epoch's bookkeeping
            raise Interrupted

    return train([group], 2, ATOM_DIM, BOND_DIM, NUM_RELATIONS, "classification", config, torch.device("cpu"), kind=kind,
                 on_epoch=on_epoch, state_file=state_file, save_every_s=0.0)


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.slow) if k == "graseq" else k for k in sorted(KINDS)])  # graseq: its LSTMs
def test_a_run_interrupted_and_carried_on_ends_where_an_uninterrupted_one_does(tiny_dataset, tmp_path, kind):
    group = group_of(tiny_dataset)
    straight = run(group, kind)

    state_file = tmp_path / STATE_FILE
    with pytest.raises(Interrupted):
        run(group, kind, state_file, stop_at=3)  # epochs 1 and 2 saved; epoch 3 lost
    assert state_file.exists()
    resumed = run(group, kind, state_file)

    assert [h["epoch"] for h in resumed.history] == list(range(1, EPOCHS + 1))
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in straight.history]
    assert resumed.best_epoch == straight.best_epoch
    final, expected = resumed.model.state_dict(), straight.model.state_dict()
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[k], expected[k]) for k in expected)
    assert resumed.metrics == straight.metrics


def test_a_saved_run_is_not_carried_on_with_other_settings(tiny_dataset, tmp_path):
    group = group_of(tiny_dataset)
    state_file = tmp_path / STATE_FILE
    with pytest.raises(Interrupted):
        run(group, "graphmem", state_file, stop_at=2)
    with pytest.raises(SettingsChanged, match="learning_rate|config"):
        run(group, "graphmem", state_file, learning_rate=0.1)


def test_without_a_state_file_nothing_is_written(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(group_of(tiny_dataset), "graphmem")
    assert not list(tmp_path.iterdir())


def test_the_train_cli_carries_on_a_killed_run_in_its_out_folder_and_leaves_no_state_behind(tmp_path, monkeypatch):
    import functools

    from molapp.cli import train as train_cli
    from molapp.jobs.progress import ProgressLog
    from safetensors.torch import load_file

    from .test_deployment_and_calls import RECIPE

    command = [*RECIPE, "--split", "scaffold", "--max-epochs", "4"]
    assert train_cli.main([*command, "--out", str(tmp_path / "straight")]) == 0

    monkeypatch.setattr(train_cli, "train", functools.partial(train, save_every_s=0.0))
    original_epoch = ProgressLog.epoch

    def killed_at_epoch_3(self, entry):
        if entry["epoch"] == 3:
            raise Interrupted
        original_epoch(self, entry)

    monkeypatch.setattr(ProgressLog, "epoch", killed_at_epoch_3)
    with pytest.raises(Interrupted):
        train_cli.main([*command, "--out", str(tmp_path / "resumed")])
    assert (tmp_path / "resumed" / STATE_FILE).exists() and not (tmp_path / "resumed" / "card.json").exists()
    monkeypatch.setattr(ProgressLog, "epoch", original_epoch)
    assert train_cli.main([*command, "--out", str(tmp_path / "resumed")]) == 0

    assert not (tmp_path / "resumed" / STATE_FILE).exists()
    straight, resumed = (load_file(str(tmp_path / name / "weights.safetensors")) for name in ("straight", "resumed"))
    assert straight.keys() == resumed.keys() and all(torch.equal(straight[k], resumed[k]) for k in straight)
