"""SQuAD v1.1 questions: strict reading and atomic writing of the JSON format, hub datasets, and the
id scheme of adversarial variants (Jia & Liang 2017, PAPERS.md §8).

A SQuAD v1.1 file is ``{"version": "1.1", "data": [article, ...]}``, an article ``{"title", "paragraphs"}``,
a paragraph ``{"context", "qas"}`` and a question ``{"id", "question", "answers": [{"text",
"answer_start"}, ...]}``. :func:`read_squad` flattens it into :class:`SquadQuestion` records (one per
question, carrying its paragraph's context and article title) and rejects anything the evaluator could
silently mis-score: a missing key, an empty question or context, no gold answer, an ``answer_start`` that
does not point at the answer text, a duplicate id. Each error names the file, the article (index and
title), the paragraph index and the question id.

Adversarial variants keep the official id scheme ``<orig_id>-<tag>`` (the official files use
``<orig_id>-high-conf-turk<N>``), so :func:`original_id` maps both the official files and ours back
to the dev question they were made from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from ..report.io import PathLike, read_json, write_json

SQUAD_VERSION = "1.1"


@dataclass(frozen=True)
class SquadAnswer:
    """One gold answer: its text and the character offset where it starts in the context."""

    text: str
    answer_start: int


@dataclass(frozen=True)
class SquadQuestion:
    """One question with its paragraph's context, gold answers and article title."""

    id: str
    question: str
    context: str
    answers: tuple[SquadAnswer, ...]
    title: str = ""


def original_id(qid: str) -> str:
    """The dev question an id was made from: the part before the first ``-``.

    ``"56be4db0acb8001400a502ec-high-conf-turk0"`` → ``"56be4db0acb8001400a502ec"`` (official files);
    ``"56be...ec-addsent0"`` → ``"56be...ec"`` (ours); an original id maps to itself.
    """
    return qid.split("-", 1)[0]


def with_distractor(q: SquadQuestion, sentence: str, tag: str) -> SquadQuestion:
    """``q`` with ``sentence`` appended to its context, id ``f"{q.id}-{tag}"``.

    The original context stays an unchanged prefix, so the gold answers' ``answer_start`` stay valid.
    """
    if not sentence or not sentence.strip():
        raise ValueError(f"empty distractor sentence for question {q.id}")
    if not tag or "-" in tag or tag != tag.strip():
        raise ValueError(f"a distractor tag must be a non-empty word without '-' or spaces, got {tag!r}")
    return replace(q, id=f"{q.id}-{tag}", context=q.context + " " + sentence.strip())


# --------------------------------------------------------------------------------------------- reading


def _where(path: Any, article: int, title: Any, paragraph: Optional[int] = None, qid: Any = None) -> str:
    parts = [f"{path}: article {article}" + (f" ({title!r})" if isinstance(title, str) and title else "")]
    if paragraph is not None:
        parts.append(f"paragraph {paragraph}")
    if qid is not None:
        parts.append(f"question {qid!r}")
    return ", ".join(parts)


def _require(mapping: Any, key: str, kind: type, where: str, what: str) -> Any:
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: {what} is a {type(mapping).__name__}, not a JSON object")
    if key not in mapping:
        raise ValueError(f"{where}: {what} has no {key!r} key")
    value = mapping[key]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"{where}: {what}'s {key!r} is a {type(value).__name__}, expected {kind.__name__}")
    return value


def parse_squad(data: Any, source: str = "<data>") -> list[SquadQuestion]:
    """Validate a parsed SQuAD v1.1 object and flatten it into questions (file order kept).

    ``source`` names the input in error messages (a file name).
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{source} is not a SQuAD v1.1 file: expected a JSON object with a 'data' list of articles")
    questions: list[SquadQuestion] = []
    seen: dict[str, str] = {}
    for a, article in enumerate(data["data"]):
        title = article.get("title", "") if isinstance(article, dict) else ""
        where_a = _where(source, a, title)
        if not isinstance(title, str):
            raise ValueError(f"{where_a}: 'title' is a {type(title).__name__}, expected str")
        paragraphs = _require(article, "paragraphs", list, where_a, "the article")
        for p, paragraph in enumerate(paragraphs):
            where_p = _where(source, a, title, p)
            context = _require(paragraph, "context", str, where_p, "the paragraph")
            if not context.strip():
                raise ValueError(f"{where_p}: empty context")
            qas = _require(paragraph, "qas", list, where_p, "the paragraph")
            for qa in qas:
                qid = qa.get("id") if isinstance(qa, dict) else None
                _require(qa, "id", str, where_p, "a question")
                where_q = _where(source, a, title, p, qid)
                if not qid.strip():
                    raise ValueError(f"{where_p}: a question has an empty id")
                if qid in seen:
                    raise ValueError(f"{where_q}: duplicate question id (first seen at {seen[qid]})")
                seen[qid] = f"article {a}, paragraph {p}"
                question = _require(qa, "question", str, where_q, "the question")
                if not question.strip():
                    raise ValueError(f"{where_q}: empty question")
                raw_answers = _require(qa, "answers", list, where_q, "the question")
                if not raw_answers:
                    raise ValueError(f"{where_q}: no gold answer (SQuAD v1.1 questions have at least one)")
                answers = []
                for i, ans in enumerate(raw_answers):
                    what = f"answer {i}"
                    text = _require(ans, "text", str, where_q, what)
                    start = _require(ans, "answer_start", int, where_q, what)
                    if not text.strip():
                        raise ValueError(f"{where_q}: {what} has an empty text")
                    if not 0 <= start <= len(context) - len(text) or context[start : start + len(text)] != text:
                        found = context[max(start, 0) : max(start, 0) + len(text)]
                        raise ValueError(
                            f"{where_q}: {what} {text!r} does not occur at answer_start {start} "
                            f"of the context (found {found!r})"
                        )
                    answers.append(SquadAnswer(text, start))
                questions.append(SquadQuestion(qid, question, context, tuple(answers), title))
    if not questions:
        raise ValueError(f"{source} holds no questions")
    return questions


def read_squad(path: PathLike) -> list[SquadQuestion]:
    """Read a SQuAD v1.1 JSON file strictly (see the module docstring for what is rejected)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SQuAD file {path} does not exist")
    return parse_squad(read_json(path, "SQuAD file "), str(path))


