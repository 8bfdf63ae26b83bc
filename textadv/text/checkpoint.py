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
       "lstm_config": {...} (LSTM only), "extra": {...}}

Other tools (the embedding-neighbour analysis) read ``embedding_key`` and ``vocab_file`` to find
the embedding matrix and its words without building the model.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Optional, Sequence, Union

from torch import nn

from .hf import HFTextClassifier
from .lstm import LSTMClassifier, LSTMConfig
from ..report.io import write_text
from .vocab import Vocabulary, load_frequencies, save_frequencies, save_tokens

FORMAT_VERSION = 1
MODEL_JSON = "textadv_model.json"
WEIGHTS = "model.safetensors"
VOCAB_FILE = "vocab.txt"
FREQUENCIES_FILE = "frequencies.txt"
VOCABULARY_FILE = "vocabulary.tsv"


class LoadedTextModel(NamedTuple):
    model: nn.Module  # LSTMClassifier or HFTextClassifier, in eval mode
    encoder: Any  # Vocabulary (LSTM) or a Hugging Face tokenizer
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
    """Write ``model`` (LSTM with its :class:`Vocabulary`, or HF with its tokenizer) to ``directory``.

    Files are written into a temporary directory first and moved in, ``textadv_model.json`` last,
    so an interrupted save never leaves a directory that looks complete.
    """
    from safetensors import safe_open
    from safetensors.torch import save_file

    directory = Path(directory)
    if isinstance(model, LSTMClassifier):
        kind = "lstm"
        if not isinstance(encoder, Vocabulary):
            raise ValueError("saving an LSTM classifier needs its Vocabulary as encoder=")
        if len(encoder) != model.config.vocab_size:
            raise ValueError(f"the vocabulary has {len(encoder)} rows but the model's embedding has {model.config.vocab_size}")
    elif isinstance(model, HFTextClassifier):
        kind = "hf"
        if encoder is None or isinstance(encoder, Vocabulary):
            raise ValueError("saving a Hugging Face classifier needs its tokenizer as encoder=")
    else:
        raise ValueError(f"model must be an LSTMClassifier or an HFTextClassifier, got {type(model).__name__}")
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
        if kind == "lstm":
            state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
            save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
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
        for item in sorted(tmp.iterdir()):
            target = directory / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
        write_text(directory / MODEL_JSON, json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def _num_labels(model: nn.Module) -> int:
    if isinstance(model, LSTMClassifier):
        return model.config.num_labels
    return int(model.model.config.num_labels)


def read_model_json(directory: Union[str, os.PathLike]) -> dict:
    """The description of a saved text model; ``FileNotFoundError`` when the directory is incomplete."""
    path = Path(directory) / MODEL_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {directory} is not a complete textadv text-model directory")
    metadata = json.loads(path.read_text(encoding="utf-8"))
    if metadata.get("format_version") != FORMAT_VERSION or metadata.get("kind") not in ("lstm", "hf"):
        raise ValueError(f"{path}: unsupported format_version/kind {metadata.get('format_version')!r}/{metadata.get('kind')!r}")
    return metadata


def load_text_model(directory: Union[str, os.PathLike], *, map_location: str = "cpu") -> LoadedTextModel:
    """Rebuild the model (eval mode) and its encoder from a :func:`save_text_model` directory."""
    from safetensors.torch import load_file

    directory = Path(directory)
    metadata = read_model_json(directory)
    uniform = metadata["uniform"]
    frequencies = None if uniform or metadata["normalization"] == "raw" else load_frequencies(directory / metadata["frequencies_file"])
    if metadata["kind"] == "lstm":
        config = LSTMConfig(**metadata["lstm_config"])
        encoder = Vocabulary.load(directory / VOCABULARY_FILE)
        model = LSTMClassifier(config, frequencies)
        state = load_file(str(directory / WEIGHTS), device=map_location)
        model.load_state_dict(state, strict=True)
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        hf_model = AutoModelForSequenceClassification.from_pretrained(directory)
        encoder = AutoTokenizer.from_pretrained(directory)
        model = HFTextClassifier(
            hf_model, frequencies, normalization=metadata["normalization"], uniform=uniform,
            embedding_dropout=metadata["embedding_dropout"],
        )
        # The frequency table as saved (already normalised), so the normalisation is bit-identical.
        if frequencies is not None:
            model.embedding.frequencies.copy_(frequencies.to(model.embedding.frequencies.dtype))
        model.to(map_location)
    model.eval()
    return LoadedTextModel(model, encoder, metadata)
