"""``textadv image-train``: adversarial training of a small CNN on real MNIST digits, with a robustness report.

One flag per field of :class:`textadv.jobs.image_settings.ImageSettings` (derived from the
dataclass); ``recipes/image_adversarial_training.py`` runs the same job with the same flags.
"""

from __future__ import annotations

import argparse

HELP = (
    "Train a small CNN on MNIST-5k with --adv none|fgsm|pgd|ensemble|vat and report clean/FGSM/APGD accuracy "
    "and DeepFool's rho."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..jobs.flags import add_run_flags, add_setting_flags
    from ..jobs.image_settings import ImageSettings

    add_setting_flags(parser, ImageSettings)
    add_run_flags(parser)


def run(args: argparse.Namespace) -> int:
    from ..jobs.flags import run_job
    from ..jobs.image import ImageSettings, image_train

    result = run_job(args, ImageSettings, image_train)
    metrics = result.metrics
    attack = metrics["eval_attack"]["name"]
    iterative = metrics[attack]
    worst = max(iterative)
    print(
        f"{result.run_dir}: clean {metrics['clean_accuracy']:.4f}, FGSM@{worst:g} {metrics['fgsm'][worst]:.4f}, "
        f"{attack.upper()}@{worst:g} {iterative[worst]:.4f}, DeepFool rho {metrics['deepfool_rho']['mean']:.3f}, "
        f"FGSM rho {metrics['fgsm_rho']['mean']:.3f}"
    )
    return 0
