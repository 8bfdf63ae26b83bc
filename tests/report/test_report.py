import os

import pytest
import torch
from safetensors.torch import load_file

from textadv.report import (
    atomic_path,
    finish_run,
    is_complete,
    metrics_table,
    open_run,
    plot_accuracy_vs_eps,
    read_json,
    save_safetensors,
    table,
    write_json,
    write_text,
)


def test_atomic_writes_leave_no_temp_files(tmp_path):
    write_json(tmp_path / "a.json", {"acc": torch.tensor(0.5), "curve": {0.1: 0.9}, "bad": float("nan")})
    write_text(tmp_path / "b.md", "# hi\n")
    save_safetensors(tmp_path / "c.safetensors", {"w": torch.arange(6.0).reshape(2, 3).t()})
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.md", "c.safetensors"]
    assert read_json(tmp_path / "a.json") == {"acc": 0.5, "curve": {"0.1": 0.9}, "bad": "nan"}
    assert torch.equal(load_file(str(tmp_path / "c.safetensors"))["w"], torch.arange(6.0).reshape(2, 3).t())


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = write_text(tmp_path / "m.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["m.json"]


def test_run_directory_is_complete_only_after_metrics(tmp_path):
    run = open_run(tmp_path / "run", "test").start({"settings": {}})
    write_text(run / "report.md", "x")
    assert not is_complete(run)
    finish_run(run, {"clean": 0.9})
    assert is_complete(run)
    with pytest.raises(ValueError, match="not empty"):
        open_run(run, "test")
    open_run(run, "test", resume=True).start({"settings": {}})  # a resumed run no longer looks complete
    assert not is_complete(run) and (run / "report.md").exists()
    open_run(run, "test", overwrite=True).start({"settings": {}})
    assert [p.name for p in run.iterdir()] == ["config.json"]
    with pytest.raises(ValueError, match="nothing to resume"):
        open_run(tmp_path / "missing", "test", resume=True)


def test_plot_writes_a_png(tmp_path):
    path = plot_accuracy_vs_eps(
        {"FGSM": {0.0: 0.99, 0.1: 0.8}, "PGD": {0.0: 0.99, 0.1: 0.6}}, tmp_path / "p.png", title="t"
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="curves"):
        plot_accuracy_vs_eps({}, tmp_path / "q.png")


def test_markdown_tables():
    text = table([{"method": "a|b", "acc": 0.98765}, {"method": "c", "acc": float("nan")}])
    lines = text.strip().splitlines()
    assert lines[0] == "| method | acc |" and lines[1] == "|---|---|"
    assert lines[2] == "| a\\|b | 0.9877 |" and lines[3] == "| c | n/a |"
    nested = metrics_table({"pgd": {"0.3": 0.5}, "clean": 0.9})
    assert "| pgd/0.3 | 0.5 |" in nested and "| clean | 0.9 |" in nested
