"""Fine-tune a text classifier with embedding-space adversarial / virtual adversarial training.

    python recipes/finetune_classifier.py --adv vat --output-dir runs/vat
    python recipes/finetune_classifier.py --adv at --model minilm --output-dir runs/at-minilm
    accelerate launch --num_processes 2 recipes/finetune_classifier.py --adv vat --output-dir runs/vat2
    python recipes/finetune_classifier.py --resume runs/vat          # continue a killed run

The same flags as ``textadv finetune`` (``--help`` lists them); both call
:func:`textadv.train.finetune.finetune`, which writes the run directory (metrics.json, report.md,
accuracy_vs_eps.png, model/, neighbours.md, config.json). Copy this script to change any step.
"""
from __future__ import annotations

import argparse
import sys

from textadv.commands import finetune as command


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=command.HELP)
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return command.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"finetune_classifier.py: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
