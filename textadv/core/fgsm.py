"""Fast gradient sign method (Goodfellow, Shlens & Szegedy 2015) and its ℓ2 form, FGM (Miyato et al. 2017).

    η = ε · sign(∇ₓJ(θ, x, y))          (ℓ∞, FGSM)
    η = ε · g / ‖g‖₂,  g = ∇ₓJ(θ, x, y)  (ℓ2, FGM; the norm over all non-batch dims of one example)

PAPERS.md §1 and §7.
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ._grad import LossFn, loss_and_input_grad
from .threat import Threat


def fgsm(
    loss_fn: LossFn, x: Tensor, threat: Threat, *, grad: Optional[Tensor] = None, targeted: bool = False
) -> Tensor:
    """One signed (ℓ∞) or normalised (ℓ2) gradient step of size ε.

    Args:
        loss_fn: ``loss_fn(x) -> [B]`` per-example loss (for a targeted attack, the loss of the target).
        x: the input ``[B, ...]``.
        threat: the threat model (norm, ε, mask, bounds).
        grad: ``∇ₓ loss`` when the caller already has it (the clean backward of adversarial training):
            it is reused and no extra pass is run.
        targeted: descend the loss instead of ascending it.

    Returns:
        ``x + η`` clipped to the threat's bounds. ``η`` is a constant (no gradient flows through
        it); if ``x`` is part of a graph, gradients still flow through ``x`` (Miyato's AT loss
        differentiates through the clean embedding). An empty batch is returned as it is, and
        ``loss_fn`` is not called.
    """
    threat.check(x.detach())
    if x.shape[0] == 0:
        return x.clone()
    if grad is None:
        _, grad = loss_and_input_grad(loss_fn, x)
    elif grad.shape != x.shape:
        raise ValueError(f"grad shape {tuple(grad.shape)} does not match x shape {tuple(x.shape)}")
    step = threat.direction(grad.detach()) * threat.eps_like(x)
    return threat.clip(x - step if targeted else x + step)
