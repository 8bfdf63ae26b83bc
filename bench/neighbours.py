"""Benchmark: textadv's exact cosine top-k against a plain numpy loop, 1,000 query words over GloVe 400k × 50.

    python bench/neighbours.py [--queries 1000] [--k 10] [--repeats 3] [--threads 2]

Both sides search the same unit-normalised float32 matrix (normalising it is timed once,
separately) for the same seeded sample of query words, each query word's own row excluded:

- textadv: ``textadv.analysis.neighbours.cosine_topk`` (query blocks × vocabulary chunks, running
  top-k with ``torch.topk``);
- numpy loop: per query, one matrix-vector product ``[V, D] @ [D]``, ``np.argpartition`` for the
  top k, then a sort of those k by (cosine desc, row asc).

The two must agree: the same rows in the same order, or, where float rounding differs, cosines
equal to 1e-6. Prints both times (best of ``--repeats`` for textadv, one pass of the loop) and the
ratio, in wall-clock and in CPU time (all threads of the process). On a machine shared with
other jobs wall-clock times swing a lot; the CPU times and the ratio of one run are steadier.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def numpy_loop(unit: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query dot products + argpartition: ``[Q, k]`` rows and cosines."""
    out_idx = np.empty((len(rows), k), dtype=np.int64)
    out_cos = np.empty((len(rows), k), dtype=np.float32)
    for i, r in enumerate(rows):
        scores = unit @ unit[r]  # [V]
        scores[r] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        out_idx[i], out_cos[i] = top, scores[top]
    return out_idx, out_cos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from textadv.analysis.neighbours import cosine_topk, normalize_rows
    from textadv.analysis.sources import glove_table

    glove = glove_table()
    v, d = glove.shape
    rows = np.sort(np.random.default_rng(args.seed).choice(v, size=args.queries, replace=False))
    t = time.perf_counter()
    unit = normalize_rows(glove.matrix)  # [V, D] float32, once for both sides
    t_norm = time.perf_counter() - t
    unit_np = unit.numpy()

    times, cpu = [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        top = cosine_topk(unit, unit[torch.from_numpy(rows)], args.k, exclude=rows.tolist(), normalized=True)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    t_textadv, c_textadv = min(times), min(cpu)

    t, c = time.perf_counter(), time.process_time()
    ref_idx, ref_cos = numpy_loop(unit_np, rows, args.k)
    t_loop, c_loop = time.perf_counter() - t, time.process_time() - c

    same = (top.indices.numpy() == ref_idx).all(axis=1)
    close = np.abs(top.scores.numpy() - ref_cos).max(axis=1) <= 1e-6
    agree = same | close
    print(
        f"GloVe {v:,} x {d}, {args.queries} query words (seed {args.seed}), k={args.k}, "
        f"{torch.get_num_threads()} torch threads"
    )
    print(f"normalise rows once:  {t_norm:8.3f} s")
    print(
        f"textadv cosine_topk:  {t_textadv:8.3f} s wall, {c_textadv:7.3f} s CPU "
        f"(best of {args.repeats}: {', '.join(f'{x:.3f}' for x in times)})"
    )
    print(f"numpy loop:           {t_loop:8.3f} s wall, {c_loop:7.3f} s CPU")
    print(f"ratio loop/textadv:   {t_loop / t_textadv:8.1f}x wall, {c_loop / c_textadv:5.1f}x CPU")
    print(
        f"agreement: {int(same.sum())}/{len(rows)} identical neighbour lists, "
        f"{int(agree.sum())}/{len(rows)} identical or equal to 1e-6 in cosine"
    )
    word = glove.vocab[rows[0]]
    print(f"example: {word!r} -> {[glove.vocab[i] for i in top.indices[0].tolist()]}")
    if not agree.all():
        raise SystemExit("textadv and the numpy loop disagree")


if __name__ == "__main__":
    main()
