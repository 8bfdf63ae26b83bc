"""English inflection for AddSent's statements: a verb's past and third-person forms, a noun's plural.

Turning "did Tesla move" into "Tesla moved" (do-support undone, Jia & Liang 2017, PAPERS.md §8) needs
the past tense of a lemma, and a WordNet antonym of a plural noun needs its plural. spaCy lemmatises
but does not inflect, so this module holds the regular spelling rules and a table of the common
irregular verbs (a verb missing from it gets the regular "-ed", which is how a reader spots it).
"""

from __future__ import annotations

# base past (participles are not needed: do-support only ever leaves a base form to put in the past)
_IRREGULAR = dict(
    pair.split(":")
    for pair in """
arise:arose awake:awoke be:was bear:bore beat:beat become:became begin:began bend:bent bet:bet bid:bid bind:bound
bite:bit bleed:bled blow:blew break:broke breed:bred bring:brought broadcast:broadcast build:built burn:burned
burst:burst buy:bought cast:cast catch:caught choose:chose cling:clung come:came cost:cost creep:crept cut:cut
deal:dealt dig:dug do:did draw:drew dream:dreamed drink:drank drive:drove eat:ate fall:fell feed:fed feel:felt
fight:fought find:found flee:fled fling:flung fly:flew forbid:forbade forecast:forecast foresee:foresaw
forget:forgot forgive:forgave freeze:froze get:got give:gave go:went grind:ground grow:grew hang:hung have:had
hear:heard hide:hid hit:hit hold:held hurt:hurt keep:kept kneel:knelt know:knew lay:laid lead:led lean:leaned
leave:left lend:lent let:let lie:lay light:lit lose:lost make:made mean:meant meet:met mislead:misled
mistake:mistook overcome:overcame overtake:overtook overthrow:overthrew pay:paid prove:proved put:put quit:quit
read:read rebuild:rebuilt rid:rid ride:rode ring:rang rise:rose run:ran say:said see:saw seek:sought sell:sold
send:sent set:set shake:shook shed:shed shine:shone shoot:shot show:showed shrink:shrank shut:shut sing:sang
sink:sank sit:sat sleep:slept slide:slid speak:spoke speed:sped spend:spent spin:spun split:split spread:spread
spring:sprang stand:stood steal:stole stick:stuck sting:stung strike:struck strive:strove swear:swore
sweep:swept swim:swam swing:swung take:took teach:taught tear:tore tell:told think:thought throw:threw
thrust:thrust undergo:underwent understand:understood undertake:undertook upset:upset wake:woke wear:wore
weave:wove weep:wept win:won wind:wound withdraw:withdrew write:wrote
""".split()
)
_PRESENT_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}
_VOWELS = set("aeiou")


def past_tense(lemma: str) -> str:
    """The simple past of a verb lemma: "move" → "moved", "begin" → "began", "stop" → "stopped"."""
    word = lemma.lower()
    if word in _IRREGULAR:
        return _match_case(lemma, _IRREGULAR[word])
    if word.endswith("e"):
        past = word + "d"
    elif word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        past = word[:-1] + "ied"
    elif _doubles_final_consonant(word):
        past = word + word[-1] + "ed"
    else:
        past = word + "ed"
    return _match_case(lemma, past)


def third_person(lemma: str) -> str:
    """The present third-person singular: "move" → "moves", "carry" → "carries", "go" → "goes"."""
    word = lemma.lower()
    if word in _PRESENT_3SG:
        return _match_case(lemma, _PRESENT_3SG[word])
    return _match_case(lemma, _add_s(word))


def plural(noun: str) -> str:
    """A regular plural: "city" → "cities", "box" → "boxes", "loss" → "losses", "day" → "days"."""
    return _match_case(noun, _add_s(noun.lower()))


def _add_s(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh", "o")) and not word.endswith(("oo", "eo")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def _doubles_final_consonant(word: str) -> bool:
    """Stop → stopped, plan → planned: one short stressed vowel before a final single consonant.

    Only monosyllables are doubled (stress is unknown for longer words: "visit" → "visited").
    """
    if len(word) < 3 or word[-1] in _VOWELS or word[-1] in "wxy":
        return False
    vowels = [i for i, ch in enumerate(word) if ch in _VOWELS]
    return len(vowels) == 1 and vowels[0] == len(word) - 2 and word[-3] not in _VOWELS


def _match_case(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
