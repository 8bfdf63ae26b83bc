"""``textadv squad-attack`` end to end on the packaged 15-question SQuAD sample, and its bad-input errors."""

from pathlib import Path

import pytest

from textadv.cli import main
from textadv.qa.squad import read_squad

SAMPLE = str(Path(__file__).resolve().parents[2] / "textadv" / "qa" / "data" / "squad_sample.json")

pytestmark = pytest.mark.slow


def test_addsent_file_holds_each_original_then_its_variants(tmp_path, capsys, spacy_nlp):
    out = tmp_path / "addsent.json"
    assert (
        main(
            [
                "squad-attack",
                "--input",
                SAMPLE,
                "--mode",
                "addsent",
                "--output",
                str(out),
                "--limit",
                "8",
                "--no-progress",
            ]
        )
        == 0
    )
    originals = read_squad(SAMPLE)[:8]
    written = read_squad(out)
    assert [q for q in written if "-" not in q.id] == originals  # unchanged, in order
    current = None
    for q in written:
        if "-" not in q.id:
            current = q
            continue
        assert q.id.startswith(current.id + "-addsent")  # a variant follows its own original
        assert q.context.startswith(current.context + " ") and q.answers == current.answers
    variants = len(written) - len(originals)
    assert variants > 0
    assert f"addsent: {variants} variants" in capsys.readouterr().out


def test_addonesent_is_reproducible_with_a_seed(tmp_path, spacy_nlp):
    paths = [tmp_path / f"one{i}.json" for i in range(2)]
    for p in paths:
        assert (
            main(
                [
                    "squad-attack",
                    "--input",
                    SAMPLE,
                    "--mode",
                    "addonesent",
                    "--output",
                    str(p),
                    "--seed",
                    "5",
                    "--no-progress",
                ]
            )
            == 0
        )
    assert paths[0].read_bytes() == paths[1].read_bytes()
    written = read_squad(paths[0])
    ids = [q.id for q in written if "-" in q.id]
    assert ids and all(i.endswith("-addonesent") for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--limit", "0"], "--limit must be a positive"),
        (["--mode", "addany"], "pass --model"),
        (["--model", "sliding-window"], "does not query a model"),
    ],
)
def test_bad_flags_fail_before_anything_is_written(tmp_path, capsys, extra, message):
    out = tmp_path / "adv.json"
    out.write_text("keep me", encoding="utf-8")
    args = ["squad-attack", "--input", SAMPLE, "--mode", "addsent", "--output", str(out)]
    args = [a for a in args if not (extra[0] == "--mode" and a in ("--mode", "addsent"))] + extra
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"


def test_malformed_input_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = tmp_path / "adv.json"
    assert main(["squad-attack", "--input", str(bad), "--mode", "addsent", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert (
        main(["squad-attack", "--input", str(tmp_path / "missing.json"), "--mode", "addsent", "--output", str(out)])
        == 2
    )
    assert not out.exists()


def test_addcommon_queries_the_model_and_keeps_the_layout(tmp_path):
    out = tmp_path / "addcommon.json"
    assert (
        main(
            [
                "squad-attack",
                "--input",
                SAMPLE,
                "--mode",
                "addcommon",
                "--model",
                "sliding-window",
                "--limit",
                "2",
                "--budget",
                "40",
                "--output",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    originals = read_squad(SAMPLE)[:2]
    written = read_squad(out)
    assert [q.id for q in written] == [
        originals[0].id,
        originals[0].id + "-addcommon",
        originals[1].id,
        originals[1].id + "-addcommon",
    ]
    assert all(v.context.startswith(o.context + " ") for o, v in zip(written[::2], written[1::2]))
