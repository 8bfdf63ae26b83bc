"""The one gradient helper the attacks share."""

from __future__ import annotations

from typing import Callable, Tuple

import torch
from torch import Tensor

LossFn = Callable[[Tensor], Tensor]


def loss_and_input_grad(loss_fn: LossFn, x: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-example loss ``[B]`` at ``x`` and its gradient with respect to ``x`` alone.

    ``torch.autograd.grad`` is used so that parameter ``.grad`` fields are never written, and ``x``
    is detached first so the backward stops at the input (an input-only backward, about one
    forward's cost).
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if loss.dim() != 1 or loss.shape[0] != x.shape[0]:
            raise ValueError(f"loss_fn must return a per-example loss of shape [{x.shape[0]}], got {tuple(loss.shape)}")
        (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad
