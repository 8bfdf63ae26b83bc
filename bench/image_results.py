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

from textadv.report import is_complete, read_json, table, write_json, write_text
from textadv.jobs.image import ImageSettings, image_train

# The documented table was measured with PGD-40 (step 0.01); APGD is the job's default since.
EVAL = dict(eval_eps=(0.3,), eval_examples=500, rho_examples=100, eval_attack="pgd")
# Madry's ε = 0.3 PGD training stays on the chance-level plateau with the small CNN and this budget,
# so PGD training at ε = 0.1 is run too (evaluated at 0.1 and 0.3).
VARIANTS = {"pgd-eps0.1": dict(adv="pgd", epsilon=0.1, eval_eps=(0.1, 0.3))}


def run_dir(root: Path, adv: str, seed: int) -> Path:
    return root / f"{adv}-seed{seed}"


def ensure(root: Path, name: str, seed: int, **extra) -> None:
    path = run_dir(root, name, seed)
    if not is_complete(path):
        print(f"== {path}", flush=True)
        settings = {**EVAL, "adv": name, **VARIANTS.get(name, {}), **extra}
        image_train(ImageSettings(seed=seed, progress=False, **settings), str(path), overwrite=path.exists())


def transfer_baselines(root: Path, names) -> dict:
    """The ensemble rows' black-box evaluation for the other methods: examples crafted on ``none``
    of the same seed (same held-out split), scored on each run's model; cached in ``transfer.json``."""
    import torch

    from textadv.eval import AttackSpec, transfer_accuracy
    from textadv.surfaces.image import ImageSurface
    from textadv.train import Batches
    from textadv.jobs.image import load_model
    from textadv.report.runs import saved_config
    from textadv.vision import load_images

    out = {}
    for name in names:
        out[name] = []
        for path in sorted(root.glob(f"{name}-seed*")):
            source_dir = run_dir(root, "none", int(path.name.rsplit("seed", 1)[1]))
            if not (is_complete(path) and is_complete(source_dir)):
                continue
            cache = path / "transfer.json"
            if not cache.is_file():
                settings = saved_config(path)["settings"]
                test = load_images(
                    settings["dataset"], seed=settings["seed"], test_fraction=settings["test_fraction"]
                ).test
                loader = Batches({k: v[: EVAL["eval_examples"]] for k, v in test.items()}, 250)
                source, target = ImageSurface(load_model(source_dir)), ImageSurface(load_model(path))
                torch.manual_seed(0)
                write_json(
                    cache,
                    {
                        attack: transfer_accuracy(
                            source,
                            target,
                            loader,
                            AttackSpec(attack, steps=40, step_size=0.01),
                            eps_values=[0.3],
                            seed=settings["seed"],
                            progress=False,
                        )
                        for attack in ("fgsm", "pgd")
                    },
                )
            out[name].append(read_json(cache))
    return out


def summarise(values) -> str:
    # None: not measured. NaN (written to JSON as "nan") marks a measure with no example to average, e.g. FGSM ρ when no
    # step up to ε = 1 changed any prediction.
    values = [v for v in values if isinstance(v, (int, float)) and v == v]
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
    if not args.table_only:
        for seed in args.seeds:
            for name in ["none", "fgsm", "pgd", *VARIANTS]:
                ensure(root, name, seed)
        for seed in args.seeds if args.ensemble else ():
            others = [str(run_dir(root, "none", s)) for s in (0, 1, 2) if s != seed]
            ensure(
                root, "ensemble", seed, ensemble_sources=tuple(others), transfer_from=str(run_dir(root, "none", seed))
            )
    results = {
        adv: [read_json(p / "metrics.json") for p in sorted(root.glob(f"{adv}-seed*")) if is_complete(p)]
        for adv in ["none", "fgsm", "pgd", *VARIANTS, "ensemble"]
    }
    rows = []
    for adv, runs in results.items():
        if not runs:
            continue
        rows.append(
            {
                "training": adv,
                "seeds": len(runs),
                "clean": summarise([r["clean_accuracy"] for r in runs]),
                "FGSM ε=0.1": summarise([r["fgsm"].get("0.1") for r in runs]),
                "FGSM ε=0.3": summarise([r["fgsm"]["0.3"] for r in runs]),
                "PGD-40 ε=0.1": summarise([r["pgd"].get("0.1") for r in runs]),
                "PGD-40 ε=0.3": summarise([r["pgd"]["0.3"] for r in runs]),
                "DeepFool ρ_adv": summarise([r["deepfool_rho"]["mean"] for r in runs]),
                "FGSM ρ": summarise([r["fgsm_rho"]["mean"] for r in runs]),
                "FGSM flips": summarise([r["fgsm_rho"]["fooled"] for r in runs]),
                "train s": summarise([r["train"]["seconds"] for r in runs]),
            }
        )
    text = table(rows)
    if results["ensemble"]:
        transfer = [
            {
                "training": name,
                "transfer FGSM ε=0.3": summarise([r["fgsm"]["0.3"] for r in runs]),
                "transfer PGD-40 ε=0.3": summarise([r["pgd"]["0.3"] for r in runs]),
            }
            for name, runs in transfer_baselines(root, [n for n in results if n not in ("none", "ensemble")]).items()
        ]
        transfer.append(
            {
                "training": "ensemble",
                "transfer FGSM ε=0.3": summarise([r["transfer"]["fgsm"]["0.3"] for r in results["ensemble"]]),
                "transfer PGD-40 ε=0.3": summarise([r["transfer"]["pgd"]["0.3"] for r in results["ensemble"]]),
            }
        )
        text += "\n" + table(transfer)
    write_text(root / "table.md", text)
    print(text)


if __name__ == "__main__":
    main()