def to_squad_json(questions: Iterable[SquadQuestion]) -> dict:
    """The SQuAD v1.1 object for ``questions``: consecutive questions sharing (title, context) form one
    paragraph, consecutive paragraphs sharing a title one article; order is kept."""
    data: list[dict] = []
    last_title: Optional[str] = None
    last_context: Optional[str] = None
    for q in questions:
        if not data or q.title != last_title:
            data.append({"title": q.title, "paragraphs": []})
            last_title, last_context = q.title, None
        paragraphs = data[-1]["paragraphs"]
        if q.context != last_context:
            paragraphs.append({"context": q.context, "qas": []})
            last_context = q.context
        paragraphs[-1]["qas"].append(
            {
                "answers": [{"answer_start": a.answer_start, "text": a.text} for a in q.answers],
                "question": q.question,
                "id": q.id,
            }
        )
    return {"version": SQUAD_VERSION, "data": data}


def write_squad(questions: Sequence[SquadQuestion], path: PathLike) -> None:
    """Write ``questions`` as a valid SQuAD v1.1 file, atomically.

    The questions are validated first (the same checks as :func:`read_squad`), so an invalid set never
    reaches the disk.
    """
    obj = to_squad_json(questions)
    parse_squad(obj, f"questions to write to {path}")
    write_json(path, obj)


# ------------------------------------------------------------------------------------------------ hub

#: hub configs of ``squad_adversarial`` (Jia & Liang's official files)
ADVERSARIAL_CONFIGS = ("AddSent", "AddOneSent")


def load_hub_squad(name: str = "squad", config: Optional[str] = None, split: str = "validation") -> list[SquadQuestion]:
    """SQuAD-format questions from the Hugging Face hub: ``squad`` or ``squad_adversarial`` with its
    ``AddSent`` / ``AddOneSent`` config, through ``datasets.load_dataset``.

    Offline (``HF_DATASETS_OFFLINE``, no cache) this raises ``FileNotFoundError`` saying to pass a local file.
    """
    if name == "squad_adversarial" and config not in ADVERSARIAL_CONFIGS:
        raise ValueError(f"squad_adversarial needs a config among {ADVERSARIAL_CONFIGS}, got {config!r}")
    import datasets

    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # the hub raises ConnectionError, OfflineModeIsEnabled, DatasetNotFoundError, ...
        raise FileNotFoundError(
            f"could not load the hub dataset {name!r}"
            + (f" ({config})" if config else "")
            + f": {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}; "
            "offline, pass a local SQuAD v1.1 JSON file instead"
        ) from None
    records = []
    for row in ds:
        answers = row["answers"]
        records.append(
            {
                "title": row.get("title", ""),
                "paragraphs": [
                    {
                        "context": row["context"],
                        "qas": [
                            {
                                "id": row["id"],
                                "question": row["question"],
                                "answers": [
                                    {"text": t, "answer_start": s}
                                    for t, s in zip(answers["text"], answers["answer_start"])
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    source = f"hub dataset {name}" + (f"/{config}" if config else "")
    return parse_squad({"version": SQUAD_VERSION, "data": records}, source)


def load_questions(spec: str) -> list[SquadQuestion]:
    """A local SQuAD v1.1 file, or a hub dataset as ``hub:squad`` / ``hub:squad_adversarial/AddSent``."""
    if spec.startswith("hub:"):
        name, _, config = spec[4:].partition("/")
        return load_hub_squad(name, config or None)
    return read_squad(spec)
