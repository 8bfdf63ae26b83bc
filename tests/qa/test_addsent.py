"""AddSent / AddOneSent (Jia & Liang 2017, PAPERS.md §8) on hand-made typed questions and the packaged sample."""

import re
from pathlib import Path

import pytest

from textadv.qa.addsent import AddSentSettings, add_sent, contains_answer, content_words, generate
from textadv.qa.answer_types import answer_types
from textadv.qa.squad import SquadAnswer, SquadQuestion, read_squad

SAMPLE = Path(__file__).resolve().parents[2] / "textadv" / "qa" / "data" / "squad_sample.json"


def _q(qid, context, question, answer):
    return SquadQuestion(qid, question, context, (SquadAnswer(answer, context.index(answer)),), "hand-made")


BELL = "The telephone was patented by Alexander Graham Bell in 1876 in Boston, where he taught deaf students."
TYPED = [
    (_q("person", BELL, "Who patented the telephone in 1876?", "Alexander Graham Bell"), "person"),
    (_q("year", BELL, "In what year did Bell patent the telephone?", "1876"), "year"),
    (
        _q(
            "number",
            "The orchestra has 85 musicians and three conductors.",
            "How many musicians does the orchestra have?",
            "85",
        ),
        "number",
    ),
    (
        _q(
            "city",
            "Tesla moved to Budapest in 1881 to work for a telegraph company.",
            "What city did Tesla move to in 1881?",
            "Budapest",
        ),
        "place",
    ),
    (
        _q(
            "percent",
            "About 45% of the voters in the northern district stayed at home.",
            "What percentage of the voters in the northern district stayed at home?",
            "45%",
        ),
        "percentage",
    ),
    (
        _q(
            "money",
            "Westinghouse bought the patents for $60,000 in cash in 1888.",
            "How much did Westinghouse pay for the patents in 1888?",
            "$60,000",
        ),
        "money",
    ),
]


@pytest.fixture(scope="module")
def typed_result(spacy_nlp, glove_nearest):
    return generate([q for q, _ in TYPED], nlp=spacy_nlp, seed=0, nearest=glove_nearest)


def test_every_typed_question_gets_candidates_with_a_fake_of_the_gold_type(typed_result, spacy_nlp):
    assert typed_result.answer_types == [kind for _, kind in TYPED]
    assert typed_result.coverage == 1.0
    for (q, kind), cands in zip(TYPED, typed_result.candidates):
        for c in cands:
            # the fake answer, typed in the distractor as the gold answer was typed in the paragraph
            context = q.context + " " + c.sentence
            fake = SquadQuestion("f", q.question, context, (SquadAnswer(c.fake_answer, context.rindex(c.fake_answer)),))
            assert answer_types([fake], spacy_nlp) == [kind], (q.id, c.sentence)
            assert c.answer_type == kind


def test_candidates_are_mutated_statements_without_the_gold_answer(typed_result):
    for (q, _), cands in zip(TYPED, typed_result.candidates):
        assert len(cands) == len({c.sentence for c in cands}) <= AddSentSettings().candidates
        for c in cands:
            assert c.changes, "the question did not change"
            assert c.sentence.endswith(".") and "?" not in c.sentence
            assert not contains_answer(c.sentence, [a.text for a in q.answers])
            assert content_words(c.sentence) & content_words(q.question)


def test_a_worked_example(typed_result):
    # "What city did Tesla move to in 1881?": inversion undone, the place after the stranded "to"
    from textadv.qa.fake_answers import POOLS

    for c in typed_result.candidates[3]:
        m = re.fullmatch(r"(\w+) moved to (\w+) in (\d{4})\.", c.sentence)
        assert m, c.sentence
        assert m.group(2) in POOLS["place"] and m.group(3) != "1881" or m.group(1) != "Tesla"


def test_contains_answer_uses_the_official_normalisation_on_whole_words():
    assert contains_answer("In 1876, The Telephone was sold.", ["the telephone"])
    assert not contains_answer("Telephones were sold.", ["telephone"])
    assert not contains_answer("It cost $6,000.", ["$60,000"])


@pytest.fixture(scope="module")
def sample():
    return read_squad(SAMPLE)


def test_sample_variants_keep_the_context_prefix_and_carry_no_gold_answer(sample, spacy_nlp, glove_nearest):
    variants = add_sent(sample, nlp=spacy_nlp, seed=0, nearest=glove_nearest)
    originals = {q.id: q for q in sample}
    assert len({original for original in (v.id.rsplit("-", 1)[0] for v in variants)}) >= 0.7 * len(sample)
    for v in variants:
        orig_id, tag = v.id.rsplit("-", 1)
        q = originals[orig_id]
        assert tag.startswith("addsent") and tag[7:].isdigit()
        assert v.context.startswith(q.context + " ") and v.answers == q.answers and v.question == q.question
        distractor = v.context[len(q.context) + 1 :]
        assert not contains_answer(distractor, [a.text for a in q.answers])
        assert content_words(distractor) & content_words(q.question)
        for a in v.answers:
            assert v.context[a.answer_start : a.answer_start + len(a.text)] == a.text


def test_addonesent_is_one_seeded_candidate_per_question(sample, spacy_nlp, glove_nearest):
    one = add_sent(sample, mode="addonesent", nlp=spacy_nlp, seed=3, nearest=glove_nearest)
    again = add_sent(sample, mode="addonesent", nlp=spacy_nlp, seed=3, nearest=glove_nearest)
    assert [(v.id, v.context) for v in one] == [(v.id, v.context) for v in again]
    assert all(v.id.endswith("-addonesent") for v in one)
    assert len({v.id for v in one}) == len(one)
    every = {v.context for v in add_sent(sample, nlp=spacy_nlp, seed=3, nearest=glove_nearest)}
    assert {v.context for v in one} <= every  # the pick is one of AddSent's candidates


def test_settings_are_checked():
    with pytest.raises(ValueError, match="candidates"):
        AddSentSettings(candidates=0)
    with pytest.raises(ValueError, match="no questions"):
        generate([], nlp=object())
    with pytest.raises(ValueError, match="mode must be one of"):
        add_sent([], mode="addany", nlp=object())


@pytest.mark.slow
def test_real_dev_paragraphs_reach_the_coverage_goal(shared_data, spacy_nlp, glove_nearest):
    """200+ real dev questions (whole paragraphs, seeded): at least 80% get a candidate, and every
    candidate is a statement without a gold answer that shares a word with its question."""
    import random

    dev = shared_data / "squad" / "dev-v1.1.json"
    if not dev.is_file():
        pytest.skip(f"{dev} not present")
    questions = read_squad(dev)
    by_context: dict = {}
    for q in questions:
        by_context.setdefault(q.context, []).append(q)
    paragraphs = random.Random(0).sample(list(by_context.values()), 40)
    sample = [q for p in paragraphs for q in p]
    result = generate(sample, nlp=spacy_nlp, seed=0, nearest=glove_nearest)
    assert result.coverage >= 0.8
    for q, cands in zip(sample, result.candidates):
        for c in cands:
            assert c.sentence.endswith(".") and not contains_answer(c.sentence, [a.text for a in q.answers])
            assert content_words(c.sentence) & content_words(q.question)
