"""Build a text classifier with normalised embeddings, and its vocabulary or tokenizer, from explicit settings.

Two model families (PAPERS.md §7):

- ``"lstm"``: Miyato's LSTM classifier over a word :class:`~textadv.text.Vocabulary` built from
  ``texts``, optionally initialised from the packaged GloVe 6B 50d vectors;
- ``"minilm"`` (the packaged all-MiniLM-L6-v2), a hub id or a local directory: a Hugging Face
  sequence classifier fed normalised word embeddings as ``inputs_embeds``.

The word frequencies fⱼ of the normalisation are counted over ``texts`` as the model tokenises them
(training plus unlabeled text in the fine-tuning job). A new model family is one more branch here
and a ``kind`` in :mod:`textadv.text.checkpoint`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

from torch import nn

MINILM = "minilm"
LSTM = "lstm"
GLOVE_DIM = 50  # the packaged GloVe 6B 50d
LSTM_EMBEDDING_DIM = 128  # Miyato's LSTM without GloVe (the jobs' default)


def hf_source(name: str) -> Optional[str]:
    """``None`` (the packaged MiniLM) for ``minilm``, the hub id or path otherwise."""
    return None if name.lower() == MINILM else name


def build_text_classifier(
    model: str,
    texts: Sequence[str],
    num_labels: int,
    *,
    normalization: str,
    embedding_dropout: float,
    glove: bool = False,
    min_count: int = 2,
    embedding_dim: int = LSTM_EMBEDDING_DIM,
    hidden_size: int = 64,
    dense_size: int = 30,
    vocabulary: Any = None,
) -> Tuple[nn.Module, Any, dict]:
    """``(model, encoder, info)``: the classifier, its :class:`Vocabulary` or tokenizer, and facts for the report.

    Args:
        model: ``"lstm"``, ``"minilm"``, a hub id or a local model directory.
        texts: the texts the vocabulary (LSTM) and the word frequencies are counted on.
        num_labels: classes of the classification head.
        normalization: ``"miyato"``, ``"scale"`` or ``"raw"`` (no frequencies are counted for ``"raw"``).
        embedding_dropout: probability of the shared embedding dropout.
        glove: initialise the LSTM's embedding from GloVe 6B 50d (``embedding_dim`` must then be 50).
        min_count, embedding_dim, hidden_size, dense_size: the LSTM's vocabulary cut-off and sizes.
        vocabulary: the LSTM's :class:`Vocabulary` (with its counts) instead of one built over ``texts``
            (a pretrained language model's, so that its embedding rows mean the same words).

    ``info`` holds ``vocab_size`` and, with GloVe, ``glove_token_coverage``. Seed the global RNG
    before calling: the initialisation draws from it.
    """
    from . import HFTextClassifier, LSTMClassifier, LSTMConfig, Vocabulary, load_glove, load_hf_classifier
    from . import word_frequencies

    if model == LSTM:
        vocab = vocabulary if vocabulary is not None else Vocabulary.build(texts, min_count=min_count)
        config = LSTMConfig(
            len(vocab),
            num_labels,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            dense_size=dense_size,
            embedding_dropout=embedding_dropout,
            normalization=normalization,
        )
        lstm = LSTMClassifier(config, None if normalization == "raw" else vocab.frequencies())
        info: dict = {"vocab_size": len(vocab)}
        if glove:
            try:
                info["glove_token_coverage"] = load_glove(lstm.embedding.embedding, vocab)
            except FileNotFoundError as error:
                raise FileNotFoundError(f"{error} (or train the LSTM from random vectors with --no-glove)") from None
        return lstm, vocab, info
    if glove:
        raise ValueError(
            "--glove initialises the LSTM's embedding; a pretrained transformer keeps its own (drop --glove)"
        )
    hf_model, tokenizer = load_hf_classifier(hf_source(model), num_labels=num_labels)
    rows = hf_model.get_input_embeddings().weight.shape[0]
    frequencies = None if normalization == "raw" else word_frequencies(tokenizer, texts, vocab_size=rows)
    classifier = HFTextClassifier(
        hf_model, frequencies, normalization=normalization, embedding_dropout=embedding_dropout
    )
    return classifier, tokenizer, {"vocab_size": rows}
