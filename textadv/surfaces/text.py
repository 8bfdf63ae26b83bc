"""Normalised word embeddings as the perturbation surface (Miyato, Dai & Goodfellow 2017, PAPERS.md §7).

The perturbed tensor is the word-embedding output ``[B, T, D]`` after Miyato normalisation and
after embedding dropout. :meth:`TextSurface.inputs` draws the dropout mask once per batch; the
objectives add their perturbation to that tensor and call :meth:`TextSurface.logits` on the sum,
so the clean and perturbed passes share one dropout mask by construction. The attention mask is
the threat's mask (padding is never perturbed) and the ℓ2 norm is taken per example over the whole
sequence (all T×D values). Embeddings have no bounds.

Deviation from the reference code (docs/miyato_reference.md, D4): its random directions (the
random-perturbation baseline, VAT's initial d) skip the final ``</s>`` token; here every real token
of the attention mask may be perturbed by every perturbation, the last one and a transformer's
``[CLS]``/``[SEP]`` included.

Works with any model exposing ``embed(input_ids) -> [B, T, D]``, ``classify(x, attention_mask) ->
[B, C]`` and ``embedding`` (a :class:`~textadv.text.NormalizedEmbedding`): the
:class:`~textadv.text.LSTMClassifier` and the :class:`~textadv.text.HFTextClassifier`.

Batches are dicts with ``input_ids [B, T]``, ``attention_mask [B, T]`` (right padding) and, when
labelled, ``labels [B]`` (:class:`~textadv.text.TextCollator` builds them).
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ..core import Threat
from .base import Batch, Surface


class TextSurface(Surface):
    """The model seen from its (normalised, dropped-out) word embeddings."""

    bounds = None

    def inputs(self, batch: Batch) -> Tensor:
        return self.model.embed(batch["input_ids"])

    def logits(self, x: Tensor, batch: Batch) -> Tensor:
        return self.model.classify(x, batch["attention_mask"])

    def mask(self, batch: Batch) -> Optional[Tensor]:
        return batch["attention_mask"]

    def threat(self, batch: Batch, norm, eps) -> Threat:
        """ε in the embedding's units: multiplied by :meth:`unit` (σ̄ in ``"scale"`` mode, else 1)."""
        if not (isinstance(eps, (int, float)) and eps == 0):  # ε = 0 (input checks) needs no unit
            scale = self.unit()
            if scale != 1.0:
                eps = eps * scale
        return Threat(norm, eps, bounds=self.bounds, mask=self.mask(batch))

    def unit(self) -> float:
        """``embedding.eps_scale()``: σ̄ of the raw embeddings in ``"scale"`` mode, 1 otherwise (cached per step)."""
        return self.model.embedding.eps_scale()
