"""AddSent generation speed (Jia & Liang 2017, PAPERS.md §8), printed beside spaCy alone on the same text.

The goal is the whole SQuAD v1.1 dev set (10,570 questions) in under 5 minutes on 2 cores. The script
times, on a seeded sample of whole paragraphs (so that questions share contexts as in the full set):

- setup: loading the spaCy pipeline and the GloVe vectors (once per run);
- spaCy alone: the parses AddSent itself asks for (contexts with tagger + NER, questions with the
  full pipeline), ``nlp.pipe`` with ``n_process=1``;
- AddSent: :func:`textadv.qa.addsent.generate` end to end (parsing, typed lexicon, one batched GloVe
  neighbour search, mutation, fake answers, declarative rules, filters), with a fresh neighbour cache.

It prints questions per second, the ratio AddSent / spaCy, and the linear extrapolation to the dev set.

    python bench/squad_generation.py [--data ../shared/data/squad/dev-v1.1.json] [--questions 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

DEV_QUESTIONS = 10_570
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"


def sample_paragraphs(questions, n: int, seed: int):
    """Whole paragraphs, in a seeded random order, until at least ``n`` questions."""
    by_context: dict = {}
    for q in questions:
        by_context.setdefault(q.context, []).append(q)
    groups = list(by_context.values())
    random.Random(seed).shuffle(groups)
    out = []
    for g in groups:
        if len(out) >= n:
            break
        out.extend(g)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="a SQuAD v1.1 file (default: the dev set)")
    parser.add_argument("--questions", type=int, default=1000, help="sample size (whole paragraphs)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy is imported below
    import torch

    torch.set_num_threads(args.threads)
    from textadv.analysis.sources import glove_table
    from textadv.qa.addsent import AddSentSettings, generate
    from textadv.qa.mutation import NearestWords
    from textadv.qa.spacy_pipeline import load_pipeline
    from textadv.qa.squad import read_squad

    data = Path(args.data)
    if not data.is_file():
        data = Path(__file__).resolve().parents[1] / "textadv" / "qa" / "data" / "squad_sample.json"
        print(f"{args.data} not found; timing the packaged 15-question sample instead")
    questions = sample_paragraphs(read_squad(data), args.questions, args.seed)
    contexts = list(dict.fromkeys(q.context for q in questions))
    texts = list(dict.fromkeys(q.question for q in questions))
    settings = AddSentSettings()
    print(f"sample: {len(questions)} questions, {len(contexts)} paragraphs from {data.name}; {args.threads} threads")

    t0 = time.perf_counter()
    nlp = load_pipeline()
    table = glove_table()
    setup = time.perf_counter() - t0
    print(f"setup (spaCy pipeline + GloVe table): {setup:.1f} s")

    t0 = time.perf_counter()
    light = [p for p in ("parser", "attribute_ruler", "lemmatizer") if p in nlp.pipe_names]
    with nlp.select_pipes(disable=light):
        for _ in nlp.pipe(contexts, batch_size=settings.batch_size):
            pass
    for _ in nlp.pipe(texts, batch_size=settings.batch_size):
        pass
    spacy_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    nearest = NearestWords(table, vocab_size=settings.glove_vocab, k=settings.neighbours)
    result = generate(questions, nlp=nlp, seed=args.seed, settings=settings, nearest=nearest)
    addsent_s = time.perf_counter() - t0

    n = len(questions)
    print(f"spaCy alone : {spacy_s:6.1f} s  {n / spacy_s:6.1f} questions/s")
    print(
        f"AddSent     : {addsent_s:6.1f} s  {n / addsent_s:6.1f} questions/s  "
        f"({addsent_s / spacy_s:.2f}x spaCy alone; "
        f"coverage {result.coverage:.3f}, {sum(len(c) for c in result.candidates)} candidates)"
    )
    full = DEV_QUESTIONS / n * addsent_s + setup
    print(
        f"extrapolated to the dev set ({DEV_QUESTIONS:,} questions): {full / 60:.1f} min including setup (goal < 5 min)"
    )


if __name__ == "__main__":
    main()
