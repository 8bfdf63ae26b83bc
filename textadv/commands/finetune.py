"""``textadv finetune``: fine-tune a text classifier with embedding-space AT/VAT and write a run directory.

The flags map one to one onto :class:`textadv.train.finetune.FinetuneConfig` (whose docstring and
module docstring explain each default). Setting flags that are not given stay out of the
namespace, so that ``--resume`` can tell which settings the user gave again; unset flags take the
config's defaults.
"""
from __future__ import annotations

import argparse
import sys

HELP = "Fine-tune a text classifier with adversarial (at) or virtual adversarial (vat) training on normalised embeddings."

# flag name -> FinetuneConfig field, for every setting flag
_FIELDS = (
    "adv", "epsilon", "xi", "adv_weight", "vat_iterations", "dataset", "hub", "hub_config", "text_column",
    "label_column", "test_file", "unlabeled", "max_length", "split_seed", "train_limit", "test_limit", "min_count",
    "model", "normalization", "glove", "embedding_dim", "hidden_size", "dense_size", "embedding_dropout",
    "batch_size", "unlabeled_batch_size", "lr", "lr_decay", "grad_clip", "epochs", "max_steps", "eval_every",
    "save_every", "seed", "eval_eps", "pgd_steps", "eval_batch_size", "neighbour_words", "neighbour_k", "progress",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..train.finetune import ADV_CHOICES, NORMALIZATIONS, FinetuneConfig

    d = FinetuneConfig()
    # Setting flags the user did not give are absent from the namespace (so --resume can tell them
    # apart, and the help shows the config's own defaults rather than a placeholder).
    parser.argument_default = argparse.SUPPRESS

    def default(name: str) -> str:
        value = getattr(d, name)
        return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)

    g = parser.add_argument_group("objective")
    g.add_argument("--adv", choices=ADV_CHOICES, help=f"training objective (default {d.adv})")
    g.add_argument("--epsilon", type=float, help=f"ℓ2 radius of the perturbation of one example's whole embedding sequence, "
                   f"in Miyato-normalised units (relative to the embeddings' spread σ̄ with --normalization scale) (default {d.epsilon})")
    g.add_argument("--xi", type=float, help=f"VAT's finite-difference step ξ (default {d.xi})")
    g.add_argument("--adv-weight", type=float, help=f"weight λ of the adversarial/VAT terms (default {d.adv_weight})")
    g.add_argument("--vat-iterations", type=int, help=f"VAT power iterations (default {d.vat_iterations})")

    g = parser.add_argument_group("data")
    g.add_argument("--dataset", help="rotten_tomatoes (the packaged Pang & Lee corpus, offline), a Hugging Face hub id, "
                   f"or a local .csv/.tsv/.jsonl file (default {d.dataset})")
    g.add_argument("--hub", action="store_true", help="load rotten_tomatoes from the hub instead of the packaged corpus")
    g.add_argument("--hub-config", help="configuration of a hub dataset (e.g. sst2 of glue)")
    g.add_argument("--text-column", help=f"text column of a local file or hub dataset (default {d.text_column})")
    g.add_argument("--label-column", help=f"label column (default {d.label_column})")
    g.add_argument("--test-file", help="a fixed test file for a local dataset (default: a seeded 10%% split)")
    g.add_argument("--unlabeled", help="unlabeled text for VAT: 'default' (the packaged plot synopses for rotten_tomatoes), "
                   "'none', or a .txt (one text per line) / .csv / .jsonl file (default default)")
    g.add_argument("--max-length", type=int, help=f"tokens kept per text; longer texts are truncated with a warning (default {d.max_length})")
    g.add_argument("--split-seed", type=int, help=f"seed of the train/validation/test split, fixed across --seed (default {d.split_seed})")
    g.add_argument("--train-limit", type=int, help="train on a seeded subset of this many examples (quick runs)")
    g.add_argument("--test-limit", type=int, help="evaluate on a seeded subset of this many test examples (quick runs)")
    g.add_argument("--min-count", type=int, help=f"LSTM vocabulary: words seen fewer times map to <unk> (default {d.min_count})")

    g = parser.add_argument_group("model")
    g.add_argument("--model", help="'lstm' (Miyato's LSTM classifier), 'minilm' (the packaged all-MiniLM-L6-v2), "
                   f"a hub id or a local model directory (default {d.model})")
    g.add_argument("--normalization", choices=NORMALIZATIONS, help="embedding normalisation: miyato (default for the LSTM), "
                   "scale (default for pretrained transformers: raw embeddings, ε relative to their spread), raw")
    g.add_argument("--glove", action=argparse.BooleanOptionalAction,
                   help="initialise the LSTM's embedding from the packaged GloVe 6B 50d (default on for the LSTM; sets --embedding-dim 50)")
    g.add_argument("--embedding-dim", type=int, help=f"LSTM embedding size without GloVe (default {d.embedding_dim})")
    g.add_argument("--hidden-size", type=int, help=f"LSTM hidden size (default {d.hidden_size})")
    g.add_argument("--dense-size", type=int, help=f"LSTM dense layer size (default {d.dense_size})")
    g.add_argument("--embedding-dropout", type=float, help="embedding dropout probability, one mask per example shared over "
                   "time and by the clean and perturbed passes (default 0.5 for the LSTM, 0 for transformers)")

    g = parser.add_argument_group("training")
    g.add_argument("--batch-size", type=int, help=f"global batch size (default {d.batch_size})")
    g.add_argument("--unlabeled-batch-size", type=int, help="batch size of the unlabeled stream (default: --batch-size)")
    g.add_argument("--lr", type=float, help="Adam learning rate (default 0.001 for the LSTM, 5e-5 for transformers)")
    g.add_argument("--lr-decay", type=float, help=f"learning-rate decay per step (default {d.lr_decay})")
    g.add_argument("--grad-clip", type=float, help=f"gradient-norm clipping (default {d.grad_clip})")
    g.add_argument("--epochs", type=int, help=f"passes over the training set (default {d.epochs})")
    g.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (a short run)")
    g.add_argument("--eval-every", type=int, help="validation accuracy every N steps into history.json (default 0: never)")
    g.add_argument("--save-every", type=int, help=f"checkpoint every N steps, for --resume (default {d.save_every})")
    g.add_argument("--seed", type=int, help=f"seed of the initialisation, data order, dropout and perturbations (default {d.seed})")

    g = parser.add_argument_group("evaluation")
    g.add_argument("--eval-eps", type=float, nargs="+", help=f"ε of the FGM and PGD test attacks (ℓ2) (default {default('eval_eps')})")
    g.add_argument("--pgd-steps", type=int, help=f"PGD steps in the evaluation (default {d.pgd_steps})")
    g.add_argument("--eval-batch-size", type=int, help=f"evaluation batch size (default {d.eval_batch_size})")
    g.add_argument("--neighbour-words", nargs="*", help=f"words whose nearest neighbours the report lists (default {default('neighbour_words')})")
    g.add_argument("--neighbour-k", type=int, help=f"neighbours per word (default {d.neighbour_k})")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")

    parser.argument_default = None
    g.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice); 1 is much faster "
                   "for the LSTM on a machine shared with other jobs")
    g = parser.add_argument_group("run directory")
    g.add_argument("--output-dir", default=None, help="the run directory (must be missing or empty unless --overwrite)")
    g.add_argument("--resume", metavar="DIR", default=None, help="continue the (killed) run in DIR with its saved settings; "
                   "only the budget (--epochs, --max-steps) and the evaluation flags may change")
    g.add_argument("--overwrite", action="store_true", default=False, help="replace the contents of --output-dir")


