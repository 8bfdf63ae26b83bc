"""Answer typing of SQuAD gold answers (regexes, spaCy NER in context, head POS) on hand-made cases."""

import pytest

from textadv.qa.answer_types import ANSWER_TYPES, answer_types, type_of_text
from textadv.qa.squad import SquadAnswer, SquadQuestion


@pytest.mark.parametrize(
    "text,kind",
    [
        ("40%", "percentage"),
        ("about 12 percent", "percentage"),
        ("$2 million", "money"),
        ("300 dollars", "money"),
        ("1880", "year"),
        ("in 1066", "year"),
        ("May 3, 2013", "date"),
        ("the 1990s", "date"),
        ("three", "number"),
        ("1,200", "number"),
        ("May", "date"),
        ("Chicago", None),
        ("the pound of flesh", None),
    ],
)
def test_regex_types(text, kind):
    assert type_of_text(text) == kind


def _question(qid: str, context: str, answer: str) -> SquadQuestion:
    return SquadQuestion(qid, "?", context, (SquadAnswer(answer, context.index(answer)),))


TYPED = [
    ("Nikola Tesla was born in Smiljan, and Barack Obama visited the town in 2009.", "Barack Obama", "person"),
    ("In 1884 Tesla moved to New York City, where he worked for Edison.", "1884", "year"),
    ("The company opened an office in Paris, France, to sell its machines.", "Paris", "place"),
    ("The lab employed 250 engineers at its peak.", "250", "number"),
    ("He sold the patents to Westinghouse Electric for $60,000 in cash.", "$60,000", "money"),
    ("About 45% of the voters stayed at home.", "45%", "percentage"),
    ("The treaty was signed on 14 March 1889 by both kings.", "14 March 1889", "date"),
    ("The stadium is run by Microsoft, which bought it from the city.", "Microsoft", "organisation"),
    ("The river carries fine sediments into the lake.", "sediments", "plural noun"),
]


def test_gold_answers_are_typed_in_their_context(spacy_nlp):
    questions = [_question(f"q{i}", c, a) for i, (c, a, _) in enumerate(TYPED)]
    got = answer_types(questions, spacy_nlp)
    assert got == [kind for _, _, kind in TYPED]
    assert set(got) <= set(ANSWER_TYPES)


def test_one_parse_per_distinct_context_gives_the_same_types(spacy_nlp):
    context, _, _ = TYPED[0]
    answers = (("a", "Barack Obama"), ("b", "2009"), ("c", "Smiljan"))
    shared = [_question(qid, context, answer) for qid, answer in answers]
    alone = [answer_types([q], spacy_nlp)[0] for q in shared]
    assert answer_types(shared, spacy_nlp) == alone
