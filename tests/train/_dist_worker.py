"""Run by ``torchrun --nproc_per_node 2`` from test_distributed.py: train, then rank 0 saves the parameters."""

import sys

import torch
from accelerate import Accelerator

from textadv.objectives import build_objective
from textadv.surfaces.image import ImageSurface
from textadv.train import TrainConfig, train

sys.path.insert(0, sys.argv[2])
from _tiny import tiny_data, tiny_model  # noqa: E402


def main() -> None:
    out = sys.argv[1]
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    # Without a process group each process would train alone on full batches and the test would prove nothing.
    assert accelerator.num_processes == 2 and torch.distributed.is_initialized(), "expected 2 gloo processes"
    data, _ = tiny_data()
    model = tiny_model()
    objective = build_objective("at", eps=0.5, norm=2)
    config = TrainConfig(batch_size=16, epochs=2, lr=0.01, log_every=1, seed=3)
    train(
        model,
        ImageSurface(model),
        objective,
        data,
        config=config,
        output_dir=out,
        accelerator=accelerator,
        progress=False,
    )
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    main()
