"""AddSent's question mutation (Jia & Liang 2017, PAPERS.md §8, step 1): change the question's meaning
while keeping its shape, so a sentence built from it resembles the question but does not answer it.

Per token, the first rule that applies gives a list of alternatives (Jia & Liang's order):

1. a small special-case table (:data:`SPECIAL`: "first" ↔ "last", "north" ↔ "south", months,
   "before" ↔ "after", "largest" ↔ "smallest", "US" ↔ "UK", ...);
2. common nouns and adjectives → WordNet antonyms of the first sense of their lemma
   (:func:`textadv.text.wordnet.ensure_wordnet`, NLTK's reader over the packaged WordNet 3.0);
3. numbers → the nearest GloVe words that are numbers of the same shape (digits, length);
4. named entities and proper nouns → the nearest GloVe words of the same type: a neighbour is kept
   when the run's own parsed text (:class:`TypedLexicon`, the analogue of Jia & Liang's POS
   dictionary) most often tags it with the token's entity label (or POS), and when it does not share
   the token's stem;
5. a named entity with no such neighbour → a fixed word of its type (Jia & Liang's last rule:
   PERSON → "Jackson", place → "California", ORG → "Stark Industries", NORP → "Jupiterian"); a
   proper noun outside any entity → its nearest GloVe words of any type (their "ignore POS" rule);
6. only in a question that rules 1-5 leave unchanged: up to :data:`NEARBY_WORDS` common nouns (or
   adjectives; those after its first verb first) → their nearest GloVe words with the same POS tag
   (or, for words the run's text never had, the same WordNet part of speech) that are not a synonym
   of their first WordNet sense (Jia & Liang apply this rule to entity nouns only; this lets
   questions without entities, numbers or antonyms change too: "dust" → "sand"; applied to every
   noun it would leave the distractor sharing too little with the question).

Nearest words come from :func:`textadv.analysis.neighbours.cosine_topk` over the first
``vocab_size`` rows of the packaged GloVe 6B 50d (:func:`textadv.analysis.sources.glove_table`, rows
ordered by corpus frequency), computed for all the run's words in one batched call and kept in a
per-run dict. Jia & Liang used the whole 400k vocabulary through a precomputed KD-tree; the frequent
100k keep the search a fraction of a second and the replacements ordinary words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from .inflection import plural

#: Jia & Liang's special alterations plus the usual opposites of SQuAD questions, matched on the exact
#: text first (capitalised months and days, abbreviations), then on the lower-cased word
SPECIAL = {
    "US": "UK",
    "U.S.": "U.K.",
    "UK": "US",
    "U.K.": "U.S.",
    "States": "Kingdom",
    "Peyton": "Trevor",
    "January": "July",
    "February": "August",
    "March": "September",
    "April": "October",
    "May": "November",
    "June": "December",
    "July": "January",
    "August": "February",
    "September": "March",
    "October": "April",
    "November": "May",
    "December": "June",
    "Monday": "Friday",
    "Tuesday": "Saturday",
    "Wednesday": "Sunday",
    "Thursday": "Monday",
    "Friday": "Tuesday",
    "Saturday": "Wednesday",
    "Sunday": "Thursday",
    "first": "last",
    "last": "first",
    "earliest": "latest",
    "latest": "earliest",
    "north": "south",
    "south": "north",
    "east": "west",
    "west": "east",
    "northern": "southern",
    "southern": "northern",
    "eastern": "western",
    "western": "eastern",
    "before": "after",
    "after": "before",
    "largest": "smallest",
    "smallest": "largest",
    "biggest": "smallest",
    "highest": "lowest",
    "lowest": "highest",
    "most": "least",
    "least": "most",
    "best": "worst",
    "worst": "best",
    "longest": "shortest",
    "shortest": "longest",
    "oldest": "youngest",
    "youngest": "oldest",
    "more": "less",
    "less": "more",
    "fewer": "more",
    "larger": "smaller",
    "smaller": "larger",
    "higher": "lower",
    "lower": "higher",
    "early": "late",
    "late": "early",
    "left": "right",
    "right": "left",
    "top": "bottom",
    "bottom": "top",
    "upper": "lower",
}
#: Jia & Liang's ``alter_entity_type``: a named entity with no typed neighbour
ENTITY_FALLBACK = {
    "PERSON": ("Jackson", "Ramirez", "Okafor"),
    "GPE": ("California", "Ontario", "Bavaria"),
    "LOC": ("California", "Ontario", "Bavaria"),
    "FAC": ("California", "Ontario", "Bavaria"),
    "ORG": ("Stark Industries", "Acme Holdings", "Globex"),
    "NORP": ("Jupiterian", "Venusian"),
}
_ENTITY_LABELS = frozenset(
    {"PERSON", "GPE", "LOC", "FAC", "ORG", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
_ANTONYM_TAGS = {"NN": "n", "NNS": "n", "JJ": "a"}
#: nouns of wh-phrases ("what kind of", "what year"), which the answer replaces: not worth mutating
_WH_NOUNS = frozenset(
    {
        "kind",
        "type",
        "sort",
        "form",
        "name",
        "year",
        "date",
        "day",
        "month",
        "century",
        "decade",
        "time",
        "percentage",
        "percent",
        "number",
        "amount",
        "part",
        "example",
    }
)
_DEGREE = frozenset({"most", "least", "more", "less", "fewer"})
#: the most words rule 6 changes in one question
NEARBY_WORDS = 2
_CAPITALISED = frozenset(k.lower() for k in SPECIAL if k[:1].isupper())


_ROMAN = re.compile(r"^[IVXLCDM]+$")  # "Harold II", "Super Bowl XLVII": not words GloVe can replace


def _in_wh_amount(tok) -> bool:
    """ "many" / "much" of "how many": part of the wh-phrase, which the answer replaces."""
    return tok.lower_ in ("many", "much") and tok.i > 0 and tok.doc[tok.i - 1].lower_ == "how"


def token_label(tok) -> str:
    """The type a token is matched on: its fine POS tag outside named entities; inside one, the entity
    label, marked ``+`` for a word of a multi-word entity ("Chicago" is GPE, "United" of "United
    States" is GPE+), so that a city is replaced by a city, not by half of a country's name."""
    if tok.ent_type_ not in _ENTITY_LABELS:
        return tok.tag_
    doc = tok.doc
    single = tok.ent_iob_ == "B" and (tok.i + 1 == len(doc) or doc[tok.i + 1].ent_iob_ != "I")
    return tok.ent_type_ if single else tok.ent_type_ + "+"


class TypedLexicon:
    """How often each lower-cased word was tagged with each label in the run's parsed documents."""

    def __init__(self) -> None:
        self._counts: dict = {}  # word -> {label: count}, plain dicts: this runs over every token of the run

    def add(self, docs: Iterable) -> None:
        counts = self._counts
        for doc in docs:
            for tok in doc:
                if tok.is_alpha:
                    labels = counts.setdefault(tok.lower_, {})
                    label = token_label(tok)
                    labels[label] = labels.get(label, 0) + 1

    def label(self, word: str) -> Optional[str]:
        """The most frequent label of ``word`` (lower case; ties: the label seen first), or ``None`` when
        the documents never had it."""
        counts = self._counts.get(word)
        return max(counts, key=counts.__getitem__) if counts else None


class NearestWords:
    """Nearest GloVe words by cosine, over the ``vocab_size`` most frequent words, cached per run.

    ``prepare(words)`` runs one batched :func:`~textadv.analysis.neighbours.cosine_topk` for the words
    not seen yet; ``of(word)`` returns its ``k`` neighbours (nearest first), ``()`` for a word outside
    the vocabulary.
    """

    def __init__(self, table, *, vocab_size: int = 100_000, k: int = 20):
        from ..analysis.neighbours import normalize_rows

        if vocab_size <= k:
            raise ValueError(f"the GloVe vocabulary ({vocab_size} words) must be larger than k={k} neighbours")
        size = min(vocab_size, table.shape[0])
        self.vocab = table.vocab[:size]
        self._rows = {w: i for i, w in enumerate(self.vocab)}
        self._matrix = normalize_rows(table.matrix[:size])  # [V, D] unit rows, computed once per run
        self.k = k
        self._cache: dict = {}

    @classmethod
    def glove(cls, *, vocab_size: int = 100_000, k: int = 20) -> "NearestWords":
        """Over the packaged GloVe 6B 50d (shared/ASSETS.md)."""
        from ..analysis.sources import glove_table

        return cls(glove_table(), vocab_size=vocab_size, k=k)

    def prepare(self, words: Iterable[str]) -> None:
        from ..analysis.neighbours import cosine_topk

        todo = sorted({w.lower() for w in words} - self._cache.keys())
        rows = [self._rows[w] for w in todo if w in self._rows]
        for w in todo:
            if w not in self._rows:
                self._cache[w] = ()
        if rows:
            top = cosine_topk(self._matrix, self._matrix[rows], self.k, exclude=rows, normalized=True)
            for r, idx in zip(rows, top.indices.tolist()):
                self._cache[self.vocab[r]] = tuple(self.vocab[i] for i in idx)

    def of(self, word: str) -> tuple:
        word = word.lower()
        if word not in self._cache:
            self.prepare([word])
        return self._cache[word]


@dataclass(frozen=True)
class Alternatives:
    """The replacements of one question token, best first, and the rule that gave them."""

    index: int
    words: tuple
    rule: str


class QuestionMutator:
    """Alternatives for every mutable token of a parsed question (the rules of the module docstring).

    ``nearest`` may be ``None`` (no GloVe rules); ``lexicon`` types the neighbours.
    """

    def __init__(self, nearest: Optional[NearestWords], lexicon: TypedLexicon, *, cache_dir=None):
        self.nearest, self.lexicon, self._cache_dir = nearest, lexicon, cache_dir
        self._antonyms: dict = {}
        self._senses: dict = {}  # (lemma, pos) -> WordNet synsets, per run
        self._stems: dict = {}
        self._morphy: dict = {}
        self._wordnet = None
        self._stem = None

    # -- resources loaded at first use
    def _wn(self):
        if self._wordnet is None:
            from ..text.wordnet import wordnet_reader

            self._wordnet = wordnet_reader(self._cache_dir)
        return self._wordnet

    def stem(self, word: str) -> str:
        """The Porter stem of a lower-case word, memoised for the run."""
        if self._stem is None:
            from nltk.stem import PorterStemmer

            self._stem = PorterStemmer().stem
        got = self._stems.get(word)
        if got is None:
            got = self._stems[word] = self._stem(word)
        return got

    def _synsets(self, lemma: str, pos: str) -> list:
        key = (lemma, pos)
        if key not in self._senses:
            self._senses[key] = self._wn().synsets(lemma, pos=pos)
        return self._senses[key]

    def morphy(self, word: str, pos: str) -> Optional[str]:
        """WordNet's base form of ``word`` as ``pos`` ("n", "v", "a"), or ``None``; memoised for the run."""
        key = (word, pos)
        if key not in self._morphy:
            self._morphy[key] = self._wn().morphy(word, pos)
        return self._morphy[key]

    def is_verb(self, word: str) -> bool:
        """Whether ``word`` is a WordNet verb lemma (rescues "did the war end/NN" in the declarative rules)."""
        return self.morphy(word, "v") == word

    def antonyms(self, lemma: str, pos: str) -> tuple:
        """Single-word antonyms of the first WordNet sense of ``lemma`` (Jia & Liang's choice of sense)."""
        key = (lemma, pos)
        if key not in self._antonyms:
            synsets = self._synsets(lemma, pos)
            found = []
            if synsets:
                for lem in synsets[0].lemmas():
                    for ant in lem.antonyms():
                        if ant.name().isalpha() and ant.name() not in found:
                            found.append(ant.name())
            self._antonyms[key] = tuple(found)
        return self._antonyms[key]

    def label(self, tok) -> str:
        """The token's type: the entity label the run's text gives the word most often, when it has one
        (a question is short and its own entity label less reliable: "Tesla" is a PERSON in the
        paragraphs, an ORG in "What did Tesla invent?"), else :func:`token_label`."""
        own = token_label(tok)
        if tok.ent_type_ in _ENTITY_LABELS or tok.tag_ in ("NNP", "NNPS"):
            known = self.lexicon.label(tok.lower_)
            if known is not None and known.rstrip("+") in _ENTITY_LABELS:
                multi = own.endswith("+")  # keep the token's own whole-or-part marking
                return known.rstrip("+") + ("+" if multi else "")
        return own

    def targets(self, doc) -> list:
        """The lower-cased words of ``doc`` whose GloVe neighbours the rules may ask for."""
        return [t.lower_ for t in doc if self._wants_neighbours(t) or (t.tag_ in _ANTONYM_TAGS and t.is_alpha)]

    @staticmethod
    def _wants_neighbours(tok) -> bool:
        return tok.tag_ == "CD" or tok.tag_ in ("NNP", "NNPS") or (tok.ent_type_ in _ENTITY_LABELS and tok.is_alpha)

    def alternatives(self, doc) -> list:
        """:class:`Alternatives` for each token some rule changes, in token order.

        A multi-word entity none of whose words has a typed neighbour becomes one fallback word (its
        other words, leading determiners kept, are deleted); in one where some words change by another
        rule, the others keep their text ("United States" -> "United Kingdom", not "California Kingdom");
        a neighbour that is already a word of the question is skipped ("Santa Clara" must not become
        "Clara Clara").
        """
        own = {t.lower_ for t in doc}
        found: dict = {}
        for tok in doc:
            if tok.is_punct or tok.tag_ in ("WDT", "WP", "WP$", "WRB") or _in_wh_amount(tok) or _ROMAN.match(tok.text):
                continue
            got = self._for_token(tok, own)
            if got is not None:
                found[tok.i] = got
        for i, (words, rule) in list(found.items()):  # "most important" -> "least important", not
            if rule == "special" and doc[i].lower_ in _DEGREE and found.get(i + 1, ((), ""))[1] == "antonym":
                del found[i + 1]  # "least unimportant": two flips cancel
        if not found:  # rule 6, for at most NEARBY_WORDS words, nouns after the question's first verb first
            verbs = [t.i for t in doc if t.tag_.startswith("VB") or t.tag_ == "MD"]
            first_verb = verbs[0] if verbs else -1
            for tok in sorted(doc, key=lambda t: (t.i < first_verb, not t.tag_.startswith("NN"), t.i)):
                got = self._nearby_word(tok, own)
                if got is not None:
                    found[tok.i] = got
                if len(found) == NEARBY_WORDS:
                    break
        for ent in doc.ents:
            words = [t for t in ent if t.tag_ not in ("DT", "IN", "CC", "POS") and not t.is_punct]
            if len(words) < 2:
                continue
            rules = [found.get(t.i, (None, ""))[1] for t in words]
            if all(r == "entity-type" for r in rules):  # "Guo Shoujing" -> "Jackson"
                for t in ent:
                    if t.i > words[0].i:
                        found[t.i] = (("",), "entity-type")
                after = ent.end < len(doc) and doc[ent.end].tag_.startswith("NN")
                if ent.start > 0 and doc[ent.start - 1].lower_ == "the" and ent[0].i == words[0].i and not after:
                    found[ent.start - 1] = (("",), "entity-type")  # "the Democratic Republic of X" -> "California"
            elif any(r not in ("entity-type", "") for r in rules):  # "United States" -> "United Kingdom"
                for t in words:
                    if found.get(t.i, (None, ""))[1] == "entity-type":
                        del found[t.i]
        for i, (words, rule) in list(found.items()):
            ends_phrase = i + 1 == len(doc) or not doc[i + 1].tag_.startswith("NN")  # not "the Apollo program"
            if (
                rule == "entity-type"
                and words[0]
                and ends_phrase
                and i > 0
                and doc[i - 1].lower_ == "the"
                and i - 1 not in found
            ):
                found[i - 1] = (("",), "entity-type")  # "the Mongols" -> "Jackson", not "the Jackson"
        return [
            Alternatives(i, tuple(_match_case(doc[i].text, w) for w in words), rule)
            for i, (words, rule) in sorted(found.items())
        ]

    def _for_token(self, tok, own: set) -> Optional[tuple]:
        if tok.tag_.startswith("VB"):
            return None  # verbs keep their meaning ("left" the verb is not "right"); the rules change names
        special = SPECIAL.get(tok.text) or (
            SPECIAL.get(tok.lower_) if tok.lower_ == tok.text.lower() and tok.lower_ not in _CAPITALISED else None
        )
        if special:
            return (special,), "special"
        in_entity = tok.ent_type_ in _ENTITY_LABELS
        pos = _ANTONYM_TAGS.get(tok.tag_)
        if pos and not in_entity and tok.is_alpha:
            ants = self.antonyms(tok.lemma_.lower(), pos)
            if ants:
                return tuple(plural(a) if tok.tag_ == "NNS" else a for a in ants), "antonym"
        if tok.tag_ == "CD" or tok.like_num:
            near = self._numbers(tok.lower_)
            return (near, "nearby-number") if near else None
        if self._wants_neighbours(tok) and tok.tag_ not in ("DT", "IN", "CC", "POS"):
            near = tuple(n for n in self._typed_neighbours(tok) if n not in own)
            if near:
                return near, "nearby-entity"
            fallback = ENTITY_FALLBACK.get(self.label(tok).rstrip("+"))
            if fallback and tok.is_alpha:
                return fallback, "entity-type"  # a second entity of the type takes the second word
            if tok.tag_ in ("NNP", "NNPS") and tok.is_alpha and not tok.ent_type_:
                near = tuple(n for n in self._typed_neighbours(tok, any_type=True) if n not in own)
                if near:  # Jia & Liang's second proper-noun rule: nearest words of any type
                    return near, "nearby-proper-noun"
        return None

    def _nearby_word(self, tok, own: set) -> Optional[tuple]:
        pos = _ANTONYM_TAGS.get(tok.tag_)
        if not pos or not tok.is_alpha or tok.is_stop or tok.ent_type_ or tok.lemma_.lower() in _WH_NOUNS:
            return None
        near = tuple(
            n for n in self._typed_neighbours(tok, wordnet_pos=pos) if n not in own and not self._synonym(tok, n, pos)
        )
        return (near, "nearby-word") if near else None

    def _has_pos(self, word: str, pos: str, *, plural: bool) -> bool:
        base = self.morphy(word, pos)
        return base is not None and (base != word) == plural

    def _synonym(self, tok, word: str, pos: str) -> bool:
        """Whether ``word`` names the first WordNet sense of the token (a neighbour that would keep the meaning)."""
        synsets = self._synsets(tok.lemma_.lower(), pos)
        base = self.morphy(word, pos)
        return bool(synsets) and any(lem.name().lower() in (word, base) for lem in synsets[0].lemmas())

    def _numbers(self, word: str) -> tuple:
        if self.nearest is None:
            return ()
        digits = word.replace(",", "")
        same = []
        for n in self.nearest.of(word):
            if digits.isdigit():  # same length, no leading zero the number did not have ("2100" -> not "0600")
                ok = n.isdigit() and len(n) == len(digits) and n != digits and (n[0] != "0" or digits[0] == "0")
            else:  # a number word: its neighbours that the run's text tags as numbers ("three" -> "four")
                ok = n.isalpha() and self.lexicon.label(n) == "CD" and n != word
            if ok:
                same.append(n)
        return tuple(same)

    def _typed_neighbours(self, tok, wordnet_pos: Optional[str] = None, any_type: bool = False) -> tuple:
        """Neighbours the lexicon tags like ``tok``; with ``wordnet_pos``, a word the lexicon never saw
        passes when WordNet has it with that part of speech (and, for a plural, is a plural form)."""
        if self.nearest is None:
            return ()
        label = self.label(tok)
        stem = self.stem
        own = stem(tok.lower_)
        kept = []
        for n in self.nearest.of(tok.lower_):
            if not (n.isalpha() and n.isascii()):
                continue
            known = self.lexicon.label(n)
            if any_type:  # any proper noun or entity word, never a function word ("report" -> "according")
                if known is not None and known.rstrip("+") not in _ENTITY_LABELS | {"NNP", "NNPS"}:
                    continue
            elif known is None and wordnet_pos is not None:
                if not self._has_pos(n, wordnet_pos, plural=label == "NNS"):
                    continue
            elif known != label:
                continue
            other = stem(n)
            if own.startswith(other) or other.startswith(own):
                continue  # the same word in another form ("french" / "france" is kept, "tesla's" is not)
            kept.append(n)
        return tuple(kept)


def choose(alternatives: Iterable[Alternatives], variant: int) -> Mapping[int, str]:
    """Replacements (token index → word) taking each token's ``variant``-th alternative (its last if fewer).

    Two tokens never get the same neighbour ("Super Bowl" must not become "Cup Cup"): a token whose
    pick is taken moves on to its next unused alternative, or keeps the taken one when it has none.
    """
    out: dict = {}
    used: set = set()
    for a in alternatives:
        pick = min(variant, len(a.words) - 1)
        if a.rule.startswith("nearby") or a.rule == "entity-type":
            free = [k for k in range(pick, len(a.words)) if a.words[k] not in used]
            pick = free[0] if free else pick
        word = a.words[pick]
        if a.rule == "entity-type" and word and out.get(a.index - 1) == word:
            word = ""  # two neighbouring entities both became "Stark Industries": say it once
        out[a.index] = word
        used.add(word)
    return out


def _match_case(model: str, word: str) -> str:
    """GloVe words are lower case: "NFL" -> "NBA", "Tesla" -> "Edison"."""
    if not word.islower():
        return word  # a fixed replacement ("Stark Industries", "UK") keeps its own case
    if model.isupper() and len(model) > 1 and model.isalpha():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
