"""Text-model directories: weights in safetensors plus a small JSON description.

A directory written by :func:`save_text_model` holds

- ``model.safetensors``: the weights (for ``kind == "hf"`` written by ``save_pretrained``, beside
  ``config.json`` and the tokenizer files);
- ``vocab.txt``: one token per line, in embedding-row order (tabs/newlines escaped as ``\\t``/``\\n``);
- ``frequencies.txt``: one normalised frequency per embedding row (the fⱼ of the normalisation);
- ``vocabulary.tsv`` (LSTM only): ``token<TAB>count``, the :class:`~textadv.text.Vocabulary`;
- ``textadv_model.json``, written last (its presence marks a complete directory)::

      {"format_version": 1, "kind": "lstm" | "hf",
       "embedding_key": <name of the [V, D] word-embedding matrix in model.safetensors>,
       "vocab_file": "vocab.txt", "frequencies_file": "frequencies.txt",
       "normalization": "miyato" | "scale" | "raw", "uniform": bool,
       "embedding_dropout": float, "num_labels": int, "label_names": [...] | null,
       "lstm_config": {...} (LSTM only), "lm_config": {...} (language model only), "extra": {...}}

``kind == "lstm-lm"`` is the language model of ``textadv pretrain-lm`` (:class:`LSTMLanguageModel`,
no labels): :func:`read_encoder_weights` reads its embedding and LSTM and :func:`load_encoder_weights`
puts them into a classifier; :func:`read_embedding` reads its embedding like any other.

Other tools (the embedding-neighbour analysis) read the embedding matrix, its words and their
frequencies without building the model through :func:`read_embedding`, the one reader of this
contract besides :func:`load_text_model`. Damaged files (truncated safetensors, malformed JSON)
are a ``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np
from torch import nn

from .hf import HFTextClassifier
from .lstm import ENCODER_PREFIXES, LSTMClassifier, LSTMConfig, LSTMLanguageModel
from ..report.io import read_json_object, save_safetensors, set_default_mode, write_text
from .vocab import Vocabulary, load_frequencies, load_tokens, save_frequencies, save_tokens

FORMAT_VERSION = 1
MODEL_JSON = "textadv_model.json"
WEIGHTS = "model.safetensors"
VOCAB_FILE = "vocab.txt"
FREQUENCIES_FILE = "frequencies.txt"
VOCABULARY_FILE = "vocabulary.tsv"
#: where a fine-tuning run directory keeps its saved model (``<run>/model/``)
RUN_MODEL_DIR = "model"
#: where a pretraining run directory keeps its language model (``<run>/lm/``)
RUN_LM_DIR = "lm"
KINDS = ("lstm", "hf", "lstm-lm")


# Files a Hugging Face directory may hold that transformers parses as JSON.
_HF_JSON_FILES = ("config.json", "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json")


class LoadedTextModel(NamedTuple):
    model: nn.Module  # LSTMClassifier or HFTextClassifier, in eval mode
    encoder: Any  # Vocabulary (LSTM) or a Hugging Face tokenizer
    metadata: dict  # the contents of textadv_model.json


class EncoderWeights(NamedTuple):
    """The embedding and LSTM of a saved language model, with its vocabulary."""

    tensors: dict  # {name: tensor} for the names under ENCODER_PREFIXES, as in the classifier's state_dict()
    vocabulary: Vocabulary
    metadata: dict  # the contents of textadv_model.json


class SavedEmbedding(NamedTuple):
    """The word embedding of a saved text model, read without building the model."""

    matrix: np.ndarray  # [V, D] float32: the tensor ``embedding_key`` of model.safetensors, raw (not normalised)
    tokens: tuple  # V tokens in row order (vocab.txt)
    frequencies: Optional[np.ndarray]  # [V] float64 from frequencies.txt (None without one)
    metadata: dict  # the contents of textadv_model.json


def hf_tokens(tokenizer, rows: int) -> list:
    """The tokenizer's token for each of ``rows`` embedding rows, in row order."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(min(rows, len(tokenizer)))))
    # Embedding matrices padded beyond the tokenizer get placeholder names for the extra rows.
    return [str(t) for t in tokens] + [f"<row_{i}>" for i in range(len(tokens), rows)]


