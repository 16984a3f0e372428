"""Reproduce the shipped checkpoints' metrics on the canonical splits.

    .venv/bin/python bench/reproduce.py --evaluate   # re-score each shipped checkpoint (minutes)
    .venv/bin/python bench/reproduce.py --train      # retrain each from its card's command (hours on 2 cores)

--evaluate compares the re-scored test/valid means with the card and fails on a
difference over 1e-4. --train reruns the card's exact command into bench/work/<name>
and writes bench/results/<model>-<dataset>-<split>-seed<k>.json; for an ensemble, each
member's command (into bench/work/<name>-seed<k>, no results file), then the ensemble.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.models.checkpoint import read_card  # noqa: E402
from molapp.training.evaluate import evaluate_checkpoint  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--evaluate", action="store_true")
    mode.add_argument("--train", action="store_true")
    parser.add_argument("--checkpoints", nargs="*", default=None, help="checkpoint directories (default: all shipped)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    directories = [Path(p) for p in args.checkpoints] if args.checkpoints else sorted(p.parent for p in (ROOT / "checkpoints").glob("*/card.json"))
    failures = 0
    for directory in directories:
        card = read_card(directory)
        if args.train:
            work = ROOT / "bench" / "work" / directory.name
            if not card.members:
                retrain(card.command, work)
                continue
            members = [work.with_name(f"{work.name}-seed{m.seed}") for m in card.members]
            for member, out in zip(card.members, members):
                retrain(member.command, out, results=False)  # a member is not a ladder run of the default configuration
            shutil.rmtree(work, ignore_errors=True)  # scratch from an earlier reproduction; the CLI wants a new folder
            run([sys.executable, "-m", "molapp.cli.ensemble", "--members", ",".join(map(str, members)), "--out", str(work)])
            continue
        scores = evaluate_checkpoint(directory, args.data_dir, workers=2)
        for part in ("valid", "test"):
            values = [v for group in scores[part].values() for k, v in group.items() if k != "mean" and v == v]
            mean = sum(values) / len(values)
            expected = card.metrics[part]["mean"]
            ok = abs(mean - expected) <= 1e-4
            failures += not ok
            print(f"{directory.name:32s} {part:5s} {card.metric} {mean:.4f}  card {expected:.4f}  {'ok' if ok else 'MISMATCH'}")
    return 1 if failures else 0


def run(command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def retrain(card_command: str, out: Path, results: bool = True) -> None:
    """A card's `python -m molapp.train …` command, into `out` (and its results file into bench/results)."""
    command = shlex.split(card_command)[3:]  # drop "python -m molapp.train"
    command[command.index("--out") + 1] = str(out)
    if "--results-dir" in command:  # where the original run kept its file; the reproduction writes to bench/results
        del command[command.index("--results-dir") : command.index("--results-dir") + 2]
    run([sys.executable, "-m", "molapp.train", *command, *(["--results-dir", str(ROOT / "bench" / "results")] if results else [])])


if __name__ == "__main__":
    raise SystemExit(main())
