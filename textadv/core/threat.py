"""Threat models: the set of perturbations an adversary may add to an input.

A threat model is a norm ball {δ : ‖δ‖ ≤ ε} taken with one norm per example over all non-batch
dimensions (a whole token sequence, a whole image), optionally restricted by a mask (padding is
never perturbed) and by a box the perturbed input must stay inside (pixels in [0, 1]; none for
embeddings). It owns the small piece of norm algebra every attack needs: turning a gradient into a
unit ascent direction, projecting onto the ball, drawing a random start and clipping to the box.

Shapes: ``x`` is ``[B, ...]``; ε is a float or a ``[B]`` tensor; the mask has shape
``x.shape[:k]`` for some k ≥ 1 (e.g. an attention mask ``[B, T]`` for embeddings ``[B, T, D]``) and
is broadcast over the trailing dimensions.

Precision: every floating dtype torch has works. In float16 and bfloat16 the ℓ2 algebra (the norm,
its floor for zero gradients, the projection's factor) runs in float32 and the result is cast back,
because the norm's floor (1e-12) underflows to 0 there and a zero gradient would give 0/0; float32
and float64 run in their own dtype.

Deviation from Miyato et al.'s reference code (docs/miyato_reference.md, D1): its ``_scale_l2``
divides by the max-abs entry before the norm, so a direction keeps its full size down to a norm of
about 1e-15; here ``g / max(‖g‖, 1e-12)`` starts to shrink below 1e-12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

Norm = Union[str, int, float]
_TINY = 1e-12
#: dtypes whose ℓ2 algebra runs in float32 (1e-12 underflows to 0 in them)
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def working_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the attacks' norm algebra runs in for inputs of ``dtype``: float32 for float16 and
    bfloat16, ``dtype`` itself otherwise (float32 and float64 are unchanged)."""
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def check_scalar(value: float, name: str, *, positive: bool = False) -> float:
    """``value`` as a float when it is a finite number ``>= 0`` (``> 0`` with ``positive``);
    otherwise a ``ValueError`` naming ``name`` (NaN and ±inf included)."""
    bound = "> 0" if positive else ">= 0"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def check_count(value: int, name: str, minimum: int) -> int:
    """``value`` as an int when it is an integer ``>= minimum``; otherwise a ``ValueError`` naming ``name``."""
    try:
        ok = int(value) == value and value >= minimum
    except (TypeError, ValueError, OverflowError):  # None, a string, NaN, ±inf
        ok = False
    if isinstance(value, bool) or not ok:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _canonical_norm(norm: Norm) -> str:
    if isinstance(norm, str) and norm.lower() in ("inf", "linf", "l_inf"):
        return "inf"
    if isinstance(norm, (int, float)) and not isinstance(norm, bool):
        if norm == 2:
            return "2"
        if math.isinf(norm):
            return "inf"
    if isinstance(norm, str) and norm.lower() in ("2", "l2"):
        return "2"
    raise ValueError(f"norm must be 'inf' or 2, got {norm!r}")


class NonFiniteInputError(ValueError):
    """The tensor to perturb holds NaN or ±inf (a ``ValueError``; a training loop names its step)."""


def check_finite(x: Tensor, name: str = "x") -> None:
    """Raise :class:`NonFiniteInputError` naming ``name`` when it holds NaN or ±inf."""
    if not torch.isfinite(x).all():
        raise NonFiniteInputError(f"{name} contains NaN or infinite values; clean the input before attacking it")


