"""Miyato's LSTM classifier: last real state, training with the objectives, GloVe, save/load."""

import json

import pytest
import torch

from textadv.objectives import build_objective
from textadv.surfaces import TextSurface
from textadv.text import (
    LSTMClassifier,
    LSTMConfig,
    TextCollator,
    Vocabulary,
    encode_examples,
    load_glove,
    load_text_classification,
    load_text_model,
    save_text_model,
)


@pytest.fixture(scope="module")
def corpus():
    data = load_text_classification("rotten_tomatoes", seed=0, max_train_examples=64)
    vocab = Vocabulary.build(data.train.texts + data.unlabeled[:100], min_count=1)
    with pytest.warns(UserWarning, match="truncated"):
        examples = encode_examples(vocab, data.train.texts, data.train.labels, 24)
    return data, vocab, TextCollator()(examples)


def _model(vocab, **kwargs):
    torch.manual_seed(0)
    return LSTMClassifier(
        LSTMConfig(len(vocab), 2, embedding_dim=16, hidden_size=16, dense_size=8, **kwargs), vocab.frequencies()
    )


def test_padding_after_the_last_token_does_not_change_logits(corpus):
    _, vocab, _ = corpus
    model = _model(vocab).eval()
    ids = torch.tensor([[5, 9, 4]])
    padded = torch.tensor([[5, 9, 4, 0, 0, 0]])
    torch.testing.assert_close(model(ids), model(padded))


@pytest.mark.parametrize("objective", ["at", "vat", "at+vat"])
def test_lstm_trains_with_objective_step(corpus, objective):
    _, vocab, batch = corpus
    torch.manual_seed(0)
    model = LSTMClassifier(
        LSTMConfig(len(vocab), 2, embedding_dim=32, hidden_size=32, dense_size=16), vocab.frequencies()
    )
    surface = TextSurface(model)
    # ε scaled to this 32-dimensional toy: a sequence of 24 normalised tokens has norm about 28.
    step = build_objective(objective, eps=2.0, xi=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for i in range(40):
        optimizer.zero_grad()
        losses.append(step.step(surface, batch, generator=torch.Generator().manual_seed(i)).loss.item())
        optimizer.step()
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    model.eval()
    accuracy = (model(batch["input_ids"], batch["attention_mask"]).argmax(-1) == batch["labels"]).float().mean()
    assert accuracy > 0.9  # it fits its small training batch


def test_glove_initialisation_copies_known_words(corpus):
    import numpy as np
    import pandas as pd

    from textadv import assets

    _, vocab, _ = corpus
    model = LSTMClassifier(LSTMConfig(len(vocab), 2, embedding_dim=50), vocab.frequencies())
    coverage = load_glove(model.embedding.embedding, vocab)
    assert 0.8 < coverage <= 1.0
    vectors_path, index_path = assets.glove_6b_50d()
    words = pd.read_parquet(index_path)["index"].tolist()
    row = words.index("film")
    expected = torch.from_numpy(np.load(vectors_path, mmap_mode="r")[row].copy())
    torch.testing.assert_close(model.embedding.weight[vocab.index("film")].detach(), expected)
    with pytest.raises(ValueError, match="embedding_dim=50"):
        load_glove(_model(vocab).embedding.embedding, vocab)


def test_save_load_round_trip_gives_identical_logits(corpus, tmp_path):
    from safetensors import safe_open

    _, vocab, batch = corpus
    model = _model(vocab).eval()
    save_text_model(model, tmp_path / "m", encoder=vocab, label_names=["negative", "positive"])
    meta = json.loads((tmp_path / "m" / "textadv_model.json").read_text())
    assert meta["kind"] == "lstm" and meta["normalization"] == "miyato"
    with safe_open(str(tmp_path / "m" / "model.safetensors"), framework="pt") as f:
        matrix = f.get_tensor(meta["embedding_key"])
    assert torch.equal(matrix, model.embedding.weight.detach())
    tokens = (tmp_path / "m" / meta["vocab_file"]).read_text().splitlines()
    assert tokens == list(vocab.tokens)
    assert len((tmp_path / "m" / meta["frequencies_file"]).read_text().splitlines()) == len(vocab)
    loaded, encoder, _ = load_text_model(tmp_path / "m")
    assert encoder == vocab
    torch.testing.assert_close(
        loaded(batch["input_ids"], batch["attention_mask"]),
        model(batch["input_ids"], batch["attention_mask"]),
        rtol=0,
        atol=0,
    )


def test_incomplete_directory_is_not_loadable(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not a complete"):
        load_text_model(tmp_path)


def test_interrupted_save_leaves_no_complete_looking_directory(corpus, tmp_path, monkeypatch):
    from textadv.text import checkpoint

    _, vocab, _ = corpus
    model = _model(vocab)
    save_text_model(model, tmp_path / "m", encoder=vocab)  # an earlier complete save

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_frequencies", fail)
    with pytest.raises(OSError, match="disk full"):
        save_text_model(model, tmp_path / "m", encoder=vocab)
    assert not (tmp_path / "m" / "textadv_model.json").exists()
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".saving-")]
    with pytest.raises(FileNotFoundError, match="not a complete"):
        load_text_model(tmp_path / "m")
