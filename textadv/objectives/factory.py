"""Objectives by name, as the ``--adv`` flag spells them: the one registry of objective names.

Each name maps to a recipe that builds the objective's terms from the settings, with the norm of
its paper as default (ℓ2 for Miyato's ``random``/``at``/``vat``/``at+vat``, ℓ∞ for Goodfellow's
``fgsm``, Madry's ``pgd`` and Tramèr's ``ensemble``). Adding an objective is one entry in
:data:`_RECIPES`; :data:`NAMES` and the jobs' ``--adv`` choices follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Sequence, Tuple

from ..core import Threat
from ..surfaces import Surface
from .adversarial import AdversarialTerm, RandomTerm
from .base import Objective, Term
from .ensemble import EnsembleTerm
from .pgd import PGDTerm
from .vat import VATTerm


@dataclass(frozen=True)
class _Settings:
    """The keyword arguments of :func:`build_objective`, the norm resolved."""

    eps: float
    norm: object
    adv_weight: float
    xi: float
    vat_iterations: int
    alpha: float
    predicted_labels: bool
    pgd_steps: int
    pgd_step_size: Optional[float]
    sources: tuple

    def at(self, weight: Optional[float] = None) -> AdversarialTerm:
        weight = self.adv_weight if weight is None else weight
        return AdversarialTerm(self.eps, self.norm, weight, self.predicted_labels)

    def vat(self) -> VATTerm:
        return VATTerm(self.eps, self.xi, self.norm, self.vat_iterations, self.adv_weight)

    def checked_alpha(self) -> float:
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        return self.alpha


def _pgd(s: _Settings) -> Tuple[float, Tuple[Term, ...]]:
    step_size = s.pgd_step_size if s.pgd_step_size is not None else 2.5 * s.eps / s.pgd_steps
    return 0.0, (PGDTerm(s.eps, s.pgd_steps, step_size, s.norm),)


def _fgsm(s: _Settings) -> Tuple[float, Tuple[Term, ...]]:
    alpha = s.checked_alpha()
    return alpha, (s.at(1 - alpha),)


def _ensemble(s: _Settings) -> Tuple[float, Tuple[Term, ...]]:
    alpha = s.checked_alpha()
    return alpha, (EnsembleTerm(s.eps, s.sources, s.norm, 1 - alpha),)


@dataclass(frozen=True)
class _Recipe:
    default_norm: object
    build: Callable[[_Settings], Tuple[float, Tuple[Term, ...]]]  # settings -> (clean_weight, terms)


# What each objective is: build_objective's docstring.
_RECIPES: Mapping[str, _Recipe] = MappingProxyType(
    {
        "none": _Recipe(2, lambda s: (1.0, ())),
        "random": _Recipe(2, lambda s: (1.0, (RandomTerm(s.eps, s.norm, s.adv_weight),))),
        "at": _Recipe(2, lambda s: (1.0, (s.at(),))),
        "vat": _Recipe(2, lambda s: (1.0, (s.vat(),))),
        "at+vat": _Recipe(2, lambda s: (1.0, (s.at(), s.vat()))),
        "fgsm": _Recipe("inf", _fgsm),
        "pgd": _Recipe("inf", _pgd),
        "ensemble": _Recipe("inf", _ensemble),
    }
)

#: every objective name, in the order of the registry
NAMES = tuple(_RECIPES)


def _recipe(name: str) -> _Recipe:
    if name not in _RECIPES:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(NAMES)}")
    return _RECIPES[name]


def default_norm(name: str) -> object:
    """The norm of the objective's paper: 2 for Miyato's objectives, ``"inf"`` for fgsm, pgd and ensemble."""
    return _recipe(name).default_norm


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
    - ``pgd``: CE at the PGD-k example only (Madry).
    - ``ensemble``: α·CE + (1−α)·CE(FGSM from a rotating source) (Tramèr).

    CE stands for the surface's supervised loss (:meth:`~textadv.surfaces.Surface.loss`). ``norm``
    defaults to each paper's own (:func:`default_norm`). ``eps``, ``norm`` and the settings the
    objective reads (``alpha``, VAT's ``xi`` and iterations) are validated here, before any pass runs.
    """
    recipe = _recipe(name)
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if norm is None:
        norm = recipe.default_norm
    Threat(norm, eps)  # raises ValueError naming norm or eps
    settings = _Settings(
        eps, norm, adv_weight, xi, vat_iterations, alpha, predicted_labels, pgd_steps, pgd_step_size, tuple(sources)
    )
    clean_weight, terms = recipe.build(settings)
    return Objective(clean_weight, terms, name=name)
