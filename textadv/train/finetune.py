"""The main job: fine-tune a text classifier with embedding-space AT/VAT (Miyato, Dai & Goodfellow 2017).

``textadv finetune`` and ``recipes/finetune_classifier.py`` both call :func:`finetune`, which runs

    dataset → vocabulary/tokenizer + word frequencies → model with normalised embeddings
    → TextSurface → objective (none / random / at / vat / at+vat) → accelerate loop (textadv.train.train)
    → evaluation on the held-out test split (clean, FGM and PGD in ℓ2 at several ε)
    → run directory

Run directory (``output_dir``)::

    config.json          every setting (the FinetuneConfig), the seed, the data sizes; written first
    checkpoint/          the loop's resumable checkpoint (weights, optimiser, scheduler, RNG, position)
    history.json         training losses and periodic validation accuracy (from the loop)
    model/               the trained model in the save_text_model format (textadv_model.json,
                         model.safetensors, vocab.txt, frequencies.txt; tokenizer files for HF);
                         ``textadv neighbours --checkpoints <run dir>`` reads it
    neighbours.md/.json  the 10 nearest words (cosine) to good / bad / great / terrible in the trained embedding
    accuracy_vs_eps.png  test accuracy under FGM and PGD against ε
    report.md            settings, results, the neighbour table
    metrics.json         written LAST: a run directory without it is incomplete

Defaults and why (PAPERS.md §7):

- Miyato's LSTM classifier (1-layer LSTM, hidden 64, dense 30, texts cut at 40 tokens) initialised from the packaged GloVe 6B
  50d vectors, Adam with lr 0.001 decayed by 0.9998 per step, gradient clipping at 1.0, embedding
  dropout keep 0.5 with one mask shared by the clean and perturbed passes, ε = 5.0 on Miyato-normalised
  embeddings, ξ = 0.1, one power iteration, batch 64, two epochs over the 10,246 training snippets of
  the packaged Rotten Tomatoes corpus, with the packaged plot synopses as the unlabeled stream of VAT.
  This finishes on two CPU cores in a few minutes.
- Pretrained transformers (``--model minilm`` or a hub id/path): normalisation ``"scale"`` by default
  (the model keeps seeing the raw word vectors it was pretrained on; ε is measured in units of their
  frequency-weighted spread σ̄, so ε = 5.0 carries over), no extra embedding dropout, lr 5e-5.
  ``docs/results/text.md`` records the short measurement of ``miyato`` against ``scale`` behind this
  (MiniLM, AT, ε = 1, 64 steps: test accuracy 0.680 with ``scale``, 0.641 with ``miyato``).
- ε = 5.0 is the paper's IMDB value; on short texts (Rotten Tomatoes snippets of ~20 tokens) one ℓ2
  ball over the whole sequence puts far more perturbation on each word, and ε = 1.0 works better
  (docs/results/text.md: at ε = 5.0 AT collapses the LSTM to the majority class).

Deviations from the paper: the LSTM is not pretrained as a language model on the unlabeled text
(Miyato et al. pretrain it; we start from GloVe or random vectors), it is much smaller (the paper's
IMDB model has a 1024-unit LSTM on 256-d embeddings), and it trains for minutes, not hours.

Resume: a run directory holds its ``config.json`` and a checkpoint every ``save_every`` steps;
``finetune(..., resume=True)`` rebuilds everything from the saved settings (the data split, the
vocabulary and the model are deterministic functions of them), loads the checkpoint (weights,
optimiser, scheduler, RNG states, position in the epoch) and continues to the same result an
uninterrupted run reaches. Only the budget (``epochs``, ``max_steps``) and evaluation settings may
differ from the saved ones.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import torch

ADV_CHOICES = ("none", "random", "at", "vat", "at+vat")
NORMALIZATIONS = ("miyato", "scale", "raw")
MINILM = "minilm"
CONFIG_FILE = "config.json"
MODEL_DIR = "model"
PLOT_FILE = "accuracy_vs_eps.png"
REPORT_FILE = "report.md"
NEIGHBOURS_FILE = "neighbours"
NEIGHBOUR_WORDS = ("good", "bad", "great", "terrible")
# Settings a resumed run may change: they do not alter the training trajectory.
RESUMABLE_CHANGES = ("epochs", "max_steps", "eval_every", "save_every", "eval_eps", "pgd_steps", "eval_batch_size",
                     "test_limit", "neighbour_words", "neighbour_k", "progress")


@dataclass(frozen=True)
class FinetuneConfig:
    """Every setting of a fine-tuning run; ``None`` means "the default of the model family" (module docstring).

    Objective: ``adv``, ``epsilon`` (ℓ2 radius per example over the whole sequence, in normalised units;
    relative to σ̄ in ``"scale"`` mode), ``xi`` (VAT's finite-difference step), ``adv_weight`` (λ),
    ``vat_iterations`` (power iterations).
    Data: ``dataset`` (``rotten_tomatoes`` = the packaged corpus, a hub id, or a csv/tsv/jsonl path),
    ``hub`` (load ``rotten_tomatoes`` from the hub), ``hub_config``, ``text_column``, ``label_column``,
    ``test_file``, ``unlabeled`` (``default`` = the packaged plot synopses for Rotten Tomatoes, ``none``,
    or a file), ``max_length`` (tokens per text; longer texts are truncated with a warning),
    ``split_seed`` (the seeded train/validation/test split; fixed across training seeds so every
    seed is tested on the same held-out examples), ``train_limit``/``test_limit`` (seeded subsets for
    quick runs), ``min_count`` (LSTM vocabulary).
    Model: ``model`` (``lstm``, ``minilm`` = the packaged all-MiniLM-L6-v2, a hub id or a local
    directory), ``normalization``, ``glove``, ``embedding_dim``, ``hidden_size``, ``dense_size``,
    ``embedding_dropout``.
    Training: ``batch_size``, ``unlabeled_batch_size``, ``lr``, ``lr_decay`` (per step), ``grad_clip``,
    ``epochs``, ``max_steps``, ``eval_every`` (validation accuracy in the history), ``save_every``
    (checkpoint period), ``seed``.
    Evaluation: ``eval_eps`` (ε of FGM and PGD, ℓ2), ``pgd_steps``, ``eval_batch_size``,
    ``neighbour_words``, ``neighbour_k``.
    """

    adv: str = "vat"
    epsilon: float = 5.0
    xi: float = 0.1
    adv_weight: float = 1.0
    vat_iterations: int = 1
    dataset: str = "rotten_tomatoes"
    hub: bool = False
    hub_config: Optional[str] = None
    text_column: str = "text"
    label_column: str = "label"
    test_file: Optional[str] = None
    unlabeled: str = "default"
    max_length: int = 40
    split_seed: int = 0
    train_limit: Optional[int] = None
    test_limit: Optional[int] = None
    min_count: int = 2
    model: str = "lstm"
    normalization: Optional[str] = None
    glove: Optional[bool] = None
    embedding_dim: int = 128
    hidden_size: int = 64
    dense_size: int = 30
    embedding_dropout: Optional[float] = None
    batch_size: int = 64
    unlabeled_batch_size: Optional[int] = None
    lr: Optional[float] = None
    lr_decay: float = 0.9998
    grad_clip: Optional[float] = 1.0
    epochs: int = 3
    max_steps: Optional[int] = None
    eval_every: int = 0
    save_every: int = 100
    seed: int = 0
    eval_eps: Tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)
    pgd_steps: int = 10
    eval_batch_size: int = 256
    neighbour_words: Tuple[str, ...] = NEIGHBOUR_WORDS
    neighbour_k: int = 10
    progress: bool = True

    # ------------------------------------------------------------------ derived settings
    @property
    def is_lstm(self) -> bool:
        return self.model == "lstm"

    def resolved(self) -> "FinetuneConfig":
        """The settings with every per-family default filled in, validated (``ValueError`` naming the setting)."""
        c = self
        if c.adv not in ADV_CHOICES:
            raise ValueError(f"--adv must be one of {', '.join(ADV_CHOICES)}, got {c.adv!r}")
        for name in ("epsilon", "xi", "adv_weight"):
            value = getattr(c, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
        if c.xi <= 0 and c.adv in ("vat", "at+vat"):
            raise ValueError(f"--xi must be > 0 for VAT's finite difference, got {c.xi}")
        for name in ("vat_iterations", "batch_size", "epochs", "eval_batch_size", "neighbour_k", "min_count"):
            if getattr(c, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(c, name)}")
        for name in ("max_steps", "train_limit", "test_limit", "unlabeled_batch_size"):
            if getattr(c, name) is not None and getattr(c, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(c, name)}")
        if c.max_length < 2:
            raise ValueError(f"--max-length must be >= 2, got {c.max_length}")
        eps_values = tuple(float(e) for e in c.eval_eps)
        for e in eps_values:
            if not (math.isfinite(e) and e >= 0):
                raise ValueError(f"every --eval-eps value must be a finite number >= 0, got {e}")
        if c.normalization is not None and c.normalization not in NORMALIZATIONS:
            raise ValueError(f"--normalization must be one of {', '.join(NORMALIZATIONS)}, got {c.normalization!r}")
        if c.embedding_dropout is not None and not 0 <= c.embedding_dropout < 1:
            raise ValueError(f"--embedding-dropout must be in [0, 1), got {c.embedding_dropout}")
        if c.is_lstm:
            glove = True if c.glove is None else c.glove
            c = replace(c, normalization=c.normalization or "miyato", glove=glove,
                        embedding_dim=50 if glove else c.embedding_dim,
                        embedding_dropout=0.5 if c.embedding_dropout is None else c.embedding_dropout,
                        lr=1e-3 if c.lr is None else c.lr)
        else:
            if c.glove:
                raise ValueError("--glove initialises the LSTM's embedding; a pretrained transformer keeps its own (drop --glove)")
            c = replace(c, normalization=c.normalization or "scale", glove=False,
                        embedding_dropout=0.0 if c.embedding_dropout is None else c.embedding_dropout,
                        lr=5e-5 if c.lr is None else c.lr)
        if not (c.lr > 0 and math.isfinite(c.lr)):
            raise ValueError(f"--lr must be a positive number, got {c.lr}")
        return replace(c, eval_eps=eps_values, neighbour_words=tuple(c.neighbour_words))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["eval_eps"] = list(self.eval_eps)
        d["neighbour_words"] = list(self.neighbour_words)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "FinetuneConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown} in {CONFIG_FILE}")
        data = dict(data)
        for key in ("eval_eps", "neighbour_words"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass
class FinetuneResult:
    run_dir: Path
    metrics: dict
    config: FinetuneConfig
    model: Any = field(repr=False, default=None)
    encoder: Any = field(repr=False, default=None)


# ---------------------------------------------------------------------------------------- pieces
def _hf_source(name: str) -> Optional[str]:
    """``None`` (the packaged MiniLM) for ``minilm``, the id/path otherwise."""
    return None if name.lower() == MINILM else name


def load_data(config: FinetuneConfig):
    """The :class:`~textadv.text.TextClassificationData` of ``config`` (split by ``split_seed``)."""
    from ..text import load_text_classification

    return load_text_classification(
        config.dataset, text_column=config.text_column, label_column=config.label_column, seed=config.split_seed,
        test_file=config.test_file, unlabeled=config.unlabeled, hub=config.hub, hub_config=config.hub_config,
        max_train_examples=config.train_limit,
    )


def build_model(config: FinetuneConfig, data) -> Tuple[torch.nn.Module, Any, dict]:
    """``(model, encoder, info)``: the model with normalised embeddings and its vocabulary/tokenizer.

    Word frequencies are counted over the training plus unlabeled text, as the model tokenises it.
    Seed the global RNG before calling (the model's initialisation draws from it).
    """
    from .. import text

    freq_texts = data.train.texts + data.unlabeled
    info: dict = {}
    num_labels = len(data.label_names)
    if config.is_lstm:
        vocab = text.Vocabulary.build(freq_texts, min_count=config.min_count)
        lstm_config = text.LSTMConfig(
            len(vocab), num_labels, embedding_dim=config.embedding_dim, hidden_size=config.hidden_size,
            dense_size=config.dense_size, embedding_dropout=config.embedding_dropout,
            normalization=config.normalization,
        )
        frequencies = None if config.normalization == "raw" else vocab.frequencies()
        model = text.LSTMClassifier(lstm_config, frequencies)
        if config.glove:
            try:
                info["glove_token_coverage"] = text.load_glove(model.embedding.embedding, vocab)
            except FileNotFoundError as error:
                raise FileNotFoundError(f"{error} (or train the LSTM from random vectors with --no-glove)") from None
        info["vocab_size"] = len(vocab)
        return model, vocab, info
    hf_model, tokenizer = text.load_hf_classifier(_hf_source(config.model), num_labels=num_labels)
    rows = hf_model.get_input_embeddings().weight.shape[0]
    frequencies = None if config.normalization == "raw" else text.word_frequencies(tokenizer, freq_texts, vocab_size=rows)
    model = text.HFTextClassifier(hf_model, frequencies, normalization=config.normalization,
                                  embedding_dropout=config.embedding_dropout)
    info["vocab_size"] = rows
    return model, tokenizer, info


def _encode(encoder, texts, labels, max_length: int, name: str, notes: List[str]):
    from ..text import encode_examples

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        examples = encode_examples(encoder, texts, labels, max_length, name=name)
    for w in caught:
        message = str(w.message)
        notes.append(message)
        warnings.warn(message, stacklevel=3)  # say it to the user, and keep it for the report
    return examples


def _test_subset(data, config: FinetuneConfig):
    texts, labels = data.test.texts, data.test.labels
    if config.test_limit is not None and config.test_limit < len(texts):
        order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(config.split_seed + 2))[: config.test_limit]
        order = sorted(order.tolist())
        texts, labels = [texts[i] for i in order], [labels[i] for i in order]
    return texts, labels


def evaluate_model(surface, loader, config: FinetuneConfig) -> dict:
    """Clean accuracy/error and accuracy under ℓ2 FGM and PGD at ``config.eval_eps`` on ``loader``'s split."""
    from ..eval import clean_accuracy, robust_accuracy

    clean = clean_accuracy(surface, loader, progress=config.progress)
    out = {"clean_accuracy": clean, "clean_error": 1.0 - clean}
    eps = [e for e in config.eval_eps if e > 0]
    if eps:
        out["fgm_accuracy"] = {str(e): a for e, a in robust_accuracy(
            surface, loader, attack="fgsm", norm=2, eps_values=eps, progress=config.progress).items()}
        out["pgd_accuracy"] = {str(e): a for e, a in robust_accuracy(
            surface, loader, attack="pgd", norm=2, eps_values=eps, steps=config.pgd_steps,
            seed=config.seed, progress=config.progress).items()}
    return out


def neighbour_table(model_dir: Path, words: Sequence[str], k: int) -> List[dict]:
    """The ``k`` nearest vocabulary words (cosine) to each of ``words`` in a saved model's embedding.

    Uses the embedding-neighbour analysis (:mod:`textadv.analysis`) on the model directory, in the
    space the model was trained in (Miyato-normalised for ``normalization="miyato"``, raw otherwise).
    """
    from ..analysis.compare import query_neighbours
    from ..analysis.sources import checkpoint_table

    table = checkpoint_table(model_dir)
    found = query_neighbours(table, list(words), min(k, len(table.vocab) - 1))
    return [
        {"word": q.word, "label": q.label, "neighbours": [{"word": n.word, "cosine": n.cosine} for n in q.neighbours]}
        for q in found
    ]


def _neighbours_markdown(rows: List[dict], space: str) -> str:
    lines = [f"Nearest words by cosine similarity of the trained word embeddings ({space}).", ""]
    for row in rows:
        if not row["neighbours"]:
            lines.append(f"- **{row['label']}**: not in the vocabulary")
            continue
        words = ", ".join(f"{n['word']} ({n['cosine']:.2f})" for n in row["neighbours"])
        lines.append(f"- **{row['label']}**: {words}")
    return "\n".join(lines) + "\n"


def _report(config: FinetuneConfig, metrics: dict, neighbours_md: Optional[str]) -> str:
    from ..report import format_value, table

    lines = [f"# textadv finetune: `--adv {config.adv}` on {metrics['data']['source']}", ""]
    lines += [f"Model `{config.model}` (normalisation `{config.normalization}`"
              + (", GloVe-initialised" if config.glove else "") + f"), seed {config.seed}, "
              f"{metrics['train']['steps']} steps ({metrics['train']['epochs_completed']} full epochs), "
              f"{metrics['train']['seconds']:.0f} s of training.", ""]
    lines += ["## Test split", "",
              f"Clean accuracy **{metrics['test']['clean_accuracy']:.4f}** (error {100 * metrics['test']['clean_error']:.2f}%) "
              f"on {metrics['data']['test_examples']} held-out examples.", ""]
    if "fgm_accuracy" in metrics["test"]:
        rows = [{"ε (ℓ2)": e, "FGM accuracy": metrics["test"]["fgm_accuracy"][e],
                 "PGD-%d accuracy" % config.pgd_steps: metrics["test"]["pgd_accuracy"][e]}
                for e in metrics["test"]["fgm_accuracy"]]
        unit = " (ε in units of σ̄, the embeddings' frequency-weighted spread)" if config.normalization == "scale" else ""
        lines += [f"Accuracy under embedding-space attacks on the whole sequence of each example{unit}:", "",
                  table(rows), f"![accuracy vs ε]({PLOT_FILE})", ""]
    if metrics.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in metrics["notes"]] + [""]
    if neighbours_md:
        lines += ["## Embedding neighbours", "", neighbours_md]
    lines += ["## Settings", "", table([{"setting": k, "value": format_value(v) if not isinstance(v, (list, tuple)) else
                                         " ".join(map(str, v))} for k, v in config.to_dict().items()]), ""]
    return "\n".join(lines)


def _check_resume(saved: FinetuneConfig, given: Optional[dict]) -> FinetuneConfig:
    """The saved settings, with the allowed changes from ``given`` applied; other changes are errors."""
    if not given:
        return saved
    changes, refused = {}, []
    saved_dict = saved.to_dict()
    for key, value in given.items():
        if key not in saved_dict:
            raise ValueError(f"unknown setting {key!r}")
        old = saved_dict[key]
        new = list(value) if isinstance(value, tuple) else value
        if new == old:
            continue
        if key in RESUMABLE_CHANGES:
            changes[key] = tuple(value) if isinstance(value, list) else value
        else:
            refused.append(f"{key}: {old!r} -> {new!r}")
    if refused:
        raise ValueError("cannot resume with different settings (" + "; ".join(refused) + "); only the budget and the "
                         f"evaluation may change ({', '.join(RESUMABLE_CHANGES)})")
    return replace(saved, **changes)


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
        config: the settings (default :class:`FinetuneConfig()`); ignored with ``resume`` except
            through ``overrides``.
        output_dir: the run directory. It must be missing or empty unless ``resume`` or ``overwrite``.
        resume: continue the run in ``output_dir`` with its saved ``config.json``.
        overwrite: delete ``output_dir``'s contents first.
        overrides: with ``resume``, settings given again by the user; only the budget and the
            evaluation may differ from the saved run (``RESUMABLE_CHANGES``).
        accelerator: an ``accelerate.Accelerator`` (default: a new one from the launcher's environment).

    Returns:
        :class:`FinetuneResult` with the run directory, the metrics, the resolved settings and the trained model.

    Bad input raises ``ValueError``/``FileNotFoundError`` naming the problem; settings and data are
    checked before the run directory is touched, and ``metrics.json`` (the completion mark) is
    written only at the very end.
    """
    from .. import text
    from ..objectives import build_objective
    from ..report import finish_run, plot_accuracy_vs_eps, prepare_run_dir, read_json, write_json, write_text
    from ..surfaces import TextSurface
    from .data import batches
    from .loop import TrainConfig, default_accelerator, train
    from .seed import seed_everything

    if output_dir is None:
        raise ValueError("an output directory is required (--output-dir DIR)")
    run_dir = Path(output_dir)
    if resume:
        if overwrite:
            raise ValueError("choose at most one of --resume and --overwrite")
        if not (run_dir / CONFIG_FILE).is_file():
            raise ValueError(f"nothing to resume: {run_dir / CONFIG_FILE} not found (was {run_dir} written by textadv finetune?)")
        config = _check_resume(FinetuneConfig.from_dict(read_json(run_dir / CONFIG_FILE)["settings"]), overrides)
    config = (config or FinetuneConfig()).resolved()

    # Everything that can fail on bad input happens before the run directory is created or cleared.
    data = load_data(config)
    if len(data.test) == 0:
        raise ValueError("the test split is empty: give a test file (--test-file) or a dataset with enough rows")
    notes: List[str] = []
    seed_everything(config.seed)
    model, encoder, info = build_model(config, data)
    train_set = _encode(encoder, data.train.texts, data.train.labels, config.max_length, "training texts", notes)
    test_texts, test_labels = _test_subset(data, config)
    test_set = _encode(encoder, test_texts, test_labels, config.max_length, "test texts", notes)
    # Evaluation order does not matter: sorted by length, each batch is padded to nearly its own length.
    test_set = sorted(test_set, key=lambda e: len(e["input_ids"]))
    validation_set = (_encode(encoder, data.validation.texts, data.validation.labels, config.max_length, "validation texts", notes)
                      if config.eval_every and len(data.validation) else None)
    uses_unlabeled = config.adv in ("vat", "at+vat") and len(data.unlabeled) > 0
    unlabeled_set = _encode(encoder, data.unlabeled, None, config.max_length, "unlabeled texts", notes) if uses_unlabeled else None
    objective = build_objective(config.adv, eps=config.epsilon, xi=config.xi, adv_weight=config.adv_weight,
                                vat_iterations=config.vat_iterations)
    train_config = TrainConfig(
        batch_size=config.batch_size, lr=config.lr, lr_decay=config.lr_decay, epochs=config.epochs,
        max_steps=config.max_steps, grad_clip=config.grad_clip, unlabeled_batch_size=config.unlabeled_batch_size,
        eval_every=config.eval_every, save_every=config.save_every, log_every=10, seed=config.seed,
    )
    if unlabeled_set is not None and len(unlabeled_set) < (config.unlabeled_batch_size or config.batch_size):
        raise ValueError(f"the unlabeled text has {len(unlabeled_set)} examples, fewer than one unlabeled batch "
                         f"({config.unlabeled_batch_size or config.batch_size}); pass --unlabeled none or more text")

    if accelerator is None:
        accelerator = default_accelerator()
    is_main = accelerator.is_main_process
    if is_main:
        prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
        data_info = {"source": data.source, "label_names": list(data.label_names), "train_examples": len(train_set),
                     "validation_examples": len(data.validation), "test_examples": len(test_set),
                     "unlabeled_examples": len(unlabeled_set) if unlabeled_set is not None else 0, **info}
        write_json(run_dir / CONFIG_FILE, {"settings": config.to_dict(), "train_config": asdict(train_config),
                                           "data": data_info, "processes": accelerator.num_processes})
    accelerator.wait_for_everyone()

    collate = text.TextCollator(text.pad_id_of(encoder))
    surface = TextSurface(model)
    eval_fn = None
    if validation_set is not None:
        from ..eval import clean_accuracy

        validation_loader = batches(validation_set, config.eval_batch_size, collate_fn=collate)
        eval_fn = lambda m: {"validation_accuracy": clean_accuracy(surface, validation_loader, progress=False)}  # noqa: E731

    started = time.perf_counter()
    result = train(
        model, surface, objective, train_set, config=train_config, output_dir=run_dir, collate_fn=collate,
        unlabeled=unlabeled_set, eval_fn=eval_fn, accelerator=accelerator, resume=resume,
        optimizer_factory=lambda params: torch.optim.Adam(params, lr=config.lr), progress=config.progress,
    )
    seconds = time.perf_counter() - started

    test_loader = batches(test_set, config.eval_batch_size, collate_fn=collate)
    test_metrics = evaluate_model(surface, test_loader, config)
    metrics = {
        "adv": config.adv, "model": config.model, "normalization": config.normalization, "seed": config.seed,
        "epsilon": config.epsilon,
        "test": test_metrics,
        "train": {"steps": result.global_step, "epochs_completed": result.epoch, "seconds": seconds,
                  "final_loss": next((h["loss"] for h in reversed(result.history) if "loss" in h), None),
                  "resumed": bool(resume)},
        "data": {"source": data.source, "train_examples": len(train_set), "test_examples": len(test_set),
                 "unlabeled_examples": len(unlabeled_set) if unlabeled_set is not None else 0},
        "notes": notes,
    }
    if is_main:
        model_dir = text.save_text_model(model, run_dir / MODEL_DIR, encoder=encoder, label_names=data.label_names,
                                         extra={"adv": config.adv, "seed": config.seed, "steps": result.global_step})
        neighbours_md = None
        if config.neighbour_words:
            rows = neighbour_table(model_dir, config.neighbour_words, config.neighbour_k)
            space = "Miyato-normalised" if config.normalization == "miyato" else "raw"
            neighbours_md = _neighbours_markdown(rows, space)
            write_json(run_dir / f"{NEIGHBOURS_FILE}.json", {"k": config.neighbour_k, "space": space, "words": rows})
            write_text(run_dir / f"{NEIGHBOURS_FILE}.md", neighbours_md)
        if "fgm_accuracy" in test_metrics:
            clean = test_metrics["clean_accuracy"]
            curves = {name: {0.0: clean, **{float(e): a for e, a in test_metrics[f"{key}_accuracy"].items()}}
                      for name, key in (("FGM", "fgm"), (f"PGD-{config.pgd_steps}", "pgd"))}
            plot_accuracy_vs_eps(curves, run_dir / PLOT_FILE, title=f"--adv {config.adv}, {config.model}",
                                 xlabel="ε (ℓ2, " + ("× σ̄" if config.normalization == "scale" else config.normalization) + ")")
        write_text(run_dir / REPORT_FILE, _report(config, metrics, neighbours_md))
        finish_run(run_dir, metrics)  # last: marks the run directory complete
    accelerator.wait_for_everyone()
    return FinetuneResult(run_dir, metrics, config, model, encoder)
