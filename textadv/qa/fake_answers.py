"""Fake answers of the gold answer's type (Jia & Liang 2017, PAPERS.md §8, AddSent step 2).

Jia & Liang replaced the answer by a fixed fake of its type ("Jeff Dean" for a person, "Chicago" for a
place, "Stark Industries" for an organisation, "Jupiter" for other entities, "hamster" / "aliens" /
"learned" by part of speech) and, for dates and numbers, changed the gold answer's own numbers and
months. This module does the same for every type of :mod:`textadv.qa.answer_types`, with a few
fixed fakes per type drawn with a seeded ``random.Random`` so that several candidates can differ.

Numeric answers (year, date, number, percentage, money, quantity, time, ordinal) keep their wording
and units with every number changed ("$2 million" → "$7 million", "May 3, 2013" → "October 9, 2031"),
so the fake is of the same type by construction; a year stays a plausible year.
"""

from __future__ import annotations

import random
import re
from typing import Sequence

from .answer_types import MONTHS, NUMBER_WORDS

#: fixed fakes per answer type (Jia & Liang's first, then a few more of the same kind)
POOLS = {
    "person": ("Jeff Dean", "Ada Lovelace", "Grace Hopper", "Alan Turing", "Marie Curie"),
    "place": ("Chicago", "Melbourne", "Nairobi", "Oslo", "Lima"),
    "organisation": ("Stark Industries", "the Acme Corporation", "Wayne Enterprises", "Initech"),
    "group": ("Jupiterian", "Norwegian", "Peruvian", "Mongolian"),
    "event": ("the Jupiter Festival", "the Siege of Avalon", "the Zembla Games"),
    "work": ("The Silent Harbor", "Jupiter Rising", "Songs of Avalon"),
    "product": ("the Acme Phone", "Jupiter Cola", "the Zembla Engine"),
    "law": ("the Jupiter Act", "the Treaty of Avalon"),
    "language": ("Esperanto", "Finnish", "Swahili", "Basque"),
    "proper noun": ("Jupiter", "Avalon", "Zembla"),
    "noun": ("a hamster", "a telescope", "a volcano", "a harpsichord"),  # singular count nouns need an article
    "plural noun": ("aliens", "hamsters", "telescopes", "volcanoes"),
    "adjective": ("deep", "purple", "fragile", "nocturnal"),
    "adverb": ("slowly", "quietly", "backwards"),
    "prepositional": ("under the bridge", "behind the moon", "near the old harbour"),
    "other": ("aliens", "hamsters", "the moon"),
    "reason": ("to impress the aliens", "because of the hamsters", "to reach the moon"),  # why-questions
    # used only when a numeric answer has no number to change
    "year": ("1956", "1723", "1888"),
    "date": ("March 3, 1956", "the 1720s", "October 9, 1888"),
    "number": ("42", "17", "seven"),
    "percentage": ("42%", "17 percent"),
    "money": ("$42 million", "$17"),
    "quantity": ("42 kilometres", "17 tons"),
    "ordinal": ("fifth", "ninth"),
    "time": ("midnight", "noon", "3:15 a.m."),
}
#: a verb answer: fakes by the head's tag
VERBS = {
    "VBD": ("learned", "swam"),
    "VBN": ("learned", "swum"),
    "VBG": ("learning", "swimming"),
    "VBZ": ("learns", "swims"),
    "VBP": ("learn", "swim"),
    "VB": ("learn", "swim"),
}
NUMERIC_TYPES = frozenset({"year", "date", "number", "percentage", "money", "quantity", "time", "ordinal"})
_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
)
_SMALL_NUMBERS = NUMBER_WORDS[1:13]
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|[A-Za-z]+")  # "1,200" is one number, "1974," is 1974


def fake_answers(answer: str, answer_type: str, rng: random.Random, *, n: int = 2, head_tag: str = "") -> list[str]:
    """Up to ``n`` distinct fakes of ``answer_type`` for the gold ``answer``, none equal to it (case-insensitive).

    ``head_tag`` is the fine POS tag of the answer's head, used for verb answers.
    """
    if n <= 0:
        raise ValueError(f"the number of fake answers must be positive, got {n}")
    out: list[str] = []
    if answer_type in NUMERIC_TYPES:
        for _ in range(4 * n):
            fake = change_numbers(answer, rng)
            if fake is not None and fake not in out:
                out.append(fake)
            if len(out) == n:
                break
    if answer_type == "verb":
        pool: Sequence[str] = VERBS.get(head_tag, VERBS["VB"])
    else:
        pool = POOLS.get(answer_type, POOLS["other"])
    pool = [p for p in pool if p.lower() not in answer.lower() and answer.lower() not in p.lower()]
    for fake in rng.sample(pool, len(pool)):
        if len(out) >= n:
            break
        if fake not in out:
            out.append(fake)
    return out


def change_numbers(text: str, rng: random.Random) -> "str | None":
    """``text`` with every number, number word, ordinal and month changed to a different one, or ``None``
    when it has none. Four-digit years move by 3 to 40 years (decades stay decades); other digit strings
    keep their length and separators."""
    changed = False

    def swap(match: re.Match) -> str:
        nonlocal changed
        word = match.group(0)
        low = word.lower()
        new = None
        if word[0].isdigit():
            new = _other_number(word, text, match.end(), rng)
        elif low in MONTHS:
            new = rng.choice([m for m in MONTHS if m != low]).capitalize()
        elif low in _SMALL_NUMBERS:
            new = rng.choice([m for m in _SMALL_NUMBERS if m != low])
        elif low in _ORDINALS:
            new = rng.choice([m for m in _ORDINALS if m != low])
        if new is None or new.lower() == low:
            return word
        changed = True
        return _case_like(word, new)

    out = _TOKEN.sub(swap, text)
    return _ORDINAL.sub(_ordinal_suffix, out) if changed else None


def _other_number(word: str, text: str, end: int, rng: random.Random) -> str:
    digits = word.replace(",", "").split(".")[0]
    if len(digits) <= 2 and any(m in text.lower() for m in MONTHS):  # a day of a month
        return str(rng.choice([d for d in range(1, 29) if str(d) != digits]))
    if len(digits) <= 2 and re.match(r"(st|nd|rd|th)\b", text[end : end + 3]):  # "11th" (century) -> 1st..21st
        return str(rng.choice([c for c in range(1, 22) if str(c) != digits]))
    if len(digits) == 4 and 1000 <= int(digits) <= 2099 and "," not in word and "." not in word:
        decade = text[end : end + 1] == "s" and digits.endswith("0")
        while True:
            year = int(digits) + rng.choice((-1, 1)) * rng.randint(3, 40)
            if decade:
                year = year // 10 * 10
            if year != int(digits) and year <= 2030:
                return str(year)
    if digits.isdigit() and len(digits) == 1 and "." not in word:  # 2-9: "2 fumbles" must not become "1 fumbles"
        return str(rng.choice([d for d in range(2, 10) if str(d) != digits]))
    while True:
        new = "".join(
            rng.choice("123456789") if i == 0 and ch.isdigit() else rng.choice("0123456789") if ch.isdigit() else ch
            for i, ch in enumerate(word)
        )
        if new != word or not any(ch.isdigit() for ch in word):
            return new


def _ordinal_suffix(match: re.Match) -> str:
    """ "21th" → "21st": the suffix follows the new number."""
    n = int(match.group(1))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return match.group(1) + suffix


def _case_like(model: str, word: str) -> str:
    return word.capitalize() if model[:1].isupper() else word
