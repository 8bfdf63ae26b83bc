"""Projected gradient descent on the loss, Madry et al. (2018), PAPERS.md §4.

    x⁰ = x + U(ball)   (random start),   x^{t+1} = Π_{x+S}(x^t + α · dir(∇ₓL(x^t)))

``dir`` is the threat's unit direction (sign for ℓ∞, g/‖g‖₂ for ℓ2). With several restarts the
worst example (highest loss, or lowest for a targeted attack) is kept per input.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._grad import LossFn, loss_and_input_grad
from .threat import Threat, check_count, check_scalar


def pgd(
    loss_fn: LossFn,
    x: Tensor,
    threat: Threat,
    *,
    steps: int,
    step_size: float,
    random_start: bool = True,
    restarts: int = 1,
    targeted: bool = False,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Madry's projected gradient ascent. Returns the adversarial input ``[B, ...]`` (detached).

    ``steps`` and ``restarts`` are integers (>= 0, >= 1), ``step_size`` a finite number >= 0; anything
    else is a ``ValueError`` naming the argument. An empty batch is returned as it is, and
    ``loss_fn`` is not called.
    """
    steps = check_count(steps, "steps", 0)
    restarts = check_count(restarts, "restarts", 1)
    step_size = check_scalar(step_size, "step_size")
    x = x.detach()
    threat.check(x)
    if x.shape[0] == 0:
        return x.clone()
    sign = -1.0 if targeted else 1.0
    best_x, best_loss = x.clone(), None
    for _ in range(restarts):
        delta = threat.random(x, generator) if random_start else torch.zeros_like(x)
        x_adv = threat.perturb(x, delta)
        for _ in range(steps):
            _, grad = loss_and_input_grad(loss_fn, x_adv)
            x_adv = threat.perturb(x, x_adv + sign * step_size * threat.direction(grad) - x)
        if restarts == 1:
            return x_adv.detach()  # nothing to compare: skip the extra forward
        with torch.no_grad():
            loss = sign * loss_fn(x_adv)
        if best_loss is None:
            best_x, best_loss = x_adv, loss
        else:
            better = loss > best_loss
            best_x = torch.where(threat.expand(better, x), x_adv, best_x)
            best_loss = torch.where(better, loss, best_loss)
    return best_x.detach()
