"""``textadv pretrain-lm``: pretrain Miyato's LSTM as a language model on the task's text.

One flag per field of :class:`textadv.jobs.pretrain_lm_settings.PretrainLMConfig` (derived from the
dataclass); ``recipes/pretrain_lm.py`` runs the same job with the same flags. The run directory's
``lm/`` is what ``textadv finetune --init-from RUN_DIR`` starts the classifier from.
"""

from __future__ import annotations

import argparse

HELP = (
    "Pretrain the LSTM classifier's embedding and LSTM as a next-word language model (sampled softmax) on the "
    "task's training and unlabeled text, for finetune --init-from."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..jobs.flags import add_run_flags, add_setting_flags
    from ..jobs.pretrain_lm_settings import PretrainLMConfig

    add_setting_flags(parser, PretrainLMConfig)
    add_run_flags(parser)


def run(args: argparse.Namespace) -> int:
    from ..jobs.flags import run_job
    from ..jobs.pretrain_lm import PretrainLMConfig, pretrain_lm

    result = run_job(args, PretrainLMConfig, pretrain_lm)
    m = result.metrics
    ppl = m["validation_perplexity"]
    shown = "n/a (no validation text)" if ppl is None else f"{ppl:.1f}"
    print(
        f"validation perplexity {shown} after {m['train']['steps']} steps (vocabulary {m['vocab_size']})\n"
        f"run directory: {result.run_dir} (lm/ for finetune --init-from, perplexity.png, metrics.json)"
    )
    return 0
