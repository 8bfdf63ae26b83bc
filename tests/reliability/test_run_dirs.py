"""The run-directory contract under bad resumes, damaged checkpoints, foreign directories and late checks.

Every refusal must exit 2 with one line naming the problem, and leave the run directory byte for
byte as it was (hashed before and after). Each job checks every input and the whole resume
contract before it touches its directory (textadv/report/runs.py).
"""

import hashlib
import json
import os
import shutil
import subprocess
import types
from pathlib import Path

import pytest
import torch

from _cli import refused, write_reviews
from textadv.cli import main
from textadv.report import is_complete, read_json

IMAGE = [
    "--dataset",
    "digits",
    "--train-size",
    "64",
    "--test-size",
    "16",
    "--batch-size",
    "16",
    "--eval-eps",
    "0.1",
    "--eval-pgd-steps",
    "1",
    "--rho-examples",
    "4",
    "--no-progress",
]
TEXT = [
    "--no-glove",
    "--embedding-dim",
    "8",
    "--hidden-size",
    "8",
    "--dense-size",
    "4",
    "--batch-size",
    "4",
    "--max-length",
    "16",
    "--eval-eps",
    "1",
    "--pgd-steps",
    "1",
    "--unlabeled",
    "none",
    "--neighbour-words",
    "--no-progress",
    "--adv",
    "at",
]


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Small runs throughout: see ``single_thread`` in tests/conftest.py."""


def tree(path: Path) -> dict:
    """Every file and directory under ``path`` with the SHA-256 of its bytes (directories map to None)."""
    return {
        str(p.relative_to(path)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
        for p in sorted(path.rglob("*"))
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_reviews(tmp_path_factory.mktemp("reviews"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory, corpus):
    """A finished PGD image run and a finished AT text run (4 steps, checkpoints every 2), copied per test."""
    root = tmp_path_factory.mktemp("finished")
    assert (
        main(
            [
                "image-train",
                "--adv",
                "pgd",
                "--epsilon",
                "0.1",
                "--max-steps",
                "4",
                "--save-every",
                "2",
                "--output-dir",
                str(root / "image"),
                *IMAGE,
            ]
        )
        == 0
    )
    assert (
        main(["finetune", *corpus, *TEXT, "--max-steps", "4", "--save-every", "2", "--output-dir", str(root / "text")])
        == 0
    )
    return root


@pytest.fixture
def runs(finished, tmp_path):
    shutil.copytree(finished / "image", tmp_path / "image")
    shutil.copytree(finished / "text", tmp_path / "text")
    return tmp_path


# ---------------------------------------------------------------------------------------- data loss
def test_image_resume_with_a_changed_setting_is_refused_and_the_run_kept(runs, capsys):
    """Issue 8.1: the resume contract is checked before metrics.json or the config is touched."""
    run = runs / "image"
    before = tree(run)
    refused(
        [
            "image-train",
            "--adv",
            "pgd",
            "--epsilon",
            "0.1",
            "--lr",
            "0.01",
            "--max-steps",
            "20",
            "--resume",
            "--output-dir",
            str(run),
            *IMAGE,
        ],
        capsys,
        "cannot resume",
        "lr: 0.001 -> 0.01",
    )
    assert tree(run) == before and is_complete(run)


def test_image_resume_of_a_text_run_is_refused_and_the_run_kept(runs, capsys):
    run = runs / "text"
    before = tree(run)
    refused(["image-train", "--resume", str(run), "--max-steps", "8"], capsys, "it is a textadv finetune run")
    assert tree(run) == before


@pytest.mark.parametrize(
    "damage, name",
    [
        (lambda f: os.truncate(f, 1000), "model.safetensors"),
        (lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2]), "optimizer.pt"),
        (lambda f: f.write_bytes(b"\x80\x04not a checkpoint"), "scheduler.pt"),
        (lambda f: f.write_text("{"), "state.json"),
    ],
)
def test_a_damaged_checkpoint_is_named_and_the_run_kept(runs, capsys, damage, name):
    """Issue 8.2: one line naming the file, nothing deleted, never the advice to load unsafely."""
    run = runs / "text"
    damage(run / "checkpoint" / name)
    before = tree(run)
    err = refused(
        ["finetune", "--resume", str(run), "--max-steps", "6"],
        capsys,
        f"checkpoint file {run / 'checkpoint' / name} cannot be loaded",
    )
    assert "weights_only" not in err
    assert tree(run) == before and is_complete(run)


def test_a_damaged_image_checkpoint_is_named_and_the_run_kept(runs, capsys):
    run = runs / "image"
    os.truncate(run / "checkpoint" / "model.safetensors", 1000)
    before = tree(run)
    refused(["image-train", "--resume", str(run), "--max-steps", "6"], capsys, "model.safetensors cannot be loaded")
    assert tree(run) == before


def test_overwrite_replaces_only_a_textadv_run(runs, tmp_path, corpus, capsys):
    """Issue 8.3: --overwrite refuses a directory that is not a run (a user's data), and replaces a run."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "reviews.csv").write_text("text,label\nfine,pos\n")
    before = tree(mine)
    refused(["finetune", *corpus, *TEXT, "--output-dir", str(mine), "--overwrite"], capsys, "not a textadv run")
    refused(["image-train", *IMAGE, "--output-dir", str(mine), "--overwrite"], capsys, "not a textadv run")
    assert tree(mine) == before
    # A finished text run may be replaced by an image run: it is recognisably a textadv run directory.
    assert (
        main(
            [
                "image-train",
                *IMAGE,
                "--adv",
                "none",
                "--max-steps",
                "1",
                "--output-dir",
                str(runs / "text"),
                "--overwrite",
            ]
        )
        == 0
    )
    assert read_json(runs / "text" / "config.json")["job"] == "image-train"
    assert not (runs / "text" / "model").exists()


def test_neighbours_output_never_overwrites_silently(runs, tmp_path, capsys):
    """Issue 8.3: --output must be missing, empty, or (with --overwrite) a textadv run."""
    source = ["neighbours", "--checkpoints", str(runs / "text"), "--words", "film", "--k", "2"]
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "neighbours.md").write_text("my own notes")
    before = tree(mine)
    refused([*source, "--output", str(mine)], capsys, "is not empty")
    refused([*source, "--output", str(mine), "--overwrite"], capsys, "not a textadv run")
    assert tree(mine) == before
    report = tmp_path / "report"
    assert main([*source, "--output", str(report)]) == 0
    assert read_json(report / "config.json")["job"] == "neighbours" and is_complete(report)
    refused([*source, "--output", str(report)], capsys, "is not empty")
    assert main([*source, "--output", str(report), "--overwrite"]) == 0


