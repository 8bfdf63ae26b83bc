"""Question + context → fixed-length token windows for an extractive QA encoder, and back to answer spans.

The standard SQuAD preprocessing of BERT-style readers (Devlin et al. 2019; the Hugging Face QA
examples): the question is the first segment, the context the second; a context longer than the window
is cut into overlapping windows, ``doc_stride`` tokens shared by consecutive windows, so every answer
lies whole inside at least one window. Each window keeps the character offsets of its context tokens,
which map a predicted token span back to a substring of the original context.

Training labels (:func:`encode_windows` with ``labels=True``) are the token positions of the first gold
answer in each window, or the ``[CLS]`` position 0 where the answer is not wholly inside the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from .squad import SquadQuestion


@dataclass(frozen=True)
class WindowSettings:
    """Window geometry in tokens: the whole window, the overlap of consecutive windows, the longest
    question kept (longer questions are cut there), the longest answer considered at prediction."""

    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30

    def __post_init__(self) -> None:
        for name in ("max_seq_length", "doc_stride", "max_query_length", "max_answer_length"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        # room for [CLS] q [SEP] context [SEP] with at least doc_stride + 1 context tokens, so windows advance
        if self.max_query_length + self.doc_stride + 4 > self.max_seq_length:
            raise ValueError(
                f"max_seq_length {self.max_seq_length} leaves no room for a question of "
                f"{self.max_query_length} tokens and a doc stride of {self.doc_stride}; "
                "lower --doc-stride or raise --max-seq-length"
            )


@dataclass
class Windows:
    """Encoded windows (``W`` windows of ``L = max_seq_length`` tokens).

    ``inputs``: the model's tensors ``[W, L]`` (input_ids, attention_mask, token_type_ids when the model
    uses them), or per window lists of its own length when encoded with ``pad=False``; ``example``: ``[W]``
    index of the question each window belongs to; ``offsets``: per window,
    per token, the ``(start, end)`` characters in the context, or ``None`` for question/special/padding
    tokens; ``start_positions`` / ``end_positions``: ``[W]`` labels when requested.
    """

    inputs: dict
    example: list
    offsets: list
    start_positions: Optional[torch.Tensor] = None
    end_positions: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return len(self.example)


def check_tokenizer(tokenizer) -> None:
    """The windowing needs a fast tokenizer (character offsets) that pads on the right."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer; QA windows need character offsets")
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise ValueError("QA windows put the question first and need a tokenizer that pads on the right")


def _cut_questions(tokenizer, questions: Sequence[str], max_query_length: int) -> list[str]:
    """Questions longer than ``max_query_length`` tokens cut at that token's character offset."""
    enc = tokenizer(list(questions), add_special_tokens=False, return_offsets_mapping=True)
    cut = []
    for text, offsets in zip(questions, enc["offset_mapping"]):
        cut.append(text if len(offsets) <= max_query_length else text[: offsets[max_query_length - 1][1]])
    return cut


def encode_windows(
    tokenizer, questions: Sequence[SquadQuestion], settings: WindowSettings, *, labels: bool = False, pad: bool = True
) -> Windows:
    """Tokenise ``questions`` into overlapping windows (see the module docstring).

    ``pad=False`` leaves each window at its own length (``inputs`` then holds lists of token ids), for
    callers that batch windows of similar length and pad each batch only to its longest
    (:func:`padded_batches`): most SQuAD windows are far shorter than ``max_seq_length``.
    """
    check_tokenizer(tokenizer)
    if not questions:
        raise ValueError("no questions to encode")
    texts = _cut_questions(tokenizer, [q.question.lstrip() for q in questions], settings.max_query_length)
    enc = tokenizer(
        texts,
        [q.context for q in questions],
        truncation="only_second",
        max_length=settings.max_seq_length,
        stride=settings.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length" if pad else False,
        return_tensors="pt" if pad else None,
    )
    example = list(enc.pop("overflow_to_sample_mapping"))
    raw_offsets = enc.pop("offset_mapping")
    if pad:
        example, raw_offsets = [int(i) for i in example], raw_offsets.tolist()
    offsets = []
    for w in range(len(example)):
        seq = enc.sequence_ids(w)
        offsets.append([tuple(o) if s == 1 else None for o, s in zip(raw_offsets[w], seq)])
    windows = Windows(inputs=dict(enc), example=example, offsets=offsets)
    if labels:
        starts, ends = [], []
        for w, i in enumerate(example):
            answer = questions[i].answers[0]
            a0, a1 = answer.answer_start, answer.answer_start + len(answer.text)
            tokens = [t for t, o in enumerate(offsets[w]) if o is not None]
            s = e = 0
            if tokens and offsets[w][tokens[0]][0] <= a0 and offsets[w][tokens[-1]][1] >= a1:
                s = next(t for t in tokens if offsets[w][t][1] > a0)
                e = next(t for t in reversed(tokens) if offsets[w][t][0] < a1)
            starts.append(s)
            ends.append(e)
        windows.start_positions = torch.tensor(starts)
        windows.end_positions = torch.tensor(ends)
    return windows


def best_spans(
    start_logits: torch.Tensor, end_logits: torch.Tensor, offsets: Sequence, *, max_answer_length: int, n_best: int
) -> list[tuple[int, int, float]]:
    """The ``n_best`` highest-scoring valid spans of one window: ``(start char, end char, score)``.

    ``start_logits`` / ``end_logits``: ``[L]``; a span's score is ``start_logit + end_logit`` (the
    log-probability of the span up to a constant per window); valid spans lie in the context, end at or
    after their start and have at most ``max_answer_length`` tokens.
    """
    length = start_logits.shape[0]
    in_context = torch.tensor([i < len(offsets) and offsets[i] is not None for i in range(length)], dtype=torch.bool)
    if not bool(in_context.any()):
        return []
    scores = start_logits.float()[:, None] + end_logits.float()[None, :]
    idx = torch.arange(length)
    valid = (idx[None, :] >= idx[:, None]) & (idx[None, :] - idx[:, None] < max_answer_length)
    valid &= in_context[:, None] & in_context[None, :]
    scores = scores.masked_fill(~valid, float("-inf"))
    k = min(n_best, int(valid.sum()))
    top = torch.topk(scores.flatten(), k)
    spans = []
    for value, flat in zip(top.values.tolist(), top.indices.tolist()):
        s, e = divmod(flat, length)
        spans.append((offsets[s][0], offsets[e][1], value))
    return spans


def padded_batches(tokenizer, windows: Windows, batch_size: int):
    """Unpadded windows (``encode_windows(..., pad=False)``) in batches of similar length, each padded to
    its longest window: yields ``(window indices, {name: tensor [b, L_batch]})``. Sorting by length
    keeps the padding, and so the wasted compute, small; the indices say which window each row is."""
    order = sorted(range(len(windows)), key=lambda w: len(windows.inputs["input_ids"][w]))
    for b0 in range(0, len(order), batch_size):
        rows = order[b0 : b0 + batch_size]
        features = [{k: v[w] for k, v in windows.inputs.items()} for w in rows]
        yield rows, dict(tokenizer.pad(features, padding="longest", return_tensors="pt"))
