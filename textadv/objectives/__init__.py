"""Training objectives: clean, random, AT, VAT, AT+VAT, FGSM-α, PGD (Madry), ensemble (Tramèr)."""

from .adversarial import AdversarialTerm, RandomTerm
from .base import CleanPass, Objective, StepOutput, Term
from .ensemble import EnsembleTerm
from .factory import NAMES, build_objective, default_norm
from .pgd import PGDTerm
from .vat import VATTerm

__all__ = [
    "Objective",
    "StepOutput",
    "Term",
    "CleanPass",
    "AdversarialTerm",
    "RandomTerm",
    "VATTerm",
    "PGDTerm",
    "EnsembleTerm",
    "build_objective",
    "NAMES",
    "default_norm",
]
