"""Tokenised examples and padded batches for :class:`~textadv.surfaces.TextSurface`.

:func:`encode_examples` tokenises a whole split once (truncating to ``max_length`` and saying so
once per split); :class:`TextCollator` pads each batch to its own longest sequence (dynamic padding,
right side) and returns ``{"input_ids": [B, T], "attention_mask": [B, T], "labels": [B]}``.
The examples are plain dicts, so any loader taking a sequence plus a ``collate_fn`` (a
``torch.utils.data.DataLoader``, the training loop of :mod:`textadv.train`) can batch them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Union

import torch

from .hf import quiet_transformers
from .vocab import PAD_ID, Vocabulary

Encoder = Union[Vocabulary, "PreTrainedTokenizerBase"]  # noqa: F821


def pad_id_of(encoder) -> int:
    """The padding id of a vocabulary (0) or of a Hugging Face tokenizer."""
    if isinstance(encoder, Vocabulary):
        return PAD_ID
    pad = encoder.pad_token_id
    return 0 if pad is None else int(pad)


def encode_texts(encoder, texts: Sequence[str], max_length: int, *, name: str = "texts") -> List[List[int]]:
    """Token ids of each text, at most ``max_length`` per text (special tokens included for HF).

    Texts longer than ``max_length`` are truncated, with one warning naming how many were cut.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be >= 2, got {max_length}")
    if isinstance(encoder, Vocabulary):
        # One token more than kept tells whether the text was cut, without tokenising all of it.
        ids = [encoder.encode(t, max_length + 1) for t in texts]
        cut = sum(len(x) > max_length for x in ids)
        ids = [x[:max_length] for x in ids]
    else:
        with quiet_transformers():  # its "longer than the maximum" notice is replaced by ours
            ids = [list(x) for x in encoder(list(texts), truncation=False, add_special_tokens=True)["input_ids"]]
        long = [i for i, x in enumerate(ids) if len(x) > max_length]
        cut = len(long)
        if long:
            # Truncate through the tokenizer so the special tokens ([SEP]) stay in place.
            short = encoder([texts[i] for i in long], truncation=True, max_length=max_length, add_special_tokens=True)[
                "input_ids"
            ]
            for i, x in zip(long, short):
                ids[i] = list(x)
    empty = [i for i, x in enumerate(ids) if not x]
    if empty:
        raise ValueError(f"{len(empty)} of the {name} have no tokens (rows {empty[:10]}); remove empty texts first")
    if cut:
        warnings.warn(
            f"{cut} of {len(ids)} {name} are longer than max_length={max_length} tokens and were truncated",
            stacklevel=2,
        )
    return ids


def encode_examples(
    encoder, texts: Sequence[str], labels: Optional[Sequence[int]], max_length: int, *, name: str = "texts"
) -> List[dict]:
    """Examples ``{"input_ids": [...], "labels": int}`` (no ``labels`` when ``labels`` is ``None``)."""
    ids = encode_texts(encoder, texts, max_length, name=name)
    if labels is None:
        return [{"input_ids": x} for x in ids]
    if len(labels) != len(ids):
        raise ValueError(f"{len(ids)} texts but {len(labels)} labels")
    return [{"input_ids": x, "labels": int(y)} for x, y in zip(ids, labels)]


@dataclass(frozen=True)
class TextCollator:
    """Pads a list of examples to the longest one: ``input_ids``/``attention_mask`` ``[B, T]``, ``labels`` ``[B]``."""

    pad_id: int = PAD_ID

    def __call__(self, examples: Sequence[Mapping]) -> dict:
        if not examples:
            raise ValueError("cannot collate an empty list of examples")
        length = max(len(e["input_ids"]) for e in examples)
        input_ids = torch.full((len(examples), length), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(examples), length), dtype=torch.long)
        for row, e in enumerate(examples):
            n = len(e["input_ids"])
            input_ids[row, :n] = torch.as_tensor(e["input_ids"], dtype=torch.long)
            attention_mask[row, :n] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "labels" in examples[0]:
            batch["labels"] = torch.tensor([int(e["labels"]) for e in examples], dtype=torch.long)
        return batch
