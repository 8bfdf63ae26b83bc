"""Where a perturbation lives.

A surface turns a batch into the tensor an adversary perturbs (pixels, normalised word embeddings)
and runs the model from that tensor. Objectives and evaluations talk to models only through this
interface, so the same AT/VAT/PGD code serves image and text models.

Batches are dicts; ``batch["labels"]`` holds the class labels ``[B]`` when the batch is labelled.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Optional

import torch
from torch import Tensor

from ..core import Threat

Batch = Mapping[str, Any]


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
    def logits(self, x: Tensor, batch: Batch) -> Tensor:
        """Run the model from ``x`` (the output of :meth:`inputs`, possibly perturbed); ``[B, C]``."""

    def mask(self, batch: Batch) -> Optional[Tensor]:
        """Which entries of :meth:`inputs` may be perturbed (``None``: all)."""
        return None

    def threat(self, batch: Batch, norm, eps) -> Threat:
        """The threat model for this batch: the given norm and ε with this surface's mask and bounds."""
        return Threat(norm, eps, bounds=self.bounds, mask=self.mask(batch))

    def labels(self, batch: Batch) -> Tensor:
        if "labels" not in batch:
            raise KeyError("the batch has no 'labels' entry; supervised objectives need labelled batches")
        return batch["labels"]
