"""AddSent and AddOneSent (Jia & Liang 2017, PAPERS.md §8) without Java and without crowd workers.

For each question:

1. parse it (spaCy, :mod:`.spacy_pipeline`) and type its gold answer in the parsed context
   (:mod:`.answer_types`);
2. mutate it (:mod:`.mutation`): antonyms, typed nearest GloVe words, the special-case table;
   ``mutation_variants`` variants take each token's first, second, ... alternative, and one more
   changes only the last word the rules can change (it survives where the others changed every word
   the question had);
3. draw ``fake_answers`` fakes of the gold answer's type (:mod:`.fake_answers`);
4. turn each (mutated question, fake answer) into a statement by the ordered rules of
   :mod:`.declarative`;
5. keep a candidate only when it is a statement (a rule fitted), the mutation changed it (the statement
   differs from the unmutated question's statement with the same fake answer), it contains no gold
   answer (official normalisation, whole words) and it shares a content word with the question.

:func:`add_sent` returns every kept candidate as a variant ``<id>-addsent<k>`` (Jia & Liang's AddSent
then keeps, per question, the variant with the lowest model F1 — the evaluation's min over variants
does that), or with ``mode="addonesent"`` one seeded random candidate per question (``<id>-addonesent``).

Deviation from the paper: step 4 of Jia & Liang (crowd workers fix the grammar, and filter candidates
that contradict the answer) is not done. Rejecting a question no rule fits is the only grammar check;
docs/results/squad_distractors.md shows 50 seeded distractors and the typical failures.

Randomness: each question draws from ``random.Random(f"{seed}:{question id}")``, so a question's
candidates do not depend on which other questions are in the run (``--limit``). The GloVe neighbours
are typed by the run's own parsed text (:class:`.mutation.TypedLexicon`), which does depend on it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from .squad import SquadQuestion, with_distractor

MODES = ("addsent", "addonesent")
#: English function words that do not count as "shared content" between a question and its distractor
_FUNCTION_WORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been being do does
did has have had what which who whom whose when where why how that this these those it its as into than then there their
they he she his her him we our you your i not no""".split()
)


