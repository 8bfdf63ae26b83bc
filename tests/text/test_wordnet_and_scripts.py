"""WordNet for NLTK from the packaged files, and the data scripts."""

import importlib.util
from pathlib import Path

from textadv.text import Vocabulary, load_frequencies
from textadv.text.wordnet import ensure_wordnet

SCRIPTS = Path(__file__).resolve().parents[2] / "data_scripts"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ensure_wordnet_converts_line_endings_once_and_keeps_byte_offsets(tmp_path):
    import nltk

    root = ensure_wordnet(tmp_path)
    files = root / "corpora" / "wordnet"
    assert b"\r\n" not in (files / "data.adj").read_bytes()
    stamp = (files / "data.noun").stat().st_mtime_ns
    assert ensure_wordnet(tmp_path) == root  # idempotent: nothing rewritten
    assert (files / "data.noun").stat().st_mtime_ns == stamp
    assert str(root) in nltk.data.path
    # NLTK seeks to the byte offsets listed in the index files: they must land on the synset's line.
    for pos, lemma in (("adj", "hot"), ("verb", "increase"), ("noun", "film")):
        line = next(row for row in (files / f"index.{pos}").read_text().splitlines() if row.startswith(lemma + " "))
        offsets = [t for t in line.split() if len(t) == 8 and t.isdigit()]
        with open(files / f"data.{pos}", "rb") as data:
            for offset in offsets:
                data.seek(int(offset))
                assert data.readline().startswith(offset.encode())


def test_build_vocab_script_counts_training_and_unlabeled_text(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\ngood film,1\nbad film,0\ngood cast,1\nbad plot,0\n")
    unlabeled = tmp_path / "u.txt"
    unlabeled.write_text("film film film\n")
    out = tmp_path / "vocab.tsv"
    code = _script("build_vocab").main(
        [
            "--dataset",
            str(data),
            "--unlabeled",
            str(unlabeled),
            "--min-count",
            "2",
            "--output",
            str(out),
            "--split-seed",
            "0",
        ]
    )
    assert code == 0
    vocab = Vocabulary.load(out)
    assert vocab.tokens[:2] == ("<pad>", "<unk>") and "film" in vocab
    assert vocab.counts[vocab.index("film")] >= 3  # the unlabeled text is counted


def test_build_vocab_script_with_a_tokenizer_and_bad_input(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("text,label\ngood film,1\nbad film,0\ngood cast,1\nbad plot,0\n")
    out = tmp_path / "freq.txt"
    script = _script("build_vocab")
    assert (
        script.main(["--dataset", str(data), "--tokenizer", "minilm", "--unlabeled", "none", "--output", str(out)]) == 0
    )
    counts = load_frequencies(out)
    assert counts.numel() == 30522 and counts.sum() > 0
    assert script.main(["--dataset", str(data), "--label-column", "stars", "--output", str(out)]) == 2
    assert "no label column 'stars'" in capsys.readouterr().err
