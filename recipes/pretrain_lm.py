"""Pretrain Miyato's LSTM as a language model on the task's text, then fine-tune the classifier from it.

    python recipes/pretrain_lm.py --epochs 5 --output-dir runs/lm
    python recipes/pretrain_lm.py --resume runs/lm --epochs 10      # continue, or run longer
    textadv finetune --adv vat --init-from runs/lm --output-dir runs/vat-lm

IMDB (Maas et al.'s reviews as local files with columns ``text,label``, e.g. ``imdb_train.csv.gz``
and ``imdb_test.csv.gz``): give the same data flags to both jobs, e.g.
``--dataset imdb_train.csv.gz --test-file imdb_test.csv.gz --unlabeled none --max-length 400``
(IMDB's 50,000 unlabeled reviews, when you have them as a file, go in ``--unlabeled``), so that the
vocabulary the language model was trained with is the one the classifier reads. The test file is
never language-model text.

Rotten Tomatoes with IMDB's reviews as unlabeled text and a GloVe-started embedding (the run of
docs/results/text_pretrained.md; ``data_scripts/export_unlabeled.py`` writes the one file
``--unlabeled`` reads)::

    python data_scripts/export_unlabeled.py --files imdb_train.csv.gz imdb_test.csv.gz --synopses \
        --output runs/unlabeled.txt.gz
    python recipes/pretrain_lm.py --glove --unlabeled runs/unlabeled.txt.gz --min-count 3 --epochs 3 \
        --max-steps 7000 --eval-every 1000 --output-dir runs/lm-imdb
    textadv finetune --adv vat --epsilon 1 --init-from runs/lm-imdb --output-dir runs/vat-lm   # sizes from the LM

A thin entry point with the same flags as ``textadv pretrain-lm`` (``--help`` lists them). The
pipeline, readable top to bottom, is :func:`textadv.jobs.pretrain_lm.pretrain_lm`
(textadv/jobs/pretrain_lm.py). It trains the classifier's embedding and LSTM with a softmax over the
vocabulary on next-word prediction: a sampled softmax of 1024 classes drawn from the unigram
distribution per batch (Jean et al. 2015, as Miyato's code), validation perplexity with the full
softmax on the held-out validation texts. It writes the run directory (config.json, checkpoint/,
history.json, lm/, perplexity.png, metrics.json last). This is a small model trained for minutes
on two CPU cores, not the paper's 1024-unit LSTM trained for 100,000 steps: see
docs/results/text.md for what it does to the classifier here.
"""

from __future__ import annotations

import sys

from textadv.cli import recipe_main
from textadv.commands import pretrain_lm


def main(argv=None) -> int:
    return recipe_main(pretrain_lm, "pretrain_lm.py", argv)


if __name__ == "__main__":
    sys.exit(main())
