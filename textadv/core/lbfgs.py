"""Box-constrained L-BFGS, Szegedy et al. (2014), PAPERS.md §2.

For a target label l' and a weight c > 0 on the perturbation's size, solve

    minimise  c·‖η‖₂² + CE(x + η, l')   subject to  x + η ∈ [lo, hi]ᵐ

with L-BFGS-B (``scipy.optimize.minimize(method="L-BFGS-B")``; torch computes the value and the
gradient). The paper writes c·|η| and leaves the norm open; the squared ℓ2 norm is used here, as in
Carlini & Wagner's and cleverhans' implementations: it is differentiable at η = 0, where the
optimisation starts. A search over c per example then looks for the largest weight on the norm
(the smallest perturbation) that still reaches l': c grows ×10 while the target is reached and
shrinks ÷10 while it is not, until both a success and a failure are known, then bisects between
them (cleverhans' binary search, with c in the role of 1/const).

The batch is optimised as one problem: the objective is a sum of per-example terms with no
shared variables, so its minimiser is every example's own minimiser (cleverhans does the same).
Each example returns the smallest successful perturbation found over the search; an example that
never reaches its target is returned unchanged, and so is one the model already assigns to it.
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .threat import Threat, check_count, check_scalar, working_dtype

LogitsFn = Callable[[Tensor], Tensor]


def _minimise(logits_fn: LogitsFn, x0: Tensor, target: Tensor, c: Tensor, box, max_iter: int) -> Tensor:
    """One L-BFGS-B solve of Σ_b c_b‖η_b‖₂² + CE(x_b + η_b, l'_b) from η = 0; returns ``x + η``."""
    from scipy.optimize import Bounds, minimize

    shape, dtype = x0.shape, x0.dtype
    work = working_dtype(dtype)  # c up to 10^search_steps overflows float16: the penalty is in float32 there
    weight = c.reshape((-1,) + (1,) * (x0.dim() - 1)).to(work)

    def value_and_grad(flat: np.ndarray):
        z = torch.from_numpy(flat).to(device=x0.device, dtype=dtype).reshape(shape).requires_grad_(True)
        with torch.enable_grad():
            eta = (z - x0).to(work)
            loss = (weight * eta * eta).sum() + F.cross_entropy(logits_fn(z), target, reduction="sum")
            (grad,) = torch.autograd.grad(loss, z)
        return float(loss.detach()), grad.detach().cpu().double().numpy().ravel()  # numpy has no bfloat16

    start = x0.detach().cpu().double().numpy().ravel()
    limits = None if box is None else Bounds(np.full_like(start, box[0]), np.full_like(start, box[1]))
    result = minimize(value_and_grad, start, jac=True, method="L-BFGS-B", bounds=limits, options={"maxiter": max_iter})
    x_adv = torch.from_numpy(result.x).to(device=x0.device, dtype=dtype).reshape(shape)
    return x_adv if box is None else x_adv.clamp(*box)


def lbfgs(
    logits_fn: LogitsFn,
    x: Tensor,
    target: Union[int, Tensor],
    *,
    bounds: Optional[Tuple[float, float]] = (0.0, 1.0),
    c_init: float = 1.0,
    search_steps: int = 8,
    max_iter: int = 100,
) -> Tensor:
    """Szegedy's targeted L-BFGS adversarial input ``[B, ...]`` (detached).

    Args:
        logits_fn: ``logits_fn(x) -> [B, C]``; examples must not interact (eval mode).
        x: the clean input ``[B, ...]``, inside ``bounds``.
        target: the target label l', an int or a ``[B]`` tensor of class indices.
        bounds: ``(lo, hi)`` box for ``x + η`` (pixels in [0, 1]), or ``None`` for no box.
        c_init: the first weight c on ‖η‖₂².
        search_steps: how many values of c are tried per example (one L-BFGS-B solve each).
        max_iter: L-BFGS-B iterations per solve.

    Returns:
        The adversarial input; examples that never reach ``target`` (or already have it) are
        returned unchanged. An empty batch is returned as it is, without calling ``logits_fn``.
    """
    box = Threat("inf", 0.0, bounds=bounds)  # only its box is used
    box.check(x)  # a batch dimension, finite, inside the bounds
    c_init = check_scalar(c_init, "c_init", positive=True)
    search_steps = check_count(search_steps, "search_steps", 1)
    max_iter = check_count(max_iter, "max_iter", 1)
    x0 = x.detach()
    batch = x0.shape[0]
    target = torch.as_tensor(target, device=x0.device).long()
    if target.dim() == 0:
        target = target.expand(batch)
    if target.shape != (batch,):
        raise ValueError(f"target must be an int or a [B] = [{batch}] tensor, got shape {tuple(target.shape)}")
    if batch == 0:
        return x0.clone()

    with torch.no_grad():
        clean_logits = logits_fn(x0)
    if clean_logits.dim() != 2 or clean_logits.shape[0] != batch:
        raise ValueError(f"logits_fn must return logits of shape [{batch}, C], got {tuple(clean_logits.shape)}")
    if (target < 0).any() or (target >= clean_logits.shape[1]).any():
        raise ValueError(f"target must hold class indices in [0, {clean_logits.shape[1]}), got {target.tolist()}")

    c = torch.full((batch,), float(c_init), dtype=torch.float64)
    c_lo = torch.zeros(batch, dtype=torch.float64)  # largest c known to reach the target (0: none yet)
    c_hi = torch.full((batch,), float("inf"), dtype=torch.float64)  # smallest c known to fail
    best = x0.clone()
    best_norm = torch.full((batch,), float("inf"), dtype=x0.dtype, device=x0.device)
    todo = clean_logits.argmax(dim=1) != target
    for _ in range(int(search_steps)):
        if not todo.any():
            break
        x_adv = _minimise(logits_fn, x0, target, c.to(x0.device), box.bounds, int(max_iter))
        with torch.no_grad():
            hit = (logits_fn(x_adv).argmax(dim=1) == target) & todo
        norm = (x_adv - x0).reshape(batch, -1).norm(dim=1)
        better = hit & (norm < best_norm)
        best = torch.where(better.reshape((batch,) + (1,) * (x0.dim() - 1)), x_adv, best)
        best_norm = torch.where(better, norm, best_norm)
        hit = hit.cpu()
        c_lo = torch.where(hit, torch.maximum(c_lo, c), c_lo)
        c_hi = torch.where(hit, c_hi, torch.minimum(c_hi, c))
        bracketed = (c_lo > 0) & torch.isfinite(c_hi)
        c = torch.where(bracketed, (c_lo + c_hi) / 2, torch.where(hit, c * 10, c / 10))
    return best.detach()
