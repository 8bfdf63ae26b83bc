"""recipes/train_qa.py on a tiny randomly initialised BERT: the loss falls, a seed fixes the run, an
interrupted run resumed from its checkpoint ends exactly where an uninterrupted one does, and the saved
directory is a loadable QA system."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from textadv import assets

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "fixtures" / "adversarial_small.json"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("train_qa_recipe", ROOT / "recipes" / "train_qa.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(assets.minilm_dir())
    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    ).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _args(model, out, *extra):
    return [
        "--train",
        str(DATA),
        "--model",
        str(model),
        "--output-dir",
        str(out),
        "--max-seq-length",
        "48",
        "--doc-stride",
        "12",
        "--max-query-length",
        "12",
        "--batch-size",
        "4",
        "--lr",
        "2e-3",
        "--warmup",
        "0",
        "--log-every",
        "5",
        "--threads",
        "1",
        *extra,
    ]


def _metrics(out):
    return json.loads((out / "metrics.json").read_text())


def test_loss_decreases_and_the_model_answers(recipe, tiny_model, tmp_path, single_thread):
    out = tmp_path / "run"
    assert recipe.main(_args(tiny_model, out, "--epochs", "20")) == 0
    m = _metrics(out)
    assert m["questions"] == 6 and m["windows"] >= 6 and m["steps"] == 20 * -(-m["windows"] // 4)
    assert m["loss_last"] < 0.5 * m["loss_first"]
    from textadv.qa.features import WindowSettings
    from textadv.qa.metrics import evaluate
    from textadv.qa.squad import read_squad
    from textadv.qa.systems import load_system

    system = load_system(out, settings=WindowSettings(48, 12, 12))
    questions = read_squad(DATA)
    assert evaluate(questions, system.predict(questions))["original"]["f1"] > 50  # it fits its training data
    assert (out / "model.safetensors").is_file() and not (out / "checkpoint").exists()


def test_exclude_and_limit_select_whole_paragraphs(recipe, tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    recipe.add_arguments(parser)
    excl = tmp_path / "excl.json"
    excl.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "title": "x",
                        "paragraphs": [
                            {
                                "context": "Brazil.",
                                "qas": [
                                    {
                                        "id": "c0ffee02-high-conf-turk9",
                                        "question": "q?",
                                        "answers": [{"text": "Brazil", "answer_start": 0}],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        )
    )
    args = parser.parse_args(["--train", str(DATA), "--exclude", str(excl), "--output-dir", "unused"])
    assert [q.id for q in recipe.select_questions(args)] == [
        "c0ffee01",
        "c0ffee01-high-conf-turk0",
        "c0ffee01-high-conf-turk1",
        "c0ffee03",
        "c0ffee03-high-conf-turk0",
    ]
    args = parser.parse_args(["--train", str(DATA), "--limit", "2", "--seed", "1", "--output-dir", "unused"])
    chosen = recipe.select_questions(args)
    assert len(chosen) == 2 and len({q.context for q in chosen}) == 2  # each paragraph holds one question


def test_same_seed_same_run_and_resume_matches(recipe, tiny_model, tmp_path, monkeypatch, single_thread):
    full, again, cut = tmp_path / "full", tmp_path / "again", tmp_path / "cut"
    assert recipe.main(_args(tiny_model, full, "--epochs", "10", "--max-steps", "9", "--save-every", "3")) == 0
    assert recipe.main(_args(tiny_model, again, "--epochs", "10", "--max-steps", "9", "--save-every", "3")) == 0
    assert _metrics(full)["losses"] == _metrics(again)["losses"]

    calls = {"n": 0}
    clip = torch.nn.utils.clip_grad_norm_

    def interrupted(*args, **kwargs):  # killed during step 8, after the step-6 checkpoint
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return clip(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", interrupted)
    with pytest.raises(KeyboardInterrupt):
        recipe.main(_args(tiny_model, cut, "--epochs", "10", "--max-steps", "9", "--save-every", "3"))
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    assert not (cut / "metrics.json").exists() and (cut / "checkpoint" / "state.pt").is_file()
    resumed = _args(tiny_model, cut, "--epochs", "10", "--max-steps", "9", "--save-every", "3", "--resume")
    assert recipe.main(resumed) == 0
    assert _metrics(cut)["losses"] == pytest.approx(_metrics(full)["losses"], abs=1e-6)
    # a resumed run with other settings is refused before anything changes
    assert recipe.main(_args(tiny_model, cut, "--epochs", "10", "--max-steps", "9", "--lr", "1e-3", "--resume")) == 2
