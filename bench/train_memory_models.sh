#!/usr/bin/env bash
# Trains the MemGNN/GMN checkpoints and benchmark runs of issue 4, and GraphMem on the same
# datasets and splits for comparison. Every run uses the canonical split and writes its
# bench/results JSON. Shipped checkpoints go to checkpoints/, the rest to bench/work/.
#
#   bash bench/train_memory_models.sh            # all runs, one after another
#   bash bench/train_memory_models.sh 0 2        # runs 0, 2, 4, … (stream 0 of 2); `1 2` the others
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
stream=${1:-0}; streams=${2:-1}
train() { "$PY" -m molapp.train --results-dir bench/results --threads 1 "$@"; }
long="--max-epochs 150 --patience 40"
medium="--max-epochs 100 --patience 25"
runs=(
  "--dataset esol --model memgnn --split random --out checkpoints/memgnn-esol-random --max-epochs 300 --patience 80"
  "--dataset bace --model memgnn --split scaffold --out checkpoints/memgnn-bace-scaffold $long"
  "--dataset lipophilicity --model memgnn --split random --out checkpoints/memgnn-lipophilicity-random --max-epochs 250 --patience 60"
  "--dataset bbbp --model memgnn --split scaffold --out checkpoints/memgnn-bbbp-scaffold $long"
  "--dataset esol --model gmn --split random --out checkpoints/gmn-esol-random $long"
  "--dataset freesolv --model memgnn --split random --out bench/work/memgnn-freesolv-random $long"
  "--dataset esol --model memgnn --split scaffold --out bench/work/memgnn-esol-scaffold $long"
  "--dataset freesolv --model memgnn --split scaffold --out bench/work/memgnn-freesolv-scaffold $long"
  "--dataset bace --model memgnn --split random --out bench/work/memgnn-bace-random $long"
  "--dataset bbbp --model memgnn --split random --out bench/work/memgnn-bbbp-random $long"
  "--dataset lipophilicity --model memgnn --split scaffold --out bench/work/memgnn-lipophilicity-scaffold $medium"
  "--dataset tox21 --model memgnn --split random --out bench/work/memgnn-tox21-random $medium"
  "--dataset tox21 --model memgnn --split scaffold --out bench/work/memgnn-tox21-scaffold $medium"
  "--dataset esol --model graphmem --split random --out bench/work/graphmem-esol-random"
  "--dataset esol --model graphmem --split scaffold --out bench/work/graphmem-esol-scaffold"
  "--dataset freesolv --model graphmem --split random --out bench/work/graphmem-freesolv-random"
  "--dataset freesolv --model graphmem --split scaffold --out bench/work/graphmem-freesolv-scaffold"
  "--dataset bace --model graphmem --split random --out bench/work/graphmem-bace-random"
  "--dataset bbbp --model graphmem --split random --out bench/work/graphmem-bbbp-random"
  "--dataset lipophilicity --model graphmem --split random --out bench/work/graphmem-lipophilicity-random"
  "--dataset lipophilicity --model graphmem --split scaffold --out bench/work/graphmem-lipophilicity-scaffold"
)
for i in "${!runs[@]}"; do
  out=$(sed -E 's/.*--out ([^ ]+).*/\1/' <<<"${runs[$i]}")
  if (( i % streams == stream )) && [[ ! -f $out/card.json ]]; then  # a finished run is not redone
    echo "== run $i: ${runs[$i]}" >&2
    # shellcheck disable=SC2086
    train ${runs[$i]}
  fi
done
