"""AddAny / AddCommon (Jia & Liang 2017, PAPERS.md §8): expected F1, the greedy search's guarantees."""

import pytest

from textadv.qa.addany import AddAnySettings, add_any, add_any_search, common_words, expected_f1, search_distractor
from textadv.qa.metrics import normalize_answer
from textadv.qa.squad import SquadAnswer, SquadQuestion
from textadv.qa.systems import SlidingWindowBaseline


def _question(qid, question, context, answer):
    return SquadQuestion(qid, question, context, (SquadAnswer(answer, context.index(answer)),), "Test")


QUESTIONS = [
    _question(
        "q1",
        "What city did Tesla move to in 1880?",
        "Nikola Tesla was born in Smiljan. In 1880 Tesla moved to Prague, where he attended lectures "
        "at the Charles-Ferdinand University. Later he worked for a telegraph company in Budapest.",
        "Prague",
    ),
    _question(
        "q2",
        "Which team won Super Bowl 50?",
        "Super Bowl 50 was an American football game. The Denver Broncos won Super Bowl 50 by "
        "defeating the Carolina Panthers 24 to 10 at Levi's Stadium in Santa Clara.",
        "Denver Broncos",
    ),
]


class CountingSystem:
    """A QA system that counts the contexts it is asked to score and the batched calls."""

    def __init__(self, system):
        self.system = system
        self.contexts = 0
        self.calls = 0
        self.per_question = {}

    def predict(self, questions):
        return self.system.predict(questions)

    def top_spans(self, questions, k=10):
        self.calls += 1
        self.contexts += len(questions)
        for q in questions:
            self.per_question[q.id] = self.per_question.get(q.id, 0) + 1
        return self.system.top_spans(questions, k=k)


@pytest.fixture(scope="module")
def common():
    return common_words(300)


@pytest.fixture(scope="module")
def system():
    return SlidingWindowBaseline()


# ------------------------------------------------------------------------------------------ expected F1


def test_expected_f1_closed_form():
    # F1("Denver Broncos", gold) = 1; F1("the Broncos", gold) = 2·(1·½)/(1+½) = 2/3; F1("Carolina") = 0.
    spans = [("Denver Broncos", 0.5), ("the Broncos", 0.3), ("Carolina", 0.2)]
    assert expected_f1(spans, ["Denver Broncos"]) == pytest.approx(0.5 + 0.3 * 2 / 3)
    # max over golds per span: "Carolina" now matches the second gold exactly
    assert expected_f1(spans, ["Denver Broncos", "Carolina"]) == pytest.approx(0.5 + 0.3 * 2 / 3 + 0.2)
    # renormalised over the given spans
    assert expected_f1([("Denver Broncos", 2.0), ("Carolina", 2.0)], ["Denver Broncos"]) == pytest.approx(0.5)


@pytest.mark.parametrize("spans", [[], [("a", float("nan"))], [("a", -0.1)], [("a", 0.0)]])
def test_expected_f1_rejects_bad_spans(spans):
    with pytest.raises(ValueError):
        expected_f1(spans, ["a"])


def test_settings_reject_bad_values():
    for bad in ({"mode": "addsent"}, {"num_words": 0}, {"budget": 0}, {"top_k": -1}, {"passes": 1.5}):
        with pytest.raises(ValueError):
            AddAnySettings(**bad)


def test_common_words_are_frequent_lowercase_words():
    words = common_words(1000)
    assert len(words) == len(set(words)) == 1000
    assert words[:5] == ("the", "of", "to", "and", "in")  # GloVe 6B's frequency order
    assert all(w.isalpha() and w == w.lower() for w in words)


# ------------------------------------------------------------------------------------------ the search


def test_addany_expected_f1_never_rises_and_falls(system, common):
    results = add_any_search(QUESTIONS, system, AddAnySettings(mode="addany", seed=0), common=common, progress=False)
    for q, r in zip(QUESTIONS, results):
        steps = r.trajectory
        assert all(b < a for a, b in zip(steps, steps[1:])), steps
        # the baseline gives the gold answer weight before the attack; AddAny's distractor (question
        # words around common words) draws most of that weight away
        golds = [a.text for a in q.answers]
        before = expected_f1(system.top_spans([q], k=10)[0], golds)
        assert before > 0.1 and steps[-1] < 0.25 * before
        # the recorded value is what the model says about the final variant (two code paths agree)
        final = expected_f1(system.top_spans([r.question], k=10)[0], golds)
        assert final == pytest.approx(steps[-1])


