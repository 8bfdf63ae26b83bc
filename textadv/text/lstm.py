"""Miyato, Dai & Goodfellow's (2017) LSTM text classifier, PAPERS.md §7.

    input_ids [B, T] → normalised embedding [B, T, D] → embedding dropout (keep 0.5, one mask per
    example shared over time steps) → LSTM (1 layer) → state at the last real token [B, H]
    → dense layer + ReLU [B, H'] → output logits [B, C]

The paper's IMDB sizes are D = 256, H = 1024, H' = 30; the defaults here are smaller so that a run
finishes on two CPU cores in minutes. The embedding can start from GloVe 6B 50d (:func:`load_glove`).
Deviation: the paper pre-trains the embedding and LSTM as a language model on the unlabeled text;
this classifier is trained from scratch (or from GloVe).

The model is split in two halves so that a :class:`~textadv.surfaces.TextSurface` can perturb the
tensor between them: :meth:`LSTMClassifier.embed` and :meth:`LSTMClassifier.classify`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from .normalized_embedding import NormalizedEmbedding, SequenceDropout
from .vocab import PAD_ID, Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LSTMConfig:
    vocab_size: int
    num_labels: int
    embedding_dim: int = 128
    hidden_size: int = 128
    dense_size: int = 30
    embedding_dropout: float = 0.5
    normalization: str = "miyato"
    uniform: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "dense_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_labels < 2:
            raise ValueError(f"num_labels must be >= 2, got {self.num_labels}")

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMClassifier(nn.Module):
    """Miyato's LSTM classifier (module docstring).

    Args:
        config: sizes, dropout and the normalisation mode.
        frequencies: counts ``[V]`` for the normalisation (``Vocabulary.frequencies()``); required
            unless ``config.uniform`` or ``config.normalization == "raw"``.
    """

    def __init__(self, config: LSTMConfig, frequencies: Optional[Union[Tensor, Sequence[float]]] = None):
        super().__init__()
        self.config = config
        table = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=PAD_ID)
        self.embedding = NormalizedEmbedding(table, frequencies, mode=config.normalization, uniform=config.uniform)
        self.embedding_dropout = SequenceDropout(config.embedding_dropout)
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, num_layers=1, batch_first=True)
        self.dense = nn.Linear(config.hidden_size, config.dense_size)
        self.output = nn.Linear(config.dense_size, config.num_labels)

    @property
    def embedding_key(self) -> str:
        """Name of the ``[V, D]`` word-embedding matrix in ``state_dict()``."""
        return "embedding.embedding.weight"

    def embed(self, input_ids: Tensor) -> Tensor:
        """``[B, T]`` → normalised embeddings after dropout ``[B, T, D]`` (the tensor an adversary perturbs)."""
        return self.embedding_dropout(self.embedding(input_ids))

    def classify(self, x: Tensor, attention_mask: Tensor) -> Tensor:
        """Logits ``[B, C]`` from embeddings ``x [B, T, D]``; ``attention_mask [B, T]`` marks real tokens.

        Sequences are right-padded; the LSTM is unidirectional, so its output at the last real
        token does not depend on the padding after it.
        """
        # encode_texts rejects empty texts, so every row has a real token; the clamp only keeps the
        # gather in range without a device sync.
        lengths = attention_mask.long().sum(dim=1).clamp_min(1)  # [B]
        outputs, _ = self.lstm(x)  # [B, T, H]
        index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
        last = outputs.gather(1, index).squeeze(1)  # [B, H]
        return self.output(torch.relu(self.dense(last)))

    def forward(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None) -> Tensor:
        if attention_mask is None:
            attention_mask = (input_ids != PAD_ID).long()
        return self.classify(self.embed(input_ids), attention_mask)


def load_glove(embedding: nn.Embedding, vocabulary: Vocabulary, glove: Optional[tuple] = None) -> float:
    """Copy GloVe 6B 50d vectors into the rows of ``embedding`` whose word GloVe knows.

    Rows of words missing from GloVe (and ``<pad>``/``<unk>``) keep their random initialisation.
    ``glove`` is ``(vectors.npy, index.parquet)`` (default: the packaged ``textadv.assets.glove_6b_50d()``).

    Returns:
        the coverage: the fraction of word tokens of the vocabulary's text (by count) whose word has a
        GloVe vector. The coverage by row is logged too.
    """
    import numpy as np
    import pandas as pd

    from .. import assets

    vectors_path, index_path = glove if glove is not None else assets.glove_6b_50d()
    vectors = np.load(vectors_path, mmap_mode="r")
    if embedding.weight.shape[1] != vectors.shape[1]:
        raise ValueError(
            f"GloVe vectors have {vectors.shape[1]} dimensions but the embedding has {embedding.weight.shape[1]}; "
            f"set embedding_dim={vectors.shape[1]}"
        )
    words = pd.read_parquet(index_path, columns=["index"])["index"].tolist()
    position = {w: i for i, w in enumerate(words)}
    rows, sources = [], []
    for row, token in enumerate(vocabulary.tokens):
        if row > 1 and token in position:
            rows.append(row)
            sources.append(position[token])
    with torch.no_grad():
        if rows:
            picked = torch.from_numpy(np.asarray(vectors[np.asarray(sources)], dtype=np.float32))
            embedding.weight[torch.tensor(rows)] = picked.to(embedding.weight.dtype)
    total = sum(vocabulary.counts[2:])
    covered = sum(vocabulary.counts[r] for r in rows)
    coverage = covered / total if total else 0.0
    log.info(
        "GloVe covers %d of %d vocabulary words (%.1f%% of word tokens)", len(rows), len(vocabulary) - 2, 100 * coverage
    )
    return coverage
