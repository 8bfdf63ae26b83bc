"""Side-by-side neighbour comparisons across embedding sources (Miyato et al. 2017, Table 3; PAPERS.md §7).

Miyato et al. show that adversarial training pushes antonyms apart: under plain training "bad" is
the 3rd cosine neighbour of "good", after AT/VAT the 19th/21st. For any number of sources (GloVe,
Hugging Face models, checkpoints trained with none/AT/VAT) this module computes

- the top-k neighbours of the same query words in each source, with their cosines;
- the rank (1-based, among all vocabulary rows except the query's own) and cosine of named pairs
  such as ``good → bad``;
- the antonym intrusion rate: over WordNet antonym pairs, in both directions, the fraction of
  queries whose antonym is among its top-k neighbours.

Neighbour order is :func:`~textadv.analysis.neighbours.cosine_topk`'s: cosine descending, equal
cosines by lower row index; ranks use the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch

from .neighbours import cosine_topk, normalize_rows, rank_of
from .sources import EmbeddingTable, Query


@dataclass(frozen=True)
class SourceInfo:
    name: str
    kind: str
    space: str
    source: str
    vocab_size: int
    dim: int


@dataclass(frozen=True)
class Neighbour:
    word: str
    row: int
    cosine: float


@dataclass(frozen=True)
class QueryNeighbours:
    """The neighbours of one query word in one source; ``neighbours`` is empty when the word is unknown."""

    source: str
    word: str
    label: str
    status: str  # "word" | "pieces" | "unknown"
    neighbours: tuple


@dataclass(frozen=True)
class PairRank:
    """Where ``other`` sits among the neighbours of ``word`` in one source.

    ``rank`` is 1-based among all vocabulary rows except ``word``'s own row; ``None`` when either
    word is unknown, or ``other`` is a mean of pieces (not a row, so it has no rank), or both
    resolve to the same row. ``note`` says which.
    """

    source: str
    word: str
    other: str
    rank: Optional[int]
    cosine: Optional[float]
    note: str = ""


@dataclass(frozen=True)
class IntrusionRate:
    """How often an antonym is among the top-``k`` neighbours: ``hits / queries`` (both directions per pair)."""

    source: str
    k: int
    pairs: int
    queries: int
    hits: int
    rate: float
    intruders: tuple  # ((word, antonym, rank), ...) for every hit, in pair order


@dataclass(frozen=True)
class Comparison:
    """Everything a neighbour report shows; ``neighbours[i]`` holds one :class:`QueryNeighbours` per source."""

    k: int
    exclude_self: bool
    sources: tuple  # SourceInfo per source
    words: tuple
    neighbours: tuple  # per word: tuple of QueryNeighbours, in source order
    pairs: tuple  # per named pair: tuple of PairRank, in source order
    antonyms: tuple  # IntrusionRate per source (empty when not asked)
    antonym_pairs: tuple  # the WordNet pairs the rates were measured on


def _check_k(table: EmbeddingTable, k: int, exclude_self: bool) -> None:
    available = table.shape[0] - (1 if exclude_self else 0)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > available:
        raise ValueError(
            f"k={k} is larger than the {available} neighbours a word can have in {table.name!r} "
            f"({table.shape[0]} vocabulary rows)"
        )


def query_neighbours(
    table: EmbeddingTable,
    words: Sequence[str],
    k: int,
    *,
    exclude_self: bool = True,
    unit_matrix: Optional[torch.Tensor] = None,
) -> list:
    """:class:`QueryNeighbours` for each of ``words`` (unknown words included, with no neighbours).

    ``unit_matrix`` is ``normalize_rows(table.matrix)`` when the caller already has it.
    """
    if not words:
        raise ValueError("the query word list is empty; pass at least one word")
    _check_k(table, k, exclude_self)
    m = normalize_rows(table.matrix) if unit_matrix is None else unit_matrix
    queries = [table.resolve(w) for w in words]
    known = [q for q in queries if q.status != "unknown"]
    found: dict = {}
    if known:
        vectors = np.stack([table.vector(q) for q in known])  # [Q, D]
        exclude = [q.self_row if exclude_self else -1 for q in known]
        top = cosine_topk(m, vectors, k, exclude=exclude, normalized=True)
        for q, idx, cos in zip(known, top.indices.tolist(), top.scores.tolist()):
            found[q.word] = tuple(Neighbour(table.vocab[i], i, float(c)) for i, c in zip(idx, cos))
    return [QueryNeighbours(table.name, q.word, q.label, q.status, found.get(q.word, ())) for q in queries]


def pair_rank(
    table: EmbeddingTable,
    word: str,
    other: str,
    *,
    exclude_self: bool = True,
    unit_matrix: Optional[torch.Tensor] = None,
) -> PairRank:
    """Rank and cosine of ``other`` among the neighbours of ``word`` (see :class:`PairRank`)."""
    m = normalize_rows(table.matrix) if unit_matrix is None else unit_matrix
    qa, qb = table.resolve(word), table.resolve(other)
    missing = [q.label for q in (qa, qb) if q.status == "unknown"]
    if missing:
        return PairRank(table.name, word, other, None, None, "unknown: " + ", ".join(missing))
    va, vb = table.vector(qa), table.vector(qb)
    cosine = float(normalize_rows(va[None])[0] @ normalize_rows(vb[None])[0])
    if len(qb.rows) != 1:
        return PairRank(table.name, word, other, None, cosine, f"{qb.label} is not a vocabulary row")
    exclude = qa.self_row if exclude_self else -1
    if qb.rows[0] == exclude:
        return PairRank(table.name, word, other, None, cosine, f"{other} and {word} are the same row")
    rank, cosine = rank_of(m, va, qb.rows[0], exclude=exclude, normalized=True)
    return PairRank(table.name, word, other, rank, cosine, "" if qa.status == "word" else qa.label)


def intrusion_rate(
    table: EmbeddingTable, pairs: Sequence[tuple], k: int, *, unit_matrix: Optional[torch.Tensor] = None
) -> IntrusionRate:
    """Antonym intrusion rate at ``k`` over ``pairs`` (both words must be rows of ``table``).

    Each pair ``(a, b)`` gives two queries: is ``b`` among the top-``k`` of ``a`` (the query's own
    row excluded), and ``a`` among those of ``b``.
    """
    if not pairs:
        raise ValueError(f"no antonym pairs to measure in {table.name!r}")
    _check_k(table, k, True)
    m = normalize_rows(table.matrix) if unit_matrix is None else unit_matrix
    words, antonyms = [], []
    for a, b in pairs:
        words += [a, b]
        antonyms += [b, a]
    rows = [table.row(w) for w in words]
    targets = [table.row(w) for w in antonyms]
    if any(r is None for r in rows):
        lost = sorted({w for w, r in zip(words, rows) if r is None})
        raise ValueError(f"antonym words missing from {table.name!r}: {lost[:5]}")
    top = cosine_topk(m, m[rows], k, exclude=rows, normalized=True).indices  # [2P, k]
    position = top == torch.tensor(targets)[:, None]  # [2P, k]
    hit = position.any(dim=1)
    ranks = position.int().argmax(dim=1) + 1
    intruders = tuple((words[i], antonyms[i], int(ranks[i])) for i in torch.nonzero(hit).flatten().tolist())
    hits = int(hit.sum())
    return IntrusionRate(table.name, k, len(pairs), len(words), hits, hits / len(words), intruders)


def compare(
    tables: Sequence[EmbeddingTable],
    words: Sequence[str],
    k: int = 10,
    *,
    pairs: Sequence[tuple] = (),
    antonym_pairs: Optional[Sequence[tuple]] = None,
    exclude_self: bool = True,
) -> Comparison:
    """Neighbours of ``words``, ranks of named ``pairs`` and (when ``antonym_pairs`` is given) the
    antonym intrusion rate, for every table side by side. Each matrix is normalised once."""
    if not tables:
        raise ValueError("no embedding sources to compare")
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ValueError(f"source names must be unique, got {names}; label them with --names")
    if not words:
        raise ValueError("the query word list is empty; pass at least one word")
    for t in tables:
        _check_k(t, k, exclude_self)
    if antonym_pairs is not None and not antonym_pairs:
        raise ValueError("none of the antonym pairs has both words in every vocabulary")
    per_source, per_pair, rates = [], [], []
    for t in tables:
        unit = normalize_rows(t.matrix)
        per_source.append(query_neighbours(t, words, k, exclude_self=exclude_self, unit_matrix=unit))
        per_pair.append([pair_rank(t, a, b, exclude_self=exclude_self, unit_matrix=unit) for a, b in pairs])
        if antonym_pairs is not None:
            rates.append(intrusion_rate(t, antonym_pairs, k, unit_matrix=unit))
    return Comparison(
        k=k,
        exclude_self=exclude_self,
        sources=tuple(SourceInfo(t.name, t.kind, t.space, t.source, t.shape[0], t.shape[1]) for t in tables),
        words=tuple(words),
        neighbours=tuple(tuple(s[i] for s in per_source) for i in range(len(words))),
        pairs=tuple(tuple(s[i] for s in per_pair) for i in range(len(pairs))),
        antonyms=tuple(rates),
        antonym_pairs=tuple(tuple(p) for p in (antonym_pairs or ())),
    )


__all__ = [
    "Comparison",
    "IntrusionRate",
    "Neighbour",
    "PairRank",
    "Query",
    "QueryNeighbours",
    "SourceInfo",
    "compare",
    "intrusion_rate",
    "pair_rank",
    "query_neighbours",
]