def test_distractor_is_appended_after_an_unchanged_context(system, common):
    for mode in ("addany", "addcommon"):
        for q, r in zip(
            QUESTIONS,
            add_any_search(QUESTIONS, system, AddAnySettings(mode=mode, num_words=10), common=common, progress=False),
        ):
            adv = r.question
            assert adv.id == f"{q.id}-{mode}"
            assert adv.context.startswith(q.context + " ")
            appended = adv.context[len(q.context) + 1 :]
            assert appended.endswith(".") and appended[:-1].split() == list(r.words)
            assert len(r.words) == 10
            assert adv.answers == q.answers and adv.question == q.question
            for gold in q.answers:
                assert f" {normalize_answer(gold.text)} " not in f" {normalize_answer(appended)} "


def test_addcommon_uses_only_common_words_and_addany_the_question(system, common):
    common_set = set(common)
    addcommon = add_any_search(QUESTIONS, system, AddAnySettings(mode="addcommon"), common=common, progress=False)
    assert all(set(r.words) <= common_set for r in addcommon)
    addany = add_any_search(QUESTIONS, system, AddAnySettings(mode="addany"), common=common, progress=False)
    # the baseline scores windows by word overlap with the question, so AddAny picks question words
    for q, r in zip(QUESTIONS, addany):
        assert set(r.words) - common_set, r.words
        assert set(r.words) <= common_set | set(q.question.rstrip("?").split())


def test_gold_answer_is_never_appended(system):
    # "Prague" is both a question-free common word here and the gold answer: it must never be chosen
    q = QUESTIONS[0]
    vocabulary = ("prague", "city", "tesla", "moved", "the", "a", "of", "in", "to", "and", "was", "he")
    for seed in range(3):
        r = search_distractor(q, system, vocabulary, AddAnySettings(mode="addany", num_words=5, seed=seed))
        assert "prague" not in normalize_answer(" ".join(r.words)).split()


def test_same_seed_same_output(system, common):
    def run(seed):
        return add_any(QUESTIONS, system, mode="addany", seed=seed, common=common, progress=False)

    first, second, other = run(3), run(3), run(4)
    assert first == second
    assert first != other


def test_budget_is_respected_and_queries_are_batched(system, common):
    counter = CountingSystem(system)
    settings = AddAnySettings(mode="addany", budget=45, passes=3, num_candidates=20)
    results = add_any_search(QUESTIONS, counter, settings, common=common, progress=False)
    for q, r in zip(QUESTIONS, results):
        assert counter.per_question[f"{q.id}-addany"] == r.queries <= 45
    assert counter.contexts == sum(r.queries for r in results)
    # one call for the initial words, then one batched call per position visited
    assert counter.calls <= len(QUESTIONS) * (1 + settings.passes * settings.num_words)
    unlimited = CountingSystem(system)
    add_any_search(QUESTIONS[:1], unlimited, AddAnySettings(mode="addany", passes=1), common=common, progress=False)
    assert unlimited.contexts > 45  # so the budget above did bind


def test_addany_against_a_hugging_face_qa_model(common, single_thread):
    """The same guarantees with a (tiny, randomly initialised) transformer QA model behind ``HFQASystem``."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from textadv import assets
    from textadv.qa.systems import HFQASystem

    tokenizer = AutoTokenizer.from_pretrained(assets.minilm_dir())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    counter = CountingSystem(HFQASystem(BertForQuestionAnswering(config), tokenizer, batch_size=64))
    results = add_any_search(
        QUESTIONS, counter, AddAnySettings(mode="addany", budget=120), common=common, progress=False
    )
    for q, r in zip(QUESTIONS, results):
        assert all(b < a for a, b in zip(r.trajectory, r.trajectory[1:])), r.trajectory
        assert counter.per_question[f"{q.id}-addany"] == r.queries <= 120
        final = expected_f1(counter.system.top_spans([r.question], k=10)[0], [a.text for a in q.answers])
        assert final == pytest.approx(r.trajectory[-1], abs=1e-6)
    assert any(len(r.trajectory) > 1 for r in results)  # the search did accept changes
