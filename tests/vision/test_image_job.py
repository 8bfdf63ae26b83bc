"""The image job under a 2-process launch: one evaluation, the same metrics returned on every process."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
EVALUATED = ("clean_accuracy", "fgsm", "apgd", "deepfool_rho", "fgsm_rho", "dataset")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_every_process_returns_the_metrics_of_the_run_directory(tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend, so CPU processes cannot form a group")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCELERATE_", "LOCAL_RANK", "WORLD_SIZE", "RANK", "MASTER_"))
    }
    env["OMP_NUM_THREADS"] = "1"
    returned = tmp_path / "returned"
    returned.mkdir()
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
        str(HERE / "_image_job_worker.py"),
        str(tmp_path / "run"),
        str(returned),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert json.loads((tmp_path / "run" / "config.json").read_text())["processes"] == 2
    for rank in (0, 1):
        metrics = json.loads((returned / f"rank-{rank}.json").read_text())
        assert {k: metrics[k] for k in EVALUATED} == {k: written[k] for k in EVALUATED}, rank
        assert metrics["train"]["steps"] == written["train"]["steps"] == 3
