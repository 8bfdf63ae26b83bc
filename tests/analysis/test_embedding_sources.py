"""Embedding sources: GloVe, .npy + vocabulary, checkpoints (raw and Miyato-normalised), HF word pieces."""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from textadv.analysis.compare import query_neighbours
from textadv.analysis.sources import EmbeddingTable, checkpoint_table, load_source, npy_table, read_vocab_file


def test_glove_neighbours_of_frog_include_toad(glove):
    assert glove.shape == (400000, 50)
    (frog,) = query_neighbours(glove, ["frog"], 10)
    words = [n.word for n in frog.neighbours]
    assert "toad" in words and "frog" not in words
    cosines = [n.cosine for n in frog.neighbours]
    assert cosines == sorted(cosines, reverse=True)


def test_unknown_words_are_reported_not_dropped(glove):
    result = query_neighbours(glove, ["good", "qxzzyqv", "Frog"], 5)
    assert [r.word for r in result] == ["good", "qxzzyqv", "Frog"]
    assert result[1].status == "unknown" and result[1].neighbours == () and "[unknown]" in result[1].label
    assert result[2].status == "pieces" and result[2].label == "Frog [as frog]"  # GloVe is lower-cased
    assert [n.word for n in result[2].neighbours] == [
        n.word for n in query_neighbours(glove, ["frog"], 5)[0].neighbours
    ]


def test_subword_query_is_the_marked_mean_of_its_pieces():
    rng = np.random.default_rng(0)
    vocab = ("good", "##ness", "great", "bad", "##ly", "[UNK]")
    table = EmbeddingTable(
        "toy",
        rng.normal(size=(6, 4)).astype(np.float32),
        vocab,
        "npy",
        tokenize=lambda w: {"goodness": ["good", "##ness"], "badly": ["bad", "##ly"]}.get(w, []),
    )
    q = table.resolve("goodness")
    assert q.status == "pieces" and q.rows == (0, 1) and q.label == "good##ness [mean of 2 pieces]"
    np.testing.assert_allclose(table.vector(q), table.matrix[[0, 1]].mean(axis=0))
    (res,) = query_neighbours(table, ["goodness"], 5)
    assert res.label == "good##ness [mean of 2 pieces]" and len(res.neighbours) == 5
    assert {0, 1} <= {n.row for n in res.neighbours}  # a mean of pieces is not a row: its pieces are not excluded
    assert table.resolve("zzz").status == "unknown"


@pytest.mark.slow
def test_hf_model_pieces_on_minilm():
    from textadv import assets

    table = load_source(f"hf:{assets.minilm_dir()}", "minilm")
    assert table.shape == (30522, 384) and table.kind == "hf"
    out = query_neighbours(table, ["good", "unbelievability", "Good"], 5)
    assert out[0].status == "word" and out[0].neighbours
    assert out[1].status == "pieces" and "[mean of" in out[1].label and len(out[1].neighbours) == 5
    assert out[2].label == "Good [as good]"
    assert [n.word for n in out[2].neighbours] == [n.word for n in out[0].neighbours]


