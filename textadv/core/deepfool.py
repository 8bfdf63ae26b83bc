"""DeepFool, Moosavi-Dezfooli, Fawzi & Frossard (2016), PAPERS.md §3.

Binary affine f (Eq. 3):  r* = −f(x)/‖w‖₂² · w.
Multi-class (Algorithm 2): at xᵢ, for every class k ≠ k̂(x₀) among the top ``num_classes``,

    w'ₖ = ∇fₖ(xᵢ) − ∇f_k̂(xᵢ),   f'ₖ = fₖ(xᵢ) − f_k̂(xᵢ),
    l̂ = argminₖ |f'ₖ| / ‖w'ₖ‖₂,   rᵢ = |f'_l̂| / ‖w'_l̂‖₂² · w'_l̂,

and xᵢ₊₁ = x₀ + (1 + overshoot)·Σⱼ rⱼ (the reference implementation's form: the overshoot scales
the whole accumulated perturbation), until the label changes or ``max_iter`` steps. The robustness
measure ρ̂_adv is the mean of ``robustness_rho``.

Deviations from the reference code, on purpose: the step is exactly the paper's rᵢ (the reference
adds 1e-4 to the step length; here ``overshoot`` alone pushes across the boundary), and with
``bounds`` every iterate is clipped to the box (as foolbox does).
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from .threat import Threat, check_count, check_scalar, working_dtype

LogitsFn = Callable[[Tensor], Tensor]
_TINY = 1e-12


def deepfool(
    logits_fn: LogitsFn,
    x: Tensor,
    *,
    num_classes: int = 10,
    overshoot: float = 0.02,
    max_iter: int = 50,
    bounds: Optional[Tuple[float, float]] = None,
    mask: Optional[Tensor] = None,
) -> Tensor:
    """The DeepFool adversarial input ``[B, ...]`` (detached), batched.

    Args:
        logits_fn: ``logits_fn(x) -> [B, C]``; examples must not interact (eval mode), since the
            gradient of a class logit summed over the batch is taken as every example's gradient.
        x: the clean input ``[B, ...]``.
        num_classes: the candidate classes are the top ``num_classes`` of the clean logits (10 in the
            paper; all classes when the model has fewer).
        overshoot: the accumulated perturbation is scaled by ``1 + overshoot`` (0.02 in the paper).
        max_iter: the most linearisation steps per example (50 in the paper).
        bounds: ``(lo, hi)`` box for the iterates, or ``None``.
        mask: 1 where ``x`` may change (shape ``x.shape[:k]``, as in :class:`Threat`); padding of a
            token sequence stays as it is. The gradients are masked, so each step is the smallest
            ℓ2 step to the linearised boundary within the perturbable entries.

    Each example stops changing as soon as its predicted label differs from the clean one; an
    example that never flips returns its last iterate. One step costs one forward and
    ``min(num_classes, C)`` input-only backwards. An empty batch is returned as it is, without
    calling ``logits_fn``. In float16 and bfloat16 the step rᵢ is computed in float32 and cast back.
    """
    box = Threat("inf", 0.0, bounds=bounds, mask=mask)  # validates bounds and mask, clips and masks
    box.check(x)  # a batch dimension, finite, inside the bounds, the mask fits
    num_classes = check_count(num_classes, "num_classes", 2)
    overshoot = check_scalar(overshoot, "overshoot")
    max_iter = check_count(max_iter, "max_iter", 1)

    x0 = x.detach()
    if x0.shape[0] == 0:
        return x0.clone()
    work = working_dtype(x0.dtype)  # the step's algebra: float32 for float16/bfloat16
    batch = x0.shape[0]
    rows = torch.arange(batch, device=x0.device)
    with torch.no_grad():
        clean_logits = logits_fn(x0)  # [B, C]
    if clean_logits.dim() != 2 or clean_logits.shape[0] != batch:
        raise ValueError(f"logits_fn must return logits of shape [{batch}, C], got {tuple(clean_logits.shape)}")
    k = min(int(num_classes), clean_logits.shape[1])
    if k < 2:
        raise ValueError("the model must have at least 2 classes for DeepFool")
    classes = clean_logits.topk(k, dim=1).indices  # [B, K]; column 0 is the clean label k̂(x₀)
    label = classes[:, 0]

    r_tot = torch.zeros_like(x0)
    x_i = x0.clone()
    for _ in range(int(max_iter)):
        z = x_i.detach().requires_grad_(True)
        with torch.enable_grad():
            logits = logits_fn(z)  # [B, C]
            active = logits.detach().argmax(dim=1) == label  # [B] not yet flipped
            if not active.any():
                break
            picked = logits.gather(1, classes)  # [B, K]
            grads = [
                box.apply_mask(torch.autograd.grad(picked[:, j].sum(), z, retain_graph=j < k - 1)[0]) for j in range(k)
            ]
        grads = torch.stack(grads, dim=1).reshape(batch, k, -1)  # [B, K, N]
        w = (grads[:, 1:] - grads[:, :1]).to(work)  # [B, K-1, N]  w'ₖ
        f = (picked[:, 1:] - picked[:, :1]).detach().to(work)  # [B, K-1]  f'ₖ
        w_sq = (w * w).sum(dim=2).clamp_min(_TINY)  # ‖w'ₖ‖₂²; a zero gradient gives a zero step
        best = (f.abs() / w_sq.sqrt()).argmin(dim=1)  # [B]  l̂
        step = (f.abs()[rows, best] / w_sq[rows, best]).unsqueeze(1) * w[rows, best]  # [B, N]  rᵢ
        step = step * active.unsqueeze(1).to(step.dtype)  # flipped examples stop changing
        r_tot = r_tot + step.reshape(x0.shape).to(x0.dtype)
        x_new = box.clip(x0 + (1 + overshoot) * r_tot)
        x_i = torch.where(active.reshape((batch,) + (1,) * (x0.dim() - 1)), x_new, x_i)
    return x_i.detach()


def robustness_rho(x: Tensor, x_adv: Tensor) -> Tensor:
    """Per-example ‖x_adv − x‖₂ / ‖x‖₂ ``[B]``, norms over all non-batch dimensions.

    DeepFool's robustness measure ρ̂_adv (PAPERS.md §3) is its mean over a test set.
    """
    if x.shape != x_adv.shape:
        raise ValueError(f"x_adv shape {tuple(x_adv.shape)} does not match x shape {tuple(x.shape)}")
    if x.dim() < 1:
        raise ValueError("x must have a batch dimension, got a scalar")
    if x.shape[0] == 0:
        return x.new_zeros(0)
    x_flat = x.detach().reshape(x.shape[0], -1)
    denom = x_flat.norm(p=2, dim=1)
    if (denom == 0).any():
        raise ValueError("x has an all-zero example; ρ = ‖r‖/‖x‖ is undefined for it")
    return (x_adv.detach().reshape(x.shape[0], -1) - x_flat).norm(p=2, dim=1) / denom
