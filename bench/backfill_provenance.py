"""Give every results file in bench/results a `provenance` block, without inventing one.

    .venv/bin/python bench/backfill_provenance.py [--check]

Files written since provenance was recorded have the block already. Of the older ones:
- a file written by `molapp.evaluation.provenance` before the block was nested keeps its own
  fields (command, commit, packages, machine, wall time, date), moved into the block;
- a file whose figure is a shipped checkpoint's own (same model, dataset, split and seed, and
  the card's test mean to 1e-6) gets the card's command, packages, machine and date, marked
  `"source": "derived from checkpoints/<name>/card.json"` (cards recorded no commit);
- any other gets `{"recorded": false}`: the run behind it cannot be traced.
`--check` changes nothing and exits 1 if a file lacks the block (what the tests assert).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.evaluation.provenance import from_card  # noqa: E402
from molapp.models.card import Card  # noqa: E402
from molapp.models.checkpoint import read_card  # noqa: E402
from molapp.models.registry import benchmark_name  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FLAT_FIELDS = ("command", "commit", "packages", "machine", "wall_seconds", "date")  # what provenance() wrote before nesting


def shipped_cards() -> dict[Path, Card]:
    return {p.relative_to(ROOT): read_card(p.parent) for p in sorted((ROOT / "checkpoints").glob("*/card.json"))}


def card_behind(record: dict, cards: dict[Path, Card]) -> Path | None:
    """The shipped card whose own test figure this record's is, if any."""
    for path, card in cards.items():
        if card.is_deployment or "test" not in card.metrics:
            continue
        if record.get("benchmark") in ("ensemble", "deployment"):
            same_run = record.get("checkpoint") == path.parent.name
        else:
            same_run = (record.get("model"), record.get("dataset"), record.get("split"), record.get("seed")) == (
                benchmark_name(card), card.dataset, card.split, card.seed) and card.members is None
        if same_run and isinstance(record.get("test"), float) and abs(record["test"] - card.metrics["test"]["mean"]) <= 1e-6:
            return path
    return None


def block_for(record: dict, cards: dict[Path, Card]) -> dict:
    if all(field in record for field in ("commit", "packages")):
        return {field: record.pop(field) for field in FLAT_FIELDS if field in record}
    path = card_behind(record, cards)
    if path is not None:
        return from_card(cards[path], str(path))
    return {"recorded": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    cards = shipped_cards()
    counts = {"had it": 0, "moved": 0, "derived": 0, "not recorded": 0}
    for path in sorted(RESULTS.glob("*.json")):
        record = json.loads(path.read_text())
        if "provenance" in record:
            counts["had it"] += 1
            continue
        if args.check:
            print(f"{path.relative_to(ROOT)}: no provenance block", file=sys.stderr)
            counts["not recorded"] += 1
            continue
        block = block_for(record, cards)
        counts["moved" if "commit" in block else "derived" if "source" in block else "not recorded"] += 1
        record["provenance"] = block
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 1 if args.check and counts["not recorded"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
