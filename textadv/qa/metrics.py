"""The official SQuAD v1.1 metrics and Jia & Liang's adversarial aggregation (PAPERS.md §8).

Exact match and F1 follow the official ``evaluate-v1.1.py``: both strings are normalised (lower case,
punctuation removed, the articles a / an / the removed, white space collapsed); EM is 1 when the
normalised strings are equal; F1 is the harmonic mean of token precision and recall over the bag of
normalised tokens; a prediction scores the maximum over the question's gold answers.

Adversarial evaluation (Jia & Liang 2017, §4): a file holds original questions and variants whose id is
``<orig_id>-<tag>``. Per original question, the adversarial F1 is the **minimum** F1 over its variants
and the adversarial EM is the EM of that same variant (ties in F1 go to the lower EM, then to the first
variant in file order); a question without a variant keeps its original scores. Scores are reported as
percentages, over the original questions.
"""

from __future__ import annotations

import re
import string
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from .squad import SquadQuestion, original_id

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Official v1.1 normalisation: lower case, drop punctuation, drop articles, collapse white space."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _golds(golds: Sequence[str]) -> Sequence[str]:
    if isinstance(golds, str) or not golds:
        raise ValueError("golds must be a non-empty sequence of answer strings")
    return golds


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer, else 0.0."""
    target = normalize_answer(prediction)
    return float(any(target == normalize_answer(g) for g in _golds(golds)))


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 of the prediction, maximised over the gold answers (in [0, 1])."""
    return max(_f1_one(prediction, g) for g in _golds(golds))


@dataclass(frozen=True)
class QuestionScore:
    """One question's scores in [0, 1] and whether the system answered it at all."""

    exact_match: float
    f1: float
    answered: bool


def check_predictions(predictions: Mapping) -> None:
    """A predictions mapping must map ids to strings (``ValueError`` naming the first offender)."""
    if not isinstance(predictions, Mapping):
        raise ValueError(f"predictions must be a mapping {{id: answer text}}, got a {type(predictions).__name__}")
    for qid, value in predictions.items():
        if not isinstance(value, str):
            raise ValueError(f"the prediction for question {qid!r} is a {type(value).__name__}, not a string")


def score_questions(questions: Sequence[SquadQuestion], predictions: Mapping[str, str]) -> dict[str, QuestionScore]:
    """``{id: QuestionScore}`` for every question; ids without a prediction score 0, with ONE warning
    that counts them."""
    check_predictions(predictions)
    scores = {}
    missing = 0
    for q in questions:
        golds = [a.text for a in q.answers]
        if q.id in predictions:
            pred = predictions[q.id]
            scores[q.id] = QuestionScore(exact_match(pred, golds), f1(pred, golds), True)
        else:
            missing += 1
            scores[q.id] = QuestionScore(0.0, 0.0, False)
    if missing:
        warnings.warn(f"{missing} of {len(questions)} questions have no prediction; they score 0", stacklevel=2)
    return scores


@dataclass(frozen=True)
class AdversarialOutcome:
    """One original question under attack: its own scores, the worst variant's, and which variant."""

    original_id: str
    original: QuestionScore
    adversarial: QuestionScore
    variants: int
    worst_id: Optional[str]  # the variant that gave the adversarial score; None when there is no variant


def adversarial_outcomes(
    questions: Sequence[SquadQuestion], scores: Mapping[str, QuestionScore]
) -> list[AdversarialOutcome]:
    """Jia & Liang's aggregation, one outcome per original question, in file order of the originals.

    Every variant's original question must be in ``questions`` (the official files and ours include them).
    """
    variants: dict[str, list[str]] = {}
    originals: list[str] = []
    for q in questions:
        root = original_id(q.id)
        if root == q.id:
            originals.append(q.id)
            variants.setdefault(q.id, [])
        else:
            variants.setdefault(root, []).append(q.id)
    orphans = [root for root in variants if root not in scores]
    if orphans:
        raise ValueError(
            f"{len(orphans)} original question(s) of adversarial variants are not in the data "
            f"(e.g. {orphans[0]!r}); the file must hold each original beside its variants"
        )
    outcomes = []
    for root in originals:
        own = scores[root]
        ids = variants[root]
        if ids:
            worst = min(ids, key=lambda i: (scores[i].f1, scores[i].exact_match))
            outcomes.append(AdversarialOutcome(root, own, scores[worst], len(ids), worst))
        else:
            outcomes.append(AdversarialOutcome(root, own, own, 0, None))
    return outcomes


def _mean(outcomes: Sequence[AdversarialOutcome], which: str) -> dict[str, float]:
    if not outcomes:
        return {"exact_match": float("nan"), "f1": float("nan")}
    chosen = [getattr(o, which) for o in outcomes]
    return {
        "exact_match": 100.0 * sum(s.exact_match for s in chosen) / len(chosen),
        "f1": 100.0 * sum(s.f1 for s in chosen) / len(chosen),
    }


def summarize(outcomes: Sequence[AdversarialOutcome]) -> dict:
    """Percentages: original and adversarial EM/F1 over all original questions, and both split by
    whether the question has a variant (``with_variant`` / ``without_variant``)."""
    with_v = [o for o in outcomes if o.variants]
    without_v = [o for o in outcomes if not o.variants]
    return {
        "questions": len(outcomes),
        "original": _mean(outcomes, "original"),
        "adversarial": _mean(outcomes, "adversarial"),
        "with_variant": {
            "questions": len(with_v),
            "original": _mean(with_v, "original"),
            "adversarial": _mean(with_v, "adversarial"),
        },
        "without_variant": {
            "questions": len(without_v),
            "original": _mean(without_v, "original"),
            "adversarial": _mean(without_v, "adversarial"),
        },
        "variants": sum(o.variants for o in outcomes),
    }


def evaluate(questions: Sequence[SquadQuestion], predictions: Mapping[str, str]) -> dict:
    """Score ``predictions`` on ``questions`` (originals and variants): :func:`summarize` of the
    adversarial outcomes, plus ``unanswered`` (questions without a prediction, variants included)."""
    scores = score_questions(questions, predictions)
    metrics = summarize(adversarial_outcomes(questions, scores))
    metrics["unanswered"] = sum(not s.answered for s in scores.values())
    return metrics
