"""Auto-PGD (APGD), Croce & Hein (2020), Algorithm 1: PGD without a step size to tune.

Per example, with f the loss to ascend, P the projection onto the threat set and x⁽⁰⁾ the start::

    η = 2ε,  x⁽¹⁾ = P(x⁽⁰⁾ + η·dir(∇f(x⁽⁰⁾))),  f_max = max(f(x⁽⁰⁾), f(x⁽¹⁾))
    z⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + η·dir(∇f(x⁽ᵏ⁾)))
    x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α·(z⁽ᵏ⁺¹⁾ − x⁽ᵏ⁾) + (1 − α)·(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾)),   α = 0.75

``dir`` is the threat's unit direction (sign for ℓ∞, g/‖g‖₂ for ℓ2). At the checkpoints
w_j = ⌈p_j·N⌉, p₀ = 0, p₁ = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), η is halved and
the iterate restarts from the best point x_max when

1. fewer than ρ·(w_j − w_{j−1}) of the steps since the last checkpoint increased f (ρ = 0.75), or
2. neither η nor f_max changed since the last checkpoint.

The result is x_max, the iterate of highest loss (each example independently: its own η, its own
checkpoint decisions). ``steps`` is N_iter: N steps after the start, N + 1 loss evaluations, N
gradients.

Deviations from Algorithm 1, on purpose, all as in the authors' code (auto-attack, and torchattacks'
copy of it): the restart replaces the checkpoint iterate x⁽ʷʲ⁾ itself instead of the next one
x⁽ʷʲ⁺¹⁾, so no step is computed only to be thrown away, and the momentum of the step after a
restart is taken from x_max − x⁽ʷʲ⁻¹⁾; the gradient at x_max is kept, not recomputed. Where the
authors' code departs from the paper, the paper is followed: condition 1 is the strict "<"; condition
2 is checked at the first checkpoint too (f_max at iteration 0 is f(x⁽⁰⁾)); the checkpoints are
⌈p_j·N⌉ (the code uses ⌊·⌋ of the increments); and the random start is uniform in the ball
(:meth:`Threat.random`, as for PGD) rather than the code's point scaled to the ball's surface.

With ``done_fn`` (e.g. "misclassified"), an example is finished at the first evaluated point where
``done_fn`` holds, the clean input included: that point is its result (AutoAttack's counting: an
example broken by any iterate stays broken) and it leaves the batch, so the remaining steps cost
only the examples still standing. Examples never interact, so dropping finished ones changes nothing
for the others (``drop_done=False`` runs the whole batch to the end, with the same result up to
rounding where a model's arithmetic depends on the batch size: pixels within 2e-7 on a CPU CNN).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, List, NamedTuple, Optional

import torch
from torch import Tensor

from ._grad import LossFn, loss_and_input_grad
from .threat import Threat

#: ``done_fn(z, rows) -> [len(rows)] bool``: the examples (rows of the original batch) that are finished at ``z``
DoneFn = Callable[[Tensor, Tensor], Tensor]


def checkpoints(steps: int) -> List[int]:
    """The iterations w_j = ⌈p_j·N⌉ (1 ≤ w_j ≤ N) at which APGD may halve its step (p in hundredths, exact)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    p_prev, p, out = 0, 22, []
    while steps > 0:
        w = -(-p * steps // 100)  # ⌈p·N/100⌉ in integers
        if w > steps:
            return out
        if w >= 1 and (not out or w > out[-1]):
            out.append(w)
        p_prev, p = p, p + max(p - p_prev - 3, 6)
    return out


class APGDRun(NamedTuple):
    """What :func:`apgd_run` returns.

    ``x``: the result ``[B, ...]``; ``loss``: f there ``[B]`` (the ascended loss, so −loss for a
    targeted attack); ``best_loss``: f_max after each iteration ``[N + 1, B]`` (row 0 is f(x⁽⁰⁾));
    ``losses``: f at each evaluated iterate ``[N + 1, B]`` (after a restart, row w_j is f(x_max));
    ``step_size``: η after each iteration ``[N + 1, B]``; ``done``: which examples ``done_fn``
    finished ``[B]`` (all False without it). Rows of an example after it finished repeat its last value.
    """

    x: Tensor
    loss: Tensor
    best_loss: Tensor
    losses: Tensor
    step_size: Tensor
    done: Tensor


def _rows(threat: Threat, rows: Tensor) -> Threat:
    """The threat restricted to some examples of the batch (per-example ε and mask follow)."""
    eps = threat.eps[rows] if isinstance(threat.eps, Tensor) and threat.eps.dim() == 1 else threat.eps
    mask = None if threat.mask is None else threat.mask[rows]
    return dataclasses.replace(threat, eps=eps, mask=mask)


def apgd_run(
    loss_fn,
    x: Tensor,
    threat: Threat,
    *,
    steps: int = 100,
    rho: float = 0.75,
    momentum: float = 0.75,
    random_start: bool = True,
    targeted: bool = False,
    generator: Optional[torch.Generator] = None,
    done_fn: Optional[DoneFn] = None,
    drop_done: bool = True,
) -> APGDRun:
    """APGD (module docstring) with its trace; :func:`apgd` returns only the adversarial input.

    Args:
        loss_fn: ``loss_fn(x) -> [B]`` per-example loss to ascend (the target's loss when ``targeted``).
            With ``done_fn`` the batch shrinks as examples finish, so it is called as
            ``loss_fn(z, rows)`` with ``rows`` the indices of the original batch that ``z`` holds.
        x: the clean input ``[B, ...]``.
        threat: the threat model (norm, ε per example or shared, mask, box).
        steps: N_iter (100 in the paper).
        rho: ρ of condition 1 (0.75).
        momentum: α (0.75).
        random_start: start from a uniform point of the ball (otherwise from ``x``).
        targeted: descend the loss instead.
        generator: for the random start.
        done_fn: ``done_fn(z, rows) -> [len(rows)] bool``; see the module docstring.
        drop_done: with ``done_fn``, stop computing finished examples (the same result; module docstring).
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps}")
    if not 0 < rho <= 1:
        raise ValueError(f"rho must be in (0, 1], got {rho}")
    if not 0 < momentum <= 1:
        raise ValueError(f"momentum must be in (0, 1], got {momentum}")
    steps = int(steps)
    x = x.detach()
    threat.check(x)
    batch = x.shape[0]
    sign = -1.0 if targeted else 1.0
    device = x.device
    all_rows = torch.arange(batch, device=device)
    if isinstance(threat.eps, Tensor):
        eta_full = 2 * threat.eps.to(device=device, dtype=x.dtype).expand(batch).clone()
    else:
        eta_full = torch.full((batch,), 2 * float(threat.eps), dtype=x.dtype, device=device)

    out_x = x.clone()
    out_loss = torch.zeros(batch, dtype=x.dtype, device=device)
    best_hist = torch.zeros(steps + 1, batch, dtype=x.dtype, device=device)
    loss_hist = torch.zeros_like(best_hist)
    eta_hist = torch.zeros_like(best_hist)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    if batch == 0:
        return APGDRun(out_x, out_loss, best_hist, loss_hist, eta_hist, done)

    def evaluate(z: Tensor, rows: Tensor, with_grad: bool):
        fn = loss_fn if done_fn is None else (lambda v: loss_fn(v, rows))
        if with_grad:
            loss, grad = loss_and_input_grad(fn, z)
            return sign * loss, sign * grad
        with torch.no_grad():
            loss = fn(z)
        if loss.dim() != 1 or loss.shape[0] != z.shape[0]:
            raise ValueError(f"loss_fn must return a per-example loss of shape [{z.shape[0]}], got {tuple(loss.shape)}")
        return sign * loss.detach(), None

    def finished(z: Tensor, rows: Tensor) -> Tensor:
        if done_fn is None:
            return torch.zeros(len(rows), dtype=torch.bool, device=device)
        with torch.no_grad():
            hit = done_fn(z, rows)
        if hit.shape != (len(rows),):
            raise ValueError(f"done_fn must return a [{len(rows)}] boolean tensor, got shape {tuple(hit.shape)}")
        return hit.to(device=device, dtype=torch.bool) & ~done[rows]

    # Examples already finished at the clean input keep it (δ = 0 lies in every threat set).
    clean_done = finished(x, all_rows)
    done |= clean_done

    start = threat.random(x, generator) if random_start else torch.zeros_like(x)  # drawn for the whole batch
    x_k = threat.perturb(x, start)

    # The working set: every per-example state below is over `rows` (indices into the batch).
    rows = all_rows
    th = threat
    eta = eta_full.clone()
    x0 = x
    if drop_done and clean_done.any():
        keep = ~clean_done
        rows, x0, x_k, eta = rows[keep], x0[keep], x_k[keep], eta[keep]
        th = _rows(threat, rows)

    def record(table: Tensor, i: int, values: Tensor) -> None:
        table[i, rows] = values
        table[i + 1 :, rows] = values  # finished or dropped examples repeat their last value

    def finish(hit: Tensor, z: Tensor, loss: Tensor) -> None:
        out_x[rows[hit]] = z[hit]
        out_loss[rows[hit]] = loss[hit]
        done[rows[hit]] = True

    if len(rows) == 0:
        return APGDRun(out_x, out_loss, best_hist, loss_hist, eta_hist, done)

    loss, grad = evaluate(x_k, rows, with_grad=steps > 0)
    best_x, best_loss, best_grad = x_k.clone(), loss.clone(), grad
    record(loss_hist, 0, loss)
    record(best_hist, 0, best_loss)
    record(eta_hist, 0, eta)
    hit = finished(x_k, rows)
    finish(hit, x_k, loss)
    x_prev = x_k
    marks = set(checkpoints(steps))
    last_mark, last_best, last_eta = 0, best_loss.clone(), eta.clone()
    increases = torch.zeros(len(rows), dtype=torch.long, device=device)

    for k in range(1, steps + 1):
        if drop_done:
            keep = ~done[rows]
            if not keep.all():
                rows, x0, x_k, x_prev, grad = rows[keep], x0[keep], x_k[keep], x_prev[keep], grad[keep]
                best_x, best_loss, best_grad = best_x[keep], best_loss[keep], best_grad[keep]
                eta, loss, increases = eta[keep], loss[keep], increases[keep]
                last_best, last_eta = last_best[keep], last_eta[keep]
                th = _rows(threat, rows)
                if len(rows) == 0:
                    break
        live = ~done[rows]
        step = th.expand(eta, x0) * th.direction(grad)
        z = th.perturb(x0, x_k + step - x0)
        if k == 1:
            x_next = z
        else:
            x_next = th.perturb(x0, x_k + momentum * (z - x_k) + (1 - momentum) * (x_k - x_prev) - x0)
        x_next = torch.where(th.expand(live, x0), x_next, x_k)  # finished (not dropped) examples stay put
        new_loss, new_grad = evaluate(x_next, rows, with_grad=k < steps)
        if new_grad is None:
            new_grad = grad
        new_loss = torch.where(live, new_loss, loss)
        increases += (new_loss > loss) & live
        better = (new_loss > best_loss) & live
        wide = th.expand(better, x0)
        best_x = torch.where(wide, x_next, best_x)
        best_grad = torch.where(wide, new_grad, best_grad)
        best_loss = torch.where(better, new_loss, best_loss)
        x_prev, x_k, loss, grad = x_k, x_next, new_loss, new_grad
        hit = finished(x_k, rows) & live
        finish(hit, x_k, loss)
        if k in marks:
            span = k - last_mark
            few_increases = increases.to(x.dtype) < rho * span  # condition 1
            stalled = (eta == last_eta) & (best_loss == last_best)  # condition 2
            halve = (few_increases | stalled) & live & ~hit
            last_eta, last_best = eta.clone(), best_loss.clone()  # η and f_max at this checkpoint, before halving
            eta = torch.where(halve, eta / 2, eta)
            wide = th.expand(halve, x0)
            x_k = torch.where(wide, best_x, x_k)
            grad = torch.where(wide, best_grad, grad)
            loss = torch.where(halve, best_loss, loss)
            increases = torch.zeros_like(increases)
            last_mark = k
        record(loss_hist, k, loss)
        record(best_hist, k, best_loss)
        record(eta_hist, k, eta)

    standing = ~done[rows]
    out_x[rows[standing]] = best_x[standing]
    out_loss[rows[standing]] = best_loss[standing]
    return APGDRun(out_x.detach(), out_loss, best_hist, loss_hist, eta_hist, done)


def apgd(loss_fn: LossFn, x: Tensor, threat: Threat, **options) -> Tensor:
    """Croce & Hein's APGD. Returns the adversarial input ``[B, ...]`` (detached); the options
    (``steps``, ``rho``, ``momentum``, ``random_start``, ``targeted``, ``generator``, ``done_fn``,
    ``drop_done``) are those of :func:`apgd_run`."""
    return apgd_run(loss_fn, x, threat, **options).x
