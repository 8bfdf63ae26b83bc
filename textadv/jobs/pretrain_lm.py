"""The pretraining job: Miyato's LSTM as a next-word language model on the task's text.

Miyato, Dai & Goodfellow (2017, §4) initialise the classifier's word embedding and LSTM from a
recurrent language model trained on the task's labelled and unlabeled text. ``textadv pretrain-lm``
and ``recipes/pretrain_lm.py`` call :func:`pretrain_lm`, which runs

    settings (resumed ones from the saved run) → check the run directory → the fine-tuning job's data
    (same flags, so the same vocabulary) → texts: training split + unlabeled stream, validation split
    held out, cut into windows of --max-length words → LSTMLanguageModel → config.json → the shared
    loop (textadv.train.train: checkpoints, resume, seed, progress bar) → validation perplexity (full
    softmax) → lm/, perplexity.png → metrics.json

Run directory (``output_dir``)::

    config.json      {"job": "pretrain-lm", "settings": PretrainLMConfig, "train_config", "data", "processes"}
    checkpoint/      the loop's resumable checkpoint (weights, optimiser, scheduler, RNG, position)
    history.json     training loss (sampled softmax) every 10 steps, validation perplexity every --eval-every
    lm/              the language model (textadv.text.save_text_model, kind "lstm-lm"): model.safetensors,
                     vocabulary.tsv (words and counts), vocab.txt, frequencies.txt, textadv_model.json;
                     ``textadv finetune --init-from <run dir>`` starts the classifier's embedding and LSTM
                     from it and reuses its vocabulary
    perplexity.png   validation perplexity (and exp of the sampled training loss) against the step
    metrics.json     written LAST: a run directory without it is incomplete

The softmax: a sampled softmax (Jean et al. 2015) of ``--num-sampled`` 1024 classes per batch drawn
with replacement from the vocabulary's unigram distribution, as Miyato's code samples 1024 from the
same distribution (without replacement, TensorFlow's ``fixed_unigram_candidate_sampler``);
:func:`textadv.text.lstm.sampled_softmax_loss` states the estimator. The validation perplexity uses
the full softmax: ``exp`` of the mean next-word cross-entropy over every word of the held-out texts
after their first (the validation split of the fine-tuning job's data, never its test split).

Each text is cut into windows of ``--max-length`` words overlapping by one word
(:func:`lm_sequences`), each trained as a sequence of its own. Deviations from the paper: the LSTM
state is not carried from one window to the next (the paper back-propagates through up to 400 words
of a whole document); there is no end-of-text token; gradient clipping covers every parameter (the
paper exempts the word embeddings); the model is as small as the fine-tuning job's (the paper's
IMDB LM has 256-d embeddings and 1024 LSTM units, trained for 100,000 steps of batch 256); no
dropout on the LSTM's output; ``--glove`` (off by default) starts the embedding from GloVe 6B 50d
(:func:`build_language_model`), where the paper's language model starts from random vectors.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, List, Optional

import torch

from ..surfaces import Batch, Surface
from ..text.checkpoint import RUN_LM_DIR
from .pretrain_lm_settings import RESUMABLE_CHANGES, PretrainLMConfig

JOB = "pretrain-lm"
PLOT_FILE = "perplexity.png"
IGNORE = -100  # target of a position with no next word (the last word of a text, padding)

__all__ = [
    "JOB",
    "PretrainLMConfig",
    "PretrainLMResult",
    "LanguageModelSurface",
    "build_language_model",
    "lm_sequences",
    "perplexity",
    "pretrain_lm",
    "read_pretrained",
]


@dataclass
class PretrainLMResult:
    run_dir: Path
    metrics: dict
    config: PretrainLMConfig
    model: Any = field(repr=False, default=None)
    vocabulary: Any = field(repr=False, default=None)


class LanguageModelSurface(Surface):
    """The language model seen by the shared loop: its outputs are the LSTM states ``[B, T, H]``, its
    labels the next word of each position (``IGNORE`` where there is none), its loss the sampled softmax
    (``num_sampled`` > 0, the global RNG draws the classes) or the full softmax (``num_sampled`` = 0)."""

    bounds = None

    def __init__(self, model: torch.nn.Module, num_sampled: int = 0):
        super().__init__(model)
        self.num_sampled = num_sampled

    def inputs(self, batch: Batch) -> torch.Tensor:
        return self.model.embed(batch["input_ids"])

    def logits(self, x: torch.Tensor, batch: Batch) -> torch.Tensor:
        return self.model.outputs(x)

    def labels(self, batch: Batch) -> torch.Tensor:
        ids, mask = batch["input_ids"], batch["attention_mask"]
        targets = torch.full_like(ids, IGNORE)
        targets[:, :-1] = ids[:, 1:].masked_fill(mask[:, 1:] == 0, IGNORE)
        return targets  # [B, T]

    def token_losses(self, outputs: torch.Tensor, labels: torch.Tensor):
        """``(losses [N], rows [N])``: the next-word loss of every position that has a next word, and its text."""
        valid = labels != IGNORE  # [B, T]
        rows = valid.nonzero()[:, 0]
        return self.model.next_word_losses(outputs[valid], labels[valid], self.num_sampled), rows

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, reduction: str = "none") -> torch.Tensor:
        """Mean next-word loss over the batch's words (``"mean"``) or per text (``"none"``, ``[B]``)."""
        losses, rows = self.token_losses(outputs, labels)
        if reduction == "mean":
            return losses.mean()
        counts = (labels != IGNORE).sum(dim=1).clamp_min(1)
        return (
            torch.zeros(labels.shape[0], dtype=losses.dtype, device=losses.device).index_add(0, rows, losses) / counts
        )


