"""Run by ``torchrun --nproc_per_node 2`` from test_distributed.py: train each named objective; rank 0 saves each.

_dist_worker.py OUT TESTS_DIR OBJECTIVE...   (each objective's run under OUT/<objective>)
"""

import sys
from pathlib import Path

import torch
from accelerate import Accelerator

from textadv.objectives import build_objective
from textadv.surfaces.image import ImageSurface
from textadv.train import train
from textadv.train.launch import leave_process_group

sys.path.insert(0, sys.argv[2])
from _tiny import OBJECTIVES, tiny_config, tiny_data, tiny_model  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    # Without a process group each process would train alone on full batches and the test would prove nothing.
    assert accelerator.num_processes == 2 and torch.distributed.is_initialized(), "expected 2 gloo processes"
    data, _ = tiny_data()
    for name in sys.argv[3:]:
        model = tiny_model()
        train(
            model,
            ImageSurface(model),
            build_objective(name, **OBJECTIVES[name]),
            data,
            config=tiny_config(),
            output_dir=out / name,
            accelerator=accelerator,
            progress=False,
        )
        accelerator.wait_for_everyone()
    leave_process_group()


if __name__ == "__main__":
    main()
