"""Assay panels: one per shipped checkpoint, and one per panel the user trained or uploaded
(MOLAPP_HOME/panels/<name>/, `molapp.jobs.home`), named for people."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from molapp.jobs.home import panels_dir
from molapp.models.card import Card
from molapp.models.checkpoint import read_card
from molapp.models.registry import descriptors_added, is_assembled, model_title

ROOT = Path(__file__).resolve().parents[2]


def checkpoint_dir() -> Path:
    """The shipped checkpoints, or the folder `MOLAPP_CHECKPOINTS` names."""
    return Path(os.environ.get("MOLAPP_CHECKPOINTS", ROOT / "checkpoints"))


DATASET_TITLES = {
    "tox21": ("Tox21", "toxicity assays"),
    "hiv": ("HIV", "antiviral assay"),
    "bace": ("BACE", "BACE-1 assay"),
    "bbbp": ("BBBP", "blood-brain barrier task"),
    "clintox": ("ClinTox", "clinical tasks"),
    "sider": ("SIDER", "side-effect classes"),
    "esol": ("ESOL", "solubility task"),
    "lipophilicity": ("Lipophilicity", "logD task"),
    "freesolv": ("FreeSolv", "hydration free energy task"),
    "nci60_balanced": ("NCI-60", "cancer cell lines"),
}


@dataclass(frozen=True)
class Panel:
    path: Path
    card: Card
    is_user: bool = False  # trained or uploaded by the user (MOLAPP_HOME/panels), not shipped

    @property
    def title(self) -> str:
        """e.g. 'Tox21 — 12 toxicity assays (GraphMem, scaffold split)', 'ESOL — 1 solubility task
        (MemGNN ensemble of 3, random split)'; a user's panel: 'Yours: my-screen — 2 tasks
        from my_screen.csv (GraphMem, scaffold split)'."""
        card = self.card
        count = len(card.tasks)
        model = model_title(card.model) + (" + descriptors" if descriptors_added(card) else "")
        if card.ensemble_size > 1:
            model += f" ensemble of {card.ensemble_size}"
        if self.is_user:
            source = (card.data_file.name if card.data_file else "") or ", ".join(DATASET_TITLES.get(d, (d,))[0] for d in card.datasets)
            return f"Yours: {self.path.name} — {count} task{'s' if count != 1 else ''} from {source} ({model}, {self.trained_on})"
        if isinstance(card.dataset, str):
            name, noun = DATASET_TITLES.get(card.dataset, (card.dataset, "tasks"))
            return f"{name} — {count} {noun} ({model}, {self.trained_on})"
        names = ", ".join(DATASET_TITLES.get(d, (d,))[0] for d in card.dataset)
        return f"Joint panel — {count} tasks from {names} ({model}, {self.trained_on})"

    @property
    def is_deployment(self) -> bool:
        """Trained on every labelled row; its figures are its recipe's split models'."""
        return self.card.split == "all"

    @property
    def trained_on(self) -> str:
        return "deployment: all labelled rows" if self.is_deployment else f"{self.card.split} split"

    def task_label(self, task: str) -> str:
        return self.card.task_labels.get(task, task)

    def units(self, task: str) -> str:
        """The task's units (regression), e.g. 'log mol/L'; empty for classification."""
        if self.card.task_units and task in self.card.task_units:  # a user's panel: units typed per target
            return self.card.task_units[task]
        dataset = self.card.task_dataset.get(task, self.card.dataset)
        return self.card.units.get(dataset, "") if isinstance(dataset, str) else ""

    def test_metric(self, task: str) -> float | None:
        value = self.card.metrics["test"].get(task)
        return None if value is None or value != value else float(value)


SPLIT_ORDER = {"all": 0, "scaffold": 1, "random": 2}  # deployment panels first: the ones to predict with


def list_panels(directory: Path | None = None, user_home: Path | None = None) -> list[Panel]:
    """Shipped checkpoints, single-dataset panels first, deployment panels before split
    models, datasets in DATASET_TITLES's order (Tox21 first), a trained model before a
    consensus of the same data (a consensus computes all of RDKit's descriptors, several times
    slower to featurize: the trained model is the default for a screen); then the user's
    panels (MOLAPP_HOME/panels), by name."""
    directory = directory or checkpoint_dir()
    panels = [Panel(p.parent, read_card(p.parent)) for p in sorted(directory.glob("*/card.json"))]
    dataset_order = {name: k for k, name in enumerate(DATASET_TITLES)}  # Tox21 first: the app's flagship panel
    shipped = sorted(panels, key=lambda p: (not isinstance(p.card.dataset, str), SPLIT_ORDER.get(p.card.split, 3),
                                            dataset_order.get(p.card.dataset, len(dataset_order)) if isinstance(p.card.dataset, str) else 0,
                                            is_assembled(p.card.model), p.path.name))
    return shipped + list_user_panels(user_home)


def list_user_panels(home: Path | None = None) -> list[Panel]:
    """The user's panels, by name; a folder whose card cannot be read or is not a valid card
    is skipped (a panel being written, or a broken one: the Train page lists it with its
    problem)."""
    panels = []
    for card_path in sorted(panels_dir(home).glob("*/card.json")):
        try:
            card = read_card(card_path.parent)
        except (OSError, ValueError):
            continue
        panels.append(Panel(card_path.parent, card, is_user=True))
    return panels
