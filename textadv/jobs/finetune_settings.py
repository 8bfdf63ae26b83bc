"""Every setting of the fine-tuning job (:mod:`textadv.jobs.finetune`), one field each, with its flag's help.

``None`` means "the default of the model family", filled in by :meth:`FinetuneConfig.resolved`:

- Miyato's LSTM classifier (1-layer LSTM, hidden 64, dense 30, texts cut at 40 tokens) initialised
  from the packaged GloVe 6B 50d vectors, Adam with lr 0.001 decayed by 0.9998 per step, gradient
  clipping at 1.0, embedding dropout 0.5 with one mask shared by the clean and perturbed passes,
  Miyato-normalised embeddings (PAPERS.md §7).
- Pretrained transformers (``--model minilm`` or a hub id/path): normalisation ``"scale"`` (the
  model keeps seeing the raw word vectors it was pretrained on; ε is measured in units of their
  frequency-weighted spread σ̄, so ε = 5.0 carries over), no extra embedding dropout, lr 5e-5.
  docs/results/text.md records the measurement behind this choice.

Settings marked ``resumable`` (the budget, evaluation and display) may change when a run is resumed;
every other setting shapes the training trajectory and must stay as saved.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Optional, Tuple

from ..objectives.factory import NAMES, build_objective, default_norm
from ..report.io import text_codec
from ..text.build import GLOVE_DIM, LSTM, LSTM_EMBEDDING_DIM
from ..train.schedule import FLAGS as SCHEDULE_FLAGS
from ..train.schedule import check_steps
from .checks import check_all_finite, check_at_least, check_data_selection, check_finite
from .flags import resumable_settings, setting

# The text job trains the objectives whose paper perturbs in ℓ2 (Miyato's: one ball over a whole
# embedding sequence); the ℓ∞ image objectives (fgsm, pgd, ensemble) are the image job's.
ADV_CHOICES = tuple(n for n in NAMES if default_norm(n) == 2)
NORMALIZATIONS = ("miyato", "scale", "raw")
NEIGHBOUR_WORDS = ("good", "bad", "great", "terrible")
_OBJ, _DATA, _MODEL, _TRAIN, _EVAL = "objective", "data", "model", "training", "evaluation"


@dataclass(frozen=True)
class FinetuneConfig:
    """Every setting of a fine-tuning run (module docstring); each field is a ``textadv finetune`` flag."""

    adv: str = setting("vat", "training objective", choices=ADV_CHOICES, group=_OBJ)
    epsilon: float = setting(
        5.0,
        "ℓ2 radius of the perturbation of one example's whole embedding sequence, in "
        "Miyato-normalised units (relative to the embeddings' spread σ̄ with --normalization "
        "scale)",
        group=_OBJ,
    )
    xi: float = setting(0.1, "VAT's finite-difference step ξ", group=_OBJ)
    adv_weight: float = setting(1.0, "weight λ of the adversarial/VAT terms", group=_OBJ)
    vat_iterations: int = setting(1, "VAT power iterations", group=_OBJ)

    dataset: str = setting(
        "rotten_tomatoes",
        "rotten_tomatoes (the packaged Pang & Lee corpus, offline), a Hugging "
        "Face hub id, or a local .csv/.tsv/.jsonl file",
        group=_DATA,
    )
    hub: bool = setting(False, "load rotten_tomatoes from the hub instead of the packaged corpus", group=_DATA)
    hub_config: Optional[str] = setting(None, "configuration of a hub dataset (e.g. sst2 of glue)", group=_DATA)
    text_column: str = setting("text", "text column of a local file or hub dataset", group=_DATA)
    label_column: str = setting("label", "label column", group=_DATA)
    test_file: Optional[str] = setting(
        None, "a fixed test file for a local dataset", group=_DATA, default_help="a seeded 10%% split"
    )
    unlabeled: str = setting(
        "default",
        "unlabeled text for VAT: 'default' (the packaged plot synopses for "
        "rotten_tomatoes), 'none', or a .txt (one text per line) / .csv / .jsonl file",
        group=_DATA,
    )
    encoding: str = setting(
        "utf-8",
        "text encoding of the local data files (--dataset, --test-file, --unlabeled), e.g. latin-1 or cp1252; "
        "UTF-8 files may start with a byte-order mark",
        group=_DATA,
    )
    max_length: int = setting(40, "tokens kept per text; longer texts are truncated with a warning", group=_DATA)
    split_seed: int = setting(0, "seed of the train/validation/test split, fixed across --seed", group=_DATA)
    train_limit: Optional[int] = setting(
        None, "train on a seeded subset of this many examples (quick runs)", group=_DATA, default_help="all"
    )
    unlabeled_from_rest: bool = setting(
        False,
        "the training texts left out by --train-limit join VAT's unlabeled stream, labels dropped "
        "(label-scarce semi-supervised runs; with --unlabeled none they are the whole stream)",
        group=_DATA,
    )
    test_limit: Optional[int] = setting(
        None,
        "evaluate on a seeded subset of this many test examples (quick runs)",
        group=_DATA,
        default_help="all",
        resumable=True,
    )
    min_count: int = setting(2, "LSTM vocabulary: words seen fewer times map to <unk>", group=_DATA)

    model: str = setting(
        LSTM,
        "'lstm' (Miyato's LSTM classifier), 'minilm' (the packaged all-MiniLM-L6-v2), a hub "
        "id or a local model directory",
        group=_MODEL,
    )
    normalization: Optional[str] = setting(
        None,
        "embedding normalisation: miyato, scale (raw embeddings, ε relative to their spread), raw",
        choices=NORMALIZATIONS,
        group=_MODEL,
        default_help="miyato for the LSTM, scale for pretrained transformers",
    )
    glove: Optional[bool] = setting(
        None,
        "initialise the LSTM's embedding from the packaged GloVe 6B 50d (sets --embedding-dim 50)",
        group=_MODEL,
        default_help="on for the LSTM",
    )
    init_from: Optional[str] = setting(
        None,
        "a textadv pretrain-lm run directory: start the LSTM's embedding and LSTM from its language model "
        "and use its vocabulary and sizes (--min-count is then unused; a --embedding-dim or --hidden-size given "
        "must match)",
        group=_MODEL,
        default_help="none: random or GloVe",
        metavar="RUN_DIR",
    )
    embedding_dim: Optional[int] = setting(
        None,
        "LSTM embedding size (--glove's vectors are 50-d: any other size is refused with --glove)",
        group=_MODEL,
        default_help="50 with --glove, the language model's with --init-from, 128 otherwise",
    )
    hidden_size: int = setting(64, "LSTM hidden size", group=_MODEL)
    dense_size: int = setting(30, "LSTM dense layer size", group=_MODEL)
    embedding_dropout: Optional[float] = setting(
        None,
        "embedding dropout probability, one mask per example shared over time and by the clean and perturbed passes",
        group=_MODEL,
        default_help="0.5 for the LSTM, 0 for transformers",
    )

    batch_size: int = setting(64, "global batch size", group=_TRAIN)
    unlabeled_batch_size: Optional[int] = setting(
        None, "batch size of the unlabeled stream", group=_TRAIN, default_help="--batch-size"
    )
    lr: Optional[float] = setting(
        None, "Adam learning rate", group=_TRAIN, default_help="0.001 for the LSTM, 5e-5 for transformers"
    )
    lr_decay: float = setting(0.9998, "learning-rate decay per step", group=_TRAIN)
    grad_clip: Optional[float] = setting(1.0, "gradient-norm clipping", group=_TRAIN)
    epochs: int = setting(3, "passes over the training set", group=_TRAIN, resumable=True)
    max_steps: Optional[int] = setting(
        None,
        "stop after this many optimiser steps (a short run)",
        group=_TRAIN,
        default_help="the epochs decide",
        resumable=True,
    )
    eval_every: int = setting(
        0, "validation accuracy every N steps into history.json (0: never)", group=_TRAIN, resumable=True
    )
    save_every: int = setting(100, "checkpoint every N steps, for --resume", group=_TRAIN, resumable=True)
    seed: int = setting(0, "seed of the initialisation, data order, dropout and perturbations", group=_TRAIN)
    adv_warmup_steps: int = setting(
        0,
        "train the first N steps clean (no AT/VAT term, the step of --adv none): delayed adversarial training, "
        "a deviation from Miyato et al., who use no warm-up (textadv.train.schedule)",
        group=_TRAIN,
    )
    eps_ramp_steps: int = setting(
        0,
        "after the warm-up, grow ε (AT's, VAT's, the random baseline's; not ξ) linearly from 0 to --epsilon over "
        "N steps; not in Miyato et al. (textadv.train.schedule)",
        group=_TRAIN,
    )

    eval_eps: Tuple[float, ...] = setting(
        (0.5, 1.0, 2.0, 5.0), "ε of the FGM and PGD test attacks (ℓ2)", group=_EVAL, resumable=True
    )
    pgd_steps: int = setting(10, "PGD steps in the evaluation", group=_EVAL, resumable=True)
    eval_batch_size: int = setting(256, "evaluation batch size", group=_EVAL, resumable=True)
    neighbour_words: Tuple[str, ...] = setting(
        NEIGHBOUR_WORDS,
        "words whose nearest neighbours the report lists",
        group=_EVAL,
        resumable=True,
        allow_empty=True,
    )
    neighbour_k: int = setting(10, "neighbours per word", group=_EVAL, resumable=True)
    progress: bool = setting(True, "progress bars", group=_EVAL, resumable=True)

    @property
    def is_lstm(self) -> bool:
        return self.model == LSTM

    def resolved(self) -> "FinetuneConfig":
        """The settings with every per-family default filled in, validated (``ValueError`` naming the setting)."""
        c = self
        if c.adv not in ADV_CHOICES:
            raise ValueError(f"--adv must be one of {', '.join(ADV_CHOICES)}, got {c.adv!r}")
        check_finite(c, "epsilon", "xi", "adv_weight")
        check_all_finite(c)  # NaN and ±inf in every other float setting (--grad-clip, --lr-decay, ...)
        for name, flag in SCHEDULE_FLAGS.items():
            check_steps(flag, getattr(c, name))
        check_at_least(c, "vat_iterations", "batch_size", "epochs", "eval_batch_size", "neighbour_k", "min_count")
        # The objective checks the settings it reads (VAT's ξ > 0, ...): built once here, without a model.
        build_objective(c.adv, eps=c.epsilon, xi=c.xi, adv_weight=c.adv_weight, vat_iterations=c.vat_iterations)
        check_at_least(c, "max_steps", "train_limit", "test_limit", "unlabeled_batch_size", optional=True)
        check_at_least(c, "max_length", minimum=2)
        text_codec(c.encoding)  # an unknown encoding is refused before any file is read
        eps_values = tuple(float(e) for e in c.eval_eps)
        for e in eps_values:
            if not (math.isfinite(e) and e >= 0):
                raise ValueError(f"every --eval-eps value must be a finite number >= 0, got {e}")
        check_data_selection(c)
        if c.normalization is not None and c.normalization not in NORMALIZATIONS:
            raise ValueError(f"--normalization must be one of {', '.join(NORMALIZATIONS)}, got {c.normalization!r}")
        if c.embedding_dropout is not None and not 0 <= c.embedding_dropout < 1:
            raise ValueError(f"--embedding-dropout must be in [0, 1), got {c.embedding_dropout}")
        check_at_least(c, "embedding_dim", optional=True)
        if c.init_from is not None:
            if not c.is_lstm:
                raise ValueError(f"--init-from starts Miyato's LSTM (--model lstm), not --model {c.model}")
            if c.glove:
                raise ValueError("--init-from sets the embedding that --glove would set: drop --glove")
            c = replace(c, glove=False)
        if c.is_lstm:
            glove = True if c.glove is None else c.glove
            if glove and c.embedding_dim not in (None, GLOVE_DIM):
                raise ValueError(
                    f"--glove starts the embedding from {GLOVE_DIM}-d GloVe vectors, not --embedding-dim "
                    f"{c.embedding_dim}: drop --embedding-dim, or add --no-glove for a random {c.embedding_dim}-d start"
                )
            if glove:
                embedding_dim = GLOVE_DIM
            elif c.init_from is None:
                embedding_dim = LSTM_EMBEDDING_DIM if c.embedding_dim is None else c.embedding_dim
            else:  # None: the language model's (build_model reads it)
                embedding_dim = c.embedding_dim
            c = replace(
                c,
                normalization=c.normalization or "miyato",
                glove=glove,
                embedding_dim=embedding_dim,
                embedding_dropout=0.5 if c.embedding_dropout is None else c.embedding_dropout,
                lr=1e-3 if c.lr is None else c.lr,
            )
        else:
            if c.glove:
                raise ValueError(
                    "--glove initialises the LSTM's embedding; a pretrained transformer keeps its own (drop --glove)"
                )
            c = replace(
                c,
                normalization=c.normalization or "scale",
                glove=False,
                embedding_dropout=0.0 if c.embedding_dropout is None else c.embedding_dropout,
                lr=5e-5 if c.lr is None else c.lr,
            )
        if not (c.lr > 0 and math.isfinite(c.lr)):
            raise ValueError(f"--lr must be a positive number, got {c.lr}")
        return replace(c, eval_eps=eps_values, neighbour_words=tuple(c.neighbour_words))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["eval_eps"] = list(self.eval_eps)
        d["neighbour_words"] = list(self.neighbour_words)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "FinetuneConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown} in the run's config.json")
        data = dict(data)
        if data.get("init_from") is not None and data.get("embedding_dim") == LSTM_EMBEDDING_DIM:
            # Saved when the flag's default was 128 for every LSTM: an --init-from run took the language
            # model's size whatever it said (a 128 given against another size was refused at the start).
            data["embedding_dim"] = None
        for key in ("eval_eps", "neighbour_words"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


RESUMABLE_CHANGES = resumable_settings(FinetuneConfig)
