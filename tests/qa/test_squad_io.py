"""SQuAD v1.1 reading and writing: strict validation with errors that name where, the round trip, the
variant id scheme, and the official adversarial files' ids against the dev set."""

import copy
import json
from pathlib import Path

import pytest

from textadv.qa.squad import (
    SquadAnswer,
    SquadQuestion,
    load_hub_squad,
    original_id,
    read_squad,
    with_distractor,
    write_squad,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "adversarial_small.json"


def _write(tmp_path, obj, name="bad.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def _good():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_reads_fixture_in_order_with_titles_and_answers():
    qs = read_squad(FIXTURE)
    assert [q.id for q in qs] == [
        "c0ffee01",
        "c0ffee01-high-conf-turk0",
        "c0ffee01-high-conf-turk1",
        "c0ffee02",
        "c0ffee03",
        "c0ffee03-high-conf-turk0",
    ]
    assert qs[3].title == "Rivers" and qs[3].answers == (SquadAnswer("Brazil", 31), SquadAnswer("through Brazil", 23))
    for q in qs:
        for a in q.answers:
            assert q.context[a.answer_start : a.answer_start + len(a.text)] == a.text


def test_round_trip_read_write_read(tmp_path):
    qs = read_squad(FIXTURE)
    out = tmp_path / "out.json"
    write_squad(qs, out)
    assert read_squad(out) == qs
    data = json.loads(out.read_text(encoding="utf-8"))
    # consecutive questions of one (title, context) share a paragraph; the title changes start articles
    assert [a["title"] for a in data["data"]] == ["Capitals", "Rivers", "Capitals"]
    assert [len(a["paragraphs"]) for a in data["data"]] == [3, 1, 2]
    assert data["version"] == "1.1"


def test_with_distractor_keeps_the_original_as_prefix_and_the_answers():
    q = read_squad(FIXTURE)[0]
    v = with_distractor(q, "Berlin is the capital of Germany.", "addsent0")
    assert v.id == "c0ffee01-addsent0" and original_id(v.id) == q.id
    assert v.context.startswith(q.context) and v.context.endswith("Germany.")
    assert v.answers == q.answers and v.question == q.question
    with pytest.raises(ValueError, match="tag"):
        with_distractor(q, "x.", "add-sent")
    with pytest.raises(ValueError, match="empty distractor"):
        with_distractor(q, "  ", "addsent0")


def test_original_id_of_official_and_our_ids():
    assert original_id("56be4db0acb8001400a502ec-high-conf-turk0") == "56be4db0acb8001400a502ec"
    assert original_id("56be4db0acb8001400a502ec-addany") == "56be4db0acb8001400a502ec"
    assert original_id("56be4db0acb8001400a502ec") == "56be4db0acb8001400a502ec"


def _mutate(tmp_path, change):
    data = _good()
    change(data)
    return _write(tmp_path, data)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0].pop("question"),
            r"article 0 \('Capitals'\), paragraph 0, question 'c0ffee01': the question has no 'question' key",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0]["answers"][0].update(answer_start=3),
            r"article 1 \('Rivers'\), paragraph 0, question 'c0ffee02': "
            r"answer 0 'Brazil' does not occur at answer_start 3",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0]["answers"][0].update(text="Peru"),
            r"question 'c0ffee02': answer 0 'Peru' does not occur",
        ),
        (
            lambda d: d["data"][2]["paragraphs"][1]["qas"][0].update(question="   "),
            r"article 2 \('Capitals'\), paragraph 1, question 'c0ffee03-high-conf-turk0': empty question",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][1].update(context=""),
            r"article 0 \('Capitals'\), paragraph 1: empty context",
        ),
        (lambda d: d["data"][0]["paragraphs"][2].pop("qas"), r"paragraph 2: the paragraph has no 'qas' key"),
        (lambda d: d["data"][1].pop("paragraphs"), r"article 1 \('Rivers'\): the article has no 'paragraphs' key"),
        (lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(answers=[]), r"question 'c0ffee02': no gold answer"),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(id="c0ffee01"),
            r"question 'c0ffee01': duplicate question id \(first seen at article 0, paragraph 0\)",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0]["answers"][0].update(answer_start="31"),
            r"answer 0's 'answer_start' is a str, expected int",
        ),
    ],
)
def test_invalid_files_name_the_file_and_where(tmp_path, change, message):
    path = _mutate(tmp_path, change)
    with pytest.raises(ValueError, match=message) as err:
        read_squad(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"version": "1.1", "data": [', r"is not valid JSON"),
        ("[1, 2, 3]", r"is not a SQuAD v1.1 file"),
        ('{"version": "1.1", "articles": []}', r"is not a SQuAD v1.1 file"),
        ('{"version": "1.1", "data": []}', r"holds no questions"),
    ],
)
def test_malformed_and_not_squad_shaped_files(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as err:
        read_squad(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_squad(tmp_path / "nope.json")


def test_write_refuses_invalid_questions_and_leaves_no_file(tmp_path):
    bad = SquadQuestion("x1", "Who?", "Alice met Bob.", (SquadAnswer("Bob", 0),))
    with pytest.raises(ValueError, match="'Bob' does not occur at answer_start 0"):
        write_squad([bad], tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_hub_offline_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path))  # an empty cache: the hub is the only source
    with pytest.raises(FileNotFoundError, match=r"hub dataset 'squad_adversarial' \(AddSent\).*pass a local SQuAD"):
        load_hub_squad("squad_adversarial", "AddSent")
    with pytest.raises(ValueError, match="needs a config"):
        load_hub_squad("squad_adversarial", None)


def test_hub_rows_become_questions(monkeypatch):
    import datasets

    rows = [
        {
            "id": "a1",
            "title": "T",
            "context": "Alice met Bob.",
            "question": "Who did Alice meet?",
            "answers": {"text": ["Bob"], "answer_start": [10]},
        }
    ]
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config, split: copy.deepcopy(rows))
    assert load_hub_squad("squad") == [
        SquadQuestion("a1", "Who did Alice meet?", "Alice met Bob.", (SquadAnswer("Bob", 10),), "T")
    ]


def test_official_adversarial_ids_map_to_dev_ids(shared_data):
    squad = shared_data / "squad"
    dev = {q.id: q for q in read_squad(squad / "dev-v1.1.json")}
    assert len(dev) == 10570
    for name, total, originals in (
        ("sample1k-HCVerifyAll.json", 3560, 1000),
        ("sample1k-HCVerifySample.json", 1787, 1000),
    ):
        qs = read_squad(squad / name)
        assert len(qs) == total
        roots = {original_id(q.id) for q in qs}
        assert len(roots) == originals and roots <= dev.keys()
        for q in qs:
            orig = dev[original_id(q.id)]
            assert q.question == orig.question and q.answers == orig.answers
            assert q.context.startswith(orig.context)  # the distractor is appended
