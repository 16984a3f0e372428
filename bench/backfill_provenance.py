"""Give every results file in bench/results a `provenance` block, without inventing one.

    .venv/bin/python bench/backfill_provenance.py [--check]

Files written since provenance was recorded have the block already. Of the older ones:
- a file written by `molapp.evaluation.provenance` before the block was nested keeps its own
  fields (command, commit, packages, machine, wall time, date), moved into the block;
- a file whose figure is a shipped checkpoint's own (same model, dataset, split and seed, and
  the card's test mean to 1e-6) gets the card's command, packages, machine and date, marked
  `"source": "derived from checkpoints/<name>/card.json"` (cards recorded no commit);
- any other gets `{"recorded": false}`: the run behind it was not recorded. What git knows is
  added beside it (issue 28, item 4), never a commit it ran at or package versions:
  - `"landed_in"`: the commit in which the file's current content landed in the repository,
    and its date: the oldest commit of the newest run of `git log -- <file>` whose version of
    the file equals the present one less its provenance block (a commit that changed only the
    block, as this script's own do, is passed over, so rerunning it gives the same answer).
    The code that ran it is that commit's or an earlier one's;
  - `"command"` and `"command_source"`, only where the command is known without guessing: the
    file's own top-level `command` field; or, for a file only `bench/ladder.py` writes (a
    fingerprint model's `<model>-<dataset>-<split>-seed<k>.json`) or a graph model's file of
    that name added by a commit that records ladder runs (its subject starts "Ladder"; the
    same name is also written by `molapp.train` run by hand, bench/train_memory_models.sh or
    bench/seeds.py, with other epoch budgets), the ladder command that reruns it; or, for
    `transfer-experiment-<dataset>.json`, the bench/transfer_experiment.py command its own
    dataset, seeds and config give. Any other file names no command.
`--check` changes nothing and exits 1 if a file lacks the block or git could add to a bare
`{"recorded": false}` (what the tests assert).
"""
from __future__ import annotations

import argparse
import functools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.evaluation.provenance import from_card  # noqa: E402
from molapp.models.card import Card  # noqa: E402
from molapp.models.checkpoint import read_card  # noqa: E402
from molapp.models.registry import MODEL_KINDS, benchmark_name  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FLAT_FIELDS = ("command", "commit", "packages", "machine", "wall_seconds", "date")  # what provenance() wrote before nesting
LANDED_NOTE = "the commit that added this content; the code that ran it is this commit or an earlier one"
OWN_COMMAND = "the file's own command field"
LADDER_COMMAND = "reconstructed: bench/ladder.py writes this file name"
LADDER_COMMIT = re.compile(r"Ladder\b")  # the subject of a commit that adds ladder runs ("Ladder: …", "Ladder runs: …")
LADDER_SPLITS = ("random", "scaffold")  # what ladder.py accepts
TRANSFER_FLAGS = {"hidden": "--hidden", "max_epochs": "--max-epochs", "patience": "--patience", "size_pools": "--size-pools"}


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


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def _figures(text: str) -> str:
    """A results file's content less its provenance block, in one canonical form (NaN-safe)."""
    record = json.loads(text)
    record.pop("provenance", None)
    return json.dumps(record, sort_keys=True)


@functools.cache
def _full_history() -> bool:
    return (_git("rev-parse", "--is-shallow-repository") or "").strip() == "false"


@functools.cache
def _has(commit: str, path: str) -> bool:
    """Whether `path` is in the repository at `commit` (a script that wrote a file exists where the file landed)."""
    return _git("cat-file", "-e", f"{commit}:{path}") is not None


@functools.cache
def _subject(commit: str) -> str:
    return (_git("log", "-1", "--format=%s", commit) or "").strip()


def landed_in(path: Path) -> dict | None:
    """The commit in which `path`'s present content (less its provenance block) landed, and
    its date; None when git cannot say (no history, a shallow clone, content not committed)."""
    if not _full_history():  # a shallow clone's oldest commit would look like the one that added every older file
        return None
    relative = str(path.resolve().relative_to(ROOT))
    figures = _figures(path.read_text())
    found = None
    for line in (_git("log", "--format=%H%x09%cs", "HEAD", "--", relative) or "").splitlines():
        commit, date = line.split("\t")
        then = _git("cat-file", "blob", f"{commit}:{relative}")
        try:
            if then is None or _figures(then) != figures:
                break
        except json.JSONDecodeError:
            break
        found = {"commit": commit, "date": date, "note": LANDED_NOTE}
    return found