# ---------------------------------------------------------------------------------------- resume contract
def test_image_resume_takes_the_objective_from_the_run(runs, capsys):
    """Issue 8.7: --adv none on a PGD run is refused; a plain resume continues the PGD run."""
    run = runs / "image"
    before = tree(run)
    refused(
        ["image-train", "--resume", str(run), "--adv", "none", "--max-steps", "6"],
        capsys,
        "cannot resume",
        "adv: 'pgd' -> 'none'",
    )
    refused(["image-train", "--resume", str(run), "--channels", "4", "8"], capsys, "channels")
    assert tree(run) == before
    assert main(["image-train", "--resume", str(run), "--max-steps", "6", "--eval-eps", "0.2"]) == 0
    metrics, config = read_json(run / "metrics.json"), read_json(run / "config.json")
    assert metrics["adv"] == "pgd" and metrics["train"]["epsilon"] == 0.1 and metrics["train"]["steps"] == 6
    assert config["settings"]["max_steps"] == 6 and config["settings"]["eval_eps"] == [0.2]
    assert set(metrics["apgd"]) == {"0.2"}


def _to_legacy(run: Path) -> None:
    """Rewrite a run directory's config in the layout written before config.json named its job."""
    config = read_json(run / "config.json")
    if config["job"] == "image-train":
        settings = {"output_dir": str(run), **config["settings"], "resume": False, "overwrite": False}
        legacy = {"model": config["model"], "dataset": config["data"]["name"], "settings": settings}
        (run / "model_config.json").write_text(json.dumps(legacy, indent=2))
        (run / "config.json").unlink()
    else:
        legacy = {k: v for k, v in config.items() if k not in ("job", "format_version")}
        (run / "config.json").write_text(json.dumps(legacy, indent=2))


