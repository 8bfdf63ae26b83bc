"""A question and an answer turned into a declarative sentence by ordered rules over a spaCy parse.

Jia & Liang (2017, PAPERS.md §8, step 3 of AddSent) wrote rules over CoreNLP constituency parses and
let crowd workers fix the grammar. Here the rules read spaCy's tags, lemmas and dependency parse of
the (unmutated) question; the mutated words are given as ``replacements`` (token index → new text),
so one parse serves every candidate. There is no human pass: a question that no rule fits is
rejected (``None``), never forced into a sentence.

The rules, in order:

1. **wh-phrase**: the first wh-word (WDT/WP/WP$/WRB) and what belongs to it: "what city", "how many
   people", "how long", "whose army", "what percentage of the vote", "what kind of engine". Its
   replacement is the answer, with a preposition where the phrase is adverbial ("when" → "in 1880" /
   "on May 3", "where" → "in Chicago", "why" → "because of ...", "how" → "by ...", "what year" →
   "in 1950"), "how many people" + "42" → "42 people", "whose army" + "Jeff Dean" → "Jeff Dean's army".
   A preposition pied-piped in front ("In what country ...") travels with the answer; an opening
   phrase closed by a comma ("In 1880, what ...") stays in front.
2. **in situ**: a wh-phrase inside a clause ("The Broncos defeated which team ...") is replaced where it is.
3. **subject**: a wh-phrase followed by a verb that is not an inverted auxiliary ("Who founded X?",
   "Which team won X?", "Who was defeated by X?") is replaced in place: "Jeff Dean founded X."
4. **inversion**: an auxiliary, a subject, then the main verb ("What city did Tesla move to in 1880?"):
   the subject goes first; do-support is undone with the lemma and the auxiliary's tense
   ("did ... move" → "moved", "does ... stand" → "stands"); be/have/modals stay before the verb
   ("was Chopin born" → "Chopin was born"). The answer fills the gap: after a stranded preposition
   ("move to" → "moved to Chicago"), after the verb for an object ("did X marry" → "X married Jeff
   Dean"), at the end for adverbial phrases.
5. **copula**: a form of *be* with no main verb ("What is the capital of France?") → "The capital of
   France is Paris.", a stranded preposition kept ("What country is Normandy in?" → "Normandy is in
   Chicago."), an adjective kept as the predicate ("To what is oxygen toxic?" → "Oxygen is toxic to
   X."), a subordinate clause kept after the answer ("How old was X when Y?" → "X was 42 when Y.");
   an existential ("How many farms are there in X?") → "There are 42 farms in X.".

The main verb of an inversion is the first base-form (``VB``) word; when the small tagger missed it
("did the war end/NN"), the auxiliary's head in the parse, else the last word of the subject run that
``is_verb`` accepts (AddSent passes WordNet's verb lemmas).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from .answer_types import MONTHS, NUMBER_WORDS
from .inflection import past_tense, third_person

WH_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
AUXILIARIES = frozenset({"be", "do", "have"})
_WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
_NP_TAGS = frozenset({"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "CD", "HYPH", "POS", "VBG"})
_PREP_TAGS = frozenset({"IN", "TO", "RP"})
#: "what kind of X": the whole phrase names the answer's type and disappears
_TYPE_NOUNS = frozenset(
    {"kind", "type", "sort", "form", "variety", "style", "genre", "brand", "breed", "species", "category", "class"}
)
#: "what percentage of the vote": the answer keeps the "of" phrase ("40% of the vote")
_PARTITIVE_NOUNS = frozenset(
    {
        "percentage",
        "percent",
        "portion",
        "part",
        "fraction",
        "share",
        "amount",
        "number",
        "proportion",
        "majority",
        "half",
        "quarter",
        "third",
    }
)
#: "what year did ...": the answer is a time adverbial ("in 1950")
_TIME_NOUNS = frozenset(
    {
        "year",
        "date",
        "day",
        "month",
        "century",
        "decade",
        "time",
        "period",
        "era",
        "season",
        "week",
        "hour",
        "age",
        "point",
        "stage",
    }
)
_PLACE_NOUNS = frozenset(
    {
        "city",
        "country",
        "state",
        "place",
        "location",
        "region",
        "area",
        "town",
        "continent",
        "county",
        "province",
        "nation",
        "island",
        "village",
        "district",
        "site",
        "building",
        "venue",
        "stadium",
        "street",
        "neighborhood",
        "neighbourhood",
    }
)
_SUBORDINATORS = frozenset(
    {
        "when",
        "while",
        "after",
        "before",
        "because",
        "if",
        "although",
        "though",
        "since",
        "until",
        "whereas",
        "as",
        "during",
    }
)
_PREPOSITIONS = frozenset(
    {
        "in",
        "on",
        "at",
        "during",
        "after",
        "before",
        "since",
        "by",
        "from",
        "between",
        "around",
        "within",
        "until",
        "through",
        "throughout",
        "near",
        "inside",
        "outside",
        "to",
        "into",
        "across",
        "along",
        "over",
        "under",
        "above",
        "below",
        "beside",
        "among",
        "toward",
        "towards",
        "via",
        "with",
        "without",
        "for",
        "of",
        "about",
        "against",
        "upon",
        "behind",
        "beyond",
        "past",
        "off",
        "amid",
        "alongside",
        "opposite",
        "throughout",
    }
)
_REASON_OPENERS = ("because", "to ", "due to", "in order", "so ", "so that", "for ", "since", "as a result")
#: words around a number that name no unit ("about", "more than", "a"); the scale words ("million")
#: are number words (answer_types.NUMBER_WORDS)
_HEDGE_WORDS = frozenset(
    {
        "about",
        "approximately",
        "around",
        "over",
        "nearly",
        "almost",
        "more",
        "than",
        "less",
        "at",
        "least",
        "some",
        "roughly",
        "and",
        "a",
        "an",
    }
)
_NAMING = frozenset({"called", "named", "known", "termed", "nicknamed", "titled", "considered"})
_PLURAL_FORMS = {"is": "are", "was": "were", "has": "have"}
_SINGULAR_FORMS = {"are": "is", "were": "was", "have": "has"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Statement:
    """A declarative sentence and the rule that made it (``"subject"``, ``"inversion"``, ``"copula"``, ...)."""

    text: str
    rule: str


@dataclass(frozen=True)
class _WhPhrase:
    start: int  # first token of the wh-phrase (the wh-word)
    end: int  # one past its last token
    root: int  # the token whose dependency tells where the phrase sits (its head noun, or the wh-word)
    kind: str  # "np", "det", "whose", "amount", "measure", "when", "where", "why", "how"
    replacement: str
    adverbial: bool  # the replacement goes at the end of the clause, not into an argument gap
    answer: str = ""  # the bare answer, for a slot that already has its preposition


def to_statement(
    doc,
    answer: str,
    *,
    replacements: Optional[Mapping[int, str]] = None,
    answer_type: str = "other",
    is_verb: Optional[Callable[[str], bool]] = None,
) -> Optional[Statement]:
    """The statement that ``answer`` makes of the question ``doc`` (a parsed spaCy ``Doc``), or ``None``.

    Args:
        doc: the question, tagged, lemmatised and parsed.
        answer: the (fake) answer to put in the wh-phrase's place.
        replacements: token index → the text to write instead of that token (the mutated words).
        answer_type: :mod:`~textadv.qa.answer_types` type of ``answer`` (a plural subject takes "were", "are";
            a verb answers "What did X do?" in the verb's place).
        is_verb: whether a lower-case word can be a verb's base form; rescues tagger misses.
    """
    answer = answer.strip().rstrip(".,;:!?").strip()
    if not answer:
        return None
    words = _Words(doc, replacements or {})
    end = len(doc)
    while end > 0 and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    wh = _find_wh(doc, end, answer, words)
    if wh is None:
        return None
    wh = _with_following_pp(
        doc, _WhPhrase(wh.start, wh.end, wh.root, wh.kind, wh.replacement, wh.adverbial, answer), end, words
    )
    front: list[str] = []
    start = 0
    replacement = wh.replacement
    before = list(range(0, wh.start))
    if before and all(doc[i].tag_ in ("RB", "RBR") for i in before):
        before = []  # "Approximately how many ...": the adverb belongs to the wh-phrase the answer replaces
    if before:
        comma = max((i for i in before if doc[i].text in (",", ".", ";", ":")), default=-1)
        if comma >= 0:  # an opening phrase or sentence: "In 1880, what city ...", "X has two. What are they?"
            front = [words.span(0, comma + 1)]
            start = comma + 1
        if start < wh.start:
            if wh.start - start == 1 and doc[start].tag_ in ("IN", "TO"):  # pied-piped: "In what country ..."
                prep = words.word(start).lower()
                if not replacement.lower().startswith(prep + " "):
                    if replacement.split(" ", 1)[0].lower() in _PREPOSITIONS:
                        replacement = replacement.split(" ", 1)[1]
                    replacement = f"{prep} {replacement}"
                wh = _WhPhrase(wh.start, wh.end, wh.root, wh.kind, replacement, True, answer)
            else:  # in situ: "The Broncos defeated which team in the AFC Championship?"
                if doc[wh.start - 1].tag_ in ("IN", "TO") and wh.kind in ("when", "where", "det-time"):
                    replacement = answer  # "until when?": the preposition is already there
                parts = front + [words.span(start, wh.start), replacement, words.span(wh.end, end)]
                text = " ".join(p for p in parts if p)
                return _finish(text, "in-situ")
    clause = _clause(
        doc,
        words,
        wh,
        end,
        is_verb,
        plural=answer_type == "plural noun" or " and " in answer,
        verb_answer=answer_type == "verb",
    )
    if clause is None:
        return None
    text, rule = clause
    return _finish(" ".join(front + [text]), rule)


class _Words:
    """Token texts with the mutations applied, rendered with the question's own spacing."""

    def __init__(self, doc, replacements: Mapping[int, str]):
        self.doc, self.replacements = doc, replacements

    def word(self, i: int) -> str:
        text = self.replacements.get(i, self.doc[i].text)
        if text == "'s" and self.doc[i].tag_ == "VBZ" and i > 0 and self.doc[i - 1].lower_ in WH_WORDS:
            return "is"  # "What's X?": the contraction cannot stay once the answer moves behind it
        if text.lower() in ("a", "an") and i + 1 in self.replacements and self.replacements[i + 1]:
            vowel = _vowel_sound(self.replacements[i + 1])  # "a graph" -> "an example"
            text = text[0] + ("n" if vowel else "") if text.lower() != ("an" if vowel else "a") else text
        return text

    def span(self, a: int, b: int) -> str:
        return "".join(self.word(i) + self.doc[i].whitespace_ for i in range(a, b)).strip()

    def indices(self, idx: list) -> str:
        """Render possibly non-contiguous tokens: contiguous runs keep their spacing."""
        out, run = [], []
        for i in idx:
            if run and i != run[-1] + 1:
                out.append(self.span(run[0], run[-1] + 1))
                run = []
            run.append(i)
        if run:
            out.append(self.span(run[0], run[-1] + 1))
        return " ".join(p for p in out if p)


def _vowel_sound(word: str) -> bool:
    """Whether "an" goes before ``word``: a vowel letter, except "uni-", "use", "one"; and "hour", "honest"."""
    low = word.lower()
    if low.startswith(("hour", "honest", "honor", "honour", "heir")):
        return True
    return low[:1] in "aeiou" and not low.startswith(("uni", "use", "usu", "one", "eu", "ur"))


def _np_end(doc, j: int, end: int) -> int:
    while j < end and (
        doc[j].tag_ in _NP_TAGS
        or (
            doc[j].tag_ == "DT"
            and j + 1 < end
            and doc[j + 1].tag_ in _NP_TAGS
            and doc[j].lower_ not in ("that", "this")
        )
    ):
        j += 1
    return j


def _of_chain(doc, k: int, end: int, *, pp: bool = False) -> int:
    """The end of "of NP of NP ..." starting at ``k`` (``k`` itself when no "of" phrase follows).

    ``pp``: also take the prepositional phrases that follow ("of the voters in the northern district"),
    for phrases that travel with the answer.
    """
    while k < end and (
        doc[k].lower_ == "of" or (pp and k > 0 and doc[k].tag_ == "IN" and doc[k].lower_ not in _SUBORDINATORS)
    ):
        k2 = _np_end(doc, k + 1, end)
        if k2 == k + 1:
            break
        k = k2
    return k


def _with_following_pp(doc, wh: _WhPhrase, end: int, words: _Words) -> _WhPhrase:
    """Prepositional phrases between the wh-phrase and its verb travel with the answer.

    "Who besides the British colonized Africa?" → "Jeff Dean besides the British colonized Africa.";
    an "of" phrase is dropped with the wh-phrase ("Which descendant of Genghis Khan sacked Baghdad?" →
    "Jeff Dean sacked Baghdad."), since the answer names the whole.
    """
    j, kept = wh.end, []
    while j < end and doc[j].tag_ == "IN" and doc[j].lower_ not in _SUBORDINATORS:
        start = j + 2 if j + 1 < end and doc[j + 1].tag_ == "IN" else j + 1  # "along with"
        j2 = _np_end(doc, start, end)
        if j2 == start:
            break
        if doc[j].lower_ != "of":
            kept.append(words.span(j, j2))
        j = j2
    if j == wh.end or j >= end or doc[j].tag_ not in ("VBD", "VBZ", "VBP", "MD"):
        return wh
    return _WhPhrase(wh.start, j, wh.root, wh.kind, " ".join([wh.replacement] + kept), wh.adverbial, wh.answer)


def _answer_has_words(answer: str) -> bool:
    """True when the answer is more than a number ("three", "3 million"): it then names its own unit."""
    if any(ch in answer for ch in "$£€¥%"):
        return True  # "$5 million" already says "money"
    for w in answer.lower().replace(",", " ").split():
        if any(ch.isalpha() for ch in w) and w not in _HEDGE_WORDS and not _is_number_word(w):
            return True
    return False


def _is_number_word(w: str) -> bool:
    return all(part in NUMBER_WORDS for part in w.split("-"))


def _starts_with_preposition(answer: str) -> bool:
    return answer.split(" ", 1)[0].lower() in _PREPOSITIONS


def _time_phrase(answer: str) -> str:
    if _starts_with_preposition(answer):
        return answer
    low = answer.lower()
    has_day = any(ch.isdigit() for ch in low) and any(m in low for m in MONTHS)
    if any(low.startswith(d) for d in _WEEKDAYS) or (has_day and not low.endswith("s")):
        if not (low.split()[0] in MONTHS and len(low.split()) == 2 and len(low.split()[1]) == 4):  # "May 1990": in
            return f"on {answer}"
    return f"in {answer}"


def _find_wh(doc, end: int, answer: str, words: _Words) -> Optional[_WhPhrase]:
    # a wh-word right after a noun opens a relative clause ("the area where X sits"), not the question
    w = next(
        (
            i
            for i in range(end)
            if doc[i].lower_ in WH_WORDS
            and doc[i].tag_ in _WH_TAGS
            and not (i > 0 and doc[i - 1].tag_ in ("NN", "NNS", "NNP", "NNPS"))
        ),
        None,
    )
    if w is None:
        return None
    low = doc[w].lower_
    j = w + 1
    if low == "how":
        if j < end and doc[j].lower_ in ("many", "much"):
            if j + 1 < end and doc[j + 1].tag_ in ("JJR", "RBR"):
                return None  # "How much older was X than Y?": a comparison the rules do not rebuild
            k = j + 1
            participle = doc[k].tag_ == "VBN" or (doc[k].tag_ == "VBD" and doc[k].lemma_ not in AUXILIARIES)
            if k + 1 < end and participle and doc[k + 1].tag_.startswith(("NN", "JJ")):
                k += 1  # "how many paid holiday days": a participle inside the counted noun phrase
            k = _np_end(doc, k, end)
            k, head = _of_chain(doc, k, end, pp=True), k - 1  # "how many tons of dust"
            noun = words.span(j + 1, k)
            if noun:
                phrase = answer if _answer_has_words(answer) else f"{answer} {noun}"
                return _WhPhrase(w, k, head, "amount", phrase, False)
            # "How much did X pay?": "much" is the object, so the answer goes after the verb
            return _WhPhrase(w, j + 1, j, "measure", answer, doc[j].dep_ not in ("dobj", "nsubj", "nsubjpass", "attr"))
        if j < end and doc[j].tag_ in ("JJ", "JJR", "RB", "RBR") and doc[j].lower_ not in ("come",):
            return _WhPhrase(w, j + 1, j, "measure", answer, True)
        phrase = answer if _starts_with_preposition(answer) else f"by {answer}"
        return _WhPhrase(w, j, w, "how", phrase, True)
    if low == "when":
        return _WhPhrase(w, j, w, "when", _time_phrase(answer), True)
    if low == "where":
        if j < end and doc[j].lower_ == "else":
            j += 1
        phrase = answer if _starts_with_preposition(answer) else f"in {answer}"
        return _WhPhrase(w, j, w, "where", phrase, True)
    if low == "why":
        phrase = answer if answer.lower().startswith(_REASON_OPENERS) else f"because of {answer}"
        return _WhPhrase(w, j, w, "why", phrase, True)
    if low in ("what", "which", "whose") and j < end and doc[j].tag_ in _NP_TAGS - {"POS", "HYPH"}:
        k = _np_end(doc, j, end)
        nouns = [i for i in range(j, k) if doc[i].tag_.startswith("NN")]
        head = nouns[-1] if nouns else k - 1
        head_lemma = doc[head].lemma_.lower()
        if low == "whose":
            return _WhPhrase(w, k, head, "whose", f"{answer}'s {words.span(j, k)}", False)
        if head_lemma in _TYPE_NOUNS and k < end and doc[k].lower_ == "of":
            k2 = _of_chain(doc, k, end)
            if k2 > k:
                return _WhPhrase(w, k2, head, "det", answer, False)
        if head_lemma in _PARTITIVE_NOUNS and k < end and doc[k].lower_ == "of":
            k2 = _of_chain(doc, k, end, pp=True)
            if k2 > k:
                return _WhPhrase(w, k2, head, "det", f"{answer} {words.span(k, k2)}", False)
        if head_lemma in _TIME_NOUNS:
            k = _of_chain(doc, k, end)  # "what day of the week": the whole phrase names what the answer is
            return _WhPhrase(w, k, head, "det-time", _time_phrase(answer), True)
        return _WhPhrase(w, k, head, "det", answer, False)
    if low in ("what", "which", "who", "whom"):
        if j < end and doc[j].lower_ == "else":  # "Who else ...": the answer is just another one
            j += 1
        return _WhPhrase(w, j, w, "np", answer, False)
    return None


def _is_aux(tok) -> bool:
    return tok.tag_ == "MD" or (tok.lemma_.lower() in AUXILIARIES and tok.tag_ in ("VBD", "VBZ", "VBP", "VB"))


def _clause(
    doc, words: _Words, wh: _WhPhrase, end: int, is_verb, plural: bool, verb_answer: bool = False
) -> Optional[tuple[str, str]]:
    """The statement for the clause that follows the wh-phrase (rules 3-5), or ``None``."""
    rest = list(range(wh.end, end))
    if not rest:
        return None
    first = doc[rest[0]]
    if first.tag_ == "RB" and len(rest) > 1 and doc[rest[1]].tag_ in ("VBD", "VBZ", "VBP"):
        first = doc[rest[1]]  # "What group specifically opposed X?": an adverb before the subject's verb
    if not (first.tag_.startswith("VB") or first.tag_ == "MD"):
        return None  # "What year Tesla moved ...?" is not a question shape the rules know
    negation = [i for i in rest[1:3] if doc[i].lower_ in ("not", "n't")]
    subject_start = rest[0] + 1 + len(negation) if negation and negation[0] == rest[0] + 1 else rest[0] + 1
    if (
        first.lemma_.lower() == "be"
        and subject_start < end
        and doc[subject_start].lower_ == "there"
        and not wh.adverbial
    ):  # "How many farms are there in X?" (the tagger reads "there" as EX or RB)
        parts = ["there", words.word(first.i), wh.replacement, words.span(subject_start + 1, end)]
        return " ".join(p for p in parts if p), "existential"
    do_subject = first.lemma_.lower() == "do" and not negation  # "do" before its subject: always an inversion
    if (
        not _is_aux(first)
        or subject_start >= end
        or (_starts_verb_group(doc[subject_start]) and not do_subject)
        or (
            first.lemma_.lower() == "be"
            and not wh.adverbial
            and (
                doc[subject_start].tag_ == "IN"
                or (
                    doc[subject_start].tag_ in ("JJ", "JJR")
                    and not (subject_start + 1 < end and doc[subject_start + 1].tag_.startswith("NN"))
                )
            )
        )
    ):
        # "Who is responsible for X?" -> "Jeff Dean is responsible for X.": nothing between be and its predicate
        if wh.adverbial and not wh.kind == "measure":
            return None  # "When was founded ...?": an adverbial wh-phrase cannot be the subject
        verb = words.word(rest[0])
        if plural and wh.kind in ("np", "det"):  # "The Saxons were defeated", "Telescopes run X"
            if verb.lower() in _PLURAL_FORMS:
                verb = _PLURAL_FORMS[verb.lower()]
            elif doc[rest[0]].tag_ == "VBZ" and doc[rest[0]].lemma_:
                verb = doc[rest[0]].lemma_
        elif not plural and wh.kind == "det" and doc[wh.root].tag_ == "NNS":  # "What amendments make X" + one fake
            if verb.lower() in _SINGULAR_FORMS:
                verb = _SINGULAR_FORMS[verb.lower()]
            elif doc[rest[0]].tag_ == "VBP" and doc[rest[0]].lemma_:
                verb = third_person(doc[rest[0]].lemma_)
        return " ".join(p for p in (wh.replacement, verb, words.span(rest[0] + 1, end)) if p), "subject"
    lemma = first.lemma_.lower()
    verb = _main_verb(doc, first, subject_start, end, lemma, is_verb)
    if verb is None:
        if lemma == "do" or first.tag_ == "MD":
            return None
        if lemma == "have":  # "Who has the most titles?": have is the main verb, the wh-phrase its subject
            return None if wh.adverbial else (f"{wh.replacement} {words.span(rest[0], end)}", "subject")
        return _copula(doc, words, wh, first.i, subject_start, end)
    subject = words.span(subject_start, verb)
    if not subject:
        return None
    if lemma == "do" and doc[verb].lemma_ == "do" and wh.kind == "np" and verb_answer:
        # "What did Genghis Khan do when ...?" + "learned" -> "Genghis Khan learned when ...": the answer is the verb
        rest_words = words.indices(list(range(verb + 1, end)))
        return " ".join(p for p in (subject, wh.answer, rest_words) if p), "inversion-do"
    if lemma == "do" and not negation:
        verb_lemma = doc[verb].lemma_ if doc[verb].lemma_ else doc[verb].text  # the question's own verb, unmutated
        form = {"VBD": past_tense, "VBZ": third_person}.get(first.tag_, lambda x: x)(verb_lemma.lower())
        group = form
    else:
        group = " ".join([words.word(first.i)] + [words.word(i) for i in negation] + [words.word(verb)])
    particle_end = verb + 1
    while particle_end < end and (
        doc[particle_end].tag_ == "RP"
        or (doc[particle_end - 1].lower_ in ("been", "being") and doc[particle_end].tag_ in ("VBN", "VBG"))
    ):
        particle_end += 1
    group = " ".join([group] + [words.word(i) for i in range(verb + 1, particle_end)])
    after = list(range(particle_end, end))
    gap = _gap(doc, wh, after, end)
    if (
        wh.kind in ("where", "when")
        and after
        and doc[after[-1]].tag_ == "IN"
        and not _starts_with_preposition(wh.answer)
    ):
        wh = _WhPhrase(wh.start, wh.end, wh.root, wh.kind, wh.answer, True, wh.answer)  # "stop at [Lima]"
    elif wh.kind in ("where", "when") and gap is not None and not _starts_with_preposition(wh.answer):
        wh = _WhPhrase(wh.start, wh.end, wh.root, wh.kind, wh.answer, False, wh.answer)  # "relocated to [X] in May"
    if wh.adverbial or gap is None:
        if wh.adverbial:  # at the end of the main clause, before a clause set off by a comma
            comma = next((k for k, i in enumerate(after) if doc[i].text == ","), len(after))
            parts = [subject, group, words.indices(after[:comma]), wh.replacement, words.indices(after[comma:])]
        else:  # an object: right after the verb ("did X marry" -> "X married Jeff Dean"), or after the
            k = _object_slot(doc, verb, after)  # infinitive that takes it ("did X try to protect")
            parts = [subject, group, words.indices(after[:k]), wh.replacement, words.indices(after[k:])]
    else:
        left = [i for i in after if i <= gap]
        right = [i for i in after if i > gap]
        parts = [subject, group, words.indices(left), wh.replacement, words.indices(right)]
    return " ".join(p for p in parts if p), "inversion-do" if lemma == "do" else "inversion"


def _object_slot(doc, verb: int, after: list) -> int:
    """Where an object wh-phrase goes among the words ``after`` the main verb: right after it, after
    the infinitive it governs ("try to protect [X]"), or, when the verb already has an object, after
    the last infinitive ("design setups to produce [X]")."""
    pairs = [k for k in range(len(after) - 1) if doc[after[k]].tag_ == "TO" and doc[after[k + 1]].tag_ == "VB"]
    has_object = any(doc[i].dep_ == "dobj" and doc[i].head.i == verb for i in after)
    if has_object and pairs:
        return pairs[-1] + 2
    k = 0
    while k in pairs:
        k += 2
    return k


def _starts_verb_group(tok) -> bool:
    """A verb or adverb straight after the auxiliary: no subject sits between them ("was defeated", "is also")."""
    return tok.tag_ in ("VBN", "VBG", "VB", "RB", "RBR", "RBS", "MD", "VBD", "VBZ", "VBP")


def _main_verb(doc, aux, start: int, end: int, lemma: str, is_verb) -> Optional[int]:
    """The index of the main verb after the inverted auxiliary and its subject, or ``None``."""
    wanted = {"do": ("VB",), "be": ("VBN", "VBG"), "have": ("VBN",)}.get(lemma, ("VB",))
    for i in range(start + 1, end):
        t = doc[i]
        if aux.head.i == i and aux.dep_ in ("aux", "auxpass") and t.tag_.startswith("VB"):
            return i  # the parse ties the auxiliary to this verb, even where the tagger read "signed" as VBD
        if lemma == "be" and t.tag_ == "VBD" and i + 1 == end:
            return i  # "When was X held?": a participle the tagger read as a past tense
        if lemma != "be" and t.lower_ == "been":
            return i  # "has X been nominated": the group grows over the participle below
        if (
            t.tag_ in wanted
            and (
                lemma == "do" or aux.tag_ == "MD" or t.dep_ in ("ROOT", "conj") or aux.head.i == i or t.head.i == aux.i
            )
            and not t.text[:1].isupper()
        ):
            return i  # (a capitalised word inside the question is a name the tagger misread, not the verb)
        if t.tag_ in ("VBD", "VBZ", "VBP", "MD") or t.tag_ in _WH_TAGS:
            break  # a finite verb of a subordinate clause: the main verb is not further right
    if lemma == "be" or lemma == "have":
        return None
    if aux.dep_ == "aux" and start < aux.head.i < end and aux.head.pos_ in ("VERB", "NOUN", "ADJ", "ADV"):
        return aux.head.i
    if is_verb is not None:  # "did the war end": the tagger read "end" as a noun
        run = start
        while run < end and doc[run].tag_ in _NP_TAGS | {"DT", "RB", "VB", "VBP", "IN", "CC"}:
            run += 1
        for i in range(run - 1, start, -1):
            if doc[i].tag_ not in ("NNP", "NNPS", "CD") and is_verb(doc[i].lower_):
                return i
    return None


def _gap(doc, wh: _WhPhrase, after: list, end: int) -> Optional[int]:
    """Where an argument wh-phrase came from: the index of the stranded preposition it follows, or ``None``."""
    root = doc[wh.root]
    prep = root.head.i
    stranded = prep + 1 >= end or doc[prep + 1].tag_ not in _NP_TAGS | {"DT", "PRP$", "PRP"}
    if root.dep_ == "pobj" and prep in after and root.head.tag_ in _PREP_TAGS and stranded:
        return prep  # "did Tesla move to [Chicago] in 1880", not "enroll in during [X] 1875"
    for i in after:
        t = doc[i]
        if (t.tag_ in ("IN", "TO") or t.lower_ in ("as", "like")) and (
            i + 1 >= end or doc[i + 1].tag_ in ("IN", "TO", "RB", ",", "WRB", "VBG")
        ):
            return i  # "known as [X]", "look like [X]"
    return None


def _copula(doc, words: _Words, wh: _WhPhrase, be: int, start: int, end: int) -> Optional[tuple[str, str]]:
    """Rule 5: "What is the capital of France?" → "The capital of France is Paris."."""
    stop = next(
        (
            i
            for i in range(start + 1, end)
            if doc[i].text == "," or (doc[i].lower_ in _SUBORDINATORS and doc[i].tag_ in ("WRB", "IN") and i + 1 < end)
        ),
        end,
    )  # a clause follows, not "known as?"
    subject = list(range(start, stop))
    stranded = []
    while subject and (doc[subject[-1]].tag_ in ("IN", "TO") or doc[subject[-1]].lower_ in ("as", "like")):
        stranded.insert(0, subject.pop())
    if not subject:
        return None
    predicate: list = []
    np_end = _np_end(doc, start + 1 if doc[start].tag_ in ("DT", "PRP$") else start, stop)
    while np_end - 1 > start and doc[np_end - 1].tag_ in ("JJ", "JJR", "JJS"):
        np_end -= 1  # "oxygen toxic": the adjective after the nouns is not part of the subject
    np_end = _of_chain(doc, np_end, stop, pp=True)
    has_noun = any(doc[i].tag_.startswith("NN") or doc[i].tag_ == "PRP" for i in range(start, np_end))
    adjective = np_end <= subject[-1] and (
        doc[np_end].tag_ in ("JJ", "JJR", "JJS") or (doc[np_end].tag_ == "VBN" and np_end == subject[-1])
    )
    if has_noun and start < np_end and adjective:  # a participle only when last: not "the name given to X"
        # "is oxygen toxic (to)": the subject is the noun phrase, the adjective its predicate
        subject, predicate = list(range(start, np_end)), subject[subject.index(np_end) :]
    elif len(subject) > 1 and (doc[subject[-1]].tag_ == "VBN" or doc[subject[-1]].lower_ in _NAMING):
        # "is the process by which X happens called": the participle belongs to the predicate
        predicate = [subject.pop()]
    replacement = wh.replacement
    if stranded and wh.kind in ("where", "when") and not _starts_with_preposition(wh.answer):
        replacement = wh.answer  # "When is the seal from?" -> "The seal is from 1390."
    parts = [
        words.indices(subject),
        words.word(be),
        words.indices(predicate),
        words.indices(stranded),
        replacement,
        words.indices(list(range(stop, end))),
    ]
    return " ".join(p for p in parts if p), "copula"


def _finish(text: str, rule: str) -> Optional[Statement]:
    text = " ".join(text.split()).rstrip(" ,;:")
    for punct in (" ,", " .", " 's", " n't", " %", " )"):
        text = text.replace(punct, punct[1:])
    text = re.sub(r"\b([A-Z]\w*s)'s\b", r"\1'", text)  # "Stark Industries's" -> "Stark Industries'"
    text = re.sub(r"(?<=[a-z0-9])\. ([a-z])", lambda m: ". " + m.group(1).upper(), text)  # not after "U.K."
    if not text or text.split(" ", 1)[0].lower() in WH_WORDS:
        return None
    return Statement(text[0].upper() + text[1:] + ".", rule)
