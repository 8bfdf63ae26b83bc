"""Extractive QA systems behind one interface: a Hugging Face QA model, a predictions file, and the
weight-free sliding-window baseline of the SQuAD paper.

Every system maps SQuAD questions to answer strings (:meth:`QASystem.predict`, the official
evaluator's ``{"id": "answer text"}``); systems that score spans also give their ``k`` best answers with
probabilities (:meth:`QASystem.top_spans`), which the model-in-the-loop adversaries (AddAny, AddCommon,
PAPERS.md §8) use to compute the model's expected F1. Spans with the same text are one answer: their
probabilities are summed before the top ``k`` are kept, then renormalised over those ``k``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol, Sequence, runtime_checkable

from .squad import SquadQuestion


@runtime_checkable
class QASystem(Protocol):
    """An extractive QA system (shapes: one answer / one list of spans per question, in order)."""

    def predict(self, questions: Sequence[SquadQuestion]) -> dict[str, str]:
        """``{question id: answer text}``."""
        ...

    def top_spans(self, questions: Sequence[SquadQuestion], k: int = 10) -> list[list[tuple[str, float]]]:
        """Per question, the ``k`` best distinct answers ``(text, probability)``, best first; the
        probabilities are renormalised over those ``k`` and sum to 1."""
        ...


def merge_spans(scored: Sequence[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    """``(text, probability)`` pairs → the ``k`` most probable distinct texts, renormalised to sum to 1.

    Probabilities of equal texts are summed first (two spans with one text are one answer to the
    evaluator). Ties keep the first-seen order, so the result is deterministic.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    totals: dict[str, float] = {}
    for text, p in scored:
        totals[text] = totals.get(text, 0.0) + float(p)
    best = sorted(totals.items(), key=lambda item: -item[1])[:k]
    z = sum(p for _, p in best)
    if not best:
        return []
    if z <= 0 or not math.isfinite(z):
        return [(t, 1.0 / len(best)) for t, _ in best]
    return [(t, p / z) for t, p in best]


def softmax(scores: Sequence[float]) -> list[float]:
    """Numerically stable softmax of a list of floats."""
    m = max(scores)
    exps = [math.exp(s - m) for s in scores]
    z = sum(exps)
    return [e / z for e in exps]


class _SpanScorer:
    """A system that scores candidate spans: :meth:`predict` and :meth:`top_spans` both follow from its
    ``_candidates(questions)``, per question the ``(span text, score)`` of its candidate spans."""

    def _candidates(self, questions: Sequence[SquadQuestion]) -> list[list[tuple[str, float]]]:
        raise NotImplementedError

    def predict(self, questions: Sequence[SquadQuestion]) -> dict[str, str]:
        """Each question's best-scored span (``""`` when it has no candidate)."""
        questions = list(questions)
        return {
            q.id: max(spans, key=lambda ts: ts[1])[0] if spans else ""
            for q, spans in zip(questions, self._candidates(questions))
        }

    def top_spans(self, questions: Sequence[SquadQuestion], k: int = 10) -> list[list[tuple[str, float]]]:
        """A softmax over each question's span scores, merged by :func:`merge_spans`; no candidate: ``[("", 1.0)]``."""
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        result = []
        for spans in self._candidates(questions):
            if not spans:
                result.append([("", 1.0)])
                continue
            probs = softmax([s for _, s in spans])
            result.append(merge_spans([(t, p) for (t, _), p in zip(spans, probs)], k))
        return result


