"""Jia & Liang's adversarial SQuAD evaluation in one run: make distractors, then score a QA system on them.

For a SQuAD v1.1 file and a QA system this script

1. reads the file and keeps its original questions (an official AddSent / AddOneSent file also holds
   variants), the first ``--limit`` of them, and writes them to ``DIR/questions.json``;
2. for each ``--modes`` entry runs ``textadv squad-attack`` on them (``DIR/<mode>.json``: originals plus
   variants ``<id>-<mode>...``), timing the generation;
3. scores the system on each file with ``textadv squad-eval``'s job (``DIR/eval-<mode>/``: predictions,
   report.md, scores.png, metrics.json);
4. prints original vs adversarial EM/F1 per mode, and writes them to ``DIR/summary.md`` and, last,
   ``DIR/metrics.json``.

Offline examples (the sample ships with textadv; the official files are Jia & Liang's release)::

    python recipes/squad_adversarial_eval.py --input textadv/qa/data/squad_sample.json \\
        --modes addonesent addany addcommon --model sliding-window --budget 200 --output runs/squad-adv
    python recipes/squad_adversarial_eval.py --input sample1k-HCVerifyAll.json --modes addany \\
        --model runs/qa-minilm --limit 50 --budget 200 --threads 1 --output runs/squad-addany-minilm
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

HELP = "Make Jia & Liang's SQuAD distractors for a file and evaluate a QA system on them, in one run."
MODES = ("addsent", "addonesent", "addany", "addcommon")
NEEDS_MODEL = ("addany", "addcommon")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="a SQuAD v1.1 file (dev-v1.1.json, an official adversarial file, or the packaged sample)",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        required=True,
        choices=MODES,
        metavar="MODE",
        help=f"distractors to make: {', '.join(MODES)}",
    )
    parser.add_argument(
        "--model",
        required=True,
        metavar="M",
        help="the QA system: a Hugging Face QA model id or directory, or sliding-window",
    )
    parser.add_argument("--output", required=True, metavar="DIR", help="run directory to write")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N original questions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generators and of the evaluation")
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help="addany/addcommon: most contexts the model scores per question",
    )
    parser.add_argument("--max-seq-length", type=int, default=384, help="tokens per window of a Hugging Face model")
    parser.add_argument("--doc-stride", type=int, default=128, help="tokens shared by consecutive windows")
    parser.add_argument(
        "--spacy-model", default=None, metavar="NAME", help="spaCy pipeline for addsent/addonesent and the answer types"
    )
    parser.add_argument(
        "--no-answer-types",
        dest="answer_types",
        action="store_false",
        help="skip the per-answer-type scores of the evaluation",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def attack(questions_file: Path, mode: str, output: Path, args: argparse.Namespace) -> float:
    """``textadv squad-attack`` for one mode; returns the seconds it took."""
    from textadv.commands import squad_attack

    argv = ["--input", str(questions_file), "--mode", mode, "--output", str(output), "--seed", str(args.seed)]
    if mode in NEEDS_MODEL:
        argv += [
            "--model",
            args.model,
            "--max-seq-length",
            str(args.max_seq_length),
            "--doc-stride",
            str(args.doc_stride),
        ]
        argv += ["--budget", str(args.budget)] if args.budget is not None else []
    elif args.spacy_model:
        argv += ["--spacy-model", args.spacy_model]
    if not args.progress:
        argv.append("--no-progress")
    parser = argparse.ArgumentParser(prog="squad-attack")
    squad_attack.add_arguments(parser)
    start = time.perf_counter()
    squad_attack.run(parser.parse_args(argv))
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    from textadv.jobs.squad import SquadEvalSettings, run_squad_eval
    from textadv.qa.features import WindowSettings
    from textadv.qa.squad import original_id, read_squad, write_squad
    from textadv.qa.systems import load_system
    from textadv.report.io import write_text
    from textadv.report.runs import open_run
    from textadv.report.markdown import table

    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"--limit must be a positive number of questions, got {args.limit}")
    if args.budget is not None and args.budget <= 0:
        raise ValueError(f"--budget must be positive, got {args.budget}")
    if args.threads is not None:
        if args.threads <= 0:
            raise ValueError(f"--threads must be positive, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    modes = list(dict.fromkeys(args.modes))
    originals = [q for q in read_squad(args.input) if original_id(q.id) == q.id][: args.limit]
    if not originals:
        raise ValueError(f"{args.input} holds no original questions (every id is a variant '<orig_id>-<tag>')")
    # a missing or non-QA model, or bad window sizes, fail here, before the output is touched
    load_system(args.model, settings=WindowSettings(args.max_seq_length, args.doc_stride))
    run = open_run(args.output, "squad-adversarial-eval", overwrite=args.overwrite, flag="--output")
    output = run.start(
        {
            "settings": {
                k: str(v) if v is not None and not isinstance(v, (int, float, bool, list)) else v
                for k, v in vars(args).items()
            }
        }
    )  # inputs are checked; now touch the output

    questions_file = output / "questions.json"
    write_squad(originals, questions_file)
    rows, per_mode = [], {}
    for mode in modes:
        adversarial = output / f"{mode}.json"
        seconds = attack(questions_file, mode, adversarial, args)
        start = time.perf_counter()
        metrics = run_squad_eval(
            SquadEvalSettings(
                data=str(adversarial),
                output=str(output / f"eval-{mode}"),
                model=args.model,
                seed=args.seed,
                max_seq_length=args.max_seq_length,
                doc_stride=args.doc_stride,
                answer_types=args.answer_types,
                spacy_pipeline=args.spacy_model,
                progress=args.progress,
            )
        )
        variants = len(read_squad(adversarial)) - len(originals)
        per_mode[mode] = {
            "original": metrics["original"],
            "adversarial": metrics["adversarial"],
            "questions": metrics["questions"],
            "variants": variants,
            "generation_seconds": round(seconds, 1),
            "evaluation_seconds": round(time.perf_counter() - start, 1),
        }
        o, a = metrics["original"], metrics["adversarial"]
        rows.append(
            {
                "mode": mode,
                "questions": metrics["questions"],
                "variants": variants,
                "original EM": o["exact_match"],
                "original F1": o["f1"],
                "adversarial EM": a["exact_match"],
                "adversarial F1": a["f1"],
                "generation s": round(seconds, 1),
            }
        )
    summary = table(rows, digits=3)
    print(summary)
    write_text(
        output / "summary.md",
        f"# {args.model} on {args.input}\n\n"
        f"{len(originals)} original questions, seed {args.seed}"
        + (f", budget {args.budget} queries per question" if args.budget else "")
        + "\n\n"
        + summary,
    )
    run.finish(
        {
            "input": str(args.input),
            "model": args.model,
            "seed": args.seed,
            "limit": args.limit,
            "budget": args.budget,
            "modes": per_mode,
        }
    )
    return 0


def main(argv=None) -> int:
    from textadv.cli import recipe_main

    # this script is its own command module (HELP, add_arguments, run), run with the CLI's error handling
    return recipe_main(
        SimpleNamespace(HELP=HELP, add_arguments=add_arguments, run=run), "squad_adversarial_eval.py", argv
    )


if __name__ == "__main__":
    sys.exit(main())
