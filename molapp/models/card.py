"""The model card (`card.json`): what a checkpoint's model is, how it was trained and how
well it does, as a typed `Card`.

`Card.from_json` checks every field against its annotation and says which one is wrong
("card.json: field 'tasks' must be a list of strings, got int"); an unknown field is an
error too, so a misspelt field cannot be silently ignored. Numbers the model computes with
are not in the card: target un-scaling and calibration are modules of the saved model, their
parameters in `weights.safetensors` (`molapp.models.outputs`); the card says which output
the weights hold (`output`) and keeps the calibration's report (`calibration`).

Cards written before this format (no `format` field: target_mean/target_std and the Platt
slope/intercept in the card, the network's weights unprefixed) load through one converter,
`upgrade_legacy`, which also gives the weights those numbers as tensors.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

CARD_FORMAT = 2
TASK_TYPES = ("classification", "regression")
# What the model's output module does to the network's raw output (`molapp.models.outputs`).
OUTPUTS = {"sigmoid": "classification", "platt": "classification", "target_scale": "regression"}
# What loading a model needs: the fields without a default, and the two that describe the
# saved model (filled in by `save_checkpoint`, so a card made in code may leave them out).
REQUIRED_FIELDS = ("model", "featurizer", "tasks", "task_type", "config", "output")


@dataclass
class CalibrationReport:
    """How the checkpoint's Platt calibration was fitted and what it changed (its slope and
    intercept are in the weights): `expected_calibration_error[part]` = {"before", "after"},
    mean over tasks, 10 equal-width bins."""

    method: str
    fitted_on: str
    expected_calibration_error: dict[str, dict[str, float]]


@dataclass
class MemberSummary:
    """One member of an ensemble: its own training run."""

    checkpoint: str
    seed: int
    command: str
    train_seconds: float
    valid: float | None = None  # its own metric means; None for a deployment member (no held-out rows)
    test: float | None = None


@dataclass
class EstimateSource:
    """A split ensemble of a deployment model's recipe, whose figures the deployment card quotes."""

    checkpoint: str
    ensemble_size: int
    command: str
    valid: float
    test: float


@dataclass
class DataFile:
    """The user's own file a panel was trained on (`python -m molapp.train --data`)."""

    name: str
    sha256: str
    rows: int


@dataclass
class DataColumns:
    """The file's columns trained on: the SMILES column ("" for an SDF: each record's own
    structure) and the target columns."""

    smiles: str
    targets: list[str]


@dataclass
class DataNote:
    """One thing the data check found and handled (`molapp.data.user_data.Problem`)."""

    kind: str
    message: str
    rows: list[int] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DataCheck:
    """What the data check of a user's file read and kept (`DataReport.summary`)."""

    rows_read: int
    molecules: int
    notes: list[DataNote] = field(default_factory=list)


@dataclass
class Card:
    """A checkpoint's card. `config` (the network's constructor arguments), `ensemble_size`
    and `output` describe the saved model and are filled in by `save_checkpoint` from the
    model itself. `metrics[part]` = {task: value, "mean": value[, "per_dataset": {dataset:
    mean}]} for part "valid"/"test" (empty for a model trained on every row)."""

    model: str
    featurizer: str
    tasks: list[str]
    task_type: str
    config: dict[str, Any] = field(default_factory=dict)
    ensemble_size: int = 1
    output: str = "sigmoid"
    format: int = CARD_FORMAT
    command: str = ""
    dataset: str | list[str] = ""
    targets: list[str] | None = None  # --targets: the dataset tasks trained on, when not all
    task_labels: dict[str, str] = field(default_factory=dict)
    task_dataset: dict[str, str] = field(default_factory=dict)
    metric: str = ""
    units: dict[str, str] = field(default_factory=dict)
    split: str = ""
    split_source: dict[str, str] = field(default_factory=dict)
    seed: int | list[int] = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    descriptors: str | None = None  # the descriptor set's version, for a model that reads them
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    epochs_run: int | None = None
    best_epoch: int | None = None
    train_seconds: float = 0.0
    trained_on: str = ""
    machine: str = ""
    trained_at: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    applicability_domain: dict[str, Any] = field(default_factory=dict)
    calibration: CalibrationReport | None = None
    members: list[MemberSummary] | None = None  # an ensemble's members
    estimate: dict[str, EstimateSource] | None = None  # a deployment model's: split → its recipe's split ensemble
    metrics_from: str | None = None  # a deployment model's: whence its `metrics`
    preset: str | None = None  # --preset: the training budget (`molapp.training.presets`)
    # A panel trained on the user's own file (`--data`): source "user", the file, its columns,
    # what the data check found, and the units typed per target (regression).
    source: str | None = None
    data_file: DataFile | None = None
    columns: DataColumns | None = None
    data_report: DataCheck | None = None
    task_units: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: Any, source: str = "card.json") -> Card:
        """A card from its JSON object (current format; see `upgrade_legacy` for older ones);
        a ValueError naming `source` and the first field that is missing, unknown or of the
        wrong type."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: not a JSON object of card fields (it holds {_json_name(data)})")
        if data.get("format") != CARD_FORMAT:
            raise ValueError(f"{source}: field 'format' must be {CARD_FORMAT}, got {data.get('format')!r}")
        for name in REQUIRED_FIELDS:
            if name not in data:
                raise ValueError(f"{source}: missing field {name!r}")
        card = _build(cls, data, source, "")
        if card.task_type not in TASK_TYPES:
            raise ValueError(f"{source}: field 'task_type' must be one of {', '.join(TASK_TYPES)}, got {card.task_type!r}")
        if OUTPUTS.get(card.output) != card.task_type:
            allowed = ", ".join(name for name, kind in OUTPUTS.items() if kind == card.task_type)
            raise ValueError(f"{source}: field 'output' must be one of {allowed} for a {card.task_type} model, got {card.output!r}")
        if card.ensemble_size < 1:
            raise ValueError(f"{source}: field 'ensemble_size' must be at least 1, got {card.ensemble_size}")
        return card

    def to_json(self) -> dict:
        """The JSON object `from_json` reads back; optional fields that are None are left out."""
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}

    @property
    def is_classifier(self) -> bool:
        return self.task_type == "classification"

    @property
    def datasets(self) -> list[str]:
        """The dataset names (`dataset` is one name, or a list for joint training)."""
        return [self.dataset] if isinstance(self.dataset, str) else list(self.dataset)

    @property
    def is_deployment(self) -> bool:
        """Trained on every labelled row: no held-out rows of its own."""
        return self.split == "all"

    @property
    def is_user_data(self) -> bool:
        """Trained on the user's own file (`--data`), not a registry dataset."""
        return self.data_file is not None

    @property
    def reads_descriptors(self) -> bool:
        """Whether the model reads whole-molecule descriptors besides the graph (its inputs
        must then be featurized with `descriptors=card.descriptors`)."""
        return self.config.get("descriptor_dim", 0) > 0


