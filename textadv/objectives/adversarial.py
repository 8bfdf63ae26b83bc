"""One-step adversarial training: Goodfellow's FGSM-regularised objective and Miyato's AT.

Goodfellow et al. (2015), PAPERS.md §1:  J̃ = α·J(x) + (1−α)·J(x + ε·sign(∇ₓJ))   (ℓ∞)
Miyato et al. (2017), PAPERS.md §7:      L = CE(s) + λ·CE(s + ε·g/‖g‖₂)           (ℓ2, whole sequence)

Both take ∇ₓJ from the clean backward (no extra pass), unless ``predicted_labels`` asks for the
label-leak-free variant (Kurakin et al.): the example is then crafted against the model's own
prediction, which costs one input-only backward more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from torch import Tensor

from ..core import fgsm
from ..surfaces import Batch
from .base import CleanPass, Term


@dataclass(frozen=True)
class AdversarialTerm(Term):
    """``weight · J(x + η)``, η the fast-gradient perturbation of size ε (J: the surface's loss, e.g. CE)."""

    eps: float
    norm: object = 2
    weight: float = 1.0
    predicted_labels: bool = False
    needs_input_grad = True

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        threat = clean.surface.threat(clean.batch, self.norm, self.eps)
        grad = clean.input_grad
        if self.predicted_labels:
            grad = None  # recompute against the model's own prediction
            loss_fn = clean.loss_fn(clean.surface.predict(clean.logits))
        else:
            loss_fn = clean.loss_fn()
        x_adv = fgsm(loss_fn, clean.x.detach(), threat, grad=grad)
        return self.weight * clean.perturbed_loss(x_adv - clean.x.detach())


@dataclass(frozen=True)
class RandomTerm(Term):
    """Miyato's "random perturbation" baseline: ``weight · J(x + ε·d/‖d‖)``, d ~ N(0, I)."""

    eps: float
    norm: object = 2
    weight: float = 1.0

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        threat = clean.surface.threat(clean.batch, self.norm, self.eps)
        x = clean.x.detach()
        delta = threat.clip(x + threat.direction(clean.normal(x)) * threat.eps_like(x)) - x
        return self.weight * clean.perturbed_loss(delta)