def perplexity(model: torch.nn.Module, loader) -> float:
    """``exp`` of the mean full-softmax next-word cross-entropy over every predicted word of ``loader``'s texts."""
    surface = LanguageModelSurface(model, num_sampled=0)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            losses, _ = surface.token_losses(surface.logits(surface.inputs(batch), batch), surface.labels(batch))
            total += float(losses.double().sum())
            count += losses.numel()
    model.train(was_training)
    return math.exp(total / count) if count else float("nan")


def lm_sequences(vocabulary, texts: List[str], max_length: int) -> List[dict]:
    """Every text as word ids, cut into windows of at most ``max_length`` words that overlap by one word
    (so every word after a text's first is predicted once); windows of one word are dropped."""
    out = []
    for text in texts:
        ids = vocabulary.encode(text)
        for start in range(0, max(len(ids) - 1, 0), max_length - 1):
            out.append({"input_ids": ids[start : start + max_length]})
    return out


def build_language_model(config: PretrainLMConfig, vocabulary):
    """``(model, glove_coverage)``: the language model of the resolved ``config`` over ``vocabulary``.

    With ``--glove`` the embedding rows of the words GloVe 6B 50d knows are its vectors, copied by the
    fine-tuning job's loader (:func:`textadv.text.lstm.load_glove`, the one ``finetune --glove`` uses);
    ``glove_coverage`` is the share of word tokens they cover (``None`` without ``--glove``). Seed the
    global RNG first: the other rows and weights are drawn from it.
    """
    from ..text.lstm import LSTMLanguageModel, load_glove

    model = LSTMLanguageModel(
        len(vocabulary),
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        embedding_dropout=config.embedding_dropout,
        counts=vocabulary.frequencies(),
        normalization=config.normalization,
    )
    if not config.glove:
        return model, None
    try:
        return model, load_glove(model.embedding.embedding, vocabulary)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error} (or start the language model from random vectors without --glove)") from None


def _plot(path: Path, history: list) -> None:
    from ..report.plots import plot_curves

    validation = {h["step"]: h["eval"]["validation_perplexity"] for h in history if "eval" in h}
    training = {h["step"]: math.exp(min(h["loss"], 50.0)) for h in history if "loss" in h}
    curves = {"validation (full softmax)": validation, "training: exp(sampled-softmax loss)": training}
    plot_curves(
        {k: v for k, v in curves.items() if v},
        path,
        ylabel="perplexity",
        title="language-model pretraining",
        log_y=True,
    )