def save_text_model(
    model: nn.Module,
    directory: Union[str, os.PathLike],
    *,
    encoder: Any = None,
    label_names: Optional[Sequence[str]] = None,
    extra: Optional[dict] = None,
) -> Path:
    """Write ``model`` (LSTM classifier or language model with its :class:`Vocabulary`, or HF with its
    tokenizer) to ``directory``.

    Files are written into a temporary directory first and moved in, ``textadv_model.json`` last,
    so an interrupted save never leaves a directory that looks complete.
    """
    from safetensors import safe_open

    directory = Path(directory)
    if isinstance(model, (LSTMClassifier, LSTMLanguageModel)):
        kind = "lstm" if isinstance(model, LSTMClassifier) else "lstm-lm"
        if not isinstance(encoder, Vocabulary):
            raise ValueError("saving an LSTM model needs its Vocabulary as encoder=")
        rows = model.embedding.weight.shape[0]
        if len(encoder) != rows:
            raise ValueError(f"the vocabulary has {len(encoder)} rows but the model's embedding has {rows}")
    elif isinstance(model, HFTextClassifier):
        kind = "hf"
        if encoder is None or isinstance(encoder, Vocabulary):
            raise ValueError("saving a Hugging Face classifier needs its tokenizer as encoder=")
    else:
        raise ValueError(
            f"model must be an LSTMClassifier, an LSTMLanguageModel or an HFTextClassifier, got {type(model).__name__}"
        )
    if label_names is not None and len(label_names) != _num_labels(model):
        raise ValueError(f"{len(label_names)} label names for a model with {_num_labels(model)} outputs")

    directory.mkdir(parents=True, exist_ok=True)
    stale = directory / MODEL_JSON
    if stale.exists():
        stale.unlink()  # the directory is incomplete until the new description lands
    tmp = Path(tempfile.mkdtemp(dir=directory, prefix=".saving-"))
    try:
        norm = model.embedding
        rows = norm.weight.shape[0]
        if kind != "hf":
            state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
            save_safetensors(tmp / WEIGHTS, state, {"format": "pt"})
            embedding_key = model.embedding_key
            save_tokens(tmp / VOCAB_FILE, encoder.tokens)
            encoder.save(tmp / VOCABULARY_FILE)
        else:
            model.model.save_pretrained(tmp, safe_serialization=True)
            encoder.save_pretrained(tmp)
            embedding_key = model.embedding_key
            save_tokens(tmp / VOCAB_FILE, hf_tokens(encoder, rows))
        with safe_open(str(tmp / WEIGHTS), framework="pt") as f:
            if embedding_key not in f.keys():
                raise RuntimeError(f"{WEIGHTS} has no tensor {embedding_key!r}; cannot describe the embedding matrix")
        save_frequencies(tmp / FREQUENCIES_FILE, norm.frequencies.detach().cpu())
        metadata = {
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "embedding_key": embedding_key,
            "vocab_file": VOCAB_FILE,
            "frequencies_file": FREQUENCIES_FILE,
            "normalization": norm.mode,
            "uniform": bool(norm.uniform),
            "embedding_dropout": model.embedding_dropout.p,
            "num_labels": _num_labels(model),
            "label_names": list(label_names) if label_names is not None else None,
            "extra": dict(extra or {}),
        }
        if kind == "lstm":
            metadata["lstm_config"] = model.config.to_dict()
        elif kind == "lstm-lm":
            metadata["lm_config"] = {
                "vocab_size": rows,
                "embedding_dim": model.embedding.weight.shape[1],
                "hidden_size": model.lstm.hidden_size,
                "embedding_dropout": model.embedding_dropout.p,
                "normalization": norm.mode,
            }
        for item in sorted(tmp.iterdir()):
            if item.is_file():
                set_default_mode(item)  # save_pretrained's safetensors writer leaves 0o600
            target = directory / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
        write_text(directory / MODEL_JSON, json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def _num_labels(model: nn.Module) -> Optional[int]:
    if isinstance(model, LSTMLanguageModel):
        return None
    if isinstance(model, LSTMClassifier):
        return model.config.num_labels
    return int(model.model.config.num_labels)


def read_model_json(directory: Union[str, os.PathLike]) -> dict:
    """The description of a saved text model; ``FileNotFoundError`` when the directory is incomplete."""
    path = Path(directory) / MODEL_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {directory} is not a complete textadv text-model directory")
    metadata = read_json_object(path)
    if metadata.get("format_version") != FORMAT_VERSION or metadata.get("kind") not in KINDS:
        raise ValueError(
            f"{path}: unsupported format_version/kind {metadata.get('format_version')!r}/{metadata.get('kind')!r}"
        )
    if not isinstance(metadata.get("embedding_key"), str) or not metadata["embedding_key"]:
        raise ValueError(f"{path} names no 'embedding_key' (the [V, D] word-embedding tensor)")
    return metadata


def _unreadable_weights(path: Path, err: Exception) -> ValueError:
    return ValueError(f"{path} cannot be read as safetensors ({err}): it is truncated or corrupt")


def read_embedding(directory: Union[str, os.PathLike]) -> SavedEmbedding:
    """The embedding matrix, its tokens and frequencies from a :func:`save_text_model` directory.

    Reads ``textadv_model.json`` (format version checked), the one tensor ``embedding_key`` of
    ``model.safetensors`` (no pickles, no other tensor loaded), ``vocab_file`` and, when present,
    ``frequencies_file``. ``FileNotFoundError`` for a missing file, ``ValueError`` naming the file
    for a damaged one or for a vocabulary whose length is not the matrix's row count.
    """
    from safetensors import SafetensorError, safe_open

    directory = Path(directory)
    metadata = read_model_json(directory)
    key = metadata["embedding_key"]
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} not found: the model directory has no weights")
    try:
        with safe_open(str(weights), framework="numpy") as f:
            if key not in f.keys():
                raise ValueError(f"{weights} has no embedding matrix {key!r} (the embedding_key of {MODEL_JSON})")
            matrix = np.asarray(f.get_tensor(key), dtype=np.float32)
    except SafetensorError as err:
        raise _unreadable_weights(weights, err) from None
    if matrix.ndim != 2:
        raise ValueError(f"{weights}: tensor {key!r} has shape {matrix.shape}, not a [V, D] embedding matrix")
    vocab_path = directory / metadata.get("vocab_file", VOCAB_FILE)
    if not vocab_path.is_file():
        raise FileNotFoundError(f"vocabulary file {vocab_path} not found")
    tokens = tuple(load_tokens(vocab_path))
    if len(tokens) != matrix.shape[0]:
        raise ValueError(
            f"the vocabulary file {vocab_path} has {len(tokens)} tokens but the embedding matrix {key!r} "
            f"in {weights} has {matrix.shape[0]} rows"
        )
    frequencies = None
    frequencies_path = directory / metadata["frequencies_file"] if metadata.get("frequencies_file") else None
    if frequencies_path is not None and frequencies_path.is_file():
        frequencies = load_frequencies(frequencies_path).numpy()
    return SavedEmbedding(matrix, tokens, frequencies, metadata)