# ------------------------------------------------------------------------------- sliding-window baseline

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """``(lower-cased token, start char, end char)`` for words and single punctuation marks."""
    return [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@dataclass(frozen=True)
class SlidingWindowBaseline(_SpanScorer):
    """The sliding-window baseline of the SQuAD paper (Rajpurkar et al. 2016, §5), weight-free.

    Candidates are the context's token spans of at most ``max_answer_tokens`` tokens that neither
    start nor end with a stop word or punctuation and contain no question word. Each is scored, as in
    the paper, first by the unigram + bigram overlap between the question and the candidate's sentence
    with the candidate itself left out, then, among equal overlaps, by Richardson et al. (2013)'s
    sliding window: the summed inverse-count weights ``IC(w) = log(1 + 1/C(w))`` (``C(w)``: count of
    ``w`` in the context) of the question words inside ``window`` tokens on each side of the candidate
    (``window`` defaults to the number of distinct question content words, at least 3).

    Deviations from the paper: candidates are token spans instead of parse constituents (no parser
    needed), and words are matched lower-cased without lemmas. The combined score is
    ``overlap + window_score / (1 + max window_score)``, which orders candidates exactly as the
    paper's two-stage rule; :meth:`top_spans` turns those scores into **pseudo-probabilities** by a
    softmax -- the baseline has no probabilistic model, so they only rank spans and make expected-F1
    adversaries (AddAny) applicable to it.
    """

    max_answer_tokens: int = 5
    window: Optional[int] = None

    def __post_init__(self) -> None:
        if self.max_answer_tokens <= 0:
            raise ValueError(f"max_answer_tokens must be positive, got {self.max_answer_tokens}")
        if self.window is not None and self.window <= 0:
            raise ValueError(f"window must be positive, got {self.window}")

    def _candidates(self, questions: Sequence[SquadQuestion]) -> list[list[tuple[str, float]]]:
        stop = _stop_words()
        return [self._scored(q, stop) for q in questions]

    def _scored(self, q: SquadQuestion, stop: frozenset[str]) -> list[tuple[str, float]]:
        """``(candidate text, combined score)`` for every candidate span of ``q.context``."""
        toks = _tokens(q.context)
        words = [t for t, _, _ in toks]
        q_words = {t for t, _, _ in _tokens(q.question) if t not in stop and any(c.isalnum() for c in t)}
        q_all = [t for t, _, _ in _tokens(q.question)]
        q_bigrams = set(zip(q_all, q_all[1:]))
        n = len(words)
        counts: dict[str, int] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        window = self.window or max(3, len(q_words))
        # prefix sums: IC weight of question words, unigram matches and bigram matches per position
        ic = [0.0] * (n + 1)
        uni = [0] * (n + 1)
        bi = [0] * (n + 1)  # bi[i+1] counts the bigram (i, i+1) ending at token i+1
        for i, w in enumerate(words):
            hit = w in q_words
            ic[i + 1] = ic[i] + (math.log(1.0 + 1.0 / counts[w]) if hit else 0.0)
            uni[i + 1] = uni[i] + hit
            bi[i + 1] = bi[i] + (i > 0 and (words[i - 1], w) in q_bigrams)
        sentence = self._sentence_bounds(words)
        candidates = []
        for i in range(n):
            if words[i] in stop or not any(c.isalnum() for c in words[i]) or words[i] in q_words:
                continue
            for j in range(i + 1, min(n, i + self.max_answer_tokens) + 1):  # span [i, j)
                last = words[j - 1]
                if last in q_words:
                    break
                if last in stop or not any(c.isalnum() for c in last):
                    continue
                s0, s1 = sentence[i]
                if sentence[j - 1] != (s0, s1):
                    break  # an answer does not cross a sentence boundary
                unigrams = (uni[s1] - uni[s0]) - (uni[j] - uni[i])
                # bigrams inside the sentence ending at s0+1..s1-1, minus those touching the candidate
                bigrams = (bi[s1] - bi[s0 + 1]) - (bi[min(j + 1, s1)] - bi[max(i, s0 + 1)])
                sw = (ic[i] - ic[max(0, i - window)]) + (ic[min(n, j + window)] - ic[j])
                candidates.append((q.context[toks[i][1] : toks[j - 1][2]], unigrams + bigrams, sw))
        if not candidates:
            return []
        top_sw = max(c[2] for c in candidates)
        return [(text, overlap + sw / (1.0 + top_sw)) for text, overlap, sw in candidates]

    @staticmethod
    def _sentence_bounds(words: Sequence[str]) -> list[tuple[int, int]]:
        """Per token, the ``[start, end)`` token range of its sentence (split after . ! ?)."""
        bounds = []
        start = 0
        for i, w in enumerate(words):
            if w in {".", "!", "?"} or i == len(words) - 1:
                bounds.extend([(start, i + 1)] * (i + 1 - start))
                start = i + 1
        return bounds


# ----------------------------------------------------------------------------------------- predictions file


@dataclass(frozen=True)
class PredictionsFile:
    """Any QA system, through its predictions file ``{"id": "answer text"}`` (the official evaluator's
    format). It has no span scores, so it offers :meth:`predict` only; ids the file lacks are simply
    absent from the result (the metrics score them 0 and warn once with their count)."""

    predictions: dict

    @classmethod
    def read(cls, path) -> "PredictionsFile":
        """Read and validate a predictions file: a JSON object whose values are all strings."""
        from ..report.io import read_json

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"predictions file {path} does not exist")
        data = read_json(path, "predictions file ")
        if not isinstance(data, dict):
            raise ValueError(
                f'predictions file {path} must be a JSON object {{"id": "answer text"}}, got a {type(data).__name__}'
            )
        bad = [k for k, v in data.items() if not isinstance(v, str)]
        if bad:
            raise ValueError(
                f"predictions file {path}: {len(bad)} answer(s) are not strings (e.g. id {bad[0]!r}: {data[bad[0]]!r})"
            )
        return cls(data)

    def predict(self, questions: Sequence[SquadQuestion]) -> dict[str, str]:
        return {q.id: self.predictions[q.id] for q in questions if q.id in self.predictions}

    def top_spans(self, questions: Sequence[SquadQuestion], k: int = 10) -> list[list[tuple[str, float]]]:
        raise ValueError(
            "a predictions file has no span probabilities; the model-in-the-loop modes (AddAny, AddCommon) need --model"
        )


# ------------------------------------------------------------------------------------ Hugging Face models


