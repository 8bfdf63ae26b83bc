"""Two CPU processes (gloo) with per-process batch b must train like one process with batch 2·b."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from textadv.objectives import build_objective
from textadv.surfaces.image import ImageSurface
from textadv.train import TrainConfig, train

from _tiny import tiny_data, tiny_model

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one_process(tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend, so CPU processes cannot exchange gradients")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCELERATE_", "LOCAL_RANK", "WORLD_SIZE", "RANK", "MASTER_"))
    }
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(_free_port()),
        str(HERE / "_dist_worker.py"),
        str(tmp_path / "two"),
        str(HERE),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    # The same run in this process: same data, init, seed and global batch (69 examples: the last
    # global batch of 5 is split 3 + 2, which the gradient weighting must handle).
    data, _ = tiny_data()
    model = tiny_model()
    config = TrainConfig(batch_size=16, epochs=2, lr=0.01, log_every=1, seed=3)
    result = train(
        model,
        ImageSurface(model),
        build_objective("at", eps=0.5, norm=2),
        data,
        config=config,
        output_dir=tmp_path / "one",
        progress=False,
    )
    assert result.global_step == 10

    two = load_file(str(tmp_path / "two" / "checkpoint" / "model.safetensors"))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(two[name], value, rtol=1e-4, atol=1e-5)
    # Training moved the parameters far more than the tolerance, so the comparison has teeth.
    assert max((tiny_model().state_dict()[k] - v).abs().max() for k, v in model.state_dict().items()) > 1e-2
