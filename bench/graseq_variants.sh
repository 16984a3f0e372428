#!/usr/bin/env bash
# GraSeq's variants (paper Table 4), three seeds each, at the ladder's budget (100 epochs,
# patience 20; bench/ladder.py) on BBBP and BACE (scaffold split) and Tox21 (random split):
# GraSeq, -R, -RF and the single readings (GraphSAGE alone, the BiLSTM alone). GraSeq-F, molapp's
# GraSeq, and the GCN are the ladder's graseq-* and gcn-* files on the same cases.
#   bench/graseq_variants.sh             # every run not done yet (a run whose results file or checkpoint
#                                        exists is skipped; one killed midway carries on from its last saved epoch)
#   SEEDS="0" bench/graseq_variants.sh   # some seeds
# One thread per run; Tox21's R variants are the long ones (their SMILES decoder). Results:
# bench/results/graseq-<variant>-<dataset>-<split>-seed<k>.json (names from ModelSpec.ablation_suffix);
# checkpoints and logs: bench/work/graseq-variants/. The Papers page reads the results.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export MOLAPP_DATA=${MOLAPP_DATA:-../shared/data}
WORK=bench/work/graseq-variants
SEEDS=${SEEDS:-0 1 2}
VARIANTS=${VARIANTS:-graph sequence plain r rf}
mkdir -p "$WORK"

# Case by case, every seed of one before the next: each case's comparison is complete as soon
# as its own runs are.
for case in bbbp:scaffold bace:scaffold tox21:random; do
  dataset=${case%%:*} split=${case##*:}
  for seed in $SEEDS; do
    for variant in $VARIANTS; do
      out="$WORK/graseq-$variant-$dataset-$split-seed$seed"
      # done here or on another machine (results are committed; checkpoints are not)
      [ -f "$out/card.json" ] || [ -f "bench/results/graseq-$variant-$dataset-$split-seed$seed.json" ] && continue
      $PY -m molapp.train --dataset "$dataset" --split "$split" --seed "$seed" --model graseq --variant "$variant" \
          --max-epochs 100 --patience 20 --threads 1 --out "$out" --results-dir bench/results > "$out.log" 2>&1
    done
  done
done
echo DONE
