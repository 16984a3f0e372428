"""Every shipped checkpoint, run through the public prediction API on a few hundred rows of
its canonical test split shipped in tests/fixtures/checkpoint_rows (no ../shared needed),
scores what it scored when the rows were made (to 1e-4) and above what a model without
information about the molecules reaches on the same rows.

The full split's figure (the card's) is not expected here: a subset scores differently.
`tests/fixtures/make_checkpoint_rows.py` measured the stored figures; rerun it only after
retraining a checkpoint on purpose."""

from __future__ import annotations

import pytest

from molapp.models.card import Card
from molapp.models.checkpoint import read_card

from .conftest import CHECKPOINTS
from .rescoring import ROWS, chance_bar, expected, mean_score, predict_rows

EXPECTED = expected()["checkpoints"]
SHIPPED = sorted(p.parent for p in CHECKPOINTS.glob("*/card.json"))
# Ensembles of many members and the joint panel take several times a single model's time.
SLOW = {"graphmem-tox21-random-ensemble", "graphmem-tox21-scaffold-ensemble", "memgnn-lipophilicity-random-ensemble",
        "graphmem-tox21-deployment", "mt-graphmem-scaffold", "mt-graphmem-joint-deployment", "consensus-tox21-deployment",
        "transfer-tox21-scaffold"}


def kind_of(card: Card) -> str:
    """The kinds of checkpoint this file must cover: the model kind, or ensemble/deployment."""
    if card.is_deployment:
        return "deployment"
    return "ensemble" if card.members else card.model


def test_every_shipped_checkpoint_and_kind_has_fixture_rows():
    cards = {p.name: read_card(p) for p in SHIPPED}
    assert set(EXPECTED) == set(cards), "run tests/fixtures/make_checkpoint_rows.py after adding or removing a checkpoint"
    assert {kind_of(c) for c in cards.values()} >= {"graphmem", "mt-graphmem", "memgnn", "gmn", "graseq", "transfer", "ensemble", "deployment"}
    for name, figures in EXPECTED.items():
        assert figures["metric"] == cards[name].metric
        tasks = [t for part in figures["parts"] for t in part["tasks"]]
        assert sorted(tasks) == sorted(cards[name].tasks)  # every task is scored


def test_fixture_rows_are_small_and_say_where_they_come_from():
    files = list(ROWS.iterdir())
    assert sum(p.stat().st_size for p in files) < 400_000
    note = (ROWS.parent / "README.md").read_text()
    assert "MIT" in note and "DeepChem" in note and "make_checkpoint_rows.py" in note
    assert expected()["provenance"]["commit"]  # the run that measured the figures


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(EXPECTED)])
def test_checkpoint_rescores_on_its_fixture_rows(name):
    figures = EXPECTED[name]
    labels, predictions = predict_rows(CHECKPOINTS / name, figures["parts"])
    score = mean_score(labels, predictions, figures["metric"])
    assert score == pytest.approx(figures["mean"], abs=1e-4)
    bar = chance_bar(labels, predictions, figures["metric"])
    if figures["metric"] == "roc_auc":
        assert score > bar
    else:  # RMSE: well under what predicting the rows' own mean gives
        assert score < 0.6 * bar
