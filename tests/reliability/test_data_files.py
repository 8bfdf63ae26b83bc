"""Users' data files: missing labels, encodings, byte-order marks and JSON, whatever the split.

A refused command exits 2 with one line naming the file and the place (row, or line and byte
offset) and writes nothing; a file that is fine in its own encoding loads the same texts as its
UTF-8 copy.
"""

import codecs
import csv
import dataclasses
import gzip
import json

import pytest
from _cli import REVIEWS, refused
from test_run_dirs import TEXT

from textadv.qa.squad import read_squad
from textadv.qa.systems import PredictionsFile
from textadv.text import load_text_classification
from textadv.text.vocab import PAD, UNK, Vocabulary

ACCENTED = [("un film très réussi, café-théâtre", "pos"), ("une purée ratée", "neg")]


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Small runs throughout: see ``single_thread`` in tests/conftest.py."""


def _csv(path, rows, encoding="utf-8", header=("text", "label")):
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _finetune(data, run, *extra):
    return ["finetune", "--dataset", str(data), *TEXT, "--max-steps", "1", "--output-dir", str(run), *extra]


# ---------------------------------------------------------------------------------------- missing labels
@pytest.mark.parametrize("marker", ["NaN", "NA", "", "null", " n/a "])
def test_a_missing_label_is_refused_whatever_the_split_seed(tmp_path, capsys, marker):
    """A ``NaN`` label used to become a third class, or be refused, depending on where the split put it."""
    data = _csv(tmp_path / "reviews.csv", REVIEWS * 3 + [("an odd little film", marker)] + REVIEWS)
    run = tmp_path / "run"
    for split_seed in range(4):
        refused(
            [*_finetune(data, run), "--split-seed", str(split_seed)],
            capsys,
            f"{data}, row 20: missing value in label column 'label'",
        )
        assert not run.exists()


def test_a_missing_label_in_a_fixed_test_file_is_refused(tmp_path, capsys):
    train = _csv(tmp_path / "train.csv", REVIEWS * 4)
    test = _csv(tmp_path / "test.csv", REVIEWS[:2] + [("a film", "NaN")])
    refused(
        [*_finetune(train, tmp_path / "run"), "--test-file", str(test)],
        capsys,
        f"{test}, row 4: missing value in label column 'label' ('NaN' marks a missing value)",
    )


def test_a_missing_label_in_jsonl_is_refused(tmp_path):
    data = tmp_path / "reviews.jsonl"
    rows = [{"text": t, "label": y} for t, y in REVIEWS * 2]
    data.write_text("\n".join([*map(json.dumps, rows), '{"text": "a film", "label": NaN}']) + "\n")
    with pytest.raises(ValueError, match=r"reviews.jsonl, row 13: missing value in label column 'label'"):
        load_text_classification(data, unlabeled=None)


def test_a_text_nan_is_text_and_the_label_set_does_not_depend_on_the_split(tmp_path):
    """Cells stay text (``NaN`` is a word in a review); a class seen once is a class under every split seed."""
    data = _csv(tmp_path / "reviews.csv", REVIEWS * 3 + [("NaN", "pos"), ("neither good nor bad", "mixed")])
    for seed in range(6):
        loaded = load_text_classification(data, seed=seed, unlabeled=None)
        assert loaded.label_names == ("mixed", "neg", "pos")
        texts = loaded.train.texts + loaded.validation.texts + loaded.test.texts
        assert "NaN" in texts and len(texts) == len(REVIEWS) * 3 + 2


def test_an_empty_text_is_dropped_with_its_row_named(tmp_path):
    data = _csv(tmp_path / "reviews.csv", REVIEWS * 2 + [("  ", "pos")])
    with pytest.warns(UserWarning, match=r"dropped 1 empty text\(s\) in column 'text' \(rows 14\)"):
        loaded = load_text_classification(data, unlabeled=None, test_ratio=0.0, validation_ratio=0.0)
    assert len(loaded.train) == len(REVIEWS) * 2


# ---------------------------------------------------------------------------------------- encodings
def test_a_latin1_file_is_named_with_the_line_and_byte_offset(tmp_path, capsys):
    data = _csv(tmp_path / "reviews.csv", REVIEWS * 2 + ACCENTED, encoding="latin-1")
    offset = data.read_bytes().index("è".encode("latin-1"))
    run = tmp_path / "run"
    refused(
        _finetune(data, run),
        capsys,
        f"{data}, line 14, byte offset {offset}: byte 0xe8 is not utf-8 text",
        "--encoding latin-1",
    )
    assert not run.exists()
    refused(_finetune(data, run, "--encoding", "klingon"), capsys, "unknown text encoding 'klingon'")
    assert not run.exists()


def test_a_file_in_its_own_encoding_loads_the_texts_of_its_utf8_copy(tmp_path):
    rows = REVIEWS * 2 + ACCENTED
    utf8 = load_text_classification(_csv(tmp_path / "u.csv", rows), unlabeled=None)
    for encoding in ("latin-1", "cp1252"):
        other = load_text_classification(
            _csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding), unlabeled=None, encoding=encoding
        )
        assert other == dataclasses.replace(utf8, source=other.source)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    rows = REVIEWS * 2
    plain = load_text_classification(_csv(tmp_path / "plain.csv", rows), unlabeled=None)
    bom = _csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig")
    assert bom.read_bytes().startswith(codecs.BOM_UTF8)
    assert load_text_classification(bom, unlabeled=None).train == plain.train
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in rows), encoding="utf-8-sig")
    assert load_text_classification(jsonl, unlabeled=None).train == plain.train
    unlabeled = tmp_path / "more.txt"
    unlabeled.write_text("first line\nsecond line\n", encoding="utf-8-sig")
    assert load_text_classification(bom, unlabeled=unlabeled).unlabeled == ["first line", "second line"]


@pytest.mark.parametrize("compress", [False, True])
def test_the_byte_offset_is_exact_past_the_first_megabyte(tmp_path, compress):
    """The file is decoded in chunks of 1 MiB; the offset counts the whole (decompressed) file, here past a
    character that the first chunk's end cuts in two."""
    head = b"text,label\n" + b"a good film,pos\n" * 1000
    head += b"a" * ((1 << 20) - 1 - len(head)) + "é,neg\n".encode("utf-8")
    assert head[(1 << 20) - 1 : (1 << 20) + 1] == "é".encode("utf-8")
    raw = head + b"a bad film,neg\n" * 1000 + "la vie en rosé,neg\n".encode("latin-1")
    path = tmp_path / ("reviews.csv.gz" if compress else "reviews.csv")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    line, offset = raw.count(b"\n"), raw.index(b"\xe9")
    with pytest.raises(ValueError, match=rf"line {line}, byte offset {offset}: byte 0xe9 is not utf-8 text"):
        load_text_classification(path, unlabeled=None)


