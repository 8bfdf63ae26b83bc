"""APGD-CE (Croce & Hein 2020): textadv against torchattacks' APGD, and early-stopped robust accuracy.

Same model and batch as bench/attacks.py (a LeNet-sized CNN trained two epochs on MNIST-5k, a held-out
batch of 256). Two parts, both measured in this one run:

1. Agreement with torchattacks 3.5.1's APGD (``pip install --no-deps -r bench/requirements.txt``): same
   ε, same 40 iterations, one run each (no restarts). The two cannot start from the same point:
   torchattacks draws its own start (a uniform direction scaled so its largest pixel change is ε) with
   ``torch.manual_seed``, textadv a uniform point of the ball from its generator. So the comparison is
   of what the attack finds: the robust accuracy (an image counts as broken when any iterate
   misclassifies it, both libraries' counting) and the mean of the best loss f_max. The agreement
   asked for is that torchattacks' value lies within the spread of textadv's over ``--seeds`` random
   starts, widened by one image (accuracy) or by 2% (loss); the script exits 1 when it does not.
   PGD-40 (step 2.5·ε/40, Madry's rule) is printed beside them as the same-budget baseline.

2. Early stopping: ``robust_accuracy(..., AttackSpec("apgd"))`` with ``early_stop=True`` (images leave
   the batch at their first misclassifying iterate) and ``early_stop=False`` (the whole batch runs all
   iterations), timed in turns, median of ``--repeats``; the accuracies must be identical (exit 1
   otherwise) and the time ratio is printed.

    python bench/apgd.py [--batch 256] [--steps 40] [--seeds 5] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attacks import data_and_model, median_seconds  # noqa: E402  (the same CNN, batch and timing as bench/attacks.py)

SETTINGS = [("inf", 0.1), ("inf", 0.2), (2, 1.5)]


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def textadv_apgd(model, x, y, norm, eps, steps, seed):
    """(robust accuracy with first-misclassification counting, mean f_max) of one seeded textadv run."""
    from textadv.core import Threat, apgd_run

    threat = Threat(norm, eps, bounds=(0.0, 1.0))
    gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
    loss_rows = lambda z, rows: F.cross_entropy(model(z), y[rows], reduction="none")  # noqa: E731
    wrong = lambda z, rows: model(z).argmax(1) != y[rows]  # noqa: E731
    broken = apgd_run(loss_rows, x, threat, steps=steps, generator=gen(), done_fn=wrong).x
    plain = apgd_run(lambda z: F.cross_entropy(model(z), y, reduction="none"), x, threat, steps=steps, generator=gen())
    return accuracy(model, broken, y), plain.loss.mean().item()


def torchattacks_apgd(model, x, y, norm, eps, steps, seed):
    import torchattacks

    attack = torchattacks.APGD(model, norm="Linf" if norm == "inf" else "L2", eps=eps, steps=steps, seed=seed)
    broken = attack(x, y)  # the first misclassifying iterate, the clean image where none
    loss_best, _ = attack.perturb(x, y, best_loss=True)
    return accuracy(model, broken, y), loss_best.mean().item()


def pgd_baseline(model, x, y, norm, eps, steps, seed):
    from textadv.core import Threat, pgd

    loss_fn = lambda z: F.cross_entropy(model(z), y, reduction="none")  # noqa: E731
    threat = Threat(norm, eps, bounds=(0.0, 1.0))
    x_adv = pgd(
        loss_fn, x, threat, steps=steps, step_size=2.5 * eps / steps, generator=torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():
        return accuracy(model, x_adv, y), loss_fn(x_adv).mean().item()


def agreement(model, x, y, steps, seeds) -> bool:
    try:
        import torchattacks  # noqa: F401
    except ImportError:
        print("torchattacks not installed: agreement skipped (pip install --no-deps -r bench/requirements.txt)")
        return True
    ok = True
    print(
        "| norm | ε | textadv APGD acc (min–max over seeds) | torchattacks APGD acc | PGD acc | "
        "textadv mean f_max | torchattacks mean f_max | PGD mean loss | agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for norm, eps in SETTINGS:
        ours = [textadv_apgd(model, x, y, norm, eps, steps, s) for s in range(seeds)]
        theirs = torchattacks_apgd(model, x, y, norm, eps, steps, 0)
        base = pgd_baseline(model, x, y, norm, eps, steps, 0)
        accs, losses = [a for a, _ in ours], [f for _, f in ours]
        one = 1 / len(y)
        agree = (min(accs) - one <= theirs[0] <= max(accs) + one) and (
            min(losses) * 0.98 <= theirs[1] <= max(losses) * 1.02
        )
        ok &= agree
        print(
            f"| ℓ{'∞' if norm == 'inf' else '2'} | {eps} | {min(accs):.3f}–{max(accs):.3f} | {theirs[0]:.3f} | "
            f"{base[0]:.3f} | {min(losses):.3f}–{max(losses):.3f} | {theirs[1]:.3f} | {base[1]:.3f} | "
            f"{'yes' if agree else 'NO'} |"
        )
    return ok


def early_stop_timing(model, x, y, steps, repeats) -> bool:
    from textadv.eval import AttackSpec, robust_accuracy
    from textadv.surfaces import ImageSurface
    from textadv.train import Batches

    surface, loader = ImageSurface(model), Batches({"pixels": x, "labels": y}, len(y))
    spec = AttackSpec("apgd", norm="inf", steps=steps)
    run = {
        early: (
            lambda early=early: robust_accuracy(
                surface, loader, spec, eps_values=[0.1, 0.3], progress=False, early_stop=early
            )
        )
        for early in (True, False)
    }
    seconds, results = median_seconds(run, repeats)  # warm-up (whose results are compared), then turns
    fast, full = seconds[True], seconds[False]
    same = results[True] == results[False]
    print(
        f"\nAPGD-{steps} robust accuracy at ε = 0.1, 0.3 (ℓ∞): early stop {results[True]}, full {results[False]}"
        f" -> {'identical' if same else 'DIFFERENT'}"
    )
    print(f"median seconds: early stop {fast:.3f}, full {full:.3f}; time early / full = {fast / full:.2f}")
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5, help="textadv random starts for the agreement range")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y, model, source = data_and_model(args.batch, args.seed)
    model.requires_grad_(False)
    print(
        f"data: {source}, batch {len(x)}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"clean accuracy {accuracy(model, x, y):.3f}\n"
    )
    ok = agreement(model, x, y, args.steps, args.seeds)
    ok &= early_stop_timing(model, x, y, args.steps, args.repeats)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
