"""The SQuAD adversarial evaluation job: a SQuAD file (originals + adversarial variants) and a QA system
(a Hugging Face model, the sliding-window baseline, or a predictions file) → a run directory.

Jia & Liang (2017, PAPERS.md §8): per original question, the adversarial score is the worst variant's
(minimum F1, EM from that same variant; :mod:`textadv.qa.metrics`). The run directory holds

- ``predictions.json``: ``{"id": "answer text"}`` for every question of the file, variants included;
- ``report.md``: original vs adversarial EM/F1, per adversary (the id tag without its number), per
  answer type of the gold answer, and seeded worked examples (question, distractor, gold answer,
  prediction before and after);
- ``scores.png``: the same numbers as bars;
- ``metrics.json`` (last; the run is complete when it exists): at least
  ``{"original": {"exact_match", "f1"}, "adversarial": {"exact_match", "f1"}, "questions": N}`` in
  percent, N the number of original questions.

Every input (data, predictions file, model) is read and checked before the output directory is touched.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..qa.metrics import AdversarialOutcome, adversarial_outcomes, score_questions, summarize
from ..qa.squad import SquadQuestion, load_questions, original_id
from ..report.io import write_json, write_text
from ..report.runs import open_run
from ..report.markdown import table
from ..report.plots import plot_grouped_bars


@dataclass(frozen=True)
class SquadEvalSettings:
    """What to evaluate and where: exactly one of ``model`` (HF id/path or ``"sliding-window"``) and
    ``predictions`` (a ``{"id": "answer"}`` file)."""

    data: str
    output: str
    model: Optional[str] = None
    predictions: Optional[str] = None
    seed: int = 0
    batch_size: int = 32
    max_seq_length: int = 384
    doc_stride: int = 128
    max_answer_length: int = 30
    examples: int = 5
    answer_types: bool = True
    spacy_pipeline: Optional[str] = None
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if (self.model is None) == (self.predictions is None):
            raise ValueError("give exactly one of --model and --predictions")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.batch_size <= 0:
            raise ValueError(f"batch size must be positive, got {self.batch_size}")
        if self.examples < 0:
            raise ValueError(f"examples must be >= 0, got {self.examples}")


def adversary_of(qid: str) -> Optional[str]:
    """The adversary that made a variant: its id tag without a trailing number (``high-conf-turk``,
    ``addsent``, ``addany``, ...); ``None`` for an original question."""
    root = original_id(qid)
    if root == qid:
        return None
    return re.sub(r"\d+$", "", qid[len(root) + 1 :]) or "variant"


def _check_output(path: Path, overwrite: bool) -> None:
    """Refuse an output that exists as a file, a non-empty directory without ``overwrite``, or a place
    we cannot write to -- before anything is computed or deleted."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"output {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise ValueError(f"output directory {path} is not empty; pass --overwrite to replace it or choose another")
    parent = path if path.is_dir() else next((p for p in path.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write to {parent} (for output {path})")


def _system(settings: SquadEvalSettings):
    from ..qa.features import WindowSettings
    from ..qa.systems import PredictionsFile, load_system

    if settings.predictions is not None:
        return PredictionsFile.read(settings.predictions), Path(settings.predictions).name
    windows = WindowSettings(settings.max_seq_length, settings.doc_stride, max_answer_length=settings.max_answer_length)
    system = load_system(settings.model, settings=windows, batch_size=settings.batch_size, progress=settings.progress)
    return system, settings.model


def _answer_types(originals: Sequence[SquadQuestion], pipeline: Optional[str]) -> list[str]:
    """The gold answer type per original question (:mod:`textadv.qa.answer_types`); without a spaCy
    pipeline, the types the answer's own characters show (numbers, dates, ...), else "other"."""
    from ..qa.answer_types import answer_types, type_of_text

    try:
        from ..qa.spacy_pipeline import load_pipeline

        nlp = load_pipeline(pipeline)
    except (FileNotFoundError, ImportError, OSError) as err:
        from ..train.launch import warn_on_main

        warn_on_main(f"answer types from the answer text only ({err})")
        return [type_of_text(q.answers[0].text) or "other" for q in originals]
    return answer_types(originals, nlp)


def _distractor(original: SquadQuestion, variant: SquadQuestion) -> str:
    """The text a variant adds to its original's context (the appended suffix; the whole context when
    the original is not a prefix)."""
    if variant.context.startswith(original.context):
        return variant.context[len(original.context) :].strip()
    return variant.context


def _examples(outcomes: Sequence[AdversarialOutcome], by_id: dict, predictions: dict, k: int, seed: int) -> list[dict]:
    """``k`` seeded worked examples among questions the system got right (F1 > 0) and the adversary broke
    (adversarial F1 lower); fewer when there are fewer."""
    broken = [o for o in outcomes if o.worst_id and o.original.f1 > 0 and o.adversarial.f1 < o.original.f1]
    chosen = random.Random(seed).sample(broken, min(k, len(broken)))
    rows = []
    for o in chosen:
        q, v = by_id[o.original_id], by_id[o.worst_id]
        rows.append(
            {
                "id": o.worst_id,
                "question": q.question,
                "distractor": _distractor(q, v),
                "gold": " | ".join(dict.fromkeys(a.text for a in q.answers)),
                "before": predictions.get(q.id, ""),
                "after": predictions.get(v.id, ""),
                "f1_before": 100 * o.original.f1,
                "f1_after": 100 * o.adversarial.f1,
            }
        )
    return rows


def _score_row(name: str, summary: dict) -> dict:
    return {
        "": name,
        "questions": summary["questions"],
        "EM original": summary["original"]["exact_match"],
        "F1 original": summary["original"]["f1"],
        "EM adversarial": summary["adversarial"]["exact_match"],
        "F1 adversarial": summary["adversarial"]["f1"],
    }


def render_report(metrics: dict, examples: Sequence[dict], *, system: str, data: str) -> str:
    """``report.md``: the scores, per adversary and answer type, and the worked examples."""
    lines = [
        f"# SQuAD adversarial evaluation: {system}",
        "",
        f"Data: `{data}`: {metrics['questions']} original questions, {metrics['variants']} adversarial "
        f"variants; {metrics['unanswered']} questions without a prediction (scored 0).",
        "",
        "Scores in percent. Adversarial: per original question, the worst variant (lowest F1, EM from "
        "that variant); a question without a variant keeps its original score (Jia & Liang 2017).",
        "",
        table(
            [
                _score_row("all", metrics),
                _score_row("with a variant", metrics["with_variant"]),
                _score_row("without a variant", metrics["without_variant"]),
            ],
            digits=3,
        ),
        "",
    ]
    if metrics.get("adversaries"):
        lines += [
            "## Per adversary",
            "",
            "Each adversary alone: its variants only (questions it has no variant for keep their score).",
            "",
            table([_score_row(name, s) for name, s in metrics["adversaries"].items()], digits=3),
            "",
        ]
    if metrics.get("answer_types"):
        rows = [
            _score_row(name, s)
            for name, s in sorted(metrics["answer_types"].items(), key=lambda kv: -kv[1]["questions"])
        ]
        lines += [
            "## Per answer type",
            "",
            "Type of the first gold answer (textadv.qa.answer_types).",
            "",
            table(rows, digits=3),
            "",
        ]
    lines += ["## Worked examples", ""]
    if not examples:
        lines += ["No question that the system answered (F1 > 0) lost F1 under its adversarial variant.", ""]
    for i, ex in enumerate(examples, 1):
        lines += [
            f"{i}. **{ex['question']}** (`{ex['id']}`)",
            f"   - distractor: {ex['distractor']}",
            f"   - gold: {ex['gold']}",
            f"   - before: {ex['before']!r} (F1 {ex['f1_before']:.0f}); after: {ex['after']!r} "
            f"(F1 {ex['f1_after']:.0f})",
            "",
        ]
    return "\n".join(lines)


def run_squad_eval(settings: SquadEvalSettings) -> dict:
    """The whole job (see the module docstring); returns the metrics written to ``metrics.json``."""
    output = Path(settings.output)
    questions = load_questions(settings.data)
    by_id = {q.id: q for q in questions}
    originals = [q for q in questions if original_id(q.id) == q.id]
    orphans = sorted({original_id(q.id) for q in questions} - set(by_id))
    if orphans:
        raise ValueError(
            f"{settings.data}: {len(orphans)} adversarial variant(s) lack their original question "
            f"in the file (e.g. {orphans[0]!r})"
        )
    system, system_name = _system(settings)
    _check_output(output, settings.overwrite)

    import torch

    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    predictions = system.predict(questions)
    scores = score_questions(questions, predictions)
    outcomes = adversarial_outcomes(questions, scores)
    metrics = summarize(outcomes)
    metrics["unanswered"] = sum(not s.answered for s in scores.values())

    adversaries = sorted({a for a in map(adversary_of, by_id) if a})
    metrics["adversaries"] = {}
    for name in adversaries:
        subset = [q for q in questions if adversary_of(q.id) in (None, name)]
        metrics["adversaries"][name] = summarize(adversarial_outcomes(subset, scores))
    if settings.answer_types:
        types = _answer_types(originals, settings.spacy_pipeline)
        groups: dict[str, list[AdversarialOutcome]] = {}
        for o, t in zip(outcomes, types):
            groups.setdefault(t, []).append(o)
        metrics["answer_types"] = {t: summarize(g) for t, g in groups.items()}
    examples = _examples(outcomes, by_id, predictions, settings.examples, settings.seed)
    metrics.update(system=system_name, data=str(settings.data), seed=settings.seed)

    run = open_run(output, "squad-eval", overwrite=settings.overwrite)
    run.start({"settings": json.loads(json.dumps(asdict(settings), default=str))})
    write_json(output / "predictions.json", {q.id: predictions.get(q.id, "") for q in questions if q.id in predictions})
    write_text(output / "report.md", render_report(metrics, examples, system=system_name, data=settings.data))
    bars = {"EM": {"original": metrics["original"]["exact_match"]}, "F1": {"original": metrics["original"]["f1"]}}
    for name, s in (metrics["adversaries"] or {"adversarial": metrics}).items():
        bars["EM"][name] = s["adversarial"]["exact_match"]
        bars["F1"][name] = s["adversarial"]["f1"]
    plot_grouped_bars(
        bars,
        output / "scores.png",
        ylabel="score (%)",
        ymax=100,
        title=f"{Path(str(system_name)).name} on {Path(str(settings.data)).name}",
    )
    run.finish(metrics)
    return metrics
