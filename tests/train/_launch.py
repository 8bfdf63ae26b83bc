"""Multi-process launch commands for the tests (torchrun and accelerate launch, on this interpreter)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_environment(home: Path | None = None) -> dict:
    """This environment without the variables of an enclosing launch, one thread per process.

    ``home``: accelerate's configuration directory (``HF_HOME``), so that a user's default
    ``accelerate config`` does not change what ``accelerate launch`` does.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCELERATE_", "LOCAL_RANK", "WORLD_SIZE", "RANK", "MASTER_"))
    }
    env["OMP_NUM_THREADS"] = "1"
    if home is not None:
        env["HF_HOME"] = str(home)
    return env


def torchrun(nproc: int) -> list:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(nproc),
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
    ]


def accelerate_launch(*flags: str) -> list:
    """``accelerate launch FLAGS`` (the script and its arguments follow)."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--main_process_port", str(free_port()), *flags]
