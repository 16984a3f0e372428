"""Figures carry where they came from: every results file has a provenance block that
says how it was made or that it was not recorded, and the README's figures are what the
results files give (a number typed in by hand, or a results file changed without
regenerating the README, fails here)."""

from __future__ import annotations

import json

import pytest

from molapp.cli import readme_figures
from molapp.evaluation.provenance import describe, provenance
from molapp.models.checkpoint import read_card

from .conftest import ROOT

RESULTS = sorted((ROOT / "bench" / "results").glob("*.json"))
RECORDED = {"command", "commit", "packages", "machine", "wall_seconds", "date"}


def test_a_provenance_block_names_the_run():
    block = provenance(3.25, "python bench/example.py --flag")
    assert RECORDED <= set(block) and block["command"] == "python bench/example.py --flag" and block["wall_seconds"] == 3.2
    assert block["commit"] != "unknown" and len(block["commit"].split("+")[0]) == 40  # this is a git checkout
    assert {"python", "torch", "rdkit", "numpy"} <= set(block["packages"]) and "CPUs" in block["machine"]
    assert describe({"provenance": block}).startswith("`python bench/example.py --flag` at ")
    assert describe({"provenance": {"recorded": False}}) == describe({}) == "provenance not recorded"


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_every_results_file_says_where_its_figures_come_from(path):
    block = json.loads(path.read_text())["provenance"]
    if block.get("recorded") is False:
        assert block == {"recorded": False}
    elif "source" in block:  # written before provenance was recorded: the card of the run behind it
        card_path = ROOT / block["source"].removeprefix("derived from ")
        assert card_path.name == "card.json"
        card = read_card(card_path.parent)
        assert block["command"] == card.command and block["packages"] == card.packages and block["date"] == card.trained_at
    else:
        assert RECORDED <= set(block) and block["commit"]


def test_readme_figures_are_generated_from_the_results_files():
    text = (ROOT / "README.md").read_text()
    for name in readme_figures.BLOCKS:
        assert f"<!-- figures:{name}:start -->" in text, f"README lost the {name} block"
    assert readme_figures.render(text) == text, "README.md's figures differ from bench/results: run `make readme`"


def test_the_transfer_paragraph_does_not_call_molapps_figures_the_papers():
    text = (ROOT / "README.md").read_text()
    assert "the paper's GraphMem 0.727" not in text
    assert "molapp's own runs of the ladder" in readme_figures.transfer_comparison()
