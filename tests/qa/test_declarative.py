"""The ordered question-to-statement rules of AddSent (Jia & Liang 2017, step 3) on hand-made questions."""

import pytest

from textadv.qa.declarative import to_statement
from textadv.qa.inflection import past_tense, plural, third_person

CASES = [
    ("What city did Tesla move to in 1880?", "Chicago", "Tesla moved to Chicago in 1880.", "inversion-do"),
    ("Who founded the University of Chicago?", "Jeff Dean", "Jeff Dean founded the University of Chicago.", "subject"),
    ("When did the Normans conquer England?", "1066", "The Normans conquered England in 1066.", "inversion-do"),
    ("What is the capital of France?", "Paris", "The capital of France is Paris.", "copula"),
    ("How many people live in Warsaw?", "42", "42 people live in Warsaw.", "subject"),
    ("Where was Chopin born?", "Chicago", "Chopin was born in Chicago.", "inversion"),
    ("What year did the war end?", "1950", "The war ended in 1950.", "inversion-do"),
    ("Why did the company fail?", "aliens", "The company failed because of aliens.", "inversion-do"),
    ("What does the acronym NFL stand for?", "Jupiter", "The acronym NFL stands for Jupiter.", "inversion-do"),
    ("In what country is Normandy located?", "Chile", "Normandy is located in Chile.", "inversion"),
    ("Whose army defeated the Romans?", "Jeff Dean", "Jeff Dean's army defeated the Romans.", "subject"),
    (
        "The Broncos defeated which team in the AFC Championship?",
        "the Chicago Bears",
        "The Broncos defeated the Chicago Bears in the AFC Championship.",
        "in-situ",
    ),
    ("What percentage of the vote did he receive?", "40%", "He received 40% of the vote.", "inversion-do"),
    ("How old was Chopin when he died?", "42", "Chopin was 42 when he died.", "copula"),
    ("Who did Beyonce marry?", "Jeff Dean", "Beyonce married Jeff Dean.", "inversion-do"),
    ("When was the Magna Carta signed?", "June 15, 1215", "The Magna Carta was signed on June 15, 1215.", "inversion"),
    ("In 1880, what city did Tesla move to?", "Chicago", "In 1880, Tesla moved to Chicago.", "inversion-do"),
]


@pytest.fixture(scope="module")
def parsed(spacy_nlp):
    return dict(zip([c[0] for c in CASES], spacy_nlp.pipe([c[0] for c in CASES])))


@pytest.fixture(scope="module")
def is_verb():
    """WordNet's verb lemmas, as AddSent passes them ("did the Normans conquer/NN England")."""
    from textadv.qa.mutation import QuestionMutator, TypedLexicon

    return QuestionMutator(None, TypedLexicon()).is_verb


@pytest.mark.parametrize("question,answer,expected,rule", CASES, ids=[c[0] for c in CASES])
def test_rules_turn_questions_into_the_expected_statement(parsed, is_verb, question, answer, expected, rule):
    got = to_statement(parsed[question], answer, is_verb=is_verb)
    assert got is not None, question
    assert (got.text, got.rule) == (expected, rule)


def test_replacements_are_written_in_place_of_the_mutated_tokens(spacy_nlp):
    doc = spacy_nlp("What city did Tesla move to in 1880?")
    got = to_statement(doc, "Chicago", replacements={3: "Edison", 7: "1885"})
    assert got.text == "Edison moved to Chicago in 1885."


def test_a_question_no_rule_fits_is_rejected_not_forced(spacy_nlp):
    for text in ("Name the capital of France.", "Is Paris the capital of France?", "What?"):
        assert to_statement(spacy_nlp(text), "Paris") is None, text


def test_plural_answers_agree_with_be_in_the_subject_rule(spacy_nlp):
    got = to_statement(spacy_nlp("Who was defeated by the Normans?"), "the Saxons", answer_type="plural noun")
    assert got.text == "The Saxons were defeated by the Normans."


def test_do_support_is_undone_with_the_auxiliary_tense():
    assert [past_tense(v) for v in ("move", "begin", "stop", "carry", "visit", "Win")] == [
        "moved",
        "began",
        "stopped",
        "carried",
        "visited",
        "Won",
    ]
    assert [third_person(v) for v in ("stand", "go", "carry", "watch", "have")] == [
        "stands",
        "goes",
        "carries",
        "watches",
        "has",
    ]
    assert [plural(n) for n in ("city", "box", "day", "loss")] == ["cities", "boxes", "days", "losses"]


def test_a_verb_answers_what_did_x_do(spacy_nlp, is_verb):
    got = to_statement(
        spacy_nlp("What did Genghis Khan do when faced with defeat?"), "learned", answer_type="verb", is_verb=is_verb
    )
    assert got.text == "Genghis Khan learned when faced with defeat."


def test_a_reduced_relative_stays_in_the_subject(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("What is the name given to the reduction of a problem?"), "hamster", is_verb=is_verb)
    assert got.text == "The name given to the reduction of a problem is hamster."


