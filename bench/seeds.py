"""More seeds of graph-model runs already made: rerun a seed-0 run's exact command (from its
card) with `--seed K`, into bench/work/<name>-seed<K>, writing its results file. Mean ± std
over seeds then compares runs of one protocol.

    .venv/bin/python bench/seeds.py --models graphmem,memgnn --datasets esol,bace --seeds 1,2

Seed-0 runs are found in checkpoints/ and bench/work/ (each a card whose seed is 0). A run
whose results file exists is skipped, so the script resumes.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.models.card import Card  # noqa: E402
from molapp.models.checkpoint import read_card  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def seed_zero_runs() -> dict[tuple[str, str, str], Card]:
    """(model, dataset, split) → card of its seed-0 run (single-dataset runs only)."""
    runs = {}
    for path in sorted([*ROOT.glob("checkpoints/*/card.json"), *ROOT.glob("bench/work/*/card.json")]):
        card = read_card(path.parent)
        if card.seed == 0 and isinstance(card.dataset, str):
            runs.setdefault((card.model, card.dataset, card.split), card)  # shipped checkpoints first
    return runs


def command_for(card: Card, seed: int) -> list[str]:
    words = shlex.split(card.command)[3:]  # drop "python -m molapp.train"
    for flag in ("--seed", "--results-dir", "--threads"):  # set below
        while flag in words:
            at = words.index(flag)
            del words[at : at + 2]
    out = words.index("--out")
    words[out + 1] = str(ROOT / "bench" / "work" / f"{card.model}-{card.dataset}-{card.split}-seed{seed}")
    return [sys.executable, "-m", "molapp.train", *words, "--seed", str(seed), "--threads", "1", "--results-dir", str(RESULTS)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: every dataset with a seed-0 run)")
    parser.add_argument("--splits", default="random,scaffold")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    models, splits = args.models.split(","), args.splits.split(",")
    datasets = args.datasets.split(",") if args.datasets else None
    for (model, dataset, split), card in sorted(seed_zero_runs().items(), key=lambda item: item[1].train_seconds):
        if model not in models or split not in splits or (datasets and dataset not in datasets):
            continue
        for seed in map(int, args.seeds.split(",")):
            if (RESULTS / f"{model}-{dataset}-{split}-seed{seed}.json").exists():
                continue
            command = command_for(card, seed)
            print("$", shlex.join(command), flush=True)
            if not args.dry_run:
                subprocess.run(command, cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
