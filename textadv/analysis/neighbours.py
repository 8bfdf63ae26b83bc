"""Exact cosine nearest neighbours over an embedding matrix (Miyato et al. 2017, Table 3; PAPERS.md §7).

Miyato et al. list the 10 nearest words to "good" and "bad" by cosine similarity of the learned
word embeddings. This module computes that list exactly (no approximation) for many query vectors
at once over a large vocabulary: rows are normalised once, a block of queries is multiplied with a
chunk of the vocabulary at a time (``[Qb, D] @ [D, C]``, float32), and a running top-k per query is
kept with ``torch.topk``, so the full ``[Q, V]`` score matrix never exists. A chunk costs one
comparison pass for a query whose current k-th cosine no chunk entry beats, which is most queries
after the first chunks; only the others run ``topk`` on it.

Order and ties: neighbours are sorted by cosine, highest first; equal cosines are ordered by the
lower row index first. This is exact, not approximate: ``torch.topk`` does not promise which of
several equal values it keeps, so wherever a tie straddles the k-th place of a chunk that query's
chunk is re-ranked with an integer key (order-preserving float bits, then the row index), and the
merge of running and chunk candidates always uses that key. The rank of a word among the
neighbours of another (:func:`rank_of`) follows the same order, so ``rank_of`` and
:func:`cosine_topk` agree.

Rows with zero norm keep cosine 0 with everything (they are not dropped); rows with NaN or inf
are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

_LOW32 = (1 << 32) - 1


@dataclass(frozen=True)
class TopK:
    """Nearest rows per query: ``indices`` int64 ``[Q, k]`` and ``scores`` (cosine) float32 ``[Q, k]``."""

    indices: torch.Tensor
    scores: torch.Tensor


def _as_float_tensor(x: ArrayLike, name: str, *, check_finite: bool = True) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach().to("cpu", torch.float32)
    else:
        # np.array copies: memory-mapped or read-only arrays become a private float32 buffer.
        t = torch.from_numpy(np.array(x, dtype=np.float32, copy=True))
    if t.dim() != 2:
        raise ValueError(f"{name} must be a 2-D [rows, dim] matrix, got shape {tuple(t.shape)}")
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    bad = ~torch.isfinite(t).all(dim=1) if check_finite else None
    if bad is not None and bool(bad.any()):
        rows = torch.nonzero(bad).flatten()[:5].tolist()
        raise ValueError(f"{name} has {int(bad.sum())} row(s) with NaN or inf values (first rows: {rows})")
    return t


def normalize_rows(matrix: ArrayLike) -> torch.Tensor:
    """Unit-norm rows, float32 ``[V, D]``; zero rows stay zero (cosine 0 with everything).

    Raises ``ValueError`` for a matrix that is not 2-D, is empty, or has NaN/inf rows.
    """
    m = _as_float_tensor(matrix, "embedding matrix")
    norms = m.norm(dim=1, keepdim=True)
    return m / torch.where(norms > 0, norms, torch.ones_like(norms))


def _order_key(scores: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """int64 key, larger = earlier: cosine descending, then row index ascending. Exact for float32."""
    bits = (scores + 0.0).contiguous().view(torch.int32).to(torch.int64)  # + 0.0 turns -0.0 into +0.0
    bits = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)  # IEEE bits -> integers in value order
    return bits * (1 << 32) + (_LOW32 - indices)


def _select(scores: torch.Tensor, indices: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The best ``k`` columns of each row under :func:`_order_key`, sorted best first."""
    _, pos = torch.topk(_order_key(scores, indices), k, dim=1, sorted=True)
    return torch.gather(scores, 1, pos), torch.gather(indices, 1, pos)


