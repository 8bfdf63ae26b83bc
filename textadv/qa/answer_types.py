"""The type of a SQuAD answer (person, place, year, number, ...), for AddSent's fake answers and per-type scores.

Jia & Liang (2017, PAPERS.md §8) give each AddSent distractor a fake answer "of the same type as the
real one" (person → another person, date → another date, ...), typed from CoreNLP's NER and POS tags.
Here the gold answer is typed in its context, in this order:

1. regular expressions that are more reliable than a small NER model: percentage, money, year;
2. spaCy's named entity that covers at least half of the answer's characters (:data:`NER_TYPES`);
3. regular expressions for dates (a month name with a number, a decade) and plain numbers;
4. the part of speech of the answer's head (its syntactic root when the parse is available, else
   its last noun): proper noun, noun, plural noun, verb, adjective, adverb; an answer that opens
   with a preposition is "prepositional"; anything else "other".

:func:`answer_types` types many questions at once, parsing each distinct context once.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

#: every type :func:`type_of_span` returns
ANSWER_TYPES = (
    "person",
    "place",
    "organisation",
    "group",
    "date",
    "year",
    "time",
    "number",
    "ordinal",
    "percentage",
    "money",
    "quantity",
    "event",
    "work",
    "product",
    "law",
    "language",
    "proper noun",
    "noun",
    "plural noun",
    "verb",
    "adjective",
    "adverb",
    "prepositional",
    "other",
)
#: spaCy (OntoNotes) entity labels → answer types; GPE, LOC and FAC are all places
NER_TYPES = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "organisation",
    "NORP": "group",
    "DATE": "date",
    "TIME": "time",
    "CARDINAL": "number",
    "ORDINAL": "ordinal",
    "PERCENT": "percentage",
    "MONEY": "money",
    "QUANTITY": "quantity",
    "EVENT": "event",
    "WORK_OF_ART": "work",
    "PRODUCT": "product",
    "LAW": "law",
    "LANGUAGE": "language",
}
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "million",
    "billion",
    "trillion",
    "dozen",
)

_HEDGE = (
    r"(?:(?:about|approximately|around|roughly|nearly|almost|over|under|more than|less than|at least|some|c\.|"
    r"circa|in|by|since|from|until|the)\s+)*"
)
_NUM = r"[+-]?\d[\d,]*(?:\.\d+)?"
_NUMWORD = r"(?:" + "|".join(NUMBER_WORDS) + r")(?:[- ](?:" + "|".join(NUMBER_WORDS) + r"))*"
_PERCENT = re.compile(rf"^{_HEDGE}(?:{_NUM}|{_NUMWORD})\s*(?:%|percent\b|per cent\b)", re.I)
_MONEY = re.compile(
    rf"^{_HEDGE}(?:(?:US|A|C|NZ|HK)?[$£€¥₹]\s*{_NUM}|{_NUM}(?:\s+(?:million|billion|thousand|"
    r"trillion))?\s+(?:US\s+)?(?:dollars?|euros?|pounds?(?! of)|yen|cents?|francs?|rupees?|"
    r"pesos?|yuan|marks?|shillings?|guineas?)\b)",
    re.I,
)
_YEAR = re.compile(rf"^{_HEDGE}(?:1\d{{3}}|20\d{{2}}|\d{{2,4}}\s*(?:AD|BC|BCE|CE|A\.D\.|B\.C\.))\.?$", re.I)
_DATE = re.compile(
    r"\b(?:"
    + "|".join(MONTHS)
    + r")\b.*\d|\d.*\b(?:"
    + "|".join(MONTHS)
    + r")\b|^"
    + _HEDGE
    + r"(?:the\s+)?\d{2,4}'?s$",
    re.I,
)
_NUMBER = re.compile(rf"^{_HEDGE}(?:{_NUM}|{_NUMWORD})(?:\s+(?:million|billion|thousand|hundred|trillion))?$", re.I)


def type_of_text(text: str) -> Optional[str]:
    """The type that the answer's own characters show, or ``None``: "percentage", "money", "year" first,
    then "date" and "number" (the order :func:`type_of_span` applies them around the NER label)."""
    return _strong_type(text) or _weak_type(text)


def _strong_type(text: str) -> Optional[str]:
    text = text.strip()
    if _PERCENT.search(text):
        return "percentage"
    if _MONEY.search(text):
        return "money"
    if _YEAR.match(text):
        return "year"
    return None


def _weak_type(text: str) -> Optional[str]:
    text = text.strip()
    if _DATE.search(text) or text.lower() in MONTHS:
        return "date"
    if _NUMBER.match(text):
        return "number"
    return None


def type_of_span(span) -> str:
    """The answer type of a spaCy ``Span`` of a tagged document (with NER; the parse is used when present)."""
    text = span.text
    strong = _strong_type(text)
    if strong:
        return strong
    label = _covering_entity(span)
    if label is not None:
        return NER_TYPES[label]
    weak = _weak_type(text)
    if weak:
        return weak
    return _type_by_pos(span)


def _covering_entity(span) -> Optional[str]:
    """The label of the entity overlapping most of the span, when it covers at least half its characters."""
    size = sum(len(t.text) for t in span if not t.is_punct) or 1
    best, best_overlap = None, 0
    for ent in span.doc.ents:
        if ent.end <= span.start or ent.start >= span.end or ent.label_ not in NER_TYPES:
            continue
        overlap = sum(
            len(t.text) for t in span.doc[max(ent.start, span.start) : min(ent.end, span.end)] if not t.is_punct
        )
        if overlap > best_overlap:
            best, best_overlap = ent.label_, overlap
    return best if best_overlap * 2 >= size else None


def head_token(span):
    """The span's head: its syntactic root when the document is parsed, else its last noun, else its last token."""
    if span.doc.has_annotation("DEP"):
        return span.root
    nouns = [t for t in span if t.tag_.startswith("NN")]
    return nouns[-1] if nouns else span[-1]


