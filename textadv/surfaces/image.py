"""Pixels in [0, 1] as the perturbation surface. Any normalisation belongs inside the model."""

from __future__ import annotations

from torch import Tensor

from .base import Batch, Surface


class ImageSurface(Surface):
    """``batch["pixels"]`` ``[B, C, H, W]`` in [0, 1] is perturbed; the model maps pixels to logits."""

    bounds = (0.0, 1.0)

    def inputs(self, batch: Batch) -> Tensor:
        return batch["pixels"]

    def logits(self, x: Tensor, batch: Batch) -> Tensor:
        return self.model(x)