def ladder_command(record: dict, name: str, landed: dict) -> tuple[str, str] | None:
    """The bench/ladder.py command that writes exactly this file, if the ladder is what wrote it."""
    from bench.ladder import FINGERPRINT_MODELS, Run
    from molapp.data.registry import DATASETS

    model, dataset, split, seed = (record.get(k) for k in ("model", "dataset", "split", "seed"))
    if not (isinstance(seed, int) and isinstance(dataset, str) and dataset in DATASETS and split in LADDER_SPLITS):
        return None
    if Run(model, dataset, split, seed).path(RESULTS).name != name or not _has(landed["commit"], "bench/ladder.py"):
        return None
    source = LADDER_COMMAND
    if model in FINGERPRINT_MODELS:
        source += " (a fingerprint model's: no other script writes one)"
    elif model in MODEL_KINDS:  # molapp.train writes this name for whoever ran it: the ladder only if the commit says so
        if not LADDER_COMMIT.match(_subject(landed["commit"])):
            return None
        source += " (through molapp.train), and the commit that added it records ladder runs (its subject starts \"Ladder\")"
        if MODEL_KINDS[model].joint:
            source += "; a joint kind: the one run writes this file and the other joint datasets' files"
    else:
        return None
    command = f"OMP_NUM_THREADS=1 python bench/ladder.py --models {model} --datasets {dataset} --splits {split} --seeds {seed}"
    return command, source


def transfer_experiment_command(record: dict, name: str, landed: dict) -> tuple[str, str] | None:
    """bench/transfer_experiment.py's command for this file, when its own fields give every
    argument that changes the figures (--threads and --data-dir do not)."""
    from molapp.training.trainer import TrainConfig

    config, dataset, seeds = record.get("config"), record.get("dataset"), record.get("seeds")
    if not (isinstance(config, dict) and isinstance(seeds, str) and name == f"transfer-experiment-{dataset}.json"):
        return None
    if not _has(landed["commit"], "bench/transfer_experiment.py"):
        return None
    if any(k not in config for k in TRANSFER_FLAGS):
        return None
    defaults = TrainConfig().to_dict()  # a field the command line cannot set must be at its default
    if any(config[k] != defaults[k] for k in config if k in defaults and k not in TRANSFER_FLAGS and k != "seed"):
        return None
    flags = " ".join(f"{flag} {config[k]}" for k, flag in TRANSFER_FLAGS.items())
    return (f"python bench/transfer_experiment.py --dataset {dataset} --seeds {seeds} {flags}",
            "reconstructed: bench/transfer_experiment.py writes this file name; its dataset, seeds and config give the arguments")


def command_for(record: dict, name: str, landed: dict) -> tuple[str, str] | None:
    if isinstance(record.get("command"), str) and record["command"].strip():
        return record["command"], OWN_COMMAND
    return ladder_command(record, name, landed) or transfer_experiment_command(record, name, landed)


def with_landing(record: dict, path: Path) -> dict | None:
    """A bare `{"recorded": false}` block with what git knows added; None if it knows nothing."""
    landed = landed_in(path)
    if landed is None:
        return None
    block = {"recorded": False, "landed_in": landed}
    found = command_for(record, path.name, landed)
    if found:
        block["command"], block["command_source"] = found
    return block


def ladder_argv(command: str) -> list[str]:
    """The arguments a reconstructed ladder command gives bench/ladder.py (for checking them)."""
    words = shlex.split(command)
    return words[words.index("bench/ladder.py") + 1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    cards = shipped_cards()
    counts = {"had it": 0, "moved": 0, "derived": 0, "landing added": 0, "not recorded": 0}
    stale = 0
    for path in sorted(RESULTS.glob("*.json")):
        record = json.loads(path.read_text())
        if "provenance" in record and record["provenance"] != {"recorded": False}:
            counts["had it"] += 1
            continue
        if args.check:
            if "provenance" not in record:
                print(f"{path.relative_to(ROOT)}: no provenance block", file=sys.stderr)
                stale += 1
            elif landed_in(path) is not None:
                print(f"{path.relative_to(ROOT)}: git knows the commit that added it: run bench/backfill_provenance.py", file=sys.stderr)
                stale += 1
            counts["not recorded"] += 1
            continue
        block = record.get("provenance") or block_for(record, cards)
        if block == {"recorded": False}:
            block = with_landing(record, path) or block
        counts["moved" if "commit" in block else "derived" if "source" in block else "landing added" if "landed_in" in block
               else "not recorded"] += 1
        if record.get("provenance") != block:
            record["provenance"] = block
            path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