class HFQASystem(_SpanScorer):
    """Any Hugging Face ``AutoModelForQuestionAnswering`` (hub id or local directory).

    Long contexts are cut into overlapping windows (:mod:`textadv.qa.features`); each window's valid
    spans are scored by ``start_logit + end_logit`` and a question's answer is its best span over all of
    its windows. :meth:`top_spans` turns those scores into probabilities by a softmax over the candidate
    spans of all windows (the ``n_best`` best per window), sums equal texts and renormalises over the
    ``k`` kept. Windows run in batches of ``batch_size`` under ``torch.no_grad`` on the device chosen by
    ``accelerate``; under ``accelerate launch`` each process predicts its share of the questions and the
    answers are gathered on every process.
    """

    def __init__(
        self,
        model,
        tokenizer,
        settings=None,
        *,
        batch_size: int = 32,
        n_best: int = 20,
        progress: bool = False,
        name: str = "model",
    ):
        from .features import WindowSettings, check_tokenizer

        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if n_best <= 0:
            raise ValueError(f"n_best must be positive, got {n_best}")
        check_tokenizer(tokenizer)
        self.settings = settings or WindowSettings()
        positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        if isinstance(positions, int) and self.settings.max_seq_length > positions:
            raise ValueError(
                f"max_seq_length {self.settings.max_seq_length} exceeds the {positions} positions of "
                f"model {name!r}; lower --max-seq-length"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.n_best = n_best
        self.progress = progress
        self.name = name
        self._accelerator = None

    @classmethod
    def from_pretrained(cls, name_or_path, settings=None, **kwargs) -> "HFQASystem":
        """Load a QA model and its tokenizer; a model without a QA head is a one-line ``ValueError``."""
        from transformers import AutoConfig, AutoModelForQuestionAnswering, AutoTokenizer

        name = str(name_or_path)
        try:
            config = AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as err:
            raise FileNotFoundError(f"cannot load model {name!r}: {str(err).splitlines()[0]}") from None
        archs = config.architectures or []
        if archs and not any(a.endswith("ForQuestionAnswering") for a in archs):
            raise ValueError(
                f"model {name!r} is not a question-answering model (architectures: {', '.join(archs)}); "
                "fine-tune it for extractive QA first, e.g. with recipes/train_qa.py"
            )
        try:
            model = AutoModelForQuestionAnswering.from_pretrained(name, config=config)
        except ValueError as err:
            raise ValueError(f"model {name!r} has no question-answering variant: {str(err).splitlines()[0]}") from None
        tokenizer = AutoTokenizer.from_pretrained(name)
        return cls(model, tokenizer, settings, name=name, **kwargs)

    @property
    def accelerator(self):
        if self._accelerator is None:
            import torch
            from accelerate import Accelerator

            # cpu=True without CUDA so that `accelerate launch` on CPU machines still joins the gloo group
            self._accelerator = Accelerator(cpu=not torch.cuda.is_available())
            self.model = self._accelerator.prepare_model(self.model, evaluation_mode=True)
        return self._accelerator

    def _candidates(self, questions: Sequence[SquadQuestion]) -> list[list[tuple[str, float]]]:
        """Per question, ``(span text, score)`` of the ``n_best`` best spans of each of its windows."""
        import torch
        from tqdm.auto import tqdm

        from .features import best_spans, encode_windows, padded_batches

        acc = self.accelerator
        questions = list(questions)
        result: list[list[tuple[str, float]]] = [[] for _ in questions]
        if not questions:
            return result
        with acc.split_between_processes(list(range(len(questions)))) as mine:
            local = {}
            chunk = max(self.batch_size * 8, 64)  # encode a few batches at a time: bounded memory
            bar = tqdm(
                total=len(mine),
                desc=f"predict {self.name}",
                leave=False,
                disable=None if (self.progress and acc.is_main_process) else True,
            )
            self.model.eval()
            for c0 in range(0, len(mine), chunk):
                part = [questions[i] for i in mine[c0 : c0 + chunk]]
                windows = encode_windows(self.tokenizer, part, self.settings, pad=False)
                for rows, batch in padded_batches(self.tokenizer, windows, self.batch_size):
                    with torch.no_grad():
                        out = self.model(**{k: v.to(acc.device) for k, v in batch.items()})
                    starts, ends = out.start_logits.float().cpu(), out.end_logits.float().cpu()
                    for r, w in enumerate(rows):
                        q = part[windows.example[w]]
                        spans = best_spans(
                            starts[r],
                            ends[r],
                            windows.offsets[w],
                            max_answer_length=self.settings.max_answer_length,
                            n_best=self.n_best,
                        )
                        local.setdefault(mine[c0 + windows.example[w]], []).extend(
                            (q.context[s:e], score) for s, e, score in spans
                        )
                bar.update(len(part))
            bar.close()
        if acc.num_processes > 1:
            from accelerate.utils import gather_object

            merged = {}
            for shard in gather_object([local]):
                merged.update(shard)
            local = merged
        for i, spans in local.items():
            result[i] = spans
        return result


def load_system(name_or_path, *, settings=None, batch_size: int = 32, progress: bool = False) -> QASystem:
    """``"sliding-window"`` → :class:`SlidingWindowBaseline`; anything else a Hugging Face QA model id or path."""
    if str(name_or_path) == "sliding-window":
        return SlidingWindowBaseline()
    return HFQASystem.from_pretrained(name_or_path, settings, batch_size=batch_size, progress=progress)
