"""Word tokenisation, the LSTM's vocabulary, and unigram frequencies for normalised embeddings.

The frequencies fⱼ of Miyato et al. (2017) (PAPERS.md §7) are unigram counts of each embedding row
over the training plus unlabeled text, counted the way the model sees the text: for the LSTM, the
word tokens after vocabulary lookup (rare words count towards ``<unk>``); for a Hugging Face
tokenizer, the token ids it produces, special tokens included, padding excluded.

Files (plain text, UTF-8, written atomically; read with or without a byte-order mark):

- vocabulary file (:meth:`Vocabulary.save`): one ``token<TAB>count`` line per row, in row order;
- token file (:func:`save_tokens`): one token per line, in row order (checkpoints' ``vocab.txt``);
- frequency file (:func:`save_frequencies`): one count per line, one line per embedding row.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from ..report.io import decoding, open_text, write_text
from .hf import quiet_transformers

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1

# Words (letters/digits with inner apostrophes) or single punctuation marks.
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)

PathLike = Union[str, os.PathLike]


def word_tokenize(text: str, max_tokens: Optional[int] = None) -> List[str]:
    """Lower-cased words and punctuation marks: ``"It's GREAT!"`` → ``["it's", "great", "!"]``.

    HTML line breaks (IMDB's ``<br />``) count as spaces. With ``max_tokens`` the scan stops early,
    so a 100k-word text costs no more than its first ``max_tokens`` words.
    """
    text = _HTML_BREAK.sub(" ", text).lower()
    if max_tokens is None:
        return _TOKEN.findall(text)
    tokens = []
    for match in _TOKEN.finditer(text):
        if len(tokens) == max_tokens:
            break
        tokens.append(match.group())
    return tokens


def _escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def unescape_token(token: str) -> str:
    """Undo the escapes of :func:`save_tokens` (``\\t``, ``\\n``, ``\\r``, ``\\\\``) in one token."""
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), token)


def save_tokens(path: PathLike, tokens: Sequence[str]) -> None:
    """One token per line in row order (tabs, newlines and backslashes escaped as ``\\t \\n \\\\``)."""
    write_text(path, "".join(_escape(t) + "\n" for t in tokens))


def numbered_lines(path: PathLike) -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (a byte-order mark skipped); bytes that are not UTF-8 are
    a ``ValueError`` naming the file, the line and the byte offset."""
    with decoding(path, hint="; vocabulary and frequency files are UTF-8"), open_text(path) as f:
        yield from enumerate(f, start=1)


def load_tokens(path: PathLike) -> List[str]:
    """Inverse of :func:`save_tokens`."""
    return [unescape_token(line.rstrip("\n")) for _, line in numbered_lines(path)]


def save_frequencies(path: PathLike, counts: Union[Tensor, Sequence[float]]) -> None:
    """One count (or frequency) per line, one line per embedding row."""
    values = torch.as_tensor(counts, dtype=torch.float64).reshape(-1).tolist()
    write_text(path, "".join((f"{int(v)}" if float(v).is_integer() else repr(float(v))) + "\n" for v in values))


def load_frequencies(path: PathLike) -> Tensor:
    """The counts ``[V]`` (float64) of a frequency file; ``ValueError`` with the line on bad input."""
    values = []
    for number, line in numbered_lines(path):
        try:
            values.append(float(line))
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected one number per line, got {line.strip()!r}") from None
    return torch.tensor(values, dtype=torch.float64)


@dataclass(frozen=True)
class Vocabulary:
    """Word vocabulary of the LSTM: row ``i`` is ``tokens[i]``; ``<pad>`` = 0, ``<unk>`` = 1.

    ``counts[i]`` is how often row ``i`` occurs in the text it was built from (``<pad>``: 0;
    ``<unk>``: the occurrences of all words left out), the unigram counts of Miyato's normalisation.
    """

    tokens: tuple
    counts: tuple

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.counts):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.counts)} counts")
        if len(self.tokens) < 2 or self.tokens[PAD_ID] != PAD or self.tokens[UNK_ID] != UNK:
            raise ValueError(f"a vocabulary starts with {PAD!r} (row 0) and {UNK!r} (row 1)")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Iterable[str], *, min_count: int = 2, max_size: Optional[int] = None) -> "Vocabulary":
        """Count words over ``texts`` (training plus unlabeled text) and keep the frequent ones.

        Words seen fewer than ``min_count`` times, or beyond the ``max_size`` most frequent rows
        (``<pad>`` and ``<unk>`` included), map to ``<unk>``. Ties are broken alphabetically, so the
        vocabulary does not depend on the order of the texts.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        if max_size is not None and max_size < 3:
            raise ValueError(f"max_size must be >= 3 (<pad>, <unk> and one word), got {max_size}")
        counter: Counter = Counter()
        for text in texts:
            counter.update(word_tokenize(text))
        words = sorted((w for w, c in counter.items() if c >= min_count), key=lambda w: (-counter[w], w))
        if max_size is not None:
            words = words[: max_size - 2]
        kept = set(words)
        unk = sum(c for w, c in counter.items() if w not in kept)
        return cls(tokens=(PAD, UNK, *words), counts=(0, unk, *(counter[w] for w in words)))

    # ------------------------------------------------------------------ use
    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def index(self, token: str) -> int:
        return self._index.get(token, UNK_ID)

    def encode(self, text: str, max_length: Optional[int] = None) -> List[int]:
        """Word ids of ``text`` (at most ``max_length``)."""
        return [self._index.get(t, UNK_ID) for t in word_tokenize(text, max_length)]

    def frequencies(self) -> Tensor:
        """Unigram counts ``[V]`` (float64); :class:`NormalizedEmbedding` normalises them."""
        return torch.tensor(self.counts, dtype=torch.float64)

    # ------------------------------------------------------------------ files
    def save(self, path: PathLike) -> None:
        """``token<TAB>count`` per line, in row order."""
        write_text(path, "".join(f"{_escape(t)}\t{int(c)}\n" for t, c in zip(self.tokens, self.counts)))

    @classmethod
    def load(cls, path: PathLike) -> "Vocabulary":
        tokens, counts = [], []
        for number, line in numbered_lines(path):
            token, sep, count = line.rstrip("\n").rpartition("\t")
            if not sep:
                raise ValueError(f"{path}, line {number}: expected 'token<TAB>count', got {line.strip()!r}")
            try:
                counts.append(int(count))
            except ValueError:
                raise ValueError(f"{path}, line {number}: count {count!r} is not an integer") from None
            tokens.append(unescape_token(token))
        return cls(tuple(tokens), tuple(counts))

    @classmethod
    def from_files(cls, tokens_path: PathLike, frequencies_path: PathLike) -> "Vocabulary":
        """Rebuild from a checkpoint's token file and frequency file."""
        tokens = load_tokens(tokens_path)
        counts = load_frequencies(frequencies_path)
        if len(tokens) != counts.numel():
            raise ValueError(
                f"{tokens_path} has {len(tokens)} tokens but {frequencies_path} has {counts.numel()} counts"
            )
        return cls(tuple(tokens), tuple(int(c) for c in counts.tolist()))


