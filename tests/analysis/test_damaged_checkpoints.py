"""A damaged text-model directory: ``textadv neighbours`` exits 2 with one line naming the file.

The files are the ones the one checkpoint reader (:func:`textadv.text.checkpoint.read_embedding`)
and the Hugging Face tokenizer read: ``model.safetensors``, ``textadv_model.json``, ``vocab.txt``,
``frequencies.txt`` and, for a Hugging Face model, ``config.json`` / ``tokenizer_config.json``.
"""

import json
import os

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from textadv.cli import main
from textadv.text import LSTMClassifier, LSTMConfig, Vocabulary, save_text_model
from textadv.text.checkpoint import read_embedding

WORDS = ["<pad>", "<unk>", "good", "bad", "great", "awful", "film", "plot"]


def lstm_dir(directory, kind="lstm"):
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    save_file(
        {"embedding.embedding.weight": rng.normal(size=(len(WORDS), 4)).astype(np.float32)},
        str(directory / "model.safetensors"),
    )
    (directory / "vocab.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    (directory / "frequencies.txt").write_text("\n".join(str(c) for c in range(1, len(WORDS) + 1)) + "\n")
    (directory / "textadv_model.json").write_text(
        json.dumps(
            {
                "format_version": 1,
                "kind": kind,
                "embedding_key": "embedding.embedding.weight",
                "vocab_file": "vocab.txt",
                "frequencies_file": "frequencies.txt",
                "normalization": "miyato",
                "uniform": False,
            }
        ),
        encoding="utf-8",
    )
    return directory


def truncate(path):
    os.truncate(path, path.stat().st_size // 2)


def garbage(path):
    path.write_bytes(b"\x00\x01not what it should be")


def empty(path):
    path.write_bytes(b"")


def half_json(path):
    path.write_text(path.read_text()[:-7] if path.stat().st_size > 7 else "{", encoding="utf-8")


def a_list(path):
    path.write_text("[1, 2, 3]\n", encoding="utf-8")


def latin1(path):
    path.write_bytes(b'{"format_version": 1, "kind": "caf\xe9"}')


def latin1_words(path):
    path.write_bytes("\n".join(WORDS[:-1] + ["café"]).encode("latin-1") + b"\n")


def not_numbers(path):
    path.write_text("\n".join(["1"] * (len(WORDS) - 1) + ["many"]) + "\n")


DAMAGE = [
    ("model.safetensors", truncate),
    ("model.safetensors", garbage),
    ("model.safetensors", empty),
    ("textadv_model.json", half_json),
    ("textadv_model.json", a_list),
    ("textadv_model.json", latin1),
    ("textadv_model.json", empty),
    ("vocab.txt", latin1_words),
    ("frequencies.txt", latin1_words),
    ("frequencies.txt", not_numbers),
]


@pytest.mark.parametrize("name, damage", DAMAGE, ids=[f"{n}-{d.__name__}" for n, d in DAMAGE])
def test_neighbours_names_the_damaged_file_in_one_line(tmp_path, capsys, name, damage):
    directory = lstm_dir(tmp_path / "run" / "model")
    damage(directory / name)
    out = tmp_path / "report"
    assert main(["neighbours", "--checkpoints", str(tmp_path / "run"), "--words", "good", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(directory / name) in err, err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "name, damage", [("config.json", half_json), ("config.json", a_list), ("tokenizer_config.json", half_json)]
)
def test_a_damaged_hugging_face_file_is_named_before_transformers_reads_it(tmp_path, capsys, name, damage):
    directory = lstm_dir(tmp_path / "m", kind="hf")
    (directory / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": len(WORDS)}))
    (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    damage(directory / name)
    assert (
        main(["neighbours", "--checkpoints", str(directory), "--words", "good", "--output", str(tmp_path / "report")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(directory / name) in err, err


def test_the_reader_returns_what_save_text_model_wrote(tmp_path):
    vocab = Vocabulary.build(["good bad good fine awful good bad great"] * 3, min_count=1)
    model = LSTMClassifier(LSTMConfig(len(vocab), 2, embedding_dim=6, hidden_size=4, dense_size=3), vocab.frequencies())
    save_text_model(model, tmp_path / "m", encoder=vocab)
    saved = read_embedding(tmp_path / "m")
    np.testing.assert_array_equal(saved.matrix, model.embedding.weight.detach().numpy())
    assert saved.tokens == vocab.tokens
    torch.testing.assert_close(torch.from_numpy(saved.frequencies), model.embedding.frequencies.double())
    assert saved.metadata["kind"] == "lstm" and saved.metadata["normalization"] == "miyato"


def test_the_reader_refuses_another_format_version(tmp_path):
    directory = lstm_dir(tmp_path / "m")
    meta = json.loads((directory / "textadv_model.json").read_text())
    (directory / "textadv_model.json").write_text(json.dumps(meta | {"format_version": 2}))
    with pytest.raises(ValueError, match="format_version"):
        read_embedding(directory)
