"""Every setting of the language-model pretraining job (:mod:`textadv.jobs.pretrain_lm`), one field each.

The data settings are the fine-tuning job's own fields (same flags, help and defaults), so that
``textadv pretrain-lm`` and ``textadv finetune`` given the same data flags read the same texts and
build the same vocabulary. Model sizes default to the fine-tuning job's LSTM without GloVe
(embedding 128, hidden 64); ``--glove`` starts the embedding from the packaged GloVe 6B 50d vectors
(embedding 50) exactly as ``finetune --glove`` does. ``finetune --init-from`` takes the sizes from
the language model. Training follows the
paper's LM (Miyato, Dai & Goodfellow 2017, §4): Adam, lr 0.001 decayed by 0.9999 per step, gradient
clipping at 1.0, dropout 0.5 on the word embeddings, a sampled softmax of 1024 classes.

Settings marked ``resumable`` (the budget, evaluation and display) may change when a run is resumed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Optional

from ..report.io import text_codec
from ..text.build import GLOVE_DIM, LSTM_EMBEDDING_DIM
from .checks import check_all_finite, check_at_least, check_data_selection, check_finite
from .finetune_settings import NORMALIZATIONS, FinetuneConfig
from .flags import resumable_settings, setting

_DATA, _MODEL, _TRAIN = "data", "model", "training"
_FINETUNE_FIELDS = {f.name: f for f in fields(FinetuneConfig)}


def _finetune_setting(name: str):
    """The fine-tuning job's field ``name`` (default, help, flag group), for a setting the two jobs share."""
    f = _FINETUNE_FIELDS[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)


@dataclass(frozen=True)
class PretrainLMConfig:
    """Every setting of a pretraining run (module docstring); each field is a ``textadv pretrain-lm`` flag."""

    dataset: str = _finetune_setting("dataset")
    hub: bool = _finetune_setting("hub")
    hub_config: Optional[str] = _finetune_setting("hub_config")
    text_column: str = _finetune_setting("text_column")
    label_column: str = _finetune_setting("label_column")
    encoding: str = _finetune_setting("encoding")
    test_file: Optional[str] = _finetune_setting("test_file")
    unlabeled: str = _finetune_setting("unlabeled")
    max_length: int = setting(
        40,
        "words per training sequence: longer texts are cut into windows of this many words, overlapping by one",
        group=_DATA,
    )
    split_seed: int = _finetune_setting("split_seed")
    train_limit: Optional[int] = _finetune_setting("train_limit")
    unlabeled_from_rest: bool = _finetune_setting("unlabeled_from_rest")
    min_count: int = _finetune_setting("min_count")

    glove: bool = setting(
        False,
        "start the embedding from the packaged GloVe 6B 50d, as finetune --glove does (sets --embedding-dim 50)",
        group=_MODEL,
    )
    embedding_dim: Optional[int] = setting(
        None,
        "embedding size (--glove's vectors are 50-d: any other size is refused with --glove)",
        group=_MODEL,
        default_help="50 with --glove, 128 otherwise",
    )
    hidden_size: int = setting(64, "LSTM hidden size", group=_MODEL)
    embedding_dropout: float = setting(
        0.5, "dropout probability on the word embeddings, one mask per text shared over time", group=_MODEL
    )
    normalization: str = setting(
        "miyato", "embedding normalisation (as finetune's --normalization)", choices=NORMALIZATIONS, group=_MODEL
    )
    num_sampled: int = setting(
        1024,
        "classes of the sampled softmax per batch, drawn from the unigram distribution (0: the full softmax)",
        group=_MODEL,
    )

    batch_size: int = setting(64, "batch size (texts)", group=_TRAIN)
    lr: float = setting(1e-3, "Adam learning rate", group=_TRAIN)
    lr_decay: float = setting(0.9999, "learning-rate decay per step", group=_TRAIN)
    grad_clip: Optional[float] = setting(1.0, "gradient-norm clipping", group=_TRAIN)
    epochs: int = setting(1, "passes over the training texts", group=_TRAIN, resumable=True)
    max_steps: Optional[int] = setting(
        None,
        "stop after this many optimiser steps",
        group=_TRAIN,
        default_help="the epochs decide",
        resumable=True,
    )
    eval_every: int = setting(
        100, "validation perplexity every N steps into history.json (0: only at the end)", group=_TRAIN, resumable=True
    )
    validation_limit: Optional[int] = setting(
        None,
        "compute the validation perplexity on the first N validation texts",
        group=_TRAIN,
        default_help="all",
        resumable=True,
    )
    save_every: int = setting(100, "checkpoint every N steps, for --resume", group=_TRAIN, resumable=True)
    eval_batch_size: int = setting(256, "evaluation batch size", group=_TRAIN, resumable=True)
    seed: int = setting(0, "seed of the initialisation, data order, dropout and softmax samples", group=_TRAIN)
    progress: bool = setting(True, "progress bar", group=_TRAIN, resumable=True)

    def resolved(self) -> "PretrainLMConfig":
        """The settings, validated (``ValueError`` naming the flag)."""
        check_all_finite(self)
        check_at_least(self, "hidden_size", "batch_size", "epochs", "eval_batch_size", "min_count")
        check_at_least(self, "embedding_dim", "max_steps", "train_limit", "validation_limit", optional=True)
        check_at_least(self, "num_sampled", "eval_every", "save_every", minimum=0)
        check_at_least(self, "max_length", minimum=2)
        text_codec(self.encoding)  # an unknown encoding is refused before any file is read
        check_data_selection(self)
        if not 0 <= self.embedding_dropout < 1:
            raise ValueError(f"--embedding-dropout must be in [0, 1), got {self.embedding_dropout}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"--normalization must be one of {', '.join(NORMALIZATIONS)}, got {self.normalization!r}")
        check_finite(self, "lr", minimum=0)
        if not self.lr > 0:
            raise ValueError(f"--lr must be a positive number, got {self.lr}")
        if self.glove and self.embedding_dim not in (None, GLOVE_DIM):
            raise ValueError(
                f"--glove starts the embedding from {GLOVE_DIM}-d GloVe vectors, not --embedding-dim "
                f"{self.embedding_dim}: drop --embedding-dim, or drop --glove for a random {self.embedding_dim}-d start"
            )
        default = GLOVE_DIM if self.glove else LSTM_EMBEDDING_DIM
        return dataclasses.replace(self, embedding_dim=default if self.embedding_dim is None else self.embedding_dim)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PretrainLMConfig":
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown settings {unknown} in the run's config.json")
        return cls(**data)


RESUMABLE_CHANGES = resumable_settings(PretrainLMConfig)
