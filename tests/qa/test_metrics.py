"""Official SQuAD v1.1 EM/F1 on hand-computed cases, and Jia & Liang's adversarial aggregation on a
hand-made file (tests/qa/fixtures/adversarial_small.json)."""

import warnings
from pathlib import Path

import pytest

from textadv.qa.metrics import (
    QuestionScore,
    adversarial_outcomes,
    evaluate,
    exact_match,
    f1,
    normalize_answer,
    score_questions,
)
from textadv.qa.squad import read_squad

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_normalisation_drops_case_punctuation_articles_and_extra_space():
    assert normalize_answer("  The  Denver Broncos! ") == "denver broncos"
    assert normalize_answer("an apple, a pear & the plum.") == "apple pear plum"
    assert normalize_answer("Theodore") == "theodore"  # 'the' only as a whole word
    assert normalize_answer("U.S.-led") == "usled"


def test_exact_match_takes_any_gold():
    assert exact_match("the Broncos.", ["Denver Broncos", "Broncos"]) == 1.0
    assert exact_match("Denver", ["Denver Broncos", "Broncos"]) == 0.0
    assert exact_match("", ["Broncos"]) == 0.0


def test_f1_hand_computed():
    # pred {denver, broncos, team} vs gold {denver, broncos}: P = 2/3, R = 1, F1 = 0.8
    assert f1("the Denver Broncos team", ["Denver Broncos"]) == pytest.approx(0.8)
    # bag of tokens with repeats: pred [a1, a1, b] vs gold [a1, b, c] -> common 2, P = R = 2/3
    assert f1("a1 a1 b", ["a1 b c"]) == pytest.approx(2 / 3)
    # the maximum over gold answers: 0.8 against the first, 1/2 against the second -> 0.8
    assert f1("the Denver Broncos team", ["Denver Broncos", "Broncos team of Denver area players"]) == pytest.approx(
        max(0.8, 2 * (3 / 3) * (3 / 6) / (1 + 3 / 6))
    )
    assert f1("Carolina", ["Denver Broncos"]) == 0.0
    assert f1("", ["Denver"]) == 0.0
    assert f1("the", ["a"]) == 0.0  # both normalise to nothing: no common token


def test_golds_must_be_a_list():
    with pytest.raises(ValueError, match="non-empty sequence"):
        f1("x", "x")
    with pytest.raises(ValueError, match="non-empty sequence"):
        exact_match("x", [])


def test_unanswered_ids_score_zero_with_one_counting_warning():
    qs = read_squad(FIXTURES / "adversarial_small.json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = score_questions(qs, {"c0ffee01": "Paris"})
    assert len(caught) == 1 and "5 of 6 questions have no prediction" in str(caught[0].message)
    assert scores["c0ffee01"] == QuestionScore(1.0, 1.0, True)
    assert scores["c0ffee02"] == QuestionScore(0.0, 0.0, False)


def test_non_string_predictions_are_an_error():
    qs = read_squad(FIXTURES / "adversarial_small.json")
    with pytest.raises(ValueError, match="prediction for question 'c0ffee02' is a int"):
        score_questions(qs, {"c0ffee01": "Paris", "c0ffee02": 3})


def test_adversarial_aggregation_on_the_hand_made_file():
    qs = read_squad(FIXTURES / "adversarial_small.json")
    predictions = {
        "c0ffee01": "Paris, France",  # EM 0, F1 2/3 (P 1/2, R 1)
        "c0ffee01-high-conf-turk0": "Berlin",  # 0 / 0: the worst variant
        "c0ffee01-high-conf-turk1": "Paris",  # 1 / 1
        "c0ffee02": "in Brazil",  # no variant; golds Brazil | through Brazil
        "c0ffee03": "Osaka",  # 0 / 0
        "c0ffee03-high-conf-turk0": "the Tokyo",  # 1 / 1: the variant scores HIGHER than the original
    }
    # 'in Brazil' vs 'Brazil': P 1/2, R 1 -> 2/3; vs 'through Brazil': P 1/2, R 1/2 -> 1/2; max 2/3
    outcomes = {o.original_id: o for o in adversarial_outcomes(qs, score_questions(qs, predictions))}
    assert list(outcomes) == ["c0ffee01", "c0ffee02", "c0ffee03"]
    assert outcomes["c0ffee01"].adversarial == QuestionScore(0.0, 0.0, True)
    assert outcomes["c0ffee01"].worst_id == "c0ffee01-high-conf-turk0" and outcomes["c0ffee01"].variants == 2
    assert outcomes["c0ffee02"].adversarial == outcomes["c0ffee02"].original and outcomes["c0ffee02"].worst_id is None
    assert outcomes["c0ffee03"].adversarial == QuestionScore(1.0, 1.0, True)  # the original does not count

    m = evaluate(qs, predictions)
    assert m["questions"] == 3 and m["variants"] == 3 and m["unanswered"] == 0
    assert m["original"]["exact_match"] == pytest.approx(0.0)
    assert m["original"]["f1"] == pytest.approx(100 * (2 / 3 + 2 / 3 + 0) / 3)
    assert m["adversarial"]["exact_match"] == pytest.approx(100 * (0 + 0 + 1) / 3)
    assert m["adversarial"]["f1"] == pytest.approx(100 * (0 + 2 / 3 + 1) / 3)
    assert m["with_variant"]["questions"] == 2 and m["without_variant"]["questions"] == 1
    assert m["with_variant"]["original"]["f1"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert m["with_variant"]["adversarial"]["f1"] == pytest.approx(100 * (0 + 1) / 2)
    assert m["without_variant"]["adversarial"]["f1"] == pytest.approx(100 * 2 / 3)


def test_em_comes_from_the_min_f1_variant():
    qs = read_squad(FIXTURES / "adversarial_small.json")
    # turk0: F1 2/3 with EM 0; turk1: F1 1 with EM 1 -> the adversarial pair is (EM 0, F1 2/3), not (1, 2/3)
    preds = {
        "c0ffee01": "Paris",
        "c0ffee01-high-conf-turk0": "Paris France",
        "c0ffee01-high-conf-turk1": "Paris",
        "c0ffee02": "Brazil",
        "c0ffee03": "Tokyo",
        "c0ffee03-high-conf-turk0": "Tokyo",
    }
    o = adversarial_outcomes(qs, score_questions(qs, preds))[0]
    assert o.adversarial.exact_match == 0.0 and o.adversarial.f1 == pytest.approx(2 / 3)


def test_variants_without_their_original_are_an_error():
    qs = [q for q in read_squad(FIXTURES / "adversarial_small.json") if q.id != "c0ffee03"]
    with pytest.raises(ValueError, match="1 original question.*'c0ffee03'"):
        evaluate(qs, {})