@pytest.mark.parametrize("job", ["image", "text"])
def test_a_run_directory_from_before_the_contract_still_resumes(runs, capsys, job):
    run = runs / job
    _to_legacy(run)
    command = "image-train" if job == "image" else "finetune"
    if job == "image":  # an old run still serves as --transfer-from / --ensemble-sources
        from textadv.jobs.image import load_model

        assert load_model(run).config.image_size == 8
    before = tree(run)
    refused([command, "--resume", str(run), "--seed", "3"], capsys, "cannot resume", "seed: 0 -> 3")
    assert tree(run) == before
    assert main([command, "--resume", str(run), "--max-steps", "6"]) == 0
    metrics = read_json(run / "metrics.json")
    assert metrics["train"]["steps"] == 6 and metrics["adv"] == ("pgd" if job == "image" else "at")
    assert read_json(run / "config.json")["job"] == command


# ---------------------------------------------------------------------------------------- checks first
def _unwritable(path: Path):
    """Make ``path`` a directory nobody may create files in (root included); ``None`` when this system cannot."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        return None
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_unwritable_output_directory_is_one_line_before_any_data_is_loaded(tmp_path, capsys):
    """Issue 8.12: the check runs first, so even a dataset that does not exist is not reached."""
    locked = tmp_path / "locked"
    restore = _unwritable(locked)
    if restore is None:
        pytest.skip("cannot make a directory unwritable here (root without chattr)")
    try:
        refused(
            ["finetune", "--dataset", str(tmp_path / "missing.csv"), "--output-dir", str(locked / "run")],
            capsys,
            "is not writable",
            str(locked),
        )
        refused(["image-train", *IMAGE, "--output-dir", str(locked / "run")], capsys, "is not writable")
        refused(["neighbours", "--checkpoints", "glove", "--output", str(locked / "nn")], capsys, "is not writable")
        assert list(locked.iterdir()) == []
    finally:
        restore()


def test_late_checks_leave_nothing_that_blocks_the_corrected_rerun(tmp_path, capsys):
    """Issue 8.16: a refused --epsilon inf writes nothing; the corrected command then runs in the same directory."""
    run = tmp_path / "run"
    refused(
        ["image-train", *IMAGE, "--epsilon", "inf", "--max-steps", "1", "--output-dir", str(run)], capsys, "--epsilon"
    )
    assert not run.exists()
    assert main(["image-train", *IMAGE, "--epsilon", "0.1", "--max-steps", "1", "--output-dir", str(run)]) == 0


@pytest.mark.parametrize("job", ["image", "text"])
def test_a_batch_that_does_not_split_over_the_processes_writes_nothing(tmp_path, corpus, job):
    """Issue 8.16: the process-count check of a torchrun launch runs before config.json is written."""
    from textadv.jobs.finetune import FinetuneConfig, finetune
    from textadv.jobs.image import ImageSettings, image_train

    two = types.SimpleNamespace(
        num_processes=2,
        process_index=0,
        is_main_process=True,
        device=torch.device("cpu"),
        wait_for_everyone=lambda: None,
    )
    run = tmp_path / "run"
    with pytest.raises(ValueError, match="batch_size 5 must be divisible by the number of processes 2"):
        if job == "image":
            image_train(
                ImageSettings(dataset="digits", train_size=64, test_size=16, batch_size=5), str(run), accelerator=two
            )
        else:
            finetune(
                FinetuneConfig(
                    dataset=corpus[1],
                    test_file=corpus[3],
                    unlabeled="none",
                    glove=False,
                    embedding_dim=8,
                    hidden_size=8,
                    dense_size=4,
                    batch_size=5,
                ),
                str(run),
                accelerator=two,
            )
    assert not run.exists()
