"""Training presets: the budgets a user picks from (the Train page, `python -m molapp.train
--preset`), each a few numbers in one place. A flag given explicitly wins over its preset.

| preset   | max epochs | patience | hidden | hops (GraphMem) | what it is for |
|----------|-----------:|---------:|-------:|----------------:|----------------|
| quick    |         15 |        5 |     32 |               3 | a first look in minutes: is there signal in the data? |
| standard |         60 |       12 |     64 |               6 | the shipped models' budget (TrainConfig's defaults) |
| thorough |        150 |       25 |    128 |               8 | the last few points, for a larger data set and more time |

Early stopping on the validation metric ends most runs well before their maximum epochs;
`patience` is how many epochs without improvement it waits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Preset:
    max_epochs: int
    patience: int
    hidden: int
    hops: int  # GraphMem's reasoning hops; other kinds ignore it
    description: str

    def fields(self) -> dict:
        """The TrainConfig fields the preset sets."""
        return {k: v for k, v in asdict(self).items() if k != "description"}


PRESETS: dict[str, Preset] = {
    "quick": Preset(15, 5, 32, 3, "a first look in minutes: is there signal in the data?"),
    "standard": Preset(60, 12, 64, 6, "the shipped models' budget"),
    "thorough": Preset(150, 25, 128, 8, "the last few points, for a larger data set and more time"),
}
DEFAULT_PRESET = "standard"


def describe(name: str) -> str:
    """e.g. 'quick: up to 15 epochs (stops after 5 without improvement), hidden 32, 3 hops — a first look…'."""
    preset = PRESETS[name]
    return (f"{name}: up to {preset.max_epochs} epochs (stops after {preset.patience} without improvement), "
            f"hidden {preset.hidden}, {preset.hops} hops (GraphMem) — {preset.description}")
