"""Carrying an interrupted training run on where it stopped.

Long runs (a deployment member, a Lipophilicity ablation, Tox21's GraSeq-R) take an hour or
more on one core, and a killed process used to lose all of it. The trainer writes the run's
whole state — weights, the optimizers' moments, the best weights so far, the step count, the
history, and the numpy and torch random states — to `<out>/training_state.pt` after an epoch
(at most once a minute), and the next run with the same `--out` and the same settings starts
from the epoch after. Resumed or not, a run ends with the same weights: the random streams
continue where they were.

The file is the project's own, written by this module; it is read with
`torch.load(weights_only=True)` (tensors, numbers, strings, lists and dicts only), never
unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

STATE_FILE = "training_state.pt"


class SettingsChanged(ValueError):
    """The saved run was started with other settings: carrying it on would mix two runs."""


def state_path(out: str | Path) -> Path:
    return Path(out) / STATE_FILE


def save_state(path: Path, state: dict) -> None:
    """Writes `state` atomically: a run killed while writing leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def load_state(path: Path, settings: dict) -> dict | None:
    """The saved state of an interrupted run at `path`, or None when there is none. `settings`
    (kind, configuration, data sizes) must equal the saved run's."""
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["settings"] != settings:
        changed = sorted(k for k in set(settings) | set(state["settings"]) if settings.get(k) != state["settings"].get(k))
        raise SettingsChanged(f"{path} holds a run interrupted with other settings ({', '.join(changed)}): "
                              "delete it to start this run over")
    return state


def random_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_random_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
