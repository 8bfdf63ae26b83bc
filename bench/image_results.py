"""The image results of docs/results/image.md: MNIST-5k, 3 seeds, none / fgsm / pgd (/ ensemble) training.

Each run is ``textadv image-train`` with the defaults (small CNN, 2 epochs, PGD training 7 × 0.1)
and an evaluation at ε = 0.3 (FGSM; PGD-40 of 0.01 with one restart) on 500 held-out images,
DeepFool's and FGSM's ρ on 100. Runs already complete in ``--root`` are kept (re-running continues an
interrupted benchmark); the table of mean ± std over the complete runs is printed and written to
``<root>/table.md``. Seeds are independent, so they may run as parallel processes::

    for s in 0 1 2; do OMP_NUM_THREADS=1 python bench/image_results.py --seeds $s & done; wait
    python bench/image_results.py --table-only                      # aggregate
    python bench/image_results.py --ensemble                        # and Tramèr's ensemble

``--ensemble`` trains seed s against the static ``none`` models of the two other seeds and adds a
black-box evaluation from ``none`` of seed s (a model it never saw) for every method.
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from textadv.report import is_complete, read_json, table, write_text
from textadv.vision import ImageExperimentConfig, run_experiment

EVAL = dict(eval_eps=(0.3,), eval_examples=500, rho_examples=100)


def run_dir(root: Path, adv: str, seed: int) -> Path:
    return root / f"{adv}-seed{seed}"


def ensure(root: Path, adv: str, seed: int, **extra) -> dict:
    path = run_dir(root, adv, seed)
    if not is_complete(path):
        print(f"== {path}", flush=True)
        run_experiment(ImageExperimentConfig(output_dir=str(path), adv=adv, seed=seed, overwrite=path.exists(),
                                             progress=False, **EVAL, **extra))
    return read_json(path / "metrics.json")


def summarise(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.3f} (1 seed)"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="runs/image_results")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ensemble", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="only aggregate the complete runs under --root")
    args = parser.parse_args()
    root = Path(args.root)
    methods = ["none", "fgsm", "pgd"] + ["ensemble"] * args.ensemble
    if not args.table_only:
        for seed in args.seeds:
            for adv in methods[:3]:
                ensure(root, adv, seed)
        for seed in args.seeds if args.ensemble else ():
            others = [str(run_dir(root, "none", s)) for s in (0, 1, 2) if s != seed]
            ensure(root, "ensemble", seed, ensemble_sources=tuple(others), transfer_from=str(run_dir(root, "none", seed)))
    results = {adv: [read_json(p / "metrics.json") for p in sorted(root.glob(f"{adv}-seed*")) if is_complete(p)]
               for adv in ["none", "fgsm", "pgd", "ensemble"]}
    rows = []
    for adv, runs in results.items():
        if not runs:
            continue
        rows.append({
            "training": adv, "seeds": len(runs),
            "clean": summarise([r["clean_accuracy"] for r in runs]),
            "FGSM ε=0.3": summarise([r["fgsm"]["0.3"] for r in runs]),
            "PGD-40 ε=0.3": summarise([r["pgd"]["0.3"] for r in runs]),
            "DeepFool ρ_adv": summarise([r["deepfool_rho"]["mean"] for r in runs]),
            "FGSM ρ": summarise([r["fgsm_rho"]["mean"] for r in runs]),
            "train s": summarise([r["train"]["seconds"] for r in runs]),
        })
    text = table(rows)
    if results["ensemble"]:
        transfer = [{"training": "ensemble", "transfer FGSM ε=0.3": summarise([r["transfer"]["fgsm"]["0.3"] for r in results["ensemble"]]),
                     "transfer PGD-40 ε=0.3": summarise([r["transfer"]["pgd"]["0.3"] for r in results["ensemble"]])}]
        text += "\n" + table(transfer)
    write_text(root / "table.md", text)
    print(text)


if __name__ == "__main__":
    main()
