"""Evaluation generic over surfaces: clean, adversarial and transfer accuracy; DeepFool's and FGSM's ρ."""

from .robustness import (
    ATTACKS,
    AttackSpec,
    Rho,
    adversarial_inputs,
    clean_accuracy,
    deepfool_rho,
    fgsm_rho,
    robust_accuracy,
    transfer_accuracy,
)

__all__ = [
    "ATTACKS",
    "AttackSpec",
    "Rho",
    "adversarial_inputs",
    "clean_accuracy",
    "robust_accuracy",
    "transfer_accuracy",
    "deepfool_rho",
    "fgsm_rho",
]