@dataclass(frozen=True)
class Threat:
    """An ε-ball per example, optionally masked and box-bounded.

    Args:
        norm: ``"inf"`` (ℓ∞) or ``2`` (ℓ2), one norm per example over all non-batch dimensions.
        eps: the radius ε ≥ 0, a float or a per-example tensor ``[B]``.
        bounds: ``(lo, hi)`` box for the perturbed input (``(0, 1)`` for pixels), or ``None``.
        mask: 1 where the input may be perturbed, 0 where it must stay (padding); shape
            ``x.shape[:k]``, broadcast over the remaining dimensions.
    """

    norm: Norm
    eps: Union[float, Tensor]
    bounds: Optional[Tuple[float, float]] = None
    mask: Optional[Tensor] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", _canonical_norm(self.norm))
        if isinstance(self.eps, Tensor):
            if self.eps.dim() > 1:
                raise ValueError(f"eps must be a float or a per-example tensor [B], got shape {tuple(self.eps.shape)}")
            check_finite(self.eps, "eps")
            if (self.eps < 0).any():
                raise ValueError("eps must be >= 0 (got a negative entry in the per-example eps tensor)")
        else:
            object.__setattr__(self, "eps", check_scalar(self.eps, "eps"))
        if self.bounds is not None:
            if len(self.bounds) != 2:
                raise ValueError(f"bounds must be a pair (lo, hi), got {self.bounds!r}")
            lo, hi = (float(b) for b in self.bounds)
            if not lo < hi:
                raise ValueError(f"bounds must satisfy lo < hi, got lo={lo}, hi={hi}")
            object.__setattr__(self, "bounds", (lo, hi))

    # ------------------------------------------------------------------ validation
    def check(self, x: Tensor) -> None:
        """Validate ``x`` against this threat model (call once, at an attack's entry)."""
        if x.dim() < 1:
            raise ValueError("x must have a batch dimension, got a scalar")
        check_finite(x, "x")
        if isinstance(self.eps, Tensor) and self.eps.dim() == 1 and self.eps.numel() != x.shape[0]:
            raise ValueError(f"eps has {self.eps.numel()} entries but x has batch size {x.shape[0]}")
        if self.mask is not None:
            m = self.mask
            if m.dim() > x.dim() or tuple(m.shape) != tuple(x.shape[: m.dim()]):
                raise ValueError(
                    f"mask shape {tuple(m.shape)} does not match x shape {tuple(x.shape)}: "
                    "it must equal the leading dimensions of x (e.g. [B, T] for [B, T, D])"
                )
        if self.bounds is not None:
            lo, hi = self.bounds
            if (x < lo - 1e-6).any() or (x > hi + 1e-6).any():
                raise ValueError(f"x lies outside bounds {self.bounds}; clip or rescale the input first")

    # ------------------------------------------------------------------ helpers
    def expand(self, t: Tensor, x: Tensor) -> Tensor:
        """View a ``[B]`` or ``x.shape[:k]`` tensor so it broadcasts against ``x``."""
        t = t.reshape(tuple(t.shape) + (1,) * (x.dim() - t.dim())).to(device=x.device)
        return t if t.dtype == torch.bool else t.to(dtype=x.dtype)

    def eps_like(self, x: Tensor) -> Union[float, Tensor]:
        """ε as a scalar or a tensor broadcastable to ``x`` ([B, 1, ..., 1])."""
        return self.expand(self.eps, x) if isinstance(self.eps, Tensor) else self.eps

    def apply_mask(self, delta: Tensor) -> Tensor:
        """Zero the entries of ``delta`` that may not be perturbed."""
        return delta if self.mask is None else delta * self.expand(self.mask, delta)

    def norms(self, delta: Tensor) -> Tensor:
        """Per-example norm of ``delta`` under this threat's norm, shape ``[B]``."""
        flat = delta.reshape(delta.shape[0], -1)
        return flat.abs().amax(dim=1) if self.norm == "inf" else flat.norm(p=2, dim=1)

    # ------------------------------------------------------------------ the algebra
    def direction(self, grad: Tensor) -> Tensor:
        """The unit-norm ascent direction for ``grad``: ``sign(g)`` (ℓ∞) or ``g/‖g‖₂`` (ℓ2).

        Masked entries are zero; an example whose (masked) gradient is zero gets a zero direction
        rather than NaN, in every floating dtype (float16 and bfloat16 run in float32).
        """
        if grad.dtype in _LOW_PRECISION and self.norm == "2":
            return self.direction(grad.float()).to(grad.dtype)
        g = self.apply_mask(grad)
        if self.norm == "inf":
            return torch.sign(g)
        n = g.reshape(g.shape[0], -1).norm(p=2, dim=1).clamp_min(_TINY)
        return g / self.expand(n, g)

    def project(self, delta: Tensor) -> Tensor:
        """Project ``delta`` onto the (masked) ε-ball (ℓ2 in float32 for float16 and bfloat16)."""
        if delta.dtype in _LOW_PRECISION and self.norm == "2":
            return self.project(delta.float()).to(delta.dtype)
        delta = self.apply_mask(delta)
        eps = self.eps_like(delta)
        if self.norm == "inf":
            return torch.maximum(torch.minimum(delta, eps), -eps) if isinstance(eps, Tensor) else delta.clamp(-eps, eps)
        n = self.expand(self.norms(delta), delta)
        factor = torch.clamp(eps / n.clamp_min(_TINY), max=1.0)
        return delta * factor

    def random(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """A perturbation drawn uniformly from the (masked) ε-ball around ``x``.

        ℓ∞: i.i.d. U(−ε, ε). ℓ2: a Gaussian direction with radius ε·u^(1/n), n the number of
        perturbable entries of the example, which is uniform in the ball.
        """
        if self.norm == "inf":
            u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            return self.apply_mask((2 * u - 1) * self.eps_like(x))
        d = self.direction(torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device))
        active = self.apply_mask(torch.ones_like(x)).reshape(x.shape[0], -1).sum(dim=1).clamp_min(1)
        u = torch.rand(x.shape[0], generator=generator, dtype=x.dtype, device=x.device)
        radius = u ** (1.0 / active)
        return d * self.expand(radius, x) * self.eps_like(x)

    def clip(self, x_adv: Tensor) -> Tensor:
        """Clip to the box, if any."""
        return x_adv if self.bounds is None else x_adv.clamp(*self.bounds)

    def perturb(self, x: Tensor, delta: Tensor) -> Tensor:
        """``clip(x + project(delta))``: the closest admissible adversarial input."""
        return self.clip(x + self.project(delta))
