"""``textadv squad-eval``: EM/F1 of a QA system on SQuAD originals and their adversarial variants.

Examples (offline; the official AddSent / AddOneSent files of Jia & Liang 2017 or ``textadv squad-attack``
output)::

    textadv squad-eval --data sample1k-HCVerifyAll.json --model sliding-window --output runs/eval-sw
    textadv squad-eval --data sample1k-HCVerifyAll.json --model runs/qa-minilm --output runs/eval-minilm
    textadv squad-eval --data adv.json --predictions my_system_predictions.json --output runs/eval-mine

``--data hub:squad_adversarial/AddSent`` reads the hub copy when the hub is reachable. The run directory
holds predictions.json, report.md, scores.png and metrics.json (textadv/jobs/squad.py).
"""

from __future__ import annotations

import argparse

HELP = "Evaluate a QA model or predictions file on SQuAD originals and adversarial variants (Jia & Liang 2017)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="SQuAD v1.1 file with original questions and <orig_id>-<tag> variants, or "
        "hub:squad / hub:squad_adversarial/AddSent / hub:squad_adversarial/AddOneSent",
    )
    parser.add_argument("--output", required=True, metavar="DIR", help="run directory to write")
    system = parser.add_mutually_exclusive_group(required=True)
    system.add_argument("--model", help="Hugging Face QA model id or directory, or 'sliding-window'")
    system.add_argument("--predictions", metavar="FILE", help='predictions file {"id": "answer text"}')
    parser.add_argument("--seed", type=int, default=0, help="seed of the model run and the worked examples")
    parser.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    parser.add_argument("--max-seq-length", type=int, default=384)
    parser.add_argument("--doc-stride", type=int, default=128, help="tokens shared by consecutive windows")
    parser.add_argument("--max-answer-length", type=int, default=30, help="longest answer in tokens")
    parser.add_argument("--examples", type=int, default=5, help="worked examples in report.md")
    parser.add_argument(
        "--no-answer-types",
        dest="answer_types",
        action="store_false",
        help="skip the per-answer-type scores (they need a spaCy pipeline)",
    )
    parser.add_argument("--spacy-pipeline", default=None, help="spaCy pipeline for answer types (default: offline sm)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output directory")


def run(args: argparse.Namespace) -> int:
    from ..jobs.squad import SquadEvalSettings, run_squad_eval

    if args.threads is not None:
        if args.threads <= 0:
            raise ValueError(f"--threads must be positive, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    settings = SquadEvalSettings(
        data=args.data,
        output=args.output,
        model=args.model,
        predictions=args.predictions,
        seed=args.seed,
        batch_size=args.batch_size,
        max_seq_length=args.max_seq_length,
        doc_stride=args.doc_stride,
        max_answer_length=args.max_answer_length,
        examples=args.examples,
        answer_types=args.answer_types,
        spacy_pipeline=args.spacy_pipeline,
        overwrite=args.overwrite,
    )
    metrics = run_squad_eval(settings)
    o, a = metrics["original"], metrics["adversarial"]
    print(
        f"{metrics['questions']} questions: original EM {o['exact_match']:.1f} F1 {o['f1']:.1f}; "
        f"adversarial EM {a['exact_match']:.1f} F1 {a['f1']:.1f}; wrote {args.output}"
    )
    return 0
