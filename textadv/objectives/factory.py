"""Objectives by name, as the ``--adv`` flag of the recipes spells them."""
from __future__ import annotations

from typing import Optional, Sequence

from ..core import Threat
from ..surfaces import Surface
from .adversarial import AdversarialTerm, RandomTerm
from .base import Objective
from .ensemble import EnsembleTerm
from .pgd import PGDTerm
from .vat import VATTerm

NAMES = ("none", "random", "at", "vat", "at+vat", "fgsm", "pgd", "ensemble")


def build_objective(
    name: str,
    *,
    eps: float,
    norm: object = None,
    adv_weight: float = 1.0,
    xi: float = 0.1,
    vat_iterations: int = 1,
    alpha: float = 0.5,
    predicted_labels: bool = False,
    pgd_steps: int = 40,
    pgd_step_size: Optional[float] = None,
    sources: Sequence[Surface] = (),
) -> Objective:
    """Build a named objective.

    - ``none``: CE.  ``random``: CE + λ·CE(x + random ε-direction) (Miyato's baseline).
    - ``at``: CE + λ·CE(x + r_adv) (Miyato, ℓ2 by default).  ``vat``: CE + λ·LDS.  ``at+vat``: both.
    - ``fgsm``: α·CE + (1−α)·CE(x + ε·sign ∇) (Goodfellow, ℓ∞ by default through ``norm``).
    - ``pgd``: CE at the PGD-k example only (Madry).  ``ensemble``: α·CE + (1−α)·CE(FGSM from a rotating source) (Tramèr).

    ``norm`` defaults to each paper's own: ℓ2 for Miyato's ``random``/``at``/``vat``/``at+vat``, ℓ∞ for
    ``fgsm``, ``pgd`` and ``ensemble``. ``eps`` and ``norm`` are validated here, before any pass runs.
    """
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if norm is None:
        norm = "inf" if name in ("fgsm", "pgd", "ensemble") else 2
    Threat(norm, eps)  # raises ValueError naming norm or eps
    if name == "none":
        return Objective(name=name)
    if name == "random":
        return Objective(terms=(RandomTerm(eps, norm, adv_weight),), name=name)
    if name == "at":
        return Objective(terms=(AdversarialTerm(eps, norm, adv_weight, predicted_labels),), name=name)
    if name == "vat":
        return Objective(terms=(VATTerm(eps, xi, norm, vat_iterations, adv_weight),), name=name)
    if name == "at+vat":
        terms = (AdversarialTerm(eps, norm, adv_weight, predicted_labels), VATTerm(eps, xi, norm, vat_iterations, adv_weight))
        return Objective(terms=terms, name=name)
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if name == "fgsm":
        return Objective(alpha, (AdversarialTerm(eps, norm, 1 - alpha, predicted_labels),), name=name)
    if name == "pgd":
        step_size = pgd_step_size if pgd_step_size is not None else 2.5 * eps / pgd_steps
        return Objective(0.0, (PGDTerm(eps, pgd_steps, step_size, norm),), name=name)
    if name == "ensemble":
        return Objective(alpha, (EnsembleTerm(eps, tuple(sources), norm, 1 - alpha),), name=name)
    raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(NAMES)}")
