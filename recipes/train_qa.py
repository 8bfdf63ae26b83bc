"""Fine-tune a Hugging Face encoder for extractive QA on SQuAD v1.1 files (Devlin et al. 2019's recipe).

Standard preprocessing (question first, the context cut into windows of ``--max-seq-length`` tokens
sharing ``--doc-stride`` tokens, labels at the first gold answer or at ``[CLS]`` when a window does not
hold it: textadv/qa/features.py), AdamW with weight decay, a linear schedule with warm-up, one seed
for initialisation, dropout and data order. The output directory is a loadable QA model
(``save_pretrained``: safetensors + config + tokenizer), ready for ``textadv squad-eval --model DIR``,
plus ``train_settings.json`` and ``metrics.json`` (written last: the run is complete when it exists).

The offline demo model (docs/results/squad.md) -- the packaged MiniLM trained on the SQuAD dev
paragraphs that Jia & Liang's adversarial files do not touch, so that the official AddSent /
AddOneSent questions stay unseen::

    python recipes/train_qa.py --train ../shared/data/squad/dev-v1.1.json \\
        --exclude ../shared/data/squad/sample1k-HCVerifyAll.json ../shared/data/squad/sample1k-HCVerifySample.json \\
        --max-seq-length 256 --doc-stride 64 --epochs 1 --batch-size 16 --lr 5e-5 --threads 1 \\
        --output-dir runs/qa-minilm

Online, ``--train hub:squad`` trains on the SQuAD training set and ``--model bert-base-uncased`` picks
another encoder. ``--resume`` continues a killed run from its last checkpoint (every ``--save-every``
steps) with the same data order. A resumed run may be cut short with a smaller ``--max-steps``: the
linear schedule is then rebuilt so that it decays to 0 at the new last step, and ``train_settings.json``
records the change under ``shortened`` (the step it was made at, the steps before and after).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HELP = "Fine-tune a Hugging Face encoder for extractive QA (SQuAD v1.1 files)."
CHECKPOINT = "checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--train", required=True, metavar="FILE", help="SQuAD v1.1 JSON file (or hub:squad) with the training questions"
    )
    parser.add_argument(
        "--exclude",
        nargs="*",
        default=[],
        metavar="FILE",
        help="SQuAD files whose questions (their original ids) must stay unseen: every paragraph "
        "holding one of them is dropped from --train",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="train on at most this many questions (a seeded sample, whole paragraphs kept together)",
    )
    parser.add_argument(
        "--model", default=None, help="hub id or local directory of the encoder (default: the packaged MiniLM)"
    )
    parser.add_argument("--output-dir", required=True, metavar="DIR")
    parser.add_argument("--max-seq-length", type=int, default=384)
    parser.add_argument("--doc-stride", type=int, default=128, help="tokens shared by consecutive windows")
    parser.add_argument("--max-query-length", type=int, default=64)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=16, help="windows per step")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--warmup", type=float, default=0.1, help="share of the steps with a linear warm-up")
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--save-every", type=int, default=200, help="steps between resumable checkpoints")
    parser.add_argument("--log-every", type=int, default=20, help="steps between log lines")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (a short run)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the run in --output-dir")
    group.add_argument("--overwrite", action="store_true", help="replace the contents of --output-dir")


def select_questions(args):
    """The training questions: --train minus the paragraphs --exclude touches, then the --limit sample."""
    import random

    from textadv.qa.squad import load_questions, original_id, read_squad

    questions = load_questions(args.train)
    if args.exclude:
        unseen = {original_id(q.id) for path in args.exclude for q in read_squad(path)}
        touched = {(q.title, q.context) for q in questions if original_id(q.id) in unseen}
        questions = [q for q in questions if (q.title, q.context) not in touched]
        if not questions:
            raise ValueError("--exclude removes every paragraph of --train")
    if args.limit is not None and args.limit < len(questions):
        paragraphs: dict = {}
        for q in questions:
            paragraphs.setdefault((q.title, q.context), []).append(q)
        order = list(paragraphs)
        random.Random(args.seed).shuffle(order)
        kept = set()
        count = 0
        for key in order:
            if count >= args.limit:
                break
            kept.add(key)
            count += len(paragraphs[key])
        questions = [q for q in questions if (q.title, q.context) in kept]
    return questions


def check_args(args) -> None:
    for name in ("batch_size", "save_every", "log_every"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if not (args.epochs > 0 and math.isfinite(args.epochs)):
        raise ValueError(f"--epochs must be positive, got {args.epochs}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise ValueError(f"--lr must be positive, got {args.lr}")
    if args.weight_decay < 0 or not 0 <= args.warmup < 1 or args.max_grad_norm <= 0:
        raise ValueError("--weight-decay must be >= 0, --warmup in [0, 1), --max-grad-norm > 0")
    if args.limit is not None and args.limit <= 0:
        raise ValueError(f"--limit must be positive, got {args.limit}")
    if args.max_steps is not None and args.max_steps <= 0:
        raise ValueError(f"--max-steps must be positive, got {args.max_steps}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    for path in args.exclude:
        if not Path(path).is_file():
            raise FileNotFoundError(f"--exclude file {path} does not exist")


def save_model(model, tokenizer, output_dir: Path) -> None:
    """``save_pretrained`` into a temporary directory beside the output, then each file moved into place."""
    tmp = Path(tempfile.mkdtemp(prefix=".model.tmp-", dir=output_dir))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        for f in tmp.iterdir():
            os.replace(f, output_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args) -> int:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    from textadv import assets
    from textadv.qa.features import WindowSettings, encode_windows
    from textadv.report.io import read_json, save_torch, write_json
    from textadv.report.runs import open_run
    from textadv.train.seed import epoch_generator, seed_everything

    check_args(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = WindowSettings(args.max_seq_length, args.doc_stride, args.max_query_length)
    model_name = str(args.model or assets.minilm_dir())
    questions = select_questions(args)
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    windows = encode_windows(tokenizer, questions, settings, labels=True)

    output_dir = Path(args.output_dir)
    recorded = {k: v for k, v in vars(args).items() if k not in ("resume", "overwrite") and not callable(v)}
    recorded.update(
        model=model_name,
        questions=len(questions),
        windows=len(windows),
        paragraphs=len({(q.title, q.context) for q in questions}),
        answers_in_window=int((windows.start_positions > 0).sum()),
    )
    previous: dict = {}
    if args.resume:
        settings_file = output_dir / "train_settings.json"
        previous = read_json(settings_file) if settings_file.is_file() else {}
        # may change between a run and its resumption; --max-steps may cut a run short (see the docstring)
        free = ("threads", "save_every", "log_every", "max_steps", "shortened")
        changed = sorted(k for k in recorded if k not in free and previous and previous.get(k) != recorded[k])
        if changed:
            raise ValueError(f"--resume with different settings than the run in {output_dir}: {', '.join(changed)}")
        recorded["shortened"] = list(previous.get("shortened", []))
    run = open_run(output_dir, "train-qa", resume=args.resume, overwrite=args.overwrite, flag="--output-dir")
    run.start({"settings": json.loads(json.dumps(recorded, default=str))})
    write_json(output_dir / "train_settings.json", recorded)

    seed_everything(args.seed)
    try:
        model = AutoModelForQuestionAnswering.from_pretrained(model_name)
    except ValueError as err:
        first = str(err).splitlines()[0]
        raise ValueError(f"model {model_name!r} has no question-answering variant: {first}") from None
    decay = [p for n, p in model.named_parameters() if not any(s in n for s in ("bias", "LayerNorm", "layer_norm"))]
    no_decay = [p for n, p in model.named_parameters() if any(s in n for s in ("bias", "LayerNorm", "layer_norm"))]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )
    steps_per_epoch = math.ceil(len(windows) / args.batch_size)
    total = math.ceil(steps_per_epoch * args.epochs)
    if args.max_steps is not None:
        total = min(total, args.max_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total), total)

    step, losses = 0, []
    ckpt = output_dir / CHECKPOINT
    if args.resume and (ckpt / "state.pt").is_file():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
        state = torch.load(ckpt / "state.pt", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        step, losses = int(state["step"]), [float(x) for x in state["losses"]]
        if "total" in state:
            previous_total = int(state["total"])
        else:  # a checkpoint that predates the field: the length its settings gave
            previous_total = math.ceil(math.ceil(previous["windows"] / previous["batch_size"]) * previous["epochs"])
            previous_total = min(previous_total, previous.get("max_steps") or previous_total)
        if previous_total != total:
            if total <= step:
                raise ValueError(f"--max-steps {total} is not beyond the checkpoint's step {step}")
            # the linear schedule is rebuilt for the new length: from here it decays to 0 at the new last step
            recorded["shortened"].append({"at_step": step, "steps_before": previous_total, "steps_after": total})
            write_json(output_dir / "train_settings.json", recorded)
        print(f"resumed at step {step}/{total}", flush=True)

    from textadv.report.io import save_safetensors

    model.train()
    start = time.time()
    bar = tqdm(total=total, initial=step, desc="train_qa", disable=None)
    labels = {"start_positions": windows.start_positions, "end_positions": windows.end_positions}
    while step < total:
        epoch, offset = divmod(step, steps_per_epoch)
        order = torch.randperm(len(windows), generator=epoch_generator(args.seed, epoch))
        rows = order[offset * args.batch_size : (offset + 1) * args.batch_size]
        batch = {k: v[rows] for k, v in windows.inputs.items()}
        batch.update({k: v[rows] for k, v in labels.items()})
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(loss.item())
        bar.update(1)
        if step % args.log_every == 0 or step == total:
            recent = losses[-args.log_every :]
            print(
                f"step {step}/{total} epoch {epoch} loss {sum(recent) / len(recent):.4f} "
                f"lr {scheduler.get_last_lr()[0]:.2e} elapsed {time.time() - start:.0f}s",
                flush=True,
            )
        if step % args.save_every == 0 and step < total:
            save_safetensors(ckpt / "model.safetensors", model.state_dict())
            save_torch(
                ckpt / "state.pt",
                {
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state(),
                    "step": step,
                    "losses": losses,
                    "total": total,
                },
            )
    bar.close()
    model.eval()
    save_model(model, tokenizer, output_dir)
    shutil.rmtree(ckpt, ignore_errors=True)
    first = losses[: args.log_every]
    last = losses[-args.log_every :]
    metrics = {
        "steps": step,
        "loss_first": sum(first) / len(first),
        "loss_last": sum(last) / len(last),
        "losses": losses,
        "seconds": time.time() - start,
        **{k: recorded[k] for k in ("questions", "paragraphs", "windows", "answers_in_window")},
    }
    run.finish(metrics)
    print(json.dumps({k: v for k, v in metrics.items() if k != "losses"}), flush=True)
    return 0


def main(argv=None) -> int:
    from types import SimpleNamespace

    from textadv.cli import recipe_main

    return recipe_main(SimpleNamespace(HELP=HELP, add_arguments=add_arguments, run=run), "train_qa.py", argv)


if __name__ == "__main__":
    sys.exit(main())
