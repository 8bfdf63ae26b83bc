"""Two CPU processes (gloo) with per-process batch b must train like one process with batch 2·b.

For AT the update is deterministic; for VAT and the random baseline the random perturbation of each
example is drawn from its global index and the step (``textadv.core.draws``), so it too is the same
however the global batch is split.
"""

import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _launch import launch_environment, torchrun
from _tiny import RUNS, tiny_model, tiny_run

HERE = Path(__file__).parent


def test_two_processes_match_one_process(tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend, so CPU processes cannot exchange gradients")
    command = torchrun(2) + [str(HERE / "_dist_worker.py"), str(tmp_path / "two"), str(HERE), *RUNS]
    done = subprocess.run(command, env=launch_environment(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    # The same runs in this process: same data, init, seed and global batches.
    differences = {}
    for name in RUNS:
        model, result = tiny_run(name, tmp_path / "one" / name)
        assert result.global_step == 10
        two = load_file(str(tmp_path / "two" / name / "checkpoint" / "model.safetensors"))
        one = model.state_dict()
        if not all(torch.allclose(two[k], v, rtol=1e-4, atol=1e-5) for k, v in one.items()):
            differences[name] = max((two[k] - v).abs().max().item() for k, v in one.items())
        # Training moved the parameters far more than the tolerance, so the comparison has teeth.
        assert max((tiny_model().state_dict()[k] - v).abs().max() for k, v in one.items()) > 1e-2
    assert not differences, f"2 processes differ from 1 (largest parameter difference per run): {differences}"
