"""recipes/squad_adversarial_eval.py: the same numbers as squad-attack + squad-eval run by hand; inputs
checked before the output directory is touched."""

import importlib.util
import json
from pathlib import Path

import pytest

from textadv.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "textadv" / "qa" / "data" / "squad_sample.json"


def _recipe():
    spec = importlib.util.spec_from_file_location("squad_recipe", ROOT / "recipes" / "squad_adversarial_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_recipe_agrees_with_the_two_commands(tmp_path):
    out = tmp_path / "recipe"
    flags = ["--model", "sliding-window", "--seed", "1", "--budget", "40", "--no-progress"]
    assert (
        _recipe().main(
            [
                "--input",
                str(SAMPLE),
                "--modes",
                "addany",
                "--limit",
                "6",
                "--output",
                str(out),
                "--no-answer-types",
                *flags,
            ]
        )
        == 0
    )
    summary = json.loads((out / "metrics.json").read_text())["modes"]["addany"]
    assert summary["questions"] == summary["variants"] == 6

    originals = tmp_path / "first6.json"
    assert (
        main(
            [
                "squad-attack",
                "--input",
                str(SAMPLE),
                "--mode",
                "addany",
                "--limit",
                "6",
                "--output",
                str(originals),
                *flags,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "squad-eval",
                "--data",
                str(originals),
                "--model",
                "sliding-window",
                "--seed",
                "1",
                "--no-answer-types",
                "--output",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    by_hand = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (out / "addany.json").read_text() == originals.read_text()
    assert summary["original"] == by_hand["original"] and summary["adversarial"] == by_hand["adversarial"]
    # the search minimised the baseline's expected F1; its best answer does not get better
    assert summary["adversarial"]["f1"] <= summary["original"]["f1"]


def test_bad_model_leaves_the_output_alone(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("earlier results")
    not_qa = tmp_path / "not-a-model"
    not_qa.mkdir()
    code = _recipe().main(
        [
            "--input",
            str(SAMPLE),
            "--modes",
            "addany",
            "--model",
            str(not_qa),
            "--output",
            str(out),
            "--overwrite",
            "--no-progress",
        ]
    )
    assert code == 2
    assert (out / "keep.txt").read_text() == "earlier results"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not-a-model" in err[0]
