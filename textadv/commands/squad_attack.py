"""``textadv squad-attack``: Jia & Liang's adversarial SQuAD distractors for a SQuAD v1.1 file.

Examples::

    textadv squad-attack --input dev-v1.1.json --mode addsent --output addsent.json
    textadv squad-attack --input dev-v1.1.json --mode addonesent --seed 1 --output addonesent.json
    textadv squad-attack --input dev-v1.1.json --mode addany --model runs/qa-minilm --limit 100 --output addany.json

The output holds the original questions followed, per question, by its variants ``<id>-<tag>`` (the
layout of the official AddSent / AddOneSent files), so ``textadv squad-eval`` scores it with the
per-question minimum over variants. AddSent / AddOneSent need no model; AddAny / AddCommon query the
``--model`` (a Hugging Face QA model id or path, or ``sliding-window``).
"""

from __future__ import annotations

import argparse

from ..qa.spacy_pipeline import DEFAULT_PIPELINE  # a constant: spaCy itself is imported only in run()

HELP = "Make Jia & Liang's adversarial SQuAD distractors (AddSent, AddOneSent, AddAny, AddCommon) for a SQuAD file."
MODES = ("addsent", "addonesent", "addany", "addcommon")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, metavar="FILE", help="a SQuAD v1.1 JSON file (e.g. dev-v1.1.json)")
    parser.add_argument("--mode", required=True, choices=MODES, help="which distractors to make")
    parser.add_argument(
        "--output", required=True, metavar="FILE", help="the SQuAD v1.1 file to write (originals + variants)"
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="M",
        help="the QA model of addany/addcommon: a Hugging Face id or path, or sliding-window",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of fake answers, AddOneSent's pick and AddAny's start"
    )
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions of the file")
    parser.add_argument(
        "--spacy-model",
        default=DEFAULT_PIPELINE,
        metavar="NAME",
        help="spaCy pipeline for addsent/addonesent (a name or path; one that is not installed "
        f"falls back to {DEFAULT_PIPELINE})",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help="addany/addcommon: most contexts the model scores per question",
    )
    parser.add_argument(
        "--max-seq-length",
        type=int,
        default=384,
        help="addany/addcommon with a Hugging Face model: tokens per window (as squad-eval)",
    )
    parser.add_argument(
        "--doc-stride",
        type=int,
        default=128,
        help="addany/addcommon with a Hugging Face model: tokens shared by consecutive windows",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def check_arguments(args: argparse.Namespace) -> None:
    """Every flag checked before anything is read or written (``ValueError`` naming the problem)."""
    from pathlib import Path

    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"--limit must be a positive number of questions, got {args.limit}")
    if args.budget is not None and args.budget <= 0:
        raise ValueError(f"--budget must be positive, got {args.budget}")
    if args.mode in ("addany", "addcommon") and not args.model:
        raise ValueError(f"--mode {args.mode} queries a QA model: pass --model (a model id or path, or sliding-window)")
    if args.mode in ("addsent", "addonesent") and args.model:
        raise ValueError(f"--mode {args.mode} does not query a model; drop --model")
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise ValueError(f"--output {args.output} is the input file; write the adversarial file elsewhere")
    if Path(args.output).is_dir():
        raise ValueError(f"--output {args.output} is a directory; give a file name")


def run(args: argparse.Namespace) -> int:
    from ..qa.squad import read_squad, write_squad

    check_arguments(args)
    questions = read_squad(args.input)
    if args.limit is not None:
        questions = questions[: args.limit]
    if args.mode in ("addsent", "addonesent"):
        from ..qa.addsent import add_sent
        from ..qa.spacy_pipeline import load_pipeline

        nlp = load_pipeline(args.spacy_model)
        variants = add_sent(questions, mode=args.mode, nlp=nlp, seed=args.seed, progress=args.progress)
    else:
        from ..qa.addany import add_any
        from ..qa.features import WindowSettings
        from ..qa.systems import load_system

        system = load_system(args.model, settings=WindowSettings(args.max_seq_length, args.doc_stride))
        variants = add_any(
            questions, system, mode=args.mode, seed=args.seed, budget=args.budget, progress=args.progress
        )
    by_question: dict = {}
    for v in variants:
        by_question.setdefault(v.id.rsplit("-", 1)[0], []).append(v)
    ordered = []
    for q in questions:  # each original, then its variants: the official files' layout
        ordered.append(q)
        ordered.extend(by_question.get(q.id, []))
    write_squad(ordered, args.output)
    covered = sum(1 for q in questions if q.id in by_question)
    print(
        f"{args.mode}: {len(variants)} variants for {covered} of {len(questions)} questions "
        f"({covered / len(questions):.1%}) -> {args.output}"
    )
    return 0
