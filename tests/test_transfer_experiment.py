"""bench/transfer_experiment.py keeps each finished run and carries an interrupted experiment on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import transfer_experiment
from molapp.training.trainer import TaskGroup, train

PLANS = 5  # single-task target, single-task helping, multi-task, transfer, transfer + pool


class Killed(Exception):
    pass


@pytest.fixture()
def tiny_setting(tiny_dataset, monkeypatch):
    """The experiment on the tiny fixture: target has_N (10 % of its labels), helping aromatic."""
    rows = np.arange(len(tiny_dataset))
    group = TaskGroup("tiny", [0, 1], tiny_dataset.subset(rows[rows % 3 != 0]), tiny_dataset.subset(rows[rows % 3 == 0]),
                      tiny_dataset.subset(rows[rows % 3 == 0]))
    monkeypatch.setitem(transfer_experiment.SETTINGS, "tiny", ("has_N", "aromatic"))
    monkeypatch.setitem(transfer_experiment.SLIDES, "tiny", {})
    monkeypatch.setattr(transfer_experiment, "build_groups", lambda *args: ([group], None, None, None))


def test_a_killed_experiment_carries_on_with_the_runs_it_had_not_finished(tiny_setting, tmp_path, monkeypatch):
    command = ["--dataset", "tiny", "--seeds", "0", "--max-epochs", "2", "--patience", "2", "--hidden", "16",
               "--out-dir", str(tmp_path / "results"), "--work-dir", str(tmp_path / "work")]
    calls = []

    def killed_on_third_run(*args, **kwargs):
        calls.append(kwargs["state_file"])
        if len(calls) == 3:
            raise Killed
        return train(*args, **kwargs)

    monkeypatch.setattr(transfer_experiment, "train", killed_on_third_run)
    with pytest.raises(Killed):
        transfer_experiment.main(command)
    assert len(list((tmp_path / "work").glob("*.json"))) == 2

    calls.clear()
    monkeypatch.setattr(transfer_experiment, "train", lambda *args, **kwargs: calls.append(1) or train(*args, **kwargs))
    assert transfer_experiment.main(command) == 0
    assert len(calls) == PLANS - 2  # the two finished runs were reused
    written = json.loads((tmp_path / "results" / "transfer-experiment-tiny.json").read_text())
    assert len(written["runs"]) == PLANS and all("config" not in r for r in written["runs"])
    assert {r["method"] for r in written["table"]} == {"GCN single-task [here]", "GCN multi-task [here]", "Transfer (ours) [here]",
                                                         "Transfer + Stage I pool (ours) [here]"}

    # other settings: nothing is reused
    calls.clear()
    assert transfer_experiment.main([*command[:5], "3", *command[6:]]) == 0
    assert len(calls) == PLANS
