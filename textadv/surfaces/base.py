"""Where a perturbation lives.

A surface turns a batch into the tensor an adversary perturbs (pixels, normalised word embeddings)
and runs the model from that tensor. Objectives and evaluations talk to models only through this
interface, so the same AT/VAT/PGD code serves image and text models.

A surface also owns what the model's outputs mean: the per-example supervised loss (:meth:`Surface.loss`,
the J of FGSM/AT/PGD), the categorical distributions VAT compares (:meth:`Surface.distributions`;
its KL is summed over them) and the prediction (:meth:`Surface.predict`). The defaults are those of a
classifier, one ``[B, C]`` logits tensor and cross-entropy; a surface whose model has several
categorical outputs (start and end of an answer span: two ``[B, T]`` logits) overrides the three, and
AT, VAT, PGD and the evaluation attacks then work on it unchanged.

Batches are dicts; ``batch["labels"]`` holds the labels when the batch is labelled (``[B]`` class
labels for a classifier).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..core import Threat

Batch = Mapping[str, Any]
#: what :meth:`Surface.logits` returns: one logits tensor ``[B, C]``, or a tuple of them for several outputs
Outputs = Any
REDUCTIONS = ("none", "mean")


def to_device(batch: Batch, device: torch.device) -> Batch:
    """Move every tensor of a batch (a dict) to ``device``."""
    return {k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in batch.items()}


class Surface(ABC):
    """The model seen from the tensor that gets perturbed."""

    #: the box the perturbed tensor must stay in (``(0, 1)`` for pixels, ``None`` for embeddings)
    bounds: Optional[tuple] = None

    def __init__(self, model: torch.nn.Module):
        self.model = model

    @abstractmethod
    def inputs(self, batch: Batch) -> Tensor:
        """The tensor to perturb ``[B, ...]``; part of the autograd graph when it depends on parameters."""

    @abstractmethod
    def logits(self, x: Tensor, batch: Batch) -> Outputs:
        """Run the model from ``x`` (the output of :meth:`inputs`, possibly perturbed): ``[B, C]`` for a
        classifier, or whatever :meth:`loss`, :meth:`distributions` and :meth:`predict` read."""

    def loss(self, outputs: Outputs, labels: Any, reduction: str = "none") -> Tensor:
        """The supervised loss of ``outputs`` against ``labels``: ``[B]`` per example, or its batch mean
        (a scalar) with ``reduction="mean"``. Default: cross-entropy of ``[B, C]`` logits and ``[B]`` labels
        (``F.cross_entropy``'s own mean, so the classifiers' losses are bit-identical to calling it)."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        return F.cross_entropy(outputs, labels, reduction=reduction)

    def distributions(self, outputs: Outputs) -> Sequence[Tensor]:
        """The categorical distributions of ``outputs`` as logits tensors ``[B, C_k]``, one per output;
        VAT's divergence is the sum of their KLs. Default: the one ``[B, C]`` logits tensor."""
        return (outputs,)

    def predict(self, outputs: Outputs) -> Any:
        """The labels the model predicts, in the form of :meth:`labels` (no gradient). Default: argmax ``[B]``."""
        return outputs.argmax(dim=-1)

    def mask(self, batch: Batch) -> Optional[Tensor]:
        """Which entries of :meth:`inputs` may be perturbed (``None``: all)."""
        return None

    def threat(self, batch: Batch, norm, eps) -> Threat:
        """The threat model for this batch: the given norm and ε with this surface's mask and bounds."""
        return Threat(norm, eps, bounds=self.bounds, mask=self.mask(batch))

    def unit(self) -> float:
        """The size in the perturbed tensor of one unit of ε and of VAT's ξ (1: the tensor's own units)."""
        return 1.0

    def labels(self, batch: Batch) -> Tensor:
        if "labels" not in batch:
            raise KeyError("the batch has no 'labels' entry; supervised objectives need labelled batches")
        return batch["labels"]
