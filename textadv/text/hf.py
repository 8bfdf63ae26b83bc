"""Hugging Face sequence classifiers with normalised word embeddings fed as ``inputs_embeds``.

    input_ids [B, T] → word embeddings (``model.get_input_embeddings()``), normalised [B, T, D]
    → embedding dropout → ``model(inputs_embeds=x, attention_mask=mask).logits`` [B, C]

Only the *word* embeddings are normalised and perturbed; the model's embedding block adds the
position/token-type embeddings and applies its LayerNorm once, inside ``model(inputs_embeds=...)``.
Perturbing the output of the whole embedding block instead would apply them twice (PAPERS.md §7).
Any ``AutoModelForSequenceClassification`` whose forward accepts ``inputs_embeds`` and uses
``input_ids`` only for the embedding lookup works (encoders: BERT, RoBERTa, DistilBERT, ...);
:func:`check_inputs_embeds` verifies this at construction and refuses GPT-style heads that locate
the last real token from the padding ids.

Normalisation for pretrained transformers (see :mod:`.normalized_embedding`): ``"miyato"`` feeds
centred, unit-variance word vectors to a model pretrained on raw ones; ``"scale"`` keeps the raw
vectors and measures ε in units of their frequency-weighted spread σ̄. Default: ``"scale"``
(:data:`DEFAULT_HF_NORMALIZATION`): Miyato normalisation throws away part of what pretraining learnt
before fine-tuning starts, while the attack size stays comparable in both modes, so the same
``--epsilon`` default carries over (and VAT's ξ, in the same unit: docs/miyato_reference.md, D3). The
measurements behind this choice (a frozen-feature probe, ``bench/hf_normalization_probe.py``, and
short fine-tuning runs) are in docs/results/text.md.

Deviation from the LSTM: the default embedding dropout is 0 because the model's own embedding
block already applies dropout after its LayerNorm. That internal dropout (and the dropout in the
transformer layers) draws new masks in the perturbed passes; only the embedding dropout of this
wrapper is shared between clean and perturbed passes.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ..core import eval_mode
from .normalized_embedding import NormalizedEmbedding, SequenceDropout

DEFAULT_HF_NORMALIZATION = "scale"


@contextmanager
def quiet_transformers():
    """Silence transformers' notices that textadv replaces with its own (truncation, new heads)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


class HFTextClassifier(nn.Module):
    """A Hugging Face sequence classifier seen through its (normalised) word embeddings.

    Args:
        model: an ``AutoModelForSequenceClassification`` instance accepting ``inputs_embeds``.
        frequencies: counts ``[V]`` over the tokenizer's ids (:func:`textadv.text.word_frequencies`).
        normalization: ``"scale"`` (default), ``"miyato"`` or ``"raw"``.
        uniform: uniform frequencies, asked for explicitly.
        embedding_dropout: the shared-mask embedding dropout probability (default 0).
        check: run :func:`check_inputs_embeds` (two tiny forward passes) first.

    ``self.model`` owns the embedding matrix; ``self.embedding`` normalises it without registering
    it a second time (one name per tensor in ``state_dict()``).
    """

    def __init__(
        self,
        model: nn.Module,
        frequencies: Optional[Union[Tensor, Sequence[float]]] = None,
        *,
        normalization: str = DEFAULT_HF_NORMALIZATION,
        uniform: bool = False,
        embedding_dropout: float = 0.0,
        check: bool = True,
    ):
        super().__init__()
        if "inputs_embeds" not in inspect.signature(model.forward).parameters:
            raise ValueError(
                f"{type(model).__name__}.forward does not accept inputs_embeds; TextSurface needs a model that does"
            )
        table = model.get_input_embeddings()
        if not isinstance(table, nn.Embedding):
            raise ValueError(f"the model's input embeddings must be an nn.Embedding, got {type(table).__name__}")
        if check:
            check_inputs_embeds(model)
        self.model = model
        self.embedding = NormalizedEmbedding(
            table, frequencies, mode=normalization, uniform=uniform, register_embedding=False
        )
        self.embedding_dropout = SequenceDropout(embedding_dropout)

    @property
    def config(self):
        return self.model.config

    @property
    def embedding_key(self) -> str:
        """Name of the ``[V, D]`` word-embedding matrix in ``self.model.state_dict()`` (and ``model.safetensors``)."""
        weight = self.model.get_input_embeddings().weight
        for name, param in self.model.named_parameters(remove_duplicate=False):
            if param is weight:
                return name
        raise ValueError("the input embedding matrix is not a parameter of the model")

    def embed(self, input_ids: Tensor) -> Tensor:
        """``[B, T]`` → normalised word embeddings after dropout ``[B, T, D]``."""
        return self.embedding_dropout(self.embedding(input_ids))

    def classify(self, x: Tensor, attention_mask: Tensor) -> Tensor:
        """Logits ``[B, C]`` from word embeddings ``x [B, T, D]``.

        Position/type embeddings and LayerNorm are added by the model.
        """
        return self.model(inputs_embeds=x, attention_mask=attention_mask).logits

    def forward(self, input_ids: Tensor, attention_mask: Optional[Tensor] = None) -> Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.classify(self.embed(input_ids), attention_mask)


