"""AddSent coverage on a SQuAD file: the share of questions with at least one candidate (goal ≥ 0.8 on dev).

Runs :func:`textadv.qa.addsent.generate` once over every question of the file, then prints the
coverage overall and per gold-answer type, why candidates were dropped, the wall time, and writes a
Markdown table of ``--samples`` seeded distractors (question, gold answer, distractor) for a reader
to judge.

    python bench/squad_coverage.py [--data ../shared/data/squad/dev-v1.1.json] [--samples 50] [--seed 0] \\
        [--threads 1] [--markdown samples.md]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="a SQuAD v1.1 file (default: the dev set)")
    parser.add_argument("--samples", type=int, default=50, help="seeded distractors to print")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fake answers and of the sample")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--markdown", default=None, metavar="FILE", help="write the coverage and samples here")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    from textadv.qa.addsent import generate
    from textadv.qa.spacy_pipeline import load_pipeline
    from textadv.qa.squad import read_squad

    questions = read_squad(args.data)
    t0 = time.perf_counter()
    result = generate(questions, nlp=load_pipeline(), seed=args.seed, progress=True)
    seconds = time.perf_counter() - t0
    n = len(questions)
    covered = sum(1 for c in result.candidates if c)
    lines = [
        f"questions: {n:,}; with at least one AddSent candidate: {covered:,} (coverage {covered / n:.3f}); "
        f"candidates: {sum(len(c) for c in result.candidates):,}; wall time {seconds:.0f} s "
        f"({n / seconds:.1f} questions/s, {args.threads} thread(s), model loading included)",
        "",
        "| gold answer type | questions | coverage |",
        "|---|---:|---:|",
    ]
    by_type = Counter(result.answer_types)
    covered_by_type = Counter(t for t, c in zip(result.answer_types, result.candidates) if c)
    for kind, count in by_type.most_common():
        lines.append(f"| {kind} | {count:,} | {covered_by_type[kind] / count:.3f} |")
    lines += ["", "| why a candidate was dropped | candidates |", "|---|---:|"]
    reasons = Counter()
    for reason, count in result.rejected.items():
        reasons["no fake answer" if reason.startswith("no fake answer") else reason] += count
    lines += [f"| {reason} | {count:,} |" for reason, count in reasons.most_common()]
    rules = Counter(c.rule for cands in result.candidates for c in cands)
    lines += ["", "| rule that made the statement | candidates |", "|---|---:|"]
    lines += [f"| {rule} | {count:,} |" for rule, count in rules.most_common()]
    print("\n".join(lines))
    rng = random.Random(args.seed)
    with_candidates = [i for i, c in enumerate(result.candidates) if c]
    picked = sorted(rng.sample(with_candidates, min(args.samples, len(with_candidates))))
    table = ["| # | question | gold answer | AddSent distractor (one seeded candidate) |", "|---:|---|---|---|"]
    for k, i in enumerate(picked, start=1):
        cands = result.candidates[i]
        c = cands[rng.randrange(len(cands))]
        table.append(
            f"| {k} | {_cell(questions[i].question)} | {_cell(questions[i].answers[0].text)} | {_cell(c.sentence)} |"
        )
    print("\n".join(table))
    if args.markdown:
        from textadv.report.io import write_text

        write_text(args.markdown, "\n".join(lines + ["", *table]) + "\n")


if __name__ == "__main__":
    main()
