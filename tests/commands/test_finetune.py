"""``textadv finetune`` on bad input: a clear one-line error (exit 2) or a warning.

Never a run directory that looks complete.
"""

import csv
import json

import pytest

from textadv.cli import main
from textadv.report import is_complete

POSITIVE = [
    "a warm, funny and moving film",
    "the best movie of the year",
    "brilliant acting and a sharp script",
    "a delightful surprise from start to finish",
    "smart, touching and beautifully shot",
    "i loved every minute",
]
NEGATIVE = [
    "a dull and lifeless mess",
    "the worst film of the year",
    "boring, predictable and far too long",
    "a tedious waste of a good cast",
    "clumsy writing and flat acting",
    "i wanted my money back",
]
TINY = [
    "--no-glove",
    "--embedding-dim",
    "8",
    "--hidden-size",
    "8",
    "--dense-size",
    "4",
    "--batch-size",
    "4",
    "--max-length",
    "16",
    "--max-steps",
    "1",
    "--eval-eps",
    "1",
    "--pgd-steps",
    "1",
    "--unlabeled",
    "none",
    "--neighbour-words",
    "--no-progress",
    "--adv",
    "at",
]


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


@pytest.fixture
def reviews(tmp_path):
    rows = [(t, "pos") for t in POSITIVE * 3] + [(t, "neg") for t in NEGATIVE * 3]
    test = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    return write_csv(tmp_path / "train.csv", rows), write_csv(tmp_path / "test.csv", test)


def run(argv, capsys):
    code = main(["finetune", *argv])
    return code, capsys.readouterr().err


def test_negative_epsilon_is_refused_before_anything_is_written(reviews, tmp_path, capsys):
    train, test = reviews
    code, err = run(
        ["--dataset", train, "--test-file", test, "--epsilon", "-1", "--output-dir", str(tmp_path / "run"), *TINY],
        capsys,
    )
    assert code == 2 and "--epsilon" in err and ">= 0" in err
    assert not (tmp_path / "run").exists()
    code, err = run(["--dataset", train, "--eval-eps", "-0.5", "--output-dir", str(tmp_path / "run")], capsys)
    assert code == 2 and "--eval-eps" in err and not (tmp_path / "run").exists()


def test_missing_label_column_is_named(reviews, tmp_path, capsys):
    train, test = reviews
    code, err = run(
        ["--dataset", train, "--label-column", "sentiment", "--output-dir", str(tmp_path / "run"), *TINY], capsys
    )
    assert code == 2 and "sentiment" in err and "label column" in err
    assert not (tmp_path / "run").exists()


def test_label_outside_the_label_set_is_named_with_its_row(reviews, tmp_path, capsys):
    train, _ = reviews
    test = write_csv(tmp_path / "odd.csv", [("fine", "pos"), ("so so", "neutral")])
    code, err = run(["--dataset", train, "--test-file", test, "--output-dir", str(tmp_path / "run"), *TINY], capsys)
    assert code == 2 and "'neutral'" in err and "row 3" in err
    assert not (tmp_path / "run").exists()


def test_unreachable_hub_dataset_says_how_to_get_it(tmp_path, capsys):
    code, err = run(["--dataset", "no-such-user/no-such-dataset", "--output-dir", str(tmp_path / "run"), *TINY], capsys)
    assert code == 2 and "no-such-user/no-such-dataset" in err
    assert "network access" in err and ".csv" in err
    assert not (tmp_path / "run").exists()


def test_existing_output_directory_needs_overwrite_or_resume(reviews, tmp_path, capsys):
    train, test = reviews
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    code, err = run(["--dataset", train, "--test-file", test, "--output-dir", str(tmp_path / "run"), *TINY], capsys)
    assert code == 2 and "not empty" in err and "--overwrite" in err
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_empty_and_huge_texts_warn_and_the_run_completes(reviews, tmp_path, capsys):
    _, test = reviews
    huge = " ".join(["great"] * 100_000)
    rows = (
        [(t, "pos") for t in POSITIVE * 2]
        + [(t, "neg") for t in NEGATIVE * 2]
        + [("", "pos"), ("   ", "neg"), (huge, "pos")]
    )
    train = write_csv(tmp_path / "train.csv", rows)
    with pytest.warns(UserWarning) as caught:
        code, _ = run(["--dataset", train, "--test-file", test, "--output-dir", str(tmp_path / "run"), *TINY], capsys)
    assert code == 0 and is_complete(tmp_path / "run")
    messages = [str(w.message) for w in caught]
    assert any("dropped 2 empty text" in m for m in messages)
    assert any("longer than max_length=16" in m and "truncated" in m for m in messages)
    notes = json.loads((tmp_path / "run" / "metrics.json").read_text())["notes"]
    assert any("truncated" in n for n in notes)
    assert "truncated" in (tmp_path / "run" / "report.md").read_text()


def test_resume_with_a_changed_setting_is_refused(reviews, tmp_path, capsys):
    train, test = reviews
    code, _ = run(["--dataset", train, "--test-file", test, "--output-dir", str(tmp_path / "run"), *TINY], capsys)
    assert code == 0
    code, err = run(["--resume", str(tmp_path / "run"), "--adv", "vat"], capsys)
    assert code == 2 and "cannot resume" in err and "adv" in err
    # Refused before anything changed: the finished run is still complete and still the `at` run.
    assert is_complete(tmp_path / "run") and json.loads((tmp_path / "run" / "metrics.json").read_text())["adv"] == "at"