def check_inputs_embeds(model: nn.Module) -> None:
    """Raise ``ValueError`` unless ``model(inputs_embeds=E[ids])`` equals ``model(input_ids=ids)``.

    Run on a right-padded batch of two short sequences in eval mode. It catches classifiers that
    read ``input_ids`` for more than the embedding lookup, e.g. GPT-style heads that find the last
    real token from the padding ids: fed ``inputs_embeds`` they pool a padding position instead.
    """
    rows = model.get_input_embeddings().weight.shape[0]
    pad = model.config.pad_token_id
    pad = 0 if pad is None or not 0 <= pad < rows else int(pad)
    tokens = [t % rows for t in range(pad + 1, pad + 5)]
    ids = torch.tensor([tokens, tokens[:2] + [pad, pad]], device=model.get_input_embeddings().weight.device)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], device=ids.device)
    with eval_mode(model), torch.no_grad():
        by_ids = model(input_ids=ids, attention_mask=mask).logits
        by_embeds = model(inputs_embeds=model.get_input_embeddings()(ids), attention_mask=mask).logits
    if not torch.allclose(by_ids, by_embeds, rtol=1e-4, atol=1e-4):
        raise ValueError(
            f"{type(model).__name__} gives different logits from inputs_embeds than from input_ids on a padded batch "
            "(it reads input_ids beyond the embedding lookup, e.g. to find the last real token); TextSurface cannot "
            "perturb its word embeddings faithfully. Use an encoder classifier (BERT, RoBERTa, DistilBERT, ...)"
        )


def default_hf_model() -> Path:
    """The packaged all-MiniLM-L6-v2 directory (the offline default)."""
    from .. import assets

    return assets.minilm_dir()


def load_hf_classifier(name_or_path: Optional[Union[str, Path]] = None, num_labels: int = 2, **kwargs):
    """``(AutoModelForSequenceClassification, tokenizer)`` for a hub id or a local directory.

    ``None`` means the packaged MiniLM (offline). A new classification head is randomly initialised
    (seed torch first for reproducibility). ``kwargs`` go to ``from_pretrained`` (e.g. ``id2label``).
    Offline and not cached, a hub id fails with a ``ValueError`` saying how to get it.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if num_labels < 2:
        raise ValueError(f"num_labels must be >= 2, got {num_labels}")
    source = str(default_hf_model() if name_or_path is None else name_or_path)
    try:
        with quiet_transformers():  # the "newly initialised head" notice is expected here
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=num_labels, **kwargs)
    except OSError as error:
        raise ValueError(
            f"could not load the model {source!r}: {error}. Offline (HF_HUB_OFFLINE=1), a hub id must already be "
            "in the local cache: run once with network access, or pass a local directory holding config.json, "
            "the weights and the tokenizer files"
        ) from error
    return model, tokenizer
