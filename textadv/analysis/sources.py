"""Where word embeddings come from: GloVe, a ``.npy`` matrix, a Hugging Face model, a textadv checkpoint.

Every source gives an :class:`EmbeddingTable`: a float32 matrix ``[V, D]``, the token of each row,
and how to split a word that is not a row into the rows that represent it (word pieces). A query
word resolves (:meth:`EmbeddingTable.resolve`) to

- its own row (``status="word"``);
- the rows of its pieces (``status="pieces"``): a subword tokenizer's pieces, or the lower-cased
  word for a lower-cased vocabulary. Several pieces are represented by the mean of their rows and
  labelled ``good##ness [mean of 2 pieces]`` in every output; neighbours are still vocabulary rows;
- nothing (``status="unknown"``): reported as unknown, never dropped.

Checkpoints can be read ``raw`` or ``normalized``: Miyato et al. (2017, PAPERS.md §7) normalise
embeddings per dimension, v̄ = (v − E)/√(Var + 1e-6) with frequency-weighted E and Var; the
statistics come from :func:`textadv.text.normalized_embedding.frequency_moments`, the function the
models use.

Source specs (:func:`load_source`, the ``textadv neighbours`` command):

=============================== ==============================================================
``glove``                       the packaged GloVe 6B 50d vectors (400,000 words)
``hf:<model id or path>``       a Hugging Face model's input word embeddings and its tokenizer
``npy:<matrix.npy>:<vocab.txt>`` a matrix file and a vocabulary file (one token per line,
                                optionally ``token<TAB>count``)
``ckpt:<dir>`` or ``<dir>``     a textadv text-model directory (``textadv_model.json``), or a run
                                directory holding one in ``model/``
=============================== ==============================================================

``transformers`` is imported only inside the functions that need it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]
SPACES = ("auto", "raw", "normalized")
SPEC_HELP = "glove | hf:<model id or path> | npy:<matrix.npy>:<vocab.txt> | ckpt:<dir> | <dir>"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Query:
    """A query word resolved against one table: the rows whose mean represents it."""

    word: str
    label: str  # how outputs show it, e.g. "good", "good##ness [mean of 2 pieces]", "xyzzy [unknown]"
    status: str  # "word" | "pieces" | "unknown"
    rows: tuple = ()
    pieces: tuple = ()

    @property
    def self_row(self) -> int:
        """The row a single-row query excludes from its own neighbours (-1 for a mean of pieces)."""
        return self.rows[0] if len(self.rows) == 1 else -1


@dataclass(frozen=True)
class EmbeddingTable:
    """Word embeddings of one source.

    Attributes:
        name: the column label in reports.
        matrix: ``[V, D]`` float32 (possibly memory-mapped, read-only).
        vocab: ``V`` tokens, row order.
        kind: ``"glove"``, ``"npy"``, ``"hf"``, ``"lstm-checkpoint"`` or ``"hf-checkpoint"``.
        space: ``"raw"`` or ``"normalized"`` (Miyato's normalisation applied to ``matrix``).
        source: the spec or path it was loaded from.
        tokenize: splits a word that is not a row into tokens (pieces); ``None``: no splitting.
        frequencies: ``[V]`` counts or frequencies when the source has them.
    """

    name: str
    matrix: np.ndarray
    vocab: tuple
    kind: str
    space: str = "raw"
    source: str = ""
    tokenize: Optional[Callable[[str], Sequence[str]]] = field(default=None, repr=False, compare=False)
    frequencies: Optional[np.ndarray] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.matrix.ndim != 2:
            raise ValueError(f"{self.name}: the embedding matrix must be 2-D [V, D], got shape {self.matrix.shape}")
        if len(self.vocab) != self.matrix.shape[0]:
            raise ValueError(
                f"{self.name}: the vocabulary has {len(self.vocab)} tokens but the embedding matrix has "
                f"{self.matrix.shape[0]} rows; they must match row for row"
            )
        rows: dict = {}
        for i, token in enumerate(self.vocab):
            rows.setdefault(token, i)  # a duplicated token resolves to its first row
        object.__setattr__(self, "_rows", rows)

    @property
    def shape(self) -> tuple:
        return tuple(self.matrix.shape)

    def row(self, token: str) -> Optional[int]:
        """The row of ``token``, or ``None``."""
        return self._rows.get(token)

    def resolve(self, word: str) -> Query:
        """``word`` as a :class:`Query`: its row, the mean of its pieces' rows, or unknown."""
        row = self.row(word)
        if row is not None:
            return Query(word, word, "word", (row,), (word,))
        pieces = tuple(self.tokenize(word)) if self.tokenize is not None else ()
        rows = tuple(self.row(p) for p in pieces)
        if not pieces or any(r is None for r in rows):
            return Query(word, f"{word} [unknown]", "unknown", (), pieces)
        if len(pieces) == 1:
            return Query(word, f"{word} [as {pieces[0]}]", "pieces", rows, pieces)
        return Query(word, f"{''.join(pieces)} [mean of {len(pieces)} pieces]", "pieces", rows, pieces)

    def vector(self, query: Query) -> np.ndarray:
        """``[D]`` float32: the query's row, or the mean of its pieces' rows."""
        if not query.rows:
            raise ValueError(f"{self.name}: {query.word!r} is not in the vocabulary")
        return np.asarray(self.matrix[list(query.rows)], dtype=np.float32).mean(axis=0)


# ---------------------------------------------------------------------------------------- files
def read_vocab_file(path: PathLike) -> tuple[list, Optional[np.ndarray]]:
    """Tokens of a vocabulary file in row order, and their counts when every line has one.

    One token per line, optionally ``token<TAB>count``; ``\\t``, ``\\n`` and ``\\\\`` inside a token
    are escapes (:func:`textadv.text.vocab.save_tokens`), so a literal tab always separates a count.
    """
    from ..text.vocab import numbered_lines, unescape_token

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vocabulary file {path} not found")
    tokens, counts = [], []
    for number, line in numbered_lines(path):
        token, sep, count = line.rstrip("\n").rpartition("\t")
        if not sep:
            token, count = count, None
        elif not _NUMBER.match(count.strip()):
            raise ValueError(f"{path}, line {number}: expected 'token' or 'token<TAB>count', got {line.rstrip()!r}")
        tokens.append(unescape_token(token))
        counts.append(count)
    if not tokens:
        raise ValueError(f"vocabulary file {path} is empty")
    with_counts = [c is not None for c in counts]
    if any(with_counts) and not all(with_counts):
        raise ValueError(f"{path}: some lines have a count and some do not ({sum(with_counts)} of {len(tokens)})")
    return tokens, (np.array([float(c) for c in counts]) if all(with_counts) else None)


def _load_matrix(path: PathLike) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"embedding matrix file {path} not found")
    matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    if matrix.ndim != 2:
        raise ValueError(f"{path}: the embedding matrix must be 2-D [V, D], got shape {matrix.shape}")
    return matrix if matrix.dtype == np.float32 else matrix.astype(np.float32)


