"""Word tokenisation, vocabularies, frequency files, and token-id frequencies of HF tokenizers."""

import pytest
import torch

from textadv.text import PAD_ID, UNK_ID, Vocabulary, load_frequencies, save_frequencies, word_frequencies, word_tokenize
from textadv.text.vocab import load_tokens, save_tokens

TEXTS = ["It's a GREAT film!", "a great, great cast.<br />A dull plot", "dull dull film"]


def test_word_tokenize_lowercases_and_splits_punctuation():
    assert word_tokenize("It's GREAT!") == ["it's", "great", "!"]
    assert word_tokenize("one<br />two") == ["one", "two"]
    assert word_tokenize("a b c d e", max_tokens=2) == ["a", "b"]


def test_build_counts_and_unknown_words():
    vocab = Vocabulary.build(TEXTS, min_count=2)
    assert vocab.tokens[PAD_ID] == "<pad>" and vocab.tokens[UNK_ID] == "<unk>"
    counts = dict(zip(vocab.tokens, vocab.counts))
    assert counts["great"] == 3 and counts["dull"] == 3 and counts["a"] == 3 and counts["film"] == 2
    total = sum(len(word_tokenize(t)) for t in TEXTS)
    assert sum(vocab.counts) == total  # every token is counted once: kept rows plus <unk>
    assert counts["<pad>"] == 0
    assert vocab.encode("great cast") == [vocab.index("great"), UNK_ID]
    f = vocab.frequencies()
    assert f.shape == (len(vocab),) and f[UNK_ID] == counts["<unk>"]


def test_build_is_order_independent_and_max_size_keeps_most_frequent():
    assert Vocabulary.build(TEXTS) == Vocabulary.build(list(reversed(TEXTS)))
    small = Vocabulary.build(TEXTS, min_count=1, max_size=4)
    assert len(small) == 4
    assert set(small.tokens[2:]) <= {"a", "great", "dull"}
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build(TEXTS, min_count=0)


def test_files_round_trip(tmp_path):
    vocab = Vocabulary.build(TEXTS + ["tab\tinside"], min_count=1)
    vocab.save(tmp_path / "v.tsv")
    assert Vocabulary.load(tmp_path / "v.tsv") == vocab
    save_tokens(tmp_path / "vocab.txt", vocab.tokens)
    save_frequencies(tmp_path / "freq.txt", vocab.frequencies())
    assert load_tokens(tmp_path / "vocab.txt") == list(vocab.tokens)
    assert len((tmp_path / "vocab.txt").read_text().splitlines()) == len(vocab)
    assert Vocabulary.from_files(tmp_path / "vocab.txt", tmp_path / "freq.txt") == vocab
    (tmp_path / "bad.txt").write_text("1\nx\n")
    with pytest.raises(ValueError, match="line 2"):
        load_frequencies(tmp_path / "bad.txt")


def test_word_frequencies_count_tokenizer_ids():
    from transformers import AutoTokenizer

    from textadv import assets

    tok = AutoTokenizer.from_pretrained(str(assets.minilm_dir()))
    counts = word_frequencies(tok, TEXTS, batch_size=2)
    ids = [i for t in TEXTS for i in tok(t)["input_ids"]]
    assert counts.shape == (len(tok),)
    assert counts.sum() == len(ids)
    assert counts[tok.cls_token_id] == len(TEXTS) and counts[tok.pad_token_id] == 0
    assert torch.equal(counts, torch.bincount(torch.tensor(ids), minlength=len(tok)).double())
