"""Miyato, Dai & Goodfellow's (2017) LSTM text classifier, PAPERS.md §7.

    input_ids [B, T] → normalised embedding [B, T, D] → embedding dropout (keep 0.5, one mask per
    example shared over time steps) → LSTM (1 layer) → state at the last real token [B, H]
    → dense layer + ReLU [B, H'] → output logits [B, C]

The paper's IMDB sizes are D = 256, H = 1024, H' = 30; the defaults here are smaller so that a run
finishes on two CPU cores in minutes. The embedding can start from GloVe 6B 50d (:func:`load_glove`).
The paper pre-trains the embedding and LSTM as a language model on the unlabeled text:
:class:`LSTMLanguageModel` is that model (the same embedding, dropout and LSTM, with a softmax over
the vocabulary on each LSTM output), trained by ``textadv pretrain-lm``; ``finetune --init-from``
starts the classifier's embedding and LSTM from it. Without it the classifier starts from random
vectors or GloVe.

The model is split in two halves so that a :class:`~textadv.surfaces.TextSurface` can perturb the
tensor between them: :meth:`LSTMClassifier.embed` and :meth:`LSTMClassifier.classify`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
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
        self.embedding, self.embedding_dropout, self.lstm = _encoder_layers(
            config.vocab_size,
            config.embedding_dim,
            config.hidden_size,
            config.embedding_dropout,
            config.normalization,
            config.uniform,
            frequencies,
        )
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


#: Names (prefixes in ``state_dict()``) of the layers the classifier and the language model share.
ENCODER_PREFIXES = ("embedding.embedding.", "lstm.")


def _encoder_layers(vocab_size, embedding_dim, hidden_size, embedding_dropout, normalization, uniform, frequencies):
    """The normalised embedding, its sequence dropout and the 1-layer LSTM, created in this order (the
    initialisation draws from the global RNG in it) for both the classifier and the language model."""
    table = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
    embedding = NormalizedEmbedding(table, frequencies, mode=normalization, uniform=uniform)
    lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=1, batch_first=True)
    return embedding, SequenceDropout(embedding_dropout), lstm


def sampled_softmax_loss(
    hidden: Tensor, weight: Tensor, bias: Tensor, targets: Tensor, sampled: Tensor, log_expected: Tensor
) -> Tensor:
    """Per-token sampled-softmax loss ``[N]`` (Jean et al. 2015; TensorFlow's ``sampled_softmax_loss``).

    The softmax over all ``V`` classes is replaced by one over the target and ``K`` sampled classes
    shared by the batch, whose logits are corrected by the log of their expected count in the
    sample; a sampled class equal to a token's target ("accidental hit") is dropped for that token::

        loss_n = -s_{y_n} + log( exp(s_{y_n}) + Σ_{k: c_k ≠ y_n} exp(s_{c_k} - log_expected_k) ),
        s = hidden @ weight.T + bias

    With ``c`` drawn with replacement from a distribution ``q`` and ``log_expected = log(K·q_c)``,
    the sum is an importance-sampling estimate of ``Σ_{j ≠ y} exp(s_j)`` whose expectation is exact,
    so ``exp(loss_n)`` is an unbiased estimate of ``exp`` of the full softmax cross-entropy (and
    ``loss_n`` itself underestimates it slightly, by Jensen). With ``c`` every class once and
    ``log_expected = 0`` the loss is the full softmax cross-entropy exactly. Unlike TensorFlow, the
    target's own logit is not corrected: it is always in the candidate set.

    Args:
        hidden: ``[N, H]`` the LSTM outputs; weight ``[V, H]``, bias ``[V]``: the softmax layer.
        targets: ``[N]`` class ids; sampled ``[K]`` class ids; log_expected ``[K]``.
    """
    true_logits = (hidden * weight[targets]).sum(-1) + bias[targets]  # [N]
    sampled_logits = hidden @ weight[sampled].T + (bias[sampled] - log_expected)  # [N, K]
    hits = sampled.unsqueeze(0) == targets.unsqueeze(1)  # [N, K]
    sampled_logits = sampled_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([true_logits.unsqueeze(1), sampled_logits], dim=1)  # [N, 1 + K]
    return torch.logsumexp(logits, dim=1) - true_logits


class LSTMLanguageModel(nn.Module):
    """Miyato et al.'s (2017) language-model pretraining of the classifier's embedding and LSTM.

        input_ids [B, T] → normalised embedding → embedding dropout (as the classifier's; the paper's
        LM applies dropout 0.5 to the word embeddings) → LSTM → outputs [B, T, H]
        → softmax layer [V] predicting word t+1 from the output at word t

    The embedding, dropout and LSTM are created exactly as in :class:`LSTMClassifier` and carry the
    same names in ``state_dict()`` (:data:`ENCODER_PREFIXES`), so the classifier can start from them.
    Training uses :func:`sampled_softmax_loss` with ``K`` classes drawn with replacement from the
    unigram distribution of the vocabulary's counts (Miyato's code samples 1024 from the same
    distribution, without replacement); :meth:`next_word_losses` with ``num_sampled=0`` is the full
    softmax, used for the validation perplexity.

    Args:
        vocab_size, embedding_dim, hidden_size, embedding_dropout, normalization: as :class:`LSTMConfig`.
        counts: unigram counts ``[V]`` (``Vocabulary.frequencies()``): the normalisation's fⱼ and the
            sampling distribution of the sampled softmax.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embedding_dim: int,
        hidden_size: int,
        embedding_dropout: float,
        counts: Union[Tensor, Sequence[float]],
        normalization: str = "miyato",
    ):
        super().__init__()
        counts = torch.as_tensor(counts, dtype=torch.float64)
        if counts.shape != (vocab_size,) or not bool((counts >= 0).all()) or not counts.sum() > 0:
            raise ValueError(f"counts must be {vocab_size} non-negative numbers with a positive sum")
        self.embedding, self.embedding_dropout, self.lstm = _encoder_layers(
            vocab_size,
            embedding_dim,
            hidden_size,
            embedding_dropout,
            normalization,
            False,
            None if normalization == "raw" else counts,
        )
        self.softmax = nn.Linear(hidden_size, vocab_size)
        self.register_buffer("unigram", (counts / counts.sum()).float())

    @property
    def vocab_size(self) -> int:
        return self.softmax.out_features

    @property
    def embedding_key(self) -> str:
        """Name of the ``[V, D]`` word-embedding matrix in ``state_dict()`` (the classifier's too)."""
        return "embedding.embedding.weight"

    def embed(self, input_ids: Tensor) -> Tensor:
        """``[B, T]`` → normalised embeddings after dropout ``[B, T, D]``, as :meth:`LSTMClassifier.embed`."""
        return self.embedding_dropout(self.embedding(input_ids))

    def outputs(self, x: Tensor) -> Tensor:
        """The LSTM's output at every step ``[B, T, H]`` from embeddings ``x [B, T, D]``."""
        return self.lstm(x)[0]

    def next_word_losses(
        self, hidden: Tensor, targets: Tensor, num_sampled: int = 0, generator: Optional[torch.Generator] = None
    ) -> Tensor:
        """Per-token loss ``[N]`` of predicting ``targets [N]`` from LSTM outputs ``hidden [N, H]``.

        ``num_sampled`` ``K > 0``: the sampled softmax (:func:`sampled_softmax_loss`) over ``K``
        classes drawn with replacement from the unigram distribution (from ``generator``, default
        the global RNG); ``0``: the full softmax cross-entropy over the ``V`` classes.
        """
        if num_sampled <= 0:
            return F.cross_entropy(self.softmax(hidden), targets, reduction="none")
        sampled = torch.multinomial(self.unigram, num_sampled, replacement=True, generator=generator)  # [K]
        log_expected = torch.log(num_sampled * self.unigram[sampled])
        return sampled_softmax_loss(hidden, self.softmax.weight, self.softmax.bias, targets, sampled, log_expected)


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
