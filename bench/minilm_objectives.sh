#!/usr/bin/env bash
# Rotten Tomatoes test error of the packaged MiniLM fine-tuned with --adv none / at / vat / at+vat
# (docs/results/text.md, "MiniLM: none / AT / VAT / AT+VAT").
#
#   bash bench/minilm_objectives.sh                      # run dirs and logs in /tmp/minilm-runs
#   ROOT=runs/minilm STEPS=192 NICE=15 bash bench/minilm_objectives.sh
#
# 1. ε is chosen on the validation split: AT, seed 0, ε in $EPS_GRID; the run with the highest
#    final validation accuracy (history.json, ties to the smaller ε) wins. The test split is not
#    looked at for this choice. The winning ε is reused for VAT and AT+VAT (no sweep of their own).
# 2. none, then at, vat, at+vat at that ε, seeds $SEEDS (AT's seed-0 run is the sweep's run).
# 3. A table of test error mean ± sample std per objective, then each objective against none (bench/seed_stats.py).
# 4. With VAT_CHECK=1: VAT, seed 0, at the other ε of the grid, printing validation accuracy only, to
#    see whether AT's ε is also VAT's best on validation (reported, never used to pick ε).
# A run whose metrics.json exists is read back, not re-run, so an interrupted sweep can be restarted.
# With RUNS="ADV:EPS:SEED ...", only those runs are made, in that order, and the script stops (no sweep,
# no table): a way to order a long set so that what finishes first is a complete comparison (e.g. seed
# 0 of every objective before seed 1). A run is the same whichever way it is started; the plain
# invocation afterwards reads them all back for the sweep and the table.
# With NO_RUN=1, no run is started: the sweep and the table are made from the runs that exist (the
# sweep's runs must all exist; a table row has as many seeds as have finished).
set -euo pipefail

ROOT=${ROOT:-/tmp/minilm-runs}
STEPS=${STEPS:-64}
SEEDS=${SEEDS:-"0 1 2"}
EPS_GRID=${EPS_GRID:-"0.3 1 3"}
ADVS=${ADVS:-"none at vat at+vat"}
PY=${PY:-python}
NICE=${NICE:-10}
mkdir -p "$ROOT"

# Everything but the objective, ε and the seed: $STEPS steps of batch 16 (64 steps = 1,024 snippets,
# 1/10 of an epoch), texts cut at 32 tokens, lr 1e-4 (the short-run setting of the normalisation
# comparison in docs/results/text.md), validation accuracy at the last step, clean test error on the
# whole test split.
COMMON=(--model minilm --max-length 32 --batch-size 16 --max-steps "$STEPS" --eval-every "$STEPS" --lr 1e-4
  --eval-eps 0 --neighbour-words --no-progress --threads 1)

run() { # run ADV EPS SEED
  local dir="$ROOT/$1-eps$2-seed$3"
  if [ ! -f "$dir/metrics.json" ] && [ "${NO_RUN:-0}" != 1 ]; then
    echo "[$(date -u +%H:%M:%S)] $1 eps=$2 seed=$3" >&2
    nice -n "$NICE" "$PY" -m textadv.cli finetune "${COMMON[@]}" --adv "$1" --epsilon "$2" --seed "$3" \
      --output-dir "$dir" --overwrite >"$dir.log" 2>&1
  fi
}

validation_accuracy() { # the last validation accuracy in a run's history.json
  "$PY" -c 'import json,sys; h=json.load(open(sys.argv[1])); print([r["eval"]["validation_accuracy"] for r in h if "eval" in r][-1])' "$1/history.json"
}

if [ -n "${RUNS:-}" ]; then
  for r in $RUNS; do
    IFS=: read -r adv eps seed <<<"$r"
    run "$adv" "$eps" "$seed"
  done
  exit 0
fi

best_eps="" best_acc=-1
for eps in $EPS_GRID; do
  run at "$eps" 0
  acc=$(validation_accuracy "$ROOT/at-eps$eps-seed0")
  echo "validation accuracy at eps=$eps seed 0: $acc" | tee -a "$ROOT/eps_sweep.txt" >&2
  if "$PY" -c "import sys; sys.exit(0 if float('$acc') > float('$best_acc') else 1)"; then
    best_eps=$eps best_acc=$acc
  fi
done
echo "chosen eps=$best_eps (validation accuracy $best_acc)" | tee -a "$ROOT/eps_sweep.txt" >&2

for adv in $ADVS; do
  for seed in $SEEDS; do
    # none has no ε; its directory is named with the chosen one like the others
    run "$adv" "$best_eps" "$seed"
  done
done

"$PY" - "$ROOT" "$best_eps" $ADVS <<'EOF'
import json, statistics, sys
from pathlib import Path
root, eps, advs = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
print(f"| objective | ε | test error % (mean ± std) | n | per seed | validation error % (mean) | train s/run |")
print("|---|---|---|---|---|---|---|")
for adv in advs:
    runs = sorted(root.glob(f"{adv}-eps{eps}-seed*/metrics.json"))
    if not runs:
        continue
    ms = [json.loads(p.read_text()) for p in runs]
    errs = [100 * m["test"]["clean_error"] for m in ms]
    vals = []
    for p in runs:
        h = json.loads((p.parent / "history.json").read_text())
        vals.append(100 * (1 - [r["eval"]["validation_accuracy"] for r in h if "eval" in r][-1]))
    std = statistics.stdev(errs) if len(errs) > 1 else float("nan")
    print(f"| {adv} | {'–' if adv == 'none' else eps} | {statistics.mean(errs):.2f} ± {std:.2f} | {len(errs)} | "
          f"{' '.join(f'{e:.2f}' for e in errs)} | {statistics.mean(vals):.2f} | "
          f"{statistics.mean(m['train']['seconds'] for m in ms):.0f} |")
EOF

# Each objective against none, paired by seed and Welch (t and p; textadv.report.stats).
if [[ " $ADVS " == *" none "* ]]; then
  others=()
  for adv in $ADVS; do [ "$adv" = none ] || others+=("$adv=$ROOT/$adv-eps$best_eps-seed{seed}"); done
  if [ ${#others[@]} -gt 0 ]; then
    echo
    "$PY" "$(dirname "$0")/seed_stats.py" "$ROOT/none-eps$best_eps-seed{seed}" "${others[@]}" --seeds $SEEDS
  fi
fi

if [ "${VAT_CHECK:-0}" = 1 ]; then
  for eps in $EPS_GRID; do
    run vat "$eps" 0
    echo "vat validation accuracy at eps=$eps seed 0: $(validation_accuracy "$ROOT/vat-eps$eps-seed0")" \
      | tee -a "$ROOT/eps_sweep.txt" >&2
  done
fi