# ---------------------------------------------------------------------------------------- the job
def pretrain_lm(
    config: Optional[PretrainLMConfig] = None,
    output_dir: Optional[str] = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    overrides: Optional[dict] = None,
    accelerator: Any = None,
) -> PretrainLMResult:
    """Pretrain the language model and write the run directory (module docstring).

    Arguments as :func:`textadv.jobs.finetune.finetune`: ``resume`` continues the run in ``output_dir``
    with its saved settings, where only ``RESUMABLE_CHANGES`` in ``overrides`` may differ. Bad input
    raises ``ValueError``/``FileNotFoundError`` before the run directory is touched.
    """
    from ..report.runs import open_run
    from ..text import TextCollator, Vocabulary
    from ..text.checkpoint import save_text_model
    from ..text.vocab import PAD_ID
    from ..objectives import Objective
    from ..train import Batches, TrainConfig, check_checkpoint, seed_everything, train
    from ..train.loop import default_accelerator
    from .finetune import load_data

    # 1. Settings, and the run directory checked (nothing is written before step 4).
    run = open_run(output_dir, JOB, resume=resume, overwrite=overwrite)
    if resume:
        config = run.resumed(PretrainLMConfig, overrides, RESUMABLE_CHANGES)
    config = (config or PretrainLMConfig()).resolved()

    # 2. Data: the fine-tuning job's vocabulary over its training plus unlabeled text.
    data = load_data(config)
    vocabulary = Vocabulary.build(data.train.texts + data.unlabeled, min_count=config.min_count)
    texts = lm_sequences(vocabulary, data.train.texts + data.unlabeled, config.max_length)
    if not texts:
        raise ValueError(f"no text of {data.source} has two words or more: nothing to train a language model on")
    validation = lm_sequences(vocabulary, data.validation.texts[: config.validation_limit], config.max_length)
    validation = sorted(validation, key=lambda e: len(e["input_ids"]))

    # 3. Model, loop settings, and the checkpoint of a resumed run checked.
    seed_everything(config.seed)
    model, glove_coverage = build_language_model(config, vocabulary)
    train_config = TrainConfig(
        batch_size=config.batch_size,
        lr=config.lr,
        lr_decay=config.lr_decay,
        epochs=config.epochs,
        max_steps=config.max_steps,
        grad_clip=config.grad_clip,
        eval_every=config.eval_every,
        save_every=config.save_every,
        seed=config.seed,
    )
    accelerator = accelerator or default_accelerator()
    train_config.check_processes(accelerator.num_processes)
    if resume:
        check_checkpoint(run.path, rank=accelerator.process_index)

    # 4. The run directory: config.json first.
    data_info = {
        "source": data.source,
        "train_texts": len(data.train),
        "unlabeled_texts": len(data.unlabeled),
        "lm_sequences": len(texts),
        "lm_words": sum(len(e["input_ids"]) for e in texts),
        "validation_sequences": len(validation),
        "vocab_size": len(vocabulary),
    }
    if glove_coverage is not None:
        data_info["glove_token_coverage"] = glove_coverage
    run.start_on_main(
        accelerator, {"settings": config.to_dict(), "train_config": asdict(train_config), "data": data_info}
    )

    # 5. Training on the shared loop; the validation perplexity is its evaluation.
    collate = TextCollator(PAD_ID)
    eval_fn = None
    if validation:
        validation_loader = Batches(validation, config.eval_batch_size, collate_fn=collate)

        def eval_fn(m):
            return {"validation_perplexity": perplexity(m, validation_loader)}

    started = time.perf_counter()
    result = train(
        model,
        LanguageModelSurface(model, config.num_sampled),
        Objective(name="language model"),
        texts,
        config=train_config,
        output_dir=run.path,
        collate_fn=collate,
        eval_fn=eval_fn,
        accelerator=accelerator,
        resume=resume,
        optimizer_factory=lambda params: torch.optim.Adam(params, lr=config.lr),
        progress=config.progress,
    )
    seconds = time.perf_counter() - started

    metrics = {
        "validation_perplexity": (result.final_eval or {}).get("validation_perplexity"),
        "vocab_size": len(vocabulary),
        "num_sampled": config.num_sampled,
        "seed": config.seed,
        "train": result.summary(seconds, resume),
        "data": data_info,
    }

    # 6. The language model, the plot; metrics.json last.
    if accelerator.is_main_process:
        save_text_model(
            model,
            run.path / RUN_LM_DIR,
            encoder=vocabulary,
            extra={"seed": config.seed, "steps": result.global_step, "job": JOB},
        )
        _plot(run.path / PLOT_FILE, result.history)
        run.finish(metrics)
    accelerator.wait_for_everyone()
    return PretrainLMResult(run.path, metrics, config, model, vocabulary)


def read_pretrained(run_dir: str):
    """The embedding, LSTM and vocabulary of the complete pretraining run ``run_dir`` (``--init-from``).

    ``ValueError``/``FileNotFoundError`` naming the problem when ``run_dir`` is not a directory, not a
    ``pretrain-lm`` run, incomplete (no ``metrics.json``) or its ``lm/`` is damaged.
    """
    from ..report.io import METRICS_FILE
    from ..report.runs import saved_config
    from ..text.checkpoint import read_encoder_weights

    path = Path(run_dir)
    if not path.is_dir():
        raise ValueError(f"--init-from {path}: no such directory (give a textadv pretrain-lm run directory)")
    saved = saved_config(path)
    if saved is None or saved["job"] != JOB:
        what = "not a textadv run" if saved is None else f"a textadv {saved['job']} run"
        raise ValueError(f"--init-from {path} is {what}, not a textadv {JOB} run")
    if not (path / METRICS_FILE).is_file():
        raise ValueError(f"--init-from {path}: the pretraining run is incomplete (no {METRICS_FILE}); resume it first")
    return read_encoder_weights(path / RUN_LM_DIR)
