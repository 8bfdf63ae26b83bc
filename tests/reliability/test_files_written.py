"""Files a run writes: a full disk loses nothing and leaves no temporary file; modes follow the umask.

A full disk is simulated at the lowest level a write goes through (``os.write`` fails with ENOSPC
after writing part of the file), the way a real one fails partway through a file.
"""

import errno
import os
import stat
from pathlib import Path

import pytest
import test_run_dirs
from _cli import refused
from test_run_dirs import TEXT, tree

from textadv.cli import main
from textadv.report import is_complete, read_json, write_json
from textadv.report.io import DiskFullError, save_torch
from textadv.train.checkpoint import check_checkpoint

corpus = test_run_dirs.corpus  # the module-scoped training and test files of the run-directory tests
pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc")


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Small runs throughout: see ``single_thread`` in tests/conftest.py."""


def _fill_disk(monkeypatch, fails, code=errno.ENOSPC):
    """Make ``os.write`` to a file whose path satisfies ``fails(path)`` write half its bytes, then fail with ``code``.

    Returns the list of paths that failed (the caller may add a callback run just before the failure).
    """
    real = os.write
    failed = []

    def write(fd, data):
        path = Path(os.readlink(f"/proc/self/fd/{fd}")) if fd > 2 else None
        if path is None or not fails(path):
            return real(fd, data)
        real(fd, bytes(data[: len(data) // 2]))
        failed.append(path)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", write)
    return failed


def _stray(run: Path) -> list:
    return [str(p.relative_to(run)) for p in run.rglob("*") if ".tmp" in p.name]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_keeps_the_file_it_was_to_replace(tmp_path, monkeypatch, code):
    target = tmp_path / "metrics.json"
    write_json(target, {"accuracy": 0.5})
    before = target.read_bytes()
    _fill_disk(monkeypatch, lambda p: p.parent == tmp_path, code)
    for write in (lambda: write_json(target, {"accuracy": 0.75}), lambda: save_torch(target, {"step": 3})):
        with pytest.raises(DiskFullError, match=f"disk full while writing {target}: {os.strerror(code)}"):
            write()
        assert target.read_bytes() == before and _stray(tmp_path) == []


def test_a_full_disk_while_checkpointing_is_one_line_and_the_last_checkpoint_resumes(
    tmp_path, corpus, monkeypatch, capsys
):
    """Issue 8.13: not "unexpected pos 2624 vs 2516" and a stray .checkpoint.tmp, but one line, and the step-2
    checkpoint, byte for byte, from which the run resumes once there is room again."""
    run = tmp_path / "run"
    command = ["finetune", *corpus, *TEXT, "--max-steps", "4", "--save-every", "2", "--output-dir", str(run)]
    saved = {}

    def second_checkpoint_optimizer(path):
        if not path.name.startswith(".optimizer.pt.tmp-") or not (run / "checkpoint").is_dir():
            return False
        saved.update(tree(run / "checkpoint"))  # the step-2 checkpoint as the failing write finds it
        return bool(saved)

    failed = _fill_disk(monkeypatch, second_checkpoint_optimizer)
    refused(
        command,
        capsys,
        f"disk full while writing {run / 'checkpoint' / 'optimizer.pt'}: No space left on device",
    )
    assert len(failed) == 1
    assert _stray(run) == [] and not (run / ".checkpoint.tmp").exists() and not is_complete(run)
    assert tree(run / "checkpoint") == saved
    assert check_checkpoint(run)["global_step"] == 2  # every file of it loads

    monkeypatch.undo()  # room again
    assert main(["finetune", "--resume", str(run)]) == 0
    assert read_json(run / "metrics.json")["train"]["steps"] == 4


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_of_a_run_get_the_mode_the_umask_gives(tmp_path, corpus, umask):
    """Every file of a run (config, checkpoint, model, plots, report, metrics) is 0o666 less the umask, every
    directory 0o777 less the umask, as files written by ``open`` are; not the 0o600 of a temporary file."""
    run = tmp_path / "run"
    previous = os.umask(umask)
    try:
        code = main(["finetune", *corpus, *TEXT, "--max-steps", "2", "--save-every", "1", "--output-dir", str(run)])
    finally:
        os.umask(previous)
    assert code == 0 and is_complete(run)
    modes = {str(p.relative_to(run)): stat.S_IMODE(p.stat().st_mode) for p in [run, *run.rglob("*")]}
    files = {"config.json", "metrics.json", "report.md", "checkpoint/model.safetensors", "model/model.safetensors"}
    assert files <= set(modes)
    expected = {name: (0o777 if (run / name).is_dir() else 0o666) & ~umask for name in modes}
    assert modes == expected


def test_a_saved_transformer_gets_the_mode_the_umask_gives(tmp_path):
    """``save_pretrained`` writes its weights through safetensors, which creates them 0o600 like ``mkstemp``."""
    from textadv.text import HFTextClassifier, load_hf_classifier, save_text_model, word_frequencies

    hf, tokenizer = load_hf_classifier(None, num_labels=2)
    model = HFTextClassifier(hf, word_frequencies(tokenizer, ["a film"]), normalization="scale")
    previous = os.umask(0o022)
    try:
        save_text_model(model, tmp_path / "model", encoder=tokenizer)
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "model").iterdir()}
    assert {"model.safetensors", "textadv_model.json", "vocab.txt"} <= set(modes)
    assert set(modes.values()) == {0o644}, modes