def check_hf_files(directory: Union[str, os.PathLike]) -> None:
    """Parse the JSON files transformers will read from ``directory``: a damaged one is a ``ValueError`` naming it.

    transformers' own message for a malformed ``config.json`` does not say which file it read.
    """
    for name in _HF_JSON_FILES:
        path = Path(directory) / name
        if path.is_file():
            read_json_object(path)


def load_tokenizer(directory: Union[str, os.PathLike]):
    """The Hugging Face tokenizer saved in ``directory`` (its JSON files checked first)."""
    from transformers import AutoTokenizer

    check_hf_files(directory)
    return AutoTokenizer.from_pretrained(directory)


def load_text_model(directory: Union[str, os.PathLike], *, map_location: str = "cpu") -> LoadedTextModel:
    """Rebuild the model (eval mode) and its encoder from a :func:`save_text_model` directory."""
    from safetensors.torch import load_file

    directory = Path(directory)
    metadata = read_model_json(directory)
    if metadata["kind"] == "lstm-lm":
        raise ValueError(
            f"{directory} holds a language model (textadv pretrain-lm), not a classifier; "
            "start a classifier from it with textadv finetune --init-from"
        )
    uniform = metadata["uniform"]
    frequencies = (
        None
        if uniform or metadata["normalization"] == "raw"
        else load_frequencies(directory / metadata["frequencies_file"])
    )
    if metadata["kind"] == "lstm":
        from safetensors import SafetensorError

        config = LSTMConfig(**metadata["lstm_config"])
        encoder = Vocabulary.load(directory / VOCABULARY_FILE)
        model = LSTMClassifier(config, frequencies)
        try:
            state = load_file(str(directory / WEIGHTS), device=map_location)
        except SafetensorError as err:
            raise _unreadable_weights(directory / WEIGHTS, err) from None
        model.load_state_dict(state, strict=True)
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        check_hf_files(directory)
        hf_model = AutoModelForSequenceClassification.from_pretrained(directory)
        encoder = AutoTokenizer.from_pretrained(directory)
        model = HFTextClassifier(
            hf_model,
            frequencies,
            normalization=metadata["normalization"],
            uniform=uniform,
            embedding_dropout=metadata["embedding_dropout"],
        )
        # The frequency table as saved (already normalised), so the normalisation is bit-identical.
        if frequencies is not None:
            model.embedding.frequencies.copy_(frequencies.to(model.embedding.frequencies.dtype))
        model.to(map_location)
    model.eval()
    return LoadedTextModel(model, encoder, metadata)