def cosine_topk(
    matrix: ArrayLike,
    queries: ArrayLike,
    k: int,
    *,
    exclude: Optional[Sequence[int]] = None,
    normalized: bool = False,
    query_block: int = 1024,
    vocab_chunk: int = 4096,
) -> TopK:
    """Exact cosine top-``k`` rows of ``matrix`` ``[V, D]`` for each of ``queries`` ``[Q, D]``.

    ``exclude[q]`` is a row index never returned for query ``q`` (the query word itself), or ``-1``
    for none. ``normalized=True`` says ``matrix`` is the output of :func:`normalize_rows` (unit
    rows, already checked for NaN/inf), which saves the copy and the check when one matrix serves
    many calls. Queries are
    normalised here. Returns :class:`TopK` with cosines float32 ``[Q, k]`` sorted highest first,
    equal cosines by lower row index.
    """
    m = normalize_rows(matrix) if not normalized else _as_float_tensor(matrix, "embedding matrix", check_finite=False)
    if len(queries) == 0:
        raise ValueError("no query vectors: the query list is empty")
    q = normalize_rows(queries)
    v, d = m.shape
    if q.shape[1] != d:
        raise ValueError(f"queries have dimension {q.shape[1]} but the embedding matrix has {d}")
    n_q = q.shape[0]
    if exclude is None:
        excl = torch.full((n_q,), -1, dtype=torch.int64)
    else:
        excl = torch.as_tensor(list(exclude), dtype=torch.int64)
        if excl.shape != (n_q,):
            raise ValueError(f"exclude must give one row (or -1) per query: {n_q} queries, {excl.numel()} entries")
        if bool(((excl < -1) | (excl >= v)).any()):
            raise ValueError(f"exclude holds a row index outside [-1, {v - 1}]")
    available = v - (1 if bool((excl >= 0).any()) else 0)
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > available:
        raise ValueError(f"k={k} is larger than the {available} vocabulary rows a query can have as neighbours")
    if query_block <= 0 or vocab_chunk <= 0:
        raise ValueError(f"query_block and vocab_chunk must be positive, got {query_block} and {vocab_chunk}")

    mt = m.T.contiguous()  # [D, V]: each chunk is a contiguous column slice for the matmul
    out_idx = torch.empty((n_q, k), dtype=torch.int64)
    out_val = torch.empty((n_q, k), dtype=torch.float32)
    for q0 in range(0, n_q, query_block):
        qb = q[q0 : q0 + query_block]  # [Qb, D]
        eb = excl[q0 : q0 + query_block]
        best_val = best_idx = None  # [Qb, k] running best, sorted by the exact order
        for c0 in range(0, v, vocab_chunk):
            c1 = min(c0 + vocab_chunk, v)
            scores = qb @ mt[:, c0:c1]  # [Qb, C]
            hit = torch.nonzero((eb >= c0) & (eb < c1)).flatten()
            if hit.numel():
                scores[hit, eb[hit] - c0] = float("-inf")
            if best_val is None or best_val.shape[1] < k:
                vals, idx = _topk_exact(scores, c0, k)
                if best_val is not None:
                    vals, idx = torch.cat([best_val, vals], 1), torch.cat([best_idx, idx], 1)
                best_val, best_idx = _select(vals, idx, min(k, vals.shape[1]))
                continue
            # Rows of this chunk have higher indices than every kept row, so only a strictly higher
            # cosine than a query's current k-th can enter its list: most queries skip the chunk.
            rows = torch.nonzero(scores.amax(dim=1) > best_val[:, k - 1]).flatten()
            if rows.numel() == 0:
                continue
            vals, idx = _topk_exact(scores[rows], c0, k)
            best_val[rows], best_idx[rows] = _select(
                torch.cat([best_val[rows], vals], 1), torch.cat([best_idx[rows], idx], 1), k
            )
        out_val[q0 : q0 + qb.shape[0]] = best_val
        out_idx[q0 : q0 + qb.shape[0]] = best_idx
    return TopK(indices=out_idx, scores=out_val)


def _topk_exact(scores: torch.Tensor, start: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` of a ``[Qb, C]`` chunk (columns are rows ``start..start+C-1``), ties by lower index."""
    n, c = scores.shape
    if c <= k:
        return scores.clone(), torch.arange(start, start + c, dtype=torch.int64).expand(n, c)
    vals, pos = torch.topk(scores, k + 1, dim=1, sorted=True)
    # Where the k-th and (k+1)-th values are equal, a tie straddles the cut and topk may have kept
    # any of the tied rows: re-rank those queries' whole chunk by the exact (cosine, index) key.
    tied = torch.nonzero(vals[:, k - 1] == vals[:, k]).flatten()
    vals, pos = vals[:, :k], pos[:, :k] + start
    if tied.numel():
        cols = torch.arange(start, start + c, dtype=torch.int64).expand(tied.numel(), c)
        t_vals, t_idx = _select(scores[tied], cols, k)
        vals, pos = vals.clone(), pos.clone()
        vals[tied], pos[tied] = t_vals, t_idx
    return vals, pos


def rank_of(
    matrix: ArrayLike,
    query: ArrayLike,
    target: int,
    *,
    exclude: int = -1,
    normalized: bool = False,
) -> tuple[int, float]:
    """1-based rank and cosine of row ``target`` among the neighbours of ``query`` ``[D]``.

    The rank counts every row except ``exclude`` (the query word's own row, or -1 for none) and
    uses :func:`cosine_topk`'s order (cosine descending, then lower row index), so
    ``rank_of(...)[0] == r`` when ``target`` is the r-th neighbour that ``cosine_topk`` returns
    (BLAS may round a one-query product differently from a query block in the last bit, which can
    only swap two neighbours whose cosines agree to ~1e-7).
    """
    m = normalize_rows(matrix) if not normalized else _as_float_tensor(matrix, "embedding matrix", check_finite=False)
    v = m.shape[0]
    if not 0 <= target < v:
        raise ValueError(f"target row {target} is outside the vocabulary of {v} rows")
    if target == exclude:
        raise ValueError(f"target row {target} is the excluded query row itself")
    qv = normalize_rows(torch.as_tensor(np.asarray(query, dtype=np.float32)).reshape(1, -1))
    if qv.shape[1] != m.shape[1]:
        raise ValueError(f"query has dimension {qv.shape[1]} but the embedding matrix has {m.shape[1]}")
    scores = (qv @ m.T)[0]  # [V]
    s_t = scores[target]
    before = (scores > s_t) | ((scores == s_t) & (torch.arange(v) < target))
    if exclude >= 0:
        before[exclude] = False
    return int(before.sum()) + 1, float(s_t)
