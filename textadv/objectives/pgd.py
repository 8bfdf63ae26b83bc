"""PGD adversarial training, Madry et al. (2018), PAPERS.md §4: min_θ E max_{δ∈S} L(θ, x+δ, y).

Used with ``clean_weight = 0`` (Madry trains on adversarial examples only). Cost (2k+3)/3 of a
clean step for k steps: each step is a forward and an input-only backward.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from torch import Tensor

from ..core import pgd
from ..surfaces import Batch
from .base import CleanPass, Term


@dataclass(frozen=True)
class PGDTerm(Term):
    eps: float
    steps: int
    step_size: float
    norm: object = "inf"
    random_start: bool = True
    weight: float = 1.0

    def scaled(self, factor: float) -> "PGDTerm":
        """ε and the step size both times ``factor``: the same number of steps over the same share of the ball."""
        return replace(self, eps=self.eps * factor, step_size=self.step_size * factor)

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        threat = clean.surface.threat(clean.batch, self.norm, self.eps)
        x = clean.x.detach()
        x_adv = pgd(
            clean.loss_fn(),
            x,
            threat,
            steps=self.steps,
            step_size=self.step_size,
            random_start=self.random_start,
            generator=clean.generator,
        )
        return self.weight * clean.perturbed_loss(x_adv - x)