def read_encoder_weights(directory: Union[str, os.PathLike]) -> EncoderWeights:
    """The embedding and LSTM tensors and the vocabulary of a language model saved by :func:`save_text_model`.

    Reads only the tensors under :data:`~textadv.text.lstm.ENCODER_PREFIXES` of ``model.safetensors``
    (no pickles) and ``vocabulary.tsv``. A directory of another kind, a missing or damaged file, a
    missing tensor or a vocabulary whose length is not the embedding's row count is an error naming it.
    """
    from safetensors import SafetensorError, safe_open

    directory = Path(directory)
    metadata = read_model_json(directory)
    if metadata["kind"] != "lstm-lm":
        raise ValueError(f"{directory} holds a {metadata['kind']!r} model, not a language model of textadv pretrain-lm")
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} not found: the language model directory has no weights")
    try:
        with safe_open(str(weights), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys() if k.startswith(ENCODER_PREFIXES)}
    except SafetensorError as err:
        raise _unreadable_weights(weights, err) from None
    key = metadata["embedding_key"]
    expected = {key} | {f"lstm.{n}_l0" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    missing = sorted(expected - set(tensors))
    if missing:
        raise ValueError(f"{weights} lacks the tensors {missing} of the embedding and LSTM")
    vocabulary_path = directory / VOCABULARY_FILE
    if not vocabulary_path.is_file():
        raise FileNotFoundError(f"vocabulary file {vocabulary_path} not found")
    vocabulary = Vocabulary.load(vocabulary_path)
    if len(vocabulary) != tensors[key].shape[0]:
        raise ValueError(
            f"the vocabulary {vocabulary_path} has {len(vocabulary)} words but the embedding in {weights} has "
            f"{tensors[key].shape[0]} rows"
        )
    return EncoderWeights(tensors, vocabulary, metadata)


def load_encoder_weights(model: nn.Module, weights: EncoderWeights, *, source: str = "the language model") -> None:
    """Copy a language model's embedding and LSTM (:func:`read_encoder_weights`) into an LSTM classifier.

    Every other parameter and buffer of ``model`` stays as it is. A model that is not an
    :class:`LSTMClassifier`, another normalisation, or an embedding or LSTM of another shape is a
    ``ValueError`` naming the difference; nothing is copied then.
    """
    if not isinstance(model, LSTMClassifier):
        raise ValueError(f"only the LSTM classifier can start from {source}, not a {type(model).__name__}")
    if model.embedding.mode != weights.metadata["normalization"]:
        raise ValueError(
            f"{source} was trained with --normalization {weights.metadata['normalization']}, the classifier uses "
            f"{model.embedding.mode}: give the same --normalization"
        )
    state = model.state_dict()
    ours = {k for k in state if k.startswith(ENCODER_PREFIXES)}
    if ours != set(weights.tensors):
        raise ValueError(f"{source} has the tensors {sorted(weights.tensors)}, the classifier {sorted(ours)}")
    for name, tensor in weights.tensors.items():
        if tuple(tensor.shape) != tuple(state[name].shape):
            raise ValueError(
                f"{source}'s {name} has shape {tuple(tensor.shape)} but the classifier's has "
                f"{tuple(state[name].shape)}: give the same --embedding-dim/--hidden-size as the pretraining run"
            )
    model.load_state_dict(weights.tensors, strict=False)
