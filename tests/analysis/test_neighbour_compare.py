"""Comparisons: pair ranks agree with neighbour lists, WordNet antonyms, the intrusion rate."""

import numpy as np
import pytest

from textadv.analysis.antonyms import pairs_in_vocabularies
from textadv.analysis.compare import compare, intrusion_rate, pair_rank, query_neighbours
from textadv.analysis.neighbours import normalize_rows
from textadv.analysis.sources import EmbeddingTable


def toy_table(name="toy", seed=0, v=60, d=6):
    rng = np.random.default_rng(seed)
    vocab = ("good", "bad", "hot", "cold", "big", "little") + tuple(f"w{i}" for i in range(v - 6))
    return EmbeddingTable(name, rng.normal(size=(v, d)).astype(np.float32), vocab, "npy")


def test_pair_rank_is_the_position_in_the_neighbour_list(glove):
    unit = normalize_rows(glove.matrix)
    (good,) = query_neighbours(glove, ["good"], 20, unit_matrix=unit)
    for position, n in enumerate(good.neighbours, start=1):
        pr = pair_rank(glove, "good", n.word, unit_matrix=unit)
        assert pr.rank == position and pr.cosine == pytest.approx(n.cosine, abs=1e-6)
    bad = pair_rank(glove, "good", "bad", unit_matrix=unit)
    assert bad.rank > 20  # not in the top 20 listed above, and ranked consistently with it


def test_pair_rank_notes():
    t = toy_table()
    assert pair_rank(t, "good", "nonword").rank is None and "unknown" in pair_rank(t, "good", "nonword").note
    assert pair_rank(t, "good", "good").note == "good and good are the same row"


def test_wordnet_antonyms_include_good_bad_and_hot_cold(adjective_antonyms):
    assert ("bad", "good") in adjective_antonyms and ("cold", "hot") in adjective_antonyms
    assert adjective_antonyms == sorted(set(adjective_antonyms))
    assert all(a < b and a.isalpha() and b.isalpha() for a, b in adjective_antonyms)


def test_pairs_filtered_to_every_vocabulary_and_seeded_cap(adjective_antonyms, glove):
    t = toy_table()
    kept = pairs_in_vocabularies(adjective_antonyms, [t, glove])
    assert kept == [("bad", "good"), ("big", "little"), ("cold", "hot")]
    sample = pairs_in_vocabularies(adjective_antonyms, [glove], limit=50, seed=3)
    assert len(sample) == 50 and sample == pairs_in_vocabularies(adjective_antonyms, [glove], limit=50, seed=3)
    assert sample != pairs_in_vocabularies(adjective_antonyms, [glove], limit=50, seed=4)


def test_intrusion_rate_counts_planted_antonyms():
    t = toy_table(v=40, d=8)
    m = t.matrix.copy()
    m[1] = m[0] + 1e-3  # "bad" is good's nearest neighbour and vice versa
    m[3] = -m[2]  # "cold" is the farthest row from "hot"
    t = EmbeddingTable("toy", m, t.vocab, "npy")
    rate = intrusion_rate(t, [("bad", "good"), ("cold", "hot")], 3)
    assert (rate.queries, rate.hits, rate.rate) == (4, 2, 0.5)
    assert rate.intruders == (("bad", "good", 1), ("good", "bad", 1))
    # the same count from the neighbour lists
    lists = {q.word: [n.word for n in q.neighbours] for q in query_neighbours(t, ["good", "bad", "hot", "cold"], 3)}
    assert ("bad" in lists["good"], "good" in lists["bad"], "cold" in lists["hot"], "hot" in lists["cold"]) == (
        True,
        True,
        False,
        False,
    )


def test_compare_side_by_side_and_validation():
    a, b = toy_table("a", seed=0), toy_table("b", seed=1)
    c = compare([a, b], ["good", "nonword"], 4, pairs=[("good", "bad")], antonym_pairs=[("bad", "good")])
    assert [s.name for s in c.sources] == ["a", "b"]
    assert [q.source for q in c.neighbours[0]] == ["a", "b"] and c.neighbours[1][0].status == "unknown"
    assert c.pairs[0][1].rank == pair_rank(b, "good", "bad").rank
    with pytest.raises(ValueError, match="names must be unique"):
        compare([a, toy_table("a", seed=2)], ["good"], 3)
    with pytest.raises(ValueError, match="query word list is empty"):
        compare([a], [], 3)
    with pytest.raises(ValueError, match="k=60 is larger than the 59"):
        compare([a], ["good"], 60)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        compare([a], ["good"], 0)
    with pytest.raises(ValueError, match="none of the antonym pairs"):
        compare([a], ["good"], 3, antonym_pairs=[])
