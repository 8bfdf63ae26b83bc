"""``textadv neighbours`` end to end: files written, consistent with each other; bad input exits 2 with one line."""

import csv
import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from textadv.cli import main

WORDS = [
    "<pad>",
    "<unk>",
    "good",
    "bad",
    "great",
    "awful",
    "hot",
    "cold",
    "big",
    "little",
    "film",
    "movie",
    "plot",
    "actor",
]


def checkpoint(directory, seed):
    """A small LSTM text-model directory following textadv.text.save_text_model's contract."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True)
    save_file(
        {"embedding.embedding.weight": rng.normal(size=(len(WORDS), 5)).astype(np.float32)},
        str(directory / "model.safetensors"),
    )
    (directory / "vocab.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    (directory / "frequencies.txt").write_text("\n".join(str(c) for c in rng.integers(1, 50, len(WORDS))) + "\n")
    (directory / "textadv_model.json").write_text(
        json.dumps(
            {
                "format_version": 1,
                "kind": "lstm",
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


@pytest.fixture
def runs(tmp_path):
    return [checkpoint(tmp_path / name, seed) for seed, name in enumerate(["none", "at", "vat"])]


def test_cli_end_to_end_writes_consistent_reports(runs, tmp_path, capsys):
    out = tmp_path / "report"
    rc = main(
        [
            "neighbours",
            "--checkpoints",
            *map(str, runs),
            "--names",
            "baseline",
            "AT",
            "VAT",
            "--words",
            "good",
            "bad",
            "nonword",
            "--k",
            "4",
            "--pairs",
            "good:bad",
            "hot:cold",
            "--antonyms",
            "--wordnet-dir",
            str(tmp_path / "nltk"),
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    for name in ("neighbours.md", "neighbours.html", "neighbours.csv", "neighbours.json", "pairs.csv", "antonyms.csv"):
        assert (out / name).stat().st_size > 0
    assert (out / "pair_ranks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    report = json.loads((out / "neighbours.json").read_text())
    assert [s["name"] for s in report["sources"]] == ["baseline", "AT", "VAT"]
    assert all(s["space"] == "normalized" for s in report["sources"])  # auto: the checkpoints say miyato
    rows = list(csv.DictReader((out / "neighbours.csv").open()))
    md, html = (out / "neighbours.md").read_text(), (out / "neighbours.html").read_text()
    for per_word in report["neighbours"]:
        for q in per_word:
            listed = [r for r in rows if r["source"] == q["source"] and r["query"] == q["word"] and r["rank"]]
            assert [r["neighbour"] for r in listed] == [n["word"] for n in q["neighbours"]]
            if q["status"] == "unknown":
                assert not q["neighbours"] and f"{q['source']}: nonword [unknown]" in md
            for n in q["neighbours"]:
                assert f"{n['cosine']:.3f}" in md and f"{n['cosine']:.3f}" in html
    pairs = list(csv.DictReader((out / "pairs.csv").open()))
    for p in pairs:  # a pair's rank is its position in the neighbour list when it is within k
        per_word = next((w for w in report["neighbours"] if w[0]["word"] == p["word"]), None)
        if per_word is not None:
            listed = [n["word"] for n in next(q for q in per_word if q["source"] == p["source"])["neighbours"]]
            assert (p["other"] in listed) == (int(p["rank"]) <= 4)
            if p["other"] in listed:
                assert listed.index(p["other"]) + 1 == int(p["rank"])
    antonyms = list(csv.DictReader((out / "antonyms.csv").open()))
    assert [a["source"] for a in antonyms] == ["baseline", "AT", "VAT"]
    assert {tuple(p) for p in report["antonym_pairs"]} == {("bad", "good"), ("big", "little"), ("cold", "hot")}
    assert all(a["queries"] == "6" for a in antonyms)
    assert "Neighbours of “good”" in capsys.readouterr().out


def test_recipe_runs_the_same_code(runs, tmp_path):
    from importlib import util
    from pathlib import Path

    spec = util.spec_from_file_location(
        "recipe", Path(__file__).resolve().parents[2] / "recipes" / "embedding_neighbours.py"
    )
    recipe = util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    args = ["--checkpoints", str(runs[0]), "--raw", "--words", "good", "--k", "3"]
    assert recipe.main(args + ["--output", str(tmp_path / "a")]) == 0
    assert main(["neighbours", *args, "--output", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "neighbours.json").read_text() == (tmp_path / "b" / "neighbours.json").read_text()
    assert recipe.main(["--checkpoints", str(runs[0]), "--words", "--k", "3"]) == 2


def bad_inputs(tmp_path, runs):
    np.save(tmp_path / "m.npy", np.ones((5, 3), dtype=np.float32))
    (tmp_path / "v.txt").write_text("a\nb\nc\n")
    (tmp_path / "nomatrix").mkdir()
    return {
        "empty words": (["--checkpoints", str(runs[0]), "--words"], "--words is empty"),
        "k zero": (["--checkpoints", str(runs[0]), "--k", "0"], "--k must be positive"),
        "k too large": (["--checkpoints", str(runs[0]), "--k", "14"], "k=14 is larger than the 13"),
        "no embedding matrix": (["--checkpoints", str(tmp_path / "nomatrix")], "no embedding matrix description"),
        "vocab mismatch": (
            ["--checkpoints", f"npy:{tmp_path / 'm.npy'}:{tmp_path / 'v.txt'}"],
            "has 3 tokens but the matrix",
        ),
        "bad pair": (["--checkpoints", str(runs[0]), "--pairs", "good-bad"], "WORD:OTHER"),
        "names count": (["--checkpoints", str(runs[0]), "--names", "a", "b"], "2 labels for 1 sources"),
        "unknown source": (["--checkpoints", "word2vec"], "unknown embedding source"),
    }


def test_bad_input_exits_2_with_one_line(runs, tmp_path, capsys):
    for case, (args, message) in bad_inputs(tmp_path, runs).items():
        assert main(["neighbours", *args]) == 2, case
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (case, err)
