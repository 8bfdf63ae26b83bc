"""Exact cosine top-k: agreement with brute force, deterministic ties, ranks, validation."""

import numpy as np
import pytest
import torch

from textadv.analysis.neighbours import cosine_topk, normalize_rows, rank_of


def brute_force(matrix, queries, k, exclude):
    """Reference: float64 cosines of the float32-normalised rows, sorted by (cosine desc, row asc)."""
    m = normalize_rows(matrix).numpy().astype(np.float64)
    q = normalize_rows(queries).numpy().astype(np.float64)
    scores = q @ m.T  # [Q, V]
    for i, e in enumerate(exclude):
        if e >= 0:
            scores[i, e] = -np.inf
    rows = np.arange(m.shape[0])
    order = np.stack([np.lexsort((rows, -s))[:k] for s in scores])
    return order, np.take_along_axis(scores, order, 1)


@pytest.mark.parametrize("vocab_chunk,query_block", [(13, 45), (64, 17), (333, 1000), (1000, 3), (4096, 64)])
def test_topk_matches_brute_force(vocab_chunk, query_block):
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(1003, 24)).astype(np.float32)  # V not a multiple of any chunk size
    rows = rng.choice(1003, size=40, replace=False)
    queries = np.concatenate([matrix[rows], rng.normal(size=(5, 24)).astype(np.float32)])
    exclude = list(rows) + [-1] * 5
    top = cosine_topk(matrix, queries, 9, exclude=exclude, vocab_chunk=vocab_chunk, query_block=query_block)
    ref_idx, ref_cos = brute_force(matrix, queries, 9, exclude)
    np.testing.assert_array_equal(top.indices.numpy(), ref_idx)
    np.testing.assert_allclose(top.scores.numpy(), ref_cos, atol=1e-6)
    for i, r in enumerate(rows):
        assert r not in top.indices[i].tolist()  # the query word itself is excluded


def tied_matrix(seed=0, v=301, patterns=12):
    """Rows drawn from a few unit vectors with entries in {0, ±0.5}: every cosine is a multiple of 1/4
    computed exactly in float32 in any summation order, so many cosines are exactly equal."""
    rng = np.random.default_rng(seed)
    base = np.zeros((patterns, 8), dtype=np.float32)
    for p in range(patterns):
        base[p, rng.choice(8, size=4, replace=False)] = rng.choice([-0.5, 0.5], size=4)
    return base[rng.integers(0, patterns, size=v)]


@pytest.mark.parametrize("vocab_chunk", [5, 10, 64, 301, 1024])
def test_exact_ties_are_ordered_by_lower_row_index(vocab_chunk):
    matrix = tied_matrix()
    queries = matrix[:30]
    exclude = list(range(30))
    top = cosine_topk(matrix, queries, 25, exclude=exclude, vocab_chunk=vocab_chunk, query_block=7)
    ref_idx, ref_cos = brute_force(matrix, queries, 25, exclude)
    assert (np.diff(ref_cos, axis=1) == 0).sum() > 100  # the case really has ties, across the k-th place too
    np.testing.assert_array_equal(top.indices.numpy(), ref_idx)
    np.testing.assert_array_equal(top.scores.numpy(), ref_cos.astype(np.float32))


def test_k_equal_to_all_other_rows_returns_a_permutation():
    matrix = tied_matrix(seed=3, v=40)
    top = cosine_topk(matrix, matrix[:4], 39, exclude=[0, 1, 2, 3], vocab_chunk=6)
    for i in range(4):
        assert sorted(top.indices[i].tolist()) == [r for r in range(40) if r != i]
    assert cosine_topk(matrix, matrix[:1], 40, vocab_chunk=6).indices.shape == (1, 40)  # self included: all rows


def test_rank_of_agrees_with_topk_order():
    rng = np.random.default_rng(2)
    matrix = np.concatenate([rng.normal(size=(200, 16)), tied_matrix(v=200).repeat(2, axis=1)]).astype(np.float32)
    for q in (0, 7, 250, 399):
        top = cosine_topk(matrix, matrix[q : q + 1], 15, exclude=[q], vocab_chunk=37)
        for position, (row, cos) in enumerate(zip(top.indices[0].tolist(), top.scores[0].tolist()), start=1):
            rank, cosine = rank_of(matrix, matrix[q], row, exclude=q)
            assert rank == position
            assert cosine == pytest.approx(cos, abs=1e-6)


def test_zero_rows_have_cosine_zero_and_are_kept():
    matrix = np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    top = cosine_topk(matrix, matrix[:1], 3, exclude=[0])
    assert top.indices[0].tolist() == [3, 1, 2]
    np.testing.assert_allclose(top.scores[0].numpy(), [0.6, 0.0, -1.0], atol=1e-7)


def test_float64_and_tensor_inputs_give_the_same_result():
    rng = np.random.default_rng(4)
    matrix = rng.normal(size=(100, 8))
    a = cosine_topk(matrix, matrix[:3], 5)
    b = cosine_topk(torch.from_numpy(matrix.astype(np.float32)), torch.from_numpy(matrix[:3].astype(np.float32)), 5)
    assert torch.equal(a.indices, b.indices)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(queries=np.zeros((0, 4))), "query list is empty"),
        (dict(k=0), "k must be a positive integer"),
        (dict(k=-3), "k must be a positive integer"),
        (dict(k=10, exclude=[0, 1]), "larger than the 9 vocabulary rows"),
        (dict(k=11), "larger than the 10 vocabulary rows"),
        (dict(matrix=np.zeros(10)), "2-D"),
        (dict(queries=np.ones((2, 3))), "dimension 3"),
        (dict(exclude=[0]), "one row (or -1) per query"),
        (dict(exclude=[0, 10]), "outside"),
        (dict(vocab_chunk=0), "vocab_chunk must be positive"),
    ],
)
def test_bad_input_is_a_clear_value_error(kwargs, message):
    matrix = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    args = dict(matrix=matrix, queries=matrix[:2], k=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cosine_topk(args.pop("matrix"), args.pop("queries"), args.pop("k"), **args)


def test_nan_rows_are_named():
    matrix = np.ones((6, 3), dtype=np.float32)
    matrix[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf values \(first rows: \[4\]\)"):
        cosine_topk(matrix, matrix[:1], 2)
