"""Rotten Tomatoes test error of none / random / at / vat / at+vat over several seeds (docs/results/text.md).

    python bench/text_results.py                       # 5 objectives x 3 seeds, run dirs in runs/results/
    python bench/text_results.py --seeds 0 --advs none vat --epochs 1

Each run is ``textadv finetune --adv <adv> --seed <s> --output-dir runs/results/<adv>-seed<s>`` with the
settings below (GloVe-initialised LSTM on the packaged corpus, the same held-out test split for every
seed). Runs are made seed by seed, so a partial sweep already holds complete rows; a run directory that
is complete (its metrics.json exists) is read back, not re-run. The table (mean ± sample std of the
test error over the seeds that finished) is printed and written to ``--table`` next to Miyato et al.'s
Rotten Tomatoes row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

MIYATO_RT = {"none": 17.9, "random": None, "at": 16.8, "vat": 19.1, "at+vat": 16.6}
ADVS = ("none", "random", "at", "vat", "at+vat")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--advs", nargs="+", default=list(ADVS), choices=ADVS)
    parser.add_argument("--root", default="runs/results")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=1.0, help="ε of the random/at/vat terms (normalised units)")
    parser.add_argument("--eval-eps", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--pgd-steps", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core machine)"
    )
    parser.add_argument("--table", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)

    from textadv.report import is_complete, read_json, table
    from textadv.jobs.finetune import FinetuneConfig, finetune

    root = Path(args.root)
    results: dict = {adv: [] for adv in args.advs}
    for seed in args.seeds:
        for adv in args.advs:
            run_dir = root / f"{adv}-seed{seed}"
            if not is_complete(run_dir):
                started = time.time()
                config = FinetuneConfig(
                    adv=adv,
                    seed=seed,
                    epochs=args.epochs,
                    epsilon=args.epsilon,
                    eval_eps=tuple(args.eval_eps),
                    pgd_steps=args.pgd_steps,
                    progress=False,
                )
                finetune(config, str(run_dir), overwrite=True)
                print(f"[{time.strftime('%H:%M:%S')}] {adv} seed {seed}: {time.time() - started:.0f} s", flush=True)
            metrics = read_json(run_dir / "metrics.json")
            results[adv].append(metrics)
            t = metrics["test"]
            print(
                f"{adv:7s} seed {seed}: error {100 * t['clean_error']:.2f}%  "
                + " ".join(f"pgd@{e}={a:.3f}" for e, a in t.get("pgd_accuracy", {}).items()),
                flush=True,
            )

    rows = []
    for adv in args.advs:
        runs = results[adv]
        if not runs:
            continue
        errors = [100 * m["test"]["clean_error"] for m in runs]
        std = statistics.stdev(errors) if len(errors) > 1 else float("nan")
        row = {
            "objective": adv,
            "test error % (mean ± std)": f"{statistics.mean(errors):.2f} ± {std:.2f}",
            "seeds": len(errors),
            "per seed": " ".join(f"{e:.2f}" for e in errors),
            "Miyato et al. RT": "–" if MIYATO_RT[adv] is None else f"{MIYATO_RT[adv]:.1f}",
        }
        for eps in runs[0]["test"].get("pgd_accuracy", {}):
            accs = [m["test"]["pgd_accuracy"][eps] for m in runs]
            row[f"PGD ε={eps} acc."] = f"{statistics.mean(accs):.3f}"
        row["train s/run"] = f"{statistics.mean(m['train']['seconds'] for m in runs):.0f}"
        rows.append(row)
    text = table(rows)
    print(text)
    if args.table:
        Path(args.table).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
