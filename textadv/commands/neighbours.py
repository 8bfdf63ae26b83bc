"""``textadv neighbours``: nearest words of the same query words across embedding sources, side by side.

Example (Miyato et al.'s Table 3 for three checkpoints)::

    textadv neighbours --checkpoints runs/none runs/at runs/vat --names baseline AT VAT \\
        --words good bad --pairs good:bad bad:good --antonyms --k 10 --output reports/neighbours

Sources (``--checkpoints``): ``glove``, ``hf:<model id or path>``, ``npy:<matrix.npy>:<vocab.txt>``,
``ckpt:<dir>`` or a plain directory (a text-model directory or a run directory holding one in
``checkpoint/`` or ``model/``). See docs/neighbours.md.
"""

from __future__ import annotations

import argparse

JOB = "neighbours"
HELP = "Nearest-neighbour words of learned embeddings across checkpoints (Miyato et al.'s Table 3), with antonym ranks."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoints",
        "--sources",
        dest="sources",
        nargs="+",
        required=True,
        metavar="SPEC",
        help="embedding sources: glove | hf:<model id or path> | npy:<matrix.npy>:<vocab.txt> | ckpt:<dir> | <dir>",
    )
    parser.add_argument(
        "--names", nargs="+", metavar="NAME", help="column labels, one per source (default: from the spec)"
    )
    parser.add_argument("--words", nargs="*", default=["good", "bad"], metavar="WORD", help="query words")
    parser.add_argument("--k", type=int, default=10, help="neighbours per query word")
    parser.add_argument(
        "--pairs",
        nargs="*",
        default=[],
        metavar="WORD:OTHER",
        help="named pairs: report the rank and cosine of OTHER among the neighbours of WORD",
    )
    parser.add_argument(
        "--antonyms",
        action="store_true",
        help="measure the WordNet antonym intrusion rate at k (pairs in every vocabulary)",
    )
    parser.add_argument(
        "--antonym-pos",
        choices=("adj", "all"),
        default="adj",
        help="antonym pairs from adjectives only, or from every part of speech",
    )
    parser.add_argument(
        "--antonym-limit", type=int, default=None, help="a seeded sample of at most this many antonym pairs"
    )
    parser.add_argument("--antonym-seed", type=int, default=0, help="seed of the --antonym-limit sample")
    parser.add_argument(
        "--wordnet-dir",
        default=None,
        help="NLTK data directory for WordNet (default $TEXTADV_CACHE/nltk_data or ~/.cache/textadv/nltk_data)",
    )
    space = parser.add_mutually_exclusive_group()
    space.add_argument(
        "--normalized",
        dest="space",
        action="store_const",
        const="normalized",
        help="Miyato-normalised embeddings for every source (needs word frequencies)",
    )
    space.add_argument("--raw", dest="space", action="store_const", const="raw", help="raw embeddings for every source")
    parser.set_defaults(space="auto")
    parser.add_argument("--include-self", action="store_true", help="let a query word be its own neighbour")
    parser.add_argument(
        "--output",
        default=None,
        metavar="DIR",
        help="write neighbours.md/.html/.csv/.json (+ pairs.csv, pair_ranks.png, antonyms.csv) here, "
        "with config.json first and metrics.json last (a missing or empty directory)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the contents of --output (only a textadv run directory, or an empty one)",
    )


def parse_pairs(values) -> list:
    """``["good:bad", ...]`` → ``[("good", "bad"), ...]``; ``ValueError`` naming a malformed pair."""
    pairs = []
    for value in values:
        word, sep, other = value.partition(":")
        if not sep or not word or not other or ":" in other:
            raise ValueError(f"--pairs expects WORD:OTHER, got {value!r}")
        pairs.append((word, other))
    return pairs


def run(args: argparse.Namespace) -> int:
    from ..analysis.antonyms import ADJECTIVES, ALL_POS, pairs_in_vocabularies, wordnet_antonym_pairs
    from ..analysis.compare import compare
    from ..analysis.report import to_markdown, write_report
    from ..analysis.sources import load_source
    from ..report.runs import open_run

    if not args.words:
        raise ValueError("--words is empty; pass at least one query word")
    if args.k <= 0:
        raise ValueError(f"--k must be positive, got {args.k}")
    if args.names is not None and len(args.names) != len(args.sources):
        raise ValueError(f"--names gives {len(args.names)} labels for {len(args.sources)} sources")
    pairs = parse_pairs(args.pairs)
    run = open_run(args.output, JOB, overwrite=args.overwrite, flag="--output") if args.output else None
    names = args.names or [None] * len(args.sources)
    tables = [load_source(spec, name, space=args.space) for spec, name in zip(args.sources, names)]
    antonym_pairs = None
    if args.antonyms:
        pos = ADJECTIVES if args.antonym_pos == "adj" else ALL_POS
        antonym_pairs = pairs_in_vocabularies(
            wordnet_antonym_pairs(pos, cache_dir=args.wordnet_dir),
            tables,
            limit=args.antonym_limit,
            seed=args.antonym_seed,
        )
    comparison = compare(
        tables, args.words, args.k, pairs=pairs, antonym_pairs=antonym_pairs, exclude_self=not args.include_self
    )
    print(to_markdown(comparison))
    if run is not None:
        settings = {k: v for k, v in vars(args).items() if k not in ("output", "overwrite") and not k.startswith("_")}
        run.start({"settings": settings})
        written = write_report(comparison, run.path)
        run.finish(summary(comparison))
        print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def summary(comparison) -> dict:
    """``metrics.json`` of a neighbour report: per source, the named pairs' ranks and the antonym intrusion rate."""
    out = {
        "k": comparison.k,
        "sources": [s.name for s in comparison.sources],
        "pair_ranks": {},
        "antonym_intrusion": {},
    }
    for per_source in comparison.pairs:
        out["pair_ranks"][f"{per_source[0].word}:{per_source[0].other}"] = {p.source: p.rank for p in per_source}
    for rate in comparison.antonyms:
        out["antonym_intrusion"][rate.source] = rate.rate
    return out
