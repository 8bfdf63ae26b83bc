"""Run by ``torchrun --nproc_per_node 2`` from test_distributed.py: each named run of ``_tiny.RUNS``; rank 0 saves each.

_dist_worker.py OUT TESTS_DIR RUN...   (each run's directory OUT/<run>)
"""

import sys
from pathlib import Path

import torch
from accelerate import Accelerator

from textadv.train.launch import leave_process_group

sys.path.insert(0, sys.argv[2])
from _tiny import tiny_run  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    # Without a process group each process would train alone on full batches and the test would prove nothing.
    assert accelerator.num_processes == 2 and torch.distributed.is_initialized(), "expected 2 gloo processes"
    for name in sys.argv[3:]:
        tiny_run(name, out / name, accelerator)
        accelerator.wait_for_everyone()
    leave_process_group()


if __name__ == "__main__":
    main()
