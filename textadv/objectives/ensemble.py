"""Ensemble adversarial training, Tramèr et al. (2018), PAPERS.md §5.

Adversarial examples are crafted with FGSM against one of several static, pre-trained models (or
the model being trained), chosen in turn by the step number, and the current model is trained on
them. Decoupling generation from the trained model makes it robust to transferred (black-box)
examples. With ``clean_weight = 0.5`` and ``weight = 0.5`` this is Goodfellow's α = 0.5 mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from torch import Tensor

from ..core import attack_mode, fgsm
from ..surfaces import Batch, Surface
from .base import CleanPass, Term


@dataclass(frozen=True)
class EnsembleTerm(Term):
    """``weight · J(x_adv)``, ``x_adv`` from FGSM against ``sources[step % (len(sources) + 1)]``.

    Index ``len(sources)`` is the current model (its gradient comes from the clean backward).
    Static sources are attacked in eval mode with frozen parameters.
    """

    eps: float
    sources: Sequence[Surface]
    norm: object = "inf"
    weight: float = 1.0
    needs_input_grad = True

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("ensemble adversarial training needs at least one static source model")

    def source_index(self, step: int) -> int:
        return step % (len(self.sources) + 1)

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        threat = clean.surface.threat(clean.batch, self.norm, self.eps)
        x = clean.x.detach()
        index = self.source_index(clean.step)
        if index == len(self.sources):
            x_adv = fgsm(clean.loss_fn(), x, threat, grad=clean.input_grad)
        else:
            source = self.sources[index]
            with attack_mode(source.model):
                loss_fn = lambda z: source.loss(source.logits(z, clean.batch), clean.labels)  # noqa: E731
                x_adv = fgsm(loss_fn, x, threat)
        return self.weight * clean.perturbed_loss(x_adv - x)