def write_matrix(tmp_path, matrix, lines):
    np.save(tmp_path / "m.npy", matrix)
    (tmp_path / "vocab.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return tmp_path / "m.npy", tmp_path / "vocab.txt"


def test_npy_source_round_trip_and_counts(tmp_path):
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    m, v = write_matrix(tmp_path, matrix, ["a\t5", "b\t3", "tab\\tbed\t1", "d\t0"])
    tokens, counts = read_vocab_file(v)
    assert tokens == ["a", "b", "tab\tbed", "d"] and counts.tolist() == [5, 3, 1, 0]
    table = load_source(f"npy:{m}:{v}", "mine")
    np.testing.assert_array_equal(table.matrix, matrix)
    assert table.row("tab\tbed") == 2 and table.name == "mine" and table.space == "raw"


def test_npy_length_mismatch_names_both_lengths(tmp_path):
    m, v = write_matrix(tmp_path, np.ones((4, 3), dtype=np.float32), ["a", "b", "c"])
    with pytest.raises(ValueError, match="has 3 tokens but the matrix .* has 4 rows"):
        npy_table(m, v)


def test_vocab_file_errors(tmp_path):
    (tmp_path / "mixed.txt").write_text("a\t1\nb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="some lines have a count"):
        read_vocab_file(tmp_path / "mixed.txt")
    (tmp_path / "bad.txt").write_text("a\tmany\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        read_vocab_file(tmp_path / "bad.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_vocab_file(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    "spec,error,message",
    [
        ("", ValueError, "empty source spec"),
        ("word2vec", ValueError, "unknown embedding source"),
        ("hf:", ValueError, "names no model"),
        ("npy:only.npy", ValueError, "npy:<matrix.npy>:<vocab.txt>"),
        ("ckpt:/no/such/dir", FileNotFoundError, "/no/such/dir"),
    ],
)
def test_bad_specs(spec, error, message):
    with pytest.raises(error, match=message):
        load_source(spec)


def test_glove_has_no_frequencies_to_normalise():
    with pytest.raises(ValueError, match="no word frequencies"):
        load_source("glove", space="normalized")


def make_checkpoint(directory, matrix, tokens, counts, *, normalization="miyato", key="embedding.embedding.weight"):
    """A text-model directory following textadv.text.save_text_model's contract."""
    directory.mkdir(parents=True, exist_ok=True)
    save_file({key: matrix, "output.weight": np.zeros((2, 3), dtype=np.float32)}, str(directory / "model.safetensors"))
    (directory / "vocab.txt").write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    (directory / "frequencies.txt").write_text("".join(f"{c}\n" for c in counts), encoding="utf-8")
    meta = {
        "format_version": 1,
        "kind": "lstm",
        "embedding_key": "embedding.embedding.weight",
        "vocab_file": "vocab.txt",
        "frequencies_file": "frequencies.txt",
        "normalization": normalization,
        "uniform": False,
    }
    (directory / "textadv_model.json").write_text(json.dumps(meta), encoding="utf-8")
    return directory


def test_checkpoint_raw_and_normalized(tmp_path):
    rng = np.random.default_rng(0)
    matrix = (3.0 * rng.normal(size=(50, 6)) + 2.0).astype(np.float32)
    tokens = ["<pad>", "<unk>"] + [f"w{i}" for i in range(48)]
    counts = rng.integers(0, 100, size=50)
    run_dir = tmp_path / "run"
    make_checkpoint(run_dir / "model", matrix, tokens, counts)

    raw = checkpoint_table(run_dir, space="raw")  # a fine-tuning run directory: its model/ is found
    np.testing.assert_array_equal(raw.matrix, matrix)
    assert raw.vocab == tuple(tokens) and raw.name == "run" and raw.kind == "lstm-checkpoint"

    norm = load_source(str(run_dir))  # auto: the checkpoint says miyato
    assert norm.space == "normalized"
    f = counts / counts.sum()
    mean = f @ norm.matrix.astype(np.float64)
    var = f @ (norm.matrix.astype(np.float64) - mean) ** 2
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(var, 1.0, rtol=1e-4)  # Var/(Var + 1e-6)
    assert norm.resolve("W3").label == "W3 [as w3]"  # the LSTM's own word tokenizer lower-cases


def test_checkpoint_written_by_save_text_model(tmp_path):
    from textadv.text import LSTMClassifier, LSTMConfig, Vocabulary, save_text_model

    vocab = Vocabulary.build(["good bad good fine awful good bad great"] * 3, min_count=1)
    model = LSTMClassifier(LSTMConfig(len(vocab), 2, embedding_dim=8, hidden_size=4, dense_size=3), vocab.frequencies())
    save_text_model(model, tmp_path / "model", encoder=vocab)
    raw = checkpoint_table(tmp_path / "model", space="raw")
    norm = checkpoint_table(tmp_path / "model", space="normalized")
    np.testing.assert_allclose(raw.matrix, model.embedding.weight.detach().numpy())
    with torch.no_grad():
        np.testing.assert_allclose(norm.matrix, model.embedding.normalized_weight().numpy(), atol=1e-5)
    assert raw.row("good") == vocab.index("good")


def test_checkpoint_without_embedding_matrix(tmp_path):
    matrix = np.ones((3, 2), dtype=np.float32)
    make_checkpoint(tmp_path / "c", matrix, ["a", "b", "c"], [1, 1, 1], key="something.else")
    with pytest.raises(ValueError, match=r"model.safetensors has no embedding matrix 'embedding.embedding.weight'"):
        checkpoint_table(tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="textadv_model.json"):
        checkpoint_table(tmp_path / "empty")


def test_checkpoint_vocab_mismatch(tmp_path):
    make_checkpoint(tmp_path / "c", np.ones((4, 2), dtype=np.float32), ["a", "b", "c"], [1, 1, 1])
    with pytest.raises(ValueError, match="has 3 tokens but the embedding matrix .* has 4 rows"):
        checkpoint_table(tmp_path / "c", space="raw")


def test_language_model_run_directory_is_a_source(tmp_path):
    """A ``pretrain-lm`` run directory (model in ``lm/``) reads like a classifier: its word vocabulary, normalised."""
    from textadv.text import Vocabulary, save_text_model
    from textadv.text.checkpoint import RUN_LM_DIR
    from textadv.text.lstm import LSTMLanguageModel

    vocab = Vocabulary.build(["good bad good fine awful good bad great"] * 3, min_count=1)
    model = LSTMLanguageModel(
        len(vocab), embedding_dim=8, hidden_size=4, embedding_dropout=0.5, counts=vocab.frequencies()
    )
    save_text_model(model, tmp_path / "lm-run" / RUN_LM_DIR, encoder=vocab)
    table = checkpoint_table(tmp_path / "lm-run")
    assert table.name == "lm-run" and table.kind == "lstm-lm-checkpoint" and table.space == "normalized"
    with torch.no_grad():
        np.testing.assert_allclose(table.matrix, model.embedding.normalized_weight().numpy(), atol=1e-5)
    good = table.resolve("Good")  # the word tokenizer lower-cases, as for the classifier
    assert good.status == "pieces" and good.rows == (vocab.index("good"),) and good.label == "Good [as good]"
    (res,) = query_neighbours(table, ["good"], 3)
    assert len(res.neighbours) == 3 and "good" not in [n.word for n in res.neighbours]