def miyato_normalize(matrix: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """v̄ = (v − E)/√(Var + 1e-6) per dimension, E and Var weighted by ``frequencies`` ``[V]`` (PAPERS.md §7).

    ``matrix`` ``[V, D]``; returns float32 ``[V, D]``. The statistics are computed in float64 by
    the models' own :func:`~textadv.text.normalized_embedding.frequency_moments`.
    """
    import torch

    from ..text.normalized_embedding import VARIANCE_EPS, frequency_moments, normalize_frequencies

    weight = torch.from_numpy(np.array(matrix, dtype=np.float64))
    f = normalize_frequencies(torch.as_tensor(np.asarray(frequencies, dtype=np.float64)), weight.shape[0])
    mean, var = frequency_moments(weight, f)
    return ((weight - mean) / torch.sqrt(var + VARIANCE_EPS)).to(torch.float32).numpy()


# -------------------------------------------------------------------------------------- sources
def glove_table(name: str = "glove", paths: Optional[tuple] = None) -> EmbeddingTable:
    """GloVe 6B 50d (400,000 × 50), ``paths = (vectors.npy, index.parquet)`` (default: the packaged vectors).

    Its vocabulary is lower-cased, so a word with capitals resolves to its lower-cased row.
    """
    import pandas as pd

    from .. import assets

    vectors, index = paths if paths is not None else assets.glove_6b_50d()
    words = pd.read_parquet(index, columns=["index"])["index"].astype(str).tolist()
    return EmbeddingTable(
        name, _load_matrix(vectors), tuple(words), "glove", "raw", "glove", tokenize=lambda w: [w.lower()]
    )


def npy_table(matrix: PathLike, vocab: PathLike, name: Optional[str] = None, *, space: str = "raw") -> EmbeddingTable:
    """A ``.npy`` matrix ``[V, D]`` with a vocabulary file; ``space="normalized"`` needs counts in the file."""
    _check_space(space)
    tokens, counts = read_vocab_file(vocab)
    m = _load_matrix(matrix)
    if len(tokens) != m.shape[0]:
        raise ValueError(
            f"the vocabulary file {vocab} has {len(tokens)} tokens but the matrix {matrix} has {m.shape[0]} rows; "
            "they must match row for row"
        )
    if space == "normalized":
        if counts is None:
            raise ValueError(f"--normalized needs word counts: {vocab} has no 'token<TAB>count' lines")
        m = miyato_normalize(m, counts)
    spec = f"npy:{matrix}:{vocab}"
    return EmbeddingTable(
        name or Path(matrix).stem,
        m,
        tuple(tokens),
        "npy",
        "normalized" if space == "normalized" else "raw",
        spec,
        frequencies=counts,
    )


def hf_table(model: str, name: Optional[str] = None) -> EmbeddingTable:
    """A Hugging Face model's input word embeddings ``get_input_embeddings().weight`` and its tokenizer.

    ``model`` is a hub id or a local directory (offline: ``textadv.assets.minilm_dir()``).
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from ..text.checkpoint import hf_tokens

    hf = AutoModel.from_pretrained(model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    weight = hf.get_input_embeddings().weight.detach().to("cpu", torch.float32).numpy()
    tokens = hf_tokens(tokenizer, weight.shape[0])
    label = name or f"hf:{Path(str(model)).name}"
    return EmbeddingTable(label, weight, tuple(tokens), "hf", "raw", f"hf:{model}", tokenize=_hf_pieces(tokenizer))


def _hf_pieces(tokenizer) -> Callable[[str], list]:
    unk = getattr(tokenizer, "unk_token", None)

    def pieces(word: str) -> list:
        out = tokenizer.tokenize(word)
        return [] if unk is not None and unk in out else out  # an unknown piece: the word is unknown

    return pieces


def find_model_dir(path: PathLike) -> Path:
    """The text-model directory at ``path``: itself, the ``model/`` of a fine-tuning run directory or the
    ``lm/`` of a ``pretrain-lm`` run directory."""
    from ..text.checkpoint import MODEL_JSON, RUN_LM_DIR, RUN_MODEL_DIR

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"checkpoint directory {path} not found")
    for candidate in (path, path / RUN_MODEL_DIR, path / RUN_LM_DIR):
        if (candidate / MODEL_JSON).is_file():
            return candidate
    raise FileNotFoundError(
        f"no embedding matrix description in {path}: expected {MODEL_JSON} in {path}, {path / RUN_MODEL_DIR} "
        f"or {path / RUN_LM_DIR} "
        "(textadv.text.save_text_model writes it beside model.safetensors)"
    )


def checkpoint_table(path: PathLike, name: Optional[str] = None, *, space: str = "auto") -> EmbeddingTable:
    """The word embeddings of a textadv text-model directory (``textadv.text.save_text_model``).

    The matrix, its tokens and frequencies come from :func:`textadv.text.checkpoint.read_embedding`
    (format version checked, no pickles, damaged files named). ``space``: ``"raw"``, ``"normalized"``
    (Miyato's normalisation with the saved frequencies) or ``"auto"`` (normalized when the model was
    trained with ``normalization == "miyato"``, raw otherwise).
    """
    from ..text.checkpoint import RUN_LM_DIR, RUN_MODEL_DIR, load_tokenizer, read_embedding

    _check_space(space)
    directory = find_model_dir(path)
    saved = read_embedding(directory)
    meta, matrix, frequencies = saved.metadata, saved.matrix, saved.frequencies
    if space == "auto":
        space = "normalized" if meta.get("normalization") == "miyato" else "raw"
    if space == "normalized":
        if frequencies is None:
            if not meta.get("uniform"):
                raise ValueError(
                    f"{directory}: normalized embeddings need word frequencies, but the checkpoint has no "
                    "frequencies_file; use --raw"
                )
            frequencies = np.ones(matrix.shape[0])  # the model itself was trained with uniform weights
        matrix = miyato_normalize(matrix, frequencies)
    if meta["kind"] in ("lstm", "lstm-lm"):  # the classifier and the language model share the word vocabulary
        from ..text.vocab import word_tokenize

        tokenize = word_tokenize
    else:
        tokenize = _hf_pieces(load_tokenizer(directory))
    label = name or (directory.parent.name if directory.name in (RUN_MODEL_DIR, RUN_LM_DIR) else directory.name)
    return EmbeddingTable(
        label,
        matrix,
        saved.tokens,
        f"{meta['kind']}-checkpoint",
        space,
        str(path),
        tokenize=tokenize,
        frequencies=frequencies,
    )


def _check_space(space: str) -> None:
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}, got {space!r}")


def load_source(spec: str, name: Optional[str] = None, *, space: str = "auto") -> EmbeddingTable:
    """An :class:`EmbeddingTable` from a source spec (module docstring: ``glove``, ``hf:…``, ``npy:…:…``,
    ``ckpt:…`` or a directory).

    ``space`` applies to sources with word frequencies (checkpoints, and ``npy`` with counts):
    ``"auto"`` follows the checkpoint's own normalisation; GloVe and Hugging Face models have no
    frequencies and are always raw (``space="normalized"`` is an error for them).
    """
    _check_space(space)
    if not spec or not spec.strip():
        raise ValueError(f"empty source spec; expected {SPEC_HELP}")
    if spec == "glove":
        _raw_only(spec, space)
        return glove_table(name or "glove")
    if spec.startswith("hf:"):
        _raw_only(spec, space)
        if not spec[3:]:
            raise ValueError(f"source {spec!r} names no model; expected hf:<model id or path>")
        return hf_table(spec[3:], name)
    if spec.startswith("npy:"):
        rest = spec[4:]
        cut = rest.find(".npy:")
        if cut < 0 or not rest[cut + 5 :]:
            raise ValueError(f"source {spec!r}: expected npy:<matrix.npy>:<vocab.txt>")
        return npy_table(rest[: cut + 4], rest[cut + 5 :], name, space="raw" if space == "auto" else space)
    if spec.startswith("ckpt:"):
        return checkpoint_table(spec[5:], name, space=space)
    if Path(spec).exists() or os.sep in spec or "/" in spec:
        return checkpoint_table(spec, name, space=space)
    raise ValueError(f"unknown embedding source {spec!r}; expected {SPEC_HELP}")


def _raw_only(spec: str, space: str) -> None:
    if space == "normalized":
        raise ValueError(f"source {spec!r} has no word frequencies, so it cannot be normalized; use --raw or auto")