def given_settings(args: argparse.Namespace) -> dict:
    """The settings the user gave on the command line (flags left at ``None`` are not given)."""
    out = {}
    for name in _FIELDS:
        value = getattr(args, name, None)
        if value is not None:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def run(args: argparse.Namespace) -> int:
    from ..train.finetune import FinetuneConfig, finetune

    settings = given_settings(args)
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    if args.resume:
        if args.output_dir and args.output_dir != args.resume:
            raise ValueError("--resume DIR continues the run in DIR; drop --output-dir or give the same directory")
        result = finetune(output_dir=args.resume, resume=True, overrides=settings)
    else:
        if not args.output_dir:
            raise ValueError("--output-dir DIR is required (where the run directory is written)")
        result = finetune(FinetuneConfig(**settings), args.output_dir, overwrite=args.overwrite)
    t = result.metrics["test"]
    line = f"test accuracy {t['clean_accuracy']:.4f} (error {100 * t['clean_error']:.2f}%)"
    if "pgd_accuracy" in t:
        line += "; PGD (ℓ2) " + ", ".join(f"ε={e}: {a:.3f}" for e, a in t["pgd_accuracy"].items())
    print(f"{line}\nrun directory: {result.run_dir} (metrics.json, report.md, model/)", file=sys.stdout)
    return 0