# ---------------------------------------------------------------------------------------- JSON and vocabulary files
SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "Café",
            "paragraphs": [
                {
                    "context": "The café opened in 1907.",
                    "qas": [{"id": "q1", "question": "When?", "answers": [{"text": "1907", "answer_start": 19}]}],
                }
            ],
        }
    ],
}


def test_json_files_read_with_a_byte_order_mark_and_name_the_place_of_damage(tmp_path, capsys):
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(SQUAD), encoding="utf-8-sig")
    assert [q.answers[0].text for q in read_squad(squad)] == ["1907"]
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps({"q1": "1907"}), encoding="utf-8-sig")
    assert PredictionsFile.read(predictions).predictions == {"q1": "1907"}

    predictions.write_text('{"q1": "1907",\n "q2" "x"}')
    with pytest.raises(ValueError, match=r"predictions file .*predictions.json is not valid JSON .*line 2 column 7"):
        PredictionsFile.read(predictions)
    latin = tmp_path / "latin.json"
    latin.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="latin-1")
    offset = latin.read_bytes().index(b"\xe9")
    out = tmp_path / "adv.json"
    refused(
        ["squad-attack", "--input", str(latin), "--mode", "addsent", "--output", str(out)],
        capsys,
        f"{latin}, line 1, byte offset {offset}: byte 0xe9 is not utf-8 text; JSON files are UTF-8",
    )
    assert not out.exists()


def test_a_vocabulary_file_reads_with_a_byte_order_mark_and_names_bad_bytes(tmp_path):
    vocab = Vocabulary((PAD, UNK, "café", "film"), (0, 3, 2, 5))
    path = tmp_path / "vocab.tsv"
    vocab.save(path)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    assert Vocabulary.load(path) == vocab
    path.write_bytes(path.read_bytes()[3:].replace("é".encode(), b"\xe9"))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(ValueError, match=rf"vocab.tsv, line 3, byte offset {offset}: byte 0xe9 is not utf-8 text"):
        Vocabulary.load(path)