def test_known_as_and_articles_before_replaced_words(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("What is the Safari Sunday known as?"), "hamster", is_verb=is_verb)
    assert got.text == "The Safari Sunday is known as hamster."
    doc = spacy_nlp("Who wrote an essay in 1880?")
    assert to_statement(doc, "Jeff Dean", replacements={3: "unit"}).text == "Jeff Dean wrote a unit in 1880."
    assert to_statement(doc, "Jeff Dean", replacements={3: "hour"}).text == "Jeff Dean wrote an hour in 1880."


def test_an_adjective_right_after_be_makes_the_wh_phrase_the_subject(spacy_nlp, is_verb):
    got = to_statement(
        spacy_nlp("Who is responsible for education in Australia?"),
        "the aliens",
        answer_type="plural noun",
        is_verb=is_verb,
    )
    assert got.text == "The aliens are responsible for education in Australia."


def test_a_singular_fake_for_a_plural_wh_phrase_takes_a_singular_verb(spacy_nlp, is_verb):
    got = to_statement(
        spacy_nlp("What state amendments make reference to the government?"),
        "Stark Industries",
        answer_type="organisation",
        is_verb=is_verb,
    )
    assert got.text == "Stark Industries makes reference to the government."


def test_counted_noun_phrases_and_comparisons(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("How many paid holiday days do most member states require?"), "28", is_verb=is_verb)
    assert got.text == "Most member states require 28 paid holiday days."
    assert to_statement(spacy_nlp("How much older was Manning than Newton?"), "13 years", is_verb=is_verb) is None


def test_a_question_after_a_sentence(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("The mantle has two layers below it. What are they?"), "aliens", is_verb=is_verb)
    assert got.text == "The mantle has two layers below it. They are aliens."


MORE_CASES = [
    ("What's the capital of Peru?", "Lima", "The capital of Peru is Lima."),
    ("To what kind of organisms is oxygen toxic?", "aliens", "Oxygen is toxic to aliens."),
    ("How many farms are there in Victoria?", "42", "There are 42 farms in Victoria."),
    ("What day of the week does the market take place?", "Friday", "The market takes place on Friday."),
    (
        "The area where Jacksonville sits has been inhabited for how many years?",
        "42",
        "The area where Jacksonville sits has been inhabited for 42 years.",
    ),
    ("How many members are on the city council?", "42", "42 members are on the city council."),
    ("How much money did the commercial cost?", "$5 million", "The commercial cost $5 million."),
    ("For whom was this new mass intended?", "aliens", "This new mass was intended for aliens."),
    (
        "What is the process by which the system identifies tumors called?",
        "hamster",
        "The process by which the system identifies tumors is called hamster.",
    ),
    ("Where do all trains stop at?", "Lima", "All trains stop at Lima."),
    ("The price of oil is stable until when?", "the shock", "The price of oil is stable until the shock."),
    ("Who besides the British colonized Africa?", "Jeff Dean", "Jeff Dean besides the British colonized Africa."),
    ("Which descendant of Genghis Khan sacked Baghdad?", "Jeff Dean", "Jeff Dean sacked Baghdad."),
    ("Which region of California is Palm Springs located in?", "Lima", "Palm Springs is located in Lima."),
    ("Which territory did Jochi try to protect?", "Chicago", "Jochi tried to protect Chicago."),
    ("What did Tesla design several setups to produce?", "aliens", "Tesla designed several setups to produce aliens."),
    (
        "To whom did Toghrul give his daughter, angering Temujin?",
        "Jeff Dean",
        "Toghrul gave his daughter to Jeff Dean, angering Temujin.",
    ),
]


@pytest.mark.parametrize("question,answer,expected", MORE_CASES, ids=[c[0] for c in MORE_CASES])
def test_more_question_shapes(spacy_nlp, is_verb, question, answer, expected):
    """Contractions, pied-piped and stranded prepositions, existentials, counted phrases, infinitives."""
    got = to_statement(spacy_nlp(question), answer, is_verb=is_verb)
    assert got is not None and got.text == expected


def test_auxiliaries_are_not_participles_and_abbreviations_end_no_sentence(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("How many books did Disney sell in 2000?"), "42", is_verb=is_verb)
    assert got.text == "Disney sold 42 books in 2000."
    got = to_statement(
        spacy_nlp("What degree is now mandatory in the U.S. in order to be a pharmacist?"), "Initech", is_verb=is_verb
    )
    assert got.text == "Initech is now mandatory in the U.S. in order to be a pharmacist."


def test_where_with_a_stranded_preposition_mid_clause(spacy_nlp, is_verb):
    got = to_statement(spacy_nlp("Where was Parliament relocated to in May of 2000?"), "Avalon", is_verb=is_verb)
    assert got.text == "Parliament was relocated to Avalon in May of 2000."
    got = to_statement(spacy_nlp("Where does centripetal force go?"), "behind the moon", is_verb=is_verb)
    assert got.text == "Centripetal force goes behind the moon."