@dataclass(frozen=True)
class AddSentSettings:
    """Candidate generation settings.

    Attributes:
        candidates: most candidates kept per question (distinct sentences).
        fake_answers: fakes drawn per question.
        mutation_variants: variants of the mutation (each token's 1st, 2nd, ... alternative).
        glove_vocab: the most frequent GloVe words searched for neighbours.
        neighbours: nearest GloVe words looked at per word.
        batch_size: spaCy ``nlp.pipe`` batch size.
    """

    candidates: int = 4
    fake_answers: int = 2
    mutation_variants: int = 2
    glove_vocab: int = 100_000
    neighbours: int = 20
    batch_size: int = 64

    def __post_init__(self) -> None:
        for name in ("candidates", "fake_answers", "mutation_variants", "glove_vocab", "neighbours", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise ValueError(f"AddSent setting {name} must be a positive integer, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Candidate:
    """One AddSent distractor: the statement, the fake answer in it and how it was made."""

    sentence: str
    fake_answer: str
    answer_type: str
    rule: str
    changes: tuple  # ((original word, new word), ...) of the mutation


@dataclass(frozen=True)
class AddSentResult:
    """Per question (input order) its kept candidates, the gold answer's type, and why candidates were dropped."""

    candidates: list
    answer_types: list
    rejected: Counter = field(default_factory=Counter)

    @property
    def coverage(self) -> float:
        """The share of questions with at least one candidate."""
        return sum(1 for c in self.candidates if c) / max(len(self.candidates), 1)


def contains_answer(sentence: str, answers: Sequence[str]) -> bool:
    """Whether a gold answer occurs in ``sentence`` as whole words after the official normalisation."""
    from .metrics import normalize_answer

    text = f" {normalize_answer(sentence)} "
    return any(f" {a} " in text for a in (normalize_answer(x) for x in answers) if a)


def content_words(text: str, stem=None) -> set:
    """Porter stems of the alphanumeric words of ``text`` that are not function words ("moved" → "move").

    ``stem``: a (memoised) stemmer to use instead of a fresh ``nltk`` Porter stemmer.
    """
    if stem is None:
        from nltk.stem import PorterStemmer

        stem = PorterStemmer().stem
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _FUNCTION_WORDS}


def generate(
    questions: Sequence[SquadQuestion],
    *,
    nlp=None,
    seed: int = 0,
    settings: AddSentSettings = AddSentSettings(),
    nearest=None,
    progress: bool = False,
) -> AddSentResult:
    """AddSent candidates for every question (steps 1-5 of the module docstring).

    Args:
        questions: the questions (a SQuAD file read by :func:`~textadv.qa.squad.read_squad`).
        nlp: a spaCy pipeline (default :func:`~textadv.qa.spacy_pipeline.load_pipeline`).
        seed: seeds the fake answers per question.
        nearest: a :class:`~textadv.qa.mutation.NearestWords` (default: GloVe, ``settings.glove_vocab`` words).
        progress: show progress bars on stderr.
    """
    from tqdm.auto import tqdm

    from .answer_types import answer_span, head_token, type_of_span
    from .mutation import NearestWords, QuestionMutator, TypedLexicon

    if not questions:
        raise ValueError("no questions to make AddSent distractors for")
    if nlp is None:
        from .spacy_pipeline import load_pipeline

        nlp = load_pipeline()
    if nearest is None:
        nearest = NearestWords.glove(vocab_size=settings.glove_vocab, k=settings.neighbours)
    contexts = list(dict.fromkeys(q.context for q in questions))
    light = [p for p in ("parser", "attribute_ruler", "lemmatizer") if p in nlp.pipe_names]
    with nlp.select_pipes(disable=light):  # contexts need fine tags and entities only
        parsed = nlp.pipe(contexts, batch_size=settings.batch_size, n_process=1)
        context_docs = dict(
            zip(contexts, tqdm(parsed, total=len(contexts), desc="parsing contexts", disable=not progress))
        )
    unique_questions = list(dict.fromkeys(q.question for q in questions))
    parsed = nlp.pipe(unique_questions, batch_size=settings.batch_size, n_process=1)
    question_docs = dict(
        zip(unique_questions, tqdm(parsed, total=len(unique_questions), desc="parsing questions", disable=not progress))
    )
    lexicon = TypedLexicon()
    lexicon.add(context_docs.values())
    lexicon.add(question_docs.values())
    mutator = QuestionMutator(nearest, lexicon)
    nearest.prepare(w for doc in question_docs.values() for w in mutator.targets(doc))

    result = AddSentResult([], [])
    for q in tqdm(questions, desc="AddSent candidates", disable=not progress):
        gold = q.answers[0]
        span = answer_span(context_docs[q.context], gold.answer_start, gold.text)
        kind = type_of_span(span)
        result.answer_types.append(kind)
        rng = random.Random(f"{seed}:{q.id}")
        result.candidates.append(
            _candidates(
                q, question_docs[q.question], kind, head_token(span).tag_, rng, mutator, settings, result.rejected
            )
        )
    return result


def _candidates(
    q: SquadQuestion,
    doc,
    kind: str,
    head_tag: str,
    rng: random.Random,
    mutator,
    settings: AddSentSettings,
    rejected: Counter,
) -> list:
    from .declarative import to_statement
    from .fake_answers import fake_answers
    from .mutation import choose

    alternatives = mutator.alternatives(doc)
    if not alternatives:
        rejected["no word to mutate"] += 1
        return []
    golds = [a.text for a in q.answers]
    if kind == "verb" and _asks_how(doc):
        head_tag = "VBG"  # "How did Tesla lose his money?" -> "... by swimming", whatever the gold's tense
    fake_kind = kind
    wh_words = {t.lower_ for t in doc if t.tag_ in ("WRB", "WP", "WDT", "WP$")}
    if "why" in wh_words and kind in ("prepositional", "verb", "noun", "plural noun", "other"):
        fake_kind = "reason"  # "Why ...?" -> "... to impress the aliens."
    elif kind == "prepositional" and not wh_words & {"where", "when", "how"}:
        fake_kind = "other"  # "Who warned ...?" takes a noun phrase, whatever shape the gold span has
    fakes = fake_answers(gold_text := golds[0], fake_kind, rng, n=settings.fake_answers, head_tag=head_tag)
    fakes = [f for f in fakes if not contains_answer(f, golds)]
    if not fakes:
        rejected[f"no fake answer ({kind}: {gold_text!r})"] += 1
        return []
    question_words = content_words(q.question, mutator.stem)
    kept: list[Candidate] = []
    seen: set = set()
    plain = {fake: to_statement(doc, fake, answer_type=kind, is_verb=mutator.is_verb) for fake in fakes}
    variants = [choose(alternatives, v) for v in range(settings.mutation_variants)]
    if len(alternatives) > 1:  # a lighter mutation, kept when the full ones share no word with the question
        variants.append(choose(alternatives[-1:], 0))
    for replacements in variants:
        for fake in fakes:
            if plain[fake] is None:
                rejected["no rule makes a statement"] += 1
                continue
            made = to_statement(doc, fake, replacements=replacements, answer_type=kind, is_verb=mutator.is_verb)
            if made is None:
                rejected["no rule makes a statement"] += 1
                continue
            if made.text == plain[fake].text:
                rejected["the mutation left the statement unchanged"] += 1
                continue
            if contains_answer(made.text, golds):
                rejected["contains a gold answer"] += 1
                continue
            if not content_words(made.text, mutator.stem) & question_words:
                rejected["shares no content word with the question"] += 1
                continue
            if made.text in seen:
                continue
            seen.add(made.text)
            changes = tuple((doc[i].text, w) for i, w in sorted(replacements.items()) if w != doc[i].text)
            kept.append(Candidate(made.text, fake, kind, made.rule, changes))
    return kept[: settings.candidates]


def _asks_how(doc) -> bool:
    """A manner question: "how" not followed by many / much / an adjective or adverb."""
    for tok in doc:
        if tok.lower_ == "how" and tok.tag_ == "WRB":
            nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
            return nxt is None or (nxt.lower_ not in ("many", "much") and nxt.tag_ not in ("JJ", "JJR", "RB", "RBR"))
    return False


def add_sent(
    questions: Sequence[SquadQuestion],
    *,
    mode: str = "addsent",
    nlp=None,
    seed: int = 0,
    settings: AddSentSettings = AddSentSettings(),
    nearest=None,
    progress: bool = False,
) -> list[SquadQuestion]:
    """AddSent's variants (``mode="addsent"``): every kept candidate as ``<id>-addsent<k>`` (the distractor
    appended); AddOneSent's (``mode="addonesent"``): one seeded random candidate per question as
    ``<id>-addonesent``, none for a question without one. The other arguments are :func:`generate`'s.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    result = generate(questions, nlp=nlp, seed=seed, settings=settings, nearest=nearest, progress=progress)
    if mode == "addsent":
        return [
            with_distractor(q, c.sentence, f"addsent{k}")
            for q, cands in zip(questions, result.candidates)
            for k, c in enumerate(cands)
        ]
    out = []
    for q, cands in zip(questions, result.candidates):
        if cands:
            pick = random.Random(f"{seed}:addonesent:{q.id}").randrange(len(cands))
            out.append(with_distractor(q, cands[pick].sentence, "addonesent"))
    return out
