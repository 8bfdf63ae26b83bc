"""The modality-agnostic perturbation core: tensors only.

Attacks are functions of closures (``loss_fn(x) -> [B]`` or ``logits_fn(x) -> [B, C]``), the tensor
to perturb and a :class:`Threat`. Nothing here knows about tokens, pixels or transformers.
"""

from .apgd import apgd, apgd_run
from .context import attack_mode, eval_mode, frozen_batchnorm_stats, frozen_parameters
from .deepfool import deepfool, robustness_rho
from .fgsm import fgsm
from .lbfgs import lbfgs
from .pgd import pgd
from .threat import Threat, check_finite
from .vat import detach_logits, kl_from_logits, vat_perturbation

__all__ = [
    "Threat",
    "check_finite",
    "fgsm",
    "pgd",
    "apgd",
    "apgd_run",
    "vat_perturbation",
    "kl_from_logits",
    "detach_logits",
    "deepfool",
    "robustness_rho",
    "lbfgs",
    "attack_mode",
    "eval_mode",
    "frozen_parameters",
    "frozen_batchnorm_stats",
]
