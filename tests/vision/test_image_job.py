"""The image job under a 2-process launch: one evaluation, the same metrics returned on every process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "train"))
from _launch import launch_environment, torchrun  # noqa: E402

EVALUATED = ("clean_accuracy", "fgsm", "apgd", "deepfool_rho", "fgsm_rho", "dataset")


@pytest.mark.slow
def test_every_process_returns_the_metrics_of_the_run_directory(tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend, so CPU processes cannot form a group")
    returned = tmp_path / "returned"
    returned.mkdir()
    command = torchrun(2) + [str(HERE / "_image_job_worker.py"), str(tmp_path / "run"), str(returned)]
    done = subprocess.run(command, env=launch_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert json.loads((tmp_path / "run" / "config.json").read_text())["processes"] == 2
    for rank in (0, 1):
        metrics = json.loads((returned / f"rank-{rank}.json").read_text())
        assert {k: metrics[k] for k in EVALUATED} == {k: written[k] for k in EVALUATED}, rank
        assert metrics["train"]["steps"] == written["train"]["steps"] == 3
