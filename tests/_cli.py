"""Helpers for tests that run ``textadv`` commands: a six-review corpus and the refusal check.

Importable as ``from _cli import ...``: pytest puts ``tests/`` (the directory of the root
conftest.py) on ``sys.path``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from textadv.cli import main

REVIEWS = [
    ("a warm, funny and moving film", "pos"),
    ("the best movie of the year", "pos"),
    ("brilliant acting and a sharp script", "pos"),
    ("a dull and lifeless mess", "neg"),
    ("the worst film of the year", "neg"),
    ("boring, predictable and far too long", "neg"),
]


def write_reviews(root: Path) -> list[str]:
    """``train.csv`` (the reviews four times) and ``test.csv`` (once) under ``root``; their ``--dataset``
    and ``--test-file`` flags."""
    for name, rows in (("train.csv", REVIEWS * 4), ("test.csv", REVIEWS)):
        with open(root / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
    return ["--dataset", str(root / "train.csv"), "--test-file", str(root / "test.csv")]


def refused(argv, capsys, *expected) -> str:
    """Run the command; assert exit 2 and one line on stderr holding every ``expected`` fragment."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "error:" in err, err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    return err
