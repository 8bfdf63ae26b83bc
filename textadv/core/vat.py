"""Virtual adversarial perturbation by power iteration (Miyato et al. 2015/2018; 2017 for text).

    LDS(x) = KL(p(·|x, θ̂) ‖ p(·|x + r_vadv, θ)),   r_vadv = argmax_{‖r‖≤ε} KL(p(·|x) ‖ p(·|x + r))

One power iteration (PAPERS.md §6): d ~ N(0, I), d ← d/‖d‖; g = ∇_d KL(p(·|x) ‖ p(·|x + ξd));
r_vadv = ε · g/‖g‖. p(·|x) is a constant. The gradient is taken with ``torch.autograd.grad`` with
respect to d alone, so parameter gradients are never touched and the backward stops at d.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .threat import Threat, check_count, check_scalar

#: one categorical output ``[B, C]``, or several (e.g. the start and end of an answer span)
Logits = Union[Tensor, Sequence[Tensor]]
LogitsFn = Callable[[Tensor], Logits]


def kl_from_logits(p_logits: Logits, q_logits: Logits) -> Tensor:
    """Per-example KL(p ‖ q) for categorical distributions given by logits ``[B, C]``; returns ``[B]``.

    For sequences of logits (several independent categorical outputs) the KL of the joint
    distribution: the sum of the outputs' KLs.
    """
    if isinstance(p_logits, Tensor) and isinstance(q_logits, Tensor):
        p_log = F.log_softmax(p_logits, dim=-1)
        q_log = F.log_softmax(q_logits, dim=-1)
        return (p_log.exp() * (p_log - q_log)).sum(dim=-1)
    if isinstance(p_logits, Tensor) or isinstance(q_logits, Tensor) or len(p_logits) != len(q_logits) or not p_logits:
        raise ValueError("p and q must be logits of the same outputs (one tensor each, or sequences of equal length)")
    kls = [kl_from_logits(p, q) for p, q in zip(p_logits, q_logits)]
    total = kls[0]
    for kl in kls[1:]:
        total = total + kl
    return total


def detach_logits(logits: Logits) -> Logits:
    """``logits`` cut from the graph: one tensor, or each tensor of a sequence (returned as a tuple)."""
    return logits.detach() if isinstance(logits, Tensor) else tuple(t.detach() for t in logits)


def vat_perturbation(
    logits_fn: LogitsFn,
    x: Tensor,
    threat: Threat,
    *,
    xi: float,
    iterations: int = 1,
    clean_logits: Optional[Tensor] = None,
    generator: Optional[torch.Generator] = None,
    noise: Optional[Tensor] = None,
) -> Tensor:
    """The virtual adversarial perturbation ``r_vadv`` ``[B, ...]`` (detached).

    Args:
        logits_fn: ``logits_fn(x) -> [B, C]``, or a sequence of logits tensors (KL summed over them).
        x: the input at which the smoothness is measured (treated as a constant).
        threat: norm, ε, mask (padding stays zero) and bounds of the perturbation. With norm 2 the
            result has ‖r‖₂ = ε per example (Miyato); with ∞ it is ε·sign(g).
        xi: the finite-difference step ξ, a finite number > 0 (1e-6 in the image paper; 0.1 for
            normalised text embeddings). In float16 and bfloat16 a ξ below the input's resolution
            leaves x + ξd equal to x: the KL's gradient is then zero and so is ``r_vadv`` (never NaN).
        iterations: power iterations (1 in the papers).
        clean_logits: ``logits_fn(x)`` when the caller already has it (the supervised pass); it is
            detached and reused, saving one forward.
        generator: randomness of the initial direction d.
        noise: the draw ``[B, ...]`` (shape of ``x``) that the initial direction d normalises, instead of
            ``randn(generator)``; e.g. :class:`~textadv.core.draws.ExampleDraws` numbers, which are the
            same for any number of processes.

    An empty batch gives an empty ``r_vadv`` without calling ``logits_fn``.
    """
    iterations = check_count(iterations, "iterations", 1)
    xi = check_scalar(xi, "xi", positive=True)
    x = x.detach()
    threat.check(x)
    if x.shape[0] == 0:
        return torch.zeros_like(x)
    with torch.enable_grad():
        if clean_logits is None:
            with torch.no_grad():
                clean_logits = logits_fn(x)
        p_logits = detach_logits(clean_logits)
        # The power iteration always works in ℓ2: d is a unit vector per example (masked).
        l2 = Threat(2, 1.0, mask=threat.mask)
        if noise is None:
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        elif noise.shape != x.shape:
            raise ValueError(f"noise must have the shape of x {tuple(x.shape)}, got {tuple(noise.shape)}")
        d = l2.direction(noise.to(dtype=x.dtype, device=x.device))
        for _ in range(iterations):
            d = d.requires_grad_(True)
            kl = kl_from_logits(p_logits, logits_fn(x + xi * d))
            (g,) = torch.autograd.grad(kl.sum(), d)
            d = l2.direction(g.detach())
    r = threat.direction(d) * threat.eps_like(x)
    return r if threat.bounds is None else threat.clip(x + r) - x
