"""The SQuAD sample shipped for offline use is a valid SQuAD v1.1 file of real dev questions."""

from pathlib import Path

from textadv.qa.squad import original_id, read_squad

SAMPLE = Path(__file__).resolve().parents[2] / "textadv" / "qa" / "data" / "squad_sample.json"


def test_sample_is_valid_and_attributed():
    questions = read_squad(SAMPLE)
    assert len(questions) == 15 and len({q.context for q in questions}) == 3
    text = SAMPLE.read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in text and "Rajpurkar" in text


def test_sample_questions_are_dev_questions_with_official_variants(shared_data):
    squad = shared_data / "squad"
    dev = {q.id: q for q in read_squad(squad / "dev-v1.1.json")}
    official = {original_id(q.id) for q in read_squad(squad / "sample1k-HCVerifyAll.json")}
    for q in read_squad(SAMPLE):
        assert dev[q.id] == q  # same question, context, answers and title
        assert q.id in official
