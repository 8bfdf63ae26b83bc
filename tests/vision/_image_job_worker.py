"""Run by ``torchrun --nproc_per_node 2`` from test_image_job.py: the image job, each rank saving what it returned."""

import sys
from pathlib import Path

import torch

from textadv.jobs.image import ImageSettings, image_train
from textadv.report import write_json


def main() -> None:
    run_dir, returned = sys.argv[1], Path(sys.argv[2])
    torch.set_num_threads(1)
    settings = ImageSettings(
        adv="fgsm",
        dataset="digits",
        train_size=64,
        test_size=16,
        batch_size=16,
        max_steps=3,
        eval_eps=(0.1,),
        eval_pgd_steps=1,
        rho_examples=4,
        progress=False,
    )
    result = image_train(settings, run_dir)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    write_json(returned / f"rank-{rank}.json", result.metrics)  # as metrics.json writes them (NaN as "nan")


if __name__ == "__main__":
    main()
