"""AddSent's question mutation (Jia & Liang 2017, step 1) on hand-made questions."""

import pytest

from textadv.qa.mutation import QuestionMutator, TypedLexicon, choose

CONTEXTS = [
    "London, Berlin, Rome and Madrid are large cities in Europe.",
    "Edison and Westinghouse met Tesla in New York.",
    "He had four or five or six dogs.",
]


@pytest.fixture(scope="module")
def mutator(spacy_nlp, glove_nearest):
    lexicon = TypedLexicon()
    lexicon.add(spacy_nlp.pipe(CONTEXTS))
    return QuestionMutator(glove_nearest, lexicon)


def _alternatives(spacy_nlp, mutator, question):
    doc = spacy_nlp(question)
    return doc, {doc[a.index].text: a for a in mutator.alternatives(doc)}


def test_special_table_and_wordnet_antonyms(spacy_nlp, mutator):
    _, alt = _alternatives(spacy_nlp, mutator, "What is the largest city in the north?")
    assert alt["largest"].words == ("smallest",) and alt["north"].words == ("south",)
    assert alt["largest"].rule == "special"
    _, alt = _alternatives(spacy_nlp, mutator, "Why is the water cold?")
    assert alt["cold"].rule == "antonym" and "hot" in alt["cold"].words


def test_wordnet_antonyms_of_the_first_sense(mutator):
    assert mutator.antonyms("victory", "n") == ("defeat",)
    assert mutator.antonyms("majority", "n") == ("minority",)
    assert mutator.antonyms("wet", "a") == ("dry",)
    assert mutator.antonyms("increase", "n") == ()  # only its second sense has an antonym


def test_numbers_move_to_nearby_glove_numbers_of_the_same_shape(spacy_nlp, mutator):
    _, alt = _alternatives(spacy_nlp, mutator, "What did Tesla invent in 1880?")
    years = alt["1880"].words
    assert years and all(y.isdigit() and len(y) == 4 and y != "1880" for y in years)
    assert alt["1880"].rule == "nearby-number"
    _, alt = _alternatives(spacy_nlp, mutator, "Which ancient city had three temples?")
    assert alt["three"].words[0] in ("four", "five", "six")  # typed as numbers (CD) by the run's own text


def test_entities_move_to_nearby_glove_words_of_the_same_type(spacy_nlp, mutator):
    doc, alt = _alternatives(spacy_nlp, mutator, "What did Tesla invent in Paris?")
    paris = alt["Paris"]
    assert paris.rule == "nearby-entity"
    assert set(paris.words) <= {"London", "Berlin", "Rome", "Madrid"}  # the GPE words the lexicon knows
    assert paris.words[0] in {w.lower().capitalize() for w in mutator.nearest.of("paris")[:10]}
    replaced = choose(mutator.alternatives(doc), 0)
    assert replaced[doc[5].i] == paris.words[0]


def test_multiword_entities_change_as_a_unit(spacy_nlp, mutator):
    _, alt = _alternatives(spacy_nlp, mutator, "Who was the first president of the United States?")
    assert alt["States"].words == ("Kingdom",) and "United" not in alt  # "United Kingdom"
    assert alt["first"].words == ("last",)


def test_nearest_words_are_cached_per_run_and_exclude_the_word(glove_nearest):
    near = glove_nearest
    first = near.of("river")
    assert len(first) == near.k and "river" not in first
    assert near.of("River") is first  # one lookup per word and run, case-insensitive
    assert near.of("zzzqqxx") == ()


def test_antonym_plurals_and_the_unchanged_question(spacy_nlp, mutator):
    doc, alt = _alternatives(spacy_nlp, mutator, "How many victories did the army have?")
    assert alt["victories"].words == ("defeats",)
    assert "many" not in alt  # part of the wh-phrase, which the answer replaces


def test_two_tokens_never_take_the_same_neighbour():
    from textadv.qa.mutation import Alternatives

    alts = [
        Alternatives(0, ("Cup", "Series"), "nearby-entity"),
        Alternatives(1, ("Cup", "Game"), "nearby-entity"),
        Alternatives(2, ("last",), "special"),
    ]
    assert choose(alts, 0) == {0: "Cup", 1: "Game", 2: "last"}
    assert choose(alts, 1) == {0: "Series", 1: "Game", 2: "last"}  # variant 1: second choices, last if fewer


def test_degree_words_and_antonyms_do_not_cancel(spacy_nlp, mutator):
    _, alt = _alternatives(spacy_nlp, mutator, "What is the most important role of chloroplasts?")
    assert alt["most"].words == ("least",) and "important" not in alt
