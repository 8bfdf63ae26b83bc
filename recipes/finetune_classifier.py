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

import sys

from textadv.cli import recipe_main
from textadv.commands import finetune


def main(argv=None) -> int:
    return recipe_main(finetune, "finetune_classifier.py", argv)


if __name__ == "__main__":
    sys.exit(main())
