"""``textadv pretrain-lm`` and ``finetune --init-from`` on the packaged Rotten Tomatoes corpus: the
language model learns, resumes to the uninterrupted result, and initialises exactly the classifier's
embedding and LSTM; bad ``--init-from`` is refused before anything is written."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _cli import refused
from textadv.cli import main
from textadv.jobs.finetune import build_model, load_data
from textadv.jobs.finetune_settings import FinetuneConfig
from textadv.jobs.pretrain_lm import (
    LanguageModelSurface,
    PretrainLMConfig,
    build_language_model,
    lm_sequences,
    perplexity,
    pretrain_lm,
)
from textadv.text import TextCollator, Vocabulary
from textadv.text.lstm import ENCODER_PREFIXES, LSTMLanguageModel
from textadv.train import Batches

# One small data set for both jobs: the same data flags give the same vocabulary.
DATA = dict(train_limit=400, unlabeled="none", min_count=2)
SMALL = dict(embedding_dim=16, hidden_size=16, num_sampled=64, batch_size=32, progress=False, **DATA)
GLOVE_SMALL = {**SMALL, "embedding_dim": None}  # --glove's size is GloVe's (50)


def tree(path: Path) -> dict:
    return {
        str(p.relative_to(path)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
        for p in sorted(path.rglob("*"))
    }


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    """A finished pretraining run (6 steps)."""
    run = tmp_path_factory.mktemp("lm") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pretrain_lm(PretrainLMConfig(max_steps=6, save_every=3, eval_every=0, validation_limit=50, **SMALL), run)
    finally:
        torch.set_num_threads(threads)
    return run


def test_the_language_model_learns_rotten_tomatoes(tmp_path, single_thread):
    config = PretrainLMConfig(
        epochs=10, max_steps=40, eval_every=20, save_every=0, validation_limit=200, lr=5e-3, **SMALL
    )
    result = pretrain_lm(config, tmp_path / "run")
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < losses[0] - 0.5, losses
    # The validation perplexity (full softmax, held-out snippets) falls below the untrained model's.
    torch.manual_seed(config.seed)
    untrained = LSTMLanguageModel(
        result.metrics["vocab_size"],
        embedding_dim=16,
        hidden_size=16,
        embedding_dropout=0.5,
        counts=result.vocabulary.frequencies(),
    )
    data = load_data(config)
    loader = Batches(lm_sequences(result.vocabulary, data.validation.texts[:200], 40), 64, collate_fn=TextCollator())
    before = perplexity(untrained, loader)
    after = result.metrics["validation_perplexity"]
    assert after == pytest.approx(perplexity(result.model, loader))
    assert after < 0.5 * before, (before, after)
    assert (tmp_path / "run" / "perplexity.png").stat().st_size > 0


def test_the_surface_predicts_the_next_real_word_only():
    batch = {
        "input_ids": torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]]),
    }
    labels = LanguageModelSurface(None).labels(batch)
    assert labels.tolist() == [[6, 7, -100, -100], [9, -100, -100, -100]]


def test_resume_after_a_stop_gives_the_weights_of_an_uninterrupted_run(tmp_path, single_thread):
    settings = dict(save_every=5, eval_every=5, validation_limit=30, **SMALL)
    pretrain_lm(PretrainLMConfig(max_steps=10, **settings), tmp_path / "straight")
    pretrain_lm(PretrainLMConfig(max_steps=5, **settings), tmp_path / "stopped")
    pretrain_lm(output_dir=tmp_path / "stopped", resume=True, overrides={"max_steps": 10})
    straight = load_file(str(tmp_path / "straight" / "lm" / "model.safetensors"))
    resumed = load_file(str(tmp_path / "stopped" / "lm" / "model.safetensors"))
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    # The sampled softmax draws from the global RNG, which the checkpoint restores: without it the
    # weights would differ, so equality shows the draws resumed where they stopped.
    for name in ("straight", "stopped"):
        assert json.loads((tmp_path / name / "metrics.json").read_text())["train"]["steps"] == 10


def test_init_from_loads_exactly_the_embedding_and_lstm_and_nothing_else(lm_run, single_thread):
    config = FinetuneConfig(glove=False, embedding_dim=16, hidden_size=16, **DATA).resolved()
    data = load_data(config)
    torch.manual_seed(0)
    fresh, fresh_vocab, _ = build_model(config, data)
    torch.manual_seed(0)
    started, vocab, info = build_model(dataclasses.replace(config, init_from=str(lm_run)).resolved(), data)
    assert info["init_from"] == str(lm_run)
    lm = load_file(str(lm_run / "lm" / "model.safetensors"))
    assert vocab.tokens == fresh_vocab.tokens  # the same data flags: the same vocabulary, here read from the run
    state, fresh_state = started.state_dict(), fresh.state_dict()
    encoder = [k for k in state if k.startswith(ENCODER_PREFIXES)]
    assert sorted(encoder) == sorted(k for k in lm if k.startswith(ENCODER_PREFIXES))
    for k in state:
        if k in encoder:
            assert torch.equal(state[k], lm[k]) and not torch.equal(state[k], fresh_state[k]), k
        else:
            assert torch.equal(state[k], fresh_state[k]), k  # dense, output, frequencies: as without --init-from


def glove_table():
    """GloVe 6B 50d as ``{word: vector}`` read straight from the packaged files (not through the loader)."""
    import numpy as np
    import pandas as pd

    from textadv import assets

    vectors_path, index_path = assets.glove_6b_50d()
    words = pd.read_parquet(index_path)["index"].tolist()
    vectors = np.load(vectors_path, mmap_mode="r")
    return {w: i for i, w in enumerate(words)}, vectors


def test_glove_starts_the_language_model_from_the_glove_vectors_of_the_words_it_knows(single_thread):
    config = PretrainLMConfig(glove=True, **GLOVE_SMALL).resolved()
    assert config.embedding_dim == 50  # --glove sets the size, as finetune --glove does
    data = load_data(config)
    vocabulary = Vocabulary.build(data.train.texts, min_count=2)
    torch.manual_seed(0)
    model, coverage = build_language_model(config, vocabulary)
    torch.manual_seed(0)
    random_start, none = build_language_model(dataclasses.replace(config, glove=False), vocabulary)
    assert none is None and 0.9 < coverage <= 1.0
    position, vectors = glove_table()
    table, random_table = model.embedding.embedding.weight.detach(), random_start.embedding.embedding.weight.detach()
    known = [row for row, word in enumerate(vocabulary.tokens) if row > 1 and word in position]
    unknown = [row for row in range(len(vocabulary)) if row not in set(known)]
    assert len(known) > 500 and len(unknown) >= 2  # <pad>, <unk> and the words GloVe lacks
    expected = torch.from_numpy(vectors[[position[vocabulary.tokens[r]] for r in known]].astype("float32"))
    assert torch.equal(table[known], expected)  # bit for bit, every covered word
    assert torch.equal(table[unknown], random_table[unknown])  # the rest as without --glove
    # The coverage is finetune's: the classifier built by the fine-tuning job with --glove on the same words.
    token_share = sum(vocabulary.counts[r] for r in known) / sum(vocabulary.counts[2:])
    assert coverage == pytest.approx(token_share)
    # Every weight that is not the embedding is drawn as without --glove (same seed, same draws).
    state, random_state = model.state_dict(), random_start.state_dict()
    assert all(torch.equal(state[k], random_state[k]) for k in state if k != model.embedding_key)


def test_init_from_a_glove_language_model_takes_its_sizes_and_copies_its_weights(tmp_path, single_thread):
    run = tmp_path / "glove-lm"
    lm = pretrain_lm(
        PretrainLMConfig(
            glove=True, **{**GLOVE_SMALL, "hidden_size": 24}, max_steps=3, eval_every=0, validation_limit=20
        ),
        run,
    )
    saved = json.loads((run / "config.json").read_text())
    assert saved["settings"]["glove"] is True and saved["settings"]["embedding_dim"] == 50
    assert saved["data"]["glove_token_coverage"] > 0.9
    # Three Adam steps of lr 0.001 move a GloVe row by at most about 0.003 per coordinate.
    position, vectors = glove_table()
    row = lm.vocabulary.index("film")
    trained = lm.model.embedding.embedding.weight[row].detach()
    assert (trained - torch.from_numpy(vectors[position["film"]].copy())).abs().max() < 0.01
    # finetune --init-from with no size flags (its defaults are 128/64): the classifier is 50/24 and
    # starts from exactly the language model's embedding and LSTM.
    config = FinetuneConfig(**DATA, init_from=str(run)).resolved()
    torch.manual_seed(0)
    model, _, info = build_model(config, load_data(config))
    assert (info["embedding_dim"], info["hidden_size"]) == (50, 24)
    weights = load_file(str(run / "lm" / "model.safetensors"))
    state = model.state_dict()
    encoder = [k for k in state if k.startswith(ENCODER_PREFIXES)]
    assert encoder and all(torch.equal(state[k], weights[k]) for k in encoder)
    with pytest.raises(ValueError, match="--embedding-dim 32"):
        build_model(dataclasses.replace(config, embedding_dim=32), load_data(config))


TINY = [
    "--max-steps",
    "1",
    "--eval-eps",
    "1",
    "--pgd-steps",
    "1",
    "--neighbour-words",
    "--no-progress",
    "--adv",
    "none",
    "--test-limit",
    "20",
    "--train-limit",
    "400",
    "--unlabeled",
    "none",
    "--embedding-dim",
    "16",
    "--hidden-size",
    "16",
]


def test_bad_init_from_is_refused_and_nothing_is_written(lm_run, tmp_path, capsys, single_thread):
    out = tmp_path / "out"
    finetune = ["finetune", "--output-dir", str(out), *TINY]
    refused([*finetune, "--init-from", str(tmp_path / "missing")], capsys, "no such directory")
    incomplete = tmp_path / "incomplete"
    shutil.copytree(lm_run, incomplete)
    (incomplete / "metrics.json").unlink()
    refused([*finetune, "--init-from", str(incomplete)], capsys, "incomplete")
    corrupt = tmp_path / "corrupt"
    shutil.copytree(lm_run, corrupt)
    weights = corrupt / "lm" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    refused([*finetune, "--init-from", str(corrupt)], capsys, "model.safetensors", "truncated or corrupt")
    refused([*finetune, "--init-from", str(lm_run), "--hidden-size", "8"], capsys, "shape", "--hidden-size")
    refused([*finetune, "--init-from", str(lm_run), "--normalization", "raw"], capsys, "--normalization")
    refused([*finetune, "--init-from", str(lm_run), "--model", "minilm"], capsys, "--init-from", "lstm")
    refused([*finetune, "--init-from", str(lm_run), "--glove"], capsys, "--glove")
    mismatched = tmp_path / "mismatched"
    shutil.copytree(lm_run, mismatched)
    vocabulary = mismatched / "lm" / "vocabulary.tsv"
    vocabulary.write_text("".join(vocabulary.read_text().splitlines(keepends=True)[:-1]))
    refused([*finetune, "--init-from", str(mismatched)], capsys, "vocabulary", "rows")
    # A finetune run is not a language model.
    assert main(["finetune", "--output-dir", str(tmp_path / "clf"), *TINY, "--no-glove"]) == 0
    capsys.readouterr()
    refused([*finetune, "--init-from", str(tmp_path / "clf")], capsys, "not a textadv pretrain-lm run")
    assert not out.exists()
    # A refused resume leaves its run byte for byte as it was; a resume keeps init_from.
    started = tmp_path / "started"
    assert main(["finetune", "--output-dir", str(started), *TINY, "--init-from", str(lm_run)]) == 0
    before = tree(started)
    refused(
        ["finetune", "--resume", str(started), "--init-from", str(incomplete)], capsys, "cannot resume", "init_from"
    )
    assert tree(started) == before
    assert main(["finetune", "--resume", str(started), "--max-steps", "2"]) == 0
    config = json.loads((started / "config.json").read_text())
    assert config["settings"]["init_from"] == str(lm_run) and config["data"]["init_from"] == str(lm_run)
    assert json.loads((started / "metrics.json").read_text())["train"]["steps"] == 2
    # A run saved when --embedding-dim defaulted to 128 for every LSTM (its language model's size was used
    # whatever the setting said) resumes with the language model's size.
    legacy = tmp_path / "legacy"
    shutil.copytree(started, legacy)
    saved = json.loads((legacy / "config.json").read_text())
    saved["settings"]["embedding_dim"] = 128
    (legacy / "config.json").write_text(json.dumps(saved))
    assert main(["finetune", "--resume", str(legacy), "--max-steps", "3"]) == 0
    assert json.loads((legacy / "metrics.json").read_text())["train"]["steps"] == 3


def test_glove_sets_the_embedding_size_and_refuses_another(tmp_path, capsys):
    # The size each start gets when --embedding-dim is not given.
    assert FinetuneConfig().resolved().embedding_dim == 50  # GloVe is the LSTM's default start
    assert FinetuneConfig(glove=False).resolved().embedding_dim == 128
    assert FinetuneConfig(embedding_dim=50).resolved().embedding_dim == 50
    assert FinetuneConfig(glove=False, embedding_dim=16).resolved().embedding_dim == 16
    assert PretrainLMConfig().resolved().embedding_dim == 128
    assert PretrainLMConfig(glove=True).resolved().embedding_dim == 50
    # A size GloVe's 50-d vectors cannot fill is refused, never silently replaced by 50.
    out = tmp_path / "out"
    refused(
        ["finetune", "--output-dir", str(out), "--embedding-dim", "128"], capsys, "--embedding-dim 128", "--no-glove"
    )
    refused(["finetune", "--output-dir", str(out), "--glove", "--embedding-dim", "16"], capsys, "50-d GloVe")
    refused(
        ["pretrain-lm", "--output-dir", str(out), "--glove", "--embedding-dim", "300"], capsys, "--embedding-dim 300"
    )
    refused(["pretrain-lm", "--output-dir", str(out), "--embedding-dim", "0"], capsys, "--embedding-dim must be >= 1")
    refused(["finetune", "--output-dir", str(out), "--no-glove", "--embedding-dim", "0"], capsys, "--embedding-dim")
    assert not out.exists()


def test_export_unlabeled_writes_one_text_a_line_that_unlabeled_reads_back(tmp_path, capsys):
    import csv
    import gzip
    import importlib.util

    from textadv.text.data import load_text_classification, packaged_plot_synopses

    script = Path(__file__).resolve().parents[2] / "data_scripts" / "export_unlabeled.py"
    spec = importlib.util.spec_from_file_location("export_unlabeled", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reviews = ["A first review.<br /><br />Second paragraph,\nnew line.", "", "  tabs\tand   spaces  ", "Ünïcode ok"]
    source = tmp_path / "reviews.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label", "text"])
        writer.writerows([i, i % 2, text] for i, text in enumerate(reviews))
    out = tmp_path / "unlabeled.txt.gz"
    assert module.main(["--files", str(source), "--synopses", "--output", str(out)]) == 0
    synopses = packaged_plot_synopses()
    expected = [" ".join(t.split()) for t in reviews if t.strip()] + [" ".join(t.split()) for t in synopses]
    assert f"3 texts from {source}" in capsys.readouterr().out  # the empty review is dropped
    # What pretrain-lm's --unlabeled reads: the same texts in the same order, one per line, labels gone.
    data = load_text_classification("rotten_tomatoes", unlabeled=str(out), max_train_examples=50)
    assert data.unlabeled == expected
    assert module.main(["--files", str(source), "--output", str(tmp_path / "x.csv")]) == 2
    assert module.main(["--output", str(tmp_path / "y.txt")]) == 2
