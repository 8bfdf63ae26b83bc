"""WordNet antonym pairs for the antonym intrusion rate (Miyato et al. 2017, Table 3; PAPERS.md §7).

Pairs come from ``lemma.antonyms()`` of WordNet 3.0 (through NLTK's reader over the packaged files,
:func:`textadv.text.wordnet.ensure_wordnet`, copied at first use, never at import). Only single
words (no multi-word lemmas such as ``ice_cream``) present in every compared vocabulary are kept.
"""

from __future__ import annotations

import os
from typing import Iterable, Optional, Sequence

# WordNet part-of-speech tags: adjectives are "a" (head) and "s" (satellite).
ADJECTIVES = ("a", "s")
ALL_POS = ("a", "s", "n", "v", "r")


def wordnet_antonym_pairs(pos: Sequence[str] = ADJECTIVES, *, cache_dir: Optional[os.PathLike] = None) -> list:
    """All WordNet antonym pairs ``(a, b)`` with ``a < b`` among lemmas of the parts of speech ``pos``.

    Sorted; single-word lemmas only (a lemma with ``_`` or ``-`` or a space is skipped). Words keep
    WordNet's spelling (lower case except proper names).
    """
    from ..text.wordnet import ensure_wordnet

    unknown = set(pos) - set(ALL_POS)
    if not pos or unknown:
        raise ValueError(f"pos must be a non-empty subset of {ALL_POS}, got {tuple(pos)}")
    ensure_wordnet(cache_dir)
    from nltk.corpus import wordnet

    pairs = set()
    for p in pos:
        for synset in wordnet.all_synsets(p):
            for lemma in synset.lemmas():
                for antonym in lemma.antonyms():
                    a, b = lemma.name(), antonym.name()
                    if a != b and _single_word(a) and _single_word(b):
                        pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


def _single_word(word: str) -> bool:
    return word.isalpha()


def pairs_in_vocabularies(
    pairs: Iterable[tuple], vocabularies: Sequence, *, limit: Optional[int] = None, seed: int = 0
) -> list:
    """The pairs whose two words are rows of every vocabulary (each supports ``row(word)``), sorted.

    ``limit`` keeps a seeded random sample of that many pairs (sorted again), so a capped run is
    reproducible and not biased towards the start of the alphabet.
    """
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be a positive number of antonym pairs, got {limit}")
    kept = sorted(
        p for p in set(pairs) if all(v.row(p[0]) is not None and v.row(p[1]) is not None for v in vocabularies)
    )
    if limit is not None and len(kept) > limit:
        import numpy as np

        chosen = np.random.default_rng(seed).choice(len(kept), size=limit, replace=False)
        kept = sorted(kept[i] for i in chosen)
    return kept
