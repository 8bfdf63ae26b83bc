"""Nearest-neighbour words of learned embeddings, side by side across checkpoints (Miyato et al. 2017, Table 3).

A thin entry point with the same flags as ``textadv neighbours`` (textadv/commands/neighbours.py;
docs/neighbours.md).
Offline examples:

    python recipes/embedding_neighbours.py --checkpoints glove --words good bad frog \\
        --pairs good:bad bad:good --antonyms --k 10 --output runs/neighbours-glove

    python recipes/embedding_neighbours.py --checkpoints runs/none runs/at runs/vat \\
        --names baseline AT VAT --words good bad --pairs good:bad bad:good --output runs/neighbours
"""

import sys

from textadv.cli import recipe_main
from textadv.commands import neighbours


def main(argv=None) -> int:
    return recipe_main(neighbours, "embedding_neighbours.py", argv)


if __name__ == "__main__":
    sys.exit(main())
