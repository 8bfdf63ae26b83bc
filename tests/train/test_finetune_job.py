"""End-to-end tests of the fine-tuning job (textadv.jobs.finetune): run directories, resume, learning, HF path."""

import csv
import json
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _launch import launch_environment, torchrun

from textadv.report import is_complete, read_json
from textadv.jobs.finetune import FinetuneConfig, finetune

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine two spinning threads make these runs many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A real slice of the packaged Rotten Tomatoes corpus as local files: train/test csv and unlabeled txt."""
    from textadv.text import load_text_classification

    data = load_text_classification("rotten_tomatoes", seed=0)
    root = tmp_path_factory.mktemp("rt")

    def write(path, texts, labels):
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["text", "label"])
            for t, y in zip(texts, labels):
                w.writerow([t, data.label_names[y]])
        return path

    train = write(root / "train.csv", data.train.texts[:4000], data.train.labels[:4000])
    test = write(root / "test.csv", data.test.texts[:200], data.test.labels[:200])
    unlabeled = root / "plots.txt"
    unlabeled.write_text("\n".join(t.replace("\n", " ") for t in data.unlabeled[:80]) + "\n", encoding="utf-8")
    return {"train": str(train), "test": str(test), "unlabeled": str(unlabeled)}


def tiny(corpus, **kw) -> FinetuneConfig:
    """A small LSTM run on the local slice: seconds, not minutes."""
    settings = dict(
        dataset=corpus["train"],
        test_file=corpus["test"],
        unlabeled=corpus["unlabeled"],
        glove=False,
        embedding_dim=16,
        hidden_size=16,
        dense_size=8,
        batch_size=16,
        max_length=24,
        train_limit=160,
        test_limit=48,
        max_steps=6,
        save_every=3,
        eval_eps=(1.0, 5.0),
        pgd_steps=2,
        progress=False,
    )
    settings.update(kw)
    return FinetuneConfig(**settings)


def _weights(run_dir) -> dict:
    return load_file(str(Path(run_dir) / "model" / "model.safetensors"))


def test_lstm_run_directory_is_complete_and_consistent(corpus, tmp_path):
    from textadv.analysis.sources import checkpoint_table
    from textadv.eval import clean_accuracy
    from textadv.surfaces import TextSurface
    from textadv.text import TextCollator, encode_examples, load_text_model
    from textadv.train import Batches

    run = tmp_path / "run"
    result = finetune(tiny(corpus, adv="vat"), str(run))
    assert is_complete(run)
    for name in (
        "config.json",
        "history.json",
        "report.md",
        "accuracy_vs_eps.png",
        "neighbours.md",
        "neighbours.json",
        "model/textadv_model.json",
        "checkpoint/state.json",
    ):
        assert (run / name).is_file(), name
    metrics = read_json(run / "metrics.json")
    config = read_json(run / "config.json")
    assert config["settings"]["seed"] == 0 and config["settings"]["adv"] == "vat"
    assert config["settings"]["normalization"] == "miyato" and config["settings"]["embedding_dropout"] == 0.5
    assert metrics["train"]["steps"] == 6
    # VAT's stream: the labelled training texts and the 80 unlabeled ones (as the reference's LM stream)
    assert metrics["data"]["unlabeled_examples"] == metrics["data"]["train_examples"] + 80
    # The saved model reproduces metrics.json's clean accuracy on the same test examples.
    model, encoder, meta = load_text_model(run / "model")
    assert meta["label_names"] == ["negative", "positive"]
    with open(corpus["test"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = meta["label_names"]
    texts = [r["text"] for r in rows]
    labels = [names.index(r["label"]) for r in rows]
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(0 + 2))[:48].tolist()
    examples = encode_examples(encoder, [texts[i] for i in order], [labels[i] for i in order], 24)
    acc = clean_accuracy(TextSurface(model), Batches(examples, 32, collate_fn=TextCollator(0)), progress=False)
    assert acc == pytest.approx(metrics["test"]["clean_accuracy"], abs=1e-12)
    assert metrics["test"]["clean_error"] == pytest.approx(1 - acc)
    for key in ("fgm_accuracy", "pgd_accuracy"):
        assert set(metrics["test"][key]) == {"1.0", "5.0"}
        assert all(0.0 <= a <= 1.0 for a in metrics["test"][key].values())
    # The returned model is the saved one.
    for name, value in result.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value)
    # The embedding-neighbour analysis reads the run directory.
    table = checkpoint_table(run)
    assert table.matrix.shape[0] == meta["lstm_config"]["vocab_size"]
    words = json.loads((run / "neighbours.json").read_text())["words"]
    assert [w["word"] for w in words] == ["good", "bad", "great", "terrible"]
    assert all(len(w["neighbours"]) == 10 for w in words if w["neighbours"])


def test_resume_after_interruption_matches_uninterrupted_run(corpus, tmp_path):
    whole = finetune(tiny(corpus, adv="at+vat"), str(tmp_path / "whole"))
    first = finetune(tiny(corpus, adv="at+vat", max_steps=3), str(tmp_path / "cut"))
    assert first.metrics["train"]["steps"] == 3
    resumed = finetune(output_dir=str(tmp_path / "cut"), resume=True, overrides={"max_steps": 6})
    assert resumed.metrics["train"]["steps"] == 6 and resumed.metrics["train"]["resumed"]
    assert resumed.metrics["test"] == whole.metrics["test"]
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)
    # The settings recorded are the new budget; a different trajectory setting is refused.
    assert read_json(tmp_path / "cut" / "config.json")["settings"]["max_steps"] == 6
    with pytest.raises(ValueError, match="cannot resume with different settings.*lr"):
        finetune(output_dir=str(tmp_path / "cut"), resume=True, overrides={"lr": 0.5})


def test_resume_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(ValueError, match="nothing to resume"):
        finetune(output_dir=str(tmp_path / "x"), resume=True)


def test_a_failed_run_never_looks_complete(corpus, tmp_path, monkeypatch):
    import textadv.jobs.finetune as ft

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(ft, "evaluate_model", broken)
    with pytest.raises(RuntimeError):
        finetune(tiny(corpus, adv="none", max_steps=2), str(tmp_path / "run"))
    assert (tmp_path / "run" / "config.json").is_file() and not is_complete(tmp_path / "run")


def test_short_real_run_learns(corpus, tmp_path):
    """GloVe-initialised LSTM on 3,600 real reviews: the loss falls and test accuracy beats the majority class."""
    cfg = tiny(
        corpus,
        adv="none",
        glove=True,
        embedding_dim=None,  # GloVe's 50
        hidden_size=32,
        train_limit=None,
        epochs=2,
        max_steps=150,
        batch_size=32,
        lr=0.01,
        embedding_dropout=0.0,
        max_length=40,
        test_limit=200,
        eval_eps=(1.0,),
        pgd_steps=1,
        neighbour_words=(),
    )
    result = finetune(cfg, str(tmp_path / "run"))
    losses = [h["clean_loss"] for h in read_json(tmp_path / "run" / "history.json") if "clean_loss" in h]
    assert len(losses) == 15
    assert losses[-1] < losses[0] - 0.05
    with open(corpus["test"], encoding="utf-8") as f:
        labels = [r["label"] for r in csv.DictReader(f)]
    majority = max(labels.count(v) for v in set(labels)) / len(labels)
    assert result.metrics["test"]["clean_accuracy"] > majority + 0.05


def test_hf_minilm_vat_path(corpus, tmp_path):
    """The packaged MiniLM fine-tunes with VAT through inputs_embeds; the run directory loads back."""
    from textadv.analysis.sources import checkpoint_table
    from textadv.text import load_text_model

    cfg = tiny(
        corpus,
        model="minilm",
        glove=None,
        adv="vat",
        max_length=16,
        train_limit=16,
        batch_size=8,
        max_steps=2,
        test_limit=8,
        eval_eps=(1.0,),
        pgd_steps=1,
        neighbour_words=("good", "bad"),
        neighbour_k=3,
    )
    result = finetune(cfg, str(tmp_path / "hf"))
    assert is_complete(tmp_path / "hf")
    settings = read_json(tmp_path / "hf" / "config.json")["settings"]
    assert settings["normalization"] == "scale" and settings["lr"] == 5e-5 and settings["embedding_dropout"] == 0.0
    model, tokenizer, meta = load_text_model(tmp_path / "hf" / "model")
    assert meta["kind"] == "hf" and meta["normalization"] == "scale"
    for name, value in result.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value)
    assert checkpoint_table(tmp_path / "hf").matrix.shape[1] == 384
    with pytest.raises(ValueError, match="--glove"):
        FinetuneConfig(model="minilm", glove=True).resolved()


def test_two_processes_match_one_process_text(corpus, tmp_path):
    """2 gloo CPU processes running the recipe (LSTM, AT, dropout 0) reach the parameters of 1 process.

    Both see the same global batch.
    """
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    flags = [
        "--dataset",
        corpus["train"],
        "--test-file",
        corpus["test"],
        "--unlabeled",
        "none",
        "--no-glove",
        "--embedding-dim",
        "16",
        "--hidden-size",
        "16",
        "--dense-size",
        "8",
        "--batch-size",
        "16",
        "--max-length",
        "24",
        "--train-limit",
        "64",
        "--test-limit",
        "16",
        "--max-steps",
        "4",
        "--adv",
        "at",
        "--embedding-dropout",
        "0",
        "--eval-eps",
        "1",
        "--pgd-steps",
        "1",
        "--neighbour-words",
        "--no-progress",
        "--seed",
        "5",
    ]
    recipe = str(ROOT / "recipes" / "finetune_classifier.py")
    two = torchrun(2) + [recipe, *flags, "--output-dir", str(tmp_path / "two")]
    done = subprocess.run(two, env=launch_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_json(tmp_path / "two" / "config.json")["processes"] == 2

    from textadv.commands import finetune as command
    import argparse

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    assert command.run(parser.parse_args(flags + ["--output-dir", str(tmp_path / "one")])) == 0
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5)
    # Training moved the parameters far more than the tolerance, so the comparison has teeth.
    from textadv.jobs.finetune import build_model, load_data
    from textadv.train.seed import seed_everything

    config = FinetuneConfig(**command.given_settings(parser.parse_args(flags))).resolved()
    seed_everything(config.seed)
    start = build_model(config, load_data(config))[0].state_dict()
    assert max(float((a[k] - start[k]).abs().max()) for k in a) > 1e-3


def test_unlabeled_from_rest_feeds_the_left_out_training_texts_as_the_unlabeled_stream():
    """--train-limit 500 --unlabeled none --unlabeled-from-rest: 500 labelled texts, exactly the others unlabeled."""
    from collections import Counter

    from textadv.jobs.finetune import load_data

    full = load_data(FinetuneConfig(unlabeled="none").resolved())
    data = load_data(FinetuneConfig(train_limit=500, unlabeled="none", unlabeled_from_rest=True).resolved())
    assert len(data.train) == 500 and len(data.unlabeled) == len(full.train) - 500
    # Disjoint rows that together are the training split (the corpus repeats a few snippets in separate
    # rows, so the partition is of rows: a multiset equality, not a set one).
    assert Counter(data.train.texts) + Counter(data.unlabeled) == Counter(full.train.texts)
    assert data.test.texts == full.test.texts and data.validation.texts == full.validation.texts
    # The default unlabeled text (the plot synopses) comes first when kept.
    plots = load_data(FinetuneConfig(train_limit=500, unlabeled_from_rest=True).resolved()).unlabeled
    assert plots[len(plots) - len(data.unlabeled) :] == data.unlabeled and len(plots) > len(data.unlabeled)
