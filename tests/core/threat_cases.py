"""Hypothesis strategy shared by the core property tests: a random input, threat model and loss.

Inputs are float64 so that norm bounds can be checked to 1e-6 without float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from hypothesis import strategies as st
from torch import Tensor

from textadv.core import Threat

SETTINGS = dict(max_examples=25, deadline=None)


@dataclass
class Case:
    x: Tensor  # [B, ...] float64, inside the bounds when there are bounds
    threat: Threat
    weights: Tensor  # [C, N] a random linear model on the flattened input
    constant: bool  # whether the loss is constant (zero gradient)

    def logits_fn(self) -> Callable[[Tensor], Tensor]:
        w = self.weights
        if self.constant:
            return lambda z: z.reshape(z.shape[0], -1) @ w.T * 0.0 + 1.0
        return lambda z: torch.tanh(z.reshape(z.shape[0], -1) @ w.T) * 3.0

    def loss_fn(self) -> Callable[[Tensor], Tensor]:
        logits_fn = self.logits_fn()
        return lambda z: torch.logsumexp(logits_fn(z), dim=1) - logits_fn(z)[:, 0]

    def eps(self) -> Tensor:
        """ε per example ``[B]``."""
        eps = self.threat.eps
        return eps if isinstance(eps, Tensor) else torch.full((self.x.shape[0],), eps, dtype=self.x.dtype)

    def unmasked(self) -> Tensor:
        """Boolean ``x.shape``: where perturbation is allowed."""
        if self.threat.mask is None:
            return torch.ones_like(self.x, dtype=torch.bool)
        return self.threat.expand(self.threat.mask, self.x).expand_as(self.x) != 0


@st.composite
def cases(draw, with_bounds: Optional[bool] = None, with_mask: Optional[bool] = None) -> Case:
    batch = draw(st.integers(1, 4))
    extra = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    shape = (batch, *extra)
    seed = draw(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    norm = draw(st.sampled_from(["inf", 2]))
    if draw(st.booleans()):
        eps = torch.tensor(draw(st.lists(st.floats(0.0, 2.0), min_size=batch, max_size=batch)), dtype=torch.float64)
    else:
        eps = draw(st.floats(0.0, 2.0))
    bounded = draw(st.booleans()) if with_bounds is None else with_bounds
    bounds = (-0.5, 1.0) if bounded else None
    x = (
        torch.rand(shape, generator=gen, dtype=torch.float64) * 1.5 - 0.5
        if bounded
        else torch.randn(shape, generator=gen, dtype=torch.float64)
    )
    mask = None
    if draw(st.booleans()) if with_mask is None else with_mask:
        k = draw(st.integers(1, len(shape)))
        mask = (torch.rand(shape[:k], generator=gen) < 0.6).to(torch.float64)
    n = x[0].numel()
    weights = torch.randn(3, n, generator=gen, dtype=torch.float64)
    constant = draw(st.booleans())
    return Case(x, Threat(norm, eps, bounds=bounds, mask=mask), weights, constant)


def assert_admissible(case: Case, x_adv: Tensor, tol: float = 1e-6) -> None:
    """‖x_adv − x‖ ≤ ε (+tol) per example, inside the bounds, masked entries unchanged, finite."""
    assert torch.isfinite(x_adv).all()
    assert x_adv.shape == case.x.shape
    delta = x_adv - case.x
    assert (case.threat.norms(delta) <= case.eps() + tol).all(), (case.threat.norms(delta), case.eps())
    if case.threat.bounds is not None:
        lo, hi = case.threat.bounds
        assert (x_adv >= lo).all() and (x_adv <= hi).all()
    assert (delta[~case.unmasked()] == 0).all()
