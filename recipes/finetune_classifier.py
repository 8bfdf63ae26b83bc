"""Fine-tune a text classifier with embedding-space adversarial / virtual adversarial training.

    python recipes/finetune_classifier.py --adv vat --output-dir runs/vat
    python recipes/finetune_classifier.py --adv at --model minilm --output-dir runs/at-minilm
    python recipes/finetune_classifier.py --resume runs/vat          # continue a killed run

A thin entry point with the same flags as ``textadv finetune`` (``--help`` lists them). The
pipeline itself, readable top to bottom, is :func:`textadv.jobs.finetune.finetune`
(textadv/jobs/finetune.py): copy that function to change a step. It writes the run directory
(config.json, checkpoint/, model/, neighbours.md, accuracy_vs_eps.png, report.md, metrics.json last).
Several processes, on CPU (gloo) or GPUs (NCCL)::

    accelerate launch --multi_gpu --num_processes 2 recipes/finetune_classifier.py ...
    torchrun --nproc_per_node 2 recipes/finetune_classifier.py ...

(``accelerate launch`` without ``--multi_gpu`` starts one process on a machine without several GPUs.)
"""

from __future__ import annotations

import sys

from textadv.cli import recipe_main
from textadv.commands import finetune


def main(argv=None) -> int:
    return recipe_main(finetune, "finetune_classifier.py", argv)


if __name__ == "__main__":
    sys.exit(main())
