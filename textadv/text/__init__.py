"""The text domain: datasets, vocabularies and word frequencies, normalised embeddings, the LSTM and
Hugging Face classifiers, and their checkpoints (Miyato, Dai & Goodfellow 2017, PAPERS.md §7).

How the pieces assemble (dataset → vocabulary/tokenizer + frequencies → model → TextSurface →
objective)::

    from torch.utils.data import DataLoader
    from textadv.objectives import build_objective
    from textadv.surfaces import TextSurface
    from textadv import text

    data = text.load_text_classification("rotten_tomatoes", seed=0)  # packaged corpus offline
    # LSTM: a word vocabulary; its counts over training + unlabeled text are the frequencies fⱼ.
    vocab = text.Vocabulary.build(data.train.texts + data.unlabeled, min_count=2)
    model = text.LSTMClassifier(text.LSTMConfig(len(vocab), len(data.label_names)), vocab.frequencies())
    encoder = vocab
    # ...or a Hugging Face model (default: the packaged MiniLM), frequencies over its token ids:
    #   hf, encoder = text.load_hf_classifier(None, num_labels=len(data.label_names))
    #   model = text.HFTextClassifier(hf, text.word_frequencies(encoder, data.train.texts + data.unlabeled))

    train = text.encode_examples(encoder, data.train.texts, data.train.labels, max_length=128)
    loader = DataLoader(train, batch_size=32, shuffle=True, collate_fn=text.TextCollator(text.pad_id_of(encoder)))
    surface = TextSurface(model)
    objective = build_objective("at", eps=5.0)          # or "vat", "at+vat", "random", "none"
    for batch in loader:
        out = objective.step(surface, batch)            # forward + backward; then optimiser.step()

    text.save_text_model(model, "run/model", encoder=encoder, label_names=data.label_names)
    model, encoder, metadata = text.load_text_model("run/model")

For semi-supervised VAT pass an unlabeled batch (``encode_examples(encoder, data.unlabeled, None, ...)``
collated the same way) as ``objective.step(..., unlabeled=batch)``.

Normalisation modes (:mod:`.normalized_embedding`): ``"miyato"`` (the paper; default for the LSTM),
``"scale"`` (raw embeddings, ε relative to their spread; default for pretrained transformers) and
``"raw"``. Without a frequency table the model refuses to build unless ``uniform=True`` is passed.
"""

from .batching import TextCollator, encode_examples, encode_texts, pad_id_of
from .checkpoint import (
    LoadedTextModel,
    SavedEmbedding,
    load_text_model,
    read_embedding,
    read_model_json,
    save_text_model,
)
from .data import TextClassificationData, TextSplit, load_text_classification
from .hf import DEFAULT_HF_NORMALIZATION, HFTextClassifier, check_inputs_embeds, load_hf_classifier
from .lstm import LSTMClassifier, LSTMConfig, load_glove
from .normalized_embedding import MODES, NormalizedEmbedding, SequenceDropout, frequency_moments
from .vocab import (
    PAD,
    PAD_ID,
    UNK,
    UNK_ID,
    Vocabulary,
    load_frequencies,
    save_frequencies,
    word_frequencies,
    word_tokenize,
)

__all__ = [
    "TextCollator",
    "encode_examples",
    "encode_texts",
    "pad_id_of",
    "LoadedTextModel",
    "SavedEmbedding",
    "load_text_model",
    "read_embedding",
    "read_model_json",
    "save_text_model",
    "TextClassificationData",
    "TextSplit",
    "load_text_classification",
    "DEFAULT_HF_NORMALIZATION",
    "HFTextClassifier",
    "check_inputs_embeds",
    "load_hf_classifier",
    "LSTMClassifier",
    "LSTMConfig",
    "load_glove",
    "MODES",
    "NormalizedEmbedding",
    "SequenceDropout",
    "frequency_moments",
    "PAD",
    "PAD_ID",
    "UNK",
    "UNK_ID",
    "Vocabulary",
    "load_frequencies",
    "save_frequencies",
    "word_frequencies",
    "word_tokenize",
]
