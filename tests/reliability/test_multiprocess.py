"""Multi-process launches: the documented commands start N processes, a launch that starts fewer than it
asked for says so, only the main process prints, and per-example draws do not depend on the split.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from textadv.cli import run_module
from textadv.core import Threat, vat_perturbation
from textadv.core.draws import ExampleDraws
from textadv.train.launch import launch_mismatch, main_process_output

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "train"))
from _launch import accelerate_launch, launch_environment  # noqa: E402

RECIPE = ROOT / "recipes" / "image_adversarial_training.py"
# A tiny image run: 3 steps of VAT, the cheapest evaluation the job allows.
TINY_RUN = (
    "--adv vat --dataset digits --train-size 64 --test-size 16 --batch-size 16 --max-steps 3 --eval-eps 0.1 "
    "--eval-pgd-steps 1 --eval-examples 16 --rho-examples 4 --channels 2 2 --hidden 8 --no-progress"
).split()

# What `accelerate launch` (1.x) exports, measured on a CPU machine: its simple launcher, which
# `--num_processes 2` alone and `--cpu --num_processes 2` reach, runs the script once and exports
# only the rendezvous address; `--multi_gpu` runs torchrun, which exports the world size and ranks.
SIMPLE_LAUNCHER_2 = {
    "ACCELERATE_USE_CPU": "False",
    "MASTER_ADDR": "127.0.0.1",
    "MASTER_PORT": "29500",
    "ACCELERATE_DYNAMO_BACKEND": "NO",
}
SIMPLE_LAUNCHER_1 = {"ACCELERATE_USE_CPU": "False", "ACCELERATE_DYNAMO_BACKEND": "NO"}
MULTI_GPU_LAUNCHER = {"ACCELERATE_DYNAMO_BACKEND": "NO", "RANK": "1", "WORLD_SIZE": "2", "MASTER_PORT": "29533"}


def _gloo_or_skip() -> None:
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend, so CPU processes cannot form a group")


def _launch(tmp_path: Path, flags, run_dir: Path) -> subprocess.CompletedProcess:
    command = accelerate_launch(*flags) + [str(RECIPE), *TINY_RUN, "--output-dir", str(run_dir)]
    env = launch_environment(home=tmp_path / "hf-home")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)


# -- the documented commands ------------------------------------------------------------------------


def _documented_files():
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").rglob("*.md"))
    for folder in ("recipes", "textadv", "bench"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_every_documented_accelerate_launch_starts_n_processes():
    """A command line shown to users that runs a script through ``accelerate launch`` says ``--multi_gpu``:
    without it, accelerate starts one process on a machine without several GPUs."""
    wrong = []
    for path in _documented_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "accelerate launch" in line and re.search(r"\.py\b|--num_processes", line) and "--multi_gpu" not in line:
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not wrong, "launch lines that start one process on CPU:\n" + "\n".join(wrong)


def test_documented_launch_runs_two_processes_and_prints_the_result_once(tmp_path):
    """``accelerate launch --multi_gpu --num_processes 2 recipe`` on CPU: 2 gloo processes, one result line."""
    _gloo_or_skip()
    run_dir = tmp_path / "run"
    done = _launch(tmp_path, ["--multi_gpu", "--num_processes", "2"], run_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run_dir / "config.json").read_text())["processes"] == 2
    result_lines = [line for line in done.stdout.splitlines() if line.startswith(f"{run_dir}: clean ")]
    assert len(result_lines) == 1, done.stdout
    assert "image_adversarial_training.py: warning:" not in done.stderr, done.stderr[-3000:]


# -- a launch that starts fewer processes than it asked for -----------------------------------------


@pytest.mark.parametrize(
    "environ, processes, warns",
    [
        (SIMPLE_LAUNCHER_2, 1, True),  # accelerate launch --num_processes 2 (or --cpu) on CPU
        (SIMPLE_LAUNCHER_1, 1, False),  # accelerate launch with one process
        (MULTI_GPU_LAUNCHER, 2, False),  # accelerate launch --multi_gpu --num_processes 2
        ({"RANK": "0", "WORLD_SIZE": "2"}, 1, True),  # torchrun, but the accelerator did not join the group
        ({"RANK": "0", "WORLD_SIZE": "2"}, 2, False),
        ({}, 1, False),  # python script.py
    ],
)
def test_launch_mismatch_is_read_from_the_launchers_environment(environ, processes, warns):
    message = launch_mismatch(processes, environ)
    assert (message is not None) == warns
    if warns:
        assert "\n" not in message and "--multi_gpu --num_processes N" in message and "--nproc_per_node N" in message


def test_accelerate_launch_without_multi_gpu_warns_once(tmp_path):
    """``accelerate launch --num_processes 2`` on CPU runs one process: the run completes and says so once."""
    if torch.cuda.device_count() > 1:
        pytest.skip("with several GPUs accelerate launch --num_processes 2 does start 2 processes")
    run_dir = tmp_path / "run"
    done = _launch(tmp_path, ["--num_processes", "2"], run_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run_dir / "config.json").read_text())["processes"] == 1
    warned = [line for line in done.stderr.splitlines() if "without --multi_gpu started 1 process" in line]
    assert len(warned) == 1, done.stderr[-3000:]
    assert warned[0].startswith("image_adversarial_training.py: warning: ")


# -- output on the main process only ----------------------------------------------------------------


def _command(output: str, warning: str, error: str = ""):
    def run(args) -> int:
        print(output)
        warnings.warn(warning)
        if error:
            raise ValueError(error)
        return 0

    return SimpleNamespace(run=run)


@pytest.mark.parametrize("rank, main", [("0", True), ("1", False)])
def test_only_the_main_process_prints_output_and_warnings(monkeypatch, capsys, rank, main):
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_module(_command("result line", "a note on the data"), SimpleNamespace(), "textadv job") == 0
    assert capsys.readouterr().out == ("result line\n" if main else "")
    assert [str(w.message) for w in caught] == (["a note on the data"] if main else [])
    # An error is printed by every process that meets it: a process may meet it alone.
    with warnings.catch_warnings(record=True):
        assert run_module(_command("x", "y", error="bad input"), SimpleNamespace(), "textadv job") == 2
    assert capsys.readouterr().err.endswith("textadv job: error: bad input\n")


def test_main_process_output_restores_output_after_a_non_main_block(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "1")
    with main_process_output():
        print("hidden")
    print("shown")
    assert capsys.readouterr().out == "shown\n"


# -- per-example draws ------------------------------------------------------------------------------


def test_example_draws_do_not_depend_on_the_split_of_the_batch():
    whole = ExampleDraws(seed=3, step=7, indices=range(8)).normal((8, 4, 5), torch.float32, "cpu")
    halves = [
        ExampleDraws(seed=3, step=7, indices=part).normal((4, 4, 5), torch.float32, "cpu")
        for part in (range(4), range(4, 8))
    ]
    assert torch.equal(whole, torch.cat(halves))
    # Reordered examples carry their numbers with them.
    swapped = ExampleDraws(seed=3, step=7, indices=[5, 2]).normal((2, 4, 5), torch.float32, "cpu")
    assert torch.equal(swapped, whole[[5, 2]])


def test_example_draws_of_a_sequence_do_not_depend_on_its_padding():
    """Another process pads to another length: the real (leading) positions keep their numbers."""
    short = ExampleDraws(seed=1, step=0, indices=[4, 9]).normal((2, 5, 3), torch.float64, "cpu")
    long = ExampleDraws(seed=1, step=0, indices=[4, 9]).normal((2, 11, 3), torch.float64, "cpu")
    assert torch.equal(short, long[:, :5])


def test_example_draws_are_standard_normal_and_differ_by_example_step_and_stream():
    draws = ExampleDraws(seed=0, step=0, indices=range(50)).normal((50, 4000), torch.float64, "cpu")
    assert abs(draws.mean().item()) < 0.01 and abs(draws.std().item() - 1) < 0.01
    # Normal tails: P(|z| > 2) = 0.0455.
    assert abs((draws.abs() > 2).double().mean().item() - 0.0455) < 0.003
    rows = {
        "other example": ExampleDraws(0, 0, [1]),
        "other step": ExampleDraws(0, 1, [0]),
        "other seed": ExampleDraws(1, 0, [0]),
        "unlabeled stream": ExampleDraws(0, 0, [0], stream=1),
    }
    for what, other in rows.items():
        correlation = torch.corrcoef(torch.stack([draws[0], other.normal((1, 4000), torch.float64, "cpu")[0]]))[0, 1]
        assert abs(correlation) < 0.1, what


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_example_draws_are_the_same_on_cpu_and_gpu():
    draws = ExampleDraws(seed=2, step=5, indices=[0, 3, 8])
    torch.testing.assert_close(
        draws.normal((3, 7, 16), torch.float32, "cuda").cpu(),
        draws.normal((3, 7, 16), torch.float32, "cpu"),
        rtol=0,
        atol=0,
    )


def test_vat_perturbation_default_draw_is_unchanged_and_noise_replaces_it():
    """A direct call without ``noise`` draws ``randn(generator)`` as before; ``noise`` sets the direction."""
    torch.manual_seed(0)
    weight = torch.randn(6, 3)
    x = torch.randn(4, 6)

    def logits_fn(z):
        return torch.tanh(z) @ weight

    threat = Threat(2, 0.5)
    default = vat_perturbation(logits_fn, x, threat, xi=0.1, generator=torch.Generator().manual_seed(11))
    same = vat_perturbation(
        logits_fn, x, threat, xi=0.1, noise=torch.randn(4, 6, generator=torch.Generator().manual_seed(11))
    )
    assert torch.equal(default, same)
    other = vat_perturbation(
        logits_fn, x, threat, xi=0.1, noise=torch.randn(4, 6, generator=torch.Generator().manual_seed(12))
    )
    assert not torch.allclose(default, other)
    with pytest.raises(ValueError, match="noise must have the shape of x"):
        vat_perturbation(logits_fn, x, threat, xi=0.1, noise=torch.randn(4, 5))
