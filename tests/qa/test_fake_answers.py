"""Fake answers of the gold answer's type (Jia & Liang 2017, AddSent step 2)."""

import random
import re

import pytest

from textadv.qa.answer_types import type_of_text
from textadv.qa.fake_answers import POOLS, VERBS, change_numbers, fake_answers


@pytest.mark.parametrize(
    "gold,kind",
    [
        ("1880", "year"),
        ("May 3, 2013", "date"),
        ("$2 million", "money"),
        ("45%", "percentage"),
        ("1,200", "number"),
        ("three", "number"),
        ("the 1990s", "date"),
    ],
)
def test_numeric_fakes_keep_the_type_and_change_every_number(gold, kind):
    rng = random.Random(0)
    for _ in range(20):
        fakes = fake_answers(gold, kind, rng, n=2)
        assert len(fakes) == 2 and len(set(fakes)) == 2 and gold not in fakes
        for fake in fakes:
            assert type_of_text(fake) == kind, fake
            numbers = re.findall(r"\d+(?:,\d{3})*", fake)
            assert len(numbers) == len(re.findall(r"\d+(?:,\d{3})*", gold))  # every number replaced by one
            assert not set(numbers) & set(re.findall(r"\d+(?:,\d{3})*", gold))


def test_years_stay_plausible_and_ordinals_grammatical():
    rng = random.Random(1)
    for _ in range(50):
        year = int(change_numbers("1880", rng))
        assert year != 1880 and 1840 <= year <= 1920
        century = change_numbers("the 19th century", rng)
        n = int(re.search(r"\d+", century).group())
        assert 1 <= n <= 21 and century.endswith(
            {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n not in (11, 12, 13) else 0, "th") + " century"
        )
    assert change_numbers("the Bible", rng) is None


def test_entity_fakes_come_from_the_pool_of_the_type_and_differ_from_the_gold():
    rng = random.Random(2)
    for kind in ("person", "place", "organisation"):
        fakes = fake_answers(POOLS[kind][0], kind, rng, n=3)
        assert len(fakes) == 3 and POOLS[kind][0] not in fakes and set(fakes) <= set(POOLS[kind])
    assert sorted(fake_answers("learned", "verb", rng, n=2, head_tag="VBG")) == sorted(VERBS["VBG"])