def upgrade_legacy(data: dict, weights: dict[str, Tensor], source: str = "card.json") -> tuple[dict, dict[str, Tensor]]:
    """A card and weights of the first format (no `format` field) → the current format:
    the weights' keys move under `network.`; the card's target_mean/target_std (regression)
    or calibration slope/intercept (classification) become the output module's tensors
    (`output.mean`/`output.std`, `output.slope`/`output.intercept`, float32 as the old
    transform made them) and leave the card, which says which output it now has. A field
    this needs that is missing or mistyped is a ValueError naming it."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: not a JSON object of card fields (it holds {_json_name(data)})")
    card = dict(data)
    state = {f"network.{key}": value for key, value in weights.items()}
    task_type = card.get("task_type")
    if task_type == "regression":
        for name in ("target_mean", "target_std"):
            _check_numbers(card.get(name), f"{source}: field {name!r}")
        state["output.mean"] = torch.tensor(card.pop("target_mean"))
        state["output.std"] = torch.tensor(card.pop("target_std"))
        card["output"] = "target_scale"
    elif isinstance(card.get("calibration"), dict):
        calibration = card["calibration"] = dict(card["calibration"])
        for name in ("slope", "intercept"):
            _check_numbers(calibration.get(name), f"{source}: field 'calibration.{name}'")
        state["output.slope"] = torch.tensor(calibration.pop("slope"))
        state["output.intercept"] = torch.tensor(calibration.pop("intercept"))
        card["output"] = "platt"
    else:
        card["output"] = "sigmoid"
    card["format"] = CARD_FORMAT
    return card, state


def _check_numbers(value: Any, where: str) -> None:
    if not (isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{where} must be a list of numbers, got {_json_name(value)}")


# --- checking JSON values against the annotations -------------------------------------------

_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _build(cls: type, data: dict, source: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in data:
        if name not in fields:
            raise ValueError(f"{source}: unknown field {prefix + name!r}")
    values = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ValueError(f"{source}: missing field {prefix + name!r}")
            continue
        values[name] = _checked(data[name], hints[name], source, prefix + name)
    return cls(**values)


def _checked(value: Any, annotation: Any, source: str, where: str) -> Any:
    """`value` as `annotation` describes it (nested dataclasses built, integers where a float
    is wanted made floats), or a ValueError naming the field."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        options = [option for option in arguments if option is not type(None)]
        if len(options) == 1 and value is not None:  # X | None: X's own error, naming the nested field
            return _checked(value, options[0], source, where)
        for option in options:
            try:
                return _checked(value, option, source, where)
            except ValueError:
                continue
        raise _wrong(value, annotation, source, where)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise _wrong(value, annotation, source, where)
        return _build(annotation, value, source, where + ".")
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(value, annotation, source, where)
        return [_checked(v, arguments[0], source, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _wrong(value, annotation, source, where)
        return {k: _checked(v, arguments[1], source, f"{where}.{k}") for k, v in value.items()}
    if annotation is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if annotation in _NAMES and type(value) is annotation:
        return value
    raise _wrong(value, annotation, source, where)


def _describe(annotation: Any) -> str:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in arguments if a is not type(None)) + (" or null" if type(None) in arguments else "")
    if origin is list:
        return "a list of " + _plural(arguments[0])
    if origin is dict:
        return "an object of " + _plural(arguments[1])
    if dataclasses.is_dataclass(annotation):
        return f"an object with fields {', '.join(f.name for f in dataclasses.fields(annotation))}"
    return _NAMES.get(annotation, "a value")


def _plural(annotation: Any) -> str:
    plain = {str: "strings", int: "integers", float: "numbers", bool: "booleans"}
    if annotation is Any:
        return "values"
    return plain.get(annotation) or _describe(annotation).removeprefix("a ").removeprefix("an ") + "s"


def _json_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return {str: "str", int: "int", float: "float", list: "list", dict: "object", type(None): "null"}.get(type(value), type(value).__name__)


def _wrong(value: Any, annotation: Any, source: str, where: str) -> ValueError:
    return ValueError(f"{source}: field {where!r} must be {_describe(annotation)}, got {_json_name(value)}")
