"""``textadv finetune``: fine-tune a text classifier with embedding-space AT/VAT and write a run directory.

One flag per field of :class:`textadv.jobs.finetune_settings.FinetuneConfig` (derived from the
dataclass: its metadata holds the help); settings flags the user does not give stay out of the
namespace, so that ``--resume`` sees only what was given again.
"""

from __future__ import annotations

import argparse
import sys

HELP = (
    "Fine-tune a text classifier with adversarial (at) or virtual adversarial (vat) training on normalised embeddings."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..jobs.finetune_settings import FinetuneConfig
    from ..jobs.flags import add_run_flags, add_setting_flags

    add_setting_flags(parser, FinetuneConfig)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (None: torch's choice); 1 is "
        "much faster for the LSTM on a machine shared with other jobs",
    )
    add_run_flags(parser)


def given_settings(args: argparse.Namespace) -> dict:
    """The settings the user gave on the command line."""
    from ..jobs.finetune_settings import FinetuneConfig
    from ..jobs.flags import given_settings as given

    return given(args, FinetuneConfig)


def run(args: argparse.Namespace) -> int:
    from ..jobs.finetune import FinetuneConfig, finetune
    from ..jobs.flags import run_job

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    result = run_job(args, FinetuneConfig, finetune)
    t = result.metrics["test"]
    line = f"test accuracy {t['clean_accuracy']:.4f} (error {100 * t['clean_error']:.2f}%)"
    if "pgd_accuracy" in t:
        line += "; PGD (ℓ2) " + ", ".join(f"ε={e}: {a:.3f}" for e, a in t["pgd_accuracy"].items())
    print(f"{line}\nrun directory: {result.run_dir} (metrics.json, report.md, model/)", file=sys.stdout)
    return 0
