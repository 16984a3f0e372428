"""The shipped-checkpoint table in README.md and checkpoints/README.md is generated from the
cards (`make checkpoints-table`): it must be current, and say of a deployment model which
split its figures come from."""

from __future__ import annotations

from molapp.cli import checkpoints_table
from molapp.models.checkpoint import read_card

from .conftest import CHECKPOINTS, ROOT


def test_the_readme_tables_are_the_cards_current_table():
    body = checkpoints_table.table(CHECKPOINTS)
    assert f"{checkpoints_table.START}\n{body}\n{checkpoints_table.END}" in (ROOT / "README.md").read_text(), \
        "README.md's checkpoint table differs from the cards: run `make readme`"
    assert body in (CHECKPOINTS / "README.md").read_text()


def test_a_deployment_row_names_the_split_of_its_estimate():
    rows = {line.split("|")[1].strip(" `"): line for line in checkpoints_table.table(CHECKPOINTS).splitlines()[2:]}
    deployments = [path for path in sorted(CHECKPOINTS.glob("*-deployment"))]
    assert deployments
    for path in deployments:
        first_split = next(iter(read_card(path).estimate))
        assert f"its recipe on the {first_split} split" in rows[path.name], path.name
