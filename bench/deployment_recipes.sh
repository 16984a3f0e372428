#!/usr/bin/env bash
# Deployment recipes (issue 26): for a dataset, train the recipe on its canonical split
# (the estimate: seeds 0..N-1) and on every labelled row (the deployment members), one
# thread per run. The recipe — model, hyper-parameters, a fixed number of epochs, the
# ensemble size — is fixed beforehand from the split runs' valid curves, never from test.
#   bench/deployment_recipes.sh bace      # then: bench/deployment_recipes.sh build bace
#   bench/deployment_recipes.sh bbbp/graseq split-only   # a rival recipe's split runs, to compare on valid
# Runs land in bench/work/deploy/; `build` assembles checkpoints/<model>-<dataset>-deployment
# (ensemble CLI with --estimate, calls, map) and writes its results file into bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export MOLAPP_DATA=${MOLAPP_DATA:-../shared/data}
WORK=bench/work/deploy
mkdir -p "$WORK/results"

recipe() {  # dataset[/model] -> "model split epochs seeds extra-flags"
  case "$1" in
    esol)          echo "memgnn random 150 3 --hidden 64 --keys 64,1 --query-layers 2 --batch-size 32" ;;
    lipophilicity) echo "memgnn random 150 2" ;;  # 80 epochs: valid RMSE still falling at 0.738 (seed 0), not kept
    bace)          echo "memgnn scaffold 50 3" ;;
    bbbp/graseq)   echo "graseq scaffold 21 3 --variant rf" ;;
    bbbp)          echo "graphmem scaffold 30 3 --descriptors --positive-weighting unweighted" ;;
    tox21)         echo "graphmem scaffold 30 3 --descriptors --positive-weighting unweighted" ;;
    *) echo "no recipe for $1" >&2; exit 2 ;;
  esac
}

train() {  # dataset[/model] split seed
  read -r model recipe_split epochs seeds extra <<<"$(recipe "$1")"
  local dataset=${1%%/*}
  local out="$WORK/$model-$dataset-$2-seed$3"
  [ -f "$out/card.json" ] && return 0
  $PY -m molapp.train --dataset "$dataset" --model "$model" $extra --no-early-stopping --max-epochs "$epochs" \
      --threads 1 --split "$2" --seed "$3" --out "$out" --results-dir "$WORK/results" > "$WORK/$model-$dataset-$2-seed$3.log" 2>&1
}

build() {  # dataset[/model]
  read -r model split epochs seeds extra <<<"$(recipe "$1")"
  set -- "${1%%/*}"
  local members="" estimate=""
  for s in $(seq 0 $((seeds - 1))); do
    members+="${members:+,}$WORK/$model-$1-all-seed$s"; estimate+="${estimate:+,}$WORK/$model-$1-$split-seed$s"
  done
  [ -f "$WORK/$model-$1-$split-recipe-ensemble/card.json" ] ||
    $PY -m molapp.cli.ensemble --out "$WORK/$model-$1-$split-recipe-ensemble" --members "$estimate" --results-dir "$WORK/results"
  $PY -m molapp.cli.ensemble --out "checkpoints/$model-$1-deployment" --results-dir bench/results \
      --members "$members" --estimate "$WORK/$model-$1-$split-recipe-ensemble"
  $PY -m molapp.cli.calls --checkpoint "checkpoints/$model-$1-deployment" --valid-from "$WORK/$model-$1-$split-recipe-ensemble"
  $PY -m molapp.cli.build_map --checkpoint "checkpoints/$model-$1-deployment"
}

if [ "$1" = build ]; then build "$2"; exit; fi
read -r model split epochs seeds extra <<<"$(recipe "$1")"
# split runs first: their valid figures decide between recipes before the deployment runs
for s in $(seq 0 $((seeds - 1))); do train "$1" "$split" "$s"; done
[ "${2:-}" = split-only ] || for s in $(seq 0 $((seeds - 1))); do train "$1" all "$s"; done
echo "DONE $1"
