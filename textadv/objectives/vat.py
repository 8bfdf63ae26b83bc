"""Virtual adversarial training term, Miyato et al. (2018; 2017 for text), PAPERS.md §6-7.

    weight · mean_b KL(p(·|x_b) ‖ p(·|x_b + r_vadv))

p is read through ``surface.distributions``: for a surface with several categorical outputs (start
and end of an answer span) the KL is summed over them, the KL of their product distribution.
On the labelled batch the clean logits of the supervised pass are reused (p is a constant); with a
separate unlabeled batch (semi-supervised VAT) its clean logits are computed without a graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

from ..core import detach_logits, frozen_batchnorm_stats, kl_from_logits, vat_perturbation
from ..surfaces import Batch
from .base import CleanPass, Term


@dataclass(frozen=True)
class VATTerm(Term):
    eps: float
    xi: float
    norm: object = 2
    iterations: int = 1
    weight: float = 1.0
    uses_unlabeled = True

    def __post_init__(self) -> None:
        if not self.xi > 0:
            raise ValueError(f"xi must be > 0 for VAT's finite difference, got {self.xi}")
        if self.iterations < 1:
            raise ValueError(f"VAT's power iterations must be >= 1, got {self.iterations}")

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        surface = clean.surface
        if unlabeled is None:
            batch, x, p_logits = clean.batch, clean.x, detach_logits(surface.distributions(clean.logits))
        else:
            batch = unlabeled
            x = surface.inputs(batch)
            with torch.no_grad(), frozen_batchnorm_stats(surface.model):
                p_logits = surface.distributions(surface.logits(x.detach(), batch))

        def logits_fn(z: Tensor) -> Sequence[Tensor]:
            with frozen_batchnorm_stats(surface.model):
                return surface.distributions(surface.logits(z, batch))

        threat = surface.threat(batch, self.norm, self.eps)
        # ξ in the same unit as ε (σ̄ for a transformer's ``scale`` embeddings), as small against ε as
        # the reference's 0.1 against 5 in normalised units (docs/miyato_reference.md, D3)
        unit = surface.unit()
        r = vat_perturbation(
            logits_fn,
            x.detach(),
            threat,
            xi=self.xi if unit == 1.0 else self.xi * unit,
            iterations=self.iterations,
            clean_logits=p_logits,
            noise=clean.normal(x, unlabeled=unlabeled is not None),
        )
        q_logits = logits_fn(x + r)
        return self.weight * kl_from_logits(p_logits, q_logits).mean()
