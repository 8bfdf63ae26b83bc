"""AddAny and AddCommon: the model-in-the-loop word search of Jia & Liang (2017, PAPERS.md §8).

Both append d = 10 words to the paragraph (``<orig_id>-addany`` / ``<orig_id>-addcommon``, the
original context an unchanged prefix) and choose them by a greedy coordinate search that minimises the
model's **expected F1** over its top spans,

    E[F1] = Σ_s p(s) · F1(s, golds)          (s ranges over the model's k best spans)

with the official SQuAD v1.1 F1 (max over gold answers). The search:

1. start from d distinct words drawn at random from a list of common English words;
2. for several passes, visit the d positions in a random order; at each position build a candidate set
   (``num_candidates`` random common words, plus every word of the question for AddAny; common words
   only for AddCommon), score all candidate word sequences with **one** batched ``top_spans`` call,
   and keep the candidate with the lowest expected F1 if it is lower than the current one;
3. stop when the expected F1 reaches 0, when a whole pass changes nothing, or when the question's
   budget of model queries (one query = one context scored) is spent.

An accepted change lowers the expected F1 by more than ``MIN_DECREASE`` (so that round-off in the
sum, when a swap leaves the model's spans unchanged, never counts as progress), so the recorded
trajectory is strictly decreasing.

Differences from Jia & Liang's code, on purpose:
- The common words are the 1,000 most frequent alphabetic words of GloVe 6B's vocabulary (which is
  ordered by corpus frequency), a list that installs offline (:func:`common_words`); Jia & Liang read a
  list of common English words from a file. Any list can be passed.
- No candidate word sequence may contain a gold answer (compared after the official normalisation,
  as a run of whole tokens), so the search can never "win" by writing the answer into the distractor.
- Each question has its own random stream seeded from ``(seed, question id)``, so a question's
  distractor does not depend on which other questions are attacked with it (``--limit`` keeps results).
- The search stops when the *expected* F1 reaches 0 (Jia & Liang's code stops when the best span's F1
  does), so it keeps lowering the probability left on the gold answer until the budget or a pass
  without change ends it. The question's words keep their case (Jia & Liang lower-cased them).
- The appended text ends with a period, as in Jia & Liang's code; one search uses one particle.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from tqdm.auto import tqdm

from .addsent import contains_answer
from .metrics import f1
from .squad import SquadQuestion, with_distractor

MODES = ("addany", "addcommon")
#: the smallest drop in expected F1 that counts as an improvement (well above float round-off)
MIN_DECREASE = 1e-9
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


@dataclass(frozen=True)
class AddAnySettings:
    """The search's knobs (Jia & Liang: d = 10 words, about 20 candidates per position).

    Attributes:
        mode: ``"addany"`` (common words plus the question's words) or ``"addcommon"`` (common words only);
            also the id tag of the variants.
        num_words: d, the number of appended words.
        num_candidates: random common words tried at each position (the question's words come on top).
        passes: the most passes over the d positions.
        top_k: spans per context in the expected F1.
        budget: the most contexts scored per question (the initial one included); ``None``: no limit.
        seed: seeds every question's random stream together with its id.
    """

    mode: str = "addany"
    num_words: int = 10
    num_candidates: int = 20
    passes: int = 3
    top_k: int = 10
    budget: Optional[int] = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        for name in ("num_words", "num_candidates", "passes", "top_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.budget is not None and (
            isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 1
        ):
            raise ValueError(f"budget must be a positive number of model queries per question, got {self.budget!r}")


@dataclass(frozen=True)
class AddAnyResult:
    """The outcome of one question's search.

    Attributes:
        question: the adversarial variant (id ``<orig_id>-<mode>``).
        words: the d appended words.
        trajectory: the expected F1 of the initial words, then after each accepted change (decreasing).
        queries: contexts scored by the model for this question.
    """

    question: SquadQuestion
    words: tuple[str, ...]
    trajectory: tuple[float, ...]
    queries: int


def expected_f1(spans: Sequence[tuple[str, float]], golds: Sequence[str]) -> float:
    """Σ p(span)·F1(span, golds) over a model's top spans, with the official SQuAD v1.1 F1 (in [0, 1]).

    ``spans``: ``(text, probability)`` pairs as ``QASystem.top_spans`` returns them; the probabilities
    are renormalised over the given spans (they already sum to 1 for a conforming system).
    """
    if not spans:
        raise ValueError("expected_f1 needs at least one (text, probability) span")
    if not golds:
        raise ValueError("expected_f1 needs at least one gold answer")
    total = 0.0
    weighted = 0.0
    for text, p in spans:
        p = float(p)
        if not p >= 0.0 or p == float("inf"):  # rejects NaN too
            raise ValueError(f"span {text!r} has probability {p}; probabilities must be finite and >= 0")
        total += p
        weighted += p * f1(text, list(golds))
    if total <= 0.0:
        raise ValueError("the spans' probabilities sum to 0")
    return weighted / total


def common_words(limit: int = 1000, index_path=None) -> tuple[str, ...]:
    """The ``limit`` most frequent alphabetic words of GloVe 6B's vocabulary (ordered by frequency).

    ``index_path``: the GloVe index parquet (column ``index``); default: the packaged GloVe 6B 50d
    (``textadv.assets.glove_6b_50d``). The words are lower-case, as GloVe 6B is.
    """
    import pandas as pd

    from .. import assets

    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    path = index_path if index_path is not None else assets.glove_6b_50d()[1]
    words: list[str] = []
    for word in pd.read_parquet(path, columns=["index"])["index"].astype(str):
        if word.isascii() and word.isalpha():
            words.append(word)
            if len(words) == limit:
                break
    return tuple(words)


def question_words(question: str) -> tuple[str, ...]:
    """The question's words in order, without punctuation or repeats (case kept)."""
    return tuple(dict.fromkeys(_WORD.findall(question)))


def distractor_text(words: Sequence[str]) -> str:
    """The appended text: the words and a closing period (as in Jia & Liang's code)."""
    return " ".join(words) + "."


def _initial_words(rng: random.Random, common: Sequence[str], d: int, golds: Sequence[str]) -> list[str]:
    """d distinct common words in random order such that no prefix (hence no run) holds a gold answer."""
    words: list[str] = []
    for word in rng.sample(list(common), len(common)):
        if word not in words and not contains_answer(" ".join(words + [word]), golds):
            words.append(word)
            if len(words) == d:
                return words
    raise ValueError(f"the common-word list has too few usable words ({len(words)}) for {d} distinct words")


def search_distractor(
    question: SquadQuestion, system, common: Sequence[str], settings: AddAnySettings = AddAnySettings()
) -> AddAnyResult:
    """Run the greedy search of the module docstring for one question against ``system`` (a ``QASystem``)."""
    rng = random.Random(f"{settings.seed}:{question.id}")
    golds = [a.text for a in question.answers]
    budget = settings.budget if settings.budget is not None else float("inf")
    extra = question_words(question.question) if settings.mode == "addany" else ()

    def score(candidates: list[list[str]]) -> list[float]:
        variants = [with_distractor(question, distractor_text(w), settings.mode) for w in candidates]
        spans = system.top_spans(variants, k=settings.top_k)
        if len(spans) != len(variants):
            raise ValueError(f"the QA system returned top spans for {len(spans)} of {len(variants)} contexts")
        return [expected_f1(s, golds) for s in spans]

    words = _initial_words(rng, common, settings.num_words, golds)
    current = score([words])[0]
    queries = 1
    trajectory = [current]
    for _ in range(settings.passes):
        changed = False
        positions = list(range(settings.num_words))
        rng.shuffle(positions)
        for i in positions:
            if current <= 0.0 or queries >= budget:
                break
            pool = rng.sample(list(common), min(settings.num_candidates, len(common))) + list(extra)
            swaps = [
                w
                for w in dict.fromkeys(pool)
                if w != words[i] and not contains_answer(" ".join(words[:i] + [w] + words[i + 1 :]), golds)
            ]
            swaps = swaps[: int(min(len(swaps), budget - queries))]
            if not swaps:
                continue
            candidates = [words[:i] + [w] + words[i + 1 :] for w in swaps]
            scores = score(candidates)
            queries += len(candidates)
            best = min(range(len(scores)), key=scores.__getitem__)
            if scores[best] < current - MIN_DECREASE:
                words, current = candidates[best], scores[best]
                trajectory.append(current)
                changed = True
        if not changed or current <= 0.0 or queries >= budget:
            break
    variant = with_distractor(question, distractor_text(words), settings.mode)
    return AddAnyResult(variant, tuple(words), tuple(trajectory), queries)


def add_any_search(
    questions: Sequence[SquadQuestion],
    system,
    settings: AddAnySettings = AddAnySettings(),
    *,
    common: Optional[Sequence[str]] = None,
    progress: bool = True,
) -> list[AddAnyResult]:
    """:func:`search_distractor` for every question, with a progress bar; ``common``: default :func:`common_words`."""
    common = tuple(common) if common is not None else common_words()
    if not common:
        raise ValueError("the common-word list is empty")
    results = []
    bar = tqdm(questions, desc=settings.mode, unit="question", disable=not progress)
    for q in bar:
        results.append(search_distractor(q, system, common, settings))
        bar.set_postfix(expected_f1=f"{results[-1].trajectory[-1]:.3f}", queries=results[-1].queries)
    return results


def add_any(
    questions: Sequence[SquadQuestion],
    system,
    *,
    mode: str = "addany",
    num_words: int = 10,
    num_candidates: int = 20,
    passes: int = 3,
    top_k: int = 10,
    seed: int = 0,
    budget: Optional[int] = None,
    common: Optional[Sequence[str]] = None,
    progress: bool = True,
) -> list[SquadQuestion]:
    """One AddAny (``mode="addany"``) or AddCommon (``mode="addcommon"``) variant per question.

    See the module docstring; ``budget`` caps the contexts the model scores per question.
    """
    settings = AddAnySettings(
        mode=mode,
        num_words=num_words,
        num_candidates=num_candidates,
        passes=passes,
        top_k=top_k,
        budget=budget,
        seed=seed,
    )
    return [r.question for r in add_any_search(questions, system, settings, common=common, progress=progress)]
