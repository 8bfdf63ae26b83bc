"""--adv-warmup-steps and --eps-ramp-steps in both training jobs: checked up front naming the flag, saved in
config.json, held on --resume like the other trajectory settings, and a warm-up step is a step of --adv none."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _cli import refused, write_reviews
from textadv.cli import main
from textadv.jobs.finetune_settings import FinetuneConfig
from textadv.jobs.image_settings import ImageSettings
from textadv.report import read_json

IMAGE = ["image-train", "--dataset", "digits", "--train-size", "64", "--test-size", "16", "--batch-size", "16"]
IMAGE += ["--eval-eps", "0.1", "--eval-pgd-steps", "1", "--rho-examples", "4", "--no-progress"]
TEXT = ["finetune", "--no-glove", "--embedding-dim", "8", "--hidden-size", "8", "--dense-size", "4"]
TEXT += ["--batch-size", "4", "--max-length", "16", "--eval-eps", "1", "--pgd-steps", "1", "--unlabeled", "none"]
TEXT += ["--neighbour-words", "--no-progress"]


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Small runs throughout: see ``single_thread`` in tests/conftest.py."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_reviews(tmp_path_factory.mktemp("reviews"))


def weights(path: Path) -> dict:
    return load_file(str(path))


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("flag", ["--adv-warmup-steps", "--eps-ramp-steps"])
def test_a_negative_schedule_is_refused_naming_its_flag_and_writes_nothing(tmp_path, capsys, corpus, flag):
    for argv in (IMAGE, TEXT + corpus):
        run = tmp_path / argv[0]
        message = f"{flag} must be an integer >= 0 (a number of optimiser steps), got "
        refused([*argv, flag, "-2", "--output-dir", str(run)], capsys, message + "-2")
        assert not run.exists()
    message += "1.5"
    name = flag[2:].replace("-", "_")
    with pytest.raises(ValueError) as error:
        ImageSettings(**{name: 1.5})
    assert str(error.value) == message
    with pytest.raises(ValueError) as error:
        FinetuneConfig(**{name: 1.5}).resolved()
    assert str(error.value) == message


def test_the_defaults_are_off():
    assert (ImageSettings().adv_warmup_steps, ImageSettings().eps_ramp_steps) == (0, 0)
    assert (FinetuneConfig().adv_warmup_steps, FinetuneConfig().eps_ramp_steps) == (0, 0)


def test_image_job_warm_up_trains_as_none_and_the_schedule_is_saved_and_held_on_resume(tmp_path, capsys):
    pgd, none, straight = tmp_path / "pgd", tmp_path / "none", tmp_path / "straight"
    schedule = ["--adv-warmup-steps", "3", "--eps-ramp-steps", "2"]
    assert main([*IMAGE, "--adv", "pgd", *schedule, "--max-steps", "3", "--output-dir", str(pgd)]) == 0
    assert main([*IMAGE, "--adv", "none", "--max-steps", "3", "--output-dir", str(none)]) == 0
    model = Path("checkpoint") / "model.safetensors"
    assert same_weights(pgd / model, none / model)  # three warm-up steps of PGD training are plain training
    config = read_json(pgd / "config.json")["settings"]
    assert (config["adv_warmup_steps"], config["eps_ramp_steps"]) == (3, 2)
    assert read_json(pgd / "metrics.json")["train"]["eps_ramp_steps"] == 2
    assert "eps_ramp_steps" not in read_json(none / "metrics.json")["train"]  # off: the metrics of before

    changed = ["image-train", "--resume", str(pgd), "--eps-ramp-steps", "4", "--max-steps", "5"]
    refused(changed, capsys, "eps_ramp_steps: 2 -> 4")
    # resumed in the ramp (steps 3 and 4 at ε·0 and ε/2) it ends where the uninterrupted run does
    assert main(["image-train", "--resume", str(pgd), *schedule, "--max-steps", "5"]) == 0
    assert main([*IMAGE, "--adv", "pgd", *schedule, "--max-steps", "5", "--output-dir", str(straight)]) == 0
    assert same_weights(pgd / model, straight / model)
    assert not same_weights(pgd / model, none / model)


def test_an_image_run_saved_before_the_schedule_existed_resumes_with_it_off(tmp_path, capsys):
    old = tmp_path / "old"
    assert main([*IMAGE, "--adv", "pgd", "--max-steps", "2", "--output-dir", str(old)]) == 0
    config = read_json(old / "config.json")
    state_file = old / "checkpoint" / "state.json"
    state = json.loads(state_file.read_text())
    for key in ("adv_warmup_steps", "eps_ramp_steps"):
        del config["settings"][key], state["config"][key]
    (old / "config.json").write_text(json.dumps(config))
    state_file.write_text(json.dumps(state))
    refused(["image-train", "--resume", str(old), "--adv-warmup-steps", "1"], capsys, "adv_warmup_steps: 0 -> 1")
    assert main(["image-train", "--resume", str(old), "--max-steps", "3"]) == 0
    assert read_json(old / "metrics.json")["train"]["steps"] == 3


def test_text_job_warm_up_trains_as_none_and_the_schedule_is_saved(tmp_path, corpus):
    """The LSTM's embedding dropout draws from the global generator: a warm-up step draws exactly what none does."""
    at, none = tmp_path / "at", tmp_path / "none"
    schedule = ["--adv-warmup-steps", "3", "--eps-ramp-steps", "2"]
    assert main([*TEXT, *corpus, "--adv", "at", *schedule, "--max-steps", "3", "--output-dir", str(at)]) == 0
    assert main([*TEXT, *corpus, "--adv", "none", "--max-steps", "3", "--output-dir", str(none)]) == 0
    model = Path("model") / "model.safetensors"
    assert same_weights(at / model, none / model)
    config = read_json(at / "config.json")
    assert (config["settings"]["adv_warmup_steps"], config["settings"]["eps_ramp_steps"]) == (3, 2)
    assert (config["train_config"]["adv_warmup_steps"], config["train_config"]["eps_ramp_steps"]) == (3, 2)
    # two steps further (ε·0, then ε/2) the AT term has trained
    assert main(["finetune", "--resume", str(at), "--max-steps", "5"]) == 0
    assert main([*TEXT, *corpus, "--adv", "none", "--max-steps", "5", "--overwrite", "--output-dir", str(none)]) == 0
    assert not same_weights(at / model, none / model)
