"""Write unlabeled text for ``textadv pretrain-lm --unlabeled`` / ``finetune --unlabeled``: one text per line.

``--unlabeled`` reads one file. This script joins several sources into one ``.txt`` (optionally
``.txt.gz``), one text per line, labels dropped:

- ``--files``: csv/tsv/jsonl files (optionally ``.gz``/``.bz2``) whose ``--text-column`` holds the
  texts, e.g. IMDB's reviews (Maas et al. 2011) as ``imdb_train.csv.gz`` and ``imdb_test.csv.gz``;
- ``--synopses``: the plot synopses of the packaged Rotten Tomatoes corpus (the default unlabeled
  text of ``--dataset rotten_tomatoes``, which an explicit ``--unlabeled`` file replaces).

Whitespace (newlines and tabs included) inside a text is collapsed to single spaces, so each text
stays one line; empty texts are dropped. The task's own training texts are not written: the
pretraining job always adds them.

    python data_scripts/export_unlabeled.py --files imdb_train.csv.gz imdb_test.csv.gz --synopses \\
        --output runs/unlabeled_imdb_plots.txt.gz
    textadv pretrain-lm --unlabeled runs/unlabeled_imdb_plots.txt.gz ...

The IMDB test reviews are unlabeled text here: a Rotten Tomatoes run never evaluates on them (for an
IMDB classification run, leave its test file out).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", nargs="*", default=[], help="csv/tsv/jsonl files (optionally .gz/.bz2) of texts")
    p.add_argument("--text-column", default="text", help="column of the texts in --files (default: text)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of --files (default: utf-8)")
    p.add_argument("--synopses", action="store_true", help="add the packaged Rotten Tomatoes plot synopses")
    p.add_argument("--output", required=True, help="the .txt or .txt.gz file to write")
    return p


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) replaced by one space, stripped."""
    return " ".join(text.split())


def export(files, text_column: str, encoding: str, synopses: bool, output: Path) -> dict:
    """Write the texts of ``files`` then (``synopses``) the packaged plot synopses to ``output``; counts per source."""
    from textadv.text.data import load_unlabeled, packaged_plot_synopses

    sources = [(str(f), lambda f=f: load_unlabeled(f, text_column, encoding)) for f in files]
    if synopses:
        sources.append(("packaged plot synopses", packaged_plot_synopses))
    if not sources:
        raise ValueError("nothing to export: give --files and/or --synopses")
    if not str(output).endswith((".txt", ".txt.gz")):
        raise ValueError(f"--output {output}: write a .txt or .txt.gz file (what --unlabeled reads as one text a line)")
    counts = {}
    opener = gzip.open if str(output).endswith(".gz") else open
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with opener(output, "wt", encoding="utf-8", newline="\n") as out:
        for name, read in sources:
            n = 0
            for text in read():
                line = one_line(text)
                if line:
                    out.write(line + "\n")
                    n += 1
            counts[name] = n
    return counts


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        counts = export(args.files, args.text_column, args.encoding, args.synopses, Path(args.output))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, n in counts.items():
        print(f"{n} texts from {name}")
    print(f"wrote {sum(counts.values())} texts to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