def _type_by_pos(span) -> str:
    words = [t for t in span if not t.is_punct]
    if not words:
        return "other"
    if len(words) > 1 and words[0].tag_ in ("IN", "TO") and words[0].lower_ not in ("that",):
        return "prepositional"
    tag = head_token(span).tag_
    if tag in ("NNP", "NNPS"):
        return "proper noun"
    if tag == "NNS":
        return "plural noun"
    if tag == "NN":
        return "noun"
    if tag.startswith("VB"):
        return "verb"
    if tag.startswith("JJ"):
        return "adjective"
    if tag.startswith("RB"):
        return "adverb"
    if tag == "CD":
        return "number"
    return "other"


def answer_span(doc, start: int, text: str):
    """The tokens of ``doc`` covering the answer ``text`` at character ``start`` (expanded to whole tokens)."""
    end = start + len(text)
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        raise ValueError(
            f"answer {text!r} at character {start} is outside the parsed text ({len(doc.text)} characters)"
        )
    return span


def answer_types(questions: Sequence, nlp, *, batch_size: int = 32) -> list[str]:
    """The type of each question's first gold answer, typed in its context (one parse per distinct context).

    ``questions`` are :class:`~textadv.qa.squad.SquadQuestion`; ``nlp`` a spaCy pipeline with a tagger
    and NER (:func:`textadv.qa.spacy_pipeline.load_pipeline`). The parser, attribute ruler and lemmatizer
    are switched off here: only fine tags and entities are read (the head is then the answer's last noun).
    """
    contexts = list(dict.fromkeys(q.context for q in questions))
    disable = [p for p in ("parser", "attribute_ruler", "lemmatizer") if p in nlp.pipe_names]
    with nlp.select_pipes(disable=disable):
        docs = dict(zip(contexts, nlp.pipe(contexts, batch_size=batch_size, n_process=1)))
    out = []
    for q in questions:
        gold = q.answers[0]
        out.append(type_of_span(answer_span(docs[q.context], gold.answer_start, gold.text)))
    return out
