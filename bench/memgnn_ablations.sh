#!/usr/bin/env bash
# The MemGNN/GMN paper's ablations (issue 29), three seeds each, at the ladder's budget
# (150 epochs, patience 40; bench/ladder.py) on ESOL and Lipophilicity (random split) and
# BACE (scaffold split): MemGNN with plain GAT instead of e-GAT (4.4.1), MemGNN without the
# clustering loss (Fig. 4), GMN on the adjacency matrix or its normalization instead of RWR
# (4.4.2). The design's own figures are the ladder's memgnn-* and gmn-* files. For Fig. 4's
# question the ESOL runs with and without the loss are counted by bench/cluster_groups.py.
#   bench/memgnn_ablations.sh            # every run not done yet (a run whose checkpoint exists is skipped;
#                                        one killed midway carries on from its last saved epoch)
#   SEEDS="0" bench/memgnn_ablations.sh  # some seeds
# One thread per run; about 7 h on one core for three seeds. Results: bench/results/
# <benchmark name>-<dataset>-<split>-seed<k>.json (names from ModelSpec.ablation_suffix);
# checkpoints and logs: bench/work/ablations/. The Papers page reads the results.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export MOLAPP_DATA=${MOLAPP_DATA:-../shared/data}
WORK=bench/work/ablations
SEEDS=${SEEDS:-0 1 2}
mkdir -p "$WORK/design-results"

train() {  # name dataset split seed results-dir flags...
  local name=$1 dataset=$2 split=$3 seed=$4 results=$5; shift 5
  local out="$WORK/$name-$dataset-$split-seed$seed"
  [ -f "$out/card.json" ] && return 0
  $PY -m molapp.train --dataset "$dataset" --split "$split" --seed "$seed" "$@" --max-epochs 150 --patience 40 \
      --threads 1 --out "$out" --results-dir "$results" > "$out.log" 2>&1
}

# Dataset by dataset, every seed of one before the next: ESOL's three seeds (minutes each) settle
# Fig. 4's question first, and each dataset's comparison is complete as soon as its runs are.
for case in esol:random bace:scaffold lipophilicity:random; do
  dataset=${case%%:*} split=${case##*:}
  for seed in $SEEDS; do
    train memgnn-gat "$dataset" "$split" "$seed" bench/results --model memgnn --no-edge-attention
    train memgnn-noclustering "$dataset" "$split" "$seed" bench/results --model memgnn --no-clustering
    train gmn-adjacency "$dataset" "$split" "$seed" bench/results --model gmn --topology adjacency
    train gmn-normalized-adjacency "$dataset" "$split" "$seed" bench/results --model gmn --topology normalized-adjacency
    [ "$dataset" = esol ] || continue
    # Fig. 4: the design's ESOL checkpoint too, for its clusters (its figures stay the ladder's:
    # this run's results go to $WORK, not bench/results)
    train memgnn esol random "$seed" "$WORK/design-results" --model memgnn
    for name in memgnn memgnn-noclustering; do
      [ -f "bench/results/clusters-$name-esol-random-seed$seed.json" ] ||
        $PY bench/cluster_groups.py "$WORK/$name-esol-random-seed$seed"
    done
  done
done
echo DONE
