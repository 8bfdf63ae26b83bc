"""``textadv squad-eval`` end to end on the hand-made file tests/qa/fixtures/adversarial_small.json.

The file: c0ffee01 (Paris) with two variants, c0ffee02 (Brazil | through Brazil) without a variant,
c0ffee03 (Tokyo) with one variant. Hand-traced sliding-window answers: 'Paris'; with 'Berlin is the capital
of France, said a liar.' appended, 'Berlin' (same sentence overlap, more question-word weight in its
window); with 'Rome is old.', 'Paris'; 'Brazil'; 'Osaka' for the Tokyo question (the only span in a
sentence sharing words with it); with 'Tokyo is the capital of Japan.' appended, 'Tokyo'.
"""

import json
import warnings
from pathlib import Path

import pytest

from textadv.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = str(FIXTURES / "adversarial_small.json")

pytestmark = pytest.mark.slow


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_predictions_file_scores_match_hand_computed_values(tmp_path, capsys):
    out = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(
            [
                "squad-eval",
                "--data",
                DATA,
                "--predictions",
                str(FIXTURES / "predictions_small.json"),
                "--output",
                str(out),
                "--no-answer-types",
            ]
        )
    assert code == 0
    assert [str(w.message) for w in caught if "no prediction" in str(w.message)] == [
        "1 of 6 questions have no prediction; they score 0"
    ]
    m = _metrics(out)
    # originals: 'Paris, France' EM 0 F1 2/3; c0ffee02 unanswered 0; 'the Tokyo' 1
    assert m["questions"] == 3 and m["variants"] == 3 and m["unanswered"] == 1
    assert m["original"] == pytest.approx({"exact_match": 100 / 3, "f1": 100 * (2 / 3 + 1) / 3})
    # worst variants: 'Berlin' 0 (over 'Paris' 1); c0ffee02 keeps its 0; 'Osaka' 0
    assert m["adversarial"] == pytest.approx({"exact_match": 0.0, "f1": 0.0})
    assert m["with_variant"]["original"] == pytest.approx({"exact_match": 50.0, "f1": 100 * (2 / 3 + 1) / 2})
    assert m["adversaries"]["high-conf-turk"]["adversarial"] == m["adversarial"]
    preds = json.loads((out / "predictions.json").read_text(encoding="utf-8"))
    assert preds == json.loads((FIXTURES / "predictions_small.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| all | 3 | 33.3 | 55.6 | 0 | 0 |" in report
    assert "Berlin is the capital of France, said a liar." in report  # the worked example's distractor
    assert (out / "scores.png").stat().st_size > 1000


def test_sliding_window_scores_match_hand_computed_values(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["squad-eval", "--data", DATA, "--model", "sliding-window", "--output", str(out), "--examples", "3"]) == 0
    )
    m = _metrics(out)
    assert m["original"] == pytest.approx({"exact_match": 200 / 3, "f1": 200 / 3})  # Paris, Brazil right; Osaka wrong
    assert m["adversarial"] == pytest.approx({"exact_match": 200 / 3, "f1": 200 / 3})  # Berlin wrong; Tokyo rescued
    assert m["with_variant"]["original"]["f1"] == pytest.approx(50.0)
    assert m["with_variant"]["adversarial"]["f1"] == pytest.approx(50.0)
    assert m["without_variant"]["adversarial"]["f1"] == pytest.approx(100.0)
    # answer types of the gold answers (Paris, Brazil: places; Tokyo: place) add up to the questions
    assert sum(t["questions"] for t in m["answer_types"].values()) == 3
    assert "3 questions: original EM 66.7 F1 66.7; adversarial EM 66.7 F1 66.7" in capsys.readouterr().out
    # same seed, same files
    again = tmp_path / "again"
    main(["squad-eval", "--data", DATA, "--model", "sliding-window", "--output", str(again), "--examples", "3"])
    assert (again / "report.md").read_text() == (out / "report.md").read_text()


def test_bad_inputs_fail_in_one_line_and_touch_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    bad_preds = tmp_path / "bad.json"
    bad_preds.write_text(json.dumps({"c0ffee01": 1}))
    cases = [
        (["--predictions", str(bad_preds), "--overwrite"], "answer(s) are not strings"),
        (["--predictions", str(tmp_path / "missing.json"), "--overwrite"], "does not exist"),
        (["--model", "sliding-window"], "is not empty; pass --overwrite"),
        (["--model", str(tmp_path / "no-model"), "--overwrite"], "cannot load model"),
    ]
    for extra, message in cases:
        assert main(["squad-eval", "--data", DATA, "--output", str(out)] + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    bad_data = tmp_path / "bad_data.json"
    bad_data.write_text('{"data": [{"title": "t", "paragraphs": [{"context": "", "qas": []}]}]}')
    assert (
        main(["squad-eval", "--data", str(bad_data), "--model", "sliding-window", "--output", str(out), "--overwrite"])
        == 2
    )
    assert "paragraph 0: empty context" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
