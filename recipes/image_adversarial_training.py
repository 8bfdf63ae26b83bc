"""Adversarial training of a small CNN on real MNIST digits (Goodfellow FGSM, Madry PGD, Tramèr ensemble, VAT).

A thin entry point with the same flags as ``textadv image-train`` (``--help`` lists them); the
pipeline itself is :func:`textadv.jobs.image.image_train` (textadv/jobs/image.py). Examples::

    python recipes/image_adversarial_training.py --adv pgd --output-dir runs/pgd
    python recipes/image_adversarial_training.py --adv none --seed 1 --output-dir runs/src1
    python recipes/image_adversarial_training.py --adv ensemble --ensemble-sources runs/src1 --output-dir runs/ens \\
        --transfer-from runs/src1

Several processes, on CPU (gloo) or GPUs (NCCL)::

    accelerate launch --multi_gpu --num_processes 2 recipes/image_adversarial_training.py ...
    torchrun --nproc_per_node 2 recipes/image_adversarial_training.py ...

(``accelerate launch`` without ``--multi_gpu`` starts one process on a machine without several GPUs.)
"""

import sys

from textadv.cli import recipe_main
from textadv.commands import image_train


def main(argv=None) -> int:
    return recipe_main(image_train, "image_adversarial_training.py", argv)


if __name__ == "__main__":
    sys.exit(main())