def word_frequencies(
    tokenizer, texts: Iterable[str], *, vocab_size: Optional[int] = None, batch_size: int = 1000
) -> Tensor:
    """Unigram counts ``[V]`` (float64) of a Hugging Face tokenizer's ids over ``texts``.

    Counted as the model sees a text: special tokens (``[CLS]``, ``[SEP]``) included, no padding,
    no truncation. ``vocab_size`` defaults to ``len(tokenizer)``; pass the model's embedding rows
    when the matrix is larger than the tokenizer (padded vocabularies).
    """
    size = len(tokenizer) if vocab_size is None else int(vocab_size)
    counts = torch.zeros(size, dtype=torch.float64)
    batch: List[str] = []

    def flush() -> None:
        if not batch:
            return
        with quiet_transformers():  # long texts are fine here: nothing is fed to the model
            encoded = tokenizer(batch, add_special_tokens=True, truncation=False, padding=False)["input_ids"]
        ids = torch.tensor([i for seq in encoded for i in seq], dtype=torch.long)
        if ids.numel():
            if int(ids.max()) >= size:
                raise ValueError(f"the tokenizer produced id {int(ids.max())} but vocab_size is {size}")
            counts.add_(torch.bincount(ids, minlength=size).to(torch.float64))
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) == batch_size:
            flush()
    flush()
    return counts
